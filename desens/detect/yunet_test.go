package detect

import (
	"image"
	"math"
	"testing"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

// newYuNetFace is the face detector with YuNet proposing, with or without
// the second look.
func newYuNetFace(t *testing.T, verify bool) *FaceDetector {
	t.Helper()
	rt := testenv.ORT(t)
	m := FaceModels{Detector: models.FaceYuNet().Data}
	if verify {
		m.Verifier = models.FaceVerify().Data
	}
	cfg := DefaultFaceConfig()
	cfg.Proposer = ProposerYuNet
	d, err := NewFace(rt, m, cfg, onnx.SessionOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestYuNetFindsKnownFace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		verify bool
	}{{"with the second look", true}, {"YuNet alone", false}} {
		t.Run(tc.name, func(t *testing.T) {
			checkFindsMessi(t, newYuNetFace(t, tc.verify).DetectFrame)
		})
	}
}

func TestYuNetNothingInBlankOrNoise(t *testing.T) {
	checkNothingInBlankOrNoise(t, newYuNetFace(t, true).DetectFrame)
}

func TestYuNetBadModel(t *testing.T) {
	rt := testenv.ORT(t)
	cfg := DefaultFaceConfig()
	cfg.Proposer = ProposerYuNet
	for _, tc := range []struct {
		name  string
		model []byte
	}{
		{"not ONNX", []byte("not a model")},
		{"RetinaFace given as YuNet", models.Face().Data},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewFace(rt, FaceModels{Detector: tc.model}, cfg, onnx.SessionOptions{Threads: 1})
			if err == nil {
				d.Close()
				t.Fatal("no error")
			}
		})
	}
}

func TestParseProposer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Proposer
		err  bool
	}{
		{"", ProposerRetinaFace, false},
		{"retinaface", ProposerRetinaFace, false},
		{"yunet", ProposerYuNet, false},
		{"YuNet", "", true},
		{"blazeface", "", true},
	} {
		got, err := ParseProposer(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseProposer(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestDecodeYuNet feeds one stride's outputs by hand on a 4×3 grid: class,
// objectness and box offsets at one cell, and checks the box decoded from
// them.
func TestDecodeYuNet(t *testing.T) {
	const gw, gh, stride = 4, 3, 8
	const cells = gw * gh
	for _, tc := range []struct {
		name     string
		col, row int
		cls, obj float32
		b        [4]float32 // centre offsets in cells, log width and height
		want     rectF
		score    float64
		none     bool
	}{
		{name: "cell as is", col: 1, row: 2, cls: 0.81, obj: 1,
			want: rectF{8 - 4, 16 - 4, 8 + 4, 16 + 4}, score: 0.9},
		{name: "shifted and grown", col: 2, row: 0, cls: 0.5, obj: 0.5,
			b:    [4]float32{0.5, 0.25, float32(math.Log(4)), float32(math.Log(2))},
			want: rectF{20 - 16, 2 - 8, 20 + 16, 2 + 8}, score: 0.5},
		{name: "probabilities clamped to [0,1]", col: 0, row: 1, cls: 1.2, obj: 0.64,
			want: rectF{-4, 8 - 4, 4, 8 + 4}, score: 0.8},
		{name: "under the threshold", col: 1, row: 1, cls: 0.1, obj: 0.1, none: true},
		{name: "negative objectness", col: 1, row: 1, cls: 0.9, obj: -0.5, none: true},
		{name: "centred in the padding", col: 3, row: 1, cls: 0.9, obj: 0.9, b: [4]float32{0.5, 0, 0, 0}, none: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cls := onnx.Output{Shape: []int64{1, cells, 1}, Data: make([]float32, cells)}
			obj := onnx.Output{Shape: []int64{1, cells, 1}, Data: make([]float32, cells)}
			bbox := onnx.Output{Shape: []int64{1, cells, 4}, Data: make([]float32, 4*cells)}
			i := tc.row*gw + tc.col
			cls.Data[i], obj.Data[i] = tc.cls, tc.obj
			copy(bbox.Data[4*i:], tc.b[:])
			// The input is 32 model px wide, the frame 27: x from 27 on is padding.
			got := decodeYuNet(nil, cls, obj, bbox, stride, gw*stride, 27, gh*stride, 0.2)
			if tc.none {
				if len(got) != 0 {
					t.Fatalf("got %v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d candidates, want 1", len(got))
			}
			if math.Abs(got[0].score-tc.score) > 1e-6 || !nearRect(got[0].box, tc.want) {
				t.Fatalf("got %+v, want %v at %v", got[0], tc.want, tc.score)
			}
		})
	}
}

// TestDecodeYuNetBadShapes: outputs that do not fit the grid decode to
// nothing rather than reading out of range.
func TestDecodeYuNetBadShapes(t *testing.T) {
	full := func(n int) onnx.Output { return onnx.Output{Data: make([]float32, n)} }
	for _, tc := range []struct {
		name           string
		cls, obj, bbox onnx.Output
		pw             int
	}{
		{"bbox short", full(12), full(12), full(47), 32},
		{"obj short", full(12), full(11), full(48), 32},
		{"cells not whole rows", full(10), full(10), full(40), 32},
		{"input narrower than a stride", full(12), full(12), full(48), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.cls.Data {
				tc.cls.Data[i] = 1
			}
			for i := range tc.obj.Data {
				tc.obj.Data[i] = 1
			}
			if got := decodeYuNet(nil, tc.cls, tc.obj, tc.bbox, 8, tc.pw, 32, 24, 0.2); len(got) != 0 {
				t.Fatalf("got %v, want nothing", got)
			}
		})
	}
}

// TestScanMinPixels: a frame that the finest scale leaves with fewer than
// MinPixels gets one finer run, enlarged to MinPixels and at most
// finerBy times the finest, never past MaxPixels.
func TestScanMinPixels(t *testing.T) {
	cfg := DefaultFaceConfig().YuNet
	cfg.MinPixels = 3840 * 2160
	for _, tc := range []struct {
		name       string
		w, h       int
		wantScales []float64
	}{
		{"720p: 3× as well", 1280, 720, []float64{3, 2, 0.5}},
		{"1600×900: 2.4× as well", 1600, 900, []float64{2.4, 2, 0.4}},
		{"1080p: none", 1920, 1080, []float64{2, 1.0 / 3}},
		{"4K: none", 3840, 2160, []float64{math.Sqrt(6000 * 3400 / (3840.0 * 2160)), 1.0 / 6}},
		{"a small frame: at most finerBy times 2×", 600, 400, []float64{2 * finerBy, 2, 640.0 / 600}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cfg.runScales(tc.w, tc.h)
			wantScales(t, got, tc.wantScales)
		})
	}
}

// TestVideoInferences: a video frame under 1080p is searched at the finer
// scale too; a photo and a 1080p frame are not.
func TestVideoInferences(t *testing.T) {
	cfg := DefaultFaceConfig()
	cfg.Proposer = ProposerYuNet
	for _, tc := range []struct {
		w, h         int
		photo, video int
	}{
		{1280, 720, 2 + 1, 6 + 2 + 1},
		{1920, 1080, 6 + 1, 6 + 1},
	} {
		if n, v := cfg.Inferences(tc.w, tc.h), cfg.VideoInferences(tc.w, tc.h); n != tc.photo || v != tc.video {
			t.Errorf("%dx%d: %d runs a photo, %d a video frame; want %d, %d", tc.w, tc.h, n, v, tc.photo, tc.video)
		}
	}
	if v := cfg.WithScale(2).VideoInferences(1280, 720); v != 2+1 {
		t.Errorf("--face-scale 2: %d runs a 720p video frame, want 3", v)
	}
}

// TestYuNetScalesAndTiles: the default scales at common sizes, and tiles
// that cover the frame with overlaps larger than any box YuNet keeps.
func TestYuNetScalesAndTiles(t *testing.T) {
	cfg := DefaultFaceConfig().YuNet
	for _, tc := range []struct {
		name       string
		w, h       int
		wantScales []float64
		wantRuns   int
	}{
		{"720p: 2× and shrunk to 640", 1280, 720, []float64{2, 0.5}, 2 + 1},
		{"1080p: 2× and shrunk to 640", 1920, 1080, []float64{2, 1.0 / 3}, 6 + 1},
		{"a small photo: 2× and near its own size", 600, 400, []float64{2, 640.0 / 600}, 1 + 1},
		{"a tiny image: no shrunk run", 300, 200, []float64{2}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cfg.runScales(tc.w, tc.h)
			wantScales(t, got, tc.wantScales)
			if n := cfg.Inferences(tc.w, tc.h); n != tc.wantRuns {
				t.Errorf("%d inferences, want %d", n, tc.wantRuns)
			}
			full := image.Rect(0, 0, tc.w, tc.h)
			for _, s := range got {
				tiles := cfg.tiles(tc.w, tc.h, s, yunetBand.max)
				var union image.Rectangle
				for _, r := range tiles {
					for _, o := range tiles {
						if in := r.Intersect(o); in != r && !in.Empty() && min(in.Dx(), in.Dy()) <= int(yunetBand.max/s) {
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
