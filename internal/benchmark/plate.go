package benchmark

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"slices"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/video"
)

// PlateStage is the plate detector alone: on the file's frames, each
// searched in full as an image is, and on its first frame scaled to
// 1920×1080, the size its cost is quoted for; and the plate stream a
// video gets (a share of each frame at full size, readings reused) on
// the same frames.
type PlateStage struct {
	Stage
	// Stream is the plate stream on the file's frames.
	Stream Stage `json:"stream"`
	// Scales are the sizes each frame is run at (the model sees the whole
	// frame at each, no tiles).
	Scales []float64 `json:"scales"`
	// MsPer1080p is the mean time of one 1920×1080 frame.
	MsPer1080p float64 `json:"ms_per_1080p_frame"`
}

// plate1080pRuns is how many times the 1080p frame is timed.
const plate1080pRuns = 5

// plateStage times the plate detector alone, with the plate target: a
// Desensitizer built with the measured one's options but that target
// only, so its models, thresholds and threads are the ones desens runs.
func plateStage(ctx context.Context, file string, info video.Info, cfg Config, r *Result) error {
	if !slices.Contains(cfg.Options.Targets, detect.Plate) {
		return nil
	}
	po := cfg.Options
	po.Targets = []detect.Class{detect.Plate}
	pd, err := desens.New(po)
	if err != nil {
		return err
	}
	defer pd.Close()
	rd, err := video.Open(ctx, file, info)
	if err != nil {
		return err
	}
	defer rd.Close()
	img := gocv.NewMat()
	defer img.Close()
	big := gocv.NewMat()
	defer big.Close()
	var spent time.Duration
	frames := 0
	for cfg.Frames == 0 || frames < cfg.Frames {
		err := rd.Read(&img)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if frames == 0 {
			gocv.Resize(img, &big, image.Pt(1920, 1080), 0, 0, gocv.InterpolationLinear)
		}
		t := time.Now()
		if _, err := pd.Detect(ctx, img); err != nil {
			return fmt.Errorf("frame %d: %w", frames, err)
		}
		spent += time.Since(t)
		frames++
	}
	s := PlateStage{Stage: r.stage(frames, spent.Seconds()), Scales: detect.DefaultPlateConfig().Scales}
	s.MBps = 0 // reads no file
	n, secs, err := detectFrames(ctx, pd, file, info, cfg.Frames)
	if err != nil {
		return fmt.Errorf("plate stream: %w", err)
	}
	s.Stream = r.stage(n, secs)
	s.Stream.MBps = 0
	if !big.Empty() {
		if _, err := pd.Detect(ctx, big); err != nil { // warm-up: first-run allocations
			return err
		}
		t := time.Now()
		for range plate1080pRuns {
			if _, err := pd.Detect(ctx, big); err != nil {
				return err
			}
		}
		s.MsPer1080p = float64(time.Since(t).Microseconds()) / 1000 / plate1080pRuns
	}
	r.Plate = &s
	return nil
}
