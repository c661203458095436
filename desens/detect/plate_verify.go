package detect

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
)

// The plate verifier's crop (models/train/plates/verify.py, crop()): the
// rectangle centred on a candidate box, plateCropContext times as wide as
// the box (or as its height at the crop's aspect, whichever is wider), cut
// at plateCropW:plateCropH so a plate keeps its own aspect and some of what
// is around it. Outside the frame is mid grey.
const (
	plateCropW       = 128
	plateCropH       = 48
	plateCropContext = 1.5
)

// maxPlateVerify bounds the candidates one frame sends to the verifier in
// one run. Candidates beyond it (a frame full of text at a low threshold)
// are judged on their detector score alone, as without a verifier.
const maxPlateVerify = 256

// plateVerifier is the plate detector's second look: a small classifier
// that sees a fixed-size crop around each candidate and says how much it
// looks like a plate. The detector alone fires on signs, scene text and
// grilles; the verifier, seeing the whole candidate at one resolution,
// tells them apart.
type plateVerifier struct {
	sess *onnx.BatchedSession
}

func newPlateVerifier(rt *onnx.Runtime, name string, model []byte, so onnx.SessionOptions) (*plateVerifier, error) {
	sess, err := rt.NewBatchedSession(name, model, []string{"crops"}, []string{"plate"}, so)
	if err != nil {
		return nil, fmt.Errorf("plate verifier model: %w", err)
	}
	return &plateVerifier{sess: sess}, nil
}

func (v *plateVerifier) Close() error { return v.sess.Close() }

// plateCropLen is the length of one crop in a verifier batch.
const plateCropLen = 3 * plateCropW * plateCropH

// score runs the verifier on a batch of n crops from verifierCrops.
func (v *plateVerifier) score(ctx context.Context, in []float32, n int) ([]float64, error) {
	if n == 0 {
		return nil, nil
	}
	outs, err := v.sess.Run(ctx, [][]float32{in}, [][]int64{{int64(n), 3, plateCropH, plateCropW}})
	if err != nil {
		return nil, fmt.Errorf("plate verifier: inference: %w", err)
	}
	if len(outs[0].Data) != n {
		return nil, fmt.Errorf("plate verifier: %d scores for %d crops (shape %v)", len(outs[0].Data), n, outs[0].Shape)
	}
	p := make([]float64, n)
	for i, s := range outs[0].Data {
		p[i] = float64(s)
	}
	return p, nil
}

// plateCropRect is the frame region cut for box b (see plateCropW).
func plateCropRect(b rectF) image.Rectangle {
	cw := plateCropContext * max(b.w(), b.h()*plateCropW/plateCropH)
	ch := cw * plateCropH / plateCropW
	cx, cy := (b.x0+b.x1)/2, (b.y0+b.y1)/2
	x0, y0 := int(math.Floor(cx-cw/2)), int(math.Floor(cy-ch/2))
	return image.Rect(x0, y0, x0+max(1, int(math.Floor(cw+0.5))), y0+max(1, int(math.Floor(ch+0.5))))
}

// plateCrop writes the verifier input for box b (planar BGR,
// (v-127.5)/127.5, plateCropH×plateCropW) into dst.
func plateCrop(img gocv.Mat, b rectF, dst []float32) error {
	r := plateCropRect(b)
	canvas := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), r.Dy(), r.Dx(), gocv.MatTypeCV8UC3)
	defer canvas.Close()
	if in := r.Intersect(image.Rect(0, 0, img.Cols(), img.Rows())); !in.Empty() {
		src := img.Region(in)
		dstR := canvas.Region(in.Sub(r.Min))
		src.CopyTo(&dstR)
		src.Close()
		dstR.Close()
	}
	interp := gocv.InterpolationLinear
	if r.Dx() > plateCropW {
		interp = gocv.InterpolationArea
	}
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(canvas, &small, image.Pt(plateCropW, plateCropH), 0, 0, interp)
	return cropInput(small, dst)
}

// plateCropTurned is plateCrop for a plate whose corners (in order round
// it) are q, cut along the plate's own axes: the verifier learnt plates
// upright, and a plate turned 30° or more boxed upright is mostly
// background to it.
func plateCropTurned(img gocv.Mat, q quadF, dst []float32) error {
	pw, ph := q.sides()
	cw := plateCropContext * max(pw, ph*plateCropW/plateCropH)
	ch := cw * plateCropH / plateCropW
	// The longer axis, pointing rightwards, and the one across it.
	ctr, u, _, ok := q.axes()
	if !ok {
		return plateCrop(img, q.bounds(), dst)
	}
	if u.x < 0 {
		u.x, u.y = -u.x, -u.y
	}
	v := pointF{-u.y, u.x}
	cx, cy := ctr.x, ctr.y
	corner := func(a, b float64) gocv.Point2f {
		return gocv.Point2f{X: float32(cx + a*cw/2*u.x + b*ch/2*v.x), Y: float32(cy + a*cw/2*u.y + b*ch/2*v.y)}
	}
	src := gocv.NewPoint2fVectorFromPoints([]gocv.Point2f{corner(-1, -1), corner(1, -1), corner(-1, 1)})
	defer src.Close()
	dv := gocv.NewPoint2fVectorFromPoints([]gocv.Point2f{{X: 0, Y: 0}, {X: plateCropW, Y: 0}, {X: 0, Y: plateCropH}})
	defer dv.Close()
	m := gocv.GetAffineTransform2f(src, dv)
	defer m.Close()
	small := gocv.NewMat()
	defer small.Close()
	gocv.WarpAffineWithParams(img, &small, m, image.Pt(plateCropW, plateCropH), gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{128, 128, 128, 0})
	return cropInput(small, dst)
}

// cropInput writes a plateCropW×plateCropH BGR crop as the verifier's
// input (planar BGR, (v-127.5)/127.5) into dst.
func cropInput(small gocv.Mat, dst []float32) error {
	px, err := small.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("plate verifier: %w", err)
	}
	plane := plateCropW * plateCropH
	for i := 0; i < plane; i++ {
		dst[i] = float32(px[i*3])/127.5 - 1
		dst[plane+i] = float32(px[i*3+1])/127.5 - 1
		dst[2*plane+i] = float32(px[i*3+2])/127.5 - 1
	}
	return nil
}
