package detect

import (
	"context"
	"image"

	"gocv.io/x/gocv"
)

// Class names what a detection is.
type Class string

const (
	Face    Class = "face"
	Plate   Class = "plate"
	Overlay Class = "overlay"
)

// Detection is one region found in a frame, in frame pixel coordinates.
type Detection struct {
	Box   image.Rectangle `json:"box"`
	Class Class           `json:"class"`
	Score float32         `json:"score"`
	// Quad, when set, is a plate's four corners in order round it, inside
	// Box: a tilted plate is hidden over its own outline grown for its
	// frame (PlateQuadCover) rather than a loose rectangle.
	Quad []image.Point `json:"quad,omitempty"`
}

// Result is what a detector found in one frame. A non-nil Err means the
// frame could not be examined, and callers must treat it as unsafe.
type Result struct {
	Detections []Detection
	Err        error
}

// eachFrame runs a one-frame detector over a batch: detectors that look at
// frames one by one share it.
func eachFrame(ctx context.Context, frames []gocv.Mat, detect func(context.Context, gocv.Mat) ([]Detection, error)) []Result {
	out := make([]Result, len(frames))
	for i, f := range frames {
		out[i].Detections, out[i].Err = detect(ctx, f)
	}
	return out
}

// rectF is a float box used while decoding, before rounding to pixels.
type rectF struct {
	x0, y0, x1, y1 float64
}

func (r rectF) w() float64    { return r.x1 - r.x0 }
func (r rectF) h() float64    { return r.y1 - r.y0 }
func (r rectF) area() float64 { return max(0, r.w()) * max(0, r.h()) }

// scale grows (or shrinks) r by f about its centre.
func (r rectF) scale(f float64) rectF {
	if f <= 0 {
		return r
	}
	cx, cy := (r.x0+r.x1)/2, (r.y0+r.y1)/2
	hw, hh := r.w()*f/2, r.h()*f/2
	return rectF{cx - hw, cy - hh, cx + hw, cy + hh}
}

func (r rectF) rect() image.Rectangle {
	return image.Rect(int(r.x0+0.5), int(r.y0+0.5), int(r.x1+0.5), int(r.y1+0.5))
}

func (r rectF) intersect(o rectF) float64 {
	w := min(r.x1, o.x1) - max(r.x0, o.x0)
	h := min(r.y1, o.y1) - max(r.y0, o.y0)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

func (r rectF) iou(o rectF) float64 {
	in := r.intersect(o)
	if in == 0 {
		return 0
	}
	return in / (r.area() + o.area() - in)
}

// IoU is the intersection over union of two boxes.
func IoU(a, b image.Rectangle) float64 {
	return toF(a).iou(toF(b))
}

func toF(r image.Rectangle) rectF {
	return rectF{float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)}
}
