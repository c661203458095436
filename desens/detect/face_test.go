package detect

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

func newFaceWith(t *testing.T, verify bool) *FaceDetector {
	t.Helper()
	rt := testenv.ORT(t)
	m := FaceModels{Detector: models.Face().Data}
	if verify {
		m.Verifier = models.FaceVerify().Data
	}
	d, err := NewFace(rt, m, DefaultFaceConfig(), onnx.SessionOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func newFace(t *testing.T) *FaceDetector { return newFaceWith(t, true) }

func TestFaceFindsKnownFace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		verify bool
	}{{"with the second look", true}, {"RetinaFace alone", false}} {
		t.Run(tc.name, func(t *testing.T) {
			checkFindsMessi(t, newFaceWith(t, tc.verify).DetectFrame)
		})
	}
}

func TestFaceNothingInBlankOrNoise(t *testing.T) {
	checkNothingInBlankOrNoise(t, newFace(t).DetectFrame)
}

func TestFaceBadModel(t *testing.T) {
	rt := testenv.ORT(t)
	for _, tc := range []struct {
		name string
		m    FaceModels
	}{
		{"detector not ONNX", FaceModels{Detector: []byte("not a model")}},
		{"detector is the verifier's shape", FaceModels{Detector: models.FaceVerify().Data}},
		{"verifier not ONNX", FaceModels{Detector: models.Face().Data, Verifier: []byte("junk")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewFace(rt, tc.m, DefaultFaceConfig(), onnx.SessionOptions{Threads: 1})
			if err == nil {
				d.Close()
				t.Fatal("no error")
			}
		})
	}
}

// TestDecodeRetina feeds one stride's outputs by hand: a face probability
// and box deltas at one cell, and checks the box decoded from them.
func TestDecodeRetina(t *testing.T) {
	const gw, gh, stride = 4, 3, 8
	cell := gw * gh
	for _, tc := range []struct {
		name           string
		anchor, gx, gy int
		p              float32
		d              [4]float32 // dx, dy, log dw, log dh
		want           rectF
		none           bool
	}{
		{name: "anchor as is", anchor: 0, gx: 1, gy: 2, p: 0.9,
			want: rectF{15.5 - 16, 23.5 - 16, 15.5 + 16, 23.5 + 16}},
		{name: "second anchor, shifted and grown", anchor: 1, gx: 0, gy: 0, p: 0.8,
			d:    [4]float32{0.5, -0.25, float32(math.Log(2)), 0},
			want: rectF{7.5 + 8 - 16, 7.5 - 4 - 8, 7.5 + 8 + 16, 7.5 - 4 + 8}},
		{name: "under the threshold", anchor: 0, gx: 2, gy: 1, p: 0.05, none: true},
		{name: "centred in the padding", anchor: 0, gx: 3, gy: 2, p: 0.9, none: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prob := onnx.Output{Shape: []int64{1, 4, gh, gw}, Data: make([]float32, 4*cell)}
			bbox := onnx.Output{Shape: []int64{1, 8, gh, gw}, Data: make([]float32, 8*cell)}
			i := tc.gy*gw + tc.gx
			prob.Data[(2+tc.anchor)*cell+i] = tc.p
			prob.Data[tc.anchor*cell+i] = 1 - tc.p // background: ignored
			for k, v := range tc.d {
				bbox.Data[(4*tc.anchor+k)*cell+i] = v
			}
			// The frame is 28×28 model px: the last column is padding.
			got := decodeRetina(nil, prob, bbox, stride, [2]float64{32, 16}, 28, 28, 0.1)
			if tc.none {
				if len(got) != 0 {
					t.Fatalf("got %v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d candidates, want 1", len(got))
			}
			if got[0].score != float64(tc.p) || !nearRect(got[0].box, tc.want) {
				t.Fatalf("got %+v, want %v at %v", got[0], tc.want, tc.p)
			}
		})
	}
}

func nearRect(a, b rectF) bool {
	const eps = 1e-3
	return math.Abs(a.x0-b.x0) < eps && math.Abs(a.y0-b.y0) < eps && math.Abs(a.x1-b.x1) < eps && math.Abs(a.y1-b.y1) < eps
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		n, maxSide, overlap int
		side                int
		starts              []int
	}{
		{100, 200, 20, 100, []int{0}},
		{1920, 853, 101, 708, []int{0, 606, 1212}},
		{1080, 853, 101, 591, []int{0, 489}},
	} {
		side, st := split(tc.n, tc.maxSide, tc.overlap)
		if side != tc.side || !slices.Equal(st, tc.starts) {
			t.Errorf("split(%d, %d, %d) = %d, %v; want %d, %v", tc.n, tc.maxSide, tc.overlap, side, st, tc.side, tc.starts)
		}
	}
}

// wantScales fails the test unless got holds the scales want, in order.
func wantScales(t *testing.T, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("scales %v, want %v", got, want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("scales %v, want %v", got, want)
		}
	}
}

func TestRetinaScalesAndTiles(t *testing.T) {
	cfg := DefaultFaceConfig().Proposals
	for _, tc := range []struct {
		name       string
		w, h       int
		wantScales []float64
	}{
		{"720p: 3×, 2× and shrunk to 640", 1280, 720, []float64{3, 2, 0.5}},
		{"1080p: 3×, 2× and shrunk to 640", 1920, 1080, []float64{3, 2, 1.0 / 3}},
		{"a small photo: 2× is near enough 640", 400, 300, []float64{3, 2}},
		{"a tiny image: no shrunk run", 200, 100, []float64{3, 2}},
		{"4K: both capped at MaxPixels, once", 3840, 2160, []float64{math.Sqrt(6000 * 3400 / (3840.0 * 2160)), 1.0 / 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cfg.runScales(tc.w, tc.h)
			wantScales(t, got, tc.wantScales)
			full := image.Rect(0, 0, tc.w, tc.h)
			for _, s := range got {
				tiles := cfg.tiles(tc.w, tc.h, s, retinaMaxSide)
				var union image.Rectangle
				for _, r := range tiles {
					if !r.In(full) {
						t.Fatalf("tile %v outside the frame", r)
					}
					if side := float64(max(r.Dx(), r.Dy())) * s; side > float64(cfg.TileSide)+1 && len(tiles) > 1 {
						t.Fatalf("tile %v is %.0f model px, over %d", r, side, cfg.TileSide)
					}
					for _, o := range tiles {
						if in := r.Intersect(o); in != r && !in.Empty() && min(in.Dx(), in.Dy()) <= int(retinaMaxSide/s) {
							t.Fatalf("tiles %v and %v overlap by %v, less than a kept box", r, o, in.Size())
						}
					}
					union = union.Union(r)
				}
				if union != full {
					t.Fatalf("tiles at %.2f cover %v, not the frame", s, union)
				}
			}
		})
	}
}

// The known face in opencv-doc's messi5.jpg: a 33 px face looking down, the
// kind of small, imperfect face a dashcam sees.
var messiFace = image.Rect(220, 95, 259, 134)

// messiCrowd holds a spectator in the blurred stands behind the player, a
// real face: a detector may find it, but need not.
var messiCrowd = image.Rect(70, 125, 145, 220)

// checkFindsMessi runs a one-frame face detector on messi5.jpg as shipped,
// enlarged and shrunk: it must find the face and nothing away from it.
func checkFindsMessi(t *testing.T, detectFrame func(context.Context, gocv.Mat) ([]Detection, error)) {
	t.Helper()
	img := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer img.Close()
	for _, tc := range []struct {
		name  string
		scale float64
	}{
		{"as shipped", 1},
		{"upscaled so the face is 66 px", 2},
		{"downscaled so the face is 20 px", 0.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im := gocv.NewMat()
			defer im.Close()
			gocv.Resize(img, &im, image.Pt(0, 0), tc.scale, tc.scale, gocv.InterpolationArea)
			dets, err := detectFrame(t.Context(), im)
			if err != nil {
				t.Fatal(err)
			}
			want := scaleRect(messiFace, tc.scale)
			found := false
			// A box just beside the face (an ear, the collar) is tolerated:
			// the face's redaction all but covers it. One elsewhere fails.
			near := toF(want).scale(2).rect()
			crowd := scaleRect(messiCrowd, tc.scale)
			for _, det := range dets {
				switch {
				case IoU(det.Box, want) > 0.3:
					found = true
				case !det.Box.In(near) && !det.Box.In(crowd):
					t.Errorf("unexpected detection %v (%.2f)", det.Box, det.Score)
				}
			}
			if !found {
				t.Fatalf("face at %v not found; got %v", want, dets)
			}
		})
	}
}

// checkNothingInBlankOrNoise runs a one-frame detector on a flat grey and a
// uniform-noise 720p frame: neither holds anything to find.
func checkNothingInBlankOrNoise(t *testing.T, detectFrame func(context.Context, gocv.Mat) ([]Detection, error)) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fill func(*gocv.Mat)
	}{
		{"grey", func(m *gocv.Mat) { m.SetTo(gocv.NewScalar(128, 128, 128, 0)) }},
		{"noise", func(m *gocv.Mat) {
			gocv.RandU(m, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
			defer m.Close()
			tc.fill(&m)
			dets, err := detectFrame(t.Context(), m)
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) != 0 {
				t.Fatalf("found %v in a %s frame", dets, tc.name)
			}
		})
	}
}

func TestFaceRejectsBadFrames(t *testing.T) {
	d := newFace(t)
	empty := gocv.NewMat()
	defer empty.Close()
	gray := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U)
	defer gray.Close()
	res := d.Detect(t.Context(), []gocv.Mat{empty, gray})
	if len(res) != 2 {
		t.Fatalf("%d results for 2 frames", len(res))
	}
	for i, r := range res {
		if r.Err == nil {
			t.Errorf("frame %d: no error for a bad frame", i)
		}
	}
}

func scaleRect(r image.Rectangle, s float64) image.Rectangle {
	f := func(v int) int { return int(float64(v)*s + 0.5) }
	return image.Rect(f(r.Min.X), f(r.Min.Y), f(r.Max.X), f(r.Max.Y))
}

// TestFaceThreshold: over YuNet's boxes the bar for small faces rises
// to the ordinary one over a ramp; over RetinaFace's, in one step.
func TestFaceThreshold(t *testing.T) {
	def := DefaultFaceConfig()
	def.Proposer = ProposerYuNet
	step := def
	step.YuNet.SmallRamp = 1
	retina := DefaultFaceConfig()
	for _, tc := range []struct {
		name string
		cfg  FaceConfig
		h    float64
		want float64
	}{
		{"small", def, 20, 0.45},
		{"at SmallFace", def, 32, 0.45},
		{"half way up the ramp", def, 40, 0.525},
		{"at the ramp's top", def, 48, 0.6},
		{"large", def, 200, 0.6},
		{"one step: just under", step, 31.9, 0.45},
		{"one step: at SmallFace", step, 32, 0.6},
		{"a threshold given keeps the margin", def.WithThreshold(0.7), 40, 0.625},
		{"RetinaFace: just under", retina, 31.9, 0.45},
		{"RetinaFace: at SmallFace", retina, 32, 0.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.threshold(tc.h); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("threshold(%v) = %v, want %v", tc.h, got, tc.want)
			}
		})
	}
}

// TestFaceBar: in a video stream, a box YuNet is sure of faces the
// small-face bar at any size; stills, RetinaFace's boxes and YuNet's
// others their size's threshold.
func TestFaceBar(t *testing.T) {
	yunet := DefaultFaceConfig()
	yunet.Proposer = ProposerYuNet
	off := yunet
	off.YuNet.SureScore = 0
	retina := DefaultFaceConfig()
	box := func(h, score float64) candidate {
		return candidate{box: rectF{100, 100, 100 + h, 100 + h}, score: score}
	}
	for _, tc := range []struct {
		name  string
		cfg   FaceConfig
		c     candidate
		still bool
		want  float64
	}{
		{"YuNet sure, large", yunet, box(80, 0.6), false, 0.45},
		{"YuNet sure, on the ramp", yunet, box(40, 0.7), false, 0.45},
		{"YuNet unsure, large", yunet, box(80, 0.59), false, 0.6},
		{"YuNet sure, a threshold given keeps the margin", yunet.WithThreshold(0.7), box(80, 0.9), false, 0.55},
		{"YuNet sure, off", off, box(80, 0.9), false, 0.6},
		{"RetinaFace sure", retina, box(80, 0.9), false, 0.6},
		{"YuNet sure, a still", yunet, box(80, 0.9), true, 0.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.bar(tc.c, !tc.still); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("bar(%v) = %v, want %v", tc.c, got, tc.want)
			}
		})
	}
}
