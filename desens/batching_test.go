package desens

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestBatchedFilesMatchOneAtATime: two videos desensitized at once by a
// Desensitizer that batches its model runs (Batch 4) each get every frame,
// and hide in each frame what a Desensitizer running every input on its
// own (Batch 1) hides there.
func TestBatchedFilesMatchOneAtATime(t *testing.T) {
	dir := t.TempDir()
	const frames = 15
	in := makeFaceVideo(t, dir, frames)
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	ins := []string{filepath.Join(dir, "a.mp4"), filepath.Join(dir, "b.mp4")}
	for _, p := range ins {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	hidden := map[string][]FrameRegions{} // per input, per frame
	record := func(fr FrameRegions) {
		mu.Lock()
		defer mu.Unlock()
		hidden[fr.File] = append(hidden[fr.File], fr)
	}
	alone := newTestDesensitizer(t, Options{OnFrame: record, Runtime: RuntimeOptions{Batch: 1}})
	if rep := alone.ProcessFile(t.Context(), in, filepath.Join(dir, "alone", "out.mp4")); !rep.OK {
		t.Fatal(rep.Error)
	}
	batched := newTestDesensitizer(t, Options{OnFrame: record, Runtime: RuntimeOptions{Batch: 4, BatchWait: 5 * time.Millisecond}})
	var wg sync.WaitGroup
	for i, p := range ins {
		wg.Go(func() {
			if rep := batched.ProcessFile(t.Context(), p, filepath.Join(dir, "batched", fmt.Sprint(i), "out.mp4")); !rep.OK {
				t.Errorf("%s: %s", p, rep.Error)
			}
		})
	}
	wg.Wait()
	want := hidden[in]
	if len(want) != frames {
		t.Fatalf("%d frames alone, want %d", len(want), frames)
	}
	for _, p := range ins {
		got := hidden[p]
		if len(got) != frames {
			t.Errorf("%s: %d frames, want %d", p, len(got), frames)
			continue
		}
		for i := range got {
			if !sameRegions(got[i], want[i]) {
				t.Errorf("%s, frame %d: batched hides %+v, alone %+v", filepath.Base(p), i, got[i], want[i])
			}
		}
	}
	for _, b := range batched.Batches() {
		t.Logf("%s: %d runs, %d inputs, at most %d, %v waited", b.Model, b.Runs, b.Inputs, b.Max, b.Waited)
	}
}

// sameRegions reports whether two frames hide the same regions, each box
// within 2 pixels (batched runs add up floats in another order).
func sameRegions(a, b FrameRegions) bool {
	if a.Frame != b.Frame || a.Masked != b.Masked || len(a.Hidden) != len(b.Hidden) {
		return false
	}
	for i, h := range a.Hidden {
		o := b.Hidden[i]
		d := []int{h.Box.Min.X - o.Box.Min.X, h.Box.Min.Y - o.Box.Min.Y, h.Box.Max.X - o.Box.Max.X, h.Box.Max.Y - o.Box.Max.Y}
		if h.Class != o.Class || slices.ContainsFunc(d, func(v int) bool { return v < -2 || v > 2 }) {
			return false
		}
	}
	return true
}
