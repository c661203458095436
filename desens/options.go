package desens

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/desens/trajectory"
)

// Options configure a Desensitizer. The zero value plus defaults (see
// withDefaults) redacts faces with a strong blur on the CPU.
type Options struct {
	// Targets are the classes to find and redact; default face.
	Targets []detect.Class
	// Style is how regions are hidden: blur (default), pixelate or solid.
	Style Style
	// Shape of the mask: ellipse (default for faces) or rect.
	Shape Shape
	// Threshold overrides the detectors' score threshold (0 keeps theirs).
	Threshold float64
	// Expand grows each box about its centre before redaction; default 1.3.
	Expand float64
	// Strict fails a file when detection fails on a frame, instead of
	// masking that frame whole.
	Strict bool
	// Device is "cpu" (default) or "cuda".
	Device string
	// Threads for model inference; 0 means all cores.
	Threads int
	// Workers is how many files are processed at once in a directory run.
	Workers int
	// Hold is how many frames a box outlives its last detection, and how far
	// back a new track is extended; it also bridges gaps up to this length.
	// Default 5; negative disables tracking.
	Hold int
	// BatchSize is how many frames go to the detector at once; default 4.
	BatchSize int
	// FaceModel loads a face detector file (RetinaFace's inputs and
	// outputs, see models/README.md) instead of the embedded one.
	FaceModel string
	// FaceVerifyModel loads a face verifier file (BlazeFace back-camera)
	// instead of the embedded one; "none" turns the second look off, so
	// the detector's probability alone decides.
	FaceVerifyModel string
	// PlateModel loads a plate model file instead of the embedded one.
	PlateModel string
	// PlateVerifyModel loads a plate verifier model file instead of the
	// embedded one, run on every candidate (the embedded verifier's quick
	// first look is not used with it); "none" turns the verifier off, so
	// the detector's score alone decides.
	PlateVerifyModel string
	// PlateReadModel loads a text recognition model (PP-OCR, with
	// PaddleOCR's Chinese character list) that reads plate boxes, instead
	// of the embedded one; "none" turns reading off.
	PlateReadModel string
	// FaceScale is how much the face detector enlarges each frame. 0 keeps
	// its default, runs at 3× and 2× (faces from about 14 px); a value runs
	// that one enlargement: 2 takes about a third of the time and finds
	// about 3% fewer faces on the evaluation set.
	FaceScale float64
	// PlateThreshold overrides the plate detector's score threshold (0
	// keeps its own; boxes under 60 px wide keep their default margin
	// below it; Threshold is the face detector's).
	PlateThreshold float64
	// Overlays is which burned-in text the overlay target hides: geo
	// (default: persistent text in the top and bottom bands), all-text
	// (every persistent text region) or roi (OverlayROI's rectangles).
	Overlays detect.OverlayMode
	// OverlayEvery runs the text detector on every N-th video frame and
	// reuses its boxes in between; default 5, at most Hold+1 (see
	// overlayDefaults).
	OverlayEvery int
	// OverlayROI is the JSON file of roi mode (see detect.ParseROI).
	OverlayROI string
	// TextModel loads a PP-OCR detection model file instead of the
	// embedded one.
	TextModel string
	// ORTLibrary is the path of libonnxruntime.so (see internal/onnx).
	ORTLibrary string
	// Overwrite allows replacing existing outputs.
	Overwrite bool
	// Encoder settings for video outputs.
	Preset string // libx264 preset, default veryfast
	CRF    int    // libx264 CRF, default 20
	// KeepCreationTime keeps the container creation_time tag (default on);
	// every other tag, location above all, is dropped.
	DropCreationTime bool
	// Progress, if set, is called as work advances. It must not block.
	Progress func(Progress)
	// Storage opens the buckets that Run's bucket URLs (s3://, cos://)
	// name; see storage.NewMux. Nil: Run takes local paths only.
	Storage *storage.Mux
	// NoDetect loads no model and finds nothing: every frame is written
	// unredacted. It is UNSAFE, for measuring storage and video I/O alone
	// (benchmarks, tests); the CLI never sets it.
	NoDetect bool
	// Trajectory is what happens to position logs (GPX, NMEA, KML, CSV or
	// JSON with lat/lon) found beside the media in a directory or prefix
	// run, or given as the input. The zero value drops them: nothing of
	// theirs reaches the output. See desens/trajectory for the others.
	Trajectory trajectory.Policy
}

// Progress reports how far a file has got.
type Progress struct {
	File   string
	Frame  int // frames written so far
	Frames int // expected total, 0 if unknown
	Done   bool
}

func (o Options) withDefaults() (Options, error) {
	if len(o.Targets) == 0 {
		o.Targets = []detect.Class{detect.Face}
	}
	for _, t := range o.Targets {
		switch t {
		case detect.Face, detect.Plate, detect.Overlay:
		default:
			return o, fmt.Errorf("%w: unknown target %q (want face, plate or overlay)", ErrOptions, t)
		}
	}
	if o.Style == "" {
		o.Style = StyleBlur
	}
	if o.Shape == "" {
		o.Shape = ShapeEllipse
	}
	if o.Expand == 0 {
		o.Expand = 1.3
	}
	if o.Expand < 1 {
		return o, fmt.Errorf("%w: expand %.2f: must be at least 1", ErrOptions, o.Expand)
	}
	if o.Device == "" {
		o.Device = "cpu"
	}
	o.Device = strings.ToLower(o.Device)
	if o.Workers <= 0 {
		o.Workers = max(1, runtime.NumCPU()/2)
	}
	if o.Hold == 0 {
		o.Hold = 5
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 4
	}
	if o.Threshold < 0 || o.Threshold >= 1 {
		return o, fmt.Errorf("%w: threshold %.2f: must be in [0,1)", ErrOptions, o.Threshold)
	}
	if err := o.Trajectory.Validate(); err != nil {
		return o, err
	}
	if o.FaceScale < 0 || o.FaceScale > 4 {
		return o, fmt.Errorf("%w: face scale %.2f: must be in (0,4] (0 keeps the default)", ErrOptions, o.FaceScale)
	}
	if o.PlateThreshold < 0 || o.PlateThreshold >= 1 {
		return o, fmt.Errorf("%w: plate threshold %.2f: must be in [0,1)", ErrOptions, o.PlateThreshold)
	}
	if slices.Contains(o.Targets, detect.Overlay) {
		if err := o.overlayDefaults(); err != nil { // after Hold's default
			return o, err
		}
	}
	return o, nil
}

// ParseTargets reads a comma-separated list such as "face,plate".
func ParseTargets(s string) ([]detect.Class, error) {
	var out []detect.Class
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(strings.ToLower(p))
		if p == "" {
			continue
		}
		switch detect.Class(p) {
		case detect.Face, detect.Plate, detect.Overlay:
			out = append(out, detect.Class(p))
		default:
			return nil, fmt.Errorf("unknown target %q (want face, plate or overlay)", p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no targets in %q", s)
	}
	return out, nil
}
