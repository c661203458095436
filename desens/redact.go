package desens

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"time"

	"gocv.io/x/gocv"
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
)

// ParseStyle reads a style name.
func ParseStyle(s string) (Style, error) {
	switch st := Style(s); st {
	case StyleBlur, StylePixelate, StyleSolid:
		return st, nil
	}
	return "", fmt.Errorf("unknown style %q (want blur, pixelate or solid)", s)
}

// ParseShape reads a shape name.
func ParseShape(s string) (Shape, error) {
	switch sh := Shape(s); sh {
	case ShapeEllipse, ShapeRect:
		return sh, nil
	}
	return "", fmt.Errorf("unknown shape %q (want ellipse or rect)", s)
}

// blocksAcross is how many pixelation blocks span a region's shorter side.
// Six keeps a face's overall colour and nothing that identifies it.
const blocksAcross = 6

// ellipseSlack widens an ellipse so that it still covers the corners of the
// detector's box after expansion (an inscribed ellipse would not).
const ellipseSlack = 1.15

// Redactor hides regions of frames in place.
type Redactor struct {
	Style  Style
	Shape  Shape
	Expand float64
}

// Region returns the area a detection box is redacted over: the box grown
// by Expand (and the ellipse slack) about its centre, clipped to bounds.
func (r Redactor) Region(box, bounds image.Rectangle) image.Rectangle {
	f := r.Expand
	if r.Shape == ShapeEllipse {
		f *= ellipseSlack
	}
	cx, cy := float64(box.Min.X+box.Max.X)/2, float64(box.Min.Y+box.Max.Y)/2
	hw, hh := float64(box.Dx())*f/2, float64(box.Dy())*f/2
	out := image.Rect(int(cx-hw), int(cy-hh), int(cx+hw+0.999), int(cy+hh+0.999))
	return out.Intersect(bounds)
}

// Redact hides every box in img.
func (r Redactor) Redact(img *gocv.Mat, boxes []image.Rectangle) {
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	for _, b := range boxes {
		reg := r.Region(b, bounds)
		if reg.Dx() < 1 || reg.Dy() < 1 {
			continue
		}
		r.hide(img, reg)
	}
}

// MaskAll hides a whole frame: used when a frame could not be examined.
func (r Redactor) MaskAll(img *gocv.Mat) {
	img.SetTo(gocv.NewScalar(128, 128, 128, 0))
}

func (r Redactor) hide(img *gocv.Mat, reg image.Rectangle) {
	roi := img.Region(reg)
	defer roi.Close()
	hidden := gocv.NewMat()
	defer hidden.Close()
	w, h := reg.Dx(), reg.Dy()
	switch r.Style {
	case StyleSolid:
		hidden = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, img.Type())
	default:
		block := max(1, min(w, h)/blocksAcross)
		small := gocv.NewMat()
		gocv.Resize(roi, &small, image.Pt(max(1, w/block), max(1, h/block)), 0, 0, gocv.InterpolationArea)
		if r.Style == StylePixelate {
			gocv.Resize(small, &hidden, image.Pt(w, h), 0, 0, gocv.InterpolationNearestNeighbor)
		} else {
			up := gocv.NewMat()
			gocv.Resize(small, &up, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
			k := block | 1
			gocv.GaussianBlur(up, &hidden, image.Pt(k, k), 0, 0, gocv.BorderReflect101)
			up.Close()
		}
		small.Close()
	}
	if r.Shape == ShapeRect {
		hidden.CopyTo(&roi)
		return
	}
	mask := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U)
	defer mask.Close()
	// The ellipse fills the region; Region already added the slack.
	gocv.Ellipse(&mask, image.Pt(w/2, h/2), image.Pt(max(1, w/2), max(1, h/2)), 0, 0, 360, color.RGBA{255, 255, 255, 0}, -1)
	hidden.CopyToWithMask(&roi, mask)
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
		return nil
	}
	boxes := make([]image.Rectangle, 0, len(f.dets)+len(f.extra))
	for _, d := range f.dets {
		boxes = append(boxes, d.Box)
		p.report.Detections[d.Class]++
	}
	boxes = append(boxes, f.extra...)
	p.redactor.Redact(&f.img, boxes)
	p.report.Redacted += len(boxes)
	if p.regions && len(f.dets) > 0 {
		p.report.Regions = append(p.report.Regions, FrameRegions{Frame: f.seq, Detections: f.dets})
	}
	return nil
}
