package eval

import (
	"image"
	"slices"

	"github.com/desens/desens/desens/detect"
)

// PlateGroup is the plate figures of one group: a plate type or a width
// range.
type PlateGroup struct {
	Name      string  `json:"name"`
	Truths    int     `json:"gt"`
	Hits      int     `json:"hits"`
	FP        int     `json:"fp"`
	Recall    float64 `json:"recall"`
	Precision float64 `json:"precision"`
}

// PlateResult breaks plate results down.
//
// By type: a labelled plate counts for its own type ("" is "untyped"). A
// false positive has no type, so it counts for the type of the plates
// labelled in its image when they are all of one type ("mixed" when not,
// "no plate" when the image has none): the held-out synthetic set puts one
// plate type in each frame for this reason.
//
// By width: a labelled plate counts by its box width (clipped to the
// image), a false positive by the width of the detector's box, which is
// the plate itself (the redactor grows it over frame and screws later).
type PlateResult struct {
	Types  []PlateGroup `json:"types"`
	Widths []PlateGroup `json:"widths"`
	// LargestFalse is the part of its frame the largest false plate box
	// covers (in the frame, before the redactor grows it), and
	// LargestFalseImage that frame: a false box that large hides what the
	// frame is for.
	LargestFalse      float64 `json:"largest_false"`
	LargestFalseImage string  `json:"largest_false_image,omitempty"`
}

// plateWidthEdges split plates by width in pixels: under 30 px a plate is
// hard to read for people too; the acceptance figures are for >= 30.
var plateWidthEdges = []int{0, 30, 60, 120}

func plateWidthGroups() []PlateGroup {
	out := []PlateGroup{}
	for i, lo := range plateWidthEdges {
		name := ">=" + itoa(lo)
		switch {
		case i == 0:
			name = "<" + itoa(plateWidthEdges[1])
		case i < len(plateWidthEdges)-1:
			name = itoa(lo) + "-" + itoa(plateWidthEdges[i+1])
		}
		out = append(out, PlateGroup{Name: name})
	}
	return append(out, PlateGroup{Name: "all >=30"})
}

// plateWidthGroup returns the indexes of the width groups a width falls in:
// its own range, and "all >=30" when it applies.
func plateWidthGroup(w int) []int {
	idx := 0
	for i, lo := range plateWidthEdges {
		if w >= lo {
			idx = i
		}
	}
	if w >= 30 {
		return []int{idx, len(plateWidthEdges)}
	}
	return []int{idx}
}

func plateBreakdown(images []ImageResult) *PlateResult {
	res := &PlateResult{Widths: plateWidthGroups()}
	types := map[string]*PlateGroup{}
	typeOf := func(name string) *PlateGroup {
		if types[name] == nil {
			types[name] = &PlateGroup{Name: name}
		}
		return types[name]
	}
	seen := false
	for _, im := range images {
		if im.Error != "" {
			continue
		}
		bounds := image.Rect(0, 0, im.Width, im.Height)
		imageType := ""
		for _, t := range im.Truths {
			if t.Class != detect.Plate || t.Outcome == Excluded {
				continue
			}
			seen = true
			name := t.Type
			if name == "" {
				name = "untyped"
			}
			switch imageType {
			case "":
				imageType = name
			case name:
			default:
				imageType = "mixed"
			}
			g := typeOf(name)
			g.Truths++
			hit := t.Outcome == Hit
			if hit {
				g.Hits++
			}
			for _, i := range plateWidthGroup(t.Box.Rect().Intersect(bounds).Dx()) {
				res.Widths[i].Truths++
				if hit {
					res.Widths[i].Hits++
				}
			}
		}
		if imageType == "" {
			imageType = "no plate"
		}
		for _, f := range im.Found {
			if f.Class != detect.Plate || f.Outcome != FalsePositive {
				continue
			}
			seen = true
			typeOf(imageType).FP++
			in := f.Box.Rect().Intersect(bounds)
			if part := float64(in.Dx()*in.Dy()) / float64(max(1, im.Width*im.Height)); part > res.LargestFalse {
				res.LargestFalse, res.LargestFalseImage = part, im.Name
			}
			for _, i := range plateWidthGroup(f.Box.Rect().Dx()) {
				res.Widths[i].FP++
			}
		}
	}
	if !seen {
		return nil
	}
	for _, g := range types {
		res.Types = append(res.Types, *g)
	}
	slices.SortFunc(res.Types, func(a, b PlateGroup) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	for _, gs := range [][]PlateGroup{res.Types, res.Widths} {
		for i := range gs {
			c := Counts{Truths: gs[i].Truths, Hits: gs[i].Hits, FP: gs[i].FP}
			gs[i].Recall, gs[i].Precision = c.Recall(), c.Precision()
		}
	}
	return res
}
