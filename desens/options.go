package desens

import (
	"fmt"
	"image"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/desens/trajectory"
)

// Options configure a Desensitizer. The zero value hides faces with a
// strong blur on the CPU, with every model embedded in the binary. Each
// group's zero fields keep that group's defaults; New checks every field
// and reports a bad one as ErrOptions.
type Options struct {
	// Targets are what to find and hide: detect.Face (the default),
	// detect.Plate, detect.Overlay.
	Targets []detect.Class

	Face    FaceOptions    // faces (with detect.Face)
	Plate   PlateOptions   // licence plates (with detect.Plate)
	Overlay OverlayOptions // burned-in text (with detect.Overlay)
	Redact  RedactOptions  // how found regions are hidden
	Encode  EncodeOptions  // video outputs
	Runtime RuntimeOptions // where and how models run

	// Trajectory is what happens to position logs (GPX, NMEA, KML, CSV or
	// JSON with lat/lon) found beside the media in a directory or prefix
	// run, or given as the input. The zero value drops them. See
	// desens/trajectory for the others.
	Trajectory trajectory.Policy
	// Archive says what happens inside tar, tar.gz and zip archives, and
	// bounds what they may expand to (archive.go).
	Archive ArchiveOptions
	// Storage opens the buckets that Run's bucket URLs (s3://, cos://)
	// name; see storage.NewMux. Nil: Run takes local paths only.
	Storage *storage.Mux

	// Hold is how many frames a box outlives its last detection, and how
	// far back a new track is extended; it also bridges gaps up to this
	// length. 0 means 14; negative turns tracking off.
	Hold int
	// Strict fails a file when detection fails on a frame, instead of
	// masking that frame whole.
	Strict bool
	// Workers is how many files a directory or prefix run processes at
	// once; 0 means half the cores (at least 1).
	Workers int
	// Overwrite allows replacing outputs that exist. Without it, a run
	// skips an output already made from the same version of its source
	// (a rerun resumes; see resume.go), and fails a file whose output
	// exists otherwise.
	Overwrite bool
	// Batch tunes a directory or prefix run as a bulk job.
	Batch BatchOptions
	// Progress, if set, is called as work advances. It must not block.
	Progress func(Progress)
	// OnFrame, if set, is told what each frame of an output hides, after
	// tracking and Expand: an audit of the output, as desens eval scores
	// it. It is called once per frame, in order, from the goroutine that
	// hides the file's regions, which waits for it; calls for different
	// files may come at once (Workers).
	OnFrame func(FrameRegions)
}

// FaceOptions choose the face detector's models and bars. Zero values keep
// the tuned defaults (see models/README.md).
type FaceOptions struct {
	// Threshold is the score a face must reach, in (0,1); faces under
	// 32 px high keep their default margin below it.
	Threshold float64
	// Scale is how much the detector enlarges each frame to find distant
	// faces, in (0,4]. By default it runs at 3× and 2×; a value runs that
	// one enlargement (2 is the fast setting).
	Scale float64
	// Proposer picks the model that proposes faces: "retinaface", or
	// "yunet", a much cheaper model (see models/README.md for what each
	// finds). "" (the default) runs RetinaFace on images and YuNet on
	// videos, whose frames are searched in part and followed (Every);
	// with Model given, "" means RetinaFace for both. The second look is
	// the same for both, and so are the bars but for faces boxed 32-48 px
	// high and, in video, boxes YuNet is sure of (detect.YuNetConfig's
	// SmallRamp and SureScore); Scale applies to either.
	Proposer string
	// Model is an ONNX file of the proposer's kind (RetinaFace or YuNet,
	// dynamic input size) to run instead of the embedded one.
	Model string
	// VerifyModel is a BlazeFace back-camera ONNX file for the second look
	// at uncertain faces, instead of the embedded one.
	VerifyModel string
	// NoVerify turns the second look off: the detector's probability alone
	// decides.
	NoVerify bool
	// Every spreads a video's search for small faces over this many
	// frames: each frame searches the whole frame, shrunk, for faces of
	// 48 px and more at 1080p, one share of it enlarged for small ones,
	// round the faces of the last frames, and the strips along its left
	// and right edges. 0 means 6; 1 searches every frame in full. It is
	// capped at Hold+1, so the tracker's lead-in covers the frames before
	// a face is first found.
	Every int
	// Stride searches one video frame in Stride for faces at all (where
	// Every is over Stride): the tracker carries the boxes over the frames
	// between and, once the next search finds a face again, puts its box
	// there on the path between. 0 means 1, every frame; 2 is cheaper and
	// finds a little less (figures in models/README.md). It is
	// capped at Hold+1, so a box is carried over every frame between two
	// searches.
	Stride int
	// Lead is how many frames back a small face's track is extended once
	// a second detection confirms it and shows its motion: a face under
	// 1/20 of the frame's long side, which only the enlarged search
	// finds, may be turned down at its first look and found a round
	// later, up to 2×Every frames after it came into view. A face found
	// once, or a larger one, is led in over Hold frames; a small face
	// first found in the video's last frame keeps its lead-in box of
	// Hold frames back over the Lead frames before. 0 means 2×Every,
	// and at least 24; it is at least Hold. A video's frames wait the
	// larger of Hold and Lead frames in memory.
	Lead int
}

// PlateOptions choose the plate detector's models and bar. Zero values
// keep the tuned defaults (see models/README.md).
type PlateOptions struct {
	// Threshold is the score a plate must reach, in (0,1); boxes under
	// 60 px wide keep their default margin below it.
	Threshold float64
	// Model is a plate detector ONNX file of the embedded one's inputs and
	// outputs.
	Model string
	// VerifyModel is a plate verifier ONNX file, run on every candidate,
	// instead of the embedded one (whose quick first look belongs to it).
	VerifyModel string
	// NoVerify turns the verifier off: the detector's score alone decides.
	NoVerify bool
	// ReadModel is a PP-OCR text recognition ONNX file (PaddleOCR's
	// Chinese character list) that reads plate boxes, instead of the
	// embedded one.
	ReadModel string
	// NoRead turns reading off, so a sign whose text no plate carries is
	// no longer ruled out.
	NoRead bool
	// Every spreads a video's full-size search for small plates over this
	// many frames: each frame is searched whole at half size for the
	// larger plates and one share of it at full size. 0 means 6; 1 searches every frame in full. It
	// is capped at Hold+1 and at 6: a plate box is carried and led in
	// over 5 frames at most, whatever Hold is, so that scene text the
	// detector takes for a plate now and then is not spread over many
	// frames.
	Every int
	// Stride searches one video frame in Stride for plates at all (where
	// Every is over Stride): the tracker carries the boxes over the frames
	// between and, once the next search finds a plate again, puts its box
	// there on the path between. 0 means 2; 1 searches every frame
	// (figures for both in models/README.md). It is capped at Hold+1 and
	// at 6, as Every is.
	Stride int
	// CornerModel is a plate detector ONNX file with four corner points
	// (HyperLPR3's y5fu shape: input [1,3,S,S], output [1,N,15]), run
	// beside the own detector instead of the embedded one.
	CornerModel string
	// NoCorners turns the corner detector off: the own detector alone
	// proposes plates.
	NoCorners bool
}

// OverlayOptions choose which burned-in text is hidden and how often it
// is looked for.
type OverlayOptions struct {
	// Mode is detect.OverlayGeo (the default: text that stands still in
	// the top and bottom bands), detect.OverlayAllText or detect.OverlayROI
	// (ROI's rectangles; the default when ROI is set).
	Mode detect.OverlayMode
	// Every runs the text detector on every Every-th video frame and
	// reuses its boxes in between. 0 means 5; it is capped at Hold+1, so
	// the tracker's lead-in covers text that appears between two runs.
	Every int
	// ROI is the JSON file of fixed rectangles that roi mode hides (see
	// detect.ParseROI).
	ROI string
	// TextModel is a PP-OCR detection ONNX file to run instead of the
	// embedded one.
	TextModel string
}

// RedactOptions say how found regions are hidden.
type RedactOptions struct {
	Style Style // StyleBlur (default), StylePixelate or StyleSolid
	// Shape is the mask's outline for faces: ShapeEllipse (default) or
	// ShapeRect. Plates and text are always hidden as rectangles.
	Shape Shape
	// Expand grows each box about its centre before it is hidden; 0 means
	// 1.3, and less than 1 is an error.
	Expand float64
}

// EncodeOptions set how video outputs are encoded (H.264 in MP4).
type EncodeOptions struct {
	// Preset is the libx264 preset; "" means veryfast.
	Preset string
	// CRF is the libx264 constant rate factor, 0 to 51; 0 means 20.
	CRF int
	// DropCreationTime also drops the container's creation_time tag; every
	// other tag, location above all, is always dropped.
	DropCreationTime bool
}

// RuntimeOptions say where and how the models run.
type RuntimeOptions struct {
	// Device is "cpu" (default) or "cuda".
	Device string
	// Threads is the number of inference threads; 0 means all cores.
	Threads int
	// Library is the path of libonnxruntime.so; "" searches the usual
	// places (see the README's Install section).
	Library string
	// BatchSize is how many video frames go to the detectors at once; 0
	// means 4.
	BatchSize int
	// Batch is the most inputs (frames, tiles, crops) one model run takes,
	// gathered from every frame and file at work that needs the model;
	// 0 means 1 on the CPU, where a run of one costs no more per input
	// and needs no wait, and 8 with CUDA. 1 runs each input at once.
	Batch int
	// BatchWait is the longest an input waits for others to share its
	// run while the model is busy (one the idle model can take runs at
	// once); 0 means 2ms.
	BatchWait time.Duration
}

// Progress reports how far a file has got.
type Progress struct {
	File   string
	Frame  int // frames written so far
	Frames int // expected total, 0 if unknown
	Done   bool
}

// FrameRegions is what one frame of an output hides: Options.OnFrame's
// argument, which the callee may keep.
type FrameRegions struct {
	File   string // the input, as FileReport.Input names it
	Frame  int    // 0-based; 0 for an image
	Hidden []HiddenRegion
	// Masked: the frame was hidden whole, because detection failed on it;
	// Hidden is then empty.
	Masked bool
}

// HiddenRegion is one region hidden in a frame.
type HiddenRegion struct {
	Class detect.Class
	// Box is the rectangle the mask is drawn in: the detection or tracked
	// box (a plate's with its frame and screws) grown by Expand, and for
	// an ellipse by the slack that keeps the box's corners inside it. It
	// may reach past the frame, which clips it.
	Box   image.Rectangle
	Shape Shape // ShapeRect covers Box, ShapeEllipse the ellipse inscribed in it, ShapeQuad Quad
	// Quad, with ShapeQuad, is the outline hidden: a plate's four corners
	// grown over its frame and screws and by Expand, inside Box.
	Quad []image.Point
}

// withDefaults checks o and fills in every default.
func (o Options) withDefaults() (Options, error) {
	if len(o.Targets) == 0 {
		o.Targets = []detect.Class{detect.Face}
	}
	for _, t := range o.Targets {
		if !isTarget(t) {
			return o, optionErr("unknown target %q (want face, plate or overlay)", t)
		}
	}
	if o.Hold == 0 {
		o.Hold = 14
	}
	if o.Workers < 0 {
		return o, optionErr("workers %d: want 0 (half the cores) or more", o.Workers)
	}
	if o.Workers == 0 {
		o.Workers = max(1, runtime.NumCPU()/2)
	}
	if err := o.Batch.validate(); err != nil {
		return o, err
	}
	if err := o.Trajectory.Validate(); err != nil {
		return o, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	var err error
	if o.Archive, err = o.Archive.withDefaults(); err != nil {
		return o, err
	}
	if o.Face, err = o.Face.withDefaults(o.Hold); err != nil {
		return o, err
	}
	if o.Plate, err = o.Plate.withDefaults(o.Hold); err != nil {
		return o, err
	}
	if slices.Contains(o.Targets, detect.Overlay) {
		if o.Overlay, err = o.Overlay.withDefaults(o.Hold); err != nil {
			return o, err
		}
	}
	if o.Redact, err = o.Redact.withDefaults(); err != nil {
		return o, err
	}
	if o.Encode, err = o.Encode.withDefaults(); err != nil {
		return o, err
	}
	if o.Runtime, err = o.Runtime.withDefaults(); err != nil {
		return o, err
	}
	return o, nil
}

// withDefaults checks the face options and fills in Every; hold is
// Options.Hold, already defaulted.
func (f FaceOptions) withDefaults(hold int) (FaceOptions, error) {
	if err := f.validate(); err != nil {
		return f, err
	}
	if f.Every == 0 {
		f.Every = detect.DefaultFaceConfig().Every
	}
	if f.Stride == 0 {
		f.Stride = detect.DefaultFaceConfig().Stride
	}
	// A face that appears between two searches of its part of the frame
	// is covered only by the tracker's lead-in, which reaches Hold frames
	// back; a frame not searched at all only by the boxes the tracker
	// carries, Hold frames at most.
	f.Every = min(f.Every, max(0, hold)+1)
	f.Stride = min(f.Stride, max(0, hold)+1)
	if f.Lead == 0 {
		f.Lead = max(2*f.Every, defaultLead)
	}
	f.Lead = max(f.Lead, hold)
	return f, nil
}

// defaultLead is the shortest default Lead, in frames: a far face the
// second look doubts may be found only several searches after it came
// into view, however often its part of the frame is searched.
const defaultLead = 24

func (f FaceOptions) validate() error {
	switch {
	case f.Every < 0:
		return optionErr("face every %d: want 1 or more (0 for the default)", f.Every)
	case f.Stride < 0:
		return optionErr("face stride %d: want 1 or more (0 for the default)", f.Stride)
	case f.Lead < 0:
		return optionErr("face lead %d: want 1 or more (0 for the default)", f.Lead)
	case f.Threshold < 0 || f.Threshold >= 1:
		return optionErr("face threshold %.2f: must be in (0,1) (0 keeps the default)", f.Threshold)
	case f.Scale < 0 || f.Scale > 4:
		return optionErr("face scale %.2f: must be in (0,4] (0 keeps the default)", f.Scale)
	case f.NoVerify && f.VerifyModel != "":
		return optionErr("face verifier %s: given, and turned off", f.VerifyModel)
	}
	if _, err := detect.ParseProposer(f.Proposer); err != nil {
		return fmt.Errorf("%w: %w", ErrOptions, err)
	}
	return nil
}

// withDefaults checks the plate options and fills in Every; hold is
// Options.Hold, already defaulted.
func (p PlateOptions) withDefaults(hold int) (PlateOptions, error) {
	if err := p.validate(); err != nil {
		return p, err
	}
	if p.Every == 0 {
		p.Every = detect.DefaultPlateConfig().Every
	}
	if p.Stride == 0 {
		p.Stride = detect.DefaultPlateConfig().Stride
	}
	// Plate boxes are led in and carried over plateReach frames at most
	// (track.go).
	p.Every = min(p.Every, min(max(0, hold), plateReach)+1)
	p.Stride = min(p.Stride, min(max(0, hold), plateReach)+1)
	return p, nil
}

func (p PlateOptions) validate() error {
	switch {
	case p.Threshold < 0 || p.Threshold >= 1:
		return optionErr("plate threshold %.2f: must be in (0,1) (0 keeps the default)", p.Threshold)
	case p.NoVerify && p.VerifyModel != "":
		return optionErr("plate verifier %s: given, and turned off", p.VerifyModel)
	case p.NoRead && p.ReadModel != "":
		return optionErr("plate reader %s: given, and turned off", p.ReadModel)
	case p.Every < 0:
		return optionErr("plate every %d: want 1 or more (0 for the default)", p.Every)
	case p.Stride < 0:
		return optionErr("plate stride %d: want 1 or more (0 for the default)", p.Stride)
	case p.NoCorners && p.CornerModel != "":
		return optionErr("plate corner model %s: given, and turned off", p.CornerModel)
	}
	return nil
}

// withDefaults checks the overlay options and fills in their defaults;
// hold is Options.Hold, already defaulted.
func (o OverlayOptions) withDefaults(hold int) (OverlayOptions, error) {
	if o.Mode == "" {
		o.Mode = detect.OverlayGeo
		if o.ROI != "" {
			o.Mode = detect.OverlayROI
		}
	}
	if _, err := detect.ParseOverlayMode(string(o.Mode)); err != nil {
		return o, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	if (o.Mode == detect.OverlayROI) != (o.ROI != "") {
		return o, optionErr("overlay mode %s: an ROI file goes with roi mode, and only with it", o.Mode)
	}
	if o.Every < 0 {
		return o, optionErr("overlay every %d: want 1 or more (0 for the default)", o.Every)
	}
	if o.Every == 0 {
		o.Every = detect.DefaultOverlayConfig().Every
	}
	// Text that appears between two detector runs is covered only by the
	// tracker's lead-in, which reaches Hold frames back: a longer interval
	// would leave frames of a new overlay unhidden.
	o.Every = min(o.Every, max(0, hold)+1)
	return o, nil
}

func (r RedactOptions) withDefaults() (RedactOptions, error) {
	if r.Style == "" {
		r.Style = StyleBlur
	}
	if r.Shape == "" {
		r.Shape = ShapeEllipse
	}
	if r.Expand == 0 {
		r.Expand = 1.3
	}
	if _, err := ParseStyle(string(r.Style)); err != nil {
		return r, err
	}
	if _, err := ParseShape(string(r.Shape)); err != nil {
		return r, err
	}
	if r.Expand < 1 {
		return r, optionErr("expand %v: want 1 or more", r.Expand)
	}
	return r, nil
}

// x264Presets are the presets libx264 knows.
var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}

func (e EncodeOptions) withDefaults() (EncodeOptions, error) {
	if e.Preset == "" {
		e.Preset = "veryfast"
	}
	if !slices.Contains(x264Presets, e.Preset) {
		return e, optionErr("preset %q: want one of %s", e.Preset, strings.Join(x264Presets, ", "))
	}
	if e.CRF < 0 || e.CRF > 51 {
		return e, optionErr("crf %d: want 0 to 51", e.CRF)
	}
	if e.CRF == 0 {
		e.CRF = 20
	}
	return e, nil
}

func (r RuntimeOptions) withDefaults() (RuntimeOptions, error) {
	r.Device = strings.ToLower(r.Device)
	if r.Device == "" {
		r.Device = "cpu"
	}
	if r.Device != "cpu" && r.Device != "cuda" {
		return r, optionErr("device %q: want cpu or cuda", r.Device)
	}
	if r.Threads < 0 {
		return r, optionErr("threads %d: want 0 (all cores) or more", r.Threads)
	}
	if r.BatchSize < 0 {
		return r, optionErr("batch size %d: want 0 (the default) or more", r.BatchSize)
	}
	if r.BatchSize == 0 {
		r.BatchSize = 4
	}
	if r.Batch < 0 {
		return r, optionErr("batch %d: want 0 (the device's default) or more", r.Batch)
	}
	if r.Batch == 0 {
		r.Batch = 1
		if r.Device == "cuda" {
			r.Batch = 8
		}
	}
	if r.BatchWait < 0 {
		return r, optionErr("batch wait %v: want 0 (the default) or more", r.BatchWait)
	}
	if r.BatchWait == 0 {
		r.BatchWait = 2 * time.Millisecond
	}
	return r, nil
}

func isTarget(c detect.Class) bool {
	return c == detect.Face || c == detect.Plate || c == detect.Overlay
}

// optionErr is an ErrOptions error with a message saying which value is
// wrong and what is wanted.
func optionErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrOptions, fmt.Sprintf(format, a...))
}

// ParseTargets reads a comma-separated list such as "face,plate".
func ParseTargets(s string) ([]detect.Class, error) {
	var out []detect.Class
	for _, p := range strings.Split(s, ",") {
		c := detect.Class(strings.TrimSpace(strings.ToLower(p)))
		if c == "" {
			continue
		}
		if !isTarget(c) {
			return nil, optionErr("unknown target %q (want face, plate or overlay)", c)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, optionErr("no targets in %q", s)
	}
	return out, nil
}
