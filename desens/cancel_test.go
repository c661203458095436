package desens

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunCancelLeavesUnstarted cancels a run after its first file: the
// files it never started are reported as canceled, not failed.
func TestRunCancelLeavesUnstarted(t *testing.T) {
	d := newBareDesensitizer(t, nil, Options{Workers: 1})
	in := t.TempDir()
	jpg := samplePhoto(t)
	for _, n := range []string{"a.jpg", "b.jpg", "c.jpg"} {
		writeFile(t, filepath.Join(in, n), jpg)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var heard []FileReport
	rep, err := d.Run(ctx, in, t.TempDir(), func(f FileReport) {
		heard = append(heard, f)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	s := rep.Summary
	if s.Files != 1 || s.OK != 1 || s.Failed != 0 || s.Canceled != 2 || !rep.Done() {
		t.Errorf("summary %+v: want 1 file, ok, and 2 canceled", s)
	}
	if len(rep.Files) != 3 || len(heard) != 3 {
		t.Fatalf("%d files in the report, %d heard of; want 3", len(rep.Files), len(heard))
	}
	for _, f := range rep.Files[1:] {
		if !f.Canceled || f.OK || !errors.Is(f.Err(), context.Canceled) || f.Stage != "" || !strings.HasPrefix(f.Error, "not started") {
			t.Errorf("%s: canceled %v, ok %v, stage %q, error %q; want canceled, not started", f.Input, f.Canceled, f.OK, f.Stage, f.Error)
		}
	}
}
