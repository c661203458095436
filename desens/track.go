package desens

import (
	"context"
	"image"
	"math"
	"time"

	"github.com/desens/desens/desens/detect"
)

// tracker keeps redaction steady over time. Detectors miss a face now and
// then (motion blur, a turned head); without a tracker that face would flash
// into view for single frames. It delays frames by hold frames (the face
// lead, where that is more) so it can also look backwards:
//   - a box outlives its last detection by up to hold frames;
//   - a gap of up to hold frames between two detections of one track is
//     filled by interpolation;
//   - a new track is extended back over the hold frames before it, where the
//     face was probably entering, too small or blurred to be found, or not
//     yet searched for (the face detector spreads its search for small
//     faces over several frames).
//
// A carried box follows the track's last motion and grows with each frame
// it is carried, and a lead-in box grows with each frame it reaches back,
// so a face that moves while no detection pins it down stays covered. Once
// a track's second detection shows its motion, its lead-in boxes still
// held back follow that motion back and grow as carried boxes do. A
// small face's track then reaches further back, over every frame still
// held: the face detector's enlarged search comes round to a part of the
// frame once in Every frames, and a small face it turns down at its first
// look is found a round later (sharedSearch). Only a second detection
// reaches that far, so a lone false box is led in over hold frames at
// most; a small face first found in the last frame, which no second
// detection can follow, keeps its lead-in box over the frames before
// (flush).
type tracker struct {
	hold   int
	delay  int // frames held back: hold, or the face lead where that is more
	tracks []*track
	buf    []*frame // delayed frames, oldest first
}

type track struct {
	box    image.Rectangle
	class  detect.Class
	seen   int     // seq of the last detection
	vx, vy float64 // the box centre's motion, pixels a frame
	moved  bool    // vx, vy come from two detections
	held   []held  // the boxes carried since the last detection
	lead   []held  // the lead-in boxes, while the motion is unknown
}

// held is a carried box: frame f's extra[i].
type held struct {
	f *frame
	i int
}

// growth is how far, in box sides, a class's box grows on each side per
// frame: lead for a lead-in box per frame it reaches back, with nothing
// known of the motion (about how fast a walking person's face or a
// passing car's plate moves across a frame, whatever its size), and hold
// for a carried box, whose motion is known, so only the change in it is
// allowed for. Overlays stand still and do not grow. reach, when set,
// bounds how many frames a class's boxes are carried or led in, below the
// tracker's hold: the plate detector takes scene text for plates now and
// then, and a long hold would spread each such box over many frames.
// flat, when set, grows a box along each axis by its own side there
// rather than by its longer side: a plate is wide and flat, and grown up
// and down by its width it soon covers the lettering above it. side,
// when set, bounds the side (px) the growth is reckoned from: a nearer,
// larger face moves faster across the frame, but not in proportion
// without end, and a large face grown by its own side a few frames over
// covers most of the frame, and every sign in it, before and after it.
// What a box grows is its slack (trackedBox), which the redactor adds to
// a plate's cover rather than growing it with the plate.
type growth struct {
	lead, hold float64
	reach      int
	flat       bool
	side       int
}

var growths = map[detect.Class]growth{
	detect.Face:  {lead: 0.3, hold: 0.1, side: faceGrowthSide},
	detect.Plate: {lead: 0.15, hold: 0.05, reach: plateReach, flat: true},
}

// faceGrowthSide is the face side from which a face's box grows no
// faster (see growth).
const faceGrowthSide = 32

// grow returns a box of class c: b moved by (dx, dy) and grown on each
// side by f of its longer side (for a flat class, of its side along that
// axis; at most g.side when that is set), plus a pixel, which is its
// slack.
func (g growth) grow(c detect.Class, b image.Rectangle, dx, dy, f float64) trackedBox {
	sx, sy := max(b.Dx(), b.Dy()), max(b.Dx(), b.Dy())
	if g.flat {
		sx, sy = b.Dx(), b.Dy()
	}
	if g.side > 0 {
		sx, sy = min(sx, g.side), min(sy, g.side)
	}
	gx, gy := int(f*float64(sx)+1.5), int(f*float64(sy)+1.5)
	b = b.Add(image.Pt(int(math.Round(dx)), int(math.Round(dy))))
	slack := image.Pt(gx, gy)
	return trackedBox{Detection: detect.Detection{Box: outset(b, slack), Class: c}, slack: slack}
}

// outset returns b grown by p.X on its left and right and p.Y above and
// below (shrunk, for negative p).
func outset(b image.Rectangle, p image.Point) image.Rectangle {
	return image.Rectangle{Min: b.Min.Sub(p), Max: b.Max.Add(p)}
}

// trackedBox is a box the tracker adds to a frame. Box is where the
// object may be; slack is how much of it, on each side, is growth for
// motion that no detection pinned down (none on the path between two
// detections).
type trackedBox struct {
	detect.Detection
	slack image.Point
}

// plateReach is how many frames a plate box is carried or led in at most.
const plateReach = 5

// reach is how many frames boxes of class c are carried or led in.
func (t *tracker) reach(c detect.Class) int {
	if r := growths[c].reach; r > 0 {
		return min(r, t.hold)
	}
	return t.hold
}

// newTracker returns a tracker that holds frames back max(hold, faceLead)
// frames; a hold of 0 or less turns it off.
func newTracker(hold, faceLead int) *tracker {
	hold = max(0, hold)
	if hold == 0 {
		return &tracker{}
	}
	return &tracker{hold: hold, delay: max(hold, faceLead)}
}

// push takes the next frame (in order) and returns the frames that are
// ready to redact, oldest first.
func (t *tracker) push(f *frame) []*frame {
	if t.hold == 0 {
		return []*frame{f}
	}
	matched := make([]bool, len(t.tracks))
	for _, d := range f.dets {
		best, bestIoU := -1, 0.0
		for i, tr := range t.tracks {
			if matched[i] || tr.class != d.Class {
				continue
			}
			if iou := tr.overlap(d.Box, f.seq); iou > bestIoU {
				best, bestIoU = i, iou
			}
		}
		if best < 0 && t.duplicate(d, matched) {
			// The same object found twice in one frame (by two searches)
			// is one track.
			continue
		}
		if best < 0 {
			// New track: cover the frames before it, too.
			nt := &track{box: d.Box, class: d.Class, seen: f.seq}
			for _, old := range t.buf {
				if f.seq-old.seq > t.reach(d.Class) {
					continue
				}
				g := growths[d.Class]
				old.extra = append(old.extra, g.grow(d.Class, d.Box, 0, 0, g.lead*float64(f.seq-old.seq)))
				nt.lead = append(nt.lead, held{old, len(old.extra) - 1})
			}
			t.tracks = append(t.tracks, nt)
			matched = append(matched, true)
			continue
		}
		tr := t.tracks[best]
		matched[best] = true
		if cut := tr.leaving(d.Box, f); !cut.Empty() {
			f.extra = append(f.extra, trackedBox{Detection: detect.Detection{Box: cut, Class: tr.class}})
		}
		if gap := f.seq - tr.seen; gap > 1 {
			// The gap is bridged: the boxes carried into it give way to
			// the path between its two ends.
			carried := map[*frame]int{}
			for _, h := range tr.held {
				carried[h.f] = h.i
			}
			for _, old := range t.buf {
				if old.seq > tr.seen && old.seq < f.seq {
					box := trackedBox{Detection: detect.Detection{Box: lerpRect(tr.box, d.Box, float64(old.seq-tr.seen)/float64(gap)), Class: tr.class}}
					if i, ok := carried[old]; ok {
						old.extra[i] = box
					} else {
						old.extra = append(old.extra, box)
					}
				}
			}
		}
		first, firstSeq, moved := tr.box, tr.seen, tr.moved
		tr.follow(d.Box, f.seq)
		if !moved && growths[tr.class].lead > 0 {
			t.leadAlong(tr, first, firstSeq)
		}
	}
	kept := t.tracks[:0]
	for i, tr := range t.tracks {
		if f.seq-tr.seen > t.reach(tr.class) {
			continue
		}
		if !matched[i] {
			age := float64(f.seq - tr.seen)
			// Unmoved (vx, vy zero) until two detections show its motion.
			rate := growths[tr.class].hold
			if !tr.moved {
				rate = growths[tr.class].lead
			}
			f.extra = append(f.extra, growths[tr.class].grow(tr.class, tr.box, tr.vx*age, tr.vy*age, rate*age))
			tr.held = append(tr.held, held{f, len(f.extra) - 1})
		}
		kept = append(kept, tr)
	}
	t.tracks = kept
	t.buf = append(t.buf, f)
	var out []*frame
	for len(t.buf) > t.delay {
		out = append(out, t.buf[0])
		t.buf = t.buf[1:]
	}
	return out
}

// duplicate reports whether d nearly repeats the box of a track a
// detection in the same frame already matched or started.
func (t *tracker) duplicate(d detect.Detection, matched []bool) bool {
	for i, tr := range t.tracks {
		if matched[i] && tr.class == d.Class && detect.IoU(tr.box, d.Box) > dupIoU {
			return true
		}
	}
	return false
}

// dupIoU is the overlap at which two detections of a class in one frame
// are taken for one object.
const dupIoU = 0.5

// leadAlong redraws tr's lead-in boxes once its second detection shows
// its motion: each follows the track back from first, its first
// detection in frame firstSeq, and grows as a carried box does. A small
// face's track (sharedSearch) is also led in so over every frame before
// those still held back (up to the face lead before the second
// detection). Only frames still held back change.
func (t *tracker) leadAlong(tr *track, first image.Rectangle, firstSeq int) {
	g := growths[tr.class]
	back := func(f *frame) trackedBox {
		k := float64(firstSeq - f.seq)
		return g.grow(tr.class, first, -tr.vx*k, -tr.vy*k, g.hold*k)
	}
	for _, h := range tr.lead {
		if len(t.buf) == 0 || h.f.seq < t.buf[0].seq {
			continue
		}
		h.f.extra[h.i] = back(h.f)
	}
	tr.lead = nil
	if tr.class != detect.Face || !t.sharedSearch(first) {
		return
	}
	// The frames past the first detection's lead-in, which reached every
	// frame within reach that was held then, as all held now were.
	for _, f := range t.buf {
		if f.seq < firstSeq && firstSeq-f.seq > t.reach(tr.class) {
			f.extra = append(f.extra, back(f))
		}
	}
}

// sharedSearch reports whether a face boxed b is small enough that the
// face detector finds it only in its share of the enlarged search: it
// searches every frame whole, shrunk so that its long side is 640 px,
// and finds the faces from 32 px high there surely, so a face of at
// least 1/faceShareSide of the frame's long side is found in the frame
// it first shows well, and a lead past hold would only hide what lies
// where it was before. That run also keeps faces from 16 px high, but
// finds them less surely, so they keep the long lead. Frames of unknown
// size count as small.
func (t *tracker) sharedSearch(b image.Rectangle) bool {
	if len(t.buf) == 0 {
		return true
	}
	img := t.buf[0].img
	if img.Ptr() == nil || img.Empty() {
		return true
	}
	return b.Dy()*faceShareSide < max(img.Cols(), img.Rows())
}

// faceShareSide: faces under 1/faceShareSide of the frame's long side
// wait for their share of the face detector's enlarged search.
const faceShareSide = 20

// flush returns the frames still held back, at the end of the stream.
// A small face first found in the video's last frame gets no second
// detection to lead its track past hold (leadAlong), though it may have
// been in view as long as one found earlier: its lead-in box of hold
// frames back stands for the frames held before those too. Its motion is
// unknown, and a box grown on would soon hide much of the frame.
func (t *tracker) flush() []*frame {
	if n := len(t.buf); n > 0 {
		last := t.buf[n-1].seq
		for _, tr := range t.tracks {
			if tr.class != detect.Face || tr.moved || tr.seen != last || !t.sharedSearch(tr.box) {
				continue
			}
			g, reach := growths[tr.class], t.reach(tr.class)
			box := g.grow(tr.class, tr.box, 0, 0, g.lead*float64(reach))
			for _, f := range t.buf {
				if last-f.seq > reach {
					f.extra = append(f.extra, box)
				}
			}
		}
	}
	out := t.buf
	t.buf = nil
	return out
}

// overlap scores how well box b in frame seq continues the track: its
// IoU with where the track's motion would have taken its box, when over
// matchIoU; else, within nearFrames of the last detection, a small score
// for a box about the track's size whose centre lies within half a side a
// frame of there (a small face moving fast overlaps its last box little,
// the less the more frames lie between two searches); else 0.
func (tr *track) overlap(b image.Rectangle, seq int) float64 {
	gap := float64(seq - tr.seen)
	at := tr.at(seq)
	if iou := max(detect.IoU(at, b), detect.IoU(tr.box, b)); iou > matchIoU {
		return iou
	}
	sa, sb := float64(max(at.Dx(), at.Dy())), float64(max(b.Dx(), b.Dy()))
	if gap > nearFrames || sb > 1.5*sa || sa > 1.5*sb {
		return 0
	}
	c0, c1 := centre(at), centre(b)
	if math.Hypot(c1.x-c0.x, c1.y-c0.y) <= sa/2*gap {
		return matchIoU / 2
	}
	return 0
}

// leaving returns, for a detection b in frame f that a frame edge cuts,
// the track's last box moved on to f and cut by the frame there, when
// that is the larger: a face or plate leaving the frame is boxed by what
// is left of it, which a detector judges poorly, and its size a moment
// before is the better guess. It returns the empty rectangle otherwise.
func (tr *track) leaving(b image.Rectangle, f *frame) image.Rectangle {
	if f.img.Ptr() == nil || f.img.Empty() {
		return image.Rectangle{}
	}
	bounds := image.Rect(0, 0, f.img.Cols(), f.img.Rows())
	if b.Min.X > bounds.Min.X && b.Min.Y > bounds.Min.Y && b.Max.X < bounds.Max.X && b.Max.Y < bounds.Max.Y {
		return image.Rectangle{}
	}
	at := tr.at(f.seq).Intersect(bounds)
	if at.Dx()*at.Dy() <= b.Dx()*b.Dy() {
		return image.Rectangle{}
	}
	return at
}

// at is where the track's last box would be in frame seq, had it gone on
// as it moved.
func (tr *track) at(seq int) image.Rectangle {
	gap := float64(seq - tr.seen)
	return tr.box.Add(image.Pt(int(math.Round(tr.vx*gap)), int(math.Round(tr.vy*gap))))
}

// matchIoU is the overlap at which a detection continues a track, and
// nearFrames how many frames after its last detection a track may be
// continued by a box that is near it without overlapping it well.
const (
	matchIoU   = 0.15
	nearFrames = 2
)

// follow moves the track to its detection box b in frame seq, learning
// its motion.
func (tr *track) follow(b image.Rectangle, seq int) {
	if gap := seq - tr.seen; gap > 0 {
		c0, c1 := centre(tr.box), centre(b)
		vx, vy := (c1.x-c0.x)/float64(gap), (c1.y-c0.y)/float64(gap)
		if tr.moved {
			vx, vy = (vx+tr.vx)/2, (vy+tr.vy)/2
		}
		tr.vx, tr.vy, tr.moved = vx, vy, true
	}
	tr.box, tr.seen, tr.held = b, seq, tr.held[:0]
}

type pointF struct{ x, y float64 }

func centre(r image.Rectangle) pointF {
	return pointF{float64(r.Min.X+r.Max.X) / 2, float64(r.Min.Y+r.Max.Y) / 2}
}

func lerpRect(a, b image.Rectangle, t float64) image.Rectangle {
	l := func(x, y int) int { return int(float64(x) + (float64(y)-float64(x))*t + 0.5) }
	return image.Rect(l(a.Min.X, b.Min.X), l(a.Min.Y, b.Min.Y), l(a.Max.X, b.Max.X), l(a.Max.Y, b.Max.Y))
}

// trackStage runs the tracker over frames in order.
func (p *pipeline) trackStage(ctx context.Context, in <-chan *frame, out chan<- *frame) (err error) {
	defer close(out)
	tr := newTracker(p.hold, p.faceLead) // a negative hold (tracking off) acts as 0
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
