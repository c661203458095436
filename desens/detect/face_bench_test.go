package detect

import (
	"context"
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

func benchRuntime(b *testing.B) *onnx.Runtime {
	b.Helper()
	rt, err := onnx.Open("")
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { rt.Close() })
	return rt
}

// BenchmarkBlazeFaceTile is the cost of one 256×256 BlazeFace inference,
// the unit the second look's cost is made of (up to three per uncertain
// face).
func BenchmarkBlazeFaceTile(b *testing.B) {
	d, err := NewBlazeFace(benchRuntime(b), models.FaceVerify().Data, DefaultBlazeFaceConfig(), onnx.SessionOptions{Threads: benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	img := gocv.NewMatWithSize(256, 256, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	t := Tile{Src: image.Rect(0, 0, 256, 256), Scale: 1}
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.runTile(context.Background(), img, t, 0.5); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFace is the cost of one whole frame with the default scales
// (noise: no second looks), at 720p and 1080p.
func BenchmarkFace(b *testing.B) {
	d, err := NewFace(benchRuntime(b), FaceModels{Detector: models.Face().Data, Verifier: models.FaceVerify().Data},
		DefaultFaceConfig(), onnx.SessionOptions{Threads: benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, size := range []image.Point{{1280, 720}, {1920, 1080}} {
		b.Run(image.Rect(0, 0, size.X, size.Y).String(), func(b *testing.B) {
			img := gocv.NewMatWithSize(size.Y, size.X, gocv.MatTypeCV8UC3)
			defer img.Close()
			gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
			b.ReportMetric(float64(DefaultFaceConfig().Proposals.Inferences(size.X, size.Y)), "inferences/frame")
			b.ResetTimer()
			for b.Loop() {
				if _, err := d.DetectFrame(b.Context(), img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchThreads = 1

// BenchmarkPlanarInput is the pre-processing of one of YuNet's enlarged
// tiles: half a 1080p frame scaled 2× into planar floats.
func BenchmarkPlanarInput(b *testing.B) {
	img := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	src := image.Rect(0, 0, 1064, 1080)
	for b.Loop() {
		if _, err := newPlanarInput(img, src, 2, false, 0); err != nil {
			b.Fatal(err)
		}
	}
}
