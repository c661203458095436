package detect

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// hyperLPRStride is the number of floats per anchor in the corner
// detector's output: cx, cy, w, h, objectness, four corners (x, y), then
// the single-row and double-row class scores.
const hyperLPRStride = 15

// cornerDetector runs a YOLOv5-style plate detector with four corner
// points per box (HyperLPR3's, trained on real Chinese plates; see
// models/README.md) on the whole frame letterboxed into its square input.
// It is safe for concurrent use.
type cornerDetector struct {
	sess *onnx.BatchedSession
	size int // the model's square input side
}

func newCornerDetector(rt *onnx.Runtime, model []byte, so onnx.SessionOptions) (*cornerDetector, error) {
	size, err := squareInput(model)
	if err != nil {
		return nil, fmt.Errorf("plate corner model: %w", err)
	}
	sess, err := rt.NewBatchedSession("plate corners", model, []string{"input"}, []string{"output"}, so)
	if err != nil {
		return nil, fmt.Errorf("plate corner model: %w", err)
	}
	return &cornerDetector{sess: sess, size: size}, nil
}

func (c *cornerDetector) Close() error { return c.sess.Close() }

// squareInput reads the side of the model's N×3×S×S input, whose side is
// fixed and whose batch N is 1 or given at run time (-1).
func squareInput(model []byte) (int, error) {
	in, err := onnx.InputShapes(model)
	if err != nil {
		return 0, err
	}
	if len(in) != 1 || len(in[0]) != 4 || (in[0][0] != 1 && in[0][0] != -1) || in[0][1] != 3 || in[0][2] != in[0][3] || in[0][2] < 32 {
		return 0, fmt.Errorf("want one N×3×S×S input (N 1 or dynamic, S fixed), got %v", in)
	}
	return int(in[0][2]), nil
}

// letterbox converts a BGR frame into the model's input: the frame scaled
// so that it fits the square with its aspect kept, its longer side spanning
// fill of the square's (1: the whole square), centred on black, planar RGB
// scaled to [0, 1]. It returns the data, the scale and the offset of the
// frame in the square.
func letterbox(img gocv.Mat, size int, fill float64) ([]float32, float64, image.Point, error) {
	s := fill * math.Min(float64(size)/float64(img.Cols()), float64(size)/float64(img.Rows()))
	w := min(size, max(1, int(math.Round(float64(img.Cols())*s))))
	h := min(size, max(1, int(math.Round(float64(img.Rows())*s))))
	resized := gocv.NewMat()
	defer resized.Close()
	interp := gocv.InterpolationArea
	if s > 1 {
		interp = gocv.InterpolationLinear
	}
	gocv.Resize(img, &resized, image.Pt(w, h), 0, 0, interp)
	px, err := resized.DataPtrUint8()
	if err != nil {
		return nil, 0, image.Point{}, fmt.Errorf("plate corner model: %w", err)
	}
	off := image.Pt((size-w)/2, (size-h)/2)
	return planarRGB(px, w, h, size, off), s, off, nil
}

// planarRGB places w×h BGR pixels at off in a size×size square of planar
// RGB scaled to [0, 1], black elsewhere.
func planarRGB(px []uint8, w, h, size int, off image.Point) []float32 {
	plane := size * size
	in := make([]float32, 3*plane)
	for y := 0; y < h; y++ {
		row := px[y*w*3 : (y+1)*w*3]
		o := (y+off.Y)*size + off.X
		r, g, b := in[o:], in[plane+o:], in[2*plane+o:]
		for x := 0; x < w; x++ {
			b[x] = float32(row[x*3]) / 255
			g[x] = float32(row[x*3+1]) / 255
			r[x] = float32(row[x*3+2]) / 255
		}
	}
	return in
}

// turnedLetterbox is letterbox for the frame turned by deg degrees
// (anticlockwise as seen) about its centre: the turned frame fits the
// square, its bounds' longer side spanning fill of it. It returns the data
// and the map from the square back to the frame.
func turnedLetterbox(img gocv.Mat, size int, fill, deg float64) ([]float32, func(pointF) pointF, error) {
	rad := deg * math.Pi / 180
	cos, sin := math.Cos(rad), math.Sin(rad)
	fw, fh := float64(img.Cols()), float64(img.Rows())
	bw, bh := fw*math.Abs(cos)+fh*math.Abs(sin), fw*math.Abs(sin)+fh*math.Abs(cos)
	s := fill * math.Min(float64(size)/bw, float64(size)/bh)
	w, h := max(1, int(math.Round(fw*s))), max(1, int(math.Round(fh*s)))
	resized := gocv.NewMat()
	defer resized.Close()
	gocv.Resize(img, &resized, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	// q = R(p - c) + centre, R as OpenCV turns an image anticlockwise.
	cx, cy, mid := float64(w)/2, float64(h)/2, float64(size)/2
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer m.Close()
	for i, v := range []float64{cos, sin, mid - cos*cx - sin*cy, -sin, cos, mid + sin*cx - cos*cy} {
		m.SetDoubleAt(i/3, i%3, v)
	}
	turned := gocv.NewMat()
	defer turned.Close()
	gocv.WarpAffineWithParams(resized, &turned, m, image.Pt(size, size), gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{})
	px, err := turned.DataPtrUint8()
	if err != nil {
		return nil, nil, fmt.Errorf("plate corner model: %w", err)
	}
	sx, sy := float64(w)/fw, float64(h)/fh // s, as rounded to whole pixels
	back := func(q pointF) pointF {
		dx, dy := q.x-mid, q.y-mid
		return pointF{(cos*dx - sin*dy + cx) / sx, (sin*dx + cos*dy + cy) / sy}
	}
	return planarRGB(px, size, size, size, image.Point{}), back, nil
}

// cornerView is one view of a frame for the corner detector: its longer
// side spans fill of the square, turned by turn degrees (see
// turnedLetterbox).
type cornerView struct{ fill, turn float64 }

// detect returns the frame's plate candidates scoring at least thresh,
// each with its four corners, in frame pixels, merged by NMS at nmsIoU,
// for each of views, all in one model run.
func (c *cornerDetector) detect(ctx context.Context, img gocv.Mat, thresh, nmsIoU float64, views ...cornerView) ([][]candidate, error) {
	plane := 3 * c.size * c.size
	in := make([]float32, 0, len(views)*plane)
	backs := make([]func(candidate) candidate, len(views))
	for i, v := range views {
		if v.turn == 0 {
			data, s, off, err := letterbox(img, c.size, v.fill)
			if err != nil {
				return nil, err
			}
			in, backs[i] = append(in, data...), func(cd candidate) candidate { return cd.unletterbox(s, off) }
			continue
		}
		data, back, err := turnedLetterbox(img, c.size, v.fill, v.turn)
		if err != nil {
			return nil, err
		}
		in, backs[i] = append(in, data...), func(cd candidate) candidate { return cd.mapped(back) }
	}
	n := int64(len(views))
	outs, err := c.sess.Run(ctx, [][]float32{in}, [][]int64{{n, 3, int64(c.size), int64(c.size)}})
	if err != nil {
		return nil, fmt.Errorf("plate corner model: inference: %w", err)
	}
	o := outs[0]
	if len(o.Shape) != 3 || o.Shape[0] != n || o.Shape[2] != hyperLPRStride {
		return nil, fmt.Errorf("plate corner model: unexpected output shape %v", o.Shape)
	}
	per := len(o.Data) / int(n)
	out := make([][]candidate, len(views))
	for i := range views {
		view := nmsCorners(decodeCorners(o.Data[i*per:(i+1)*per], thresh), nmsIoU)
		for k := range view {
			view[k] = backs[i](view[k])
		}
		out[i] = view
	}
	return out, nil
}

// decodeCorners reads the anchors whose objectness × best class score
// reaches thresh, in model input pixels.
func decodeCorners(out []float32, thresh float64) []candidate {
	var cands []candidate
	for i := 0; i+hyperLPRStride <= len(out); i += hyperLPRStride {
		a := out[i : i+hyperLPRStride]
		obj := float64(a[4])
		if obj < thresh {
			continue
		}
		score := obj * float64(max(a[13], a[14]))
		if score < thresh {
			continue
		}
		cx, cy, w, h := float64(a[0]), float64(a[1]), float64(a[2]), float64(a[3])
		q := &quadF{}
		for k := range 4 {
			q[k] = pointF{float64(a[5+2*k]), float64(a[6+2*k])}
		}
		cands = append(cands, candidate{box: rectF{cx - w/2, cy - h/2, cx + w/2, cy + h/2}, score: score, quad: q})
	}
	return cands
}

// nmsCorners keeps the strongest of each group of candidates overlapping
// at IoU ≥ iou, corners and all (averaging corners of different anchors
// would blur them).
func nmsCorners(cands []candidate, iou float64) []candidate {
	sortByScore(cands)
	var out []candidate
	for _, c := range cands {
		keep := true
		for _, k := range out {
			if k.box.iou(c.box) >= iou {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

// unletterbox maps a candidate from the model's square back to the frame.
func (c candidate) unletterbox(s float64, off image.Point) candidate {
	ox, oy := float64(off.X), float64(off.Y)
	c.box = rectF{(c.box.x0 - ox) / s, (c.box.y0 - oy) / s, (c.box.x1 - ox) / s, (c.box.y1 - oy) / s}
	if c.quad != nil {
		q := *c.quad
		for k := range q {
			q[k] = pointF{(q[k].x - ox) / s, (q[k].y - oy) / s}
		}
		c.quad = &q
	}
	return c
}

// mapped maps a candidate from a turned view back to the frame: its
// corners point by point, its box to the bounds of its turned corners.
func (c candidate) mapped(back func(pointF) pointF) candidate {
	b := quadF{{c.box.x0, c.box.y0}, {c.box.x1, c.box.y0}, {c.box.x1, c.box.y1}, {c.box.x0, c.box.y1}}
	for k := range b {
		b[k] = back(b[k])
	}
	c.box = b.bounds()
	if c.quad != nil {
		q := *c.quad
		for k := range q {
			q[k] = back(q[k])
		}
		c.quad = &q
	}
	return c
}

// pointF is a point in frame pixels, before rounding.
type pointF struct{ x, y float64 }

// quadF is a plate's four corners, in the model's order.
type quadF [4]pointF

// bounds is the smallest box holding the four corners.
func (q quadF) bounds() rectF {
	r := rectF{q[0].x, q[0].y, q[0].x, q[0].y}
	for _, p := range q[1:] {
		r.x0, r.y0 = min(r.x0, p.x), min(r.y0, p.y)
		r.x1, r.y1 = max(r.x1, p.x), max(r.y1, p.y)
	}
	return r
}

// hull returns the corners in order round the quadrilateral (by angle
// about their centre), whatever order the model gave them in, or false
// when they do not make a convex quadrilateral of some area.
func (q quadF) hull() (quadF, bool) {
	var cx, cy float64
	for _, p := range q {
		cx += p.x / 4
		cy += p.y / 4
	}
	out := q
	ang := func(p pointF) float64 { return math.Atan2(p.y-cy, p.x-cx) }
	for i := 1; i < 4; i++ { // insertion sort by angle
		for j := i; j > 0 && ang(out[j]) < ang(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	sign := 0.0
	for i := range 4 {
		a, b, c := out[i], out[(i+1)%4], out[(i+2)%4]
		cross := (b.x-a.x)*(c.y-b.y) - (b.y-a.y)*(c.x-b.x)
		if cross == 0 || (sign != 0 && math.Signbit(cross) != math.Signbit(sign)) {
			return q, false
		}
		sign = cross
	}
	return out, true
}

// area is the quadrilateral's area (corners in order round it).
func (q quadF) area() float64 {
	var s float64
	for i := range 4 {
		a, b := q[i], q[(i+1)%4]
		s += a.x*b.y - b.x*a.y
	}
	return math.Abs(s) / 2
}

// tilt is the angle in degrees, 0-90, between the quadrilateral's longer
// sides (corners in order round it) and the horizontal.
func (q quadF) tilt() float64 {
	_, u, _, _ := q.axes()
	a := math.Abs(math.Atan2(u.y, u.x)) * 180 / math.Pi
	return min(a, 180-a)
}

// sides returns the mean length of the two longer-axis sides and of the
// two shorter-axis sides (corners in order round it): the plate's width
// and height as seen, whatever the tilt.
func (q quadF) sides() (w, h float64) {
	d := func(a, b pointF) float64 { return math.Hypot(b.x-a.x, b.y-a.y) }
	s02 := (d(q[0], q[1]) + d(q[2], q[3])) / 2
	s13 := (d(q[1], q[2]) + d(q[3], q[0])) / 2
	return max(s02, s13), min(s02, s13)
}

// trustedQuad returns the candidate's corners in order when they describe
// the plate its box holds: a convex quadrilateral that fills a fair part
// of the box and lies within it (with some slack). Otherwise the caller
// keeps the rectangle, which hides at least as much.
func (c candidate) trustedQuad() (quadF, bool) {
	if c.quad == nil {
		return quadF{}, false
	}
	q, ok := c.quad.hull()
	if !ok {
		return quadF{}, false
	}
	qb := q.bounds()
	if qb.area() <= 0 || q.area() < 0.25*qb.area() || qb.iou(c.box) < 0.5 {
		return quadF{}, false
	}
	return q, true
}

// growQuad grows a plate's corners over its holder frame and screws, as
// PlateCover grows a box, but along the plate's own axes: a tenth of its
// width and a quarter of its height, plus 2 px, on each side.
func growQuad(q quadF) quadF {
	w, h := q.sides()
	return q.grown(w*0.1+2, h*0.25+2)
}

// axes returns the quadrilateral's centre, the unit vector along its
// longer sides and the one across them (corners in order round it), or
// false when it has no extent.
func (q quadF) axes() (c, u, v pointF, ok bool) {
	for _, p := range q {
		c.x += p.x / 4
		c.y += p.y / 4
	}
	d := func(a, b pointF) pointF { return pointF{b.x - a.x, b.y - a.y} }
	u = d(q[0], q[1])
	if w := d(q[1], q[2]); math.Hypot(w.x, w.y) > math.Hypot(u.x, u.y) {
		u = w
	}
	n := math.Hypot(u.x, u.y)
	if n == 0 {
		return c, u, v, false
	}
	u = pointF{u.x / n, u.y / n}
	return c, u, pointF{-u.y, u.x}, true
}

// grown moves the corners (in order round the quadrilateral) padW out
// along its longer axis and padH out across it.
func (q quadF) grown(padW, padH float64) quadF {
	ctr, u, v, ok := q.axes()
	if !ok {
		return q
	}
	cx, cy := ctr.x, ctr.y
	var out quadF
	for k, p := range q {
		rx, ry := p.x-cx, p.y-cy
		su := math.Copysign(padW, rx*u.x+ry*u.y)
		sv := math.Copysign(padH, rx*v.x+ry*v.y)
		out[k] = pointF{p.x + su*u.x + sv*v.x, p.y + su*u.y + sv*v.y}
	}
	return out
}

func (q quadF) points() []image.Point {
	out := make([]image.Point, 4)
	for k, p := range q {
		out[k] = image.Pt(int(math.Round(p.x)), int(math.Round(p.y)))
	}
	return out
}

// PlateQuadCover grows a plate's four corners (Detection.Quad) over its
// holder frame and screws along the plate's own axes, as PlateCover grows
// a box. It returns nil when the corners are not a convex quadrilateral:
// the caller hides PlateCover of the box then.
func PlateQuadCover(quad []image.Point) []image.Point {
	if len(quad) != 4 {
		return nil
	}
	var q quadF
	for k, p := range quad {
		q[k] = pointF{float64(p.X), float64(p.Y)}
	}
	h, ok := q.hull()
	if !ok {
		return nil
	}
	return growQuad(h).points()
}
