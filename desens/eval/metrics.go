package eval

import (
	"image"
	"math"
	"slices"

	"github.com/desens/desens/desens/detect"
)

// SizeBucket is recall over labelled boxes of one height range [Min, Max)
// in pixels; Max 0 means no upper bound.
type SizeBucket struct {
	Name   string  `json:"name"`
	Min    int     `json:"min"`
	Max    int     `json:"max,omitempty"`
	Truths int     `json:"gt"`
	Hits   int     `json:"hits"`
	Recall float64 `json:"recall"`
}

// sizeEdges are the bucket boundaries: distant faces, 14-32 px, are the
// hard ones, so the small end is split finely.
var sizeEdges = []int{0, 16, 24, 32, 64, 128}

// SizeBuckets returns empty buckets by face height: <16, 16-24, 24-32,
// 32-64, 64-128 and >=128 px.
func SizeBuckets() []SizeBucket {
	out := make([]SizeBucket, len(sizeEdges))
	for i, lo := range sizeEdges {
		b := SizeBucket{Min: lo}
		switch {
		case i == 0:
			b.Max = sizeEdges[1]
			b.Name = "<" + itoa(b.Max)
		case i == len(sizeEdges)-1:
			b.Name = ">=" + itoa(lo)
		default:
			b.Max = sizeEdges[i+1]
			b.Name = itoa(lo) + "-" + itoa(b.Max)
		}
		out[i] = b
	}
	return out
}

func bucketOf(buckets []SizeBucket, h int) int {
	for i, b := range buckets {
		if h >= b.Min && (b.Max == 0 || h < b.Max) {
			return i
		}
	}
	return 0
}

// ClassResult is the metrics of one class.
type ClassResult struct {
	Class     detect.Class `json:"class"`
	Counts    Counts       `json:"counts"`
	Recall    float64      `json:"recall"`
	Precision float64      `json:"precision"`
}

// SweepPoint is what the detector would score at one threshold.
type SweepPoint struct {
	Threshold  float64 `json:"threshold"`
	Counts     Counts  `json:"counts"`
	Recall     float64 `json:"recall"`
	Precision  float64 `json:"precision"`
	FPPerImage float64 `json:"fp_per_image"`
}

// SweepThresholds are 0.30, 0.35, ... 0.90.
func SweepThresholds() []float64 {
	var out []float64
	for p := 30; p <= 90; p += 5 {
		out = append(out, float64(p)/100)
	}
	return out
}

// passing keeps the detections that pass at threshold t: keep's verdict,
// or, when keep is nil, a score of at least t. Scores are float32, so t is
// compared in float32 too: a score of 0.6 passes a threshold of 0.6.
func passing(dets []detect.Detection, t float64, keep func(detect.Detection, float64) bool) []detect.Detection {
	if keep == nil {
		keep = func(d detect.Detection, t float64) bool { return d.Score >= float32(t) }
	}
	var out []detect.Detection
	for _, d := range dets {
		if keep(d, t) {
			out = append(out, d)
		}
	}
	return out
}

// summarize fills the totals, buckets and per-class figures from the
// per-image results.
func (r *Result) summarize() {
	r.Total = Counts{}
	r.Sizes = SizeBuckets()
	classes := map[detect.Class]*Counts{}
	classOf := func(c detect.Class) *Counts {
		if classes[c] == nil {
			classes[c] = &Counts{}
		}
		return classes[c]
	}
	r.Evaluated = 0
	for _, im := range r.Images {
		if im.Error != "" {
			continue
		}
		r.Evaluated++
		r.Total.Add(im.Counts)
		bounds := image.Rect(0, 0, im.Width, im.Height)
		for _, t := range im.Truths {
			c := classOf(t.Class)
			switch t.Outcome {
			case Excluded:
				c.Excluded++
				continue
			case Hit:
				c.Hits++
			case Miss:
				c.Misses++
			}
			c.Truths++
			if t.Class == detect.Plate {
				continue // plates are split by width (see plates.go)
			}
			b := &r.Sizes[bucketOf(r.Sizes, t.Box.Rect().Intersect(bounds).Dy())]
			b.Truths++
			if t.Outcome == Hit {
				b.Hits++
			}
		}
		for _, f := range im.Found {
			c := classOf(f.Class)
			switch f.Outcome {
			case FalsePositive:
				c.FP++
			case Ignored:
				c.Ignored++
			}
		}
	}
	for i := range r.Sizes {
		b := &r.Sizes[i]
		b.Recall = Counts{Truths: b.Truths, Hits: b.Hits}.Recall()
	}
	r.Classes = r.Classes[:0]
	for c, n := range classes {
		r.Classes = append(r.Classes, ClassResult{Class: c, Counts: *n, Recall: n.Recall(), Precision: n.Precision()})
	}
	slices.SortFunc(r.Classes, func(a, b ClassResult) int {
		if a.Class < b.Class {
			return -1
		}
		if a.Class > b.Class {
			return 1
		}
		return 0
	})
	r.Plates = plateBreakdown(r.Images)
	r.Recall = r.Total.Recall()
	r.Precision = r.Total.Precision()
	r.FPPerImage = perImage(r.Total.FP, r.Evaluated)
	for i := range r.Sweep {
		p := &r.Sweep[i]
		p.Recall, p.Precision = p.Counts.Recall(), p.Counts.Precision()
		p.FPPerImage = perImage(p.Counts.FP, r.Evaluated)
	}
}

func perImage(n, images int) float64 {
	if images == 0 {
		return 0
	}
	return round4(float64(n) / float64(images))
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
