package desens

import (
	"fmt"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

// overlayDefaults fills in and checks the overlay options.
func (o *Options) overlayDefaults() error {
	if o.Overlays == "" {
		o.Overlays = detect.OverlayGeo
		if o.OverlayROI != "" {
			o.Overlays = detect.OverlayROI
		}
	}
	if _, err := detect.ParseOverlayMode(string(o.Overlays)); err != nil {
		return err
	}
	if (o.Overlays == detect.OverlayROI) != (o.OverlayROI != "") {
		return fmt.Errorf("overlay mode %s: an ROI file goes with roi mode, and only with it", o.Overlays)
	}
	if o.OverlayEvery < 0 {
		return fmt.Errorf("overlay every %d: want 1 or more (0 for the default)", o.OverlayEvery)
	}
	if o.OverlayEvery == 0 {
		o.OverlayEvery = detect.DefaultOverlayConfig().Every
	}
	// Text that appears between two detector runs is covered only by the
	// tracker's lead-in, which reaches Hold frames back: a longer interval
	// would leave frames of a new overlay unhidden.
	if o.OverlayEvery > max(0, o.Hold)+1 {
		o.OverlayEvery = max(0, o.Hold) + 1
	}
	return nil
}

// overlayDetector wraps the overlay detector for the pipeline: still
// images use it as it is, and each video gets a Stream of its own.
type overlayDetector struct{ *detect.OverlayDetector }

func (o overlayDetector) Stream() Detector { return o.OverlayDetector.Stream() }

// newOverlay builds the overlay detector the options ask for; the text
// model (nil in roi mode) is returned for closing.
func newOverlay(rt *onnx.Runtime, opts Options, so onnx.SessionOptions) (Detector, *detect.TextDetector, *ModelInfo, error) {
	cfg := detect.DefaultOverlayConfig()
	cfg.Mode, cfg.Every = opts.Overlays, opts.OverlayEvery
	if cfg.Mode == detect.OverlayROI {
		regs, err := detect.LoadROI(opts.OverlayROI)
		if err != nil {
			return nil, nil, nil, err
		}
		cfg.ROI = regs
		od, err := detect.NewOverlay(nil, cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		return overlayDetector{od}, nil, nil, nil
	}
	m, err := models.Or(opts.TextModel, models.TextDet)
	if err != nil {
		return nil, nil, nil, err
	}
	td, err := detect.NewText(rt, m.Data, detect.DefaultTextConfig(), so)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", m.Source, err)
	}
	od, err := detect.NewOverlay(td, cfg)
	if err != nil {
		td.Close()
		return nil, nil, nil, err
	}
	return overlayDetector{od}, td, &ModelInfo{Class: detect.Overlay, Name: m.Name, Source: m.Source, SHA256: m.SHA256}, nil
}
