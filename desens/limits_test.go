package desens

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/storage"
)

// peakDetector records how many of its calls run at once. Each call waits
// until a second call could have started, or a while, so calls that may
// overlap do.
type peakDetector struct {
	now, peak atomic.Int32
}

func (p *peakDetector) Detect(_ context.Context, frames []gocv.Mat) []detect.Result {
	n := p.now.Add(1)
	defer p.now.Add(-1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	return make([]detect.Result, len(frames))
}

// TestInferenceLimit runs 4 workers over a tree: with Inference 1 no two
// detector calls overlap; without, they do.
func TestInferenceLimit(t *testing.T) {
	in := t.TempDir()
	jpg := samplePhoto(t)
	for i := range 8 {
		writeFile(t, filepath.Join(in, fmt.Sprintf("%d.jpg", i)), jpg)
	}
	for _, tc := range []struct {
		inference int
		most      int32
	}{{1, 1}, {0, 4}} {
		t.Run(fmt.Sprintf("inference=%d", tc.inference), func(t *testing.T) {
			d := newBareDesensitizer(t, nil, Options{Workers: 4, Overwrite: true, Batch: BatchOptions{Inference: tc.inference}})
			p := &peakDetector{}
			d.AddDetector(p)
			rep, err := d.Run(t.Context(), in, t.TempDir(), nil)
			if err != nil || rep.Summary.OK != 8 {
				t.Fatalf("%v, %+v", err, rep.Summary)
			}
			if got := p.peak.Load(); got > tc.most || (tc.inference == 1 && got != 1) {
				t.Errorf("%d detector calls at once, want at most %d", got, tc.most)
			}
		})
	}
}

// TestUploadLimit: with one upload slot, a second output to a bucket
// waits until the first is committed, and one that is aborted frees its
// slot too.
func TestUploadLimit(t *testing.T) {
	b, err := storage.OpenFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := bucketSink{b: b, loc: storage.Location{Scheme: "file"}, slots: newLimits(BatchOptions{Uploads: 1}).uploads}
	ctx := t.Context()
	first, err := s.Create(ctx, "a.jpg", outputMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		second, err := s.Create(ctx, "b.jpg", outputMeta{})
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		order = append(order, "second created")
		mu.Unlock()
		second.Abort()
	}()
	// The second Create cannot get past the slot until the first ends.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Create(short, "c.jpg", outputMeta{}); err == nil {
		t.Fatal("a third output got a slot while the first held the only one")
	}
	mu.Lock()
	order = append(order, "first committed")
	mu.Unlock()
	first.Write([]byte("x"))
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	<-done
	if len(order) != 2 || order[0] != "first committed" {
		t.Errorf("order %v: the second output started before the first ended", order)
	}
	third, err := s.Create(ctx, "c.jpg", outputMeta{})
	if err != nil {
		t.Fatalf("slot not freed by Abort: %v", err)
	}
	third.Abort()
}

// TestRetries: a file that failed on a transient storage error is tried
// again, one with bad media is not, and the per-file timeout ends a file
// that hangs.
func TestRetries(t *testing.T) {
	transient := &storage.Error{Op: "read", Bucket: "s3://raw", Key: "a.jpg", Retryable: true, Err: fmt.Errorf("503 slow down")}
	for _, tc := range []struct {
		name  string
		fails []error // the errors of the tries before the last, which succeeds
		tries int
		ok    bool
	}{
		{"transient error, then success", []error{transient}, 2, true},
		{"transient errors past the retries", []error{transient, transient, transient}, 2, false},
		{"bad media is never retried", []error{fmt.Errorf("%w: truncated JPEG", ErrCorruptMedia)}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newBareDesensitizer(t, nil, Options{Batch: BatchOptions{Retries: 1}})
			tries := 0
			fr := d.tryFile(t.Context(), func(context.Context) FileReport {
				fr := newFileReport("a.jpg", "out/a.jpg", "image")
				var err error
				if tries < len(tc.fails) {
					err = fileErr("a.jpg", "source", tc.fails[tries])
				}
				tries++
				fr.finish(err)
				return fr
			})
			if tries != tc.tries || fr.OK != tc.ok {
				t.Errorf("%d tries, ok %v (%s); want %d tries, ok %v", tries, fr.OK, fr.Error, tc.tries, tc.ok)
			}
		})
	}
	t.Run("file timeout", func(t *testing.T) {
		d := newBareDesensitizer(t, nil, Options{Batch: BatchOptions{FileTimeout: 10 * time.Millisecond, Retries: 3}})
		fr := d.tryFile(t.Context(), func(ctx context.Context) FileReport {
			fr := newFileReport("a.mp4", "out/a.mp4", "video")
			<-ctx.Done()
			fr.finish(fileErr("a.mp4", "decode", ctx.Err()))
			return fr
		})
		if fr.OK || !strings.Contains(fr.Error, "file-timeout") {
			t.Errorf("ok %v, error %q; want a failure naming the timeout", fr.OK, fr.Error)
		}
	})
}
