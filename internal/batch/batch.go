// Package batch gathers requests that many goroutines make of one shared
// resource (a model session) into batches, each served by one call.
//
// # Rules
//
//   - Requests share a batch only when their keys are equal (a model takes
//     a batch of inputs of one shape only); each key has its own queue,
//     served first in, first out.
//   - A batch holds at most Size items. It runs as soon as it is full, or
//     when no run is under way (the model would sit idle), or Wait after
//     its oldest request arrived, whichever comes first: no request is
//     held back longer than Wait for others to join it, and none waits
//     while nothing runs. Requests gather while a run is under way, and
//     the first queue to have waited goes as soon as it ends.
//   - A failed run fails exactly the requests in its batch, with its error.
//   - With Size 1 or less a request runs at once in its caller's goroutine,
//     as if there were no batcher.
//
// Runs are not serialised: a batch runs while the next fills, in the
// goroutine that filled it, that found the model idle, or that ran the
// batch before; or, when its wait runs out, in a timer's.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed is the error of a request made of, or waiting in, a closed
// Batcher.
var ErrClosed = errors.New("batcher closed")

// Config bounds the batches.
type Config struct {
	// Size is the most items one run takes; 1 or less runs every request
	// on its own, at once.
	Size int
	// Wait is the longest a request waits for others to join its batch.
	Wait time.Duration
}

// Func runs one batch: it returns one output per input, in order, or an
// error that fails them all.
type Func[I, O any] func(in []I) ([]O, error)

// Batcher gathers requests of type I into batches run by one Func. It is
// safe for concurrent use.
type Batcher[I, O any] struct {
	cfg   Config
	run   Func[I, O]
	key   func(I) string
	items func(I) int
	clock clock

	mu       sync.Mutex
	queues   map[string]*queue[I, O]
	closed   bool
	running  sync.WaitGroup
	inflight int // batches taken and not yet finished
	stats    Stats
}

// Stats says how a Batcher's runs were batched.
type Stats struct {
	Runs     int64         // model runs made
	Requests int64         // requests served by them
	Items    int64         // items in them
	MaxItems int           // the most items in one run
	Waited   time.Duration // summed over requests: arrival to the start of their run
}

// MeanItems is the mean number of items per run.
func (s Stats) MeanItems() float64 {
	if s.Runs == 0 {
		return 0
	}
	return float64(s.Items) / float64(s.Runs)
}

// Sub is s less an earlier reading t: what happened between them
// (MaxItems stays s's).
func (s Stats) Sub(t Stats) Stats {
	return Stats{Runs: s.Runs - t.Runs, Requests: s.Requests - t.Requests, Items: s.Items - t.Items,
		MaxItems: s.MaxItems, Waited: s.Waited - t.Waited}
}

// New returns a Batcher running batches with run. key says which requests
// may share a batch (nil: all may); items counts a request's items (nil:
// one each), and a request with more than Size items runs alone.
func New[I, O any](cfg Config, run Func[I, O], key func(I) string, items func(I) int) *Batcher[I, O] {
	if key == nil {
		key = func(I) string { return "" }
	}
	if items == nil {
		items = func(I) int { return 1 }
	}
	return &Batcher[I, O]{cfg: cfg, run: run, key: key, items: items, clock: realClock{},
		queues: map[string]*queue[I, O]{}}
}

// request is one caller's input, waiting for its output.
type request[I, O any] struct {
	ctx     context.Context
	in      I
	n       int
	arrived time.Time
	out     O
	err     error
	done    chan struct{}
}

// queue holds the requests of one key waiting for a run, oldest first,
// and the timer that runs them when the oldest has waited long enough.
type queue[I, O any] struct {
	key   string
	reqs  []*request[I, O]
	items int
	timer timer
}

// Do runs in as part of a batch and returns its output. It returns early
// with ctx's error when ctx ends first; the batch, once started, runs on
// without it.
func (b *Batcher[I, O]) Do(ctx context.Context, in I) (O, error) {
	var zero O
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	n := b.items(in)
	if b.cfg.Size <= 1 {
		return b.direct(in, n)
	}
	r := &request[I, O]{ctx: ctx, in: in, n: n, arrived: b.clock.Now(), done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return zero, ErrClosed
	}
	k := b.key(in)
	q := b.queues[k]
	if q == nil {
		q = &queue[I, O]{key: k}
		b.queues[k] = q
	}
	q.reqs = append(q.reqs, r)
	q.items += n
	var ready [][]*request[I, O]
	switch {
	case q.items >= b.cfg.Size:
		ready = b.takeFull(q)
	case b.inflight == 0:
		ready = [][]*request[I, O]{b.take(q)} // all of q: it holds less than Size
	case len(q.reqs) == 1:
		b.arm(q)
	}
	b.mu.Unlock()
	for i, batch := range ready {
		if i < len(ready)-1 {
			go b.runBatch(batch)
		} else {
			b.runBatch(batch)
		}
	}
	select {
	case <-r.done:
		return r.out, r.err
	case <-ctx.Done():
		b.mu.Lock()
		b.remove(k, r)
		b.mu.Unlock()
		return zero, ctx.Err()
	}
}

// direct runs one request at once, in the caller's goroutine.
func (b *Batcher[I, O]) direct(in I, n int) (O, error) {
	var zero O
	b.mu.Lock()
	closed := b.closed
	if !closed {
		b.running.Add(1)
	}
	b.mu.Unlock()
	if closed {
		return zero, ErrClosed
	}
	defer b.running.Done()
	out, err := b.call([]I{in})
	b.mu.Lock()
	b.count(1, n, 0)
	b.mu.Unlock()
	if err != nil {
		return zero, err
	}
	return out[0], nil
}

// takeFull takes batches from q while it holds Size items or more, and
// arms its timer for what is left. The lock is held.
func (b *Batcher[I, O]) takeFull(q *queue[I, O]) [][]*request[I, O] {
	var ready [][]*request[I, O]
	for q.items >= b.cfg.Size && len(q.reqs) > 0 {
		ready = append(ready, b.take(q))
	}
	if len(q.reqs) > 0 {
		b.arm(q)
	}
	return ready
}

// take removes the oldest requests of q, up to Size items (at least one
// request), and stops its timer: the caller arms it again for what is
// left. The lock is held.
func (b *Batcher[I, O]) take(q *queue[I, O]) []*request[I, O] {
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	now := b.clock.Now()
	var batch []*request[I, O]
	items, waited := 0, time.Duration(0)
	i := 0
	for ; i < len(q.reqs); i++ {
		r := q.reqs[i]
		if len(batch) > 0 && items+r.n > b.cfg.Size {
			break
		}
		batch = append(batch, r)
		items += r.n
		waited += now.Sub(r.arrived)
	}
	q.reqs = append([]*request[I, O](nil), q.reqs[i:]...)
	q.items -= items
	if len(q.reqs) == 0 {
		delete(b.queues, q.key)
	}
	b.count(len(batch), items, waited)
	b.running.Add(1)
	b.inflight++
	return batch
}

// arm starts q's timer for its oldest request. The lock is held.
func (b *Batcher[I, O]) arm(q *queue[I, O]) {
	wait := b.cfg.Wait - b.clock.Now().Sub(q.reqs[0].arrived)
	q.timer = b.clock.AfterFunc(max(0, wait), func() { b.expire(q) })
}

// expire runs q's oldest requests when their wait is over.
func (b *Batcher[I, O]) expire(q *queue[I, O]) {
	b.mu.Lock()
	if b.queues[q.key] != q || len(q.reqs) == 0 {
		b.mu.Unlock()
		return
	}
	due := q.reqs[0].arrived.Add(b.cfg.Wait)
	if b.clock.Now().Before(due) {
		// A timer for a request already taken: the queue's present oldest
		// has its own.
		b.mu.Unlock()
		return
	}
	ready := [][]*request[I, O]{b.take(q)}
	ready = append(ready, b.takeFull(q)...)
	b.mu.Unlock()
	for _, batch := range ready[1:] {
		go b.runBatch(batch)
	}
	b.runBatch(ready[0])
}

// remove drops r from its queue, if it is still waiting there. The lock
// is held.
func (b *Batcher[I, O]) remove(k string, r *request[I, O]) {
	q := b.queues[k]
	if q == nil {
		return
	}
	for i, x := range q.reqs {
		if x != r {
			continue
		}
		q.reqs = append(q.reqs[:i:i], q.reqs[i+1:]...)
		q.items -= r.n
		if i == 0 && q.timer != nil {
			q.timer.Stop()
			q.timer = nil
			if len(q.reqs) > 0 {
				b.arm(q)
			}
		}
		if len(q.reqs) == 0 {
			delete(b.queues, k)
		}
		return
	}
}

// count adds one run to the statistics. The lock is held.
func (b *Batcher[I, O]) count(reqs, items int, waited time.Duration) {
	b.stats.Runs++
	b.stats.Requests += int64(reqs)
	b.stats.Items += int64(items)
	b.stats.MaxItems = max(b.stats.MaxItems, items)
	b.stats.Waited += waited
}

// runBatch runs a batch taken from a queue, and then, when no other run
// is under way, the queue that has waited longest, and so on.
func (b *Batcher[I, O]) runBatch(batch []*request[I, O]) {
	for batch != nil {
		b.runOne(batch)
		b.mu.Lock()
		b.inflight--
		batch = nil
		if b.inflight == 0 && !b.closed {
			if q := b.oldest(); q != nil {
				batch = b.take(q)
				if len(q.reqs) > 0 {
					b.arm(q)
				}
			}
		}
		b.mu.Unlock()
		b.running.Done()
	}
}

// oldest is the queue whose oldest request has waited longest, or nil
// when none waits. The lock is held.
func (b *Batcher[I, O]) oldest() *queue[I, O] {
	var best *queue[I, O]
	for _, q := range b.queues {
		if len(q.reqs) > 0 && (best == nil || q.reqs[0].arrived.Before(best.reqs[0].arrived)) {
			best = q
		}
	}
	return best
}

// runOne runs one batch and hands each request its output or the run's
// error.
func (b *Batcher[I, O]) runOne(batch []*request[I, O]) {
	ins := make([]I, 0, len(batch))
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		ins = append(ins, r.in)
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	out, err := b.call(ins)
	for i, r := range live {
		if err != nil {
			r.err = err
		} else {
			r.out = out[i]
		}
		close(r.done)
	}
}

// call runs in, turning a panic or a wrong number of outputs into an
// error for the whole batch.
func (b *Batcher[I, O]) call(in []I) (out []O, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("batch run panic: %v", p)
		}
	}()
	out, err = b.run(in)
	if err == nil && len(out) != len(in) {
		return nil, fmt.Errorf("batch run gave %d outputs for %d inputs", len(out), len(in))
	}
	return out, err
}

// Stats reports the runs so far.
func (b *Batcher[I, O]) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// Close fails the requests still waiting with ErrClosed, refuses new
// ones, and returns when the runs under way have finished.
func (b *Batcher[I, O]) Close() {
	b.mu.Lock()
	b.closed = true
	for k, q := range b.queues {
		if q.timer != nil {
			q.timer.Stop()
		}
		for _, r := range q.reqs {
			r.err = ErrClosed
			close(r.done)
		}
		delete(b.queues, k)
	}
	b.mu.Unlock()
	b.running.Wait()
}

// clock is time as the Batcher sees it; tests substitute their own.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) timer
}

type timer interface{ Stop() bool }

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }
