package detect

import (
	"context"
	"fmt"
	"image"
	"math"
	"slices"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// RetinaFaceConfig tunes the RetinaFace proposal stage. Start from
// DefaultFaceConfig().Proposals.
type RetinaFaceConfig struct {
	// Threshold is the face probability above which boxes are kept.
	Threshold float64
	// Scales are the model pixels per frame pixel the frame is run at. The
	// model's anchors span 16-512 px and it is surest of faces 40 px and
	// up, so a 16 px face needs the frame enlarged about 3×.
	Scales []float64
	// FitSide adds one more run with the frame shrunk to this long side,
	// for faces that fill the frame (0: none).
	FitSide int
	// MaxPixels caps the frame's enlarged size: a scale that would exceed
	// it is lowered. It bounds the work on huge images.
	MaxPixels int
	// TileSide cuts a run larger than this many model pixels a side into
	// overlapping tiles, bounding the memory one inference takes.
	TileSide int
}

// RetinaFace runs RetinaFace (MobileNet-0.25) on whole frames. The model
// is fully convolutional, so one run at a given scale sees every face in
// its size range, with no tiles to stitch for ordinary frames.
type RetinaFace struct {
	cfg  RetinaFaceConfig
	sess *onnx.DynamicSession
}

// retinaOutputs are the outputs desens reads, per stride: face probability
// and box deltas. The landmark outputs are not fetched, so they are not
// copied out of every run.
var retinaOutputs = []string{
	"face_rpn_cls_prob_reshape_stride32", "face_rpn_bbox_pred_stride32",
	"face_rpn_cls_prob_reshape_stride16", "face_rpn_bbox_pred_stride16",
	"face_rpn_cls_prob_reshape_stride8", "face_rpn_bbox_pred_stride8",
}

// retinaStrides lists, in output order, each stride and its two anchor
// sides (a 16 px base times the scales RetinaFace was trained with).
var retinaStrides = []struct {
	stride  int
	anchors [2]float64
}{{32, [2]float64{512, 256}}, {16, [2]float64{128, 64}}, {8, [2]float64{32, 16}}}

// retinaMinSide and retinaMaxSide bound the box heights, in model pixels,
// a run keeps when a finer or coarser run also looks at the frame: each
// size is taken from the run that sees it best.
const (
	retinaMinSide = 32
	retinaMaxSide = 384
)

// NewRetinaFace loads a RetinaFace model with a dynamic input size (input
// "data", planar RGB 0-255).
func NewRetinaFace(rt *onnx.Runtime, model []byte, cfg RetinaFaceConfig, so onnx.SessionOptions) (*RetinaFace, error) {
	sess, err := rt.NewDynamicSession(model, []string{"data"}, retinaOutputs, so)
	if err != nil {
		return nil, fmt.Errorf("face model: %w", err)
	}
	// A model with other inputs or outputs loads without complaint and
	// fails only when run: run it once on a blank 64×64 input now, so a
	// wrong file is reported at start-up, not as masked frames.
	in := make([]float32, 3*64*64)
	outs, err := sess.Run([][]float32{in}, [][]int64{{1, 3, 64, 64}})
	if err == nil {
		for i, o := range outs {
			if len(o.Shape) != 4 || o.Shape[2]*int64(retinaStrides[i/2].stride) != 64 {
				err = fmt.Errorf("output %s has shape %v", retinaOutputs[i], o.Shape)
				break
			}
		}
	}
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("face model: not a RetinaFace model with a dynamic input size: %w", err)
	}
	return &RetinaFace{cfg: cfg, sess: sess}, nil
}

// Close frees the model.
func (d *RetinaFace) Close() error { return d.sess.Close() }

// Inferences reports how many model runs one w×h frame takes (for
// benchmarks and reports).
func (c RetinaFaceConfig) Inferences(w, h int) int {
	n := 0
	for _, s := range c.runScales(w, h) {
		n += len(c.tiles(w, h, s))
	}
	return n
}

// runScales lists the scales one w×h frame is run at, finest first.
func (c RetinaFaceConfig) runScales(w, h int) []float64 {
	var out []float64
	limit := math.Inf(1)
	if c.MaxPixels > 0 {
		limit = math.Sqrt(float64(c.MaxPixels) / float64(w*h))
	}
	for _, s := range c.Scales {
		out = append(out, min(s, limit))
	}
	if c.FitSide > 0 {
		fit := float64(c.FitSide) / float64(max(w, h))
		if len(out) == 0 || fit < slices.Min(out)*0.75 {
			out = append(out, fit)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return slices.Compact(out)
}

// candidates returns the merged face boxes in a BGR frame with their
// probabilities, strongest first.
func (d *RetinaFace) candidates(ctx context.Context, img gocv.Mat) ([]candidate, error) {
	var cands []candidate
	scales := d.cfg.runScales(img.Cols(), img.Rows())
	for i, s := range scales {
		for _, src := range d.cfg.tiles(img.Cols(), img.Rows(), s) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			found, err := d.run(img, src, s)
			if err != nil {
				return nil, err
			}
			for _, f := range found {
				side := f.box.h() * s
				if (i > 0 && side < retinaMinSide) || (i < len(scales)-1 && side > retinaMaxSide) {
					continue
				}
				cands = append(cands, f)
			}
		}
	}
	return mergeBoxes(cands, 0.4), nil
}

// tiles cuts the w×h frame, run at scale s, into as few regions of at
// most TileSide model pixels a side as it can, overlapping by more than the
// largest box the run keeps, so every face lies whole in one of them.
func (c RetinaFaceConfig) tiles(w, h int, s float64) []image.Rectangle {
	full := image.Rect(0, 0, w, h)
	if c.TileSide <= 0 {
		return []image.Rectangle{full}
	}
	side := int(float64(c.TileSide) / s)
	overlap := int(float64(retinaMaxSide)/s) + 16
	if side <= 2*overlap {
		return []image.Rectangle{full}
	}
	sx, xs := split(w, side, overlap)
	sy, ys := split(h, side, overlap)
	var out []image.Rectangle
	for _, y := range ys {
		for _, x := range xs {
			out = append(out, image.Rect(x, y, x+sx, y+sy).Intersect(full))
		}
	}
	return out
}

// split covers n pixels with the fewest spans of at most maxSide that
// overlap by overlap, all of one length, and returns it and their starts.
func split(n, maxSide, overlap int) (int, []int) {
	if n <= maxSide {
		return n, []int{0}
	}
	step := maxSide - overlap
	count := (n - overlap + step - 1) / step
	side := (n + (count-1)*overlap + count - 1) / count
	return side, starts(n, side, side-overlap)
}

// run infers on the region src of the frame scaled by s (padded to
// multiples of 32) and returns boxes above the threshold in frame
// coordinates.
func (d *RetinaFace) run(img gocv.Mat, src image.Rectangle, s float64) ([]candidate, error) {
	w := max(1, int(math.Round(float64(src.Dx())*s)))
	h := max(1, int(math.Round(float64(src.Dy())*s)))
	roi := img.Region(src)
	defer roi.Close()
	scaled := gocv.NewMat()
	defer scaled.Close()
	interp := gocv.InterpolationLinear
	if s < 1 {
		interp = gocv.InterpolationArea // no aliasing when shrinking
	}
	gocv.Resize(roi, &scaled, image.Pt(w, h), 0, 0, interp)
	px, err := scaled.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	pw, ph := (w+31)/32*32, (h+31)/32*32
	// Planar RGB 0-255: the model subtracts 127.5 and scales by 1/128
	// itself, so mid-grey padding reads as zero.
	plane := pw * ph
	in := make([]float32, 3*plane)
	for i := range in {
		in[i] = 127.5
	}
	for y := 0; y < h; y++ {
		row := px[y*w*3 : (y+1)*w*3]
		o := y * pw
		for x := 0; x < w; x++ {
			in[o+x] = float32(row[x*3+2])
			in[plane+o+x] = float32(row[x*3+1])
			in[2*plane+o+x] = float32(row[x*3])
		}
	}
	outs, err := d.sess.Run([][]float32{in}, [][]int64{{1, 3, int64(ph), int64(pw)}})
	if err != nil {
		return nil, fmt.Errorf("face detector: inference: %w", err)
	}
	var cands []candidate
	for i, st := range retinaStrides {
		cands = decodeRetina(cands, outs[2*i], outs[2*i+1], st.stride, st.anchors, w, h, d.cfg.Threshold)
	}
	// A box reaching a tile edge inside the frame is a face cut in two:
	// the neighbouring tile, which overlaps by more than any kept box,
	// sees it whole. The half could otherwise win the suppression and
	// leave the other half of the face unhidden.
	inner := [4]bool{src.Min.X > 0, src.Min.Y > 0, src.Max.X < img.Cols(), src.Max.Y < img.Rows()}
	out := cands[:0]
	for _, c := range cands {
		b := c.box
		if (inner[0] && b.x0 < tileEdge) || (inner[1] && b.y0 < tileEdge) ||
			(inner[2] && b.x1 > float64(w)-tileEdge) || (inner[3] && b.y1 > float64(h)-tileEdge) {
			continue
		}
		c.box = rectF{float64(src.Min.X) + b.x0/s, float64(src.Min.Y) + b.y0/s, float64(src.Min.X) + b.x1/s, float64(src.Min.Y) + b.y1/s}
		out = append(out, c)
	}
	return out, nil
}

// tileEdge is how close, in model pixels, a box may come to a tile's inner
// edge before it counts as cut.
const tileEdge = 4

// decodeRetina turns one stride's outputs into candidates in model pixels:
// probabilities are [1, 2A, H, W] (background for each anchor, then face),
// deltas [1, 4A, H, W] as (dx, dy, log dw, log dh) relative to the anchor.
// Boxes centred in the padding (outside w×h) are dropped.
func decodeRetina(out []candidate, prob, bbox onnx.Output, stride int, anchors [2]float64, w, h int, thresh float64) []candidate {
	if len(prob.Shape) != 4 || len(bbox.Shape) != 4 {
		return out
	}
	gh, gw := int(prob.Shape[2]), int(prob.Shape[3])
	cell := gh * gw
	if len(prob.Data) < 4*cell || len(bbox.Data) < 8*cell {
		return out
	}
	for a, side := range anchors {
		scores := prob.Data[(2+a)*cell : (3+a)*cell]
		deltas := bbox.Data[4*a*cell : 4*(a+1)*cell]
		for gy := 0; gy < gh; gy++ {
			for gx := 0; gx < gw; gx++ {
				i := gy*gw + gx
				p := float64(scores[i])
				if p < thresh {
					continue
				}
				// Anchors are centred on (7.5, 7.5) of each cell's 16 px base.
				ax, ay := float64(gx*stride)+7.5, float64(gy*stride)+7.5
				cx := ax + float64(deltas[i])*side
				cy := ay + float64(deltas[cell+i])*side
				bw := side * math.Exp(min(float64(deltas[2*cell+i]), 4))
				bh := side * math.Exp(min(float64(deltas[3*cell+i]), 4))
				if cx < 0 || cy < 0 || cx >= float64(w) || cy >= float64(h) {
					continue
				}
				out = append(out, candidate{box: rectF{cx - bw/2, cy - bh/2, cx + bw/2, cy + bh/2}, score: p})
			}
		}
	}
	return out
}
