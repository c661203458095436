package detect

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"gocv.io/x/gocv"
)

// FaceStream finds faces in one video, whose frames it must get in order.
// Consecutive frames are nearly the same, and the faces that need the
// costly enlarged search are small and far, and move a few pixels a
// frame; the faces that move fast are large. So each frame gets:
//   - the proposer's coarsest run (the frame shrunk to FitSide), which
//     finds the large faces;
//   - one share of the enlarged runs' tiles, so that every part of the
//     frame is searched at every scale once in Every frames;
//   - a run around each face of the last frames, enlarged to suit its
//     size, which follows it as it moves;
//   - the strips along the left and right edges at the finest scale,
//     mirrored past the edge (edgeFaces): a face coming into view there
//     is cut by the edge for several frames, which a search coming round
//     once in Every frames misses.
//
// A face that appears between two searches of its tile is found at most
// Every-1 frames late; the caller's tracker covers those frames (see
// desens's Hold, which bounds Every). A face the stream has followed since
// a recent second look needs no new one.
//
// With a Stride over 1 only one frame in Stride is searched at all, and
// the Every frames of the enlarged search are counted in frames given.
// The frames between get no detections: the caller's tracker carries the
// boxes over them and, once the next search finds a face again, puts its
// box there on the path between.
type FaceStream struct {
	d      *FaceDetector
	every  int // shares of the enlarged search, one per searched frame
	stride frameStride
	frame  int // the searched frame being judged, from 0
	size   image.Point
	coarse []scanRun   // every frame
	fine   [][]scanRun // one share per frame, in turn
	tracks []faceTrack

	passed   []rectF // boxes a second look passed in the frame
	doubtful []doubt // boxes the second look turned down, followed into the next frame
}

// doubt is a box a second look turned down, last proposed in frame seen,
// which the proposer scored at least followScore; count is how many
// frames running, up to seen, it scored at least sureScore; turned is how
// many looks running turned it down, the last in frame looked.
type doubt struct {
	box    rectF
	seen   int
	count  int
	turned int
	looked int
}

// next is the doubt continued by c, proposed in frame n.
func (d doubt) next(c candidate, n int) doubt {
	d.box, d.seen = c.box, n
	if c.score < sureScore {
		d.count = 0
	} else {
		d.count++
	}
	return d
}

// faceTrack is a face the stream has found in recent frames.
type faceTrack struct {
	box     rectF
	score   float64
	seen    int     // frame of the last detection
	checked int     // frame of the last second look (or sure proposal)
	checkH  float64 // the box's height then
	vx, vy  float64 // the box centre's motion, pixels a frame
}

// Stream returns a detector for one video, whose frames must then arrive
// in order. With FaceConfig.Every of 1, or not over Stride, it searches
// every frame in full, as Detect does.
func (d *FaceDetector) Stream() *FaceStream {
	every, stride := newFrameStride(d.cfg.Every, d.cfg.Stride)
	return &FaceStream{d: d, every: every, stride: stride, frame: -1}
}

// Detect finds faces in the next frames of the video (BGR), in order.
func (s *FaceStream) Detect(ctx context.Context, frames []gocv.Mat) []Result {
	return eachFrame(ctx, frames, s.detectFrame)
}

func (s *FaceStream) detectFrame(ctx context.Context, img gocv.Mat) ([]Detection, error) {
	if s.stride.skip(image.Pt(img.Cols(), img.Rows()), s.size) {
		return nil, nil
	}
	s.frame++
	n := s.frame
	if s.every == 1 {
		return s.d.DetectFrame(ctx, img)
	}
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("face detector: want a non-empty 8-bit BGR frame, got %v", img.Type())
	}
	first := false
	if size := image.Pt(img.Cols(), img.Rows()); size != s.size {
		s.size = size
		s.coarse, s.fine = s.schedule(size.X, size.Y)
		s.tracks = nil
		first = true
	}
	runs := append([]scanRun(nil), s.coarse...)
	if first {
		// The first frame is searched in full: the tracker cannot lead a
		// face back before it, and a face there may be hidden again
		// before its share of the frame comes round.
		runs = append(runs, s.others(-1)...)
	} else {
		runs = append(runs, s.fine[n%len(s.fine)]...)
	}
	runs = append(runs, s.follow(s.size)...)
	cands, err := doRuns(ctx, img, runs, s.d.proposer.run, s.d.parallel)
	if err != nil {
		return nil, err
	}
	edge, err := s.edgeFaces(ctx, img)
	if err != nil {
		return nil, err
	}
	cands = mergeBoxes(append(cands, edge...), 0.4)
	s.passed = s.passed[:0]
	dets, err := s.d.judge(ctx, img, cands, s)
	if err != nil {
		return nil, err
	}
	s.update(n, dets)
	return dets, nil
}

// upright makes a face box at least as tall as it is wide, grown
// upwards: a face is taller than it is wide, and a box wider than tall
// is a turned or tilted face boxed over its lower part, whose forehead
// and hair the box leaves out.
func upright(b image.Rectangle) image.Rectangle {
	if d := b.Dx() - b.Dy(); d > 0 {
		b.Min.Y = max(0, b.Min.Y-d)
	}
	return b
}

// Finish searches last, the frame Detect judged last, at every scale the
// schedule did not run on it (all of them, where it was not searched),
// when the video ends there: a face that came into view after its share
// of the frame was last searched is found no later, and the caller's
// tracker leads it back to the frames before.
func (s *FaceStream) Finish(ctx context.Context, last gocv.Mat) Result {
	if s.every == 1 || len(s.fine) == 0 || last.Empty() || image.Pt(last.Cols(), last.Rows()) != s.size {
		return Result{}
	}
	runs := s.others(s.frame % len(s.fine))
	if s.stride.idle {
		runs = slices.Concat(s.coarse, s.others(-1), s.follow(s.size))
	}
	cands, err := doRuns(ctx, last, runs, s.d.proposer.run, s.d.parallel)
	if err != nil {
		return Result{Err: err}
	}
	dets, err := s.d.judge(ctx, last, mergeBoxes(cands, 0.4), s)
	return Result{Detections: dets, Err: err}
}

// others lists the runs of every share of the enlarged search but share
// skip (-1 for none).
func (s *FaceStream) others(skip int) []scanRun {
	var runs []scanRun
	for k, share := range s.fine {
		if k != skip {
			runs = append(runs, share...)
		}
	}
	return runs
}

// recall vouches for a box that continues a face verified within the
// last vouchSpan frames: a share of the frame is searched again only
// Every frames later, so the verdict must outlast that to be of use, and
// a far face the second look doubts in most frames stays found while the
// stream follows it.
//
// It also passes a box the proposer is sure of in sureFor frames running,
// whatever the second look says: a real face the verifier is blind to
// (cut by the frame's edge, turned, half hidden) persists from frame to
// frame, and following it costs little.
//
// A box at least SmallFace high that the proposer scores under
// followScore, and that continues no recent face, is turned down without
// a look: it keeps the proposer's score. A face that size is seen at
// several scales and in every frame, and scores well in most of them;
// the weak boxes that size are shadows, folds and the edges of larger
// faces, which the second look, the stream's costliest part, turns down.
// Weak small boxes still get the look: far faces score low.
//
// A box at least SmallFace high that continues one looks have turned
// down in restAfter frames running, the last in the frame before, is
// turned down without a look (see restAfter); the doubt goes on to it.
func (s *FaceStream) recall(c candidate) (float64, bool) {
	if t, ok := s.match(c.box); ok && s.frame-t.checked < s.vouchSpan() && s.d.cfg.Passes(t.vouchHeight(c.box.h()), t.score) {
		return t.score, true
	}
	rest := -1
	for i, d := range s.doubtful {
		if !s.carries(d, c) {
			continue
		}
		if c.score >= sureScore && d.count >= sureFor-1 {
			return max(c.score, s.d.cfg.Threshold), true
		}
		if rest < 0 {
			rest = i
		}
	}
	if rest >= 0 {
		if d := s.doubtful[rest]; d.turned >= restAfter && d.looked == s.frame-1 && c.box.h() >= s.d.cfg.SmallFace {
			s.doubtful[rest] = d.next(c, s.frame)
			return 0, true
		}
	}
	if c.score < followScore && c.box.h() >= s.d.cfg.SmallFace {
		return c.score, true
	}
	return 0, false
}

// vouchHeight is the height whose bar t's last check must reach to stand
// for a box h high that continues it: the lower of h and the box's height
// then. A face's box grows and shrinks by a few pixels from frame to
// frame, and over YuNet's ramp a few pixels move the bar.
func (t faceTrack) vouchHeight(h float64) float64 {
	if t.checkH > 0 {
		return min(h, t.checkH)
	}
	return h
}

// restAfter: a box at least SmallFace high that second looks have turned
// down in restAfter frames running is looked at only every other frame
// from then on, and is turned down in the frames between. Such
// boxes (signs, bodies, the backs of heads) are proposed frame after frame
// and would cost a look in each; a face among them that a later look
// passes is found a frame late, which the caller's tracker leads back
// over.
const restAfter = 2

// sureScore and sureFor: a box the proposer scores at least sureScore in
// sureFor frames running is a face.
const (
	sureScore = 0.5
	sureFor   = 3
)

// vouchFor is how long, in Every frames, a second look that passed a
// face stands for the boxes that continue it, and vouchFrames how long
// at least, in frames.
const (
	vouchFor    = 2
	vouchFrames = 24
)

// vouchSpan is how many searched frames a passing second look stands
// for.
func (s *FaceStream) vouchSpan() int {
	return max(vouchFor*s.every, vouchFrames/max(1, s.stride.n))
}

// note marks the boxes a second look passed as checked now. A box it
// turns down is looked at again in the next frame that proposes it (a
// real face seldom fails twice), and from its restAfter-th verdict on in
// every other frame.
func (s *FaceStream) note(c candidate, score float64) {
	if s.d.cfg.Passes(c.box.h(), score) {
		s.passed = append(s.passed, c.box)
		return
	}
	if c.score < followScore {
		return
	}
	var d doubt
	i := slices.IndexFunc(s.doubtful, func(d doubt) bool { return s.carries(d, c) })
	if i >= 0 {
		d = s.doubtful[i]
	}
	d = d.next(c, s.frame)
	d.turned++
	d.looked = s.frame
	if i >= 0 {
		s.doubtful[i] = d
	} else {
		s.doubtful = append(s.doubtful, d)
	}
}

// carries reports whether candidate c, in the frame being judged,
// continues doubt d from the frame before.
func (s *FaceStream) carries(d doubt, c candidate) bool {
	return d.seen == s.frame-1 && continues(d.box, c.box, s.stride.n)
}

// followScore is the proposer's score at which a box the second look
// turns down is still followed into the next frame: the follow run looks
// at it closer than the search that proposed it, where a small real face
// scores higher.
const followScore = 0.2

// continues reports whether box b, in the searched frame after box a and
// steps frames later, may be the same object: they overlap well, or b is
// about a's size and its centre has moved less than half a's side a
// frame. A small face moving a few pixels a frame overlaps its last box
// little.
func continues(a, b rectF, steps int) bool {
	if a.iou(b) > 0.3 {
		return true
	}
	sa, sb := max(a.w(), a.h()), max(b.w(), b.h())
	if sb > 1.5*sa || sa > 1.5*sb {
		return false
	}
	dx, dy := (b.x0+b.x1-a.x0-a.x1)/2, (b.y0+b.y1-a.y0-a.y1)/2
	return math.Hypot(dx, dy) <= sa/2*float64(max(1, steps))
}

// update makes the faces found in frame n the recent faces, learning
// the motion of those that continue one, and keeps the ones not found
// again for up to lostFor×Every frames, so they are still followed.
func (s *FaceStream) update(n int, dets []Detection) {
	var next []faceTrack
	used := make([]bool, len(s.tracks))
	for _, det := range dets {
		b := toF(det.Box)
		t := faceTrack{box: b, score: float64(det.Score), seen: n, checked: n, checkH: b.h()}
		if float64(det.Score) < s.d.cfg.AcceptThreshold && !slices.ContainsFunc(s.passed, func(p rectF) bool { return p.iou(b) > 0.9 }) {
			// Vouched for: the last check stands.
			if old, ok := s.match(b); ok {
				t.checked, t.checkH = old.checked, old.checkH
			}
		}
		for i, old := range s.tracks {
			if !used[i] && continues(old.at(n), b, s.stride.n) {
				used[i] = true
				if gap := float64(n - old.seen); gap > 0 {
					t.vx = ((b.x0+b.x1-old.box.x0-old.box.x1)/2/gap + old.vx) / 2
					t.vy = ((b.y0+b.y1-old.box.y0-old.box.y1)/2/gap + old.vy) / 2
				}
				break
			}
		}
		next = append(next, t)
	}
	for i, old := range s.tracks {
		if !used[i] && n-old.seen < lostFor*s.every {
			next = append(next, old)
		}
	}
	s.tracks = next
	s.passed = s.passed[:0]
	kept := s.doubtful[:0]
	for _, d := range s.doubtful {
		if d.seen == n {
			kept = append(kept, d)
		}
	}
	s.doubtful = kept
}

// lostFor is how long, in Every frames, a face not found again is still
// looked for where its motion would have taken it: a face that walks
// behind something comes out on the other side, and the run round it
// finds it there sooner than its share of the enlarged search.
const lostFor = 2

// at is where the track's box would be in frame n, had the face gone on
// as it moved.
func (t faceTrack) at(n int) rectF {
	k := float64(n - t.seen)
	dx, dy := t.vx*k, t.vy*k
	return rectF{t.box.x0 + dx, t.box.y0 + dy, t.box.x1 + dx, t.box.y1 + dy}
}

// scanning reports the proposer's scales and size band as a video's
// frames get them.
func (s *FaceStream) scanning() (ScanConfig, sizeBand) {
	cfg, band := s.d.proposer.scanning()
	cfg.MinPixels = s.d.cfg.VideoMinPixels
	return cfg, band
}

// schedule splits the proposer's runs on a w×h frame into the coarsest,
// made on every frame, and the finer ones, dealt out over Every frames.
func (s *FaceStream) schedule(w, h int) ([]scanRun, [][]scanRun) {
	cfg, band := s.scanning()
	scales := cfg.runScales(w, h)
	fine := make([][]scanRun, s.every)
	if len(scales) < 2 || cfg.FitSide <= 0 {
		deal(fine, cfg.plan(w, h, band))
		return nil, fine
	}
	last := scales[len(scales)-1]
	var coarse, runs []scanRun
	for _, src := range cfg.tiles(w, h, last, band.max) {
		coarse = append(coarse, scanRun{src: src, s: last, min: band.least, max: math.Inf(1)})
	}
	for i, sc := range scales[:len(scales)-1] {
		lo := 0.0
		if i > 0 {
			lo = band.min
		}
		// The coarsest run, made on every frame, finds the faces from
		// band.min of its pixels up surely (from band.least less so):
		// the finer ones need keep only a little past band.min, so
		// their tiles overlap less.
		hi := min(band.max, band.min*sc/last*handover)
		for _, src := range cfg.tiles(w, h, sc, hi) {
			runs = append(runs, scanRun{src: src, s: sc, min: lo, max: hi})
		}
	}
	deal(fine, runs)
	return coarse, fine
}

// handover: the finer runs of a stream keep faces up to handover times
// the smallest the coarsest run keeps, so a face near that size is looked
// for by both.
const handover = 1.15

// deal spreads runs evenly over the slots, in order.
func deal(slots [][]scanRun, runs []scanRun) {
	for j, r := range runs {
		k := j * len(slots) / len(runs)
		slots[k] = append(slots[k], r)
	}
}

// followMargin is how far, in frame pixels, a face may move between two
// frames beyond what followSpan allows for.
const followMargin = 16

// followSpan is the side of the region searched round a followed face, in
// face sides.
const followSpan = 2.5

// followEnlarge bounds a follow run's scale, in the proposer's finest
// scales.
const followEnlarge = 2

// followSide is the height, in model pixels, a followed face is scaled
// to.
const followSide = 40

// follow lists a run round each recent face, where its motion would have
// taken it (the region widening with each frame it is not found), and
// round each doubtful box, scaled so the face is about followSide model
// pixels high, from the proposer's coarsest scale up to followEnlarge
// times its finest: the region is small, so a tiny face can be looked at
// closer than the whole frame is.
func (s *FaceStream) follow(frame image.Point) []scanRun {
	cfg, _ := s.scanning()
	scales := cfg.runScales(frame.X, frame.Y)
	finest, coarsest := scales[0], scales[len(scales)-1]
	bounds := image.Rect(0, 0, frame.X, frame.Y)
	type look struct {
		box   rectF
		slack float64 // room for where a face not seen of late may be
	}
	looks := make([]look, 0, len(s.tracks)+len(s.doubtful))
	for _, t := range s.tracks {
		age := float64(s.frame - t.seen - 1)
		looks = append(looks, look{t.at(s.frame), max(0, age) * (math.Hypot(t.vx, t.vy)/2 + 2)})
	}
	for _, d := range s.doubtful {
		looks = append(looks, look{box: d.box})
	}
	var runs []scanRun
	for _, l := range looks {
		b := l.box
		side := max(b.w(), b.h())
		span := side*followSpan + 2*followMargin + 2*l.slack
		cx, cy := (b.x0+b.x1)/2, (b.y0+b.y1)/2
		src := image.Rect(int(cx-span/2), int(cy-span/2), int(cx+span/2), int(cy+span/2)).Intersect(bounds)
		if src.Empty() {
			continue
		}
		sc := min(max(followSide/side, coarsest), followEnlarge*finest)
		runs = append(runs, scanRun{src: src, s: sc, min: 0, max: math.Inf(1)})
	}
	return runs
}

// match finds the recent face a box continues from where the face's
// motion would have taken it: a face that passes near another's last box
// is not taken for it.
func (s *FaceStream) match(b rectF) (faceTrack, bool) {
	best, bestIoU := -1, -1.0
	for i, t := range s.tracks {
		at := t.at(s.frame)
		if iou := at.iou(b); iou > bestIoU && continues(at, b, 1) {
			best, bestIoU = i, iou
		}
	}
	if best < 0 {
		return faceTrack{}, false
	}
	return s.tracks[best], true
}

// edgeStrip and edgeMirror: the width, in frame pixels, of the strips
// along the left and right edges searched in every frame for faces the
// edge cuts, and how far past the edge the frame is mirrored for that
// search.
const (
	edgeStrip  = 48
	edgeMirror = 24
)

// edgeFaces searches the strips along the frame's left and right edges,
// mirrored past the edge, at the finest scale: a face the edge cuts looks
// more like a whole face with its mirror image beside it. Boxes are kept
// in the frame as stripBox says; the second look judges what is in
// view. The top and bottom edges are left out: in a vehicle's video the
// scene moves in and out sideways.
func (s *FaceStream) edgeFaces(ctx context.Context, img gocv.Mat) ([]candidate, error) {
	w, h := img.Cols(), img.Rows()
	if w < 4*edgeStrip {
		return nil, nil
	}
	cfg, _ := s.scanning()
	sc := cfg.runScales(w, h)[0]
	var out []candidate
	for _, left := range []bool{true, false} {
		src := image.Rect(0, 0, edgeStrip, h)
		l, r := edgeMirror, 0
		if !left {
			src = image.Rect(w-edgeStrip, 0, w, h)
			l, r = 0, edgeMirror
		}
		roi := img.Region(src)
		padded := gocv.NewMat()
		gocv.CopyMakeBorder(roi, &padded, 0, 0, l, r, gocv.BorderReflect101, color.RGBA{})
		roi.Close()
		found, err := s.d.proposer.run(ctx, padded, image.Rect(0, 0, padded.Cols(), padded.Rows()), sc)
		padded.Close()
		if err != nil {
			return nil, err
		}
		dx := float64(src.Min.X - l)
		for _, c := range found {
			b := rectF{c.box.x0 + dx, c.box.y0, c.box.x1 + dx, c.box.y1}
			var ok bool
			if c.box, ok = stripBox(b, left, float64(w), tileEdge/sc); ok {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// stripBox maps a box found in the left or right edge strip of a frame w
// pixels wide (frame coordinates, the mirror past the edge included) to
// the box kept in the frame, or reports false for a box under 30 % in
// it. A box the frame's edge cuts, or the strip's inner side (within
// margin), is part of a face that goes on past the cut and may be boxed
// narrower than the part in view: it is made at least as wide in the
// frame as it is high, inwards, so that it covers the face even where it
// wins the merge over the whole face's box.
func stripBox(b rectF, left bool, w, margin float64) (rectF, bool) {
	in := rectF{max(b.x0, 0), b.y0, min(b.x1, w), b.y1}
	if in.w() <= 0 || in.area() < 0.3*b.area() {
		return rectF{}, false
	}
	switch {
	case left && (b.x0 < 0 || b.x1 > edgeStrip-margin):
		in.x1 = min(max(in.x1, in.x0+in.h()), w)
	case !left && (b.x1 > w || b.x0 < w-edgeStrip+margin):
		in.x0 = max(min(in.x0, in.x1-in.h()), 0)
	}
	return in, true
}
