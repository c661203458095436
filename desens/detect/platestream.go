package detect

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
// runs on the whole-frame search only. The plates found are then read
// again on the full-size frame, each on its own and widened along its
// line, and dropped when what they say is sign text (readInContext); a
// reading stands for the same object over the next frames.
//
// With a Stride over 1 only one frame in Stride is searched at all, and
// the Every frames of the full-size search are counted in frames given;
// the frames between get no detections, and the caller's tracker carries
// the boxes over them, as FaceStream's.
type PlateStream struct {
	d      *PlateDetector
	every  int // shares of the full-size search, one per searched frame
	stride frameStride
	n      int // frames searched
	size   image.Point
	fine   [][]image.Rectangle
	// recent holds the plates found in the last plateConfirm frames,
	// confirmed or not, the latest last.
	recent [][]image.Rectangle
	// unconfirmed holds the latest frame's plates confirmed leaves out:
	// at the end of the video no later frame can confirm them.
	unconfirmed []Detection
	// readings holds readInContext's verdicts of the last plateReread
	// frames.
	readings []readVerdict
}

// readVerdict is what readInContext made of a box: keep it or drop it as
// sign text, read in frame at; box is where the object was last seen.
type readVerdict struct {
	box  image.Rectangle
	keep bool
	// sign: dropped for text no plate holds, however misread (notPlate),
	// or as the continuation of such a box (see signNear).
	sign bool
	at   int
}

// plateReread is how many frames a reading stands for the boxes that
// continue its box: one object reads the same from frame to frame, and
// reading is the stream's costliest part.
const plateReread = 3

// plateTile is the side of the full-size regions a stream's fine search
// cuts a frame into, and plateOverlap how far they overlap: more than the
// widest plate the coarse search might miss.
const (
	plateTile    = 704
	plateOverlap = 160
)

// Stream returns a detector for one video, whose frames must then arrive
// in order. With PlateConfig.Every of 1, or not over Stride, it searches
// every frame in full, as Detect does.
func (d *PlateDetector) Stream() *PlateStream {
	every, stride := newFrameStride(d.cfg.Every, d.cfg.Stride)
	return &PlateStream{d: d, every: every, stride: stride}
}

// search is how the stream searches a frame or a region of one: with
// the corner detector if corners, and the video's bar on shape.
func (s *PlateStream) search(corners bool) frameSearch {
	return frameSearch{corners: corners, inside: s.d.cfg.MinAspectInside}
}

// Detect finds plates in the next frames of the video (BGR), in order.
func (s *PlateStream) Detect(ctx context.Context, frames []gocv.Mat) []Result {
	return eachFrame(ctx, frames, s.detectFrame)
}

func (s *PlateStream) detectFrame(ctx context.Context, img gocv.Mat) ([]Detection, error) {
	size := image.Pt(img.Cols(), img.Rows())
	if s.stride.skip(size, s.size) {
		return nil, nil
	}
	n := s.n
	s.n++
	coarse := s.d.cfg.StreamCoarse
	if s.every == 1 || img.Empty() || img.Type() != gocv.MatTypeCV8UC3 || float64(min(size.X, size.Y))*coarse < plateAlign {
		return s.d.detectFrame(ctx, img, s.search(true))
	}
	if size != s.size {
		s.size = size
		s.readings = nil
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
		whole, err := s.d.detectFrame(ctx, small, s.search(true))
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
	found := suppress(slices.Concat(parts...), s.d.cfg.NMSIoU, image.Rectangle{Max: size})
	if s.d.read != nil {
		var err error
		if found, err = s.readInContext(ctx, img, found); err != nil {
			return nil, err
		}
	}
	return s.confirmed(found, coarse), nil
}

// plateConfirm is how many frames back a stream looks for a plate found
// before, to confirm one the whole-frame search sees well.
const plateConfirm = 3

// confirmed drops the plates wide enough for the whole-frame search (at
// scale coarse, run on every frame) to see well that it found in none of
// the last plateConfirm frames. A plate that size is found again within a
// frame or two, and the tracker then leads its track in over the frames
// before; a sign or a patch of foliage the detector takes for a plate in
// one frame alone, which the tracker would spread over frames before and
// after, is left out. Smaller plates, which only the full-size search
// finds, once in Every frames, pass as they are.
func (s *PlateStream) confirmed(dets []Detection, coarse float64) []Detection {
	var boxes []image.Rectangle
	for _, det := range dets {
		boxes = append(boxes, det.Box)
	}
	prev := s.recent
	s.recent = append(s.recent, boxes)
	if len(s.recent) > plateConfirm {
		s.recent = s.recent[1:]
	}
	minW := 2 * s.d.cfg.MinWidth / coarse
	out := dets[:0]
	s.unconfirmed = s.unconfirmed[:0]
	for _, det := range dets {
		if float64(det.Box.Dx()) < minW || seenBefore(det.Box, prev, s.stride.n) {
			out = append(out, det)
		} else {
			s.unconfirmed = append(s.unconfirmed, det)
		}
	}
	return out
}

// seenBefore reports whether a box in prev (searched frames, stride
// frames apart, the latest last) may be the same plate as b: about its
// size, and near enough, for the frames between, that b's centre lies in
// it grown by half its longer side per frame.
func seenBefore(b image.Rectangle, prev [][]image.Rectangle, stride int) bool {
	c := b.Min.Add(b.Max).Div(2)
	for k, boxes := range prev {
		gap := float64((len(prev) - k) * max(1, stride))
		for _, p := range boxes {
			r := float64(b.Dx()) / float64(max(1, p.Dx()))
			g := int(0.5 * gap * float64(max(p.Dx(), p.Dy())))
			if r >= 0.5 && r <= 2 && c.In(p.Inset(-g)) {
				return true
			}
		}
	}
	return false
}

// plateContext is how far, in box widths, a stream reads on either side
// of a plate box to see the line of text it may be part of.
const plateContext = 1

// A box less than plateTwoLines times as wide as it is high, and at least
// twice plateLineMinH high, may hold two lines of text, which the
// recogniser, reading one line, cannot: its halves are read too.
const (
	plateTwoLines = 2.5
	plateLineMinH = 12
)

// A box read unsurely (under plateReadSure) may still hold two lines of
// text, a sign's name above its phone number, if it is less than
// plateTwoLinesUnsure times as wide as it is high: its halves are read
// then. The halves of a plate of one line cut its characters in two,
// and read so unsurely that they rule nothing out.
const plateTwoLinesUnsure = 4

// twoLines reports whether b may hold two lines of text: at least twice
// plateLineMinH high and less than ratio times as wide as it is high.
func twoLines(b image.Rectangle, ratio float64) bool {
	return b.Dy() >= 2*plateLineMinH && float64(b.Dx()) < ratio*float64(b.Dy())
}

// upperLower returns the upper and lower halves of b.
func upperLower(b image.Rectangle) []image.Rectangle {
	mid := (b.Min.Y + b.Max.Y) / 2
	return []image.Rectangle{image.Rect(b.Min.X, b.Min.Y, b.Max.X, mid), image.Rect(b.Min.X, mid, b.Max.X, b.Max.Y)}
}

// readInContext drops the boxes whose text, read on the full-size frame,
// no plate carries (see signText): the box itself, which the half-size
// search may have found too small to read, and the box widened by
// plateContext on either side, which reads the rest of a line of sign text
// (a phone number, a shop's name, a word) of which the detector boxed a
// part that looks like a plate. A plate stands apart on its car, so its
// widened reading is the plate and some bodywork. A box that may hold two
// lines (a sign's name above its phone number) is also read half by half,
// by its shape or, when read unsurely, by a wider shape. A box read as a
// short word or a number alone, with nothing else beside it, is sign text
// too (bare), and so is one read unsurely that continues a box ruled out
// as a sign (signNear). Boxes under plateReadMinW wide and past
// maxPlateRead are kept unread. A box that continues one read in the last
// plateReread frames gets that reading's verdict without a new one.
func (s *PlateStream) readInContext(ctx context.Context, img gocv.Mat, dets []Detection) ([]Detection, error) {
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	frame := s.n - 1
	s.readings = slices.DeleteFunc(s.readings, func(v readVerdict) bool { return frame-v.at >= plateReread })
	seen := len(s.readings) // verdicts of earlier frames; those after are this frame's
	out := dets[:0]
	read := 0
	for _, det := range dets {
		b := det.Box
		if b.Dx() < plateReadMinW {
			out = append(out, det)
			continue
		}
		if i := slices.IndexFunc(s.readings[:seen], func(v readVerdict) bool { return IoU(v.box, b) >= 0.5 }); i >= 0 {
			s.readings[i].box = b
			if s.readings[i].keep {
				out = append(out, det)
			}
			continue
		}
		if read >= maxPlateRead {
			out = append(out, det)
			continue
		}
		read++
		pad := int(math.Round(plateContext * float64(b.Dx())))
		wide := image.Rect(b.Min.X-pad, b.Min.Y, b.Max.X+pad, b.Max.Y).Intersect(bounds)
		boxes := []image.Rectangle{b, wide}
		halves := twoLines(b, plateTwoLines)
		if halves {
			boxes = append(boxes, upperLower(b)...)
		}
		rs, err := s.d.read.read(ctx, img, boxes)
		if err != nil {
			return nil, err
		}
		if !halves && rs[0].conf < plateReadSure && twoLines(b, plateTwoLinesUnsure) {
			hs, err := s.d.read.read(ctx, img, upperLower(b))
			if err != nil {
				return nil, err
			}
			rs = append(rs, hs...)
		}
		// A half holds one row of a two-row plate, which may be a
		// number alone, or a US state's name: a half is ruled out only
		// by text no row of a plate holds (see halfSign).
		sign := slices.ContainsFunc(rs, halfSign)
		if !sign && rs[0].conf < plateReadSure && rs[1].conf < plateReadSure {
			sign = s.signNear(b, seen)
		}
		keep := !sign && !signText(rs[0]) && !signText(rs[1]) && !bare(rs[0], rs[1])
		if keep {
			out = append(out, det)
		}
		s.readings = append(s.readings, readVerdict{box: b, keep: keep, sign: sign, at: frame})
	}
	return out, nil
}

// signNear reports whether b may continue a sign ruled out in one of the
// last plateReread frames (the first seen verdicts) for text no plate
// holds: about its size, with b's centre inside it. A sign read in one
// frame is often unreadable in the next, where its box has shifted too
// far for the verdict to carry over; an unsure reading (readInContext
// asks) is then no reason to keep it. Verdicts that a misread plate
// could earn (a number alone) do not carry over this way.
func (s *PlateStream) signNear(b image.Rectangle, seen int) bool {
	c := b.Min.Add(b.Max).Div(2)
	return slices.ContainsFunc(s.readings[:seen], func(v readVerdict) bool {
		r := float64(b.Dx()) / float64(max(1, v.box.Dx()))
		return v.sign && r >= 2.0/3 && r <= 1.5 && c.In(v.box)
	})
}

// Finish searches last, the frame Detect judged last, in every region
// the schedule did not search on it (in full, where it searched none),
// when the video ends there: a plate that came into view after its region
// was last searched is found no later, and the caller's tracker leads it
// back to the frames before.
// The plates the last frame left out for want of confirmation are hidden
// too: no later frame can confirm them.
func (s *PlateStream) Finish(ctx context.Context, last gocv.Mat) Result {
	if s.every == 1 || len(s.fine) == 0 || last.Empty() || image.Pt(last.Cols(), last.Rows()) != s.size {
		return Result{}
	}
	found, err := s.finishing(ctx, last)
	if err != nil {
		return Result{Err: err}
	}
	found = suppress(found, s.d.cfg.NMSIoU, image.Rectangle{Max: s.size})
	if s.d.read != nil {
		if found, err = s.readInContext(ctx, last, found); err != nil {
			return Result{Err: err}
		}
	}
	return Result{Detections: append(found, s.unconfirmed...)}
}

// finishing searches the last frame where the schedule did not: in every
// region but the share it searched, or in full, as an image is, when it
// was not searched at all.
func (s *PlateStream) finishing(ctx context.Context, last gocv.Mat) ([]Detection, error) {
	if s.stride.idle {
		return s.d.detectFrame(ctx, last, s.search(true))
	}
	var found []Detection
	for k, share := range s.fine {
		if k == (s.n-1)%s.every {
			continue
		}
		for _, src := range share {
			dets, err := s.region(ctx, last, src)
			if err != nil {
				return nil, err
			}
			found = append(found, dets...)
		}
	}
	return found, nil
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
	found, err := s.d.detectFrame(ctx, part, s.search(false))
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

// halfSign reports whether a reading, of a box or of either half of it,
// is text no row of a plate holds: what notPlate rules out, more digits
// than a plate holds (longNumber), a phone number (phoneNumber) or a
// sign's symbol (signSymbol). No reading of a labelled plate's half did
// any of these (see models/README.md).
func halfSign(r reading) bool {
	return notPlate(r) || longNumber(r) || phoneNumber(r) || signSymbol(r)
}

// longNumber reports whether a reading holds more digits than any plate,
// read at phoneLabelSure or more: a phone number, whose many digits pull
// its mean down where notPlate asks plateReadSure. No reading of a
// plate, whole or half, held so many (see models/README.md).
func longNumber(r reading) bool {
	return r.conf >= phoneLabelSure && digits(r.text) > plateMaxDigits
}

// signText reports whether a reading is text no plate carries: what
// notPlate rules out, a sign's line read less surely (signLine), a number
// alone (numberOnly), a phone number (phoneNumber), a word in small
// letters (lowerCase), a sign's symbol (signSymbol), or Chinese text no
// plate holds (foreignHan).
func signText(r reading) bool {
	return notPlate(r) || signLine(r) || numberOnly(r) || phoneNumber(r) || lowerCase(r) || signSymbol(r) || foreignHan(r)
}

// signLine reports whether a reading is a sign's line that notPlate asks
// a surer reading for: Chinese characters side by side as notPlate rules
// them out (五金店, 中山路), from signLineSure, or a word of four or more
// capitals alone (BAKERY, STOP), from signWordSure. A plate's box and
// widened readings, the only ones asked, seldom read so (see
// models/README.md); a box's halves, where a US plate's state name is,
// are not asked.
func signLine(r reading) bool {
	if k, n := sole(r.text); k == 'A' {
		return n >= 4 && r.conf >= signWordSure
	}
	return r.conf >= signLineSure && hanRun(r.text) >= 2 && notPlate(reading{text: r.text, conf: 1})
}

// signLineSure and signWordSure are how sure signLine's readings must be.
const (
	signLineSure = 0.6
	signWordSure = 0.9
)

// foreignHan reports whether a confident reading of Chinese characters
// alone holds one no plate carries (快 of 快餐): a Chinese plate holds one
// of plateHan, then letters and digits.
func foreignHan(r reading) bool {
	if k, _ := sole(r.text); k != 'H' || r.conf < plateReadSure {
		return false
	}
	return strings.ContainsFunc(r.text, func(c rune) bool {
		return unicode.Is(unicode.Han, c) && !strings.ContainsRune(plateHan, c)
	})
}

// plateHan holds the Chinese characters plates carry: the provinces' and
// regions' abbreviations, and the marks of special plates.
const plateHan = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领警学挂港澳试超"

// signSymbol reports whether a confident reading holds a symbol signs
// carry and plates do not: a percent, currency or at sign, an ampersand
// (SALE 50%, ¥15, A&B).
func signSymbol(r reading) bool {
	return r.conf >= plateReadSure && strings.ContainsAny(r.text, "%¥$€£@&")
}

// phoneNumber reports whether a confident reading is or labels a phone
// number: TEL (not the end of a word, as in HOTEL) or 电话, which no plate
// holds, or a group of three digits or more split by a dash or a space
// from one of two or more (040-9253, 400 603). Plates that group their
// digits so begin with a shorter group (Danish AB 12 345) or a letter
// (Czech 1A2 3456).
func phoneNumber(r reading) bool {
	if r.conf < phoneLabelSure {
		return false
	}
	if strings.Contains(r.text, "电话") {
		return true
	}
	if i := strings.Index(r.text, "TEL"); i >= 0 {
		c, _ := utf8.DecodeLastRuneInString(r.text[:i])
		if i == 0 || !unicode.IsLetter(c) {
			return true
		}
	}
	return r.conf >= plateReadSure && phoneDigits.MatchString(r.text)
}

// phoneLabelSure is how sure a reading holding a phone number's label
// must be: the recogniser's confidence is the mean over the characters,
// and the digits after the label pull it down, while a plate misread as
// the label itself is unlikely at any confidence.
const phoneLabelSure = 0.6

// phoneDigits matches digits grouped as phone numbers are written (see
// phoneNumber).
var phoneDigits = regexp.MustCompile(`[0-9]{3,}(?:[- ][0-9]{2,})+`)

// bare reports whether a box read as box, and widened along its line as
// wide, holds a short word, a number or Chinese characters alone: three
// or more capital letters (BAR, BUS, TEL), three or four digits (a
// fragment of a phone number), or one or more Chinese characters (便),
// read surely and with nothing else, in the box and beside it. notPlate
// and numberOnly ask more of a box read alone, which may hold the
// letters, the digits or the province of a plate whose other characters
// lie outside it; the widened reading shows there are none.
func bare(box, wide reading) bool {
	if box.conf < plateReadWordSure {
		return false
	}
	bk, bn := sole(box.text)
	wk, wn := sole(wide.text)
	switch {
	case bk == 0 || bk != wk:
		return false
	case bk == '0':
		return min(bn, wn) >= 3 && max(bn, wn) <= bareDigits
	case bk == 'A':
		return min(bn, wn) >= 3
	}
	return true
}

// bareDigits is the most digits bare takes for a number alone: a plate
// of digits alone, or one whose letters the recogniser took for digits,
// reads as more.
const bareDigits = 4

// sole returns the one kind of character text holds, spaces and dashes
// aside ('A' capitals, '0' digits, 'H' Chinese characters), and how many
// of them; 0 where it holds none, more than one kind, or anything else.
func sole(text string) (kind rune, n int) {
	for _, c := range text {
		var k rune
		switch {
		case c >= 'A' && c <= 'Z':
			k = 'A'
		case c >= '0' && c <= '9':
			k = '0'
		case unicode.Is(unicode.Han, c):
			k = 'H'
		case c == ' ' || c == '-':
			continue
		default:
			return 0, 0
		}
		if kind != 0 && k != kind {
			return 0, 0
		}
		kind = k
		n++
	}
	return kind, n
}

// lowerCase reports whether a confident reading holds a small letter the
// recogniser seldom gives for a capital or a digit: plates are written
// in capitals, and their letters are read as such, while "o", "l", "s"
// and the like may stand for a capital or a digit and are left out.
func lowerCase(r reading) bool {
	return r.conf >= plateReadSure && strings.ContainsAny(r.text, "abdefghijkmnpqrty")
}

// numberOnly reports whether a confident reading is a number and nothing
// else, as phone numbers are written: digits without a letter or a
// Chinese character, four or more in groups split by a dash or a space,
// or more than plateMaxNumber side by side. A shorter number, ungrouped,
// is kept: some plates hold digits alone (US ones up to seven), and the
// recogniser takes a plate's letters for digits now and then (J for 1, B
// for 8). A box on part of a phone number is caught by its widened
// reading where that holds the rest of the number.
func numberOnly(r reading) bool {
	if r.conf < plateReadSure {
		return false
	}
	n, split := 0, false
	for _, c := range r.text {
		switch {
		case c >= '0' && c <= '9':
			n++
		case (c == '-' || c == ' ') && n > 0:
			split = true
		case c == '-' || c == ' ' || c == '.':
		default:
			return false
		}
	}
	return n > plateMaxNumber || (split && n >= 4)
}

// plateMaxNumber is the most digits a plate of digits alone holds (US
// plates hold up to seven characters).
const plateMaxNumber = 7
