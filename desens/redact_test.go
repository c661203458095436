package desens

import (
	"image"
	"image/color"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
)

// TestRedactionDestroysFaces redacts the faces in a real photo with every
// style and shape: afterwards the detector finds nothing, the face's detail
// is gone, and pixels away from the faces are untouched.
func TestRedactionDestroysFaces(t *testing.T) {
	d := newTestDesensitizer(t, Options{})
	src := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer src.Close()
	up := gocv.NewMat() // make the face a comfortable 66 px
	defer up.Close()
	gocv.Resize(src, &up, image.Pt(0, 0), 2, 2, gocv.InterpolationCubic)
	found := faces(t, d, up)
	if len(found) == 0 {
		t.Fatal("no face in the test photo")
	}
	var boxes []image.Rectangle
	for _, f := range found {
		boxes = append(boxes, f.Box)
	}
	for _, style := range []Style{StyleBlur, StylePixelate, StyleSolid} {
		for _, shape := range []Shape{ShapeEllipse, ShapeRect} {
			t.Run(string(style)+"/"+string(shape), func(t *testing.T) {
				img := up.Clone()
				defer img.Close()
				r := redactor{Style: style, Shape: shape, Expand: 1.3}
				r.Redact(&img, boxes)
				if f := faces(t, d, img); len(f) > 0 {
					t.Errorf("detector still fires after redaction: %v", f)
				}
				for _, b := range boxes {
					if style == StylePixelate {
						break // block edges are strong Laplacian edges; the detector check stands
					}
					if after, before := detail(img, b), detail(up, b); after > before/10 {
						t.Errorf("face at %v keeps %.0f%% of its detail", b, 100*after/before)
					}
				}
				// Far from the face nothing changes.
				bounds := image.Rect(0, 0, img.Cols(), img.Rows())
				far := r.Region(boxes[0], bounds).Inset(-40)
				diff := gocv.NewMat()
				defer diff.Close()
				gocv.AbsDiff(img, up, &diff)
				for _, probe := range []image.Rectangle{image.Rect(0, 0, 100, 100), image.Rect(bounds.Max.X-100, bounds.Max.Y-100, bounds.Max.X, bounds.Max.Y)} {
					if probe.Overlaps(far) {
						continue
					}
					roi := diff.Region(probe)
					s := roi.Sum()
					roi.Close()
					if s.Val1+s.Val2+s.Val3 != 0 {
						t.Errorf("pixels changed at %v, far from any face", probe)
					}
				}
			})
		}
	}
}

func TestMaskAllHidesEverything(t *testing.T) {
	img := gocv.NewMatWithSize(90, 160, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	redactor{Style: StyleBlur, Shape: ShapeEllipse, Expand: 1.3}.MaskAll(&img)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(img, &mean, &std)
	if std.Rows()*std.Cols() != 3 {
		t.Fatalf("standard deviations of %dx%d values, want one per channel", std.Rows(), std.Cols())
	}
	// Each channel on its own: a mask that left one of them would leave
	// the picture in that colour.
	for c, name := range []string{"blue", "green", "red"} {
		if s := std.GetDoubleAt(c, 0); s != 0 {
			t.Errorf("masked frame still varies in %s (std %.2f)", name, s)
		}
	}
}

func TestRegionExpandsAndClips(t *testing.T) {
	bounds := image.Rect(0, 0, 100, 100)
	for _, tc := range []struct {
		name string
		r    redactor
		box  image.Rectangle
		want image.Rectangle
	}{
		{"rect grows about the centre", redactor{Shape: ShapeRect, Expand: 1.5}, image.Rect(40, 40, 60, 60), image.Rect(35, 35, 65, 65)},
		{"ellipse gets extra slack", redactor{Shape: ShapeEllipse, Expand: 1.5}, image.Rect(40, 40, 60, 60), image.Rect(32, 32, 68, 68)},
		{"clipped at the frame edge", redactor{Shape: ShapeRect, Expand: 2}, image.Rect(0, 0, 20, 20), image.Rect(0, 0, 30, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Region(tc.box, bounds); got != tc.want {
				t.Errorf("Region(%v) = %v, want %v", tc.box, got, tc.want)
			}
		})
	}
}

// TestTextRedactedCoarser checks that plates and text lines are washed with
// fewer blocks than faces: a line of characters keeps about one value per
// character, not several that could be matched against an alphabet.
func TestTextRedactedCoarser(t *testing.T) {
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), 120, 320, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.PutText(&img, "A12345", image.Pt(60, 75), gocv.FontHersheySimplex, 1.2, color.RGBA{0, 0, 0, 0}, 3)
	box := image.Rect(50, 40, 270, 85) // the text line, 45 px high
	r := redactor{Style: StyleBlur, Shape: ShapeEllipse, Expand: 1}
	for _, tc := range []struct {
		class   detect.Class
		maxStep float64 // largest brightness change between columns 8 px apart
	}{
		{detect.Plate, 20},
		{detect.Overlay, 20},
	} {
		t.Run(string(tc.class), func(t *testing.T) {
			out := img.Clone()
			defer out.Close()
			r.RedactDetections(&out, []detect.Detection{{Box: box, Class: tc.class}})
			gray := gocv.NewMat()
			defer gray.Close()
			gocv.CvtColor(out, &gray, gocv.ColorBGRToGray)
			row := box.Min.Y + box.Dy()/2
			worst := 0.0
			for x := box.Min.X; x+8 < box.Max.X; x++ {
				d := float64(gray.GetUCharAt(row, x+8)) - float64(gray.GetUCharAt(row, x))
				worst = max(worst, d, -d)
			}
			if worst > tc.maxStep {
				t.Errorf("brightness still steps by %.0f across 8 px of the hidden line", worst)
			}
		})
	}
}
