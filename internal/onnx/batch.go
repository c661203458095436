package onnx

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/desens/desens/internal/batch"
)

// BatchedSession runs a model for many callers at once: the inputs that
// callers (frames, tiles, crops, from every file at work) hand it while it
// is busy, and whose shapes agree but for the batch dimension, go to the
// model in one run of at most SessionOptions.Batch items, stacked along
// that dimension, when the run under way ends or after
// SessionOptions.BatchWait at most; each caller gets its own share of the
// outputs back (see package batch for the rules). A model whose file fixes the
// batch dimension runs each call on its own, as does a Batch of 1, in the
// caller's goroutine. It is safe for concurrent use.
type BatchedSession struct {
	name    string
	sess    *DynamicSession
	batcher *batch.Batcher[batchInput, []Output]
	dynamic bool
}

// batchInput is one call's inputs, each with its shape; the first
// dimension of every shape is the batch.
type batchInput struct {
	data   [][]float32
	shapes [][]int64
}

// NewBatchedSession loads model bytes, as NewDynamicSession does, into a
// session that batches its callers' runs (SessionOptions.Batch and
// BatchWait). name labels its figures in BatchStats.
func (r *Runtime) NewBatchedSession(name string, model []byte, inputs, outputs []string, o SessionOptions) (*BatchedSession, error) {
	shapes, err := InputShapes(model)
	if err != nil {
		return nil, err
	}
	sess, err := r.NewDynamicSession(model, inputs, outputs, o)
	if err != nil {
		return nil, err
	}
	s := &BatchedSession{name: name, sess: sess, dynamic: dynamicBatch(shapes)}
	size := o.Batch
	if !s.dynamic {
		size = 1
	}
	s.batcher = batch.New(batch.Config{Size: size, Wait: o.BatchWait}, s.runBatch, batchKey, batchItems)
	r.mu.Lock()
	r.batched = append(r.batched, s)
	r.mu.Unlock()
	return s, nil
}

// dynamicBatch reports whether every input's first dimension is left to
// run time.
func dynamicBatch(shapes [][]int64) bool {
	for _, s := range shapes {
		if len(s) == 0 || s[0] >= 0 {
			return false
		}
	}
	return len(shapes) > 0
}

// DynamicBatch reports whether the model takes batches of more than one
// input: whether calls can share a run.
func (s *BatchedSession) DynamicBatch() bool { return s.dynamic }

// batchKey says which calls can share a run: those whose inputs agree in
// every dimension but the first.
func batchKey(in batchInput) string {
	var b strings.Builder
	for _, sh := range in.shapes {
		for _, d := range sh[1:] {
			b.WriteString(strconv.FormatInt(d, 10))
			b.WriteByte(',')
		}
		b.WriteByte(';')
	}
	return b.String()
}

// batchItems is the size of a call's batch dimension.
func batchItems(in batchInput) int { return int(in.shapes[0][0]) }

// Run feeds one float32 input per model input (data laid out in shape
// order, the first dimension being the batch) and returns this call's
// outputs, whose first dimension is its batch. While the model is busy it
// may wait up to SessionOptions.BatchWait for other calls to share the
// run; a run that fails fails every call in it.
func (s *BatchedSession) Run(ctx context.Context, inputs [][]float32, shapes [][]int64) ([]Output, error) {
	if len(inputs) != len(shapes) || len(shapes) == 0 {
		return nil, fmt.Errorf("%d inputs but %d shapes", len(inputs), len(shapes))
	}
	n := int64(-1)
	for i, sh := range shapes {
		size := int64(1)
		for _, d := range sh {
			size *= d
		}
		if len(sh) == 0 || sh[0] < 1 || (n >= 0 && sh[0] != n) || int64(len(inputs[i])) != size {
			return nil, fmt.Errorf("input %d: %d values for shape %v", i, len(inputs[i]), sh)
		}
		n = sh[0]
	}
	return s.batcher.Do(ctx, batchInput{data: inputs, shapes: shapes})
}

// runBatch runs the calls in one model run, stacked along the batch
// dimension, and splits the outputs back. A lone call runs as it is.
func (s *BatchedSession) runBatch(calls []batchInput) ([][]Output, error) {
	if len(calls) == 1 {
		outs, err := s.sess.Run(calls[0].data, calls[0].shapes)
		if err != nil {
			return nil, err
		}
		return [][]Output{outs}, nil
	}
	total := int64(0)
	for _, c := range calls {
		total += c.shapes[0][0]
	}
	data := make([][]float32, len(calls[0].data))
	shapes := make([][]int64, len(calls[0].shapes))
	for k := range data {
		shapes[k] = slices.Clone(calls[0].shapes[k])
		shapes[k][0] = total
		size := 0
		for _, c := range calls {
			size += len(c.data[k])
		}
		data[k] = make([]float32, 0, size)
		for _, c := range calls {
			data[k] = append(data[k], c.data[k]...)
		}
	}
	outs, err := s.sess.Run(data, shapes)
	if err != nil {
		return nil, err
	}
	split := make([][]Output, len(calls))
	for i := range split {
		split[i] = make([]Output, len(outs))
	}
	for j, o := range outs {
		if len(o.Shape) == 0 || o.Shape[0] != total || int64(len(o.Data))%total != 0 {
			return nil, fmt.Errorf("output %d has shape %v for a batch of %d", j, o.Shape, total)
		}
		per := int64(len(o.Data)) / total
		off := int64(0)
		for i, c := range calls {
			n := c.shapes[0][0]
			shape := slices.Clone(o.Shape)
			shape[0] = n
			split[i][j] = Output{Shape: shape, Data: o.Data[off : off+n*per : off+n*per]}
			off += n * per
		}
	}
	return split, nil
}

// Stats reports how the session's runs were batched so far.
func (s *BatchedSession) Stats() batch.Stats { return s.batcher.Stats() }

// Close fails the calls still waiting, waits for the runs under way and
// frees the session.
func (s *BatchedSession) Close() error {
	s.batcher.Close()
	return s.sess.Close()
}

// BatchStats is how one model's runs were batched.
type BatchStats struct {
	Model string
	batch.Stats
}

// BatchStats reports, per model name given to NewBatchedSession, how its
// sessions' runs were batched so far (sessions of one name added up).
func (r *Runtime) BatchStats() []BatchStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []BatchStats
	for _, s := range r.batched {
		st := s.Stats()
		i := slices.IndexFunc(out, func(b BatchStats) bool { return b.Model == s.name })
		if i < 0 {
			out = append(out, BatchStats{Model: s.name, Stats: st})
			continue
		}
		o := &out[i].Stats
		o.Runs += st.Runs
		o.Requests += st.Requests
		o.Items += st.Items
		o.MaxItems = max(o.MaxItems, st.MaxItems)
		o.Waited += st.Waited
	}
	return out
}
