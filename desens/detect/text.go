package detect

import (
	"context"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// TextConfig tunes the PP-OCRv4 text detector and its DB post-processing.
// The zero value is not useful: start from DefaultTextConfig.
type TextConfig struct {
	// MaxPixels bounds the model input's area, which the cost follows:
	// larger images are shrunk to it (the model is fully convolutional and
	// takes any size whose sides are multiples of 32). A million pixels
	// takes the top and bottom fifths of a 1080p frame at full resolution
	// (where 12 px overlay glyphs must stay 12 px: shrunk, they are lost
	// to the model), or a whole 1080p frame at 0.7×.
	MaxPixels int
	// Threshold binarises the probability map (DB's "thresh").
	Threshold float64
	// BoxThreshold is the mean probability a region's box must reach (DB's
	// "box_thresh"). Lower than PaddleOCR's 0.6: a missed overlay is worse
	// than a masked patch of texture.
	BoxThreshold float64
	// UnclipRatio grows each shrunk text kernel back to the whole line: the
	// model is trained on text polygons shrunk by 0.4, and a box of area A
	// and perimeter L grows by A×UnclipRatio/L on every side.
	UnclipRatio float64
	// MinSize drops regions whose shorter side is under this many model
	// pixels (speckle).
	MinSize float64
}

// DefaultTextConfig is PaddleOCR's DB post-processing with a lower box
// threshold and a larger input.
func DefaultTextConfig() TextConfig {
	return TextConfig{MaxPixels: 1_000_000, Threshold: 0.3, BoxThreshold: 0.5, UnclipRatio: 1.5, MinSize: 3}
}

// PP-OCR normalises BGR pixels with the ImageNet mean and deviation, in
// channel order as OpenCV loads them.
var (
	textMean = [3]float32{0.485, 0.456, 0.406}
	textStd  = [3]float32{0.229, 0.224, 0.225}
)

// TextDetector finds lines of text with PaddleOCR's PP-OCRv4 detection
// model (a DB, "differentiable binarisation", segmenter). It is safe for
// concurrent use: every call brings its own tensors.
type TextDetector struct {
	cfg  TextConfig
	sess *onnx.BatchedSession
}

// NewText loads a PP-OCR detection model (input x [N,3,H,W], output a
// [N,1,H,W] text probability map).
func NewText(rt *onnx.Runtime, model []byte, cfg TextConfig, so onnx.SessionOptions) (*TextDetector, error) {
	if cfg.MaxPixels < 32*32 {
		return nil, fmt.Errorf("text detector: max pixels %d: want 1024 or more", cfg.MaxPixels)
	}
	sess, err := rt.NewBatchedSession("text detector", model, []string{"x"}, []string{"sigmoid_0.tmp_0"}, so)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	return &TextDetector{cfg: cfg, sess: sess}, nil
}

// Close frees the model.
func (d *TextDetector) Close() error { return d.sess.Close() }

// InputSize is the model input used for an image of w×h: the image shrunk
// (never enlarged) to at most MaxPixels, each side rounded to a multiple
// of 32.
func (d *TextDetector) InputSize(w, h int) (int, int) {
	s := min(1, math.Sqrt(float64(d.cfg.MaxPixels)/float64(w*h)))
	r := func(v int) int { return max(32, int(math.Round(float64(v)*s/32))*32) }
	return r(w), r(h)
}

// DetectText returns the boxes of the text lines in one BGR frame, in frame
// pixels, with their DB scores.
func (d *TextDetector) DetectText(ctx context.Context, img gocv.Mat) ([]Detection, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("text detector: want a non-empty 8-bit BGR frame, got %v", img.Type())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fw, fh := img.Cols(), img.Rows()
	w, h := d.InputSize(fw, fh)
	resized := gocv.NewMat()
	defer resized.Close()
	interp := gocv.InterpolationLinear
	if w < fw {
		interp = gocv.InterpolationArea
	}
	gocv.Resize(img, &resized, image.Pt(w, h), 0, 0, interp)
	px, err := resized.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("text detector: %w", err)
	}
	in := make([]float32, 3*w*h)
	plane := w * h
	for i := 0; i < plane; i++ {
		for c := 0; c < 3; c++ {
			in[c*plane+i] = (float32(px[i*3+c])/255 - textMean[c]) / textStd[c]
		}
	}
	out, err := d.sess.Run(ctx, [][]float32{in}, [][]int64{{1, 3, int64(h), int64(w)}})
	if err != nil {
		return nil, fmt.Errorf("text detector: inference: %w", err)
	}
	if len(out) != 1 || len(out[0].Data) != plane {
		return nil, fmt.Errorf("text detector: output shape %v, want [1,1,%d,%d]", out[0].Shape, h, w)
	}
	sx, sy := float64(fw)/float64(w), float64(fh)/float64(h)
	bounds := image.Rect(0, 0, fw, fh)
	var dets []Detection
	for _, b := range dbBoxes(out[0].Data, w, h, d.cfg) {
		r := rectF{b.box.x0 * sx, b.box.y0 * sy, b.box.x1 * sx, b.box.y1 * sy}.rect().Intersect(bounds)
		if !r.Empty() {
			dets = append(dets, Detection{Box: r, Class: Overlay, Score: float32(b.score)})
		}
	}
	return dets, nil
}

// textBox is one region of DB post-processing, in probability map pixels.
type textBox struct {
	box   rectF
	score float64
}

// dbBoxes is DB post-processing for upright text: binarise the probability
// map, take each 8-connected region, score it by the mean probability over
// its bounding box, and unclip the box back to the whole text line. Burned-
// in overlays are upright, so axis-aligned boxes replace DB's rotated ones.
func dbBoxes(prob []float32, w, h int, cfg TextConfig) []textBox {
	seen := make([]bool, w*h)
	var stack []int
	var out []textBox
	for start := range prob {
		if seen[start] || float64(prob[start]) <= cfg.Threshold {
			continue
		}
		// Flood fill one region, keeping its bounding box.
		x0, y0, x1, y1 := w, h, -1, -1
		seen[start] = true
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%w, p/w
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					q := ny*w + nx
					if !seen[q] && float64(prob[q]) > cfg.Threshold {
						seen[q] = true
						stack = append(stack, q)
					}
				}
			}
		}
		bw, bh := float64(x1-x0+1), float64(y1-y0+1)
		if min(bw, bh) < cfg.MinSize {
			continue
		}
		var sum float64
		for y := y0; y <= y1; y++ {
			for _, v := range prob[y*w+x0 : y*w+x1+1] {
				sum += float64(v)
			}
		}
		score := sum / (bw * bh)
		if score < cfg.BoxThreshold {
			continue
		}
		d := bw * bh * cfg.UnclipRatio / (2 * (bw + bh))
		out = append(out, textBox{
			box:   rectF{float64(x0) - d, float64(y0) - d, float64(x1+1) + d, float64(y1+1) + d},
			score: score,
		})
	}
	return out
}
