package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cacheUp is the .cache/ort/ candidate in dir and each of its parents.
func cacheUp(dir string) []string {
	var list []string
	for {
		list = append(list, filepath.Join(dir, ".cache", "ort", libName))
		parent := filepath.Dir(dir)
		if parent == dir {
			return list
		}
		dir = parent
	}
}

// uniq drops repeats, keeping first places.
func uniq(list []string) []string {
	var out []string
	for _, p := range list {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// layout is an installed prefix, a symlink to its binary elsewhere (as in
// ~/bin/desens -> /opt/desens/bin/desens) and a working directory.
type layout struct {
	root, exe, link, wd string
}

func newLayout(t *testing.T) layout {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := layout{
		root: root,
		exe:  filepath.Join(root, "prefix", "bin", "desens"),
		link: filepath.Join(root, "home", "bin", "desens"),
		wd:   filepath.Join(root, "work", "sub"),
	}
	touch(t, l.exe)
	if err := os.MkdirAll(filepath.Dir(l.link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(l.exe, l.link); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.wd, 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCandidatesOrder(t *testing.T) {
	l := newLayout(t)
	bin := filepath.Dir(l.exe)
	prefix := filepath.Dir(bin)
	beside := []string{filepath.Join(bin, libName), filepath.Join(prefix, "lib", "desens", libName)}
	for _, tc := range []struct {
		name                   string
		explicit, env, exe, wd string
		want                   []string
	}{
		{"every source, in order", "/x/flag.so", "/x/env.so", l.exe, l.wd,
			uniq(slices.Concat([]string{"/x/flag.so", "/x/env.so"}, beside, cacheUp(bin), cacheUp(l.wd)))},
		{"a symlinked executable looks beside its target", "", "", l.link, l.wd,
			uniq(slices.Concat(beside, cacheUp(bin), cacheUp(l.wd)))},
		{"the flag filled from the environment counts once", "/x/env.so", "/x/env.so", l.exe, l.wd,
			uniq(slices.Concat([]string{"/x/env.so"}, beside, cacheUp(bin), cacheUp(l.wd)))},
		{"relative paths are against the working directory", "lib/flag.so", "../env.so", "", l.wd,
			uniq(slices.Concat([]string{filepath.Join(l.wd, "lib", "flag.so"), filepath.Join(l.root, "work", "env.so")},
				cacheUp(l.wd)))},
		{"no executable", "", "", "", l.wd, cacheUp(l.wd)},
		{"no working directory", "", "", l.exe, "", uniq(slices.Concat(beside, cacheUp(bin)))},
		{"nothing to go on", "", "", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Candidates(tc.explicit, tc.env, tc.exe, tc.wd)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Candidates(%q, %q, %q, %q):\n got  %q\n want %q", tc.explicit, tc.env, tc.exe, tc.wd, got, tc.want)
			}
		})
	}
}

// TestFind puts library files in some of the places and checks which one
// wins.
func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string // relative to the layout's root
		exe   string   // "exe" or "link"
		want  string   // relative to the root; "" for none
	}{
		{"the flag wins", []string{"x/flag.so", "x/env.so", "prefix/lib/desens/" + libName}, "exe", "x/flag.so"},
		{"then the environment", []string{"x/env.so", "prefix/lib/desens/" + libName}, "exe", "x/env.so"},
		{"then the executable's folder", []string{"prefix/bin/" + libName, "prefix/lib/desens/" + libName}, "exe",
			"prefix/bin/" + libName},
		{"then lib/desens/ beside it", []string{"prefix/lib/desens/" + libName, "prefix/.cache/ort/" + libName}, "exe",
			"prefix/lib/desens/" + libName},
		{"lib/desens/ beside a symlink's target", []string{"prefix/lib/desens/" + libName, "home/lib/desens/" + libName},
			"link", "prefix/lib/desens/" + libName},
		{"then .cache/ort/ above the executable", []string{"prefix/.cache/ort/" + libName, "work/.cache/ort/" + libName},
			"exe", "prefix/.cache/ort/" + libName},
		{"then .cache/ort/ above the working directory", []string{"work/.cache/ort/" + libName}, "exe",
			"work/.cache/ort/" + libName},
		{"a folder by the name is not the library", []string{"prefix/bin/" + libName + "/x"}, "exe", ""},
		{"nothing anywhere", nil, "exe", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t)
			for _, f := range tc.files {
				touch(t, filepath.Join(l.root, f))
			}
			exe := l.exe
			if tc.exe == "link" {
				exe = l.link
			}
			got := find(Candidates(filepath.Join(l.root, "x", "flag.so"), filepath.Join(l.root, "x", "env.so"), exe, l.wd))
			want := ""
			if tc.want != "" {
				want = filepath.Join(l.root, tc.want)
			}
			if got != want {
				t.Errorf("found %q, want %q", got, want)
			}
		})
	}
}

func TestLoadError(t *testing.T) {
	dlerr := errors.New("libonnxruntime.so: cannot open shared object file")
	for _, tc := range []struct {
		name string
		lib  string
		says []string
	}{
		{"nothing found", libName, []string{"/a/" + libName, "/b/.cache/ort/" + libName, "system library paths",
			"cannot open shared object file", "make install", "scripts/setup.sh", "--ort-lib", "DESENS_ORT_LIB"}},
		{"found but broken", "/a/" + libName, []string{"loading /a/" + libName, "cannot open shared object file",
			"make install", "DESENS_ORT_LIB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := loadError(tc.lib, []string{"/a/" + libName, "/b/.cache/ort/" + libName}, dlerr)
			if !errors.Is(err, ErrNoLibrary) {
				t.Errorf("%v does not wrap ErrNoLibrary", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
		})
	}
}

// TestCheckGiven: a library the user names must exist; otherwise the error
// names it and where it came from.
func TestCheckGiven(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, libName)
	touch(t, lib)
	missing := filepath.Join(dir, "nope.so")
	for _, tc := range []struct {
		name, explicit, env string
		says                string // "" for no error
	}{
		{"nothing given", "", "", ""},
		{"a file given", lib, "", ""},
		{"the flag wins over the environment", lib, missing, ""},
		{"a missing flag", missing, lib, "--ort-lib " + missing},
		{"a missing environment value", "", missing, "DESENS_ORT_LIB " + missing},
		{"a folder", dir, "", "--ort-lib " + dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkGiven(tc.explicit, tc.env)
			if tc.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrNoLibrary) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("%v; want ErrNoLibrary saying %q", err, tc.says)
			}
		})
	}
}
