package detect

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync"

	"gocv.io/x/gocv"
	"golang.org/x/sync/errgroup"

	"github.com/desens/desens/internal/onnx"
)

// blazeInput is the side of the BlazeFace back-camera model's input.
const blazeInput = 256

// BlazeFaceConfig tunes BlazeFace's second look at a face another detector
// proposed. Start from DefaultBlazeFaceConfig.
type BlazeFaceConfig struct {
	// VerifyContexts are the widths, in face sides, of the crops a
	// proposal is looked at again in; the mean of its scores (the
	// proposal's included) must reach the face detector's threshold.
	// Faces score well at most zooms, letters, balls and badges only at
	// some.
	VerifyContexts []float64
	// BoxScale is how much larger a whole-face box (forehead to chin, ear
	// to ear) is than BlazeFace's tight eyes-to-mouth box.
	BoxScale float64
}

// DefaultBlazeFaceConfig looks at a face in crops 4, 3, 6, 2 and 8 face
// widths wide. Five zooms average out the single crops where BlazeFace
// misreads a small face (it scores 0 in one and 0.7 in the next); with
// fewer, one such crop can sink a real face.
func DefaultBlazeFaceConfig() BlazeFaceConfig {
	return BlazeFaceConfig{VerifyContexts: []float64{4, 3, 6, 2, 8}, BoxScale: 1.3}
}

// BlazeFace runs MediaPipe BlazeFace (back-camera, 256×256) on crops
// round a proposed face, scaled so the face appears at the sizes the model
// knows best. It gives the second look, where a second model's
// independent judgement removes what the first mistakes for faces.
//
// With a Batch of 1 it runs one crop at a time on tensors bound once, and
// stops looking as soon as a face cannot pass; with a larger Batch it
// sends every crop of a look at once to a batching session, where they
// share runs with the crops of other faces, frames and files.
type BlazeFace struct {
	cfg     BlazeFaceConfig
	anchors []anchor

	mu      sync.Mutex // guards sess and resized: one inference at a time
	sess    *onnx.Session
	resized gocv.Mat

	batched *onnx.BatchedSession // with a Batch over 1, in place of sess
}

// blazeInputs and blazeOutputs are the model's tensors: one RGB crop in;
// scores and boxes for the 16×16 grid's anchors, then the 8×8 grid's, out.
var (
	blazeInputs  = []onnx.Tensor{{Name: "input:0", Shape: []int64{1, blazeInput, blazeInput, 3}}}
	blazeOutputs = []onnx.Tensor{
		{Name: "Identity:0", Shape: []int64{1, 512, 1}},
		{Name: "Identity_1:0", Shape: []int64{1, 384, 1}},
		{Name: "Identity_2:0", Shape: []int64{1, 512, 16}},
		{Name: "Identity_3:0", Shape: []int64{1, 384, 16}},
	}
)

// NewBlazeFace loads a BlazeFace back-camera model.
func NewBlazeFace(rt *onnx.Runtime, model []byte, cfg BlazeFaceConfig, so onnx.SessionOptions) (*BlazeFace, error) {
	d := &BlazeFace{cfg: cfg, anchors: blazeAnchors()}
	if so.Batch > 1 {
		names := func(ts []onnx.Tensor) []string {
			var out []string
			for _, t := range ts {
				out = append(out, t.Name)
			}
			return out
		}
		var err error
		if d.batched, err = rt.NewBatchedSession("blazeface", model, names(blazeInputs), names(blazeOutputs), so); err != nil {
			return nil, fmt.Errorf("face model: %w", err)
		}
		return d, nil
	}
	sess, err := rt.NewSession(model, blazeInputs, blazeOutputs, so)
	if err != nil {
		return nil, fmt.Errorf("face model: %w", err)
	}
	d.sess, d.resized = sess, gocv.NewMat()
	return d, nil
}

// Close frees the model.
func (d *BlazeFace) Close() error {
	if d.batched != nil {
		return d.batched.Close()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.resized.Close()
	return d.sess.Close()
}

// verifyWhole looks again at a candidate another detector found, in crops
// centred on it, one per VerifyContexts entry. Its box is a whole-face box,
// shrunk by BoxScale to the eyes-to-mouth box this model gives. It returns
// the mean of the candidate's own score and the scores the model gives a
// box that agrees with it in each crop. Real faces score well at most
// zooms; letters, balls and badges only at some. It stops as soon as the
// mean cannot reach thresh any more (with a batching session, all crops
// are looked at together, and the answer is the same).
func (d *BlazeFace) verifyWhole(ctx context.Context, img gocv.Mat, c candidate, thresh float64) (float64, error) {
	c.box = c.box.scale(1 / d.cfg.BoxScale)
	zooms := d.cfg.VerifyContexts
	var scores []float64
	if d.batched != nil {
		var err error
		if scores, err = d.verifyAll(ctx, img, c); err != nil {
			return 0, err
		}
	} else {
		d.mu.Lock()
		defer d.mu.Unlock()
	}
	n := float64(len(zooms) + 1)
	sum := c.score
	for i, zoom := range zooms {
		var s float64
		if scores != nil {
			s = scores[i]
		} else {
			var err error
			if s, err = d.verifyAt(ctx, img, c, zoom); err != nil {
				return 0, err
			}
		}
		sum += s
		left := float64(len(zooms) - i - 1)
		if (sum+left)/n < thresh {
			return (sum + left) / n, nil
		}
	}
	return sum / n, nil
}

// verifyAll looks at c at every zoom at once, so the batching session can
// put the crops in one run, and returns the scores in zoom order.
func (d *BlazeFace) verifyAll(ctx context.Context, img gocv.Mat, c candidate) ([]float64, error) {
	scores := make([]float64, len(d.cfg.VerifyContexts))
	g, gctx := errgroup.WithContext(ctx)
	for i, zoom := range d.cfg.VerifyContexts {
		g.Go(func() error {
			var err error
			scores[i], err = d.verifyAt(gctx, img, c, zoom)
			return err
		})
	}
	return scores, g.Wait()
}

// verifyAt re-runs the model on a crop ctx face sides wide centred on the
// candidate, and returns the best score of a box there that agrees with it
// (0 if none).
func (d *BlazeFace) verifyAt(ctx context.Context, img gocv.Mat, c candidate, zoom float64) (float64, error) {
	side := max(c.box.w(), c.box.h()) * zoom
	cx, cy := (c.box.x0+c.box.x1)/2, (c.box.y0+c.box.y1)/2
	src := image.Rect(int(cx-side/2), int(cy-side/2), int(cx+side/2), int(cy+side/2)).
		Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if src.Empty() {
		return 0, nil
	}
	t := Tile{Src: src, Scale: float64(blazeInput) / float64(max(src.Dx(), src.Dy()))}
	found, err := d.runTile(ctx, img, t, 0.2)
	if err != nil {
		return 0, err
	}
	best := 0.0
	for _, f := range found {
		if f.box.iou(c.box) >= 0.3 && f.score > best {
			best = f.score
		}
	}
	return best, nil
}

// runTile runs the model on one tile and returns candidates above thresh in
// frame coordinates. Without a batching session the lock is held.
func (d *BlazeFace) runTile(ctx context.Context, img gocv.Mat, t Tile, thresh float64) ([]candidate, error) {
	if d.batched != nil {
		return d.runTileBatched(ctx, img, t, thresh)
	}
	ok, err := blazeCrop(img, t, &d.resized, d.sess.Input(0))
	if !ok || err != nil {
		return nil, err
	}
	if err := d.sess.Run(); err != nil {
		return nil, fmt.Errorf("face detector: inference: %w", err)
	}
	var out []candidate
	out = d.decode(out, d.sess.Output(0), d.sess.Output(2), d.anchors[:512], t, thresh)
	out = d.decode(out, d.sess.Output(1), d.sess.Output(3), d.anchors[512:], t, thresh)
	return out, nil
}

// runTileBatched is runTile through the batching session.
func (d *BlazeFace) runTileBatched(ctx context.Context, img gocv.Mat, t Tile, thresh float64) ([]candidate, error) {
	resized := gocv.NewMat()
	defer resized.Close()
	in := make([]float32, blazeInput*blazeInput*3)
	ok, err := blazeCrop(img, t, &resized, in)
	if !ok || err != nil {
		return nil, err
	}
	outs, err := d.batched.Run(ctx, [][]float32{in}, [][]int64{blazeInputs[0].Shape})
	if err != nil {
		return nil, fmt.Errorf("face detector: inference: %w", err)
	}
	for i, o := range outs {
		if len(o.Data) != int(blazeOutputs[i].Shape[1]*blazeOutputs[i].Shape[2]) {
			return nil, fmt.Errorf("face detector: output %s has shape %v", blazeOutputs[i].Name, o.Shape)
		}
	}
	var out []candidate
	out = d.decode(out, outs[0].Data, outs[2].Data, d.anchors[:512], t, thresh)
	out = d.decode(out, outs[1].Data, outs[3].Data, d.anchors[512:], t, thresh)
	return out, nil
}

// blazeCrop writes the model input for tile t into in (one 256×256 RGB
// crop, scaled to [-1, 1], mid grey past the tile), resizing through
// resized. It reports false when the tile is too small to look at.
func blazeCrop(img gocv.Mat, t Tile, resized *gocv.Mat, in []float32) (bool, error) {
	roi := img.Region(t.Src)
	defer roi.Close()
	w := min(blazeInput, int(math.Round(float64(t.Src.Dx())*t.Scale)))
	h := min(blazeInput, int(math.Round(float64(t.Src.Dy())*t.Scale)))
	if w < 1 || h < 1 {
		return false, nil
	}
	interp := gocv.InterpolationLinear
	if t.Scale < 1 {
		interp = gocv.InterpolationArea // no aliasing when shrinking
	}
	gocv.Resize(roi, resized, image.Pt(w, h), 0, 0, interp)
	px, err := resized.DataPtrUint8()
	if err != nil {
		return false, fmt.Errorf("face detector: %w", err)
	}
	clear(in) // padding is mid-grey after normalisation
	for y := 0; y < h; y++ {
		row := px[y*w*3 : (y+1)*w*3]
		dst := in[y*blazeInput*3:]
		for x := 0; x < w; x++ {
			b, g, r := row[x*3], row[x*3+1], row[x*3+2]
			// RGB scaled to [-1, 1], as MediaPipe feeds BlazeFace.
			dst[x*3] = float32(r)/127.5 - 1
			dst[x*3+1] = float32(g)/127.5 - 1
			dst[x*3+2] = float32(b)/127.5 - 1
		}
	}
	return true, nil
}

func (d *BlazeFace) decode(out []candidate, scores, boxes []float32, anchors []anchor, t Tile, thresh float64) []candidate {
	for i, a := range anchors {
		s := sigmoid(float64(scores[i]))
		if s < thresh {
			continue
		}
		b := boxes[i*16 : i*16+4]
		cx := a.x*blazeInput + float64(b[0])
		cy := a.y*blazeInput + float64(b[1])
		bw, bh := float64(b[2]), float64(b[3])
		x0, y0 := t.ToFrame(cx-bw/2, cy-bh/2)
		x1, y1 := t.ToFrame(cx+bw/2, cy+bh/2)
		out = append(out, candidate{box: rectF{x0, y0, x1, y1}, score: s})
	}
	return out
}

func sigmoid(x float64) float64 {
	x = max(-100, min(100, x)) // MediaPipe clips raw scores the same way
	return 1 / (1 + math.Exp(-x))
}

// anchor is a BlazeFace anchor centre in [0,1] input coordinates.
type anchor struct{ x, y float64 }

// blazeAnchors lists the back-camera model's 896 anchors in output order:
// a 16×16 grid with 2 anchors per cell, then an 8×8 grid with 6.
func blazeAnchors() []anchor {
	var out []anchor
	for _, layer := range []struct{ cells, per int }{{16, 2}, {8, 6}} {
		for y := 0; y < layer.cells; y++ {
			for x := 0; x < layer.cells; x++ {
				a := anchor{(float64(x) + 0.5) / float64(layer.cells), (float64(y) + 0.5) / float64(layer.cells)}
				for k := 0; k < layer.per; k++ {
					out = append(out, a)
				}
			}
		}
	}
	return out
}
