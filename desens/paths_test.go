package desens

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

func mustLink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

// sourceTree lays out dir/data, the sources of a run: x.jpg and sub/y.jpg,
// plus any extra names, all holding jpg.
func sourceTree(t *testing.T, dir string, jpg []byte, extra ...string) {
	t.Helper()
	for _, rel := range append([]string{"x.jpg", "sub/y.jpg"}, extra...) {
		p := filepath.Join(dir, "data", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, jpg)
	}
}

// sourcesIntact checks that dir/data holds exactly the files sourceTree
// made, unchanged: nothing replaced, nothing written among them.
func sourcesIntact(t *testing.T, dir string, jpg []byte, extra ...string) {
	t.Helper()
	want := append([]string{"x.jpg", "sub/y.jpg"}, extra...)
	var got []string
	data := filepath.Join(dir, "data")
	err := filepath.WalkDir(data, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(data, p)
		got = append(got, filepath.ToSlash(rel))
		if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, jpg) {
			t.Errorf("source %s changed (%v)", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("input holds %v, want only the sources %v", got, want)
	}
}

// TestRunRefusesSourcesByAnyName: an output that leads to a source through
// a symbolic link, a relative path, a file:// URL or a hard link is
// refused before anything is written, naming both sides; with the input
// inside the output, or a hard link in the output tree, the file that
// would replace a source fails and the others go ahead.
func TestRunRefusesSourcesByAnyName(t *testing.T) {
	jpg := mustRead(t, testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")))
	for _, tc := range []struct {
		name  string
		extra []string // more sources under data/
		// setup makes links in dir and returns the run's input and output.
		setup  func(t *testing.T, dir string) (in, out string)
		says   string // in the run's error, or in the failed file's
		failed int    // files failed; 0: the run is refused
	}{
		{"output through a symlinked input file", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, filepath.Join("data", "x.jpg"), filepath.Join(dir, "link.jpg"))
			return filepath.Join(dir, "link.jpg"), filepath.Join(dir, "data", "x.jpg")
		}, "is the input", 0},
		{"output a symbolic link to the input file", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, filepath.Join("data", "x.jpg"), filepath.Join(dir, "link.jpg"))
			return filepath.Join(dir, "data", "x.jpg"), filepath.Join(dir, "link.jpg")
		}, "is the input", 0},
		{"output folder inside a symlinked input folder", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, "data", filepath.Join(dir, "lnk"))
			return filepath.Join(dir, "lnk"), filepath.Join(dir, "data", "out")
		}, "is inside input", 0},
		{"output folder inside the input folder through a link", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, "data", filepath.Join(dir, "lnk"))
			return filepath.Join(dir, "data"), filepath.Join(dir, "lnk", "out")
		}, "is inside input", 0},
		{"output folder a link to the input folder", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, "data", filepath.Join(dir, "lnk"))
			return filepath.Join(dir, "data"), filepath.Join(dir, "lnk")
		}, "is inside input", 0},
		{"relative output from a working directory reached through a link", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, "data", filepath.Join(dir, "lnk"))
			t.Chdir(filepath.Join(dir, "lnk")) // Getwd then gives the link's name
			return filepath.Join(dir, "data", "x.jpg"), "x.jpg"
		}, "is the input", 0},
		{"absolute output that climbs out of a link", nil, func(t *testing.T, dir string) (string, string) {
			os.Mkdir(filepath.Join(dir, "deep"), 0o755)
			mustLink(t, filepath.Join("..", "data", "sub"), filepath.Join(dir, "deep", "lnk"))
			// The kernel reads lnk/.. as data; the text reads it as deep.
			return filepath.Join(dir, "data", "x.jpg"), dir + "/deep/lnk/../x.jpg"
		}, "is the input", 0},
		{"file:// input through a link", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, filepath.Join("data", "x.jpg"), filepath.Join(dir, "link.jpg"))
			return "file://" + filepath.ToSlash(dir) + "/link.jpg", filepath.Join(dir, "data", "x.jpg")
		}, "is the input", 0},
		{"file:// folders, the output a link to the input", nil, func(t *testing.T, dir string) (string, string) {
			mustLink(t, "data", filepath.Join(dir, "lnk"))
			return "file://" + filepath.ToSlash(dir) + "/data", "file://" + filepath.ToSlash(dir) + "/lnk/"
		}, "is inside input", 0},
		{"output a hard link to the input file", nil, func(t *testing.T, dir string) (string, string) {
			if err := os.Link(filepath.Join(dir, "data", "x.jpg"), filepath.Join(dir, "hard.jpg")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "data", "x.jpg"), filepath.Join(dir, "hard.jpg")
		}, "is the input", 0},
		{"a hard link to a source in the output tree", nil, func(t *testing.T, dir string) (string, string) {
			os.Mkdir(filepath.Join(dir, "out"), 0o755)
			if err := os.Link(filepath.Join(dir, "data", "x.jpg"), filepath.Join(dir, "out", "x.jpg")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "data"), filepath.Join(dir, "out")
		}, "is the input", 1},
		{"the input inside the output folder", []string{"data/x.jpg"}, func(t *testing.T, dir string) (string, string) {
			// data/data/x.jpg would go to data/x.jpg.
			return filepath.Join(dir, "data"), dir
		}, "would be inside input", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sourceTree(t, dir, jpg, tc.extra...)
			in, out := tc.setup(t, dir)
			d := newBareDesensitizer(t, nil, Options{Overwrite: true})
			rep, err := d.Run(t.Context(), in, out, nil)
			var msg string
			switch {
			case tc.failed == 0:
				if err == nil {
					t.Fatalf("run started: %+v", rep.Files)
				}
				msg = err.Error()
				if !errors.Is(err, ErrSourceOverwrite) {
					t.Errorf("error %v is not ErrSourceOverwrite", err)
				}
				for _, name := range []string{in, out} {
					if !strings.Contains(msg, name) {
						t.Errorf("error %q does not name %s", msg, name)
					}
				}
			case err != nil:
				t.Fatalf("run refused: %v", err)
			default:
				if rep.Summary.Failed != tc.failed || rep.Summary.OK != rep.Summary.Files-tc.failed {
					t.Errorf("summary %+v, want %d failed and the rest ok", rep.Summary, tc.failed)
				}
				for _, f := range rep.Files {
					if !f.OK {
						msg += f.Error + "\n"
						if !errors.Is(f.Err(), ErrSourceOverwrite) {
							t.Errorf("file error %v is not ErrSourceOverwrite", f.Err())
						}
					}
				}
			}
			t.Logf("%s", msg)
			if !strings.Contains(msg, tc.says) {
				t.Errorf("%q does not say %q", msg, tc.says)
			}
			sourcesIntact(t, dir, jpg, tc.extra...)
		})
	}
}

func TestResolvePath(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	writeFile(t, filepath.Join(dir, "a", "f.jpg"), nil)
	mustLink(t, filepath.Join("a", "b"), filepath.Join(dir, "lb"))
	mustLink(t, "missing", filepath.Join(dir, "dangling"))
	t.Chdir(dir)
	for _, tc := range []struct{ in, want, existing string }{
		{"a/f.jpg", dir + "/a/f.jpg", dir + "/a/f.jpg"},
		{dir + "/a/new/deeper.jpg", dir + "/a/new/deeper.jpg", dir + "/a"},
		{"lb/x.jpg", dir + "/a/b/x.jpg", dir + "/a/b"},
		{"lb/../f.jpg", dir + "/a/f.jpg", dir + "/a/f.jpg"}, // the link first, then ".."
		{"lb/", dir + "/a/b", dir + "/a/b"},
		{"dangling", dir + "/dangling", dir},
		{"a/f.jpg/x", dir + "/a/f.jpg/x", dir + "/a"}, // a file holds nothing
	} {
		got, existing, err := resolvePath(tc.in)
		if err != nil || got != tc.want || existing != tc.existing {
			t.Errorf("resolvePath(%q) = %q, %q, %v; want %q, %q", tc.in, got, existing, err, tc.want, tc.existing)
		}
	}
}
