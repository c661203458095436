package evalset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

// VideoLabelsFile is the name of the labels file of a video set.
const VideoLabelsFile = "videos.json"

// VideoSet is the content of a videos.json: labelled clips, each face a
// track of per-frame boxes (format in testdata/README.md).
type VideoSet struct {
	Version int     `json:"version"`
	Videos  []Video `json:"videos"`
}

// Video is one labelled clip. File is relative to the videos.json
// directory; Frames is how many frames it holds.
type Video struct {
	File   string  `json:"file"`
	Width  int     `json:"width"`
	Height int     `json:"height"`
	FPS    int     `json:"fps"`
	Frames int     `json:"frames"`
	Tracks []Track `json:"tracks"`
}

// Track is one object followed through a clip, with a box in each frame
// where it shows. A track whose boxes are all Ignore marks a region where
// hiding something counts neither way (a face in a background photo, a
// drawn face).
type Track struct {
	ID    int    `json:"id"`
	Class string `json:"class"`
	// Type, optional, says what kind of object of its class the track
	// is: for scene text, the kind of sign (shop, yellow, blue, latin,
	// phone, road) or vehicle for lettering on a car.
	Type  string     `json:"type,omitempty"`
	Boxes []TrackBox `json:"boxes"`
}

// TrackBox is a track's box in one frame: the bounding box of the visible
// part of the object, or, with Ignore, the box of an object more than half
// hidden (by an occluder or the frame's edge) in that frame.
type TrackBox struct {
	Frame  int  `json:"frame"`
	Box    Box  `json:"box"`
	Ignore bool `json:"ignore"`
}

// Marshal encodes the set as indented JSON with one box per line and a
// trailing newline. Nil slices are written as [].
func (s *VideoSet) Marshal() ([]byte, error) {
	c := *s
	c.Videos = make([]Video, len(s.Videos))
	for i, v := range s.Videos {
		v.Tracks = append([]Track{}, v.Tracks...)
		for j := range v.Tracks {
			if v.Tracks[j].Boxes == nil {
				v.Tracks[j].Boxes = []TrackBox{}
			}
		}
		c.Videos[i] = v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return nil, err
	}
	return trackBoxRE.ReplaceAll(buf.Bytes(), []byte(`{"frame": $1, "box": [$2, $3, $4, $5], "ignore": $6}`)), nil
}

var trackBoxRE = regexp.MustCompile(`\{\s*"frame": (\d+),\s*"box": \[\s*(-?\d+),\s*(-?\d+),\s*(-?\d+),\s*(-?\d+)\s*\],\s*"ignore": (true|false)\s*\}`)

// WriteFile writes the set to path.
func (s *VideoSet) WriteFile(path string) error {
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadVideoSet reads and validates a videos.json.
func ReadVideoSet(path string) (*VideoSet, error) {
	var s VideoSet
	if err := readValid(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the version, sizes, that track ids are unique within a
// clip, and that every box lies inside its frame, in a frame of the clip,
// once per track and frame.
func (s *VideoSet) Validate() error {
	if s.Version != LabelVersion {
		return fmt.Errorf("labels version %d, want %d", s.Version, LabelVersion)
	}
	seen := map[string]bool{}
	for _, v := range s.Videos {
		if v.File == "" {
			return fmt.Errorf("video with empty file name")
		}
		if seen[v.File] {
			return fmt.Errorf("duplicate file %q", v.File)
		}
		seen[v.File] = true
		if v.Width <= 0 || v.Height <= 0 || v.Frames <= 0 || v.FPS <= 0 {
			return fmt.Errorf("%s: bad size %dx%d, %d frames at %d fps", v.File, v.Width, v.Height, v.Frames, v.FPS)
		}
		ids := map[int]bool{}
		for _, tr := range v.Tracks {
			if ids[tr.ID] {
				return fmt.Errorf("%s: duplicate track id %d", v.File, tr.ID)
			}
			ids[tr.ID] = true
			if tr.Class == "" {
				return fmt.Errorf("%s: track %d without class", v.File, tr.ID)
			}
			last := -1
			for _, b := range tr.Boxes {
				if b.Frame <= last || b.Frame >= v.Frames {
					return fmt.Errorf("%s: track %d: frame %d out of order or past %d frames", v.File, tr.ID, b.Frame, v.Frames)
				}
				last = b.Frame
				if !b.Box.Inside(v.Width, v.Height) {
					return fmt.Errorf("%s: track %d frame %d: box %v outside %dx%d", v.File, tr.ID, b.Frame, b.Box, v.Width, v.Height)
				}
			}
		}
	}
	return nil
}
