package models_test

import (
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

// view is one model input cut from a test image: the region (the whole
// image when empty), scaled to the model's size.
type view struct {
	file   string
	region image.Rectangle
}

// layout says how a model wants its pixels.
type layout struct {
	nhwc  bool
	bgr   bool
	scale func(v float32) float32
}

// TestBatchMatchesSingle runs each shipped model on three different real
// images one at a time and then as one batch of three, and checks that the
// batch gives each image the outputs it gets alone: the batch dimension is
// dynamic all through the graph, not only where the file declares it.
func TestBatchMatchesSingle(t *testing.T) {
	rt := testenv.ORT(t)
	faces := func(name string) string { return filepath.Join("..", "testdata", "faces", name) }
	plates := func(name string) string { return filepath.Join("..", "testdata", "plates", name) }
	cn := func(name string) string { return filepath.Join("..", "testdata", "eval", "plates-cn", name) }
	street := cn("hyperlpr_test_img.jpg")
	unit := func(v float32) float32 { return v / 255 }
	raw := func(v float32) float32 { return v }
	signed := func(v float32) float32 { return (v - 127.5) / 127.5 }
	// A plate crop as the verifier takes it: 128:48, centred on the plate,
	// 1.5 times its width.
	plateCrop := func(x, y, w, h int) image.Rectangle {
		cw := 3 * max(w, h*128/48) / 2
		ch := cw * 48 / 128
		cx, cy := x+w/2, y+h/2
		return image.Rect(cx-cw/2, cy-ch/2, cx+cw/2, cy+ch/2)
	}
	tests := []struct {
		name  string
		model models.Model
		w, h  int
		in    layout
		views []view
	}{
		{"retinaface", models.Face(), 192, 224, layout{scale: raw},
			[]view{{file: faces("astronaut.jpg")}, {file: faces("portrait_smile.jpg")}, {file: faces("messi_small_face.jpg")}}},
		{"yunet", models.FaceYuNet(), 192, 224, layout{bgr: true, scale: raw},
			[]view{{file: faces("astronaut.jpg")}, {file: faces("portrait_smile.jpg")}, {file: faces("messi_small_face.jpg")}}},
		{"blazeface", models.FaceVerify(), 256, 256, layout{nhwc: true, scale: signed},
			[]view{{file: faces("portrait_goatee.jpg")}, {file: faces("astronaut.jpg")}, {file: faces("glider_two_small_faces.jpg")}}},
		{"plate-det", models.Plate(), 320, 192, layout{bgr: true, scale: signed},
			[]view{{file: plates("cn-blue_0.jpg")}, {file: plates("eu_3.jpg")}, {file: plates("us_13.jpg")}}},
		{"plate-verify", models.PlateVerify(), 128, 48, layout{bgr: true, scale: signed},
			[]view{{plates("cn-green_1.jpg"), plateCrop(150, 103, 109, 36)}, {plates("eu_3.jpg"), plateCrop(165, 136, 97, 22)},
				{street, plateCrop(281, 408, 51, 20)}}},
		{"plate-verify-quick", models.PlateVerifyQuick(), 128, 48, layout{bgr: true, scale: signed},
			[]view{{plates("cn-green_1.jpg"), plateCrop(150, 103, 109, 36)}, {plates("eu_3.jpg"), plateCrop(165, 136, 97, 22)},
				{street, plateCrop(281, 408, 51, 20)}}},
		{"plate-corners", models.PlateCorners(), 640, 640, layout{scale: unit},
			[]view{{file: cn("hyperlpr_1.jpg")}, {file: cn("hyperlpr_2.jpg")}, {street, image.Rect(1280, 400, 1920, 1040)}}},
		{"text-det", models.TextDet(), 256, 256, layout{bgr: true, scale: func(v float32) float32 { return (v/255 - 0.45) / 0.225 }},
			[]view{{street, image.Rect(0, 0, 256, 256)}, {street, image.Rect(1680, 680, 1936, 936).Intersect(image.Rect(0, 0, 1920, 1080))}, {street, image.Rect(200, 300, 456, 556)}}},
		{"text-rec", models.TextRec(), 160, 48, layout{bgr: true, scale: func(v float32) float32 { return (v/255 - 0.5) / 0.5 }},
			[]view{{cn("hyperlpr_2.jpg"), image.Rect(221, 157, 565, 327)}, {plates("cn-blue_0.jpg"), image.Rect(27, 46, 130, 91)},
				{plates("us_13.jpg"), image.Rect(134, 112, 229, 169)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins, outs, err := ort.GetInputOutputInfoWithONNXData(tc.model.Data)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != 1 {
				t.Fatalf("%d inputs, want 1", len(ins))
			}
			var outNames []string
			for _, o := range append(ins, outs...) {
				if o.Dimensions[0] != -1 {
					t.Errorf("%s declares batch %d, want dynamic", o.Name, o.Dimensions[0])
				}
			}
			for _, o := range outs {
				outNames = append(outNames, o.Name)
			}
			s, err := rt.NewDynamicSession(tc.model.Data, []string{ins[0].Name}, outNames, onnx.SessionOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			shape := []int64{1, 3, int64(tc.h), int64(tc.w)}
			if tc.in.nhwc {
				shape = []int64{1, int64(tc.h), int64(tc.w), 3}
			}
			var batch []float32
			var single [][]onnx.Output
			for _, v := range tc.views {
				x := tensor(t, v, tc.w, tc.h, tc.in)
				out, err := s.Run([][]float32{x}, [][]int64{shape})
				if err != nil {
					t.Fatalf("%s alone: %v", v.file, err)
				}
				single = append(single, out)
				batch = append(batch, x...)
			}
			n := len(tc.views)
			bshape := slices.Clone(shape)
			bshape[0] = int64(n)
			got, err := s.Run([][]float32{batch}, [][]int64{bshape})
			if err != nil {
				t.Fatalf("batch of %d: %v", n, err)
			}
			if slices.Equal(single[0][0].Data, single[1][0].Data) {
				t.Fatalf("%s: two different images give the same output", outNames[0])
			}
			for k, o := range got {
				one := single[0][k].Shape
				want := append([]int64{int64(n)}, one[1:]...)
				if one[0] != 1 || !slices.Equal(o.Shape, want) {
					t.Fatalf("%s: batch shape %v, alone %v", outNames[k], o.Shape, one)
				}
				size := len(o.Data) / n
				var worst float64
				for i := range n {
					alone := single[i][k].Data
					for j, b := range o.Data[i*size : (i+1)*size] {
						a := alone[j]
						d := math.Abs(float64(a - b))
						if d > 1e-4+1e-4*math.Abs(float64(a)) || math.IsNaN(d) {
							t.Fatalf("%s image %d (%s) value %d: batch %g, alone %g", outNames[k], i, tc.views[i].file, j, b, a)
						}
						worst = max(worst, d)
					}
				}
				t.Logf("%s %v: largest difference %.2g", outNames[k], o.Shape, worst)
			}
		})
	}
}

// tensor cuts v out of its image, scales it to w×h (nearest pixel) and lays
// it out as the model wants, one image of a batch.
func tensor(t *testing.T, v view, w, h int, l layout) []float32 {
	t.Helper()
	f, err := os.Open(v.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", v.file, err)
	}
	r := img.Bounds()
	if !v.region.Empty() {
		r = v.region
	}
	plane := w * h
	x := make([]float32, 3*plane)
	for row := range h {
		for col := range w {
			sx := r.Min.X + col*r.Dx()/w
			sy := r.Min.Y + row*r.Dy()/h
			var rgb [3]float32
			if (image.Point{sx, sy}).In(img.Bounds()) {
				cr, cg, cb, _ := img.At(sx, sy).RGBA()
				rgb = [3]float32{float32(cr >> 8), float32(cg >> 8), float32(cb >> 8)}
			} else {
				rgb = [3]float32{127, 127, 127}
			}
			if l.bgr {
				rgb[0], rgb[2] = rgb[2], rgb[0]
			}
			for c, p := range rgb {
				if l.nhwc {
					x[(row*w+col)*3+c] = l.scale(p)
				} else {
					x[c*plane+row*w+col] = l.scale(p)
				}
			}
		}
	}
	return x
}
