package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"

	"github.com/desens/desens/desens/detect"
)

// LabelsFile is the name of the labels file in an evaluation directory.
const LabelsFile = "labels.json"

// LabelsVersion is the label format this package reads.
const LabelsVersion = 1

// ErrBadLabels marks a labels file that cannot be used: bad JSON, an
// unknown version, or boxes that make no sense.
var ErrBadLabels = errors.New("bad labels")

// Box is a labelled rectangle as written in labels.json: [x, y, w, h] in
// pixels, x and y the top-left corner. Fractions are allowed and rounded.
type Box [4]float64

// Rect converts the box to pixel corners.
func (b Box) Rect() image.Rectangle {
	x0, y0 := math.Round(b[0]), math.Round(b[1])
	return image.Rect(int(x0), int(y0), int(math.Round(b[0]+b[2])), int(math.Round(b[1]+b[3])))
}

// BoxOf converts pixel corners to a Box.
func BoxOf(r image.Rectangle) Box {
	return Box{float64(r.Min.X), float64(r.Min.Y), float64(r.Dx()), float64(r.Dy())}
}

// Object is one labelled thing to be found.
type Object struct {
	Class detect.Class `json:"class"`
	Box   Box          `json:"box"`
	// Type is an optional sub-kind used to break results down, e.g. the
	// plate type (cn-blue, cn-green, eu, us; see testdata/README.md).
	Type string `json:"type,omitempty"`
}

// Image is the labels of one image.
type Image struct {
	File    string   `json:"file"`
	Width   int      `json:"width,omitempty"`
	Height  int      `json:"height,omitempty"`
	Objects []Object `json:"objects"`
	Ignore  []Box    `json:"ignore,omitempty"`
	// Source, when it is an absolute path that exists, is read instead of
	// DIR/File (photos installed elsewhere, never copied). Other values
	// (a package name, a URL) only say where the image came from.
	Source string `json:"source,omitempty"`
}

// Labels is one directory's labels.json.
type Labels struct {
	// Dir is the directory the labels were loaded from.
	Dir     string  `json:"-"`
	Version int     `json:"version"`
	Images  []Image `json:"images"`
}

// Path says which file holds an image: its source when that is an absolute
// path that exists, else DIR/file.
func (l *Labels) Path(im Image) string {
	if filepath.IsAbs(im.Source) {
		if _, err := os.Stat(im.Source); err == nil {
			return im.Source
		}
	}
	return filepath.Join(l.Dir, im.File)
}

// LoadLabels reads and checks dir/labels.json. Errors name the file.
func LoadLabels(dir string) (*Labels, error) {
	var l Labels
	if err := loadChecked(dir, LabelsFile, &l); err != nil {
		return nil, err
	}
	l.Dir = dir
	return &l, nil
}

// ParseLabels decodes and checks the contents of a labels.json.
func ParseLabels(data []byte) (*Labels, error) {
	var l Labels
	if err := decodeChecked(data, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// checked is a labels file's contents, which can say whether they are
// usable.
type checked interface{ validate() error }

// loadChecked reads dir/name into v and checks it; errors name the file.
func loadChecked(dir, name string, v checked) error {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	if err := decodeChecked(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// decodeChecked decodes a labels file's contents into v and checks them;
// either failure is ErrBadLabels.
func decodeChecked(data []byte, v checked) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadLabels, err)
	}
	if err := v.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadLabels, err)
	}
	return nil
}

func (l *Labels) validate() error {
	if l.Version != LabelsVersion {
		return fmt.Errorf("version %d, want %d", l.Version, LabelsVersion)
	}
	seen := map[string]bool{}
	for i, im := range l.Images {
		if im.File == "" {
			return fmt.Errorf("image %d has no file name", i)
		}
		if seen[im.File] {
			return fmt.Errorf("%s listed twice", im.File)
		}
		seen[im.File] = true
		if im.Width < 0 || im.Height < 0 {
			return fmt.Errorf("%s: size %dx%d", im.File, im.Width, im.Height)
		}
		for _, o := range im.Objects {
			if o.Class == "" {
				return fmt.Errorf("%s: object %v has no class", im.File, o.Box)
			}
			if err := checkBox(o.Box, im); err != nil {
				return fmt.Errorf("%s: %s box: %w", im.File, o.Class, err)
			}
		}
		for _, b := range im.Ignore {
			if err := checkBox(b, im); err != nil {
				return fmt.Errorf("%s: ignore box: %w", im.File, err)
			}
		}
	}
	return nil
}

// checkBox rejects empty boxes and boxes wholly outside a known image size.
// Boxes that stick out a little are allowed: they are clipped when matched.
func checkBox(b Box, im Image) error {
	for _, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%v is not a number", b)
		}
	}
	r := b.Rect()
	if b[2] <= 0 || b[3] <= 0 || r.Dx() <= 0 || r.Dy() <= 0 {
		return fmt.Errorf("%v has no area", b)
	}
	if im.Width > 0 && im.Height > 0 && r.Intersect(image.Rect(0, 0, im.Width, im.Height)).Empty() {
		return fmt.Errorf("%v lies outside the %dx%d image", b, im.Width, im.Height)
	}
	return nil
}
