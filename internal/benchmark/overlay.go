package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/video"
	"github.com/desens/desens/models"
)

// OverlayStage is the overlay detector alone on one video's frames, with
// the text detector run on every Every-th frame (and early when the
// picture around a known overlay changed).
type OverlayStage struct {
	Stage
	Every int `json:"every"`
	Runs  int `json:"text_detector_runs"`
}

// overlayStages times the overlay stream at every frame and at the
// default interval, with the text model the options name. Roi mode runs
// no model and is not timed.
func overlayStages(ctx context.Context, file string, info video.Info, cfg Config, r *Result) error {
	o := cfg.Options
	if !slices.Contains(o.Targets, detect.Overlay) || o.Overlay.Mode == detect.OverlayROI || o.Overlay.ROI != "" {
		return nil
	}
	m, err := models.Or(o.Overlay.TextModel, models.TextDet)
	if err != nil {
		return err
	}
	rt, err := onnx.Open(o.Runtime.Library)
	if err != nil {
		return err
	}
	defer rt.Close()
	td, err := detect.NewText(rt, m.Data, detect.DefaultTextConfig(), onnx.SessionOptions{Device: onnx.Device(o.Runtime.Device), Threads: o.Runtime.Threads})
	if err != nil {
		return err
	}
	defer td.Close()
	for _, every := range []int{1, detect.DefaultOverlayConfig().Every} {
		oc := detect.DefaultOverlayConfig()
		oc.Every = every
		od, err := detect.NewOverlay(td, oc)
		if err != nil {
			return err
		}
		n, runs, secs, err := overlayFrames(ctx, od, file, info, cfg.Frames)
		if err != nil {
			return fmt.Errorf("overlays every %d: %w", every, err)
		}
		s := r.stage(n, secs)
		s.MBps = 0 // reads no file
		r.Overlay = append(r.Overlay, OverlayStage{Stage: s, Every: every, Runs: runs})
	}
	return nil
}

// overlayFrames times one overlay stream over up to limit decoded frames,
// fed in the pipeline's batches of 4.
func overlayFrames(ctx context.Context, od *detect.OverlayDetector, file string, info video.Info, limit int) (frames, runs int, secs float64, err error) {
	rd, err := video.Open(ctx, file, info)
	if err != nil {
		return 0, 0, 0, err
	}
	defer rd.Close()
	st := od.Stream()
	defer st.Close()
	batch := make([]gocv.Mat, 4)
	for i := range batch {
		batch[i] = gocv.NewMat()
		defer batch[i].Close()
	}
	var spent time.Duration
	for eof := false; !eof && (limit == 0 || frames < limit); {
		n := 0
		for ; n < len(batch) && (limit == 0 || frames+n < limit); n++ {
			err := rd.Read(&batch[n])
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return frames, 0, 0, err
			}
		}
		if n == 0 {
			break
		}
		t := time.Now()
		for i, res := range st.Detect(ctx, batch[:n]) {
			if res.Err != nil {
				return frames, 0, 0, fmt.Errorf("frame %d: %w", frames+i, res.Err)
			}
		}
		spent += time.Since(t)
		frames += n
	}
	return frames, st.Runs(), spent.Seconds(), nil
}
