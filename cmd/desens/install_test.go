package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bareEnv is a user's environment with nothing pointing at onnxruntime.
func bareEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"}
}

// runDesensIn runs exe from the folder dir and returns its exit status,
// stdout and stderr.
func runDesensIn(t *testing.T, exe, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("%s %s: %v", exe, strings.Join(args, " "), err)
	return 0, "", ""
}

// place puts a copy of src at dst (a hard link where it can: the files are
// tens of megabytes), creating dst's folder.
func place(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Link(src, dst) == nil {
		return
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// tempDir is a fresh folder with symlinks resolved, as desens reports paths.
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestInstalledLibrary lays desens out as `make install` does and runs it
// from elsewhere, with no DESENS_ORT_LIB: it finds the library in
// ../lib/desens/.
func TestInstalledLibrary(t *testing.T) {
	lib := os.Getenv("DESENS_ORT_LIB")
	if lib == "" {
		t.Skip("DESENS_ORT_LIB is not set (run scripts/setup.sh and point it at libonnxruntime.so)")
	}
	prefix := tempDir(t)
	exe := filepath.Join(prefix, "bin", "desens")
	place(t, bin, exe, 0o755)
	place(t, lib, filepath.Join(prefix, "lib", "desens", "libonnxruntime.so"), 0o644)

	code, stdout, stderr := runDesensIn(t, exe, tempDir(t), bareEnv(t), "version")
	if code != 0 {
		t.Fatalf("desens version: exit %d\n%s%s", code, stdout, stderr)
	}
	want := "onnxruntime 1.24"
	wantLib := "(" + filepath.Join(prefix, "lib", "desens", "libonnxruntime.so") + ")"
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, wantLib) {
		t.Errorf("desens version does not say %q %s:\n%s", want, wantLib, stdout)
	}
}

// TestNoLibrary runs a lone desens where no onnxruntime can be reached: the
// run fails with exit status 1 and says where it looked and how to fix it.
func TestNoLibrary(t *testing.T) {
	exeDir, wd := tempDir(t), tempDir(t)
	exe := filepath.Join(exeDir, "desens")
	place(t, bin, exe, 0o755)
	env := bareEnv(t)
	if _, stdout, _ := runDesensIn(t, exe, wd, env, "version"); !strings.Contains(stdout, "onnxruntime: not loaded") {
		t.Skipf("onnxruntime is reachable without desens's help (system library paths?):\n%s", stdout)
	}
	photo, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runDesensIn(t, exe, wd, env, "run", photo, filepath.Join(wd, "out"))
	t.Logf("exit %d: %s", code, stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	for _, s := range []string{
		"onnxruntime shared library not available",
		filepath.Join(exeDir, "libonnxruntime.so"),
		filepath.Join(filepath.Dir(exeDir), "lib", "desens", "libonnxruntime.so"),
		filepath.Join(exeDir, ".cache", "ort", "libonnxruntime.so"),
		filepath.Join(wd, ".cache", "ort", "libonnxruntime.so"),
		"system library paths",
		"make install",
		"DESENS_ORT_LIB",
	} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q", s)
		}
	}
}
