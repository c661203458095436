package desens

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/desens/desens/desens/storage"
)

// fakeLister lists n keys under prefix, one page at a time, as a bucket
// would, without holding them: each is made as it is yielded.
type fakeLister struct {
	storage.Bucket // only List is called
	n              int
	pages          int // pages fetched so far
}

func (f *fakeLister) List(ctx context.Context, prefix string, _ *storage.ListOptions) iter.Seq2[storage.ObjectInfo, error] {
	return func(yield func(storage.ObjectInfo, error) bool) {
		for i := range f.n {
			if i%1000 == 0 {
				f.pages++
			}
			day := fmt.Sprintf("dt=2026-12-%02d", 1+i%7)
			o := storage.ObjectInfo{Key: fmt.Sprintf("%scam%d/%s/%07d.jpg", prefix, i%13, day, i), Size: 1000,
				ModTime: time.Date(2026, 12, 1+i%7, 12, 0, 0, 0, time.UTC), ETag: `"x"`}
			if !yield(o, nil) {
				return
			}
		}
	}
}

func fakePlace(l storage.Bucket) *place {
	return &place{raw: "s3://raw/fleet/", loc: storage.Location{Scheme: "s3", Bucket: "raw", Key: "fleet/"}, bucket: l}
}

// planned returns the relative names the jobs of a run of Options o over
// the fake listing of n keys would name, processing none.
func planned(t *testing.T, n int, o Options) []string {
	t.Helper()
	d := newBareDesensitizer(t, nil, o)
	jobs, err := d.plan(t.Context(), fakePlace(&fakeLister{n: n}), &place{raw: t.TempDir(), path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for j, err := range jobs {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, j.rel)
	}
	return got
}

// TestShardsTakeEveryKeyOnce splits one listing between 2, then 3, shards
// that know nothing of each other: together they take every key, each key
// once.
func TestShardsTakeEveryKeyOnce(t *testing.T) {
	const n = 3000
	all := planned(t, n, Options{})
	if len(all) != n {
		t.Fatalf("unsharded run plans %d keys, want %d", len(all), n)
	}
	for _, count := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d shards", count), func(t *testing.T) {
			seen := map[string]int{}
			for i := range count {
				share := planned(t, n, Options{Batch: BatchOptions{Shard: Shard{Index: i, Count: count}}})
				if len(share) < n/count/2 {
					t.Errorf("shard %d/%d takes %d of %d keys: the hash does not spread", i, count, len(share), n)
				}
				for _, k := range share {
					seen[k]++
				}
			}
			for _, k := range all {
				if seen[k] != 1 {
					t.Errorf("%s taken by %d shards, want 1", k, seen[k])
				}
			}
			if len(seen) != n {
				t.Errorf("shards took %d distinct keys, want %d", len(seen), n)
			}
		})
	}
}

func TestFilterSelects(t *testing.T) {
	at := func(s string) time.Time { tm, _ := ParseTime(s); return tm }
	mod := at("2026-12-05T08:00:00Z")
	for _, tc := range []struct {
		name string
		f    Filter
		rel  string
		want bool
	}{
		{"no filter takes all", Filter{}, "a/b.jpg", true},
		{"a pattern without a slash matches the base name", Filter{Match: []string{"*.jpg"}}, "a/b.jpg", true},
		{"a pattern without a slash misses other types", Filter{Match: []string{"*.mp4"}}, "a/b.jpg", false},
		{"a pattern with a slash matches the whole name", Filter{Match: []string{"cam1/*/*.jpg"}}, "cam1/x/b.jpg", true},
		{"a pattern with a slash is anchored", Filter{Match: []string{"cam1/*.jpg"}}, "cam2/cam1/b.jpg", false},
		{"exclude wins over match", Filter{Match: []string{"*.jpg"}, Exclude: []string{"b.*"}}, "a/b.jpg", false},
		{"since is inclusive", Filter{Since: mod}, "a.jpg", true},
		{"since leaves out older files", Filter{Since: at("2026-12-06")}, "a.jpg", false},
		{"until is exclusive", Filter{Until: mod}, "a.jpg", false},
		{"until takes older files", Filter{Until: at("2026-12-06")}, "a.jpg", true},
		{"a partition at the top", Filter{Partition: "dt=2026-12-05"}, "dt=2026-12-05/a.jpg", true},
		{"a partition deeper down", Filter{Partition: "dt=2026-12-05"}, "cam1/dt=2026-12-05/h=08/a.jpg", true},
		{"another partition", Filter{Partition: "dt=2026-12-05"}, "cam1/dt=2026-12-06/a.jpg", false},
		{"a partition is a whole segment", Filter{Partition: "dt=2026-12-0"}, "dt=2026-12-05/a.jpg", false},
		{"a file named like the partition is not in it", Filter{Partition: "dt=2026-12-05"}, "dt=2026-12-05", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.keeps(tc.rel, mod); got != tc.want {
				t.Errorf("keeps(%q) = %v, want %v", tc.rel, got, tc.want)
			}
		})
	}
}

func TestBatchOptionsChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    BatchOptions
	}{
		{"gate above 1", BatchOptions{MinSuccess: 1.5}},
		{"negative retries", BatchOptions{Retries: -1}},
		{"shard index past the count", BatchOptions{Shard: Shard{Index: 3, Count: 3}}},
		{"a bad pattern", BatchOptions{Filter: Filter{Match: []string{"[a"}}}},
		{"a partition of two segments", BatchOptions{Filter: Filter{Partition: "a/b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := newDesensitizer(Options{Batch: tc.b}, false); err == nil {
				t.Error("accepted")
			}
		})
	}
	for _, s := range []string{"1", "a/b", "2/2", "-1/2", "0/0"} {
		if _, err := ParseShard(s); err == nil {
			t.Errorf("ParseShard(%q) accepted", s)
		}
	}
	if sh, err := ParseShard("1/3"); err != nil || sh != (Shard{1, 3}) || sh.String() != "1-of-3" {
		t.Errorf("ParseShard(1/3) = %v, %v", sh, err)
	}
}

// TestFilterAndPartitionPlan plans a filtered run over the fake listing:
// a partition and a time range select the same week day's keys.
func TestFilterAndPartitionPlan(t *testing.T) {
	byPart := planned(t, 700, Options{Batch: BatchOptions{Filter: Filter{Partition: "dt=2026-12-05"}}})
	since, _ := ParseTime("2026-12-05")
	until, _ := ParseTime("2026-12-06")
	byTime := planned(t, 700, Options{Batch: BatchOptions{Filter: Filter{Since: since, Until: until}}})
	if len(byPart) != 100 || strings.Join(byPart, ",") != strings.Join(byTime, ",") {
		t.Errorf("partition takes %d keys, time range %d; want the same 100", len(byPart), len(byTime))
	}
}

// TestListingMemoryFlat lists and "processes" 100,000 keys, keeping a
// report of failures only: the heap after the run, and at every 10,000th
// file during it, stays within a bound below what holding the keys (or
// their jobs) would take.
func TestListingMemoryFlat(t *testing.T) {
	const n = 100_000
	const bound = 8 << 20 // far below what holding the 100,000 jobs would take
	d := newBareDesensitizer(t, nil, Options{Workers: 4})
	l := &fakeLister{n: n}
	jobs, err := d.plan(t.Context(), fakePlace(l), &place{raw: t.TempDir(), path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	l.pages = 0 // plan's check of the bucket read the first page
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	var peak uint64
	rep := &Report{}
	done := 0
	err = runJobs(t.Context(), 4, jobs, func(_ context.Context, j job) FileReport {
		fr := newFileReport(j.in.String(), j.dst, string(KindImage))
		fr.finish(nil)
		return fr
	}, func(fr FileReport) {
		rep.add(fr, true)
		if done++; done%10_000 == 0 {
			peak = max(peak, heap())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	after := heap()
	if rep.Summary.OK != n || done != n {
		t.Fatalf("%d files collected, %d ok; want %d", done, rep.Summary.OK, n)
	}
	if l.pages != n/1000 {
		t.Errorf("%d pages listed, want %d", l.pages, n/1000)
	}
	grow := func(h uint64) int64 { return int64(h) - int64(before) }
	t.Logf("heap before %d B, peak during +%d B, after +%d B", before, grow(peak), grow(after))
	if grow(peak) > bound || grow(after) > bound {
		t.Errorf("heap grew by %d B at peak, %d B after; want under %d B", grow(peak), grow(after), bound)
	}
}

// TestResumeLocal runs a tree twice: the rerun skips every output as
// already done and writes nothing; a source that changed is redone, and
// an output desens did not make is left alone and fails its file.
func TestResumeLocal(t *testing.T) {
	for _, noXattr := range []bool{false, true} {
		t.Run(fmt.Sprintf("noXattr=%v", noXattr), func(t *testing.T) {
			in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
			jpg := samplePhoto(t)
			for _, n := range []string{"a.jpg", "b/c.jpg", "b/d.jpg"} {
				os.MkdirAll(filepath.Join(in, filepath.Dir(n)), 0o755)
				writeFile(t, filepath.Join(in, n), jpg)
			}
			d := newBareDesensitizer(t, nil, Options{Workers: 2, Batch: BatchOptions{MinSuccess: 0.9}})
			run := func() *Report {
				t.Helper()
				src, dst := &place{raw: in, path: in}, &place{raw: out, path: out}
				jobs, err := d.plan(t.Context(), src, dst)
				if err != nil {
					t.Fatal(err)
				}
				rep := d.newReport()
				if noXattr {
					jobs = withSink(jobs, fileSink{temps: &tempIndex{}, noXattr: true})
				}
				err = runJobs(t.Context(), 2, jobs, d.doJob, func(fr FileReport) { rep.add(fr, false) })
				if err != nil {
					t.Fatal(err)
				}
				rep.sortFiles()
				return rep
			}
			if s := run().Summary; s.OK != 3 {
				t.Fatalf("first run: %+v", s)
			}
			st1, _ := os.Stat(filepath.Join(out, "a.jpg"))
			if _, err := os.Stat(companionOf(filepath.Join(out, "a.jpg"))); (err == nil) != noXattr {
				t.Errorf("companion file exists: %v, want %v", err == nil, noXattr)
			}
			rep := run()
			if s := rep.Summary; s.Files != 0 || s.AlreadyDone != 3 || s.SuccessRate != 1 || len(rep.Skipped) != 3 || !rep.Skipped[0].Done {
				t.Fatalf("rerun: %+v, skipped %+v; want 3 already done", s, rep.Skipped)
			}
			if st2, _ := os.Stat(filepath.Join(out, "a.jpg")); !os.SameFile(st1, st2) || !st2.ModTime().Equal(st1.ModTime()) {
				t.Error("rerun rewrote a finished output")
			}
			// A new version of a source is redone; a file desens did not
			// make is kept and its source fails.
			later := time.Now().Add(time.Hour)
			os.Chtimes(filepath.Join(in, "a.jpg"), later, later)
			os.Remove(filepath.Join(out, "b", "c.jpg"))
			os.Remove(companionOf(filepath.Join(out, "b", "c.jpg")))
			writeFile(t, filepath.Join(out, "b", "c.jpg"), []byte("someone else's"))
			rep = run()
			if s := rep.Summary; s.OK != 1 || s.Failed != 1 || s.AlreadyDone != 1 {
				t.Fatalf("after changes: %+v, files %+v; want a.jpg redone, b/c.jpg failed, b/d.jpg done", s, rep.Files)
			}
			if b, _ := os.ReadFile(filepath.Join(out, "b", "c.jpg")); string(b) != "someone else's" {
				t.Error("a file desens did not make was replaced")
			}
			noTemps(t, out)
		})
	}
}

// withSink gives every job sink s (guarded as plan guards local sinks).
func withSink(jobs iter.Seq2[job, error], s outSink) iter.Seq2[job, error] {
	return func(yield func(job, error) bool) {
		for j, err := range jobs {
			if g, ok := j.sink.(guardSink); ok {
				g.outSink = s
				j.sink = g
			} else {
				j.sink = s
			}
			if !yield(j, err) {
				return
			}
		}
	}
}

// TestDeliveryLocal runs a batch into a directory: above the gate it
// writes the report, the manifest and the marker; below, only the report,
// and a marker of an earlier run is gone.
func TestDeliveryLocal(t *testing.T) {
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	jpg := samplePhoto(t)
	for i := range 19 {
		writeFile(t, filepath.Join(in, fmt.Sprintf("%02d.jpg", i)), jpg)
	}
	writeFile(t, filepath.Join(in, "bad.jpg"), jpg[:100])
	for _, tc := range []struct {
		gate   float64
		shard  Shard
		marker string
		passes bool
	}{
		{0.95, Shard{}, "_SUCCESS", true}, // 19 of 20
		{0.96, Shard{}, "_SUCCESS", false},
		{0.5, Shard{Index: 1, Count: 2}, "_SUCCESS-1-of-2", true},
	} {
		t.Run(fmt.Sprintf("gate %.2f shard %s", tc.gate, tc.shard), func(t *testing.T) {
			d := newBareDesensitizer(t, nil, Options{Workers: 2, Overwrite: true, Batch: BatchOptions{MinSuccess: tc.gate, Shard: tc.shard}})
			rep, err := d.Run(t.Context(), in, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Done() != tc.passes {
				t.Fatalf("passes %v at %.3f, want %v", rep.Done(), rep.Summary.SuccessRate, tc.passes)
			}
			sfx := strings.TrimPrefix(tc.marker, "_SUCCESS")
			_, err = os.Stat(filepath.Join(out, tc.marker))
			if (err == nil) != tc.passes {
				t.Errorf("marker %s exists: %v, want %v", tc.marker, err == nil, tc.passes)
			}
			var r Report
			if err := json.Unmarshal(mustRead(t, filepath.Join(out, "_report"+sfx+".json")), &r); err != nil || r.Summary.Files != rep.Summary.Files {
				t.Errorf("report in the output: %v, %+v", err, r.Summary)
			}
			if !tc.passes {
				return
			}
			var m struct {
				Count   int
				Outputs []doneOutput
			}
			if err := json.Unmarshal(mustRead(t, filepath.Join(out, "_manifest"+sfx+".json")), &m); err != nil {
				t.Fatal(err)
			}
			if m.Count != rep.Summary.OK || len(m.Outputs) != m.Count {
				t.Fatalf("manifest lists %d outputs (count %d), want %d", len(m.Outputs), m.Count, rep.Summary.OK)
			}
			for _, o := range m.Outputs {
				st, err := os.Stat(filepath.Join(out, o.Name))
				if err != nil || st.Size() != o.Size {
					t.Errorf("manifest entry %+v: %v", o, err)
				}
			}
		})
	}
}

// TestDeliveryPartition: with a partition, a batch's marker goes into the
// partition's directory, so the next day's run into the same output
// leaves it alone.
func TestDeliveryPartition(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	jpg := samplePhoto(t)
	for _, n := range []string{"dt=2026-12-05/cam1/a.jpg", "dt=2026-12-06/cam1/b.jpg"} {
		os.MkdirAll(filepath.Join(in, filepath.Dir(n)), 0o755)
		writeFile(t, filepath.Join(in, n), jpg)
	}
	for _, day := range []string{"dt=2026-12-05", "dt=2026-12-06"} {
		d := newBareDesensitizer(t, nil, Options{Batch: BatchOptions{MinSuccess: 0.95, Filter: Filter{Partition: day}}})
		rep, err := d.Run(t.Context(), in, out, nil)
		if err != nil || rep.Summary.OK != 1 {
			t.Fatalf("%s: %v, %+v", day, err, rep.Summary)
		}
	}
	for _, p := range []string{"dt=2026-12-05/_SUCCESS", "dt=2026-12-06/_SUCCESS", "dt=2026-12-05/_manifest.json", "dt=2026-12-06/_report.json"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "_SUCCESS")); err == nil {
		t.Error("marker at the top of the output, shared by every day")
	}
}
