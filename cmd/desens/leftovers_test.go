package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/internal/testenv"
)

// Leftovers removed before an output was written are printed under the
// file's line unless quiet; what could not be removed is a WARN line
// always, and so is the count of files an interrupted run never started.
func TestPrintLeftoversAndNotStarted(t *testing.T) {
	f := desens.FileReport{Input: "in.mp4", OK: true,
		Cleaned:    []string{"removed temporary file out/.desens-0123456789ab-in.mp4.tmp left by an earlier run"},
		LeftBehind: []string{"multipart upload s3://b/in.mp4 (upload ID u1) could not be aborted"}}
	rep := &desens.Report{Summary: desens.Summary{Canceled: 3}}
	for _, tc := range []struct {
		quiet bool
		want  string
	}{
		{false, "     removed temporary file out/.desens-0123456789ab-in.mp4.tmp left by an earlier run\n" +
			"WARN in.mp4: multipart upload s3://b/in.mp4 (upload ID u1) could not be aborted\n" +
			"3 files not started (interrupted)\n"},
		{true, "WARN in.mp4: multipart upload s3://b/in.mp4 (upload ID u1) could not be aborted\n" +
			"3 files not started (interrupted)\n"},
	} {
		var b bytes.Buffer
		printLeftovers(newReporter(&b, tc.quiet), f)
		printNotStarted(&b, rep)
		if b.String() != tc.want {
			t.Errorf("quiet %v: printed\n%s\nwant\n%s", tc.quiet, b.String(), tc.want)
		}
	}
}

// TestRunInterrupted sends SIGINT after the first file of a directory:
// the files never started are counted once as not started, not printed as
// failures, and desens exits 130.
func TestRunInterrupted(t *testing.T) {
	testenv.ORT(t)
	jpg, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	const files = 20
	for i := range files {
		if err := os.WriteFile(filepath.Join(in, "p"+strconv.Itoa(i)+".jpg"), jpg, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "run", "--workers", "1", in, t.TempDir())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"}
	if p := os.Getenv("DESENS_ORT_LIB"); p != "" {
		cmd.Env = append(cmd.Env, "DESENS_ORT_LIB="+p)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	ok, failed := 0, 0
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		switch {
		case strings.HasPrefix(line, "ok "):
			if ok++; ok == 1 {
				cmd.Process.Signal(syscall.SIGINT)
			}
		case strings.HasPrefix(line, "FAIL "):
			failed++
		}
	}
	err = cmd.Wait()
	t.Logf("stderr:\n%s", out.String())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130", err)
	}
	m := regexp.MustCompile(`(?m)^(\d+) files? not started \(interrupted\)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatal("no line counting the files not started")
	}
	notStarted, _ := strconv.Atoi(m[1])
	// The file being processed when the signal came may fail (cancelled
	// mid-way) or finish; the rest were never started.
	if failed > 1 || ok+failed+notStarted != files || notStarted < files-3 {
		t.Errorf("%d ok, %d failed, %d not started; want %d in all, at most one failed", ok, failed, notStarted, files)
	}
}
