package desens

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// TestRunDirectory runs over a tree with good, bad and foreign files: the
// good ones land at the same relative paths, the bad one is reported, the
// foreign one is neither copied nor counted, and nothing stops early.
func TestRunDirectory(t *testing.T) {
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	jpg := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))
	data, err := os.ReadFile(jpg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a/b/cam1.jpg", "top.jpg"} {
		os.MkdirAll(filepath.Join(in, filepath.Dir(p)), 0o755)
		writeFile(t, filepath.Join(in, p), data)
	}
	os.MkdirAll(filepath.Join(in, "v"), 0o755)
	clip := makeFaceVideo(t, t.TempDir(), 8)
	vdata, _ := os.ReadFile(clip)
	writeFile(t, filepath.Join(in, "v", "clip.mov"), vdata)
	writeFile(t, filepath.Join(in, "a", "broken.jpg"), data[:len(data)/3])
	writeFile(t, filepath.Join(in, "a", "notes.txt"), []byte("gps: 31.23,121.47"))

	d := newTestDesensitizer(t, Options{Workers: 2})
	var heard []string
	rep, err := d.Run(t.Context(), in, out, func(f FileReport) { heard = append(heard, f.Input) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Files != 4 || rep.Summary.OK != 3 || rep.Summary.Failed != 1 {
		t.Fatalf("summary %+v, want 4 files, 3 ok, 1 failed", rep.Summary)
	}
	if rep.Done() {
		t.Error("75% success counted as done; the gate is 95%")
	}
	if len(heard) != 4 {
		t.Errorf("callback heard %d files, want 4", len(heard))
	}
	var got []string
	filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(out, p)
			got = append(got, rel)
		}
		return nil
	})
	sort.Strings(got)
	want := []string{"a/b/cam1.jpg", "top.jpg", "v/clip.mp4"}
	if len(got) != len(want) {
		t.Fatalf("outputs %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("outputs %v, want %v", got, want)
		}
	}
	for _, f := range rep.Files {
		if f.Input == filepath.Join(in, "a", "broken.jpg") && (f.OK || f.Error == "") {
			t.Errorf("broken file reported as %+v", f)
		}
	}
}

func TestRunRefusesOutputInsideInput(t *testing.T) {
	in := t.TempDir()
	d := newTestDesensitizer(t, Options{})
	if _, err := d.Run(t.Context(), in, filepath.Join(in, "out"), nil); err == nil {
		t.Fatal("output inside input accepted: a second run would desensitize its own outputs")
	}
}

func TestExistingOutputIsKept(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jpg")
	data, _ := os.ReadFile(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")))
	writeFile(t, in, data)
	out := writeFile(t, filepath.Join(dir, "out.jpg"), []byte("precious"))
	d := newTestDesensitizer(t, Options{})
	if rep := d.ProcessFile(t.Context(), in, out); rep.OK {
		t.Fatal("overwrote an existing output without Overwrite")
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Fatal("existing output changed")
	}
}
