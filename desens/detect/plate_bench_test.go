package detect

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

// BenchmarkPlate1080p is the cost of one whole 1920×1080 frame: the model
// on the frame at scale 1, 1/2 and 1/4 (no tiles), then decoding. Each
// scale is also timed alone.
func BenchmarkPlate1080p(b *testing.B) {
	rt, img := noise1080p(b)
	all := DefaultPlateConfig().Scales
	cases := []struct {
		name   string
		scales []float64
	}{{"default", all}}
	for _, s := range all {
		cases = append(cases, struct {
			name   string
			scales []float64
		}{fmt.Sprintf("scale=%g", s), []float64{s}})
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			cfg := DefaultPlateConfig()
			cfg.Scales = tc.scales
			d, err := NewPlate(rt, defaultPlateModels(), cfg, onnx.SessionOptions{Threads: benchThreads})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			for b.Loop() {
				if _, err := d.DetectFrame(b.Context(), img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlateStage1080p is the whole plate stage on one real 1920×1080
// street photo (testdata/eval/plates-cn/hyperlpr_test_img.jpg) on 2
// inference threads: the own detector alone (before the corner detector),
// the corner detector alone, and both, as desens runs them.
func BenchmarkPlateStage1080p(b *testing.B) {
	rt, err := onnx.Open("")
	if err != nil {
		b.Skip(err)
	}
	defer rt.Close()
	img := readPhoto(b, filepath.Join("eval", "plates-cn"), "hyperlpr_test_img.jpg")
	if img.Cols() != 1920 || img.Rows() != 1080 {
		b.Fatalf("want a 1920×1080 photo, got %d×%d", img.Cols(), img.Rows())
	}
	m := defaultPlateModels()
	for _, tc := range []struct {
		name         string
		own, corners bool
	}{{"own", true, false}, {"corners", false, true}, {"both", true, true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := DefaultPlateConfig()
			cfg.Own, cfg.Corners = tc.own, tc.corners
			d, err := NewPlate(rt, m, cfg, onnx.SessionOptions{Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			for b.Loop() {
				if _, err := d.DetectFrame(b.Context(), img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlateVerify is the cost of the verifier (the ensemble) and of
// its quick first look for the candidates of one frame: on the held-out
// frames, full of signs, the detector proposes about 90, and the quick
// look passes about one in six of them on to the ensemble.
func BenchmarkPlateVerify(b *testing.B) {
	rt, img := noise1080p(b)
	for _, m := range []struct {
		name  string
		model models.Model
	}{{"ensemble", models.PlateVerify()}, {"quick", models.PlateVerifyQuick()}} {
		v, err := newPlateVerifier(rt, "plate verifier", m.model.Data, onnx.SessionOptions{Threads: benchThreads})
		if err != nil {
			b.Fatal(err)
		}
		defer v.Close()
		for _, n := range []int{1, 10, 90} {
			boxes := make([]rectF, n)
			for i := range boxes {
				x, y := float64(40*i%1800), float64(20*i%1000)
				boxes[i] = rectF{x, y, x + 20 + float64(5*i%200), y + 8 + float64(2*i%60)}
			}
			b.Run(fmt.Sprintf("%s/crops=%d", m.name, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := v.verify(img, boxes); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPlateRead is the reader's cost for the boxes of one frame: on
// the held-out synthetic frames about 3 boxes of 30 px or more pass the
// threshold per frame.
func BenchmarkPlateRead(b *testing.B) {
	rt, img := noise1080p(b)
	r, err := newPlateReader(rt, models.TextRec().Data, models.TextRecKeys(), onnx.SessionOptions{Threads: benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, n := range []int{1, 4, 16} {
		boxes := make([]image.Rectangle, n)
		for i := range boxes {
			x, y := 100*i%1800, 50*i%1000
			boxes[i] = image.Rect(x, y, x+40+25*i%200, y+14+8*i%60)
		}
		b.Run(fmt.Sprintf("boxes=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := r.read(context.Background(), img, boxes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// noise1080p opens onnxruntime (skipping the benchmark without it) and
// returns a 1920×1080 frame of noise, both freed when b ends.
func noise1080p(b *testing.B) (*onnx.Runtime, gocv.Mat) {
	rt, err := onnx.Open("")
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { rt.Close() })
	img := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
	b.Cleanup(func() { img.Close() })
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	return rt, img
}
