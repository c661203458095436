package desens

import (
	"context"
	"image"
	"time"

	"github.com/desens/desens/desens/detect"
)

// tracker keeps redaction steady over time. Detectors miss a face now and
// then (motion blur, a turned head); without a tracker that face would flash
// into view for single frames. It delays frames by hold frames so it can
// also look backwards:
//   - a box outlives its last detection by up to hold frames;
//   - a gap of up to hold frames between two detections of one track is
//     filled by interpolation;
//   - a new track is extended back over the hold frames before it, where the
//     face was probably entering and too small or blurred to be found.
type tracker struct {
	hold   int
	tracks []*track
	buf    []*frame // delayed frames, oldest first
}

type track struct {
	box   image.Rectangle
	class detect.Class
	seen  int // seq of the last detection
}

func newTracker(hold int) *tracker { return &tracker{hold: max(0, hold)} }

// push takes the next frame (in order) and returns the frames that are
// ready to redact, oldest first.
func (t *tracker) push(f *frame) []*frame {
	if t.hold == 0 {
		return []*frame{f}
	}
	matched := make([]bool, len(t.tracks))
	for _, d := range f.dets {
		best, bestIoU := -1, 0.15
		for i, tr := range t.tracks {
			if matched[i] || tr.class != d.Class {
				continue
			}
			if iou := detect.IoU(tr.box, d.Box); iou > bestIoU {
				best, bestIoU = i, iou
			}
		}
		if best < 0 {
			// New track: cover the frames before it, too.
			for _, old := range t.buf {
				old.extra = append(old.extra, detect.Detection{Box: d.Box, Class: d.Class})
			}
			t.tracks = append(t.tracks, &track{box: d.Box, class: d.Class, seen: f.seq})
			matched = append(matched, true)
			continue
		}
		tr := t.tracks[best]
		matched[best] = true
		if gap := f.seq - tr.seen; gap > 1 {
			for _, old := range t.buf {
				if old.seq > tr.seen && old.seq < f.seq {
					box := lerpRect(tr.box, d.Box, float64(old.seq-tr.seen)/float64(gap))
					old.extra = append(old.extra, detect.Detection{Box: box, Class: tr.class})
				}
			}
		}
		tr.box, tr.seen = d.Box, f.seq
	}
	kept := t.tracks[:0]
	for i, tr := range t.tracks {
		if f.seq-tr.seen > t.hold {
			continue
		}
		if !matched[i] {
			f.extra = append(f.extra, detect.Detection{Box: tr.box, Class: tr.class})
		}
		kept = append(kept, tr)
	}
	t.tracks = kept
	t.buf = append(t.buf, f)
	var out []*frame
	for len(t.buf) > t.hold {
		out = append(out, t.buf[0])
		t.buf = t.buf[1:]
	}
	return out
}

// flush returns the frames still held back, at the end of the stream.
func (t *tracker) flush() []*frame {
	out := t.buf
	t.buf = nil
	return out
}

func lerpRect(a, b image.Rectangle, t float64) image.Rectangle {
	l := func(x, y int) int { return int(float64(x) + (float64(y)-float64(x))*t + 0.5) }
	return image.Rect(l(a.Min.X, b.Min.X), l(a.Min.Y, b.Min.Y), l(a.Max.X, b.Max.X), l(a.Max.Y, b.Max.Y))
}

// trackStage runs the tracker over frames in order.
func (p *pipeline) trackStage(ctx context.Context, in <-chan *frame, out chan<- *frame) (err error) {
	defer close(out)
	tr := newTracker(p.hold) // a negative hold (tracking off) acts as 0
	defer func() {
		if err != nil {
			closeFrames(tr.flush())
		}
	}()
	emit := func(fs []*frame) error {
		for i, f := range fs {
			if err := send(ctx, out, f); err != nil {
				closeFrames(fs[i:])
				return err
			}
		}
		return nil
	}
	for f := range in {
		t := time.Now()
		ready := tr.push(f)
		p.clock.add("track", time.Since(t))
		if err := emit(ready); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return emit(tr.flush())
}
