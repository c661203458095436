package detect

import (
	"sort"
)

// candidate is a scored box before suppression.
type candidate struct {
	box   rectF
	score float64
	quad  *quadF  // the plate's corners, from a detector that finds them
	peak  float64 // the detector's own score, before any second look
	ver   float64 // the verifier's probability (0: not looked at)
	large bool    // a large plate box kept only if its reading has digits
	// closeUp marks a corner candidate of the close-up view (see
	// PlateConfig.CornerCloseUp).
	closeUp bool
	// turned marks one of a turned view (PlateConfig.CornerTurn): the
	// verifier sees it cut along its corners.
	turned bool
}

// sortByScore orders candidates strongest first, keeping ties in order.
func sortByScore(cands []candidate) {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
}

// mergeBoxes suppresses overlapping candidates, strongest first. Boxes
// that overlap the kept one (IoU at least iouThresh) are merged into it,
// each weighted by its score, which steadies a box that several anchors
// and scales agree on. A box mostly inside the kept one, or holding it
// (70% of the smaller's area), is dropped without being averaged in: a
// coarse scale sometimes boxes a car rear round its plate, or head and
// shoulders round a face, and the mean of the two fits neither.
func mergeBoxes(cands []candidate, iouThresh float64) []candidate {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	used := make([]bool, len(cands))
	var out []candidate
	for i, c := range cands {
		if used[i] {
			continue
		}
		var sx0, sy0, sx1, sy1, sw float64
		for j := i; j < len(cands); j++ {
			if used[j] {
				continue
			}
			o := cands[j]
			in := c.box.intersect(o.box)
			overlap := in / (c.box.area() + o.box.area() - in)
			contained := in / min(c.box.area(), o.box.area())
			if j != i && overlap < iouThresh && contained < 0.7 {
				continue
			}
			used[j] = true
			if j != i && overlap < iouThresh {
				continue
			}
			w := o.score
			sx0 += o.box.x0 * w
			sy0 += o.box.y0 * w
			sx1 += o.box.x1 * w
			sy1 += o.box.y1 * w
			sw += w
		}
		if c.quad != nil {
			// Corners are the plate's own outline; averaging them with
			// other boxes would loosen it.
			out = append(out, c)
			continue
		}
		out = append(out, candidate{box: rectF{sx0 / sw, sy0 / sw, sx1 / sw, sy1 / sw}, score: c.score, peak: c.peak, ver: c.ver, large: c.large})
	}
	return out
}
