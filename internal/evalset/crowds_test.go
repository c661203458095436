package evalset

import (
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// crowdLabels is the committed labels directory of the crowd photos.
var crowdLabels = filepath.Join("..", "..", "testdata", "eval", "crowds")

// TestCommittedCrowdLabels: the crowd labels read, keep their provenance
// and give every face at least the size the set is for.
func TestCommittedCrowdLabels(t *testing.T) {
	set, err := ReadSet(filepath.Join(crowdLabels, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Images) == 0 {
		t.Fatal("no images")
	}
	for _, im := range set.Images {
		if im.License == "" || im.Package == "" || im.Source == "" {
			t.Errorf("%s: licence, package or source missing", im.File)
		}
		if filepath.IsAbs(im.Source) {
			t.Errorf("%s: source %q is absolute; the photo is read from the set's folder", im.File, im.Source)
		}
		if len(im.Objects) == 0 {
			t.Errorf("%s: no faces", im.File)
		}
		for _, o := range im.Objects {
			if o.Class != "face" || o.Box[3] < 15 {
				t.Errorf("%s: %s box %v: want faces of 15 px or more", im.File, o.Class, o.Box)
			}
		}
	}
}

// TestCopyCrowds copies the real photos when ../shared is beside the
// repository (as in CI), and refuses a photo of another size.
func TestCopyCrowds(t *testing.T) {
	t.Run("shared", func(t *testing.T) {
		photos := testenv.File(t, filepath.Join(testenv.Root(), "..", "shared", "photos", "crowds"))
		out := filepath.Join(t.TempDir(), "crowds")
		set, err := CopyCrowds(crowdLabels, photos, out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadSet(filepath.Join(out, "labels.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Images) != len(set.Images) {
			t.Fatalf("%d images written, %d labelled", len(got.Images), len(set.Images))
		}
		for _, im := range got.Images {
			if _, err := os.Stat(filepath.Join(out, im.File)); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("wrong size", func(t *testing.T) {
		dir := t.TempDir()
		labels := filepath.Join(dir, "labels")
		photos := filepath.Join(dir, "photos")
		for _, d := range []string{labels, photos} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		set := &Set{Version: LabelVersion, Images: []Image{{
			File: "a.jpg", Width: 64, Height: 48,
			Objects: []Object{{Class: "face", Box: Box{10, 10, 20, 20}}},
		}}}
		if err := set.WriteFile(filepath.Join(labels, "labels.json")); err != nil {
			t.Fatal(err)
		}
		writeJPEG(t, filepath.Join(photos, "a.jpg"), 32, 48)
		out := filepath.Join(dir, "out")
		_, err := CopyCrowds(labels, photos, out)
		if !errors.Is(err, ErrCrowdPhoto) || !strings.Contains(err.Error(), "a.jpg") {
			t.Fatalf("err = %v, want ErrCrowdPhoto naming a.jpg", err)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("out written despite the error: %v", err)
		}
	})
}

func writeJPEG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
