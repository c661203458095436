package onnx_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

// batchCase is one call: its input, and what the model gives it alone.
type batchCase struct {
	shape []int64
	in    []float32
	want  []onnx.Output
}

func randomInput(seed uint64, shape []int64) []float32 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	rng := rand.New(rand.NewPCG(seed, 22))
	in := make([]float32, n)
	for i := range in {
		in[i] = rng.Float32() * 255
	}
	return in
}

// TestBatchedSessionMatchesRunsAlone runs the models whose files take a
// batch (YuNet, which takes any frame size, and the plate verifier, whose
// calls bring several crops each) from many goroutines at once through a
// session batching 8: every call must get what it got run alone, however
// its run was made up (TestRunBatch stacks calls for certain).
func TestBatchedSessionMatchesRunsAlone(t *testing.T) {
	rt := testenv.ORT(t)
	for _, tc := range []struct {
		name     string
		model    []byte
		in, outs []string
		shapes   [][]int64
	}{
		{"yunet", models.FaceYuNet().Data, []string{"input"}, []string{"cls_8", "obj_8", "bbox_8", "cls_32", "obj_32", "bbox_32"},
			[][]int64{{1, 3, 64, 96}, {1, 3, 96, 64}, {1, 3, 64, 96}, {1, 3, 128, 128}, {1, 3, 64, 96}}},
		{"plate verifier", models.PlateVerify().Data, []string{"crops"}, []string{"plate"},
			[][]int64{{1, 3, 48, 128}, {3, 3, 48, 128}, {2, 3, 48, 128}, {5, 3, 48, 128}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alone, err := rt.NewBatchedSession(tc.name, tc.model, tc.in, tc.outs, onnx.SessionOptions{Threads: 1, Batch: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer alone.Close()
			batched, err := rt.NewBatchedSession(tc.name, tc.model, tc.in, tc.outs,
				onnx.SessionOptions{Threads: 1, Batch: 8, BatchWait: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer batched.Close()
			if !batched.DynamicBatch() {
				t.Fatal("model's batch dimension is fixed")
			}
			var cases []*batchCase
			for i, sh := range tc.shapes {
				c := &batchCase{shape: sh, in: randomInput(uint64(i), sh)}
				if c.want, err = alone.Run(context.Background(), [][]float32{c.in}, [][]int64{c.shape}); err != nil {
					t.Fatal(err)
				}
				cases = append(cases, c)
			}
			const rounds = 6
			var wg sync.WaitGroup
			for i, c := range cases {
				wg.Go(func() {
					for n := range rounds {
						out, err := batched.Run(context.Background(), [][]float32{c.in}, [][]int64{c.shape})
						if err != nil {
							t.Errorf("call %d, round %d: %v", i, n, err)
							return
						}
						if !slices.EqualFunc(shapes(out), shapes(c.want), slices.Equal) {
							t.Errorf("call %d, round %d: shapes %v, alone %v", i, n, shapes(out), shapes(c.want))
							return
						}
						if d := maxDiff(out, c.want); d > 1e-4 {
							t.Errorf("call %d, round %d: outputs differ from the run alone by %g", i, n, d)
							return
						}
					}
				})
			}
			wg.Wait()
			st := batched.Stats()
			if st.Requests != int64(len(cases)*rounds) || st.MaxItems > 8 {
				t.Errorf("stats %+v: want %d calls in runs of at most 8 items", st, len(cases)*rounds)
			}
			t.Logf("%d calls in %d runs, %.1f items a run, at most %d", st.Requests, st.Runs, st.MeanItems(), st.MaxItems)

		})
	}
}

// TestRunStacked: calls of one shape stacked in one run each get what
// they got run alone.
func TestRunStacked(t *testing.T) {
	rt := testenv.ORT(t)
	for _, tc := range []struct {
		name     string
		model    []byte
		in, outs []string
		shapes   [][]int64
	}{
		{"yunet", models.FaceYuNet().Data, []string{"input"}, []string{"cls_8", "obj_8", "bbox_8", "cls_32", "obj_32", "bbox_32"},
			[][]int64{{1, 3, 64, 96}, {1, 3, 64, 96}, {1, 3, 64, 96}}},
		{"plate verifier", models.PlateVerify().Data, []string{"crops"}, []string{"plate"},
			[][]int64{{1, 3, 48, 128}, {3, 3, 48, 128}, {2, 3, 48, 128}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := rt.NewBatchedSession(tc.name, tc.model, tc.in, tc.outs, onnx.SessionOptions{Threads: 1, Batch: 8})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var ins [][][]float32
			var shs [][][]int64
			var want [][]onnx.Output
			for i, sh := range tc.shapes {
				in := randomInput(uint64(i), sh)
				w, err := s.Run(context.Background(), [][]float32{in}, [][]int64{sh}) // alone: the model is idle
				if err != nil {
					t.Fatal(err)
				}
				ins, shs, want = append(ins, [][]float32{in}), append(shs, [][]int64{sh}), append(want, w)
			}
			got, err := s.RunStacked(ins, shs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if !slices.EqualFunc(shapes(got[i]), shapes(want[i]), slices.Equal) {
					t.Errorf("call %d: shapes %v, alone %v", i, shapes(got[i]), shapes(want[i]))
				} else if d := maxDiff(got[i], want[i]); d > 1e-4 {
					t.Errorf("call %d: outputs differ from the run alone by %g", i, d)
				}
			}
		})
	}
}

// TestBatchedSessionLoneCall: a call nobody joins runs, with a batch of 8
// (at once, the model being idle; the test's deadline, not a timing
// assertion, catches one held for ever).
func TestBatchedSessionLoneCall(t *testing.T) {
	rt := testenv.ORT(t)
	s, err := rt.NewBatchedSession("plate verifier", models.PlateVerify().Data, []string{"crops"}, []string{"plate"},
		onnx.SessionOptions{Threads: 1, Batch: 8, BatchWait: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sh := []int64{2, 3, 48, 128}
	out, err := s.Run(context.Background(), [][]float32{randomInput(1, sh)}, [][]int64{sh})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out[0].Shape, []int64{2, 1}) || len(out[0].Data) != 2 {
		t.Errorf("output %v, want 2×1", shapes(out))
	}
	if st := s.Stats(); st.Runs != 1 || st.Items != 2 {
		t.Errorf("stats %+v, want one run of 2 items", st)
	}
}

// TestBatchedSessionFailedRun: calls whose shape the model refuses share
// runs, which fail; exactly they get the error, and the calls made at the
// same time, in other runs, get their outputs.
func TestBatchedSessionFailedRun(t *testing.T) {
	rt := testenv.ORT(t)
	s, err := rt.NewBatchedSession("plate verifier", models.PlateVerify().Data, []string{"crops"}, []string{"plate"},
		onnx.SessionOptions{Threads: 1, Batch: 4, BatchWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	good, bad := []int64{1, 3, 48, 128}, []int64{1, 3, 48, 64} // the verifier takes 48×128 crops only
	type result struct {
		bad bool
		err error
	}
	ch := make(chan result, 8)
	// A wait of an hour: a call runs when the model is idle, or with
	// others once 4 are in.
	for i := range 8 {
		sh := good
		if i%2 == 1 {
			sh = bad
		}
		go func() {
			_, err := s.Run(context.Background(), [][]float32{randomInput(uint64(i), sh)}, [][]int64{sh})
			ch <- result{bad: sh[3] == 64, err: err}
		}()
	}
	for range 8 {
		r := <-ch
		if r.bad && r.err == nil {
			t.Error("a call in the failed run got no error")
		}
		if !r.bad && r.err != nil {
			t.Errorf("a call in the good run failed: %v", r.err)
		}
	}
}
