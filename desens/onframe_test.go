package desens

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
)

// scripted finds one face at the same box on every frame (counted across
// calls), except on the frames it misses and those it fails on.
type scripted struct {
	box          image.Rectangle
	miss, failOn map[int]bool
	seen         int
}

func (s *scripted) Detect(_ context.Context, frames []gocv.Mat) []detect.Result {
	res := make([]detect.Result, len(frames))
	for i := range frames {
		switch {
		case s.failOn[s.seen]:
			res[i].Err = errors.New("injected failure")
		case !s.miss[s.seen]:
			res[i].Detections = []detect.Detection{{Box: s.box, Class: detect.Face, Score: 0.9}}
		}
		s.seen++
	}
	return res
}

func TestOnFrameReportsWhatEachFrameHides(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-frames:v", "10",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", in)
	img := filepath.Join(dir, "in.png")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=1", "-frames:v", "1", img)

	box := image.Rect(100, 80, 140, 120)
	// Expand 1.3 times the ellipse slack 1.15 about the box's centre.
	grown := HiddenRegion{Class: detect.Face, Box: image.Rect(90, 70, 150, 130), Shape: ShapeEllipse}
	for _, tc := range []struct {
		name string
		in   string
		det  *scripted
		want []FrameRegions
	}{
		{
			name: "video: a missed frame is bridged by the tracker, a failed one masked",
			in:   in,
			det:  &scripted{box: box, miss: map[int]bool{4: true}, failOn: map[int]bool{7: true}},
			want: func() []FrameRegions {
				var w []FrameRegions
				for i := range 10 {
					fr := FrameRegions{File: in, Frame: i, Hidden: []HiddenRegion{grown}}
					if i == 7 {
						fr.Hidden, fr.Masked = nil, true
					}
					w = append(w, fr)
				}
				return w
			}(),
		},
		{
			name: "image: one call for frame 0",
			in:   img,
			det:  &scripted{box: box},
			want: []FrameRegions{{File: img, Frame: 0, Hidden: []HiddenRegion{grown}}},
		},
		{
			name: "image: nothing found, an empty list",
			in:   img,
			det:  &scripted{box: box, miss: map[int]bool{0: true}},
			want: []FrameRegions{{File: img, Frame: 0, Hidden: []HiddenRegion{}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []FrameRegions
			d, err := newDesensitizer(Options{OnFrame: func(fr FrameRegions) { got = append(got, fr) }}, false)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.AddDetector(tc.det)
			out := filepath.Join(t.TempDir(), "out"+filepath.Ext(tc.in))
			if rep := d.ProcessFile(t.Context(), tc.in, out); !rep.OK {
				t.Fatal(rep.Error)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b FrameRegions) bool {
				// The tracker may hide one place twice (held and bridged).
				return a.File == b.File && a.Frame == b.Frame && a.Masked == b.Masked &&
					slices.EqualFunc(slices.CompactFunc(a.Hidden, sameRegion), b.Hidden, sameRegion)
			}) {
				t.Errorf("OnFrame calls:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestOnFrameNilIsNotCalled(t *testing.T) {
	// The zero Options leave OnFrame nil: processing must not touch it.
	dir := t.TempDir()
	img := filepath.Join(dir, "in.png")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=1", "-frames:v", "1", img)
	d, err := newDesensitizer(Options{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.AddDetector(&scripted{box: image.Rect(10, 10, 40, 40)})
	if rep := d.ProcessFile(t.Context(), img, filepath.Join(dir, "out.png")); !rep.OK {
		t.Fatal(rep.Error)
	}
}

func sameRegion(a, b HiddenRegion) bool {
	return a.Class == b.Class && a.Box == b.Box && a.Shape == b.Shape && slices.Equal(a.Quad, b.Quad)
}

// finishOnly finds nothing in a video's frames until it is told the video
// ends: then it finds one face in the last frame, or fails.
type finishOnly struct {
	box  image.Rectangle
	fail bool
}

func (f *finishOnly) Detect(_ context.Context, frames []gocv.Mat) []detect.Result {
	return make([]detect.Result, len(frames))
}

func (f *finishOnly) Finish(_ context.Context, last gocv.Mat) detect.Result {
	if f.fail {
		return detect.Result{Err: errors.New("injected failure")}
	}
	return detect.Result{Detections: []detect.Detection{{Box: f.box, Class: detect.Face, Score: 0.9}}}
}

// TestFinishSearchesTheLastFrame checks that the pipeline gives a
// Finisher the video's last frame once more, hides what it finds there,
// leads it back over the frames before (within the hold), and masks the
// last frame when Finish fails.
func TestFinishSearchesTheLastFrame(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-frames:v", "10",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", in)
	box := image.Rect(100, 80, 140, 120)
	for _, tc := range []struct {
		name   string
		fail   bool
		hidden []int // frames that hide something
		masked []int
	}{
		{name: "found at the end, led back", hidden: []int{4, 5, 6, 7, 8, 9}},
		{name: "failed at the end", fail: true, masked: []int{9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []FrameRegions
			d, err := newDesensitizer(Options{Hold: 5, OnFrame: func(fr FrameRegions) { got = append(got, fr) }}, false)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.AddDetector(&finishOnly{box: box, fail: tc.fail})
			out := filepath.Join(t.TempDir(), "out.mp4")
			if rep := d.ProcessFile(t.Context(), in, out); !rep.OK {
				t.Fatal(rep.Error)
			}
			if len(got) != 10 {
				t.Fatalf("OnFrame called for %d frames, want 10", len(got))
			}
			for _, fr := range got {
				if want := slices.Contains(tc.masked, fr.Frame); fr.Masked != want {
					t.Errorf("frame %d masked %v, want %v", fr.Frame, fr.Masked, want)
				}
				if want := slices.Contains(tc.hidden, fr.Frame); (len(fr.Hidden) > 0) != want {
					t.Errorf("frame %d hides %v, want something hidden: %v", fr.Frame, fr.Hidden, want)
				}
			}
		})
	}
}
