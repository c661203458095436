package desens

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// TestRunTreeLinks: in a local tree, links to regular files are followed
// and their targets desensitized under the link's name; links to
// directories, links that lead nowhere or in a loop, and pipes are listed
// as skipped. The input may itself be a link to the tree.
func TestRunTreeLinks(t *testing.T) {
	jpg := mustRead(t, testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")))
	dir := t.TempDir()
	tree, outside := filepath.Join(dir, "tree"), filepath.Join(dir, "outside")
	for _, d := range []string{tree, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(tree, "x.jpg"), jpg)
	writeFile(t, filepath.Join(outside, "o.jpg"), jpg)
	mustLink(t, filepath.Join("..", "outside", "o.jpg"), filepath.Join(tree, "linked.jpg"))
	mustLink(t, filepath.Join("..", "outside"), filepath.Join(tree, "dirlink"))
	mustLink(t, "..", filepath.Join(tree, "up")) // would loop
	mustLink(t, "nowhere.jpg", filepath.Join(tree, "broken.jpg"))
	mustLink(t, "loop.jpg", filepath.Join(tree, "loop.jpg"))
	if err := syscall.Mkfifo(filepath.Join(tree, "pipe.jpg"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustLink(t, "tree", filepath.Join(dir, "treelink"))

	wantSkipped := []Skipped{
		{Input: "broken.jpg", Reason: skipBrokenLink},
		{Input: "dirlink", Reason: skipDirLink},
		{Input: "loop.jpg", Reason: skipBrokenLink},
		{Input: "pipe.jpg", Reason: skipNotFile},
		{Input: "up", Reason: skipDirLink},
	}
	for _, in := range []string{tree, filepath.Join(dir, "treelink")} {
		t.Run(filepath.Base(in), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			d := newBareDesensitizer(t, nil, Options{})
			rep, err := d.Run(t.Context(), in, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			var done []string
			for _, f := range rep.Files {
				if !f.OK {
					t.Errorf("%s failed: %s", f.Input, f.Error)
				}
				rel, _ := filepath.Rel(in, f.Input)
				done = append(done, rel)
			}
			if want := []string{"linked.jpg", "x.jpg"}; !slices.Equal(done, want) {
				t.Errorf("desensitized %v, want %v", done, want)
			}
			for _, name := range []string{"linked.jpg", "x.jpg"} {
				st, err := os.Lstat(filepath.Join(out, name))
				if err != nil || !st.Mode().IsRegular() {
					t.Errorf("output %s: %v, want a regular file", name, err)
				}
			}
			var skipped []Skipped
			for _, s := range rep.Skipped {
				rel, _ := filepath.Rel(in, s.Input)
				skipped = append(skipped, Skipped{Input: rel, Reason: s.Reason})
			}
			if !slices.Equal(skipped, wantSkipped) {
				t.Errorf("skipped %v, want %v", skipped, wantSkipped)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(outside, "o.jpg")); err != nil || !bytes.Equal(b, jpg) {
		t.Errorf("link target changed (%v)", err)
	}
}
