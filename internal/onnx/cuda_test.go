package onnx

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
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

// TestOptionsLayout: the CUDA plug-in route reads the C session options
// out of onnxruntime_go's SessionOptions, which must still be one pointer
// field; any other shape is refused.
func TestOptionsLayout(t *testing.T) {
	if err := optionsLayout(reflect.TypeFor[ort.SessionOptions]()); err != nil {
		t.Fatalf("onnxruntime_go changed: %v", err)
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[struct {
			o *int
			n int
		}](),
		reflect.TypeFor[struct{ p *int }](),
		reflect.TypeFor[struct{ o uintptr }](),
		reflect.TypeFor[*int](),
	} {
		if optionsLayout(typ) == nil {
			t.Errorf("%v accepted", typ)
		}
	}
}

// TestAPIIndices compiles a C program against the onnxruntime_c_api.h that
// onnxruntime_go ships and checks that each function the shim calls sits
// where the shim looks for it in OrtApi.
func TestAPIIndices(t *testing.T) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler: %v", err)
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yalue/onnxruntime_go").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	hdr := strings.TrimSpace(string(out))
	idx := apiIndices()
	names := slices.Sorted(maps.Keys(idx))
	var src strings.Builder
	src.WriteString("#include <stdio.h>\n#include <stddef.h>\n#include \"onnxruntime_c_api.h\"\nint main(void) {\n")
	for _, n := range names {
		fmt.Fprintf(&src, "\tprintf(\"%s %%zu\\n\", offsetof(OrtApi, %s) / sizeof(void *));\n", n, n)
	}
	src.WriteString("\treturn 0;\n}\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "idx.c"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "idx")
	if out, err := exec.Command(cc, "-I"+hdr, "-o", exe, filepath.Join(dir, "idx.c")).CombinedOutput(); err != nil {
		t.Fatalf("compile against %s: %v\n%s", hdr, err, out)
	}
	out, err = exec.Command(exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var n string
		var i int
		if _, err := fmt.Sscan(line, &n, &i); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got[n] = i
	}
	for _, n := range names {
		if got[n] != idx[n] {
			t.Errorf("%s: the shim uses position %d, the header says %d", n, idx[n], got[n])
		}
	}
}
