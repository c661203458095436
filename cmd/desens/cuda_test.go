package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/internal/onnx"
)

// TestDeviceCUDAUnavailable: where CUDA cannot run (CI: no CUDA provider
// beside the CPU onnxruntime, no driver, no GPU), --device cuda fails the
// file (exit 1) with one line that says what is missing and how to fix it,
// and writes nothing: no crash and no quiet fall-back to the CPU. It runs
// on the CPU onnxruntime (DESENS_ORT_LIB) and, where `make gpu` has fetched
// it, on onnxruntime 1.29 with its CUDA provider beside it.
func TestDeviceCUDAUnavailable(t *testing.T) {
	cpuLib := os.Getenv("DESENS_ORT_LIB")
	if cpuLib == "" {
		t.Skip("DESENS_ORT_LIB is not set (run scripts/setup.sh and point it at libonnxruntime.so)")
	}
	gpuLib, err := filepath.Abs(filepath.Join("..", "..", ".cache", "ort-gpu", "libonnxruntime.so"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, lib string }{
		{"cpu onnxruntime", cpuLib},
		{"onnxruntime with the CUDA provider", gpuLib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.lib); err != nil {
				t.Skipf("%v (run `make gpu` for the CUDA provider)", err)
			}
			if onnx.CheckCUDA(tc.lib, onnx.Host{Root: "/"}) == nil {
				t.Skip("this machine has the CUDA provider, a driver and a GPU")
			}
			env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
				"DESENS_ORT_LIB=" + tc.lib}
			in := filepath.Join("..", "..", "testdata", "sample", "photo.jpg")
			out := filepath.Join(t.TempDir(), "photo.jpg")
			code, stderr := runDesens(t, env, "run", "-q", "--device", "cuda", in, out)
			if code != exitFailures {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitFailures, stderr)
			}
			msg := strings.TrimSpace(stderr)
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "--device cuda unavailable") || !strings.Contains(msg, "--device cpu") {
				t.Errorf("want one line naming what is missing and the way out, got:\n%s", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s written (or unreadable: %v)", out, err)
			}
		})
	}
}
