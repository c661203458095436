package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// TestFlagsFirst: flags after the positionals move in front of them, with
// their values, and nothing else changes.
func TestFlagsFirst(t *testing.T) {
	app := newApp()
	for _, tc := range []struct {
		name string
		in   string // after "desens", split on spaces
		want string
	}{
		{"bool flag after args", "run IN OUT --overwrite", "run --overwrite IN OUT"},
		{"value flag after args", "run IN OUT --targets face", "run --targets face IN OUT"},
		{"value and bool flags after args", "run IN OUT --targets face -q", "run --targets face -q IN OUT"},
		{"flag between args", "run IN --style pixelate OUT", "run --style pixelate IN OUT"},
		{"--name=value", "run IN OUT --report=r.json", "run --report=r.json IN OUT"},
		{"-name=value", "run IN OUT -threads=2", "run -threads=2 IN OUT"},
		{"bool with a value", "run IN OUT --quiet=false", "run --quiet=false IN OUT"},
		{"-q alias", "run IN OUT -q", "run -q IN OUT"},
		{"value -", "eval DIR --json - --threshold 0.7", "eval --json - --threshold 0.7 DIR"},
		{"report to stdout", "run IN OUT --report -", "run --report - IN OUT"},
		{"negative value", "bench FILE --frames -1", "bench --frames -1 FILE"},
		{"- as a positional", "run - OUT -q", "run -q - OUT"},
		{"bench --json is a bool", "bench FILE --json --frames 10", "bench --json --frames 10 FILE"},
		{"eval --json takes a value", "eval A --json out.json B", "eval --json out.json A B"},
		{"version flag", "version --ort-lib x.so", "version --ort-lib x.so"},
		{"-- ends the flags", "run -q IN -- -odd.mp4 --targets", "run -q -- IN -odd.mp4 --targets"},
		{"-- after the args", "run IN OUT -- -q", "run -- IN OUT -q"},
		{"-- first", "run -- -in.jpg OUT", "run -- -in.jpg OUT"},
		{"unknown flag moves alone", "run IN OUT --nope face", "run --nope IN OUT face"},
		{"unknown flag with a value", "run IN OUT --nope=1", "run --nope=1 IN OUT"},
		{"value flag with no value", "run a.jpg b.jpg c.jpg --report", "run --report"},
		{"flags already in front", "run --targets face -q IN OUT", "run --targets face -q IN OUT"},
		{"flags on both sides", "run --targets face IN OUT -q", "run --targets face -q IN OUT"},
		{"no subcommand", "", ""},
		{"only global flags", "--help", "--help"},
		{"global flag before the command stays", "--help run IN -q", "--help run -q IN"},
		{"unknown command", "nosuch IN -q", "nosuch IN -q"},
		{"help after args", "run IN OUT --help", "run --help"},
		{"-h before args", "run -h IN OUT", "run -h"},
		{"help run", "help run -q", "help run -q"},
		{"help alias", "h run IN -q", "h run IN -q"},
		{"-- before the command", "-- run IN -q", "-- run IN -q"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"desens"}, strings.Fields(tc.in)...)
			orig := slices.Clone(args)
			got := flagsFirst(app, args)
			want := append([]string{"desens"}, strings.Fields(tc.want)...)
			if !slices.Equal(got, want) {
				t.Errorf("desens %s\n got %q\nwant %q", tc.in, got, want)
			}
			if !slices.Equal(args, orig) {
				t.Errorf("args changed in place: %q", args)
			}
		})
	}
}

// TestFlagsAfterArgs runs the binary with flags after the positionals: they
// are read as if they came first.
func TestFlagsAfterArgs(t *testing.T) {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"}
	if p := os.Getenv("DESENS_ORT_LIB"); p != "" {
		env = append(env, "DESENS_ORT_LIB="+p)
	}
	sample := filepath.Join("..", "..", "testdata", "sample")

	t.Run("usage error after the args", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.mp4")
		code, stderr := runDesens(t, env, "run", "-q", filepath.Join(sample, "street.mp4"), out, "--device", "tpu")
		if code != exitUsage || !strings.Contains(stderr, "tpu") {
			t.Fatalf("exit %d, stderr %q; want %d naming tpu", code, stderr, exitUsage)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("output written")
		}
	})
	t.Run("unknown flag after the args", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.mp4")
		code, stderr := runDesens(t, env, "run", filepath.Join(sample, "street.mp4"), out, "--nope")
		if code != exitUsage || !strings.Contains(stderr, "flag provided but not defined") {
			t.Fatalf("exit %d, stderr %q; want %d, flag not defined", code, stderr, exitUsage)
		}
	})
	t.Run("bench --frames -1 after FILE", func(t *testing.T) {
		code, stderr := runDesens(t, env, "bench", filepath.Join(sample, "street.mp4"), "--frames", "-1")
		if code != exitUsage || !strings.Contains(stderr, "--frames -1") {
			t.Fatalf("exit %d, stderr %q; want %d naming --frames -1", code, stderr, exitUsage)
		}
	})
	t.Run("eval --min-size -1 after DIR", func(t *testing.T) {
		code, stderr := runDesens(t, env, "eval", t.TempDir(), "--json", "-", "--min-size", "-1")
		if code != exitUsage || !strings.Contains(stderr, "--min-size -1") {
			t.Fatalf("exit %d, stderr %q; want %d naming --min-size -1", code, stderr, exitUsage)
		}
	})
	t.Run("run a photo", func(t *testing.T) {
		testenv.ORT(t)
		out := filepath.Join(t.TempDir(), "out.jpg")
		if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stderr := runDesens(t, env, "run", filepath.Join(sample, "photo.jpg"), out, "--targets", "face", "-q", "--overwrite")
		if code != exitOK {
			t.Fatalf("exit %d, stderr %q; want 0", code, stderr)
		}
		if stderr != "" {
			t.Errorf("-q after the args, yet stderr %q", stderr)
		}
		if b, err := os.ReadFile(out); err != nil || len(b) < 1000 {
			t.Fatalf("output: %d bytes, %v", len(b), err)
		}
	})
}
