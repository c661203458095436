package benchmark

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/video"
	"github.com/desens/desens/models"
)

// PlateStage is the plate detector alone: on the file's frames, and on its
// first frame scaled to 1920×1080, the size its cost is quoted for.
type PlateStage struct {
	Stage
	// Scales are the sizes each frame is run at (the model sees the whole
	// frame at each, no tiles).
	Scales []float64 `json:"scales"`
	// MsPer1080p is the mean time of one 1920×1080 frame.
	MsPer1080p float64 `json:"ms_per_1080p_frame"`
}

// plate1080pRuns is how many times the 1080p frame is timed.
const plate1080pRuns = 5

// plateStage times the plate detector with the model d loaded.
func plateStage(ctx context.Context, d *desens.Desensitizer, file string, info video.Info, cfg Config, r *Result) error {
	m, ok, err := modelOf(d, detect.Plate, "", models.Plate)
	if !ok {
		return err // no plate target
	}
	pc := detect.DefaultPlateConfig()
	vm, ok, err := modelOf(d, detect.Plate, "verifier", models.PlateVerify)
	if err != nil {
		return err
	}
	pc.Threshold = detect.PlateThreshold(ok)
	if !ok {
		pc.SmallThreshold = 0 // tuned on the combined score, as in desens.New
	}
	pm := detect.PlateModels{Detector: m.Data, Verifier: vm.Data}
	qm, ok, err := modelOf(d, detect.Plate, "quick-verifier", models.PlateVerifyQuick)
	if err != nil {
		return err
	}
	if ok {
		pm.QuickVerifier = qm.Data
	} else {
		pc.QuickGate = 0
	}
	rm, ok, err := modelOf(d, detect.Plate, "reader", models.TextRec)
	if err != nil {
		return err
	}
	if ok {
		pm.Reader, pm.ReaderKeys = rm.Data, models.TextRecKeys()
	}
	rt, err := onnx.Open("") // the environment d opened, one more reference
	if err != nil {
		return err
	}
	defer rt.Close()
	pd, err := detect.NewPlate(rt, pm, pc, onnx.SessionOptions{Device: onnx.Device(cfg.Device), Threads: cfg.Threads})
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
		if _, err := pd.DetectFrame(ctx, img); err != nil {
			return fmt.Errorf("frame %d: %w", frames, err)
		}
		spent += time.Since(t)
		frames++
	}
	s := PlateStage{Stage: r.stage(frames, spent.Seconds()), Scales: pc.Scales}
	s.MBps = 0 // reads no file
	if !big.Empty() {
		if _, err := pd.DetectFrame(ctx, big); err != nil { // warm-up: first-run allocations
			return err
		}
		t := time.Now()
		for range plate1080pRuns {
			if _, err := pd.DetectFrame(ctx, big); err != nil {
				return err
			}
		}
		s.MsPer1080p = float64(time.Since(t).Microseconds()) / 1000 / plate1080pRuns
	}
	r.Plate = &s
	return nil
}

// modelOf returns the model d runs for class, the embedded one or the file
// it was loaded from, so a stage timed alone runs the same weights; ok is
// false when d has no such model.
func modelOf(d *desens.Desensitizer, class detect.Class, role string, embedded func() models.Model) (m models.Model, ok bool, err error) {
	for _, mi := range d.Models() {
		if mi.Class != class || mi.Role != role {
			continue
		}
		if mi.Source == "embedded" {
			return embedded(), true, nil
		}
		m, err = models.Load(mi.Source)
		return m, err == nil, err
	}
	return models.Model{}, false, nil
}
