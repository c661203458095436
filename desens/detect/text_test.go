package detect

import (
	"context"
	"image"
	"image/color"
	"math"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

// probMap is a w×h probability map of zeros with the given boxes filled.
func probMap(w, h int, fills map[image.Rectangle]float32) []float32 {
	p := make([]float32, w*h)
	for r, v := range fills {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				p[y*w+x] = v
			}
		}
	}
	return p
}

func TestDBBoxes(t *testing.T) {
	cfg := DefaultTextConfig()
	// A 40×6 kernel grows by 40·6·1.5/(2·46) on each side.
	d := 40.0 * 6 * 1.5 / (2 * 46)
	for _, tc := range []struct {
		name  string
		fills map[image.Rectangle]float32
		want  []rectF
	}{
		{"one line is unclipped back to its whole height",
			map[image.Rectangle]float32{image.Rect(10, 10, 50, 16): 0.9},
			[]rectF{{10 - d, 10 - d, 50 + d, 16 + d}}},
		{"two lines stay apart",
			map[image.Rectangle]float32{image.Rect(10, 10, 50, 16): 0.9, image.Rect(10, 30, 50, 36): 0.8},
			[]rectF{{10 - d, 10 - d, 50 + d, 16 + d}, {10 - d, 30 - d, 50 + d, 36 + d}}},
		{"a 2 px speck is dropped", map[image.Rectangle]float32{image.Rect(70, 70, 72, 72): 0.99}, nil},
		{"a faint region under the box threshold is dropped",
			map[image.Rectangle]float32{image.Rect(10, 10, 50, 16): 0.4}, nil},
		{"under the binarisation threshold nothing is seen",
			map[image.Rectangle]float32{image.Rect(10, 10, 50, 16): 0.25}, nil},
		{"diagonal neighbours join (8-connected)",
			map[image.Rectangle]float32{image.Rect(10, 10, 20, 16): 0.9, image.Rect(20, 16, 30, 22): 0.9},
			// Half the bounding box is empty: mean 0.45 is under 0.5.
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dbBoxes(probMap(100, 80, tc.fills), 100, 80, cfg)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d boxes %v, want %v", len(got), got, tc.want)
			}
			for i, g := range got {
				w := tc.want[i]
				if math.Abs(g.box.x0-w.x0) > 1e-9 || math.Abs(g.box.y0-w.y0) > 1e-9 ||
					math.Abs(g.box.x1-w.x1) > 1e-9 || math.Abs(g.box.y1-w.y1) > 1e-9 {
					t.Errorf("box %d = %+v, want %+v", i, g.box, w)
				}
			}
		})
	}
}

func TestTextInputSize(t *testing.T) {
	d := &TextDetector{cfg: DefaultTextConfig()}
	for _, tc := range []struct{ w, h, ww, wh int }{
		{1920, 1080, 1344, 736}, // shrunk to a million pixels, sides rounded to multiples of 32
		{1920, 248, 1920, 256},  // a 1080p band: full resolution
		{1280, 720, 1280, 736},  // 22.5 rounds up
		{640, 360, 640, 352},    // never enlarged
		{10, 10, 32, 32},
	} {
		if w, h := d.InputSize(tc.w, tc.h); w != tc.ww || h != tc.wh {
			t.Errorf("InputSize(%d, %d) = %d×%d, want %d×%d", tc.w, tc.h, w, h, tc.ww, tc.wh)
		}
	}
}

func newText(t *testing.T) *TextDetector {
	t.Helper()
	rt := testenv.ORT(t)
	d, err := NewText(rt, models.TextDet().Data, DefaultTextConfig(), onnx.SessionOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestTextFindsLine checks the real model on a line of text drawn on grey:
// one box, covering the whole line.
func TestTextFindsLine(t *testing.T) {
	d := newText(t)
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 100, 110, 0), 360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	text := "N31.2304 E121.4737 2024-05-01"
	sz := gocv.GetTextSize(text, gocv.FontHersheySimplex, 0.6, 1)
	org := image.Pt(20, 330)
	gocv.PutText(&img, text, org, gocv.FontHersheySimplex, 0.6, color.RGBA{255, 255, 255, 0}, 1)
	line := image.Rect(org.X, org.Y-sz.Y, org.X+sz.X, org.Y+2)
	dets, err := d.DetectText(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 1 {
		t.Fatalf("found %v, want one box over %v", dets, line)
	}
	if got := dets[0].Box; !line.Inset(2).In(got) { // GetTextSize is a pixel or two generous
		t.Errorf("box %v does not cover the line %v", got, line)
	}
}
