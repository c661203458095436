package detect

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

// BenchmarkOverlayStream is the overlay stage's cost per 1080p frame in geo
// mode, with the text detector on every frame and on every 5th (the
// default). The frames carry a GPS line and a clock whose digits change.
func BenchmarkOverlayStream(b *testing.B) {
	rt, err := onnx.Open("")
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { rt.Close() })
	td, err := NewText(rt, models.TextDet().Data, DefaultTextConfig(), onnx.SessionOptions{Threads: benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { td.Close() })
	frames := make([]gocv.Mat, 10)
	for i := range frames {
		frames[i] = gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
		defer frames[i].Close()
		gocv.RandU(&frames[i], gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(160, 160, 160, 0))
		white := color.RGBA{255, 255, 255, 0}
		gocv.PutText(&frames[i], "N31.2304 E121.4737 35km/h", image.Pt(20, 40), gocv.FontHersheySimplex, 0.7, white, 2)
		gocv.PutText(&frames[i], fmt.Sprintf("2026-11-24 08:15:%02d F%d", i, i), image.Pt(20, 1060), gocv.FontHersheySimplex, 0.6, white, 1)
	}
	for _, every := range []int{1, 5} {
		b.Run(fmt.Sprintf("every=%d", every), func(b *testing.B) {
			cfg := DefaultOverlayConfig()
			cfg.Every = every
			od, err := NewOverlay(td, cfg)
			if err != nil {
				b.Fatal(err)
			}
			st := od.Stream()
			defer st.Close()
			n := 0
			for b.Loop() {
				k := (n % 5) * 2
				batch := frames[k : k+2] // the ten frames in order, two at a time, over and over
				for _, r := range st.Detect(context.Background(), batch) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
				n++
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(2*b.N), "ms/frame")
			b.ReportMetric(float64(st.Runs())/float64(2*b.N), "runs/frame")
		})
	}
}
