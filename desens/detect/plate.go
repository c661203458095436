package detect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"unicode"

	"gocv.io/x/gocv"
	"golang.org/x/sync/errgroup"

	"github.com/desens/desens/internal/onnx"
)

// plateStride is the output grid step of the plate model: one heat-map cell
// per 4×4 input pixels.
const plateStride = 4

// plateAlign is what the plate model's input height and width must be
// multiples of (five stride-2 stages).
const plateAlign = 32

// PlateConfig tunes the plate detector. Start from DefaultPlateConfig.
type PlateConfig struct {
	// Threshold is the score a plate must reach when a verifier runs:
	// the geometric mean of the detector's heat-map peak and the
	// verifier's probability.
	Threshold float64
	// SmallWidth and SmallThreshold: with the verifier, boxes narrower
	// than SmallWidth frame pixels need only SmallThreshold (0: Threshold).
	// Small plates score lower (their crops are enlarged, their text a
	// blur), while most false boxes are larger signs.
	SmallWidth, SmallThreshold float64
	// UnverifiedThreshold is the bar for the detector's peak alone, when
	// no verifier model is loaded; it is tuned apart from Threshold.
	UnverifiedThreshold float64
	// CandidateThreshold is the heat-map peak a candidate must reach to be
	// shown to the verifier (unused without one; the lower of Threshold²
	// and SmallThreshold² when that is higher). Lower finds more plates at
	// more verifier runs.
	CandidateThreshold float64
	// QuickGate: with a quick verifier, candidates whose combined score
	// with the quick verifier's probability is under QuickGate are not
	// shown to the verifier (0: no quick look). At most the lowest
	// threshold.
	QuickGate float64
	// Scales are the sizes (model pixels per frame pixel) each frame is
	// run at, whole: the model was trained on plates MinWidth to MaxWidth
	// pixels wide, so 1 and 1/2 cover 12-380 px, and 1/4 the rest.
	Scales []float64
	// CloseUpScale, when over 0, adds one more size a still is run at,
	// for plates wider than MaxWidth at the coarsest of Scales (a
	// close-up's): it reports only boxes over half MaxWidth, the rest
	// being the other sizes' to find.
	CloseUpScale float64
	// MinWidth and MaxWidth (model pixels) are the plate widths the model
	// was trained on. A box outside them is dropped unless no other scale
	// sees that size (the finest scale keeps small boxes, the coarsest
	// large ones), so each plate is reported by the scales that see it well.
	MinWidth, MaxWidth float64
	// NMSIoU merges boxes of one plate found at several cells and scales.
	NMSIoU float64
	// Every spreads a video's full-size search over this many frames (see
	// PlateStream); 1 searches every frame in full.
	Every int
	// Stride searches one video frame in Stride, leaving the frames
	// between to the caller's tracker (see PlateStream); 1 searches every
	// frame. It applies only where Every is over Stride.
	Stride int
	// StreamCoarse is the size, relative to the frame, at which a video's
	// frames are searched whole on every frame.
	StreamCoarse float64

	// Own runs the project's own heat-map detector; Corners runs the
	// corner detector beside it when its model is loaded (PlateModels.
	// Corners). Their candidates are judged by the same verifier and
	// merged into one set of plates.
	Own, Corners bool
	// CornerCandidate is the corner detector's score (objectness × class)
	// a box must reach to be a candidate at all.
	CornerCandidate float64
	// CornerCloseUp, when over 0, gives the corner detector a second view
	// of a still frame in the same run, the frame's longer side spanning
	// that share of the model's square: a plate filling much of a photo is
	// larger than any the model was trained on, and in that view it is
	// not. The view adds only large boxes (LargeArea), smaller ones being
	// the full view's, and each must be read as a plate, as every large
	// box of a still must: boards the view shrinks to a plate's size come
	// out of it as sure as plates. Video frames get the one view: a
	// dashcam seldom sees a plate that close.
	CornerCloseUp float64
	// CornerTurn, when over 0, gives the corner detector two more views
	// of a still in the same run, the frame turned by CornerTurn degrees
	// each way: it finds plates turned up to about 20° and no further,
	// and a photo may be taken at any slant. A turned view adds only
	// plates whose corners it finds turned by half CornerTurn or more
	// (the verifier sees them cut along their corners).
	CornerTurn float64
	// A corner candidate is scored as the own detector's are: the
	// geometric mean of its score and the verifier's probability must
	// reach the threshold. CornerSure and CornerSureVerify: one scoring at
	// least CornerSure is also a plate when the verifier gives it at least
	// CornerSureVerify (the verifier, trained on synthetic plates, may
	// doubt a real one the corner detector is sure of; most signs the
	// corner detector is sure of, the verifier rules out). Without a
	// verifier CornerSure is the corner detector's bar. Every box stays
	// subject to the geometry checks.
	CornerSure, CornerSureVerify float64

	// MinAspect and MaxAspect bound a plate's width over its height: the
	// corners' sides when the corners are known, the box's otherwise.
	MinAspect, MaxAspect float64
	// MinAspectInside is MinAspect in video for a box without corners
	// clear of the frame's edges: a plate cut by an edge can be any
	// shape, but a whole plate boxed taller than wide is turned past 60°
	// even when it is a two-row or a motorcycle plate, the squarest there
	// are, while signs and scraps of text are boxed so often, and a video
	// carries each false box over the frames round it. Stills keep
	// MinAspect: a photo's plate has no other frame to be found in.
	MinAspectInside float64
	// MaxSide is the largest part of the frame's width, or of its height,
	// a plate may span on the detectors' word alone: its corners' sides
	// when the corners are known (a plate turned in a close-up spans more
	// in its box than it is), its box's otherwise. In a still a wider box
	// is judged as a large one (LargeArea): a photo of a plate can be all
	// plate. A dashcam's frame is not, and in video a box spanning more
	// than MaxSide is dropped.
	MaxSide float64
	// LargeArea is the part of the frame's area above which a box needs a
	// second, stricter look: LargeAspect bounds its aspect, and it must be
	// the corner detector's, with its four corners and a score of at least
	// CornerSure (the corner detector, trained on real photos, sees
	// close-ups whole), or else the verifier must give it at least
	// LargeVerify and the reader must read two digits in it (the own
	// detector and the verifier were trained on plates far smaller than a
	// tenth of a frame, and both take signs and car rears that large for
	// plates). A close-up plate can fill a tenth of a frame; a false box
	// that large hides what the frame is for. In a still, with a reader,
	// the corner detector's sure box must be read as a plate too (not
	// needing LargeVerify): it is read straightened by its corners when
	// its box does not read so.
	LargeArea   float64
	LargeAspect [2]float64
	LargeVerify float64
	// ReadSurePeak and ReadSureVerify: a box (not a large one) whose
	// detector score is at least ReadSurePeak and whose verifier
	// probability is at least ReadSureVerify is not ruled out by a short
	// reading, under plateReadLong characters (0: every box read may be
	// ruled out). The reader reads one line: a double-row plate comes out
	// as a few letters alone, which is what it takes for a word on a sign;
	// a sign's words, NO PARKING, run longer.
	ReadSurePeak, ReadSureVerify float64
}

// threshold is the score a box w frame pixels wide must reach.
func (c PlateConfig) threshold(w float64) float64 {
	if c.SmallThreshold > 0 && w < c.SmallWidth {
		return c.SmallThreshold
	}
	return c.Threshold
}

// WithThreshold returns c with Threshold t, SmallThreshold keeping its
// margin below it, the bar without a verifier at t, and QuickGate no
// higher than either. A t of 0 or less returns c as it is.
func (c PlateConfig) WithThreshold(t float64) PlateConfig {
	if t <= 0 {
		return c
	}
	c.UnverifiedThreshold = t
	if c.SmallThreshold > 0 {
		c.SmallThreshold = max(0, t-(c.Threshold-c.SmallThreshold))
	}
	c.Threshold = t
	c.QuickGate = min(c.QuickGate, c.minThreshold())
	return c
}

// Passes reports whether a box w frame pixels wide with score s is a plate.
func (c PlateConfig) Passes(w, s float64) bool { return s >= c.threshold(w) }

// minThreshold is the lowest score any box must reach.
func (c PlateConfig) minThreshold() float64 {
	if c.SmallThreshold > 0 {
		return min(c.Threshold, c.SmallThreshold)
	}
	return c.Threshold
}

// DefaultPlateConfig finds plates from about 14 px wide to the whole frame.
func DefaultPlateConfig() PlateConfig {
	return PlateConfig{
		Threshold:           0.46,
		SmallWidth:          60,
		SmallThreshold:      0.36,
		UnverifiedThreshold: 0.35,
		CandidateThreshold:  0.15,
		QuickGate:           0.10,
		Scales:              []float64{1, 0.5, 0.25},
		CloseUpScale:        0.125,
		MinWidth:            16,
		MaxWidth:            200,
		NMSIoU:              0.3,
		Every:               6,
		Stride:              2,
		StreamCoarse:        0.5,
		Own:                 true,
		Corners:             true,
		CornerCandidate:     0.25,
		CornerCloseUp:       0.5,
		CornerTurn:          30,
		CornerSure:          0.7,
		CornerSureVerify:    0.2,
		MinAspect:           0.5,
		MinAspectInside:     1,
		MaxAspect:           8,
		MaxSide:             0.7,
		LargeArea:           0.05,
		LargeAspect:         [2]float64{1.4, 6},
		LargeVerify:         0.5,
		ReadSurePeak:        0.5,
		ReadSureVerify:      0.99,
	}
}

// PlateDetector runs the project's own plate model (models/train/plates: a
// small fully convolutional CenterNet) on whole frames at a few scales, and
// decodes its heat map of plate centres and per-cell boxes. With a
// verifier model, each candidate is then scored again on a crop around it.
// Boxes are the plate itself; PlateCover grows them over the frame and
// screws for redaction. It is safe for concurrent use.
type PlateDetector struct {
	cfg    PlateConfig
	sess   *onnx.BatchedSession
	verify *plateVerifier  // nil: the detector's score is final
	quick  *plateVerifier  // nil: every candidate goes to verify
	read   *plateReader    // nil: boxes are not read
	corner *cornerDetector // nil: the own detector alone
	// parallel runs a frame's scales and the corner detector at once, so
	// that batching sessions (a Batch over 1) share model runs between
	// frames and files and a GPU overlaps them.
	parallel bool
}

// PlateModels are the plate detector's models (ONNX bytes). Verifier and
// Reader are optional.
type PlateModels struct {
	// Detector: input "image" [1,3,H,W], outputs "heat" [1,1,H/4,W/4] and
	// "box" [1,4,H/4,W/4].
	Detector []byte
	// Verifier: input "crops" [N,3,48,128], output "plate" [N,1].
	Verifier []byte
	// QuickVerifier, optional with a Verifier: a cheaper verifier of the
	// same shape that looks first; candidates it scores under
	// PlateConfig.QuickGate never reach Verifier.
	QuickVerifier []byte
	// Reader: a PP-OCR recogniser, input "x" [N,3,48,W], output
	// "softmax_11.tmp_0" [N,W/8,len(ReaderKeys)+1]; ReaderKeys are the
	// characters of its classes 1 to N.
	Reader     []byte
	ReaderKeys []string
	// Corners, optional: a YOLOv5-style plate detector with four corner
	// points (HyperLPR3's), input "input" [1,3,S,S], output "output"
	// [1,N,15].
	Corners []byte
}

// NewPlate loads the plate models; see models/README.md.
func NewPlate(rt *onnx.Runtime, m PlateModels, cfg PlateConfig, so onnx.SessionOptions) (*PlateDetector, error) {
	if m.Verifier == nil {
		cfg.Threshold, cfg.SmallThreshold = cfg.UnverifiedThreshold, 0
	}
	if m.QuickVerifier == nil {
		cfg.QuickGate = 0
	}
	if len(cfg.Scales) == 0 || cfg.Threshold <= 0 || cfg.Threshold >= 1 || cfg.SmallThreshold < 0 || cfg.SmallThreshold >= 1 ||
		(m.Verifier != nil && (cfg.CandidateThreshold <= 0 || cfg.CandidateThreshold >= 1)) ||
		cfg.QuickGate < 0 || cfg.QuickGate > cfg.minThreshold() {
		return nil, fmt.Errorf("plate detector: bad config (scales %v, threshold %.2f, candidate threshold %.2f, quick gate %.2f)",
			cfg.Scales, cfg.Threshold, cfg.CandidateThreshold, cfg.QuickGate)
	}
	if m.QuickVerifier != nil && m.Verifier == nil {
		return nil, errors.New("plate detector: a quick verifier needs a verifier")
	}
	if m.Corners == nil {
		cfg.Corners = false
	}
	if !cfg.Own && !cfg.Corners {
		return nil, errors.New("plate detector: neither detector is on")
	}
	if cfg.Corners && (cfg.CornerCandidate <= 0 || cfg.CornerCandidate >= 1 || cfg.CornerSure < cfg.CornerCandidate || cfg.CornerSureVerify < 0) {
		return nil, fmt.Errorf("plate detector: bad corner config (candidate %.2f, sure %.2f)", cfg.CornerCandidate, cfg.CornerSure)
	}
	d := &PlateDetector{cfg: cfg, parallel: so.Batch > 1}
	if cfg.Own {
		sess, err := rt.NewBatchedSession("plate detector", m.Detector, []string{"image"}, []string{"heat", "box"}, so)
		if err != nil {
			return nil, fmt.Errorf("plate model: %w", err)
		}
		d.sess = sess
	}
	var err error
	if cfg.Corners {
		if d.corner, err = newCornerDetector(rt, m.Corners, so); err != nil {
			d.Close()
			return nil, err
		}
	}
	if m.Verifier != nil {
		if d.verify, err = newPlateVerifier(rt, "plate verifier", m.Verifier, so); err != nil {
			d.Close()
			return nil, err
		}
	}
	if m.QuickVerifier != nil && cfg.QuickGate > 0 {
		if d.quick, err = newPlateVerifier(rt, "plate quick verifier", m.QuickVerifier, so); err != nil {
			d.Close()
			return nil, fmt.Errorf("quick %w", err)
		}
	}
	if m.Reader != nil {
		if d.read, err = newPlateReader(rt, m.Reader, m.ReaderKeys, so); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close frees the models.
func (d *PlateDetector) Close() error {
	var err error
	if d.sess != nil {
		err = d.sess.Close()
	}
	if d.corner != nil {
		err = errors.Join(err, d.corner.Close())
	}
	if d.verify != nil {
		err = errors.Join(err, d.verify.Close())
	}
	if d.quick != nil {
		err = errors.Join(err, d.quick.Close())
	}
	if d.read != nil {
		err = errors.Join(err, d.read.Close())
	}
	return err
}

// Class reports what this detector finds.
func (d *PlateDetector) Class() Class { return Plate }

// Threshold reports the score a plate of ordinary width must reach.
func (d *PlateDetector) Threshold() float64 { return d.cfg.Threshold }

// Passes reports whether det would be kept were the threshold t, with the
// detector's own rules for small boxes.
func (d *PlateDetector) Passes(det Detection, t float64) bool {
	return d.cfg.WithThreshold(t).Passes(float64(det.Box.Dx()), float64(det.Score))
}

// Detect finds plates in each frame (BGR).
func (d *PlateDetector) Detect(ctx context.Context, frames []gocv.Mat) []Result {
	return eachFrame(ctx, frames, d.DetectFrame)
}

// DetectFrame finds plates in one BGR frame.
func (d *PlateDetector) DetectFrame(ctx context.Context, img gocv.Mat) ([]Detection, error) {
	return d.detectFrame(ctx, img, frameSearch{corners: true, still: true})
}

// frameSearch says how detectFrame searches a frame.
type frameSearch struct {
	corners bool    // with the corner detector too, when it is loaded
	inside  float64 // see PlateConfig.MinAspectInside; 0: MinAspect alone
	// still: a photo, whose plate may fill it: the corner detector's
	// close-up view (PlateConfig.CornerCloseUp), the own model's close-up
	// size (CloseUpScale), and boxes wider than MaxSide and every large
	// box kept only when read as plates, straightened by their corners
	// when need be.
	still bool
}

// detectFrame finds plates in one BGR frame, as sch says.
func (d *PlateDetector) detectFrame(ctx context.Context, img gocv.Mat, sch frameSearch) ([]Detection, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("plate detector: want a non-empty 8-bit BGR frame, got %v", img.Type())
	}
	var cands, corners []candidate
	own := func(ctx context.Context) (err error) {
		cands, err = d.own(ctx, img, sch.still)
		return err
	}
	corner := func(ctx context.Context) (err error) {
		if d.corner != nil && sch.corners {
			corners, err = d.corners(ctx, img, sch.still)
		}
		return err
	}
	if err := d.each(ctx, own, corner); err != nil {
		return nil, err
	}
	var err error
	if d.verify != nil {
		// Verify before merging: NMS merges by containment too, so a sign's
		// box would swallow a small plate inside it, and then be rejected.
		if cands, err = d.verified(ctx, img, cands); err != nil {
			return nil, err
		}
		if corners, err = d.verifiedCorners(ctx, img, corners); err != nil {
			return nil, err
		}
		cands = append(cands, corners...)
		cands = slices.DeleteFunc(cands, func(c candidate) bool { return c.score < d.cfg.threshold(c.box.w()) })
	} else {
		cands = append(cands, slices.DeleteFunc(corners, func(c candidate) bool { return c.score < d.cfg.CornerSure })...)
	}
	cands = d.plateShaped(cands, img.Cols(), img.Rows(), sch)
	if d.read != nil {
		// Before merging: such a box merged first would swallow the
		// plates inside it, and then be ruled out by its reading.
		if cands, err = d.readFirst(ctx, img, cands); err != nil {
			return nil, err
		}
	}
	cands = mergeBoxes(cands, d.cfg.NMSIoU)
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	dets := make([]Detection, 0, len(cands))
	var large, sure []bool
	for _, c := range cands {
		box := c.box.rect().Intersect(bounds)
		if box.Empty() {
			continue
		}
		det := Detection{Box: box, Class: Plate, Score: float32(c.score)}
		if c.quad != nil {
			det.Quad = c.quad.points()
		}
		dets = append(dets, det)
		large = append(large, c.large)
		sure = append(sure, d.readSure(c))
	}
	if d.read != nil {
		return d.readOut(ctx, img, dets, large, sure, sch.still)
	}
	return dets, nil
}

// own returns the own detector's candidates: every scale's heat-map
// peaks, scored by the peak (nil when the own detector is off).
func (d *PlateDetector) own(ctx context.Context, img gocv.Mat, still bool) ([]candidate, error) {
	if d.sess == nil {
		return nil, nil
	}
	thresh := d.cfg.Threshold
	if d.verify != nil {
		// A peak under t² cannot reach t as √(peak × verifier) whatever
		// the verifier says (at the defaults t² is under the candidate
		// threshold; a higher --plate-threshold raises it).
		t := d.cfg.minThreshold()
		thresh = max(d.cfg.CandidateThreshold, t*t)
	}
	scales := d.scales(img.Cols(), img.Rows())
	closeUp := -1
	if c := d.cfg.CloseUpScale; still && c > 0 && c < scales[len(scales)-1] && float64(min(img.Cols(), img.Rows()))*c >= plateAlign {
		closeUp = len(scales)
		scales = append(scales, c)
	}
	found := make([][]candidate, len(scales))
	runs := make([]func(context.Context) error, len(scales))
	for i, s := range scales {
		lo, hi := d.cfg.MinWidth, d.cfg.MaxWidth
		if i == 0 {
			lo = 0 // the finest scale keeps the smallest plates it sees
		}
		if i == closeUp {
			lo = d.cfg.MaxWidth / 2
		}
		if i == len(scales)-1 {
			hi = math.Inf(1) // the coarsest keeps the largest
		}
		runs[i] = func(ctx context.Context) (err error) {
			found[i], err = d.runScale(ctx, img, s, lo, hi, thresh)
			return err
		}
	}
	if err := d.each(ctx, runs...); err != nil {
		return nil, err
	}
	cands := slices.Concat(found...)
	for i := range cands {
		cands[i].peak = cands[i].score
	}
	return cands, nil
}

// each calls the functions one after another, or with parallel all at
// once; it returns the first error.
func (d *PlateDetector) each(ctx context.Context, fns ...func(context.Context) error) error {
	if !d.parallel {
		for _, f := range fns {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := f(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, f := range fns {
		g.Go(func() error { return f(gctx) })
	}
	return g.Wait()
}

// corners returns the corner detector's candidates, from its close-up
// and turned views too when the frame is a still (see
// PlateConfig.CornerCloseUp and CornerTurn). A box
// whose corners describe it (trustedQuad) becomes the corners' bounds,
// the corners kept in order round the plate; otherwise the box grows to
// hold the corners too and the corners are dropped, so the rectangle
// hides them all.
func (d *PlateDetector) corners(ctx context.Context, img gocv.Mat, still bool) ([]candidate, error) {
	views := []cornerView{{fill: 1}}
	if still && d.cfg.CornerCloseUp > 0 {
		views = append(views, cornerView{fill: d.cfg.CornerCloseUp})
	}
	if still && d.cfg.CornerTurn > 0 {
		views = append(views, cornerView{fill: 1, turn: d.cfg.CornerTurn}, cornerView{fill: 1, turn: -d.cfg.CornerTurn})
	}
	found, err := d.corner.detect(ctx, img, d.cfg.CornerCandidate, cornerNMSIoU, views...)
	if err != nil {
		return nil, err
	}
	cands := found[0]
	if len(found) > 1 {
		large := d.cfg.LargeArea * float64(img.Cols()*img.Rows())
		for i, v := range views[1:] {
			for _, c := range found[i+1] {
				if v.turn == 0 && c.box.w()*c.box.h() <= large {
					continue
				}
				// A turned view adds plates turned at least half its
				// turn, boxed by their corners: one more upright than
				// that is the full view's to find, and a sign the view
				// found has its box turned into a loose square round it.
				if q, ok := c.trustedQuad(); v.turn != 0 && (!ok || q.tilt() < math.Abs(v.turn)/2) {
					continue
				}
				c.closeUp, c.turned = v.turn == 0, v.turn != 0
				cands = append(cands, c)
			}
		}
		cands = nmsCorners(cands, cornerNMSIoU)
	}
	for i, c := range cands {
		if q, ok := c.trustedQuad(); ok {
			c.box, c.quad = q.bounds(), &q
		} else {
			if c.quad != nil {
				qb := c.quad.bounds()
				c.box = rectF{min(c.box.x0, qb.x0), min(c.box.y0, qb.y0), max(c.box.x1, qb.x1), max(c.box.y1, qb.y1)}
			}
			c.quad = nil
		}
		c.peak = c.score
		cands[i] = c
	}
	return cands, nil
}

// cornerNMSIoU merges the corner detector's overlapping anchors, as
// HyperLPR does.
const cornerNMSIoU = 0.5

// verifiedCorners rescores the corner detector's candidates with the
// verifier, as verified does the own detector's; a candidate the corner
// detector is sure of keeps its own score unless the verifier rules it
// out (see PlateConfig.CornerSure).
func (d *PlateDetector) verifiedCorners(ctx context.Context, img gocv.Mat, cands []candidate) ([]candidate, error) {
	if len(cands) == 0 {
		return cands, nil
	}
	in, n, err := verifierCrops(img, cands)
	if err != nil {
		return nil, err
	}
	p, err := d.verify.score(ctx, in, n)
	if err != nil {
		return nil, err
	}
	for i := range n {
		c := &cands[i]
		c.ver = p[i]
		v := plateScore(c.peak, p[i])
		if d.cornerSure(*c) {
			v = max(v, c.peak)
		}
		c.score = v
	}
	return cands, nil
}

// cornerSure reports whether a verified corner candidate passes on the
// corner detector's own score (see PlateConfig.CornerSure).
func (d *PlateDetector) cornerSure(c candidate) bool {
	return c.peak >= d.cfg.CornerSure && c.ver >= d.cfg.CornerSureVerify
}

// plateShaped drops the boxes no plate could be in a w×h frame searched
// as sch says: too narrow or too wide for a plate (under sch.inside wide
// for their height clear of the frame's edges, when it is set), spanning
// most of the frame (see PlateConfig.MaxSide), or large without strong
// evidence of a plate (see PlateConfig.LargeArea). A large box that needs
// its reading to confirm it comes back marked large.
func (d *PlateDetector) plateShaped(cands []candidate, w, h int, sch frameSearch) []candidate {
	out := cands[:0]
	for _, c := range cands {
		if keep, large := d.plateShape(c, float64(w), float64(h), sch); keep {
			c.large = large
			out = append(out, c)
		}
	}
	return out
}

// plateEdge is how near (px) a box may come to the frame's edge and still
// count as clear of it (see PlateConfig.MinAspectInside). A region of a
// frame counts as one here: a box at its inner edge is dropped anyway,
// as a plate cut in two (PlateStream.region).
const plateEdge = 2

// plateShape judges one box in a fw×fh frame (see plateShaped).
func (d *PlateDetector) plateShape(c candidate, fw, fh float64, sch frameSearch) (keep, large bool) {
	bw, bh := c.box.w(), c.box.h()
	pw, ph := c.sides()
	if ph <= 0 || pw <= 0 {
		return false, false
	}
	a := pw / ph
	if a < d.cfg.MinAspect || a > d.cfg.MaxAspect {
		return false, false
	}
	if !sch.still && (bw > d.cfg.MaxSide*fw || bh > d.cfg.MaxSide*fh) {
		return false, false
	}
	wide := d.wide(c, fw, fh)
	clearOfEdges := c.box.x0 > plateEdge && c.box.y0 > plateEdge && c.box.x1 < fw-plateEdge && c.box.y1 < fh-plateEdge
	if clearOfEdges && a < sch.inside {
		return false, false
	}
	if !wide && bw*bh <= d.cfg.LargeArea*fw*fh {
		return true, false
	}
	if a < d.cfg.LargeAspect[0] || a > d.cfg.LargeAspect[1] {
		return false, false
	}
	sure := c.quad != nil && (d.verify == nil && c.peak >= d.cfg.CornerSure || d.verify != nil && d.cornerSure(c))
	mustRead := wide || c.closeUp || (sch.still && d.read != nil)
	switch {
	case sure && !mustRead:
		return true, false
	case !sure && d.verify != nil && c.ver < d.cfg.LargeVerify:
		return false, false
	}
	// Kept only if read as a plate (readOut; a box with corners read
	// straightened when its box does not read so); with nothing to read
	// it, dropped.
	return d.read != nil, true
}

// wide reports whether a candidate spans more than MaxSide of a fw×fh
// frame (see PlateConfig.MaxSide).
func (d *PlateDetector) wide(c candidate, fw, fh float64) bool {
	pw, ph := c.sides()
	return pw > d.cfg.MaxSide*fw || ph > d.cfg.MaxSide*fh
}

// sides returns the plate's width and height as seen: its corners' sides
// when it has corners, its box's otherwise.
func (c candidate) sides() (w, h float64) {
	if c.quad != nil {
		return c.quad.sides()
	}
	return c.box.w(), c.box.h()
}

// plateReadLong is the reading length (characters other than spaces) from
// which a box both looks are sure of may still be ruled out by its text
// (see PlateConfig.ReadSurePeak).
const plateReadLong = 7

// readLen counts the characters of s other than spaces.
func readLen(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// readSure reports whether a merged candidate is one the reader may not
// rule out (see PlateConfig.ReadSurePeak).
func (d *PlateDetector) readSure(c candidate) bool {
	return d.cfg.ReadSurePeak > 0 && d.verify != nil && c.peak >= d.cfg.ReadSurePeak && c.ver >= d.cfg.ReadSureVerify
}

// readFirst reads the large candidates (see plateShaped) wider than
// MaxSide or of the close-up view and keeps those that read like plates
// (readsLikePlate); the strongest maxPlateRead are read, the rest
// dropped. Other candidates pass as they are, for readOut to read once
// merged.
func (d *PlateDetector) readFirst(ctx context.Context, img gocv.Mat, cands []candidate) ([]candidate, error) {
	sortByScore(cands)
	fw, fh := float64(img.Cols()), float64(img.Rows())
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	out, n := cands[:0], 0
	for _, c := range cands {
		if !c.large || !(c.closeUp || d.wide(c, fw, fh)) {
			out = append(out, c)
			continue
		}
		box := c.box.rect().Intersect(bounds)
		if box.Empty() || n == maxPlateRead {
			continue
		}
		n++
		var quad []image.Point
		if c.quad != nil {
			quad = c.quad.points()
		}
		ok, err := d.readsLikePlate(ctx, img, box, quad)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// readsLikePlate reads a large box and reports whether its reading holds
// at least two digits (readsAsPlate): Chinese, European and nearly all US
// plates carry them, and a sign or a car rear boxed that large seldom
// does. A box with corners (quad) that does not read so is read again
// straightened: a large plate turned in a close-up reads only so.
func (d *PlateDetector) readsLikePlate(ctx context.Context, img gocv.Mat, box image.Rectangle, quad []image.Point) (bool, error) {
	rs, err := d.read.read(ctx, img, []image.Rectangle{box})
	if err != nil || readsAsPlate(rs[0]) || quad == nil {
		return err == nil && readsAsPlate(rs[0]), err
	}
	r, err := d.read.readQuad(ctx, img, quad)
	return err == nil && readsAsPlate(r), err
}

// readsAsPlate reports whether a large box's reading confirms it (see
// readsLikePlate).
func readsAsPlate(r reading) bool { return !notPlate(r) && digits(r.text) >= 2 }

// readOut drops the boxes whose text no plate carries (see notPlate),
// except those both looks are sure of (sure[i]) read as a short text.
// Boxes under plateReadMinW, and past maxPlateRead, are kept unread.
//
// A large box (large[i], see plateShaped) is kept only when it reads like
// a plate (readsLikePlate; straightened by its corners only in a still).
// Large boxes are read first, and one left unread is dropped.
func (d *PlateDetector) readOut(ctx context.Context, img gocv.Mat, dets []Detection, large, sure []bool, still bool) ([]Detection, error) {
	var idx []int
	var boxes []image.Rectangle
	drop := make(map[int]bool)
	n := 0
	for i, det := range dets {
		if !large[i] {
			continue
		}
		if n == maxPlateRead {
			drop[i] = true
			continue
		}
		n++
		var quad []image.Point
		if still {
			quad = det.Quad
		}
		ok, err := d.readsLikePlate(ctx, img, det.Box, quad)
		if err != nil {
			return nil, err
		}
		drop[i] = !ok
	}
	for i, det := range dets {
		if !large[i] && det.Box.Dx() >= plateReadMinW && n+len(boxes) < maxPlateRead {
			idx = append(idx, i)
			boxes = append(boxes, det.Box)
		}
	}
	rs, err := d.read.read(ctx, img, boxes)
	if err != nil {
		return nil, err
	}
	for k, r := range rs {
		i := idx[k]
		drop[i] = notPlate(r) && !(sure[i] && readLen(r.text) < plateReadLong)
	}
	out := dets[:0]
	for i, det := range dets {
		if !drop[i] {
			out = append(out, det)
		}
	}
	return out, nil
}

// verifierCrops cuts the verifier's crops of the first maxPlateVerify
// candidates, crop i being in[i*plateCropLen:(i+1)*plateCropLen], and
// reports how many it cut. A candidate of a turned view with its corners
// is cut along them (plateCropTurned), the others upright.
func verifierCrops(img gocv.Mat, cands []candidate) ([]float32, int, error) {
	n := min(len(cands), maxPlateVerify)
	in := make([]float32, n*plateCropLen)
	for i, c := range cands[:n] {
		dst := in[i*plateCropLen : (i+1)*plateCropLen]
		var err error
		if c.turned && c.quad != nil {
			err = plateCropTurned(img, *c.quad, dst)
		} else {
			err = plateCrop(img, c.box, dst)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return in, n, nil
}

// verified rescores candidates with the verifier, strongest first. Past
// maxPlateVerify the rest keep their detector score, judged as without a
// verifier: for a likely plate that is at least the combined score would
// be, so a flood of candidates errs towards masking.
func (d *PlateDetector) verified(ctx context.Context, img gocv.Mat, cands []candidate) ([]candidate, error) {
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	in, n, err := verifierCrops(img, cands)
	if err != nil {
		return nil, err
	}
	peak := make([]float64, n)
	idx := make([]int, n) // the candidates the verifier sees
	for i := range n {
		peak[i], idx[i] = cands[i].score, i
	}
	batch := in
	if d.quick != nil {
		// The quick look scores every candidate; only those it leaves a
		// chance go on. The rest keep the quick score, which is under the
		// gate and so under every threshold.
		q, err := d.quick.score(ctx, in, n)
		if err != nil {
			return nil, err
		}
		idx, batch = idx[:0], nil
		for i := range q {
			if cands[i].score = plateScore(peak[i], q[i]); cands[i].score >= d.cfg.QuickGate {
				idx = append(idx, i)
				batch = append(batch, in[i*plateCropLen:(i+1)*plateCropLen]...)
			}
		}
	}
	p, err := d.verify.score(ctx, batch, len(idx))
	if err != nil {
		return nil, err
	}
	for k, i := range idx {
		cands[i].score = plateScore(peak[i], p[k])
		cands[i].ver = p[k]
	}
	return cands, nil
}

// plateScore combines the detector's peak and the verifier's probability
// as their geometric mean, which errs less than either alone: each is wrong
// on different things (the detector on sign text, the verifier on
// plate-like texture it sees without the scene's geometry).
func plateScore(det, ver float64) float64 {
	return math.Sqrt(det * ver)
}

// scales drops the scales at which the frame would be smaller than one
// model input alignment step: nothing useful is left to see there.
func (d *PlateDetector) scales(w, h int) []float64 {
	var out []float64
	for _, s := range d.cfg.Scales {
		if float64(min(w, h))*s >= plateAlign || len(out) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// plateInput converts a BGR frame scaled by s into the model's input:
// planar BGR, (v-127.5)/127.5, padded with zeros (mid grey) at the right
// and bottom to multiples of 32. It returns the data and its shape.
func plateInput(img gocv.Mat, s float64) ([]float32, []int64, error) {
	w := max(1, int(math.Round(float64(img.Cols())*s)))
	h := max(1, int(math.Round(float64(img.Rows())*s)))
	src := img
	if w != img.Cols() || h != img.Rows() {
		interp := gocv.InterpolationArea // no aliasing when shrinking
		if s > 1 {
			interp = gocv.InterpolationLinear
		}
		resized := gocv.NewMat()
		defer resized.Close()
		gocv.Resize(img, &resized, image.Pt(w, h), 0, 0, interp)
		src = resized
	}
	if !src.IsContinuous() {
		c := src.Clone()
		defer c.Close()
		src = c
	}
	px, err := src.DataPtrUint8()
	if err != nil {
		return nil, nil, fmt.Errorf("plate detector: %w", err)
	}
	pw, ph := alignUp(w, plateAlign), alignUp(h, plateAlign)
	in := make([]float32, 3*pw*ph)
	plane := pw * ph
	for y := 0; y < h; y++ {
		row := px[y*w*3 : (y+1)*w*3]
		b, g, r := in[y*pw:], in[plane+y*pw:], in[2*plane+y*pw:]
		for x := 0; x < w; x++ {
			b[x] = float32(row[x*3])/127.5 - 1
			g[x] = float32(row[x*3+1])/127.5 - 1
			r[x] = float32(row[x*3+2])/127.5 - 1
		}
	}
	return in, []int64{1, 3, int64(ph), int64(pw)}, nil
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// runScale runs the model on the frame scaled by s and returns the plates
// whose width in model pixels is in [lo, hi), in frame coordinates.
func (d *PlateDetector) runScale(ctx context.Context, img gocv.Mat, s, lo, hi, thresh float64) ([]candidate, error) {
	in, shape, err := plateInput(img, s)
	if err != nil {
		return nil, err
	}
	outs, err := d.sess.Run(ctx, [][]float32{in}, [][]int64{shape})
	if err != nil {
		return nil, fmt.Errorf("plate detector: inference: %w", err)
	}
	heat, box := outs[0], outs[1]
	if len(heat.Shape) != 4 || len(box.Shape) != 4 || heat.Shape[1] != 1 || box.Shape[1] != 4 ||
		heat.Shape[2] != box.Shape[2] || heat.Shape[3] != box.Shape[3] {
		return nil, fmt.Errorf("plate detector: unexpected output shapes %v and %v", heat.Shape, box.Shape)
	}
	gh, gw := int(heat.Shape[2]), int(heat.Shape[3])
	var out []candidate
	for _, p := range decodePlates(heat.Data, box.Data, gw, gh, thresh) {
		bw := p.box.w()
		if bw < lo || bw >= hi {
			continue
		}
		p.box = rectF{p.box.x0 / s, p.box.y0 / s, p.box.x1 / s, p.box.y1 / s}
		out = append(out, p)
	}
	return out, nil
}

// decodePlates turns the model's outputs for a gw×gh grid into scored boxes
// in model input pixels: every cell that reaches thresh and is a local
// maximum of its 3×3 neighbourhood is a plate centre; its box channels are
// the centre's offset from the cell centre (in cells) and the log of the
// width and height over the stride.
func decodePlates(heat, box []float32, gw, gh int, thresh float64) []candidate {
	var out []candidate
	plane := gw * gh
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			v := heat[y*gw+x]
			if float64(v) < thresh || !isPeak(heat, gw, gh, x, y) {
				continue
			}
			i := y*gw + x
			cx := (float64(x) + 0.5 + float64(box[i])) * plateStride
			cy := (float64(y) + 0.5 + float64(box[plane+i])) * plateStride
			w := math.Exp(min(8, float64(box[2*plane+i]))) * plateStride
			h := math.Exp(min(8, float64(box[3*plane+i]))) * plateStride
			out = append(out, candidate{box: rectF{cx - w/2, cy - h/2, cx + w/2, cy + h/2}, score: float64(v)})
		}
	}
	return out
}

// isPeak reports whether cell (x, y) is at least as high as its eight
// neighbours; of equal neighbours only the first in scan order counts, so
// a flat top gives one peak.
func isPeak(heat []float32, gw, gh, x, y int) bool {
	v := heat[y*gw+x]
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			nx, ny := x+dx, y+dy
			if (dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= gw || ny >= gh {
				continue
			}
			n := heat[ny*gw+nx]
			if n > v || (n == v && (dy < 0 || (dy == 0 && dx < 0))) {
				return false
			}
		}
	}
	return true
}

// PlateCover grows a plate box over what identifies the plate beyond its
// face: the holder frame (dealer name included) and the screws, which sit
// up to about a tenth of the plate's width and a fifth of its height
// outside it, plus slack for a box a few pixels off. Plates are redacted
// over this rectangle, never an ellipse.
func PlateCover(box image.Rectangle) image.Rectangle {
	padX := int(math.Ceil(float64(box.Dx())*0.1)) + 2
	padY := int(math.Ceil(float64(box.Dy())*0.25)) + 2
	return image.Rect(box.Min.X-padX, box.Min.Y-padY, box.Max.X+padX, box.Max.Y+padY)
}
