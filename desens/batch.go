package desens

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/desens/desens/desens/storage"
)

// BatchOptions make a directory or prefix run a bulk job: which files it
// takes (Filter, Shard), how each is tried (FileTimeout, Retries), and what
// it delivers beside the outputs (MinSuccess). The zero value takes every
// file, once, with no time limit, and writes nothing but the outputs.
type BatchOptions struct {
	Filter Filter
	Shard  Shard
	// FileTimeout limits the time one file may take, retries included;
	// 0 means no limit. A file that runs out fails at the stage it was in.
	FileTimeout time.Duration
	// Retries is how many more times a file is tried when it failed on a
	// transient storage error (storage.IsRetryable: a 5xx, throttling, a
	// connection reset); bad media is never retried. 0 means none.
	Retries int
	// MinSuccess, when above 0, is the share of files that must succeed
	// (already done ones count as succeeded) for the run to pass. A run
	// into a directory or prefix then writes, beside the outputs, its
	// report, and, only when it passes, a manifest of the outputs and
	// then a _SUCCESS marker (see deliver.go).
	MinSuccess float64
	// Downloads, Inference and Uploads bound, across the files processed
	// at once (Options.Workers), whole-object reads from buckets,
	// detector calls and outputs being written to buckets (see limits);
	// 0 sets no bound beyond Workers.
	Downloads, Inference, Uploads int
	// FailuresOnly keeps only the files that failed or never started in
	// Report.Files, so a report of a large job stays small and the run's
	// memory flat; the summary still counts every file.
	FailuresOnly bool
}

func (b BatchOptions) validate() error {
	switch {
	case b.MinSuccess < 0 || b.MinSuccess > 1:
		return optionErr("min-success %g: want a share in [0,1]", b.MinSuccess)
	case b.Retries < 0:
		return optionErr("retries %d: want 0 or more", b.Retries)
	case b.Downloads < 0 || b.Inference < 0 || b.Uploads < 0:
		return optionErr("downloads %d, inference %d, uploads %d: want 0 (no bound) or more", b.Downloads, b.Inference, b.Uploads)
	case b.FileTimeout < 0:
		return optionErr("file timeout %s: want 0 (none) or more", b.FileTimeout)
	case b.Filter.Since.After(b.Filter.Until) && !b.Filter.Until.IsZero():
		return optionErr("since %s is after until %s", b.Filter.Since.Format(time.RFC3339), b.Filter.Until.Format(time.RFC3339))
	}
	for _, p := range append(append([]string{}, b.Filter.Match...), b.Filter.Exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return optionErr("pattern %q: %v", p, err)
		}
	}
	if strings.Contains(b.Filter.Partition, "/") {
		return optionErr("partition %q: want one path segment such as dt=2026-12-05", b.Filter.Partition)
	}
	return b.Shard.validate()
}

// Filter selects the files of a directory or prefix by name and age.
// Names are relative to the directory or prefix, '/'-separated. A pattern
// (path.Match syntax) without a '/' is matched against the base name,
// one with a '/' against the whole relative name.
type Filter struct {
	// Match, if not empty, keeps only the files one of these patterns
	// matches.
	Match []string
	// Exclude drops the files any of these patterns matches.
	Exclude []string
	// Since and Until keep the files last modified in [Since, Until);
	// a zero time leaves that end open.
	Since, Until time.Time
	// Partition, if set, keeps only files under a directory of that name
	// at any depth, such as dt=2026-12-05.
	Partition string
}

func (f Filter) keeps(rel string, mod time.Time) bool {
	if len(f.Match) > 0 && !matchAny(f.Match, rel) {
		return false
	}
	if matchAny(f.Exclude, rel) {
		return false
	}
	if !f.Since.IsZero() && mod.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !mod.Before(f.Until) {
		return false
	}
	if f.Partition != "" {
		dir := path.Dir(rel)
		if dir == "." || !strings.Contains("/"+dir+"/", "/"+f.Partition+"/") {
			return false
		}
	}
	return true
}

func (f Filter) byTime() bool { return !f.Since.IsZero() || !f.Until.IsZero() }

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		name := rel
		if !strings.Contains(p, "/") {
			name = path.Base(rel)
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// ParseTime reads a --since or --until value: RFC 3339, or a date
// (2026-12-05, midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: time %q: want RFC 3339 (2026-12-05T00:00:00Z) or a date (2026-12-05)", ErrOptions, s)
}

// Shard is this process's share of a directory or prefix: the files whose
// relative name hashes (FNV-1a, 32 bits) to Index modulo Count. N processes
// with indices 0..N-1 and the same Count share a prefix without talking to
// each other, and every file goes to exactly one of them. The zero value
// takes every file.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/N".
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if ok {
		si, err1 := strconv.Atoi(i)
		sn, err2 := strconv.Atoi(n)
		if sh := (Shard{Index: si, Count: sn}); err1 == nil && err2 == nil && sn > 0 {
			return sh, sh.validate()
		}
	}
	return Shard{}, fmt.Errorf("%w: shard %q: want i/N, such as 0/4", ErrOptions, s)
}

func (s Shard) validate() error {
	if s == (Shard{}) {
		return nil
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return optionErr("shard %d/%d: want 0 <= i < N", s.Index, s.Count)
	}
	return nil
}

// String is "i-of-N", as the shard's report and markers are named; "" for
// the whole.
func (s Shard) String() string {
	if s.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%d-of-%d", s.Index, s.Count)
}

func (s Shard) takes(rel string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(rel))
	return int(h.Sum32()%uint32(s.Count)) == s.Index
}

// tryFile runs one file, under the per-file timeout, as many times as
// transient storage errors allow. Outputs appear only when complete, so a
// failed try leaves nothing to undo.
func (d *Desensitizer) tryFile(ctx context.Context, do func(context.Context) FileReport) FileReport {
	b := d.opts.Batch
	if b.FileTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.FileTimeout, fmt.Errorf("%w: over --file-timeout %s", context.DeadlineExceeded, b.FileTimeout))
		defer cancel()
	}
	var fr FileReport
	for try := 0; ; try++ {
		fr = do(ctx)
		if fr.OK || try >= b.Retries || !storage.IsRetryable(fr.Err()) || ctx.Err() != nil {
			break
		}
		if !sleepCtx(ctx, backoff(try)) {
			break
		}
	}
	if errors.Is(fr.Err(), context.DeadlineExceeded) && ctx.Err() != nil {
		fr.Error += fmt.Sprintf(" (%v)", context.Cause(ctx))
	}
	return fr
}

// backoff is the wait before retry try+1: exponential from 1 s, at most
// 30 s, with full jitter, so shards that failed together do not retry
// together.
func backoff(try int) time.Duration {
	d := min(30*time.Second, time.Second<<min(try, 5))
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
