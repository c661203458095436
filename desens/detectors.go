package desens

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

// detectors are the built-in detectors the options ask for, with what
// must be closed after them and the models they run.
type detectors struct {
	all     []Detector // every detector a frame goes through, AddDetector's included
	closers []io.Closer
	models  []ModelInfo
	face    *detect.FaceDetector  // nil without the face target
	plate   *detect.PlateDetector // nil without the plate target
}

// loadDetectors loads the models of every target in o (defaults filled
// in) and builds their detectors. Each detector's tuning is its own
// (detect.Default*Config); the options only pick models and thresholds.
func loadDetectors(rt *onnx.Runtime, o Options) (*detectors, error) {
	so := onnx.SessionOptions{Device: onnx.Device(o.Runtime.Device), Threads: o.Runtime.Threads,
		Batch: o.Runtime.Batch, BatchWait: o.Runtime.BatchWait}
	ds := &detectors{}
	err := func() error {
		if slices.Contains(o.Targets, detect.Face) {
			if err := ds.loadFace(rt, o.Face, so); err != nil {
				return err
			}
		}
		if slices.Contains(o.Targets, detect.Plate) {
			if err := ds.loadPlate(rt, o.Plate, so); err != nil {
				return err
			}
		}
		if slices.Contains(o.Targets, detect.Overlay) {
			return ds.loadOverlay(rt, o.Overlay, so)
		}
		return nil
	}()
	if err != nil {
		ds.Close()
		return nil, err
	}
	return ds, nil
}

// Close frees the models.
func (ds *detectors) Close() error {
	var errs []error
	for _, c := range ds.closers {
		errs = append(errs, c.Close())
	}
	ds.closers = nil
	return errors.Join(errs...)
}

// model loads the file at path, or the embedded model when path is empty,
// and records it under class and role.
func (ds *detectors) model(path string, embedded func() models.Model, class detect.Class, role string) ([]byte, error) {
	m, err := models.Or(path, embedded)
	if err != nil {
		return nil, err
	}
	ds.models = append(ds.models, ModelInfo{Class: class, Role: role, Name: m.Name, Source: m.Source, SHA256: m.SHA256})
	return m.Data, nil
}

func (ds *detectors) loadFace(rt *onnx.Runtime, o FaceOptions, so onnx.SessionOptions) error {
	cfg := detect.DefaultFaceConfig().WithThreshold(o.Threshold).WithScale(o.Scale)
	cfg.Every, cfg.Stride = o.Every, o.Stride
	var err error
	if cfg.Proposer, err = detect.ParseProposer(o.Proposer); err != nil {
		return fmt.Errorf("%w: %w", ErrOptions, err)
	}
	fd, err := ds.newFace(rt, o, cfg, "", so)
	if err != nil {
		return err
	}
	ds.face = fd
	vd := fd
	if o.Proposer == "" && o.Model == "" {
		// By default videos get the cheaper proposer: their stream
		// searches each frame in part and follows the faces it found.
		cfg.Proposer = detect.ProposerYuNet
		if vd, err = ds.newFace(rt, o, cfg, "video ", so); err != nil {
			return err
		}
	}
	ds.all = append(ds.all, faceDetector{fd, vd})
	return nil
}

// newFace loads the models of one face detector, recording them under
// roles prefixed by role, and builds it.
func (ds *detectors) newFace(rt *onnx.Runtime, o FaceOptions, cfg detect.FaceConfig, role string, so onnx.SessionOptions) (*detect.FaceDetector, error) {
	embedded := models.Face
	if cfg.Proposer == detect.ProposerYuNet {
		embedded = models.FaceYuNet
	}
	model := o.Model
	var m detect.FaceModels
	var err error
	if m.Detector, err = ds.model(model, embedded, detect.Face, strings.TrimSpace(role)); err != nil {
		return nil, err
	}
	if !o.NoVerify {
		if m.Verifier, err = ds.model(o.VerifyModel, models.FaceVerify, detect.Face, role+"verifier"); err != nil {
			return nil, err
		}
	}
	fd, err := detect.NewFace(rt, m, cfg, so)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelSource(model), err)
	}
	ds.closers = append(ds.closers, fd)
	return fd, nil
}

func (ds *detectors) loadPlate(rt *onnx.Runtime, o PlateOptions, so onnx.SessionOptions) error {
	var m detect.PlateModels
	var err error
	if m.Detector, err = ds.model(o.Model, models.Plate, detect.Plate, ""); err != nil {
		return err
	}
	if !o.NoVerify {
		if m.Verifier, err = ds.model(o.VerifyModel, models.PlateVerify, detect.Plate, "verifier"); err != nil {
			return err
		}
		// The quick first look is a part of the embedded verifier; a
		// verifier file is run on every candidate.
		if o.VerifyModel == "" {
			if m.QuickVerifier, err = ds.model("", models.PlateVerifyQuick, detect.Plate, "quick-verifier"); err != nil {
				return err
			}
		}
	}
	if !o.NoRead {
		if m.Reader, err = ds.model(o.ReadModel, models.TextRec, detect.Plate, "reader"); err != nil {
			return err
		}
		m.ReaderKeys = models.TextRecKeys()
	}
	if !o.NoCorners {
		if m.Corners, err = ds.model(o.CornerModel, models.PlateCorners, detect.Plate, "corners"); err != nil {
			return err
		}
	}
	cfg := detect.DefaultPlateConfig().WithThreshold(o.Threshold)
	cfg.Every, cfg.Stride = o.Every, o.Stride
	pd, err := detect.NewPlate(rt, m, cfg, so)
	if err != nil {
		return fmt.Errorf("%s: %w", modelSource(o.Model), err)
	}
	ds.plate = pd
	ds.all = append(ds.all, plateDetector{pd})
	ds.closers = append(ds.closers, pd)
	return nil
}

func (ds *detectors) loadOverlay(rt *onnx.Runtime, o OverlayOptions, so onnx.SessionOptions) error {
	cfg := detect.DefaultOverlayConfig()
	cfg.Mode, cfg.Every = o.Mode, o.Every
	var td *detect.TextDetector
	if cfg.Mode == detect.OverlayROI {
		regs, err := detect.LoadROI(o.ROI)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrOptions, err)
		}
		cfg.ROI = regs
	} else {
		data, err := ds.model(o.TextModel, models.TextDet, detect.Overlay, "")
		if err != nil {
			return err
		}
		if td, err = detect.NewText(rt, data, detect.DefaultTextConfig(), so); err != nil {
			return fmt.Errorf("%s: %w", modelSource(o.TextModel), err)
		}
		ds.closers = append(ds.closers, td)
	}
	od, err := detect.NewOverlay(td, cfg)
	if err != nil {
		return err
	}
	ds.all = append(ds.all, overlayDetector{od})
	return nil
}

// modelSource names a model in errors: its file, or the embedded one.
func modelSource(path string) string {
	if path == "" {
		return "embedded"
	}
	return path
}

// overlayDetector wraps the overlay detector for the pipeline: still
// images use it as it is, and each video gets a Stream of its own.
type overlayDetector struct{ *detect.OverlayDetector }

func (o overlayDetector) Stream() Detector { return o.OverlayDetector.Stream() }

// faceDetector is the face detector as a Streamer: images use it as it
// is, and each video gets a Stream of its own, from video (by default one
// with the cheaper proposer).
type faceDetector struct {
	*detect.FaceDetector
	video *detect.FaceDetector
}

func (f faceDetector) Stream() Detector { return f.video.Stream() }

// plateDetector is the plate detector as a Streamer: images use it as it
// is, and each video gets a Stream of its own.
type plateDetector struct{ *detect.PlateDetector }

func (p plateDetector) Stream() Detector { return p.PlateDetector.Stream() }
