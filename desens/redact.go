package desens

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
)

// Style is how a region is hidden.
type Style string

const (
	// StyleBlur pixelates to a few blocks and then blurs: it looks like a
	// blur, but no more than a handful of values per region survive, so no
	// deconvolution can bring the face back.
	StyleBlur     Style = "blur"
	StylePixelate Style = "pixelate"
	StyleSolid    Style = "solid"
)

// Shape is the outline of the mask inside each box.
type Shape string

const (
	ShapeEllipse Shape = "ellipse"
	ShapeRect    Shape = "rect"
	// ShapeQuad is a plate's own outline, four corners grown over its
	// frame and screws (HiddenRegion.Quad); it is never asked for, only
	// reported, and used only where a detector gives the corners.
	ShapeQuad Shape = "quad"
)

// ParseStyle reads a style name.
func ParseStyle(s string) (Style, error) {
	switch st := Style(s); st {
	case StyleBlur, StylePixelate, StyleSolid:
		return st, nil
	}
	return "", optionErr("unknown style %q (want blur, pixelate or solid)", s)
}

// ParseShape reads a shape name.
func ParseShape(s string) (Shape, error) {
	switch sh := Shape(s); sh {
	case ShapeEllipse, ShapeRect:
		return sh, nil
	}
	return "", optionErr("unknown shape %q (want ellipse or rect)", s)
}

// blocksAcross is how many pixelation blocks span a region's shorter side.
// Four keeps a face's overall colour and nothing that identifies it; with
// six, the face detector itself still finds redacted heads.
const blocksAcross = 4

// textBlocksAcross is the same for plates and text lines, whose shorter
// side is about one character high: with four blocks a character keeps
// about eight values, and plate de-pixelation works by matching such
// blocks against a known alphabet. Two leave about one value per character.
const textBlocksAcross = 2

// washBlock is the block size, in pixels, at which the blur style's wash
// is computed (see hide).
const washBlock = 8

// ellipseSlack widens an ellipse so that it still covers the corners of the
// detector's box after expansion (an inscribed ellipse would not).
const ellipseSlack = 1.15

// redactor hides regions of frames in place.
type redactor struct {
	Style  Style
	Shape  Shape
	Expand float64

	blocks int // blocks across the shorter side; 0 means blocksAcross
	// quad, with ShapeQuad, is the outline hidden, in frame pixels,
	// already grown by Expand: it lies inside grow of the box it goes with.
	quad []image.Point

	onFrame func(FrameRegions) // Options.OnFrame
}

// Region returns the area a detection box is redacted over: the box grown
// by Expand (and the ellipse slack) about its centre, clipped to bounds.
func (r redactor) Region(box, bounds image.Rectangle) image.Rectangle {
	return r.grow(box).Intersect(bounds)
}

// grow is Region before clipping: the ellipse is drawn in it, so a face cut
// by the frame edge still gets the part of the ellipse that is in frame.
func (r redactor) grow(box image.Rectangle) image.Rectangle {
	f := r.Expand
	if r.Shape == ShapeEllipse {
		f *= ellipseSlack
	}
	cx, cy := float64(box.Min.X+box.Max.X)/2, float64(box.Min.Y+box.Max.Y)/2
	hw, hh := float64(box.Dx())*f/2, float64(box.Dy())*f/2
	return image.Rect(int(cx-hw), int(cy-hh), int(cx+hw+0.999), int(cy+hh+0.999))
}

// shapeFor is the mask shape for a class. Text and plates are always
// hidden with rectangles: an ellipse leaves the ends of a line of text, and
// a plate's corner characters and screws, readable.
func (r redactor) shapeFor(c detect.Class) Shape {
	if c == detect.Overlay || c == detect.Plate {
		return ShapeRect
	}
	return r.Shape
}

// RedactDetections hides every detection in img, and every box the
// tracker added, each with its class's shape.
func (r redactor) RedactDetections(img *gocv.Mat, dets []detect.Detection, extra []trackedBox) {
	r.hideRegions(img, r.hidden(dets, extra, image.Rect(0, 0, img.Cols(), img.Rows())))
}

// hideRegions hides each region hidden lists in img.
func (r redactor) hideRegions(img *gocv.Mat, regions []HiddenRegion) {
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	for _, h := range regions {
		rc := r.forClass(h.Class)
		rc.Shape, rc.quad = h.Shape, h.Quad
		if reg := h.Box.Intersect(bounds); reg.Dx() >= 1 && reg.Dy() >= 1 {
			rc.hide(img, reg, h.Box)
		}
	}
}

// forClass is the redactor set for class c: its shape, and for text and
// plates pixelation blocks counted across the region.
func (r redactor) forClass(c detect.Class) redactor {
	rc := r
	rc.Shape = r.shapeFor(c)
	if c == detect.Plate || c == detect.Overlay {
		rc.blocks = textBlocksAcross
	}
	return rc
}

// forDetection is how d is hidden: the redactor set for its class, and
// the box it grows.
func (r redactor) forDetection(d detect.Detection) (redactor, image.Rectangle) {
	rc := r.forClass(d.Class)
	box := d.Box
	if d.Class == detect.Plate {
		box = detect.PlateCover(box) // the frame and screws too
		if q := detect.PlateQuadCover(d.Quad); q != nil {
			// A plate with its corners is hidden over its own outline,
			// grown as the box would be; corners that are not a convex
			// quadrilateral leave the rectangle above.
			box = pointsBounds(q)
			rc.Shape, rc.quad = ShapeQuad, scalePoints(q, box, r.Expand)
		}
	}
	return rc, box
}

// hidden lists what RedactDetections hides of dets and extra in a frame
// of bounds. A plate box's slack is added to its cover rather than grown
// with it: the plate's frame, screws and Expand are shares of the plate,
// not of the ground it may have moved over.
func (r redactor) hidden(dets []detect.Detection, extra []trackedBox, bounds image.Rectangle) []HiddenRegion {
	out := make([]HiddenRegion, 0, len(dets)+len(extra))
	add := func(d detect.Detection, slack image.Point) {
		if d.Class != detect.Plate {
			slack = image.Point{}
		}
		d.Box = outset(d.Box, slack.Mul(-1))
		rc, box := r.forDetection(d)
		if full := outset(rc.grow(box), slack); full.Overlaps(bounds) {
			out = append(out, HiddenRegion{Class: d.Class, Box: full, Shape: rc.Shape, Quad: rc.quad})
		}
	}
	for _, d := range dets {
		add(d, image.Point{})
	}
	for _, e := range extra {
		add(e.Detection, e.slack)
	}
	return out
}

// MaskAll hides a whole frame: used when a frame could not be examined.
func (r redactor) MaskAll(img *gocv.Mat) {
	img.SetTo(gocv.NewScalar(128, 128, 128, 0))
}

func (r redactor) hide(img *gocv.Mat, reg, full image.Rectangle) {
	roi := img.Region(reg)
	defer roi.Close()
	w, h := reg.Dx(), reg.Dy()
	if r.Style == StyleSolid {
		fill := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, img.Type())
		defer fill.Close()
		r.paste(fill, &roi, full.Sub(reg.Min), reg.Min)
		return
	}
	// The wash is computed over a wider context than the region: a region
	// averaged on its own keeps a skin-coloured oval that detectors (and
	// people) still read as a head.
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	ctxReg := image.Rect(reg.Min.X-w/4, reg.Min.Y-h/4, reg.Max.X+w/4, reg.Max.Y+h/4).Intersect(bounds)
	if r.Style == StylePixelate {
		ctxReg = reg // blocks must line up with the region's own edges
	}
	src := img.Region(ctxReg)
	defer src.Close()
	cw, ch := ctxReg.Dx(), ctxReg.Dy()
	blocks := r.blocks
	if blocks == 0 {
		blocks = blocksAcross
	}
	block := max(1, min(w, h)/blocks)
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(src, &small, image.Pt(max(1, cw/block), max(1, ch/block)), 0, 0, gocv.InterpolationArea)
	hidden := gocv.NewMat()
	defer hidden.Close()
	if r.Style == StylePixelate {
		gocv.Resize(small, &hidden, image.Pt(cw, ch), 0, 0, gocv.InterpolationNearestNeighbor)
	} else {
		// A blur half a block wide melts the blocks into a smooth wash. It
		// is done where a block is at most washBlock px and then stretched:
		// a kernel as wide as a large block costs many times more, for a
		// result no eye can tell apart (it holds only small's few values).
		f := min(1, float64(washBlock)/float64(block))
		mw, mh := max(1, int(float64(cw)*f+0.5)), max(1, int(float64(ch)*f+0.5))
		up := gocv.NewMat()
		defer up.Close()
		gocv.Resize(small, &up, image.Pt(mw, mh), 0, 0, gocv.InterpolationLinear)
		sigma := float64(block) * f / 2
		k := int(sigma*3)*2 + 1
		if f == 1 {
			gocv.GaussianBlur(up, &hidden, image.Pt(k, k), sigma, sigma, gocv.BorderReflect101)
		} else {
			wash := gocv.NewMat()
			defer wash.Close()
			gocv.GaussianBlur(up, &wash, image.Pt(k, k), sigma, sigma, gocv.BorderReflect101)
			gocv.Resize(wash, &hidden, image.Pt(cw, ch), 0, 0, gocv.InterpolationLinear)
		}
	}
	part := hidden.Region(reg.Sub(ctxReg.Min))
	defer part.Close()
	r.paste(part, &roi, full.Sub(reg.Min), reg.Min)
}

// paste copies hidden over roi inside the mask shape; full is the unclipped
// region in roi's coordinates, and origin is roi's top left in the frame.
func (r redactor) paste(hidden gocv.Mat, roi *gocv.Mat, full image.Rectangle, origin image.Point) {
	if r.Shape == ShapeRect || (r.Shape == ShapeQuad && len(r.quad) < 3) {
		hidden.CopyTo(roi)
		return
	}
	w, h := roi.Cols(), roi.Rows()
	mask := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U)
	defer mask.Close()
	if r.Shape == ShapeQuad {
		pts := make([]image.Point, len(r.quad))
		for i, p := range r.quad {
			pts[i] = p.Sub(origin)
		}
		pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
		defer pv.Close()
		gocv.FillPoly(&mask, pv, color.RGBA{255, 255, 255, 0})
		hidden.CopyToWithMask(roi, mask)
		return
	}
	// The ellipse fills the unclipped region; grow already added the slack.
	c := image.Pt((full.Min.X+full.Max.X)/2, (full.Min.Y+full.Max.Y)/2)
	gocv.Ellipse(&mask, c, image.Pt(max(1, full.Dx()/2), max(1, full.Dy()/2)), 0, 0, 360, color.RGBA{255, 255, 255, 0}, -1)
	hidden.CopyToWithMask(roi, mask)
}

// redactStage hides every region found or tracked in each frame, or the whole
// frame if it could not be examined, and records what it did.
func (p *pipeline) redactStage(ctx context.Context, in <-chan *frame, out chan<- *frame) error {
	defer close(out)
	for f := range in {
		t := time.Now()
		if err := p.redactFrame(f); err != nil {
			f.img.Close()
			return err
		}
		p.clock.add("redact", time.Since(t))
		if err := send(ctx, out, f); err != nil {
			f.img.Close()
			return err
		}
	}
	return nil
}

func (p *pipeline) redactFrame(f *frame) error {
	if f.err != nil {
		if p.strict {
			return fileErr(p.name, "detect", fmt.Errorf("%w: frame %d: %v", ErrDetection, f.seq, f.err))
		}
		p.redactor.MaskAll(&f.img)
		p.report.MaskedFrames = append(p.report.MaskedFrames, f.seq)
		p.report.MaskReasons = append(p.report.MaskReasons, fmt.Sprintf("frame %d: %v", f.seq, f.err))
		if p.redactor.onFrame != nil {
			p.redactor.onFrame(FrameRegions{File: p.name, Frame: f.seq, Masked: true})
		}
		return nil
	}
	for _, d := range f.dets {
		p.report.Detections[d.Class]++
	}
	regions := p.redactor.hidden(f.dets, f.extra, image.Rect(0, 0, f.img.Cols(), f.img.Rows()))
	p.redactor.hideRegions(&f.img, regions)
	p.report.Redacted += len(f.dets) + len(f.extra)
	if p.redactor.onFrame != nil {
		p.redactor.onFrame(FrameRegions{File: p.name, Frame: f.seq, Hidden: regions})
	}
	return nil
}

// pointsBounds is the smallest rectangle holding every point (pixels
// included: Max is one past the largest coordinate).
func pointsBounds(pts []image.Point) image.Rectangle {
	r := image.Rectangle{Min: pts[0], Max: pts[0]}
	for _, p := range pts[1:] {
		r.Min.X, r.Min.Y = min(r.Min.X, p.X), min(r.Min.Y, p.Y)
		r.Max.X, r.Max.Y = max(r.Max.X, p.X), max(r.Max.Y, p.Y)
	}
	r.Max = r.Max.Add(image.Pt(1, 1))
	return r
}

// scalePoints grows pts by f about the centre of box, as grow grows box,
// rounding outwards.
func scalePoints(pts []image.Point, box image.Rectangle, f float64) []image.Point {
	cx, cy := float64(box.Min.X+box.Max.X)/2, float64(box.Min.Y+box.Max.Y)/2
	out := make([]image.Point, len(pts))
	for i, p := range pts {
		x, y := cx+(float64(p.X)-cx)*f, cy+(float64(p.Y)-cy)*f
		if x < cx {
			x = math.Floor(x)
		} else {
			x = math.Ceil(x)
		}
		if y < cy {
			y = math.Floor(y)
		} else {
			y = math.Ceil(y)
		}
		out[i] = image.Pt(int(x), int(y))
	}
	return out
}
