package detect

import (
	"context"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// YuNetConfig tunes YuNet when it proposes faces. Start from
// DefaultFaceConfig().YuNet.
type YuNetConfig struct {
	// Threshold is the score, √(cls × obj), above which boxes are kept.
	Threshold float64
	// SmallRamp raises the face detector's bar from SmallThreshold at
	// SmallFace to Threshold at SmallFace×SmallRamp over YuNet's boxes,
	// rather than in one step at SmallFace (1 or less: one step).
	SmallRamp float64
	// SureScore: in a video searched in part, a box YuNet scores at least
	// this is held to the face detector's SmallThreshold whatever its
	// size (0: off). The second look is unsure of turned, cut and
	// half-hidden faces that YuNet is sure of, and the boxes both are
	// fairly sure of are faces.
	SureScore float64
	// ScanConfig sets the scales and tiles.
	ScanConfig
}

// YuNet runs YuNet (libfacedetection's `n` model, the one behind OpenCV's
// FaceDetectorYN) on whole frames: an anchor-free detector with a fraction
// of RetinaFace MobileNet-0.25's parameters, and so a cheaper proposer.
type YuNet struct {
	cfg  YuNetConfig
	sess *onnx.BatchedSession
}

// yunetStrides are the model's output strides, in output order.
var yunetStrides = []int{8, 16, 32}

// yunetOutputs are the outputs desens reads, per stride: class and
// objectness probabilities and box offsets. The landmark outputs (kps_*)
// are not fetched, so they are not copied out of every run.
var yunetOutputs = []string{
	"cls_8", "obj_8", "bbox_8",
	"cls_16", "obj_16", "bbox_16",
	"cls_32", "obj_32", "bbox_32",
}

// yunetBand bounds the box heights, in model pixels, a run keeps when a
// finer or coarser run also looks at the frame, as retinaBand does: the
// model, trained at 640×640 on WIDER FACE, is surest of faces from about
// 32 px, and a face larger than 384 px at one scale is seen whole by the
// next coarser one. It still finds most faces of 16 px, which a video's
// every-frame run keeps; the second look judges them.
var yunetBand = sizeBand{min: 32, max: 384, least: 16}

// NewYuNet loads a YuNet model with a dynamic input size (input "input",
// planar BGR 0-255).
func NewYuNet(rt *onnx.Runtime, model []byte, cfg YuNetConfig, so onnx.SessionOptions) (*YuNet, error) {
	sess, err := rt.NewBatchedSession("yunet", model, []string{"input"}, yunetOutputs, so)
	if err != nil {
		return nil, fmt.Errorf("face model: %w", err)
	}
	// A model with other outputs loads without complaint and fails only
	// when run: run it once on a blank 64×64 input now, so a wrong file
	// is reported at start-up, not as masked frames.
	in := make([]float32, 3*64*64)
	outs, err := sess.Run(context.Background(), [][]float32{in}, [][]int64{{1, 3, 64, 64}})
	if err == nil {
		for i, o := range outs {
			cells := int64(64 / yunetStrides[i/3] * 64 / yunetStrides[i/3])
			width := []int64{1, 1, 4}[i%3]
			if len(o.Shape) != 3 || o.Shape[1] != cells || o.Shape[2] != width {
				err = fmt.Errorf("output %s has shape %v", yunetOutputs[i], o.Shape)
				break
			}
		}
	}
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("face model: not a YuNet model with a dynamic input size: %w", err)
	}
	return &YuNet{cfg: cfg, sess: sess}, nil
}

// Close frees the model.
func (d *YuNet) Close() error { return d.sess.Close() }

// Inferences reports how many model runs one w×h frame takes (for
// benchmarks and reports).
func (c YuNetConfig) Inferences(w, h int) int {
	return c.inferences(w, h, yunetBand.max)
}

func (d *YuNet) scanning() (ScanConfig, sizeBand) { return d.cfg.ScanConfig, yunetBand }

// run infers on the region src of the frame scaled by s (padded to
// multiples of 32) and returns boxes above the threshold in frame
// coordinates.
func (d *YuNet) run(ctx context.Context, img gocv.Mat, src image.Rectangle, s float64) ([]candidate, error) {
	// Planar BGR 0-255, padded with black as OpenCV's FaceDetectorYN pads.
	in, err := newPlanarInput(img, src, s, false, 0)
	if err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	outs, err := d.sess.Run(ctx, [][]float32{in.data}, [][]int64{in.shape()})
	if err != nil {
		return nil, fmt.Errorf("face detector: inference: %w", err)
	}
	var cands []candidate
	for i, stride := range yunetStrides {
		cands = decodeYuNet(cands, outs[3*i], outs[3*i+1], outs[3*i+2], stride, in.pw, in.w, in.h, d.cfg.Threshold)
	}
	return toFrame(cands, src, image.Pt(img.Cols(), img.Rows()), s, in.w, in.h), nil
}

// decodeYuNet turns one stride's outputs into candidates in model pixels,
// as OpenCV 4.8's FaceDetectorYN decodes them: cls and obj are [1, cells,
// 1], bbox [1, cells, 4], cells in row-major order of a grid pw/stride
// wide. The score is √(cls × obj), each clamped to [0, 1]; the cell at
// (row, col) holds a box centred on ((col + b0)·stride, (row + b1)·stride),
// e^b2·stride wide and e^b3·stride high. Boxes centred in the padding
// (outside w×h) are dropped.
func decodeYuNet(out []candidate, cls, obj, bbox onnx.Output, stride, pw, w, h int, thresh float64) []candidate {
	gw := pw / stride
	cells := len(cls.Data)
	if gw == 0 || cells%gw != 0 || len(obj.Data) != cells || len(bbox.Data) != 4*cells {
		return out
	}
	st := float64(stride)
	for i := 0; i < cells; i++ {
		c := min(max(float64(cls.Data[i]), 0), 1)
		o := min(max(float64(obj.Data[i]), 0), 1)
		score := math.Sqrt(c * o)
		if score < thresh {
			continue
		}
		row, col := i/gw, i%gw
		b := bbox.Data[4*i : 4*i+4]
		cx := (float64(col) + float64(b[0])) * st
		cy := (float64(row) + float64(b[1])) * st
		// The exponent is bounded so a stray output cannot overflow.
		bw := math.Exp(min(float64(b[2]), 6)) * st
		bh := math.Exp(min(float64(b[3]), 6)) * st
		if cx < 0 || cy < 0 || cx >= float64(w) || cy >= float64(h) {
			continue
		}
		out = append(out, candidate{box: rectF{cx - bw/2, cy - bh/2, cx + bw/2, cy + bh/2}, score: score})
	}
	return out
}
