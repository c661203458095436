package onnx_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

// TestDynamicSession runs the plate detector (fully convolutional: any
// height and width that are multiples of 32, NCHW) on inputs of different
// shapes and contents, first each alone, then all at once from several
// goroutines: every concurrent run must give what its input gave alone, so
// runs that shared an input or output tensor would mix them up.
func TestDynamicSession(t *testing.T) {
	rt := testenv.ORT(t)
	s, err := rt.NewDynamicSession(models.Plate().Data, []string{"image"},
		[]string{"heat", "box"}, onnx.SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Two inputs share a shape, so a mix-up between them shows in the data,
	// not only in the shapes.
	type run struct {
		shape []int64
		in    []float32
		want  []onnx.Output
	}
	runs := []*run{
		{shape: []int64{1, 3, 64, 96}},
		{shape: []int64{1, 3, 96, 64}},
		{shape: []int64{1, 3, 128, 128}},
		{shape: []int64{1, 3, 64, 96}},
	}
	for i, r := range runs {
		rng := rand.New(rand.NewPCG(uint64(i), 18))
		r.in = make([]float32, r.shape[1]*r.shape[2]*r.shape[3])
		for j := range r.in {
			r.in[j] = rng.Float32()*2 - 1
		}
		if r.want, err = s.Run([][]float32{r.in}, [][]int64{r.shape}); err != nil {
			t.Fatal(err)
		}
		// heat 1×1×H/4×W/4, box 1×4×H/4×W/4
		gh, gw := r.shape[2]/4, r.shape[3]/4
		if len(r.want) != 2 || !slices.Equal(r.want[0].Shape, []int64{1, 1, gh, gw}) ||
			!slices.Equal(r.want[1].Shape, []int64{1, 4, gh, gw}) ||
			len(r.want[0].Data) != int(gh*gw) || len(r.want[1].Data) != int(4*gh*gw) {
			t.Fatalf("input %v: outputs %d, shapes %v", r.shape, len(r.want), shapes(r.want))
		}
	}
	if d := maxDiff(runs[0].want, runs[3].want); d < 1e-3 {
		t.Fatalf("two different inputs of one shape give outputs %g apart: the check below could not tell them apart", d)
	}

	// Concurrent runs must not share tensors.
	const rounds = 10
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				out, err := s.Run([][]float32{r.in}, [][]int64{r.shape})
				if err != nil {
					t.Error(err)
					return
				}
				if len(out) != 2 || !slices.Equal(out[0].Shape, r.want[0].Shape) || !slices.Equal(out[1].Shape, r.want[1].Shape) {
					t.Errorf("input %d, round %d: shapes %v, alone %v", i, n, shapes(out), shapes(r.want))
					return
				}
				if d := maxDiff(out, r.want); d > 1e-5 {
					t.Errorf("input %d, round %d: outputs differ from the run alone by %g", i, n, d)
					return
				}
			}
		}()
	}
	wg.Wait()

	if _, err := s.Run([][]float32{runs[0].in[:10]}, [][]int64{runs[0].shape}); err == nil {
		t.Error("Run with too little data: no error")
	}
}

func shapes(outs []onnx.Output) [][]int64 {
	var s [][]int64
	for _, o := range outs {
		s = append(s, o.Shape)
	}
	return s
}

// maxDiff is the largest absolute difference between two runs' outputs of
// the same shapes.
func maxDiff(a, b []onnx.Output) float64 {
	var d float64
	for i := range a {
		for j := range a[i].Data {
			d = max(d, math.Abs(float64(a[i].Data[j]-b[i].Data[j])))
		}
	}
	return d
}

func TestUnknownDevice(t *testing.T) {
	rt := testenv.ORT(t)
	if _, err := rt.NewDynamicSession(models.FaceVerify().Data, []string{"input:0"}, []string{"Identity:0"},
		onnx.SessionOptions{Device: "tpu"}); err == nil {
		t.Error("device tpu: no error")
	}
}

// TestCUDAUnavailable: on a machine without CUDA (CI), --device cuda fails
// with one line wrapping onnx.ErrNoCUDA, never a crash or a quiet fall-back
// to the CPU.
func TestCUDAUnavailable(t *testing.T) {
	rt := testenv.ORT(t)
	if onnx.CheckCUDA(rt.Library(), onnx.Host{Root: "/"}) == nil {
		t.Skip("this machine has the CUDA provider, a driver and a GPU")
	}
	s, err := rt.NewDynamicSession(models.FaceVerify().Data, []string{"input:0"}, []string{"Identity:0"},
		onnx.SessionOptions{Device: onnx.CUDA})
	if err == nil {
		s.Close()
		t.Fatal("device cuda: no error")
	}
	if !errors.Is(err, onnx.ErrNoCUDA) || strings.Contains(err.Error(), "\n") {
		t.Errorf("want one line wrapping ErrNoCUDA, got %v", err)
	}
}
