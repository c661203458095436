package detect

import (
	"sort"
)

// candidate is a scored box before suppression.
type candidate struct {
	box   rectF
	score float64
	kp    [6][2]float64 // key points in frame coordinates: eyes, nose, mouth, ears
}

// weightedNMS merges overlapping candidates the way MediaPipe does for
// BlazeFace: each kept box is the score-weighted mean of the boxes it
// suppresses, which steadies boxes that several tiles and anchors agree on.
// Boxes mostly inside a stronger one (containment above the threshold) are
// merged too, since tiles at different scales report the same face with
// different extents.
func weightedNMS(cands []candidate, iouThresh float64) []candidate {
	return mergeNMS(cands, iouThresh, true)
}

// plateNMS is weightedNMS for plates, where a box that only contains or
// sits inside a stronger one is suppressed but not averaged in: the
// detector's coarsest scale sometimes boxes a whole car rear round its
// plate, and the mean of the two boxes fits neither.
func plateNMS(cands []candidate, iouThresh float64) []candidate {
	return mergeNMS(cands, iouThresh, false)
}

func mergeNMS(cands []candidate, iouThresh float64, averageContained bool) []candidate {
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
			if j != i && overlap < iouThresh && !averageContained {
				continue
			}
			w := o.score
			sx0 += o.box.x0 * w
			sy0 += o.box.y0 * w
			sx1 += o.box.x1 * w
			sy1 += o.box.y1 * w
			sw += w
		}
		out = append(out, candidate{box: rectF{sx0 / sw, sy0 / sw, sx1 / sw, sy1 / sw}, score: c.score, kp: c.kp})
	}
	return out
}
