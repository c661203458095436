package eval

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"

	"github.com/desens/desens/desens/detect"
)

// VideoLabelsFile is the name of the labels file in a directory of
// labelled clips.
const VideoLabelsFile = "videos.json"

// VideoLabels is one directory's videos.json: clips whose faces are
// labelled frame by frame (format in testdata/README.md).
type VideoLabels struct {
	// Dir is the directory the labels were loaded from.
	Dir     string  `json:"-"`
	Version int     `json:"version"`
	Videos  []Video `json:"videos"`
}

// Video is the labels of one clip, whose frames are numbered from 0.
type Video struct {
	File   string  `json:"file"`
	Width  int     `json:"width"`
	Height int     `json:"height"`
	FPS    int     `json:"fps"`
	Frames int     `json:"frames"`
	Tracks []Track `json:"tracks"`
}

// Track is one object followed through a clip: a box in each frame where
// it shows.
type Track struct {
	ID    int          `json:"id"`
	Class detect.Class `json:"class"`
	// Type, optional, is the kind of object within its class (for scene
	// text, the kind of sign); video evaluation reports scene text by it.
	Type  string     `json:"type,omitempty"`
	Boxes []TrackBox `json:"boxes"`
}

// TrackBox is a track's box in one frame: the visible part of the object,
// or, with Ignore, an object more than half hidden, which counts neither
// way.
type TrackBox struct {
	Frame  int  `json:"frame"`
	Box    Box  `json:"box"`
	Ignore bool `json:"ignore"`
}

// HasVideoLabels reports whether dir holds a videos.json.
func HasVideoLabels(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, VideoLabelsFile))
	return err == nil
}

// LoadVideoLabels reads and checks dir/videos.json. Errors name the file.
func LoadVideoLabels(dir string) (*VideoLabels, error) {
	var l VideoLabels
	if err := loadChecked(dir, VideoLabelsFile, &l); err != nil {
		return nil, err
	}
	l.Dir = dir
	return &l, nil
}

// ParseVideoLabels decodes and checks the contents of a videos.json.
func ParseVideoLabels(data []byte) (*VideoLabels, error) {
	var l VideoLabels
	if err := decodeChecked(data, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

func (l *VideoLabels) validate() error {
	if l.Version != LabelsVersion {
		return fmt.Errorf("version %d, want %d", l.Version, LabelsVersion)
	}
	if len(l.Videos) == 0 {
		return errors.New("no videos")
	}
	seen := map[string]bool{}
	for i, v := range l.Videos {
		if v.File == "" {
			return fmt.Errorf("video %d has no file name", i)
		}
		if seen[v.File] {
			return fmt.Errorf("%s listed twice", v.File)
		}
		seen[v.File] = true
		if v.Width <= 0 || v.Height <= 0 || v.Frames <= 0 {
			return fmt.Errorf("%s: size %dx%d, %d frames", v.File, v.Width, v.Height, v.Frames)
		}
		im := Image{File: v.File, Width: v.Width, Height: v.Height}
		ids := map[int]bool{}
		for _, tr := range v.Tracks {
			if ids[tr.ID] {
				return fmt.Errorf("%s: track %d listed twice", v.File, tr.ID)
			}
			ids[tr.ID] = true
			if tr.Class == "" {
				return fmt.Errorf("%s: track %d has no class", v.File, tr.ID)
			}
			last := -1
			for _, b := range tr.Boxes {
				if b.Frame <= last || b.Frame >= v.Frames {
					return fmt.Errorf("%s: track %d: frame %d after frame %d, or past the clip's %d", v.File, tr.ID, b.Frame, last, v.Frames)
				}
				last = b.Frame
				if err := checkBox(b.Box, im); err != nil {
					return fmt.Errorf("%s: track %d frame %d: %w", v.File, tr.ID, b.Frame, err)
				}
			}
		}
	}
	return nil
}

// frameBox is a labelled box in one frame of a clip.
type frameBox struct {
	track  int
	class  detect.Class
	typ    string
	rect   image.Rectangle
	ignore bool
}

// byFrame lists each frame's labelled boxes.
func (v *Video) byFrame() [][]frameBox {
	out := make([][]frameBox, v.Frames)
	for _, tr := range v.Tracks {
		for _, b := range tr.Boxes {
			out[b.Frame] = append(out[b.Frame], frameBox{track: tr.ID, class: tr.Class, typ: tr.Type, rect: b.Box.Rect(), ignore: b.Ignore})
		}
	}
	return out
}
