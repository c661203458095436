package detect

import (
	"context"
	"image"
	"math"
	"slices"

	"gocv.io/x/gocv"
	"golang.org/x/sync/errgroup"
)

// ScanConfig says at which scales a fully convolutional face proposer
// (RetinaFace, YuNet) runs a frame, and how it cuts a large run into
// tiles.
type ScanConfig struct {
	// Scales are the model pixels per frame pixel the frame is run at.
	Scales []float64
	// FitSide adds one more run with the frame shrunk to this long side,
	// for faces that fill the frame (0: none).
	FitSide int
	// MaxPixels caps the frame's enlarged size: a scale that would exceed
	// it is lowered. It bounds the work on huge images.
	MaxPixels int
	// MinPixels adds a run finer than the finest of Scales where that one
	// leaves the frame with fewer pixels: enlarged to MinPixels, and at
	// most finerBy times the finest. A smaller frame shows the same far
	// faces in fewer pixels, under the size the finest scale was chosen
	// for (0: none).
	MinPixels int
	// TileSide cuts a run larger than this many model pixels a side into
	// overlapping tiles, bounding the memory one inference takes.
	TileSide int
}

// sizeBand bounds the box heights, in model pixels, a run keeps when a
// finer run (min) or a coarser run (max) also looks at the frame: each
// size is taken from the run that sees it best. max also sets how far
// tiles overlap. A video's coarsest run, made on every frame, keeps boxes
// down to least: the finer runs see a face there only once in Every
// frames, and a face that shows itself for fewer frames would be missed.
type sizeBand struct{ min, max, least float64 }

// finerBy bounds the run MinPixels adds, in the finest scale: a
// proposer's boxes of an enlarged frame are only as sharp as its pixels.
const finerBy = 1.5

// runScales lists the scales one w×h frame is run at, finest first.
func (c ScanConfig) runScales(w, h int) []float64 {
	var out []float64
	limit := math.Inf(1)
	if c.MaxPixels > 0 {
		limit = math.Sqrt(float64(c.MaxPixels) / float64(w*h))
	}
	for _, s := range c.Scales {
		out = append(out, min(s, limit))
	}
	if c.MinPixels > 0 && len(c.Scales) > 0 {
		finest := slices.Max(c.Scales)
		if s := min(math.Sqrt(float64(c.MinPixels)/float64(w*h)), finest*finerBy, limit); s > finest*1.01 {
			out = append(out, s)
		}
	}
	if c.FitSide > 0 {
		fit := float64(c.FitSide) / float64(max(w, h))
		if len(out) == 0 || fit < slices.Min(out)*0.75 {
			out = append(out, fit)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return slices.Compact(out)
}

// inferences reports how many model runs one w×h frame takes when tiles
// overlap for boxes up to maxBox model pixels.
func (c ScanConfig) inferences(w, h int, maxBox float64) int {
	n := 0
	for _, s := range c.runScales(w, h) {
		n += len(c.tiles(w, h, s, maxBox))
	}
	return n
}

// tiles cuts the w×h frame, run at scale s, into as few regions of at
// most TileSide model pixels a side as it can, overlapping by more than
// maxBox, the largest box (in model pixels) the run keeps, so every face
// lies whole in one of them.
func (c ScanConfig) tiles(w, h int, s, maxBox float64) []image.Rectangle {
	full := image.Rect(0, 0, w, h)
	if c.TileSide <= 0 {
		return []image.Rectangle{full}
	}
	side := int(float64(c.TileSide) / s)
	overlap := int(maxBox/s) + 16
	if side <= 2*overlap {
		return []image.Rectangle{full}
	}
	sx, xs := split(w, side, overlap)
	sy, ys := split(h, side, overlap)
	var out []image.Rectangle
	for _, y := range ys {
		for _, x := range xs {
			out = append(out, image.Rect(x, y, x+sx, y+sy).Intersect(full))
		}
	}
	return out
}

// split covers n pixels with the fewest spans of at most maxSide that
// overlap by overlap, all of one length, and returns it and their starts.
func split(n, maxSide, overlap int) (int, []int) {
	if n <= maxSide {
		return n, []int{0}
	}
	step := maxSide - overlap
	count := (n - overlap + step - 1) / step
	side := (n + (count-1)*overlap + count - 1) / count
	return side, starts(n, side, side-overlap)
}

// tileRun infers on the region src of a BGR frame scaled by s and returns
// the boxes it finds in frame coordinates.
type tileRun func(ctx context.Context, img gocv.Mat, src image.Rectangle, s float64) ([]candidate, error)

// scanRun is one proposer run: the frame region src at scale s, keeping
// boxes from min to max model pixels high.
type scanRun struct {
	src      image.Rectangle
	s        float64
	min, max float64
}

// plan lists the runs scan makes on a w×h frame, finest first: every
// tile of every scale, each keeping the box heights band gives it.
func (c ScanConfig) plan(w, h int, band sizeBand) []scanRun {
	var runs []scanRun
	scales := c.runScales(w, h)
	for i, s := range scales {
		lo, hi := 0.0, math.Inf(1)
		if i > 0 {
			lo = band.min
		}
		if i < len(scales)-1 {
			hi = band.max
		}
		for _, src := range c.tiles(w, h, s, band.max) {
			runs = append(runs, scanRun{src: src, s: s, min: lo, max: hi})
		}
	}
	return runs
}

// do makes the run r and keeps the boxes in its size band.
func (r scanRun) do(ctx context.Context, img gocv.Mat, run tileRun) ([]candidate, error) {
	found, err := run(ctx, img, r.src, r.s)
	if err != nil {
		return nil, err
	}
	kept := found[:0]
	for _, f := range found {
		if side := f.box.h() * r.s; side >= r.min && side <= r.max {
			kept = append(kept, f)
		}
	}
	return kept, nil
}

// scan runs a proposer over a BGR frame at each of c's scales, tile by
// tile, keeps from each run the box heights band gives it and merges the
// boxes of all runs (IoU 0.4), strongest first. With parallel the runs
// are made at once (see doRuns).
func (c ScanConfig) scan(ctx context.Context, img gocv.Mat, band sizeBand, run tileRun, parallel bool) ([]candidate, error) {
	cands, err := doRuns(ctx, img, c.plan(img.Cols(), img.Rows(), band), run, parallel)
	if err != nil {
		return nil, err
	}
	return mergeBoxes(cands, 0.4), nil
}

// doRuns makes the runs on one frame and returns their boxes in run
// order. With parallel it makes them all at once, so that a batching
// session can put those of one shape in one model run; otherwise one
// after another.
func doRuns(ctx context.Context, img gocv.Mat, runs []scanRun, run tileRun, parallel bool) ([]candidate, error) {
	if !parallel || len(runs) < 2 {
		var cands []candidate
		for _, r := range runs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			found, err := r.do(ctx, img, run)
			if err != nil {
				return nil, err
			}
			cands = append(cands, found...)
		}
		return cands, nil
	}
	found := make([][]candidate, len(runs))
	g, gctx := errgroup.WithContext(ctx)
	for i, r := range runs {
		g.Go(func() error {
			var err error
			found[i], err = r.do(gctx, img, run)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(found...), nil
}

// planarInput is one model input: a frame region, scaled, laid out as
// planar float32 channels and padded at the right and bottom.
type planarInput struct {
	data   []float32
	w, h   int // the scaled region, in model pixels
	pw, ph int // the input, w and h rounded up to multiples of 32
}

// shape is the input's NCHW shape.
func (p planarInput) shape() []int64 { return []int64{1, 3, int64(p.ph), int64(p.pw)} }

// newPlanarInput scales the region src of a BGR frame by s into a planar
// float32 input of pixel values 0-255, padded with pad to multiples of
// 32. rgb puts the red channel first; otherwise the order stays BGR.
func newPlanarInput(img gocv.Mat, src image.Rectangle, s float64, rgb bool, pad float32) (planarInput, error) {
	w := max(1, int(math.Round(float64(src.Dx())*s)))
	h := max(1, int(math.Round(float64(src.Dy())*s)))
	roi := img.Region(src)
	defer roi.Close()
	scaled := gocv.NewMat()
	defer scaled.Close()
	interp := gocv.InterpolationLinear
	if s < 1 {
		interp = gocv.InterpolationArea // no aliasing when shrinking
	}
	gocv.Resize(roi, &scaled, image.Pt(w, h), 0, 0, interp)
	px, err := scaled.DataPtrUint8()
	if err != nil {
		return planarInput{}, err
	}
	p := planarInput{w: w, h: h, pw: (w + 31) / 32 * 32, ph: (h + 31) / 32 * 32}
	plane := p.pw * p.ph
	p.data = make([]float32, 3*plane)
	if pad != 0 {
		for i := range p.data {
			p.data[i] = pad
		}
	}
	// Blue goes to the first plane and red to the third, or the other
	// way round with rgb.
	blue, green, red := p.data[:plane], p.data[plane:2*plane], p.data[2*plane:]
	if rgb {
		blue, red = red, blue
	}
	for y := 0; y < h; y++ {
		row := px[y*w*3 : (y+1)*w*3]
		o := y * p.pw
		b, g, r := blue[o:o+w], green[o:o+w], red[o:o+w]
		for x := range b {
			c := row[3*x : 3*x+3 : 3*x+3]
			b[x], g[x], r[x] = float32(c[0]), float32(c[1]), float32(c[2])
		}
	}
	return p, nil
}

// tileEdge is how close, in model pixels, a box may come to a tile's inner
// edge before it counts as cut.
const tileEdge = 4

// toFrame maps boxes found in the region src of a frame of size frame,
// run at scale s as a w×h model input, to frame coordinates. A box
// reaching a tile edge inside the frame is a face cut in two: the
// neighbouring tile, which overlaps by more than any kept box, sees it
// whole. The half could otherwise win the suppression and leave the
// other half of the face unhidden, so it is dropped.
func toFrame(cands []candidate, src image.Rectangle, frame image.Point, s float64, w, h int) []candidate {
	inner := [4]bool{src.Min.X > 0, src.Min.Y > 0, src.Max.X < frame.X, src.Max.Y < frame.Y}
	out := cands[:0]
	for _, c := range cands {
		b := c.box
		if (inner[0] && b.x0 < tileEdge) || (inner[1] && b.y0 < tileEdge) ||
			(inner[2] && b.x1 > float64(w)-tileEdge) || (inner[3] && b.y1 > float64(h)-tileEdge) {
			continue
		}
		c.box = rectF{float64(src.Min.X) + b.x0/s, float64(src.Min.Y) + b.y0/s, float64(src.Min.X) + b.x1/s, float64(src.Min.Y) + b.y1/s}
		out = append(out, c)
	}
	return out
}
