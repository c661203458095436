package detect

import (
	"image"
	"math"
)

// Tile is one square model input cut from a frame: Src is the frame region,
// scaled by Scale (model pixels per frame pixel) and padded at the right and
// bottom when Src is not square. BlazeFace's second look feeds it crops.
type Tile struct {
	Src   image.Rectangle
	Scale float64
}

// ToFrame maps a point in model input coordinates back to the frame.
func (t Tile) ToFrame(x, y float64) (float64, float64) {
	return float64(t.Src.Min.X) + x/t.Scale, float64(t.Src.Min.Y) + y/t.Scale
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
