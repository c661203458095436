// Package testenv gives tests the real parts they need (onnxruntime, ffmpeg,
// sample media) and decides what happens when one is missing: a local run
// skips, a CI run (CI=true) fails, so CI can never pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/desens/desens/internal/onnx"
)

// CI reports whether the tests run in CI, as CI services say with CI=true.
// Only an unset, empty or false (0, false) CI is a local run: a value that
// is not a boolean counts as CI, so a typo cannot turn failures into skips.
func CI() bool {
	v := os.Getenv("CI")
	if v == "" {
		return false
	}
	ci, err := strconv.ParseBool(v)
	return err != nil || ci
}

// Missing skips the test locally and fails it in CI: every helper here that
// finds a tool, library or file absent goes through it, and so must a test's
// own check for one.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if CI() {
		t.Fatalf("%s missing in CI (run scripts/setup.sh --test): %v", what, err)
	}
	t.Skipf("%s missing (run scripts/setup.sh): %v", what, err)
}

// ORT opens the onnxruntime environment for the test's lifetime.
func ORT(t testing.TB) *onnx.Runtime {
	t.Helper()
	rt, err := onnx.Open("")
	if err != nil {
		Missing(t, "onnxruntime", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// FFmpeg checks that ffmpeg and ffprobe are installed.
func FFmpeg(t testing.TB) {
	t.Helper()
	for _, p := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(p); err != nil {
			Missing(t, p, err)
		}
	}
}

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// File returns a file from a Debian package (e.g. opencv-doc's sample
// photos), skipping or failing if it is absent.
func File(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, path, err)
	}
	return path
}

// OpenCVData is where opencv-doc keeps its sample media.
const OpenCVData = "/usr/share/doc/opencv-doc/examples/data"

// CheckMats runs a package's tests and then fails if any gocv Mat was left
// open (with -tags matprofile). Use from TestMain.
func CheckMats(m interface{ Run() int }) int {
	code := m.Run()
	if n, where := LiveMats(); n > 0 {
		os.Stderr.WriteString("gocv Mat leak: " + strconv.Itoa(n) + " Mats still open\n" + where)
		if code == 0 {
			code = 1
		}
	}
	return code
}
