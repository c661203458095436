package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// TestNamesPrintedEscaped runs the binary over files whose names hold a
// newline or terminal escapes: every line for people (ok, FAIL, drop,
// skipped, the error that stops a run) prints them quoted or escaped, so a
// name can neither forge a line nor drive the terminal, while the JSON
// report keeps them exact.
func TestNamesPrintedEscaped(t *testing.T) {
	testenv.ORT(t) // the run loads the face model
	photo, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	gpx, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "trajectory", "two_tracks.gpx"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"ok\nFAIL forged.jpg":     photo,                // ok line
		"bad\x1b[2J.jpg":          photo[:len(photo)/3], // FAIL line
		"notes\n\x1b[31mred.md":   []byte("parked at home\n"),
		"track\x1b]0;title\a.gpx": gpx, // drop line
	}
	in := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(in, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
		"DESENS_ORT_LIB=" + os.Getenv("DESENS_ORT_LIB")}
	out := filepath.Join(t.TempDir(), "out")
	report := filepath.Join(t.TempDir(), "report.json")

	code, stderr := runDesens(t, env, "run", "--targets", "face", "--report", report, in, out)
	t.Logf("exit %d:\n%s", code, stderr)
	if code != exitFailures {
		t.Errorf("exit %d, want %d (one file fails)", code, exitFailures)
	}
	noRawControls(t, stderr)
	for _, want := range []string{
		"ok   " + strconv.Quote(filepath.Join(in, "ok\nFAIL forged.jpg")) + " -> " + strconv.Quote(filepath.Join(out, "ok\nFAIL forged.jpg")),
		"FAIL " + strconv.Quote(filepath.Join(in, "bad\x1b[2J.jpg")) + ": ",
		"drop " + strconv.Quote(filepath.Join(in, "track\x1b]0;title\a.gpx")) + " (gpx trajectory",
		"  " + strconv.Quote(filepath.Join(in, "notes\n\x1b[31mred.md")) + ": not an image",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q", want)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(line, "FAIL forged") || strings.HasPrefix(line, "red.md") {
			t.Errorf("a name forged the line %q", line)
		}
	}

	var rep struct {
		Files   []struct{ Input string }
		Skipped []struct{ Input string }
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, f := range rep.Files {
		got = append(got, f.Input)
	}
	for _, s := range rep.Skipped {
		got = append(got, s.Input)
	}
	for name := range files {
		want = append(want, filepath.Join(in, name))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("report names %q, want the exact names %q", got, want)
	}

	t.Run("the error that stops a run", func(t *testing.T) {
		code, stderr := runDesens(t, env, "run", filepath.Join(in, "gone\n\x1b[2J.jpg"), out)
		t.Logf("exit %d: %s", code, stderr)
		if code != exitFailures {
			t.Errorf("exit %d, want %d", code, exitFailures)
		}
		noRawControls(t, stderr)
		if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
			t.Errorf("%d lines on stderr, want 1", lines)
		}
		if !strings.Contains(stderr, `gone\n\x1b[2J.jpg`) {
			t.Errorf("stderr does not name the input escaped")
		}
	})
}

// noRawControls fails if s holds a control character other than the
// newlines that end its lines.
func noRawControls(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f {
			t.Errorf("stderr holds %q raw", r)
		}
	}
}
