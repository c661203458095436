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
		{"unknown target", []string{"--targets", "face,car"}, `"car"`},
		{"face threshold at 1", []string{"--threshold", "1"}, "face threshold 1.00"},
		{"negative face threshold", []string{"--threshold", "-0.5"}, "face threshold -0.50"},
		{"face scale too large", []string{"--face-scale", "5"}, "face scale 5.00"},
		{"plate threshold at 1", []string{"--plate-threshold", "1"}, "plate threshold 1.00"},
		{"unknown overlay mode", []string{"--targets", "overlay", "--overlays", "gps"}, `"gps"`},
		{"overlay every 0", []string{"--targets", "overlay", "--overlay-every", "0"}, "--overlay-every 0"},
		{"roi mode without a file", []string{"--targets", "overlay", "--overlays", "roi"}, "ROI file"},
		{"unknown style", []string{"--style", "smudge"}, `"smudge"`},
		{"unknown shape", []string{"--shape", "star"}, `"star"`},
		{"expand under 1", []string{"--expand", "0.5"}, "expand 0.5"},
		{"unknown preset", []string{"--preset", "quick"}, `"quick"`},
		{"crf over 51", []string{"--crf", "60"}, "crf 60"},
		{"negative workers", []string{"--workers", "-1"}, "workers -1"},
		{"negative threads", []string{"--threads", "-1"}, "threads -1"},
		{"negative batch", []string{"--batch", "-1"}, "batch -1"},
		{"negative batch wait", []string{"--batch-wait", "-1ms"}, "batch wait -1ms"},
		{"unknown device", []string{"--device", "tpu"}, "tpu"},
		{"unknown trajectory policy", []string{"--trajectory", "blur"}, "blur"},
		{"trajectory grid of 0", []string{"--trajectory", "coarsen", "--trajectory-grid", "0"}, "grid 0"},
		{"trajectory offset of 0,0", []string{"--trajectory", "offset", "--trajectory-offset", "0,0"}, "0,0"},
		{"unknown s3 provider", []string{"--s3-provider", "ftp"}, `"ftp"`},
		{"unknown archive policy", []string{"--archive-other", "keep"}, `"keep"`},
		{"not a number", []string{"--threshold", "high"}, "high"},
		{"shard past its count", []string{"--shard", "2/2"}, "--shard"},
		{"shard and shards", []string{"--shard", "0/2", "--shards", "2"}, "give one"},
		{"shards without a completion index", []string{"--shards", "2"}, "JOB_COMPLETION_INDEX"},
		{"since not a time", []string{"--since", "yesterday"}, "--since"},
		{"gate over 1", []string{"--min-success", "1.5"}, "min-success 1.5"},
		{"negative retries", []string{"--retries", "-1"}, "retries -1"},
		{"a bad pattern", []string{"--match", "[a"}, "[a"},
		{"a partition of two segments", []string{"--partition", "dt=1/h=2"}, "dt=1/h=2"},
		{"unknown progress mode", []string{"--progress", "fancy"}, "fancy"},
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

// TestUsageExitCodesEvalBench: eval's and bench's own flags, and the model
// flags they share with run, exit 2 on a bad value.
func TestUsageExitCodesEvalBench(t *testing.T) {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"}
	if p := os.Getenv("DESENS_ORT_LIB"); p != "" {
		env = append(env, "DESENS_ORT_LIB="+p)
	}
	clip := filepath.Join("..", "..", "testdata", "sample", "street.mp4")
	dir := filepath.Join("..", "..", "testdata", "eval", "real")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"eval: recall gate over 1", []string{"eval", "--fail-under-recall", "2", dir}, "--fail-under-recall 2"},
		{"eval: sweep from 1", []string{"eval", "--sweep-from", "1", dir}, "--sweep-from 1"},
		{"eval: negative min size", []string{"eval", "--min-size", "-1", dir}, "--min-size -1"},
		{"eval: face threshold at 1", []string{"eval", "--threshold", "1", dir}, "face threshold 1.00"},
		{"eval: unknown target", []string{"eval", "--targets", "car", dir}, `"car"`},
		{"bench: negative frame limit", []string{"bench", "--frames", "-1", clip}, "--frames -1"},
		{"bench: face scale too large", []string{"bench", "--face-scale", "9", clip}, "face scale 9.00"},
		{"bench: unknown device", []string{"bench", "--device", "tpu", clip}, "tpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runDesens(t, env, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d naming %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
}
