package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageExitCodesVideoEval: what does not apply to a directory of
// labelled clips, a mix of clip and image directories, and a bad value of
// the run flags video evaluation takes, exit 2 before any clip is read.
func TestUsageExitCodesVideoEval(t *testing.T) {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"}
	if p := os.Getenv("DESENS_ORT_LIB"); p != "" {
		env = append(env, "DESENS_ORT_LIB="+p)
	}
	videos := t.TempDir()
	labels := `{"version": 1, "videos": [{"file": "missing.mp4", "width": 64, "height": 48, "fps": 25, "frames": 2, "tracks": []}]}`
	if err := os.WriteFile(filepath.Join(videos, "videos.json"), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	images := filepath.Join("..", "..", "testdata", "eval", "real")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"html", []string{"eval", "--html", t.TempDir(), videos}, "--html: not for videos"},
		{"sweep", []string{"eval", "--sweep-from", "0.4", videos}, "--sweep-from: not for videos"},
		{"clips and images together", []string{"eval", videos, images}, "evaluate them apart"},
		{"unknown shape", []string{"eval", "--shape", "star", videos}, `"star"`},
		{"expand under 1", []string{"eval", "--expand", "0.5", videos}, "expand 0.5"},
		{"recall gate over 1", []string{"eval", "--fail-under-recall", "2", videos}, "--fail-under-recall 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runDesens(t, env, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d naming %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
}
