package detect

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"unicode"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// The plate reader's input (PaddleOCR PP-OCRv4 recognition): the box grown
// by plateReadPadX of its width and plateReadPadY of its height on each
// side, scaled to plateReadH rows at its own aspect (at most plateReadMaxW
// wide, a multiple of 8), planar BGR, (v/255-0.5)/0.5.
const (
	plateReadH    = 48
	plateReadMaxW = 320
	plateReadPadX = 0.05
	plateReadPadY = 0.10
)

// A reading rules a box out only when the recogniser is this sure of it
// (the mean probability of its characters): it misreads blurred and tilted
// plates, dropping digits or taking them for letters, but rarely with
// confidence. Words need more: the recogniser reads some tilted plates as
// letters alone, and fairly surely (see models/README.md).
const (
	plateReadSure     = 0.80
	plateReadWordSure = 0.95
)

// plateReadMinW is the narrowest box (frame pixels) worth reading: below it
// the recogniser reads little, and a reading never rules a box out.
const plateReadMinW = 30

// maxPlateRead bounds the boxes one frame sends to the reader; the rest
// are kept unread, as plates.
const maxPlateRead = 32

// plateReader is the plate detector's last look: a text recogniser that
// reads what a plate box holds, so that a box whose text no plate could
// carry (a shop sign's two Chinese characters, a word such as PHARMACY)
// is dropped. The verifier judges shape and texture and is fooled by
// signs in fonts it has not seen; what the text says does not depend on
// the font.
type plateReader struct {
	sess *onnx.BatchedSession
	keys []string // class i > 0 is keys[i-1]; class 0 is the CTC blank
}

func newPlateReader(rt *onnx.Runtime, model []byte, keys []string, so onnx.SessionOptions) (*plateReader, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("plate reader: empty character list")
	}
	sess, err := rt.NewBatchedSession("plate reader", model, []string{"x"}, []string{"softmax_11.tmp_0"}, so)
	if err != nil {
		return nil, fmt.Errorf("plate reader model: %w", err)
	}
	return &plateReader{sess: sess, keys: keys}, nil
}

func (r *plateReader) Close() error { return r.sess.Close() }

// reading is what the recogniser made of one box.
type reading struct {
	text string
	conf float64 // mean probability of the characters read; 0 when none
}

// read returns the text in each box, in order.
func (r *plateReader) read(ctx context.Context, img gocv.Mat, boxes []image.Rectangle) ([]reading, error) {
	res := make([]reading, len(boxes))
	for i, b := range boxes {
		var err error
		if res[i], err = r.readOne(ctx, img, b); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// readOne reads one box. Boxes go one at a time: a batch would be padded
// to its widest crop, and costs more than the runs it saves.
func (r *plateReader) readOne(ctx context.Context, img gocv.Mat, b image.Rectangle) (reading, error) {
	px, py := int(math.Round(plateReadPadX*float64(b.Dx()))), int(math.Round(plateReadPadY*float64(b.Dy())))
	cr := image.Rect(b.Min.X-px, b.Min.Y-py, b.Max.X+px, b.Max.Y+py).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if cr.Empty() {
		return reading{}, fmt.Errorf("plate reader: box %v outside the frame", b)
	}
	w := plateReadWidth(float64(cr.Dx()), float64(cr.Dy()))
	src := img.Region(cr)
	c := gocv.NewMat()
	defer c.Close()
	gocv.Resize(src, &c, image.Pt(w, plateReadH), 0, 0, gocv.InterpolationLinear)
	src.Close()
	return r.recognise(ctx, c)
}

// readQuad reads the plate whose corners (in order round it) are quad,
// straightened: a plate turned or seen from the side reads as a line only
// once it is, and a large plate in a close-up is often both. Corners that
// make no quadrilateral read as nothing.
func (r *plateReader) readQuad(ctx context.Context, img gocv.Mat, quad []image.Point) (reading, error) {
	if len(quad) != 4 {
		return reading{}, fmt.Errorf("plate reader: %d corners, want 4", len(quad))
	}
	var q quadF
	for k, p := range quad {
		q[k] = pointF{float64(p.X), float64(p.Y)}
	}
	h, ok := q.hull()
	pw, ph := h.sides()
	if !ok || pw < 1 || ph < 1 {
		// Nothing to straighten: it reads as nothing, as a blank box
		// does, and a frame is not failed for it.
		return reading{}, nil
	}
	h = h.grown(plateReadPadX*pw, plateReadPadY*ph)
	// Start at the corner from which the plate's longer side runs
	// rightwards, so that the text comes out upright.
	start := 0
	d := func(a, b pointF) float64 { return math.Hypot(b.x-a.x, b.y-a.y) }
	if d(h[0], h[1]) < d(h[1], h[2]) {
		start = 1
	}
	if h[(start+1)%4].x < h[start].x {
		start += 2
	}
	w := plateReadWidth(pw*(1+2*plateReadPadX), ph*(1+2*plateReadPadY))
	src, dst := make([]gocv.Point2f, 4), []gocv.Point2f{{X: 0, Y: 0}, {X: float32(w), Y: 0}, {X: float32(w), Y: plateReadH}, {X: 0, Y: plateReadH}}
	for k := range src {
		p := h[(start+k)%4]
		src[k] = gocv.Point2f{X: float32(p.x), Y: float32(p.y)}
	}
	sv, dv := gocv.NewPoint2fVectorFromPoints(src), gocv.NewPoint2fVectorFromPoints(dst)
	defer sv.Close()
	defer dv.Close()
	m := gocv.GetPerspectiveTransform2f(sv, dv)
	defer m.Close()
	c := gocv.NewMat()
	defer c.Close()
	gocv.WarpPerspectiveWithParams(img, &c, m, image.Pt(w, plateReadH), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
	return r.recognise(ctx, c)
}

// plateReadWidth is the reader's input width for a crop of w×h frame
// pixels: its aspect kept at plateReadH rows, at most plateReadMaxW, a
// multiple of 8.
func plateReadWidth(w, h float64) int {
	rw := min(plateReadMaxW, max(16, int(math.Round(w*plateReadH/h))))
	return (rw + 7) / 8 * 8
}

// recognise reads a crop already cut to the reader's input size.
func (r *plateReader) recognise(ctx context.Context, c gocv.Mat) (reading, error) {
	w := c.Cols()
	pix, err := c.DataPtrUint8()
	if err != nil {
		return reading{}, fmt.Errorf("plate reader: %w", err)
	}
	plane := plateReadH * w
	in := make([]float32, 3*plane)
	for i := 0; i < plane; i++ {
		in[i] = float32(pix[i*3])/127.5 - 1
		in[plane+i] = float32(pix[i*3+1])/127.5 - 1
		in[2*plane+i] = float32(pix[i*3+2])/127.5 - 1
	}
	outs, err := r.sess.Run(ctx, [][]float32{in}, [][]int64{{1, 3, plateReadH, int64(w)}})
	if err != nil {
		return reading{}, fmt.Errorf("plate reader: inference: %w", err)
	}
	o := outs[0]
	if len(o.Shape) != 3 || o.Shape[0] != 1 || o.Shape[2] != int64(len(r.keys)+1) {
		return reading{}, fmt.Errorf("plate reader: output shape %v for %d characters", o.Shape, len(r.keys))
	}
	return ctcGreedy(o.Data, int(o.Shape[1]), int(o.Shape[2]), r.keys), nil
}

// ctcGreedy decodes one sequence of per-step class probabilities: the most
// likely class at each step, repeats merged, blanks (class 0) dropped.
func ctcGreedy(p []float32, steps, classes int, keys []string) reading {
	var sb strings.Builder
	var sum float64
	n, prev := 0, 0
	for t := 0; t < steps; t++ {
		row := p[t*classes : (t+1)*classes]
		best := 0
		for k := 1; k < classes; k++ {
			if row[k] > row[best] {
				best = k
			}
		}
		if best != 0 && best != prev {
			sb.WriteString(keys[best-1])
			sum += float64(row[best])
			n++
		}
		prev = best
	}
	if n == 0 {
		return reading{}
	}
	return reading{text: sb.String(), conf: sum / float64(n)}
}

// notPlate reports whether a confident reading is text no plate carries:
// Chinese plates hold one province character, then letters and digits, and
// at most one more character (学, 警, 挂 ...) at the end, so never two
// Chinese characters side by side; Chinese, European and nearly all US
// plates hold digits. A reading with a digit is ruled out only when no
// misreading of a plate could give it: three Chinese characters side by
// side (a shop sign's line, "24小时营业"), two side by side and no Latin
// letter (a price or phone board, "特价8579": a Chinese plate's province
// character is followed by a letter), or more digits than any plate holds
// (a phone number). Otherwise the recogniser, which drops or
// invents characters on hard plates, leaves a sign with digits (a price,
// a distance) to the verifier.
func notPlate(r reading) bool {
	if r.conf < plateReadSure {
		return false
	}
	letters, nDigits := 0, 0
	for _, c := range r.text {
		if unicode.IsDigit(c) {
			nDigits++
		}
		if c < unicode.MaxASCII && unicode.IsLetter(c) {
			letters++
		}
	}
	longestHan := hanRun(r.text)
	anyHan := longestHan > 0
	switch {
	case longestHan >= 3 || nDigits > plateMaxDigits || (longestHan >= 2 && letters == 0):
		return true
	case nDigits > 0:
		return false
	case longestHan >= 2:
		return true
	}
	return !anyHan && letters >= 4 && r.conf >= plateReadWordSure
}

// hanRun returns the most Chinese characters side by side in text.
func hanRun(text string) int {
	run, most := 0, 0
	for _, c := range text {
		if unicode.Is(unicode.Han, c) {
			run++
			most = max(most, run)
		} else {
			run = 0
		}
	}
	return most
}

// plateMaxDigits is the most digits a plate carries (Chinese plates hold
// at most seven characters after the province, European and US plates
// fewer digits than that): a reading with more is a phone number.
const plateMaxDigits = 8

// digits counts the ASCII digits in s.
func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
