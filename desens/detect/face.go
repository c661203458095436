package detect

import (
	"context"
	"errors"
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// FaceConfig tunes the face detector. The zero value is not useful: start
// from DefaultFaceConfig.
type FaceConfig struct {
	// Threshold is the score a face must reach: the mean of the
	// proposer's score and BlazeFace's scores in the second look.
	Threshold float64
	// SmallFace and SmallThreshold: boxes lower than SmallFace pixels need
	// only SmallThreshold (over YuNet's boxes the bar then ramps up: see
	// YuNetConfig.SmallRamp). Distant faces score lower in every look,
	// and they are the ones a dashcam sees most.
	SmallFace      float64
	SmallThreshold float64
	// AcceptThreshold keeps a proposal this sure without a second look.
	AcceptThreshold float64
	// UnverifiedThreshold is the bar for the proposer's score alone when
	// no verifier model is loaded.
	UnverifiedThreshold float64
	// MaxVerify bounds the second looks per frame. Proposals come strongest
	// first; past the bound a proposal is kept when its probability alone
	// reaches the threshold, erring towards redaction.
	MaxVerify int
	// Proposer picks the model that proposes faces: RetinaFace (the
	// default, also "") or YuNet. Its candidates meet the same bars and
	// the same second look either way.
	Proposer Proposer
	// Proposals tunes RetinaFace; its Threshold is the probability a box
	// needs to be looked at again.
	Proposals RetinaFaceConfig
	// YuNet tunes YuNet when it is the proposer; its Threshold is the
	// score a box needs to be looked at again.
	YuNet YuNetConfig
	// Verify tunes BlazeFace's second look (VerifyContexts, BoxScale).
	Verify BlazeFaceConfig
	// Every spreads a video's enlarged search over this many frames (see
	// FaceStream); 1 searches every frame in full.
	Every int
	// Stride searches one video frame in Stride, leaving the frames
	// between to the caller's tracker (see FaceStream); 1 searches every
	// frame. It applies only where Every is over Stride.
	Stride int
	// VideoMinPixels is the proposer's ScanConfig.MinPixels in video: a
	// video frame that the finest scale leaves with fewer pixels gets a
	// finer run as well (0: none).
	VideoMinPixels int
}

// DefaultFaceConfig finds faces from about 14 px high to the whole frame.
// The thresholds and the second look's zooms are tuned on the synthetic
// evaluation sets (see models/README.md).
func DefaultFaceConfig() FaceConfig {
	return FaceConfig{
		Threshold:           0.6,
		SmallFace:           32,
		SmallThreshold:      0.45,
		AcceptThreshold:     0.95,
		UnverifiedThreshold: 0.8,
		MaxVerify:           64,
		Proposals: RetinaFaceConfig{
			Threshold: 0.05,
			ScanConfig: ScanConfig{
				// 3× makes a 16 px face 48 px, where the model is sure of
				// it; 2× gives faces of 16-32 px a second anchor grid and
				// sharper pixels, which lifts their probabilities without
				// adding non-faces; the frame shrunk to 640 finds the
				// faces that fill it.
				Scales:    []float64{3, 2},
				FitSide:   640,
				MaxPixels: 6000 * 3400, // a 1080p frame at 3×
				TileSide:  2048,
			},
		},
		YuNet: YuNetConfig{
			// Lower finds no more faces on the evaluation set and sends
			// many more non-faces to the second look.
			Threshold: 0.1,
			// YuNet boxes a face taller than RetinaFace does, so a face
			// RetinaFace boxes under SmallFace can come out over it.
			SmallRamp: 1.5,
			SureScore: 0.6,
			ScanConfig: ScanConfig{
				// 2× makes a 16 px face 32 px, where YuNet is sure of it,
				// and the frame shrunk to 640 finds the faces that fill
				// it; a run at 1× between them finds nothing more.
				Scales:    []float64{2},
				FitSide:   640,
				MaxPixels: 6000 * 3400,
				TileSide:  2048,
			},
		},
		Verify: DefaultBlazeFaceConfig(),
		Every:  6,
		Stride: 1,
		// A video frame smaller than 1080p is searched at 3× (at 720p)
		// as well as 2×: its far faces are too few pixels for 2× alone.
		// Photos keep their scales: there the finer run found no more
		// faces and added false ones.
		VideoMinPixels: 3840 * 2160, // a 1080p frame at 2×
	}
}

// Proposer names the model that proposes faces.
type Proposer string

const (
	// ProposerRetinaFace runs RetinaFace MobileNet-0.25 (the default).
	ProposerRetinaFace Proposer = "retinaface"
	// ProposerYuNet runs YuNet, a much smaller model.
	ProposerYuNet Proposer = "yunet"
)

// ParseProposer reads a proposer name; "" is RetinaFace.
func ParseProposer(s string) (Proposer, error) {
	switch p := Proposer(s); p {
	case "":
		return ProposerRetinaFace, nil
	case ProposerRetinaFace, ProposerYuNet:
		return p, nil
	}
	return "", fmt.Errorf("unknown face proposer %q (want retinaface or yunet)", s)
}

// WithThreshold returns c with Threshold t, SmallThreshold keeping its
// margin below it, the bar without a verifier at t, and the proposal
// threshold no higher than the lowest bar. A t of 0 or less returns c as
// it is.
func (c FaceConfig) WithThreshold(t float64) FaceConfig {
	if t <= 0 {
		return c
	}
	c.SmallThreshold = max(0, t-(c.Threshold-c.SmallThreshold))
	c.Threshold = t
	c.UnverifiedThreshold = t
	c.Proposals.Threshold = min(c.Proposals.Threshold, c.SmallThreshold)
	c.YuNet.Threshold = min(c.YuNet.Threshold, c.SmallThreshold)
	return c
}

// WithScale returns c running the proposer, either of them, at the one
// enlargement s, in place of its default scales. An s of 0 or less
// returns c as it is.
func (c FaceConfig) WithScale(s float64) FaceConfig {
	if s > 0 {
		c.Proposals.Scales = []float64{s}
		c.YuNet.Scales = []float64{s}
		c.VideoMinPixels = 0
	}
	return c
}

// Inferences reports how many proposer runs one w×h frame takes (for
// benchmarks and reports).
func (c FaceConfig) Inferences(w, h int) int {
	if c.Proposer == ProposerYuNet {
		return c.YuNet.Inferences(w, h)
	}
	return c.Proposals.Inferences(w, h)
}

// VideoInferences reports how many proposer runs a full search of one
// w×h video frame takes, the finer run of VideoMinPixels included; a
// video's stream spreads most of them over Every frames.
func (c FaceConfig) VideoInferences(w, h int) int {
	c.Proposals.MinPixels, c.YuNet.MinPixels = c.VideoMinPixels, c.VideoMinPixels
	return c.Inferences(w, h)
}

// Passes reports whether a face box h frame pixels high with score s is
// kept (the verified path's bars).
func (c FaceConfig) Passes(h, s float64) bool { return s >= c.threshold(h) }

// bar is the score candidate c must reach: its size's threshold or, in a
// video searched in part (stream), the small-face bar where YuNet is sure
// of it (YuNetConfig.SureScore). Stills keep their size's threshold.
func (c FaceConfig) bar(cand candidate, stream bool) float64 {
	if stream && c.Proposer == ProposerYuNet && c.YuNet.SureScore > 0 && cand.score >= c.YuNet.SureScore {
		return min(c.threshold(cand.box.h()), c.SmallThreshold)
	}
	return c.threshold(cand.box.h())
}

// threshold is the score a face box h frame pixels high must reach.
func (c FaceConfig) threshold(h float64) float64 {
	small := min(c.Threshold, c.SmallThreshold)
	ramp := 0.0
	if c.Proposer == ProposerYuNet {
		ramp = c.YuNet.SmallRamp
	}
	switch {
	case h < c.SmallFace:
		return small
	case ramp > 1 && h < c.SmallFace*ramp:
		return small + (c.Threshold-small)*(h-c.SmallFace)/(c.SmallFace*(ramp-1))
	}
	return c.Threshold
}

// FaceModels are the model files a FaceDetector runs.
type FaceModels struct {
	Detector []byte // the proposer's: RetinaFace MobileNet-0.25 or YuNet (FaceConfig.Proposer), dynamic input size
	Verifier []byte // BlazeFace back-camera; nil: no second look
}

// FaceDetector finds faces in two steps: RetinaFace (or YuNet) proposes
// boxes on the whole frame, enlarged so that distant faces reach a size it
// knows, and
// BlazeFace, a different model trained on different data, looks again at
// each uncertain proposal in crops at five zooms. Real faces score well in
// both models and at most zooms; the two models' mistakes (cartoon and
// animal faces, textures) seldom agree.
type FaceDetector struct {
	cfg      FaceConfig
	proposer proposer
	verifier *BlazeFace // nil: proposals are judged alone
	// parallel makes a frame's proposer runs at once, so that a batching
	// session (a Batch over 1) can share model runs between them.
	parallel bool
}

// proposer finds face boxes in a BGR frame: a whole frame is scanned
// (ScanConfig.scan) with its run at its scales and size band, and a video's
// stream makes its runs as it schedules them.
type proposer interface {
	// run infers on the region src of a frame scaled by s.
	run(ctx context.Context, img gocv.Mat, src image.Rectangle, s float64) ([]candidate, error)
	// scanning reports the proposer's scales and size band.
	scanning() (ScanConfig, sizeBand)
	Close() error
}

// NewFace loads the face models.
func NewFace(rt *onnx.Runtime, m FaceModels, cfg FaceConfig, so onnx.SessionOptions) (*FaceDetector, error) {
	var p proposer
	var err error
	switch pr, perr := ParseProposer(string(cfg.Proposer)); {
	case perr != nil:
		return nil, perr
	case pr == ProposerYuNet:
		p, err = NewYuNet(rt, m.Detector, cfg.YuNet, so)
	default:
		p, err = NewRetinaFace(rt, m.Detector, cfg.Proposals, so)
	}
	if err != nil {
		return nil, err
	}
	d := &FaceDetector{cfg: cfg, proposer: p, parallel: so.Batch > 1}
	if m.Verifier != nil {
		if d.verifier, err = NewBlazeFace(rt, m.Verifier, cfg.Verify, so); err != nil {
			p.Close()
			return nil, fmt.Errorf("face verifier: %w", err)
		}
	}
	return d, nil
}

// Close frees the models.
func (d *FaceDetector) Close() error {
	err := d.proposer.Close()
	if d.verifier != nil {
		err = errors.Join(err, d.verifier.Close())
	}
	return err
}

// Class reports what this detector finds.
func (d *FaceDetector) Class() Class { return Face }

// Threshold reports the score a face of ordinary size must reach.
func (d *FaceDetector) Threshold() float64 {
	if d.verifier == nil {
		return d.cfg.UnverifiedThreshold
	}
	return d.cfg.Threshold
}

// Passes reports whether det would be kept were the threshold t, with the
// detector's own rules for small faces.
func (d *FaceDetector) Passes(det Detection, t float64) bool {
	if d.verifier == nil {
		return float64(det.Score) >= t
	}
	return d.cfg.WithThreshold(t).Passes(float64(det.Box.Dy()), float64(det.Score))
}

// Detect finds faces in each frame (BGR).
func (d *FaceDetector) Detect(ctx context.Context, frames []gocv.Mat) []Result {
	return eachFrame(ctx, frames, d.DetectFrame)
}

// DetectFrame finds faces in one BGR frame.
func (d *FaceDetector) DetectFrame(ctx context.Context, img gocv.Mat) ([]Detection, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("face detector: want a non-empty 8-bit BGR frame, got %v", img.Type())
	}
	cfg, band := d.proposer.scanning()
	cands, err := cfg.scan(ctx, img, band, d.proposer.run, d.parallel)
	if err != nil {
		return nil, err
	}
	return d.judge(ctx, img, cands, nil)
}

// verdicts remembers the second looks of a video's recent frames, so a
// box that was looked at again a moment ago need not be.
type verdicts interface {
	// recall returns the score of the last look at a box like c (and
	// true), or false when there is none recent enough.
	recall(c candidate) (float64, bool)
	// note records the second look's score for c.
	note(c candidate, score float64)
}

// judge decides which merged candidates, strongest first, are faces:
// sure proposals pass as they are and uncertain ones get the second look,
// unless mem (which may be nil) recalls a recent one.
func (d *FaceDetector) judge(ctx context.Context, img gocv.Mat, cands []candidate, mem verdicts) ([]Detection, error) {
	var dets []Detection
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	verified := 0
	var kept []rectF
	for _, c := range cands {
		score, thresh := c.score, d.cfg.bar(c, mem != nil)
		switch {
		case c.score >= d.cfg.AcceptThreshold:
			// sure enough as it is
		case d.verifier == nil:
			thresh = d.cfg.UnverifiedThreshold
		default:
			if mem != nil {
				if s, ok := mem.recall(c); ok {
					score = s
					break
				}
			}
			if verified < d.cfg.MaxVerify {
				verified++
				var err error
				if score, err = d.verifier.verifyWhole(ctx, img, c, thresh); err != nil {
					return nil, err
				}
				if mem != nil {
					mem.note(c, score)
				}
			}
		}
		// Past MaxVerify the probability alone must reach the bar.
		if score < thresh || insideFace(c.box, kept) {
			continue
		}
		box := c.box.rect()
		if mem != nil {
			box = upright(box)
		}
		if box = box.Intersect(bounds); !box.Empty() {
			kept = append(kept, c.box)
			dets = append(dets, Detection{Box: box, Class: Face, Score: float32(score)})
		}
	}
	return dets, nil
}

// insideFace reports whether box lies mostly within the hidden area of a
// larger face already kept (its box grown by partOf): an ear or a cheek
// boxed on its own, which the larger face's redaction covers anyway.
func insideFace(box rectF, kept []rectF) bool {
	for _, k := range kept {
		if k.area() > box.area() && box.intersect(k.scale(partOf)) >= 0.5*box.area() {
			return true
		}
	}
	return false
}

// partOf is how far round a kept face a smaller box counts as part of it:
// less than the redactor's default expansion (1.3), so what is dropped is
// still hidden.
const partOf = 1.25
