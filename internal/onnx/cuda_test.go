package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckCUDA lays out hosts that lack one thing each and checks that
// CheckCUDA names it in one line that wraps ErrNoCUDA.
func TestCheckCUDA(t *testing.T) {
	touch := func(t *testing.T, p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		provider bool
		driver   bool
		gpu      bool
		bareLib  bool
		want     string // "" for no error
	}{
		{"no provider", false, true, true, false, "no CUDA provider"},
		{"system library", true, true, true, true, "system library paths"},
		{"no driver", true, false, false, false, "no NVIDIA driver"},
		{"no gpu", true, true, false, false, "shows no GPU"},
		{"all there", true, true, true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			lib := filepath.Join(root, "ort", libName)
			touch(t, lib)
			if tc.provider {
				touch(t, filepath.Join(root, "ort", cudaProvider))
			}
			if tc.driver {
				touch(t, filepath.Join(root, "proc/driver/nvidia/version"))
			}
			if tc.gpu {
				touch(t, filepath.Join(root, "dev/nvidia0"))
			}
			if tc.bareLib {
				lib = libName
			}
			err := CheckCUDA(lib, Host{Root: root})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("want one line wrapping ErrNoCUDA naming %q, got %v", tc.want, err)
			}
		})
	}
}

// TestCUDAError: onnxruntime's multi-line failures become one line that
// says what to do.
func TestCUDAError(t *testing.T) {
	for _, tc := range []struct{ ort, want string }{
		{"CUDA execution provider is not enabled in this build.", "make gpu"},
		{"Failed to load library x.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory\nstack", "LD_LIBRARY_PATH"},
		{"some failure\nat file.cc:12", "some failure"},
	} {
		err := cudaError("/x/libonnxruntime.so", errors.New(tc.ort))
		if !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: want one line wrapping ErrNoCUDA naming %q, got %v", tc.ort, tc.want, err)
		}
	}
}
