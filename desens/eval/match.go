package eval

import (
	"cmp"
	"image"
	"slices"

	"github.com/desens/desens/desens/detect"
)

// MatchConfig sets the matching rules. The zero value uses the defaults.
type MatchConfig struct {
	// MinIoU is the IoU at which a detection matches a labelled box; default
	// 0.3. Boxes that each hold the other's centre match at any IoU.
	MinIoU float64 `json:"min_iou"`
	// IgnoreOverlap is the share of a detection's area inside an ignore
	// region above which it is set aside before matching; default 0.5.
	IgnoreOverlap float64 `json:"ignore_overlap"`
	// MinSize excludes labelled boxes less than this many pixels high: they
	// count neither as found nor as missed, and detections on them are set
	// aside. Default 0 (every box counts).
	MinSize int `json:"min_size"`
}

func (c MatchConfig) withDefaults() MatchConfig {
	if c.MinIoU <= 0 {
		c.MinIoU = 0.3
	}
	if c.IgnoreOverlap <= 0 {
		c.IgnoreOverlap = 0.5
	}
	return c
}

// Outcome is what became of a labelled box or a detection.
type Outcome string

const (
	Hit           Outcome = "hit"      // a detection matched a labelled box
	Miss          Outcome = "miss"     // a labelled box no detection matched
	FalsePositive Outcome = "fp"       // a detection that matched nothing
	Ignored       Outcome = "ignored"  // a detection in an ignore region or on an excluded box
	Excluded      Outcome = "excluded" // a labelled box below the minimum size
)

// Truth is one labelled box after matching.
type Truth struct {
	Class   detect.Class `json:"class"`
	Type    string       `json:"type,omitempty"`
	Box     Box          `json:"box"`
	Outcome Outcome      `json:"outcome"`
	// Det is the index of the matching detection, -1 if none.
	Det int `json:"det"`
}

// Found is one detection after matching.
type Found struct {
	Class   detect.Class `json:"class"`
	Box     Box          `json:"box"`
	Score   float32      `json:"score"`
	Outcome Outcome      `json:"outcome"`
	// Truth is the index of the labelled box it matched, -1 if none.
	Truth int     `json:"truth"`
	IoU   float64 `json:"iou,omitempty"`
}

// Counts add up outcomes.
type Counts struct {
	Truths   int `json:"gt"` // labelled boxes that count (not excluded)
	Hits     int `json:"hits"`
	Misses   int `json:"misses"`
	FP       int `json:"fp"`
	Ignored  int `json:"ignored"`
	Excluded int `json:"excluded"`
}

// Add adds o's counts to c.
func (c *Counts) Add(o Counts) {
	c.Truths += o.Truths
	c.Hits += o.Hits
	c.Misses += o.Misses
	c.FP += o.FP
	c.Ignored += o.Ignored
	c.Excluded += o.Excluded
}

// Recall is hits / labelled boxes; 1 when nothing was labelled (nothing to
// miss).
func (c Counts) Recall() float64 {
	if c.Truths == 0 {
		return 1
	}
	return float64(c.Hits) / float64(c.Truths)
}

// Precision is hits / (hits + false positives); 1 when nothing was found.
func (c Counts) Precision() float64 {
	if c.Hits+c.FP == 0 {
		return 1
	}
	return float64(c.Hits) / float64(c.Hits+c.FP)
}

// Matched is one image's labelled boxes and detections after matching.
type Matched struct {
	Truths []Truth `json:"gt"`
	Found  []Found `json:"detections"`
	Counts Counts  `json:"counts"`
}

// Match pairs detections with labelled boxes (see the package comment for
// the rules). bounds clips labelled boxes to the image; an empty bounds
// clips nothing. The result lists boxes and detections in their input
// order.
func Match(objs []Object, ignore []Box, dets []detect.Detection, bounds image.Rectangle, cfg MatchConfig) Matched {
	cfg = cfg.withDefaults()
	clip := func(r image.Rectangle) image.Rectangle {
		if bounds.Empty() {
			return r
		}
		return r.Intersect(bounds)
	}
	m := Matched{Truths: make([]Truth, len(objs)), Found: make([]Found, len(dets))}
	gt := make([]image.Rectangle, len(objs))
	for i, o := range objs {
		gt[i] = clip(o.Box.Rect())
		m.Truths[i] = Truth{Class: o.Class, Type: o.Type, Box: o.Box, Outcome: Miss, Det: -1}
		if gt[i].Dy() < cfg.MinSize {
			m.Truths[i].Outcome = Excluded
		}
	}
	ign := make([]image.Rectangle, len(ignore))
	for i, b := range ignore {
		ign[i] = b.Rect()
	}
	for i, d := range dets {
		m.Found[i] = Found{Class: d.Class, Box: BoxOf(d.Box), Score: d.Score, Outcome: FalsePositive, Truth: -1}
	}

	order := make([]int, len(dets))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(dets[b].Score, dets[a].Score) })

	for _, di := range order {
		d := dets[di]
		f := &m.Found[di]
		if coveredBy(d.Box, ign) >= cfg.IgnoreOverlap {
			f.Outcome = Ignored
			continue
		}
		best, bestIoU := -1, -1.0
		excluded := false
		for gi, g := range gt {
			t := &m.Truths[gi]
			if t.Class != d.Class || t.Outcome == Hit {
				continue
			}
			ok, iou := matches(d.Box, g, cfg.MinIoU)
			if !ok {
				continue
			}
			if t.Outcome == Excluded {
				excluded = true
				continue
			}
			if iou > bestIoU {
				best, bestIoU = gi, iou
			}
		}
		switch {
		case best >= 0:
			f.Outcome, f.Truth, f.IoU = Hit, best, bestIoU
			m.Truths[best].Outcome, m.Truths[best].Det = Hit, di
		case excluded || coveredBy(d.Box, ign) > 0:
			f.Outcome = Ignored
		}
	}

	for _, t := range m.Truths {
		switch t.Outcome {
		case Hit:
			m.Counts.Hits++
		case Miss:
			m.Counts.Misses++
		case Excluded:
			m.Counts.Excluded++
		}
	}
	m.Counts.Truths = m.Counts.Hits + m.Counts.Misses
	for _, f := range m.Found {
		switch f.Outcome {
		case FalsePositive:
			m.Counts.FP++
		case Ignored:
			m.Counts.Ignored++
		}
	}
	return m
}

// matches applies the matching rule: IoU at least minIoU, or each box holds
// the other's centre (a tight label inside a loose detection square).
func matches(det, gt image.Rectangle, minIoU float64) (bool, float64) {
	iou := detect.IoU(det, gt)
	if iou >= minIoU {
		return true, iou
	}
	return holdsCentre(gt, det) && holdsCentre(det, gt), iou
}

func holdsCentre(r, of image.Rectangle) bool {
	cx2, cy2 := of.Min.X+of.Max.X, of.Min.Y+of.Max.Y // doubled, to stay in integers
	return !r.Empty() && 2*r.Min.X <= cx2 && cx2 <= 2*r.Max.X && 2*r.Min.Y <= cy2 && cy2 <= 2*r.Max.Y
}

// coveredBy is the largest share of r's area inside any one region.
func coveredBy(r image.Rectangle, regions []image.Rectangle) float64 {
	area := r.Dx() * r.Dy()
	if area <= 0 {
		return 0
	}
	best := 0.0
	for _, g := range regions {
		in := r.Intersect(g)
		best = max(best, float64(in.Dx()*in.Dy())/float64(area))
	}
	return best
}
