package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageExitCodes: a value out of range, caught by the flags or by
// desens.Options, is a usage error (exit 2) that names the value, and no
// output is written.
func TestUsageExitCodes(t *testing.T) {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"}
	if p := os.Getenv("DESENS_ORT_LIB"); p != "" {
		env = append(env, "DESENS_ORT_LIB="+p)
	}
	in := filepath.Join("..", "..", "testdata", "sample", "street.mp4")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"face scale too large", []string{"--face-scale", "5"}, "face scale 5.00"},
		{"plate threshold at 1", []string{"--plate-threshold", "1"}, "plate threshold 1.00"},
		{"expand under 1", []string{"--expand", "0.5"}, "--expand 0.5"},
		{"unknown device", []string{"--device", "tpu"}, "tpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.mp4")
			args := append(append([]string{"run", "-q"}, tc.args...), in, out)
			code, stderr := runDesens(t, env, args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d naming %q", code, stderr, exitUsage, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("output written")
			}
		})
	}
}
