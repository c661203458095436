package eval

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/desens/detect"
)

func TestLoadLabelsErrors(t *testing.T) {
	tests := []struct {
		name     string
		contents string // "" means no labels.json at all
		want     string // in the error, besides the file name
		bad      bool   // errors.Is(err, ErrBadLabels)
	}{
		{name: "a missing labels.json", want: "no such file"},
		{name: "bad JSON", contents: `{"version": 1, "images": [`, want: "unexpected end of JSON", bad: true},
		{name: "a box that is not four numbers", contents: `{"version": 1, "images": [{"file": "a.jpg", "objects": [{"class": "face", "box": "10,10,5,5"}]}]}`, want: "cannot unmarshal", bad: true},
		{name: "another version", contents: `{"version": 2, "images": []}`, want: "version 2, want 1", bad: true},
		{name: "no version", contents: `{"images": []}`, want: "version 0, want 1", bad: true},
		{name: "an image without a file name", contents: `{"version": 1, "images": [{"objects": []}]}`, want: "image 0 has no file name", bad: true},
		{name: "an image listed twice", contents: `{"version": 1, "images": [{"file": "a.jpg"}, {"file": "a.jpg"}]}`, want: "a.jpg listed twice", bad: true},
		{name: "an object without a class", contents: `{"version": 1, "images": [{"file": "a.jpg", "objects": [{"box": [1, 2, 3, 4]}]}]}`, want: "has no class", bad: true},
		{name: "a box of no area", contents: `{"version": 1, "images": [{"file": "a.jpg", "objects": [{"class": "face", "box": [10, 10, 0, 5]}]}]}`, want: "a.jpg: face box: [10 10 0 5] has no area", bad: true},
		{name: "a box outside the image", contents: `{"version": 1, "images": [{"file": "a.jpg", "width": 100, "height": 100, "objects": [{"class": "face", "box": [200, 10, 20, 20]}]}]}`, want: "outside the 100x100 image", bad: true},
		{name: "an empty ignore region", contents: `{"version": 1, "images": [{"file": "a.jpg", "ignore": [[0, 0, 5, -1]]}]}`, want: "ignore box", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, LabelsFile)
			if tc.contents != "" {
				if err := os.WriteFile(path, []byte(tc.contents), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadLabels(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s and say %q", err, path, tc.want)
			}
			if errors.Is(err, ErrBadLabels) != tc.bad {
				t.Errorf("errors.Is(err, ErrBadLabels) = %v, want %v", !tc.bad, tc.bad)
			}
			if tc.contents == "" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %q does not wrap fs.ErrNotExist", err)
			}
		})
	}
}

func TestLoadLabels(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(t.TempDir(), "b.jpg")
	if err := os.WriteFile(elsewhere, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	labels := `{"version": 1, "images": [
  {"file": "a.jpg", "width": 640, "height": 480,
   "objects": [{"class": "face", "box": [10, 20, 30.4, 40.6]}], "ignore": [[0, 0, 50, 50]]},
  {"file": "b.jpg", "source": "` + elsewhere + `", "objects": []},
  {"file": "c.jpg", "source": "relative/c.jpg"}]}`
	if err := os.WriteFile(filepath.Join(dir, LabelsFile), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := LoadLabels(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Images) != 3 || l.Dir != dir {
		t.Fatalf("loaded %d images from %q, want 3 from %q", len(l.Images), l.Dir, dir)
	}
	a := l.Images[0]
	if len(a.Objects) != 1 || a.Objects[0].Class != detect.Face || len(a.Ignore) != 1 {
		t.Errorf("a.jpg: %+v", a)
	}
	if r := a.Objects[0].Box.Rect(); r.Min.X != 10 || r.Min.Y != 20 || r.Max.X != 40 || r.Max.Y != 61 {
		t.Errorf("box [10 20 30.4 40.6] is %v, want (10,20)-(40,61)", r)
	}

	paths := []struct {
		name string
		im   Image
		want string
	}{
		{"no source: DIR/file", l.Images[0], filepath.Join(dir, "a.jpg")},
		{"an absolute source that exists is read instead of DIR/file", l.Images[1], elsewhere},
		{"a relative source is not a path to read", l.Images[2], filepath.Join(dir, "c.jpg")},
	}
	for _, tc := range paths {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.Path(tc.im); got != tc.want {
				t.Errorf("Path = %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("DIR/file stands in for a source that does not exist", func(t *testing.T) {
		im := Image{File: "d.jpg", Source: filepath.Join(dir, "nowhere", "d.jpg")}
		if got := l.Path(im); got != filepath.Join(dir, "d.jpg") {
			t.Errorf("Path = %s, want DIR/d.jpg", got)
		}
	})
}
