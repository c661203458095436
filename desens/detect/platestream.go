package detect

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"slices"

	"gocv.io/x/gocv"
)

// PlateStream finds plates in one video, whose frames it must get in
// order: each frame is searched whole at StreamCoarse of its size for the
// larger plates, and one share of it at full size for the small ones
// (every part once in Every frames). Unlike FaceStream it does not search
// round the plates of the last frames: a close look at a sign the
// detector once took for a plate finds it again frame after frame, and
// the tracker's hold covers a plate between two searches of its share.
// Each search is a DetectFrame of its own, verifier and reader included;
// the corner detector, which sees a fixed square whatever it is given,
// runs on the whole-frame search only.
type PlateStream struct {
	d     *PlateDetector
	every int
	n     int
	size  image.Point
	fine  [][]image.Rectangle
}

// plateTile is the side of the full-size regions a stream's fine search
// cuts a frame into, and plateOverlap how far they overlap: more than the
// widest plate the coarse search might miss.
const (
	plateTile    = 704
	plateOverlap = 160
)

// Stream returns a detector for one video, whose frames must then arrive
// in order. With PlateConfig.Every of 1 it searches every frame in full,
// as Detect does.
func (d *PlateDetector) Stream() *PlateStream {
	return &PlateStream{d: d, every: max(1, d.cfg.Every)}
}

// Detect finds plates in the next frames of the video (BGR), in order.
func (s *PlateStream) Detect(ctx context.Context, frames []gocv.Mat) []Result {
	return eachFrame(ctx, frames, s.detectFrame)
}

func (s *PlateStream) detectFrame(ctx context.Context, img gocv.Mat) ([]Detection, error) {
	n := s.n
	s.n++
	size := image.Pt(img.Cols(), img.Rows())
	coarse := s.d.cfg.StreamCoarse
	if s.every == 1 || img.Empty() || img.Type() != gocv.MatTypeCV8UC3 || float64(min(size.X, size.Y))*coarse < plateAlign {
		return s.d.DetectFrame(ctx, img)
	}
	if size != s.size {
		s.size = size
		s.fine = make([][]image.Rectangle, s.every)
		var tiles []image.Rectangle
		sx, xs := split(size.X, plateTile, plateOverlap)
		sy, ys := split(size.Y, plateTile, plateOverlap)
		for _, y := range ys {
			for _, x := range xs {
				tiles = append(tiles, image.Rect(x, y, x+sx, y+sy).Intersect(image.Rectangle{Max: size}))
			}
		}
		for j, t := range tiles {
			k := j * s.every / len(tiles)
			s.fine[k] = append(s.fine[k], t)
		}
	}
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(img, &small, image.Pt(0, 0), coarse, coarse, gocv.InterpolationArea)
	fine := s.fine[n%s.every]
	parts := make([][]Detection, 1+len(fine)) // the whole frame's, then each region's
	searches := []func(context.Context) error{func(ctx context.Context) error {
		whole, err := s.d.DetectFrame(ctx, small)
		for _, det := range whole {
			parts[0] = append(parts[0], rescale(det, 1/coarse))
		}
		return err
	}}
	for i, src := range fine {
		searches = append(searches, func(ctx context.Context) (err error) {
			parts[1+i], err = s.region(ctx, img, src)
			return err
		})
	}
	if err := s.d.each(ctx, searches...); err != nil {
		return nil, err
	}
	return suppress(slices.Concat(parts...), s.d.cfg.NMSIoU, image.Rectangle{Max: size}), nil
}

// Finish searches last, the frame Detect judged last, in every region
// the schedule did not search on it, when the video ends there: a plate
// that came into view after its region was last searched is found no
// later, and the caller's tracker leads it back to the frames before.
func (s *PlateStream) Finish(ctx context.Context, last gocv.Mat) Result {
	if s.every == 1 || len(s.fine) == 0 || last.Empty() || image.Pt(last.Cols(), last.Rows()) != s.size {
		return Result{}
	}
	var found []Detection
	for k, share := range s.fine {
		if k == (s.n-1)%s.every {
			continue
		}
		for _, src := range share {
			dets, err := s.region(ctx, last, src)
			if err != nil {
				return Result{Err: err}
			}
			found = append(found, dets...)
		}
	}
	return Result{Detections: suppress(found, s.d.cfg.NMSIoU, image.Rectangle{Max: s.size})}
}

// rescale maps a detection made on a frame resized by 1/f back to the
// frame, growing its box by a pixel so it still covers what it covered.
func rescale(det Detection, f float64) Detection {
	det = mapPoints(det, func(q image.Point) image.Point {
		return image.Pt(int(math.Round(float64(q.X)*f)), int(math.Round(float64(q.Y)*f)))
	})
	det.Box = det.Box.Inset(-1)
	return det
}

// mapPoints returns det with its box corners and quad mapped by p.
func mapPoints(det Detection, p func(image.Point) image.Point) Detection {
	det.Box = image.Rectangle{Min: p(det.Box.Min), Max: p(det.Box.Max)}
	if det.Quad != nil {
		q := make([]image.Point, len(det.Quad))
		for i, c := range det.Quad {
			q[i] = p(c)
		}
		det.Quad = q
	}
	return det
}

// suppress keeps the strongest of overlapping detections of one plate
// (IoU at least iou, or one mostly inside the other), clipped to bounds.
func suppress(dets []Detection, iou float64, bounds image.Rectangle) []Detection {
	slices.SortStableFunc(dets, func(a, b Detection) int { return cmp.Compare(b.Score, a.Score) })
	var out []Detection
	for _, d := range dets {
		d.Box = d.Box.Intersect(bounds)
		if d.Box.Empty() {
			continue
		}
		dup := false
		for _, k := range out {
			in := d.Box.Intersect(k.Box)
			small := min(d.Box.Dx()*d.Box.Dy(), k.Box.Dx()*k.Box.Dy())
			if IoU(d.Box, k.Box) >= iou || (small > 0 && float64(in.Dx()*in.Dy()) >= 0.7*float64(small)) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, d)
		}
	}
	return out
}

// region finds plates in the region src of a frame, in frame coordinates.
// A box reaching an edge of src inside the frame is a plate cut in two,
// which a neighbouring region or the coarse search sees whole: it is
// dropped.
func (s *PlateStream) region(ctx context.Context, img gocv.Mat, src image.Rectangle) ([]Detection, error) {
	roi := img.Region(src)
	defer roi.Close()
	part := roi.Clone() // DetectFrame wants a continuous frame
	defer part.Close()
	// The corner detector looks at the whole frame in every frame (it
	// sees a fixed 640 px square): a region gets the own detector alone.
	found, err := s.d.detectFrame(ctx, part, false)
	if err != nil {
		return nil, fmt.Errorf("plate detector: region %v: %w", src, err)
	}
	inner := [4]bool{src.Min.X > 0, src.Min.Y > 0, src.Max.X < img.Cols(), src.Max.Y < img.Rows()}
	w, h := src.Dx(), src.Dy()
	var out []Detection
	for _, det := range found {
		b := det.Box
		if (inner[0] && b.Min.X <= 1) || (inner[1] && b.Min.Y <= 1) || (inner[2] && b.Max.X >= w-1) || (inner[3] && b.Max.Y >= h-1) {
			continue
		}
		out = append(out, mapPoints(det, func(q image.Point) image.Point { return q.Add(src.Min) }))
	}
	return out, nil
}
