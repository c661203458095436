package detect

import (
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

func newBenchFace(b *testing.B) *FaceDetector {
	b.Helper()
	rt, err := onnx.Open("")
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { rt.Close() })
	d, err := NewFace(rt, models.Face().Data, DefaultFaceConfig(), onnx.SessionOptions{Threads: benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// BenchmarkFaceTile is the cost of one 256×256 inference, the unit every
// frame's cost is made of.
func BenchmarkFaceTile(b *testing.B) {
	d := newBenchFace(b)
	img := gocv.NewMatWithSize(256, 256, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	t := Tile{Src: image.Rect(0, 0, 256, 256), Scale: 1}
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.runTile(img, t, 0.5); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFace1080p is the cost of one whole 1080p frame with the default
// pyramid (noise: no verification work).
func BenchmarkFace1080p(b *testing.B) {
	d := newBenchFace(b)
	img := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	b.ReportMetric(float64(len(d.Tiles(img))), "tiles/frame")
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.DetectFrame(b.Context(), img); err != nil {
			b.Fatal(err)
		}
	}
}

var benchThreads = 1
