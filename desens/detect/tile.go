package detect

import (
	"image"
	"math"
)

// Tile is one square model input cut from a frame: Src is the frame region,
// scaled by Scale (model pixels per frame pixel) and padded at the right and
// bottom when Src is not square.
type Tile struct {
	Src   image.Rectangle
	Scale float64
}

// ToFrame maps a point in model input coordinates back to the frame.
func (t Tile) ToFrame(x, y float64) (float64, float64) {
	return float64(t.Src.Min.X) + x/t.Scale, float64(t.Src.Min.Y) + y/t.Scale
}

// Pyramid plans multi-scale tiling for a model with a square input, so that
// small faces far from the camera are seen at full resolution while large
// ones still fit in one input.
type Pyramid struct {
	Input   int       // model input side in pixels
	Scales  []float64 // model pixels per frame pixel, one tiling level each
	Overlap float64   // fraction of a tile shared with its neighbour
}

// Tiles covers a w×h frame with tiles at every level, finishing with one
// tile holding the whole frame. Levels whose tiles would be larger than the
// frame are skipped: the whole-frame tile already sees at least as much.
func (p Pyramid) Tiles(w, h int) []Tile {
	var tiles []Tile
	long := max(w, h)
	for _, s := range p.Scales {
		side := int(math.Round(float64(p.Input) / s))
		if side >= long {
			continue
		}
		step := max(1, int(float64(side)*(1-p.Overlap)))
		for _, y := range starts(h, side, step) {
			for _, x := range starts(w, side, step) {
				r := image.Rect(x, y, x+side, y+side).Intersect(image.Rect(0, 0, w, h))
				tiles = append(tiles, Tile{Src: r, Scale: s})
			}
		}
	}
	tiles = append(tiles, Tile{Src: image.Rect(0, 0, w, h), Scale: float64(p.Input) / float64(long)})
	return tiles
}

// starts spreads tile origins evenly over [0, n-side] with at most step
// between them, so the last tile ends exactly at the edge.
func starts(n, side, step int) []int {
	if side >= n {
		return []int{0}
	}
	span := n - side
	count := (span+step-1)/step + 1
	out := make([]int, count)
	for i := range out {
		out[i] = int(math.Round(float64(span) * float64(i) / float64(count-1)))
	}
	return out
}
