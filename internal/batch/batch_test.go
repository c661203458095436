package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is time that moves only when the test says: timers fire in
// Advance, so no test depends on how fast the machine is.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	armed  chan struct{} // a token per AfterFunc
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1e9, 0), armed: make(chan struct{}, 1024)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	c.armed <- struct{}{}
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves time on by d and runs the timers due by then, in the
// caller's goroutine.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			due = append(due, t)
		default:
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// recorder is a batch function that doubles its inputs and records each
// batch it ran. A batch holding the input held runs until release.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	fail    func([]int) error
	started chan struct{}
	gate    chan struct{}
}

// held is the input whose run waits for the test (see hold).
const held = -1

func (r *recorder) run(in []int) ([]int, error) {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(in))
	r.mu.Unlock()
	if slices.Contains(in, held) {
		r.started <- struct{}{}
		<-r.gate
	}
	if r.fail != nil {
		if err := r.fail(in); err != nil {
			return nil, err
		}
	}
	out := make([]int, len(in))
	for i, v := range in {
		out[i] = 2 * v
	}
	return out, nil
}

func (r *recorder) runs() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func newTest(cfg Config, rec *recorder, key func(int) string, items func(int) int) (*Batcher[int, int], *fakeClock) {
	b := New(cfg, rec.run, key, items)
	c := newFakeClock()
	b.clock = c
	return b, c
}

// hold starts a run that lasts until the returned function is called, so
// that the requests made meanwhile find the model busy and gather. Its key
// is its own when key gives each value one.
func hold(t *testing.T, b *Batcher[int, int], rec *recorder) (release func()) {
	t.Helper()
	rec.started, rec.gate = make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		b.Do(context.Background(), held)
		close(done)
	}()
	<-rec.started
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(rec.gate)
			<-done
		})
	}
	t.Cleanup(release)
	return release
}

// without drops the held run from a list of batches.
func without(runs [][]int) [][]int {
	return slices.DeleteFunc(runs, func(r []int) bool { return slices.Contains(r, held) })
}

type result struct {
	in, out int
	err     error
}

// doAll makes a request for each input, each from its own goroutine, and
// returns a channel that gets their results.
func doAll(ctx context.Context, b *Batcher[int, int], ins ...int) <-chan result {
	ch := make(chan result, len(ins))
	for _, in := range ins {
		go func() {
			out, err := b.Do(ctx, in)
			ch <- result{in, out, err}
		}()
	}
	return ch
}

func TestSizeOneRunsEachRequestAtOnce(t *testing.T) {
	rec := &recorder{}
	b, clk := newTest(Config{Size: 1, Wait: time.Hour}, rec, nil, nil)
	t.Cleanup(b.Close)
	for i := range 3 {
		out, err := b.Do(context.Background(), i)
		if err != nil || out != 2*i {
			t.Fatalf("Do(%d) = %d, %v", i, out, err)
		}
	}
	if got := rec.runs(); !slices.EqualFunc(got, [][]int{{0}, {1}, {2}}, slices.Equal) {
		t.Errorf("batches %v, want one run per request", got)
	}
	if len(clk.armed) != 0 {
		t.Errorf("%d timers armed; size 1 should never wait", len(clk.armed))
	}
	if s := b.Stats(); s.Runs != 3 || s.Items != 3 || s.MaxItems != 1 || s.Waited != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestFullBatchRunsWithoutWaiting(t *testing.T) {
	rec := &recorder{}
	b, _ := newTest(Config{Size: 4, Wait: time.Hour}, rec, nil, nil)
	t.Cleanup(b.Close)
	hold(t, b, rec)
	// The model is busy and the clock never moves: the batch can only
	// run by filling up.
	ch := doAll(context.Background(), b, 1, 2, 3, 4)
	for range 4 {
		r := <-ch
		if r.err != nil || r.out != 2*r.in {
			t.Errorf("Do(%d) = %d, %v", r.in, r.out, r.err)
		}
	}
	runs := without(rec.runs())
	if len(runs) != 1 || len(runs[0]) != 4 {
		t.Errorf("batches %v, want one of 4", runs)
	}
	if s := b.Stats(); s.Runs != 2 || s.Requests != 5 || s.MaxItems != 4 {
		t.Errorf("stats %+v, want the held run and one of 4", s)
	}
}

func TestRequestOnAnIdleModelRunsAtOnce(t *testing.T) {
	rec := &recorder{}
	b, clk := newTest(Config{Size: 8, Wait: time.Hour}, rec, nil, nil)
	t.Cleanup(b.Close)
	// The clock never moves: only running at once returns.
	if out, err := b.Do(context.Background(), 3); err != nil || out != 6 {
		t.Fatalf("Do(3) = %d, %v", out, err)
	}
	if len(clk.armed) != 0 {
		t.Error("a timer was set for a request the idle model could run")
	}
}

func TestLoneRequestRunsWhenItsWaitEnds(t *testing.T) {
	const wait = 5 * time.Millisecond
	rec := &recorder{}
	b, clk := newTest(Config{Size: 8, Wait: wait}, rec, func(v int) string { return fmt.Sprint(v == held) }, nil)
	t.Cleanup(b.Close)
	hold(t, b, rec) // the model stays busy throughout
	ch := doAll(context.Background(), b, 7)
	<-clk.armed // the request is queued and its timer set
	clk.Advance(wait - time.Nanosecond)
	select {
	case r := <-ch:
		t.Fatalf("request ran before its wait ended: %+v", r)
	default:
	}
	clk.Advance(time.Nanosecond)
	// Advance ran the timer, which ran the batch: the result is there.
	select {
	case r := <-ch:
		if r.err != nil || r.out != 14 {
			t.Fatalf("Do(7) = %d, %v", r.out, r.err)
		}
	case <-time.After(time.Minute):
		t.Fatal("lone request not run when its wait ended")
	}
	if s := b.Stats(); s.Runs != 2 || s.Items != 2 || s.Waited != wait {
		t.Errorf("stats %+v, want the held run and one of one item that waited %v", s, wait)
	}
}

func TestRequestsThatCannotShareRunAlone(t *testing.T) {
	// Size 2: a request of 2 items arrives while one of 1 waits. They do
	// not fit in one run, and together they fill more than one: each runs
	// at once, on its own.
	const wait = 10 * time.Millisecond
	rec := &recorder{}
	b, clk := newTest(Config{Size: 2, Wait: wait}, rec, nil, func(v int) int { return max(v, 1) })
	t.Cleanup(b.Close)
	hold(t, b, rec)
	first := doAll(context.Background(), b, 1)
	<-clk.armed
	clk.Advance(4 * time.Millisecond)
	second := doAll(context.Background(), b, 2) // fills the queue past Size
	if r := <-first; r.err != nil || r.out != 2 {
		t.Fatalf("first: %+v", r)
	}
	if r := <-second; r.err != nil || r.out != 4 {
		t.Fatalf("second: %+v", r)
	}
	if runs := without(rec.runs()); len(runs) != 2 {
		t.Errorf("batches %v, want two runs of one request each", runs)
	}
}

func TestRequestsOfOtherKeysDoNotMix(t *testing.T) {
	rec := &recorder{}
	key := func(v int) string { return fmt.Sprint(v % 2) }
	b, _ := newTest(Config{Size: 2, Wait: time.Hour}, rec, key, nil)
	t.Cleanup(b.Close)
	hold(t, b, rec)
	ch := doAll(context.Background(), b, 1, 2, 3, 4)
	for range 4 {
		if r := <-ch; r.err != nil || r.out != 2*r.in {
			t.Errorf("Do(%d) = %d, %v", r.in, r.out, r.err)
		}
	}
	for _, run := range without(rec.runs()) {
		if len(run) != 2 || run[0]%2 != run[1]%2 {
			t.Errorf("batch %v mixes keys", run)
		}
	}
}

func TestFailedRunFailsExactlyItsRequests(t *testing.T) {
	boom := errors.New("run failed")
	rec := &recorder{fail: func(in []int) error {
		if slices.Contains(in, 13) {
			return boom
		}
		return nil
	}}
	key := func(v int) string { return fmt.Sprint(v / 10) } // 10-19 share batches, 20-29 too
	b, _ := newTest(Config{Size: 3, Wait: time.Hour}, rec, key, nil)
	t.Cleanup(b.Close)
	hold(t, b, rec)
	ch := doAll(context.Background(), b, 11, 12, 13, 21, 22, 23)
	for range 6 {
		r := <-ch
		switch {
		case r.in < 20 && !errors.Is(r.err, boom):
			t.Errorf("Do(%d) = %d, %v; want the failed run's error", r.in, r.out, r.err)
		case r.in >= 20 && (r.err != nil || r.out != 2*r.in):
			t.Errorf("Do(%d) = %d, %v; another batch's failure reached it", r.in, r.out, r.err)
		}
	}
}

func TestPanicOrShortRunFailsItsBatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  Func[int, int]
		want string
	}{
		{"a panic", func([]int) ([]int, error) { panic("bad model") }, "panic"},
		{"too few outputs", func(in []int) ([]int, error) { return in[1:], nil }, "outputs for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(Config{Size: 2, Wait: time.Hour}, tc.run, nil, nil)
			b.clock = newFakeClock()
			t.Cleanup(b.Close)
			ch := doAll(context.Background(), b, 1, 2)
			for range 2 {
				if r := <-ch; r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
					t.Errorf("Do(%d) = %d, %v; want an error with %q", r.in, r.out, r.err, tc.want)
				}
			}
		})
	}
}

// TestFilesAreServedFairly has several goroutines, each standing for a
// file whose frames come one after another, share one batcher on the real
// clock: every file gets every result, its own.
func TestFilesAreServedFairly(t *testing.T) {
	const files, frames = 6, 40
	rec := &recorder{}
	b := New(Config{Size: 4, Wait: time.Millisecond}, rec.run, func(v int) string { return fmt.Sprint(v % 3) }, nil)
	t.Cleanup(b.Close)
	var wg sync.WaitGroup
	errs := make(chan error, files)
	for f := range files {
		wg.Go(func() {
			for i := range frames {
				in := f*1000 + i
				out, err := b.Do(context.Background(), in)
				if err != nil || out != 2*in {
					errs <- fmt.Errorf("file %d frame %d: got %d, %v", f, i, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := b.Stats(); s.Requests != files*frames || s.Items != files*frames || s.MaxItems > 4 {
		t.Errorf("stats %+v, want %d requests in runs of at most 4", s, files*frames)
	}
}

func TestCancelledRequestLeavesTheQueue(t *testing.T) {
	rec := &recorder{}
	b, clk := newTest(Config{Size: 2, Wait: time.Hour}, rec, nil, nil)
	t.Cleanup(b.Close)
	hold(t, b, rec)
	ctx, cancel := context.WithCancel(context.Background())
	gone := doAll(ctx, b, 1)
	<-clk.armed
	cancel()
	if r := <-gone; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled request: %+v", r)
	}
	// The queue is empty again: the next two requests make a batch of two.
	ch := doAll(context.Background(), b, 2, 3)
	for range 2 {
		if r := <-ch; r.err != nil || r.out != 2*r.in {
			t.Errorf("Do(%d) = %d, %v", r.in, r.out, r.err)
		}
	}
	if runs := without(rec.runs()); len(runs) != 1 || slices.Contains(runs[0], 1) {
		t.Errorf("batches %v, want one without the cancelled request", runs)
	}
}

func TestCloseFailsWaitingRequests(t *testing.T) {
	rec := &recorder{}
	b, clk := newTest(Config{Size: 4, Wait: time.Hour}, rec, nil, nil)
	release := hold(t, b, rec)
	ch := doAll(context.Background(), b, 1)
	<-clk.armed
	closed := make(chan struct{})
	go func() {
		b.Close()
		close(closed)
	}()
	if r := <-ch; !errors.Is(r.err, ErrClosed) {
		t.Errorf("waiting request after Close: %+v", r)
	}
	release() // Close returns once the run under way has finished
	<-closed
	if _, err := b.Do(context.Background(), 2); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: %v", err)
	}
	if runs := without(rec.runs()); len(runs) != 0 {
		t.Errorf("ran %v after Close", runs)
	}
}
