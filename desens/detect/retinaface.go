package detect

import (
	"context"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// RetinaFaceConfig tunes the RetinaFace proposal stage. Start from
// DefaultFaceConfig().Proposals.
type RetinaFaceConfig struct {
	// Threshold is the face probability above which boxes are kept.
	Threshold float64
	// ScanConfig sets the scales and tiles. The model's anchors span
	// 16-512 px and it is surest of faces 40 px and up, so a 16 px face
	// needs the frame enlarged about 3×.
	ScanConfig
}

// RetinaFace runs RetinaFace (MobileNet-0.25) on whole frames. The model
// is fully convolutional, so one run at a given scale sees every face in
// its size range, with no tiles to stitch for ordinary frames.
type RetinaFace struct {
	cfg  RetinaFaceConfig
	sess *onnx.BatchedSession
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

// retinaBand is the run's box heights as a sizeBand.
var retinaBand = sizeBand{min: retinaMinSide, max: retinaMaxSide, least: retinaMinSide}

// NewRetinaFace loads a RetinaFace model with a dynamic input size (input
// "data", planar RGB 0-255).
func NewRetinaFace(rt *onnx.Runtime, model []byte, cfg RetinaFaceConfig, so onnx.SessionOptions) (*RetinaFace, error) {
	sess, err := rt.NewBatchedSession("retinaface", model, []string{"data"}, retinaOutputs, so)
	if err != nil {
		return nil, fmt.Errorf("face model: %w", err)
	}
	// A model with other inputs or outputs loads without complaint and
	// fails only when run: run it once on a blank 64×64 input now, so a
	// wrong file is reported at start-up, not as masked frames.
	in := make([]float32, 3*64*64)
	outs, err := sess.Run(context.Background(), [][]float32{in}, [][]int64{{1, 3, 64, 64}})
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
	return c.inferences(w, h, retinaMaxSide)
}

func (d *RetinaFace) scanning() (ScanConfig, sizeBand) { return d.cfg.ScanConfig, retinaBand }

// run infers on the region src of the frame scaled by s (padded to
// multiples of 32) and returns boxes above the threshold in frame
// coordinates.
func (d *RetinaFace) run(ctx context.Context, img gocv.Mat, src image.Rectangle, s float64) ([]candidate, error) {
	// Planar RGB 0-255: the model subtracts 127.5 and scales by 1/128
	// itself, so mid-grey padding reads as zero.
	in, err := newPlanarInput(img, src, s, true, 127.5)
	if err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	outs, err := d.sess.Run(ctx, [][]float32{in.data}, [][]int64{in.shape()})
	if err != nil {
		return nil, fmt.Errorf("face detector: inference: %w", err)
	}
	var cands []candidate
	for i, st := range retinaStrides {
		cands = decodeRetina(cands, outs[2*i], outs[2*i+1], st.stride, st.anchors, in.w, in.h, d.cfg.Threshold)
	}
	return toFrame(cands, src, image.Pt(img.Cols(), img.Rows()), s, in.w, in.h), nil
}

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
