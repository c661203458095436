package detect

import (
	"context"
	"image"
	"path/filepath"
	"testing"

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

func newBlaze(t *testing.T) *BlazeFace {
	t.Helper()
	rt := testenv.ORT(t)
	d, err := NewBlazeFace(rt, models.FaceVerify().Data, DefaultBlazeFaceConfig(), onnx.SessionOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// The known face in opencv-doc's messi5.jpg: a 33 px face looking down, the
// kind of small, imperfect face a dashcam sees.
var messiFace = image.Rect(220, 95, 259, 134)

func TestBlazeFaceFindsKnownFace(t *testing.T) {
	checkFindsMessi(t, newBlaze(t).DetectFrame)
}

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
			for _, det := range dets {
				switch {
				case IoU(det.Box, want) > 0.3:
					found = true
				case !det.Box.In(near):
					t.Errorf("unexpected detection %v (%.2f)", det.Box, det.Score)
				}
			}
			if !found {
				t.Fatalf("face at %v not found; got %v", want, dets)
			}
		})
	}
}

func TestBlazeFaceNothingInBlankOrNoise(t *testing.T) {
	checkNothingInBlankOrNoise(t, newBlaze(t).DetectFrame)
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
	for _, d := range []interface {
		Detect(context.Context, []gocv.Mat) []Result
	}{newBlaze(t), newFace(t)} {
		checkRejectsBadFrames(t, d.Detect)
	}
}

func checkRejectsBadFrames(t *testing.T, detect func(context.Context, []gocv.Mat) []Result) {
	t.Helper()
	empty := gocv.NewMat()
	defer empty.Close()
	gray := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U)
	defer gray.Close()
	res := detect(t.Context(), []gocv.Mat{empty, gray})
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
