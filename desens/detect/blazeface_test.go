package detect

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

func TestBlazeAnchors(t *testing.T) {
	a := blazeAnchors()
	if len(a) != 896 {
		t.Fatalf("%d anchors, want 896", len(a))
	}
	for _, tc := range []struct {
		i    int
		want anchor
	}{
		{0, anchor{0.5 / 16, 0.5 / 16}},
		{1, anchor{0.5 / 16, 0.5 / 16}}, // two anchors per 16×16 cell
		{2, anchor{1.5 / 16, 0.5 / 16}}, // row-major
		{511, anchor{15.5 / 16, 15.5 / 16}},
		{512, anchor{0.5 / 8, 0.5 / 8}}, // then the 8×8 grid
		{517, anchor{0.5 / 8, 0.5 / 8}}, // six per cell
		{518, anchor{1.5 / 8, 0.5 / 8}},
		{895, anchor{7.5 / 8, 7.5 / 8}},
	} {
		if a[tc.i] != tc.want {
			t.Errorf("anchor %d = %v, want %v", tc.i, a[tc.i], tc.want)
		}
	}
}

func newBlaze(t *testing.T, batch int) *BlazeFace {
	t.Helper()
	rt := testenv.ORT(t)
	d, err := NewBlazeFace(rt, models.FaceVerify().Data, DefaultBlazeFaceConfig(),
		onnx.SessionOptions{Threads: 2, Batch: batch, BatchWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestBlazeFaceSecondLook: a proposal on the known face comes out of the
// second look stronger than it went in; one on the grass, the ball or the
// blurred crowd is rejected. The second look through a batching session,
// which sends a look's crops at once, gives each the same score.
func TestBlazeFaceSecondLook(t *testing.T) {
	d, batched := newBlaze(t, 1), newBlaze(t, 8)
	img := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer img.Close()
	for _, tc := range []struct {
		name string
		box  image.Rectangle
		face bool
	}{
		{"the face", messiFace, true},
		{"grass", image.Rect(40, 290, 79, 329), false},
		{"shirt", image.Rect(240, 180, 279, 219), false},
		{"crowd", image.Rect(400, 20, 439, 59), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := candidate{box: toF(tc.box), score: 0.5}
			got, err := d.verifyWhole(context.Background(), img, c, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			if tc.face != (got >= 0.6) || (!tc.face && got >= 0.5) {
				t.Fatalf("second look at %v: %.2f", tc.box, got)
			}
			b, err := batched.verifyWhole(context.Background(), img, c, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(b-got) > 1e-4 {
				t.Errorf("second look at %v: %.5f batched, %.5f alone", tc.box, b, got)
			}
		})
	}
}
