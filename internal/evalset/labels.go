package evalset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

// LabelVersion is the version written into labels.json.
const LabelVersion = 1

// Box is an integer pixel rectangle [x, y, w, h], x,y = top-left.
type Box [4]int

// X0 .. Y1 are the box edges (Y1/X1 exclusive).
func (b Box) X0() int { return b[0] }
func (b Box) Y0() int { return b[1] }
func (b Box) X1() int { return b[0] + b[2] }
func (b Box) Y1() int { return b[1] + b[3] }

// Empty reports whether the box has no area.
func (b Box) Empty() bool { return b[2] <= 0 || b[3] <= 0 }

// Intersect returns the intersection of two boxes (possibly empty).
func (b Box) Intersect(o Box) Box {
	x0, y0 := max(b.X0(), o.X0()), max(b.Y0(), o.Y0())
	x1, y1 := min(b.X1(), o.X1()), min(b.Y1(), o.Y1())
	if x1 <= x0 || y1 <= y0 {
		return Box{}
	}
	return Box{x0, y0, x1 - x0, y1 - y0}
}

// Overlaps reports whether two boxes share any pixel.
func (b Box) Overlaps(o Box) bool { return !b.Intersect(o).Empty() }

// Inside reports whether b lies fully inside a w x h image.
func (b Box) Inside(w, h int) bool {
	return b[0] >= 0 && b[1] >= 0 && b[2] > 0 && b[3] > 0 && b.X1() <= w && b.Y1() <= h
}

// Object is one labelled object. Classes: "face" (this package), later
// also "plate" and "overlay".
type Object struct {
	Class string `json:"class"`
	Box   Box    `json:"box"`
}

// Image is one labelled image. File is relative to the labels.json
// directory.
//
// Source is set for real photos used as-is: the installed path of the file
// (readers use it instead of File when it is an absolute path that exists)
// or, for optional packages, the path inside the package. Origin is set for
// derived images (crops) and names the photo they were cut from; readers
// must not open it in place of File. Package and License say where the
// pixels come from.
type Image struct {
	File    string   `json:"file"`
	Width   int      `json:"width"`
	Height  int      `json:"height"`
	Objects []Object `json:"objects"`
	Ignore  []Box    `json:"ignore"`
	Source  string   `json:"source,omitempty"`
	Origin  string   `json:"origin,omitempty"`
	Package string   `json:"package,omitempty"`
	License string   `json:"license,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Set is the content of a labels.json.
type Set struct {
	Version int     `json:"version"`
	Images  []Image `json:"images"`
}

// Marshal encodes the set as indented JSON with a trailing newline.
// Nil slices are written as [] so readers never see null.
func (s *Set) Marshal() ([]byte, error) {
	c := *s
	if c.Images == nil {
		c.Images = []Image{}
	}
	imgs := make([]Image, len(c.Images))
	for i, im := range c.Images {
		if im.Objects == nil {
			im.Objects = []Object{}
		}
		if im.Ignore == nil {
			im.Ignore = []Box{}
		}
		imgs[i] = im
	}
	c.Images = imgs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return nil, err
	}
	// one box per line: [x, y, w, h]
	return boxRE.ReplaceAll(buf.Bytes(), []byte("[$1, $2, $3, $4]")), nil
}

var boxRE = regexp.MustCompile(`\[\s*(-?\d+),\s*(-?\d+),\s*(-?\d+),\s*(-?\d+)\s*\]`)

// WriteFile writes the set to path.
func (s *Set) WriteFile(path string) error {
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadSet reads and validates a labels.json.
func ReadSet(path string) (*Set, error) {
	var s Set
	if err := readValid(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// readValid decodes the JSON file at path into v and validates it; errors
// after the read name the file.
func readValid(path string, v interface{ Validate() error }) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := v.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Validate checks version, sizes, and that every box lies inside its image.
func (s *Set) Validate() error {
	if s.Version != LabelVersion {
		return fmt.Errorf("labels version %d, want %d", s.Version, LabelVersion)
	}
	seen := map[string]bool{}
	for _, im := range s.Images {
		if im.File == "" {
			return fmt.Errorf("image with empty file name")
		}
		if seen[im.File] {
			return fmt.Errorf("duplicate file %q", im.File)
		}
		seen[im.File] = true
		if im.Width <= 0 || im.Height <= 0 {
			return fmt.Errorf("%s: bad size %dx%d", im.File, im.Width, im.Height)
		}
		for _, o := range im.Objects {
			if o.Class == "" {
				return fmt.Errorf("%s: object without class", im.File)
			}
			if !o.Box.Inside(im.Width, im.Height) {
				return fmt.Errorf("%s: %s box %v outside %dx%d", im.File, o.Class, o.Box, im.Width, im.Height)
			}
		}
		for _, b := range im.Ignore {
			if !b.Inside(im.Width, im.Height) {
				return fmt.Errorf("%s: ignore box %v outside %dx%d", im.File, b, im.Width, im.Height)
			}
		}
	}
	return nil
}
