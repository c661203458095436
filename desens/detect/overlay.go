package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"

	"gocv.io/x/gocv"
)

// OverlayMode says which burned-in text is hidden.
type OverlayMode string

const (
	// OverlayGeo hides persistent text in the top and bottom bands of the
	// frame, where dashcams and logging rigs burn in coordinates, speed,
	// time, plates and device IDs. Without text recognition the band is
	// what tells an overlay from a shop sign seen by a parked car.
	OverlayGeo OverlayMode = "geo"
	// OverlayAllText hides every persistent text region, wherever it is.
	OverlayAllText OverlayMode = "all-text"
	// OverlayROI hides fixed rectangles from a configuration file (a known
	// camera model's layout); no model runs.
	OverlayROI OverlayMode = "roi"
)

// ParseOverlayMode reads a mode name.
func ParseOverlayMode(s string) (OverlayMode, error) {
	switch m := OverlayMode(s); m {
	case OverlayGeo, OverlayAllText, OverlayROI:
		return m, nil
	}
	return "", fmt.Errorf("unknown overlay mode %q (want geo, all-text or roi)", s)
}

// ROIRegion is one fixed overlay rectangle. Box is x, y, width, height:
// in pixels, or in fractions of the frame's width and height when all four
// are at most 1 (one file then fits every resolution of a camera model).
type ROIRegion struct {
	Name string     `json:"name"`
	Box  [4]float64 `json:"box"`
}

// Rect is the region in a w×h frame.
func (r ROIRegion) Rect(w, h int) image.Rectangle {
	b := r.Box
	if b[0] <= 1 && b[1] <= 1 && b[2] <= 1 && b[3] <= 1 {
		b = [4]float64{b[0] * float64(w), b[1] * float64(h), b[2] * float64(w), b[3] * float64(h)}
	}
	// Round outwards: a glyph half a pixel outside is still a glyph.
	return image.Rect(int(math.Floor(b[0])), int(math.Floor(b[1])),
		int(math.Ceil(b[0]+b[2])), int(math.Ceil(b[1]+b[3]))).Intersect(image.Rect(0, 0, w, h))
}

// ParseROI reads an ROI file: {"regions":[{"name":"gps","box":[x,y,w,h]}]}.
func ParseROI(data []byte) ([]ROIRegion, error) {
	var f struct {
		Regions []ROIRegion `json:"regions"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("want {\"regions\":[{\"name\":...,\"box\":[x,y,w,h]}]}: %w", err)
	}
	if len(f.Regions) == 0 {
		return nil, fmt.Errorf("no regions")
	}
	for i, r := range f.Regions {
		b := r.Box
		if b[0] < 0 || b[1] < 0 || b[2] <= 0 || b[3] <= 0 {
			return nil, fmt.Errorf("region %d (%q): box %v: want x,y >= 0 and width,height > 0", i, r.Name, b)
		}
	}
	return f.Regions, nil
}

// LoadROI reads an ROI file (see ParseROI).
func LoadROI(path string) ([]ROIRegion, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("overlay ROI file: %w", err)
	}
	regs, err := ParseROI(data)
	if err != nil {
		return nil, fmt.Errorf("overlay ROI file %s: %w", path, err)
	}
	return regs, nil
}

// OverlayConfig tunes overlay finding. Start from DefaultOverlayConfig.
type OverlayConfig struct {
	Mode OverlayMode
	// Every runs the text detector on every Every-th frame of a video and
	// reuses the overlay boxes in between: burned-in text does not move.
	Every int
	// Band is the share of the frame's height, at the top and at the
	// bottom, where geo mode looks for overlays (and where a still image's
	// text counts as one). A fifth holds every dashcam layout seen, and
	// both fifths of a 1080p frame fit the text model's pixel budget at
	// full resolution.
	Band float64
	// Pad widens each text box by Pad × its height on the left and the
	// right: room for a counter or clock that gains a digit between two
	// detector runs.
	Pad float64
	// ChangeThreshold is the mean grey-level change, in a strip beside a
	// reused box since the last detector run, that makes the detector run
	// again early, if the strip has since stood still (text grew out of its
	// box or appeared beside it, or the scene cut).
	ChangeThreshold float64
	// Misses is how many detector runs in a row may miss a known overlay
	// before its box is dropped.
	Misses int
	// ROI are the fixed rectangles of roi mode.
	ROI []ROIRegion
}

// DefaultOverlayConfig is geo mode, the detector on every 5th frame.
func DefaultOverlayConfig() OverlayConfig {
	return OverlayConfig{Mode: OverlayGeo, Every: 5, Band: 0.2, Pad: 0.5, ChangeThreshold: 20, Misses: 2}
}

// OverlayDetector finds burned-in text overlays. Its Detect looks at
// single images; a video gets a Stream of its own, which carries what
// persistence needs from frame to frame. It is safe for concurrent use.
type OverlayDetector struct {
	text *TextDetector
	cfg  OverlayConfig
}

// NewOverlay builds an overlay detector on a text detector (which roi mode
// does not need, and may be nil there). It does not own text.
func NewOverlay(text *TextDetector, cfg OverlayConfig) (*OverlayDetector, error) {
	switch {
	case cfg.Mode == OverlayROI && len(cfg.ROI) == 0:
		return nil, fmt.Errorf("overlay: roi mode needs regions")
	case cfg.Mode != OverlayROI && text == nil:
		return nil, fmt.Errorf("overlay: %s mode needs a text detector", cfg.Mode)
	case cfg.Every < 1:
		return nil, fmt.Errorf("overlay: every %d: want 1 or more", cfg.Every)
	case cfg.Band <= 0 || cfg.Band > 0.5:
		return nil, fmt.Errorf("overlay: band %.2f: want (0, 0.5]", cfg.Band)
	}
	if _, err := ParseOverlayMode(string(cfg.Mode)); err != nil {
		return nil, err
	}
	return &OverlayDetector{text: text, cfg: cfg}, nil
}

// Config reports the configuration in use.
func (o *OverlayDetector) Config() OverlayConfig { return o.cfg }

// Detect finds overlays in still images, which carry no persistence: geo
// mode takes the text in the top and bottom bands, all-text all text.
func (o *OverlayDetector) Detect(ctx context.Context, frames []gocv.Mat) []Result {
	out := make([]Result, len(frames))
	for i, f := range frames {
		if o.cfg.Mode == OverlayROI {
			out[i].Detections = o.roi(f)
			continue
		}
		dets, err := o.findText(ctx, f)
		if err != nil {
			out[i].Err = fmt.Errorf("overlay: %w", err)
			continue
		}
		for _, d := range dets {
			d.Box = o.pad(d.Box, f.Cols(), f.Rows())
			out[i].Detections = append(out[i].Detections, d)
		}
	}
	return out
}

func (o *OverlayDetector) roi(f gocv.Mat) []Detection {
	var dets []Detection
	for _, r := range o.cfg.ROI {
		if b := r.Rect(f.Cols(), f.Rows()); !b.Empty() {
			dets = append(dets, Detection{Box: b, Class: Overlay, Score: 1})
		}
	}
	return dets
}

// findText runs the text detector where the mode looks. Geo mode reads
// the top and bottom bands (with a margin for lines across the band's
// edge), which fit the model's pixel budget at full resolution, and keeps
// the lines centred in them. All-text mode reads the whole frame, shrunk to
// the budget if need be, and then also the bands at full resolution, so it
// finds every overlay geo mode finds.
func (o *OverlayDetector) findText(ctx context.Context, f gocv.Mat) ([]Detection, error) {
	w, h := f.Cols(), f.Rows()
	// A whole number of 32 rows: the model's input is not stretched.
	bh := (int(math.Ceil(o.cfg.Band*float64(h))) + max(32, h/32) + 31) / 32 * 32
	areas := []image.Rectangle{image.Rect(0, 0, w, bh), image.Rect(0, h-bh, w, h)}
	switch {
	case o.cfg.Mode != OverlayGeo && w*h <= o.text.cfg.MaxPixels:
		areas = []image.Rectangle{image.Rect(0, 0, w, h)} // read whole at full resolution
	case o.cfg.Mode != OverlayGeo:
		areas = append(areas, image.Rect(0, 0, w, h))
	case 2*bh >= h:
		areas = []image.Rectangle{image.Rect(0, 0, w, h)}
	}
	var out []Detection
	for _, a := range areas {
		roi := f.Region(a)
		dets, err := o.text.DetectText(ctx, roi)
		roi.Close()
		if err != nil {
			return nil, err
		}
		for _, d := range dets {
			if d.Box = d.Box.Add(a.Min); o.cfg.Mode != OverlayGeo || o.inBand(d.Box, h) {
				out = append(out, d)
			}
		}
	}
	return joinLines(out), nil // also merges what two readings both found
}

// joinLines merges the words of one line into one box: the detector splits
// lines at wide spaces, and a word alone is too short a template to tell
// still text from moving text over a moving scene. Boxes join when they
// share half the height of the shorter and the gap between them is under
// 1.5 line heights.
func joinLines(dets []Detection) []Detection {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(dets) && !merged; i++ {
			for j := i + 1; j < len(dets); j++ {
				a, b := dets[i].Box, dets[j].Box
				h := max(a.Dy(), b.Dy())
				overlap := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
				gap := max(a.Min.X, b.Min.X) - min(a.Max.X, b.Max.X)
				if 2*overlap >= min(a.Dy(), b.Dy()) && 2*gap <= 3*h {
					dets[i].Box = a.Union(b)
					dets[i].Score = max(dets[i].Score, dets[j].Score)
					dets = append(dets[:j], dets[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return dets
}

// inBand reports whether a box's centre lies in the top or bottom band.
func (o *OverlayDetector) inBand(b image.Rectangle, h int) bool {
	cy := float64(b.Min.Y+b.Max.Y) / 2
	return cy < o.cfg.Band*float64(h) || cy > (1-o.cfg.Band)*float64(h)
}

// pad widens a text box by Pad × its height on both sides.
func (o *OverlayDetector) pad(b image.Rectangle, w, h int) image.Rectangle {
	p := int(math.Ceil(o.cfg.Pad * float64(b.Dy())))
	return image.Rect(b.Min.X-p, b.Min.Y, b.Max.X+p, b.Max.Y).Intersect(image.Rect(0, 0, w, h))
}

// Stream returns a detector for one video, whose frames must then arrive in
// order. Close it after the video.
func (o *OverlayDetector) Stream() *OverlayStream {
	return &OverlayStream{o: o, lastRun: -1, prev: gocv.NewMat(), ref: gocv.NewMat()}
}

// OverlayStream finds overlays in one video. Text counts as an overlay
// when it stands still: each text box the detector finds is matched
// against the neighbouring frame (the previous one, or the next one for
// the first frame), and only text found shifted there is scene text. New
// text is thus judged on the frame it first appears in, never after it.
// Once a place holds an overlay, text found there stays an overlay (digits
// change in place), and the place is hidden until the detector has missed
// it Misses runs in a row. Between detector runs the known boxes are
// reused; the pipeline's tracker extends a newly found box back over the
// frames before it, which covers text that appeared between two runs.
type OverlayStream struct {
	o       *OverlayDetector
	seq     int // next frame's number
	lastRun int // frame of the last detector run, -1 before the first
	prev    gocv.Mat
	ref     gocv.Mat // grey frame at the last detector run
	regions []*overlayRegion
	runs    int
}

type overlayRegion struct {
	box    image.Rectangle // union of the text boxes found here
	score  float32
	missed int
}

// Runs reports how many frames the text detector has run on so far.
func (s *OverlayStream) Runs() int { return s.runs }

// Close frees the stream's frame copies.
func (s *OverlayStream) Close() error {
	s.prev.Close()
	s.ref.Close()
	return nil
}

// Detect takes the video's next frames, in order.
func (s *OverlayStream) Detect(ctx context.Context, frames []gocv.Mat) []Result {
	out := make([]Result, len(frames))
	if s.o.cfg.Mode == OverlayROI {
		for i, f := range frames {
			out[i].Detections = s.o.roi(f)
		}
		s.seq += len(frames)
		return out
	}
	greys := make([]gocv.Mat, len(frames))
	defer func() {
		for _, g := range greys {
			g.Close()
		}
	}()
	for i, f := range frames {
		greys[i] = gocv.NewMat()
		if !f.Empty() && f.Type() == gocv.MatTypeCV8UC3 {
			gocv.CvtColor(f, &greys[i], gocv.ColorBGRToGray)
		}
	}
	for i, f := range frames {
		seq := s.seq
		s.seq++
		g := greys[i]
		if g.Empty() {
			out[i].Err = fmt.Errorf("overlay: frame %d: want a non-empty 8-bit BGR frame, got %v", seq, f.Type())
			continue
		}
		if s.lastRun < 0 || seq-s.lastRun >= s.o.cfg.Every || s.changed(g) {
			// The neighbour that tells still from moving text: the previous
			// frame, or for the first frame the next one.
			var nb *gocv.Mat
			if sameSize(s.prev, g) {
				nb = &s.prev
			} else if i+1 < len(greys) && sameSize(greys[i+1], g) {
				nb = &greys[i+1]
			}
			if err := s.run(ctx, f, g, nb); err != nil {
				out[i].Err = err // the frame is masked; the next one runs again
			} else {
				s.lastRun = seq
				g.CopyTo(&s.ref)
			}
		}
		if out[i].Err == nil {
			out[i].Detections = s.boxes(f.Cols(), f.Rows())
		}
		g.CopyTo(&s.prev)
	}
	return out
}

func sameSize(a, b gocv.Mat) bool {
	return !a.Empty() && a.Cols() == b.Cols() && a.Rows() == b.Rows()
}

// run runs the text detector on a frame and updates the known overlays.
// nb is a neighbouring grey frame, or nil when there is none (a one-frame
// video): then all text found counts as still.
func (s *OverlayStream) run(ctx context.Context, f, g gocv.Mat, nb *gocv.Mat) error {
	s.runs++
	dets, err := s.o.findText(ctx, f)
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	seen := make([]bool, len(s.regions))
	for _, d := range dets {
		if d.Box.Dx() < 8 || d.Box.Dy() < 4 {
			continue // a speck: too small to tell still from moving, or to read
		}
		still := nb == nil || !moved(g, *nb, d.Box)
		known := false
		for i, r := range s.regions {
			if overlaps(r.box, d.Box) {
				known, seen[i] = true, true
				if still {
					r.box, r.score = r.box.Union(d.Box), d.Score
				}
			}
		}
		if !known && still {
			s.regions = append(s.regions, &overlayRegion{box: d.Box, score: d.Score})
			seen = append(seen, true)
		}
	}
	kept := s.regions[:0]
	for i, r := range s.regions {
		if seen[i] {
			r.missed = 0
		} else if r.missed++; r.missed > s.o.cfg.Misses {
			continue
		}
		kept = append(kept, r)
	}
	s.regions = kept
	return nil
}

// boxes are the known overlays, padded, as detections.
func (s *OverlayStream) boxes(w, h int) []Detection {
	dets := make([]Detection, 0, len(s.regions))
	for _, r := range s.regions {
		if b := s.o.pad(r.box, w, h); !b.Empty() {
			dets = append(dets, Detection{Box: b, Class: Overlay, Score: r.score})
		}
	}
	return dets
}

// changed reports whether the picture beside a known overlay (a strip
// along each of its sides) differs from the last detector run by more than
// ChangeThreshold grey levels on average while it stood still since the
// previous frame (under half that): new static content, such as a line
// that grew by a digit, text that appeared or a new scene. A moving camera
// changes the strips from frame to frame and does not count.
func (s *OverlayStream) changed(g gocv.Mat) bool {
	if !sameSize(s.ref, g) || !sameSize(s.prev, g) {
		return true
	}
	bounds := image.Rect(0, 0, g.Cols(), g.Rows())
	diff := func(b image.Rectangle, other gocv.Mat) float64 {
		a, c := g.Region(b), other.Region(b)
		defer a.Close()
		defer c.Close()
		d := gocv.NewMat()
		defer d.Close()
		gocv.AbsDiff(a, c, &d)
		return d.Sum().Val1 / float64(b.Dx()*b.Dy())
	}
	for _, r := range s.regions {
		in := s.o.pad(r.box, g.Cols(), g.Rows())
		m := max(4, in.Dy()/2)
		out := in.Inset(-m).Intersect(bounds)
		// The four sides apart: a line that grew by a digit changes a strip
		// beside it, which a mean over the whole ring would dilute.
		for _, side := range []image.Rectangle{
			image.Rect(out.Min.X, in.Min.Y, in.Min.X, in.Max.Y),   // left
			image.Rect(in.Max.X, in.Min.Y, out.Max.X, in.Max.Y),   // right
			image.Rect(out.Min.X, out.Min.Y, out.Max.X, in.Min.Y), // above
			image.Rect(out.Min.X, in.Max.Y, out.Max.X, out.Max.Y), // below
		} {
			if side.Empty() {
				continue
			}
			if diff(side, s.ref) > s.o.cfg.ChangeThreshold && diff(side, s.prev) < s.o.cfg.ChangeThreshold/2 {
				return true
			}
		}
	}
	return false
}

// overlaps reports whether two boxes share at least 30% of the smaller one.
func overlaps(a, b image.Rectangle) bool {
	in := a.Intersect(b)
	if in.Empty() {
		return false
	}
	area := func(r image.Rectangle) int { return r.Dx() * r.Dy() }
	return float64(area(in)) >= 0.3*float64(min(area(a), area(b)))
}

// moved reports whether the text in box of grey frame g is found shifted
// in the neighbouring frame nb: its best match there lies more than a pixel
// away, is a good match (normalised correlation 0.6), and the same place
// matches poorly (under 0.8) or clearly worse (by 0.1). Still text over a
// moving scene matches its own place well but not perfectly (the scene
// behind it costs some), hence a bar under 1. Text that changed in place
// (a clock) matches well nowhere and counts as still, erring towards
// hiding it.
func moved(g, nb gocv.Mat, box image.Rectangle) bool {
	bounds := image.Rect(0, 0, g.Cols(), g.Rows())
	b := box.Intersect(bounds)
	if b.Dx() < 8 || b.Dy() < 4 {
		return false
	}
	r := min(64, max(16, 2*b.Dy()))
	search := b.Inset(-r).Intersect(bounds)
	// Near the frame's edge the text may have come from (or be going to)
	// outside: keep the template r away from the edge, so that every shift
	// up to r stays inside the search area.
	x0, x1 := max(b.Min.X, r), min(b.Max.X, g.Cols()-r)
	y0, y1 := max(b.Min.Y, r), min(b.Max.Y, g.Rows()-r)
	if x1-x0 < 8 {
		return false
	}
	if y1-y0 < 4 {
		// A line at the top or bottom edge: look sideways only, where
		// text moves when the camera does.
		y0, y1 = b.Min.Y, b.Max.Y
		search = image.Rect(x0-r, y0, x1+r, y1).Intersect(bounds)
	}
	b = image.Rect(x0, y0, x1, y1)
	tpl, area := g.Region(b), nb.Region(search)
	defer tpl.Close()
	defer area.Close()
	res, mask := gocv.NewMat(), gocv.NewMat()
	defer res.Close()
	defer mask.Close()
	gocv.MatchTemplate(area, tpl, &res, gocv.TmCcoeffNormed, mask)
	_, best, _, at := gocv.MinMaxLoc(res)
	zero := b.Min.Sub(search.Min)
	here := res.GetFloatAt(zero.Y, zero.X)
	d := at.Sub(zero)
	if max(abs(d.X), abs(d.Y)) <= 1 || best < 0.6 {
		return false
	}
	// A NaN here (flat box) fails both comparisons: still.
	return here < 0.8 || float64(best-here) > 0.1
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
