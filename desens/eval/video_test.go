package eval

import (
	"encoding/json"
	"image"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/evalset"
	"github.com/desens/desens/internal/testenv"
)

func rectRegion(x0, y0, x1, y1 int) desens.HiddenRegion {
	return desens.HiddenRegion{Class: detect.Face, Box: image.Rect(x0, y0, x1, y1), Shape: desens.ShapeRect}
}

func ellipseRegion(x0, y0, x1, y1 int) desens.HiddenRegion {
	return desens.HiddenRegion{Class: detect.Face, Box: image.Rect(x0, y0, x1, y1), Shape: desens.ShapeEllipse}
}

func TestHiddenShare(t *testing.T) {
	box := image.Rect(20, 20, 40, 40) // 20x20
	bounds := image.Rect(0, 0, 100, 80)
	for _, tc := range []struct {
		name     string
		fr       desens.FrameRegions
		box      image.Rectangle
		lo, hi   float64 // the share lies in [lo, hi]
		isHidden bool    // at CoverBar
	}{
		{"nothing hidden", desens.FrameRegions{}, box, 0, 0, false},
		{"a rectangle over it all", desens.FrameRegions{Hidden: []desens.HiddenRegion{rectRegion(10, 10, 50, 50)}}, box, 1, 1, true},
		{"a rectangle over its left half", desens.FrameRegions{Hidden: []desens.HiddenRegion{rectRegion(0, 0, 30, 80)}}, box, 0.5, 0.5, false},
		{"two halves make it whole", desens.FrameRegions{Hidden: []desens.HiddenRegion{rectRegion(0, 0, 30, 80), rectRegion(30, 0, 60, 80)}}, box, 1, 1, true},
		{"overlapping regions count once", desens.FrameRegions{Hidden: []desens.HiddenRegion{rectRegion(0, 0, 35, 80), rectRegion(25, 0, 35, 80)}}, box, 0.75, 0.75, false},
		{"the top 80% is enough", desens.FrameRegions{Hidden: []desens.HiddenRegion{rectRegion(0, 0, 100, 36)}}, box, 0.8, 0.8, true},
		{"an ellipse drawn in the box leaves its corners", desens.FrameRegions{Hidden: []desens.HiddenRegion{ellipseRegion(20, 20, 40, 40)}}, box, math.Pi/4 - 0.02, math.Pi/4 + 0.02, false},
		{"an ellipse grown 1.3x1.15 covers the box", desens.FrameRegions{Hidden: []desens.HiddenRegion{ellipseRegion(15, 15, 45, 45)}}, box, 1, 1, true},
		{"a region reaching past the frame's edge", desens.FrameRegions{Hidden: []desens.HiddenRegion{rectRegion(-50, -50, 10, 10)}}, image.Rect(0, 0, 20, 20), 0.25, 0.25, false},
		{"a region elsewhere", desens.FrameRegions{Hidden: []desens.HiddenRegion{rectRegion(60, 60, 90, 80)}}, box, 0, 0, false},
		{"a frame masked whole", desens.FrameRegions{Masked: true}, box, 1, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := HiddenShare(tc.box, tc.fr, bounds)
			if s < tc.lo || s > tc.hi {
				t.Errorf("HiddenShare = %v, want in [%v, %v]", s, tc.lo, tc.hi)
			}
			if (s >= CoverBar) != tc.isHidden {
				t.Errorf("share %v at bar %v: hidden=%v, want %v", s, CoverBar, s >= CoverBar, tc.isHidden)
			}
		})
	}
}

func TestLongestRun(t *testing.T) {
	const a, x, h, v = absent, excluded, hidden, visible
	for _, tc := range []struct {
		name          string
		states        []faceState
		start, frames int
	}{
		{"never seen", nil, -1, 0},
		{"always hidden", []faceState{h, h, h}, -1, 0},
		{"one frame", []faceState{h, v, h}, 1, 1},
		{"the whole clip", []faceState{v, v, v, v}, 0, 4},
		{"the longer of two", []faceState{v, v, h, v, v, v, h}, 3, 3},
		{"the first of two as long", []faceState{v, v, h, v, v}, 0, 2},
		{"ending the clip", []faceState{h, h, v, v, v}, 2, 3},
		{"half hidden by the scene ends a run", []faceState{v, v, x, v, v}, 0, 2},
		{"out of the frame ends a run", []faceState{v, a, v, v}, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if start, n := longestRun(tc.states); start != tc.start || n != tc.frames {
				t.Errorf("longestRun(%v) = %d from %d, want %d from %d", tc.states, n, start, tc.frames, tc.start)
			}
		})
	}
}

func TestScoreClip(t *testing.T) {
	// Track 1 (20 px high) is hidden in frames 0 and 3, left visible in 1
	// and 2, and more than half hidden in 4. Track 2 (40 px) is hidden
	// throughout, twice over in frame 1. Track 3 is a face in the
	// background: ignore everywhere. Frame 2 is masked whole: nothing shows.
	// Of the 7 face regions hidden (the plate is not labelled, and face 2
	// hidden twice counts once), the two at (60,60) touch no labelled box.
	v := Video{File: "c.mp4", Width: 200, Height: 100, FPS: 25, Frames: 5, Tracks: []Track{
		{ID: 1, Class: detect.Face, Boxes: []TrackBox{
			{Frame: 0, Box: Box{10, 10, 20, 20}}, {Frame: 1, Box: Box{12, 10, 20, 20}}, {Frame: 2, Box: Box{14, 10, 20, 20}},
			{Frame: 3, Box: Box{16, 10, 20, 20}}, {Frame: 4, Box: Box{18, 10, 20, 20}, Ignore: true},
		}},
		{ID: 2, Class: detect.Face, Boxes: []TrackBox{
			{Frame: 0, Box: Box{100, 40, 40, 40}}, {Frame: 1, Box: Box{100, 40, 40, 40}},
		}},
		{ID: 3, Class: detect.Face, Boxes: []TrackBox{
			{Frame: 0, Box: Box{170, 0, 20, 20}, Ignore: true}, {Frame: 3, Box: Box{170, 0, 20, 20}, Ignore: true},
		}},
	}}
	face1 := func(x int) desens.HiddenRegion { return rectRegion(x-2, 8, x+22, 32) }
	face2 := rectRegion(95, 35, 145, 85)
	frames := map[int]desens.FrameRegions{
		0: {Frame: 0, Hidden: []desens.HiddenRegion{face1(10), face2, rectRegion(165, 0, 195, 25)}},
		1: {Frame: 1, Hidden: []desens.HiddenRegion{face2, face2, rectRegion(60, 60, 70, 70)}},
		2: {Frame: 2, Masked: true},
		3: {Frame: 3, Hidden: []desens.HiddenRegion{face1(16), {Class: detect.Plate, Box: image.Rect(60, 60, 80, 70)}}},
		4: {Frame: 4, Hidden: []desens.HiddenRegion{rectRegion(60, 60, 70, 70)}},
	}
	faces := []detect.Class{detect.Face}
	cr := scoreClip(v, frames, 0, faces)
	if cr.Error != "" {
		t.Fatal(cr.Error)
	}
	if len(cr.Classes) != 1 || cr.Class(detect.Face) == nil {
		t.Fatalf("classes %+v, want faces alone", cr.Classes)
	}
	fc := cr.Class(detect.Face)
	want := VideoCounts{Frames: 5, Truths: 6, Hidden: 5, BandTruths: 4, BandHidden: 3, Excluded: 3,
		ObjectFrames: 4, LeakFrames: 1, Regions: 7, FalseRegions: 2, MaskedFrames: 1}
	if fc.Counts != want {
		t.Errorf("counts\n got %+v\nwant %+v", fc.Counts, want)
	}
	if fc.Recall != 5.0/6 || fc.BandRecall != 0.75 || fc.FalsePerFrame != 0.4 || fc.Band != "12-32 px high" {
		t.Errorf("recall %v, band %q %v, false/frame %v; want 5/6, 12-32 px high 0.75, 0.4", fc.Recall, fc.Band, fc.BandRecall, fc.FalsePerFrame)
	}
	if fc.LongestRun != (Run{Track: 1, Start: 1, Frames: 1}) {
		t.Errorf("longest run %+v, want track 1 from frame 1 for 1 frame", fc.LongestRun)
	}
	if cr.Frames != 5 || cr.LeakFrames != 1 {
		t.Errorf("%d frames, %d with a leak; want 5 and 1", cr.Frames, cr.LeakFrames)
	}
	if len(cr.Leaks) != 1 || cr.Leaks[0].Frame != 1 || cr.Leaks[0].Track != 1 || cr.Leaks[0].Share != 0 || cr.Leaks[0].Class != detect.Face {
		t.Errorf("leaks %+v, want track 1 in frame 1, nothing hidden", cr.Leaks)
	}
	if len(cr.False) != 2 || cr.False[0] != (FalseRegion{Frame: 1, Class: detect.Face, Box: Box{60, 60, 10, 10}}) || cr.False[1].Frame != 4 {
		t.Errorf("false regions %+v, want (60,60) in frames 1 and 4", cr.False)
	}
	if b := fc.Sizes[bucketOf(fc.Sizes, 20)]; b.Truths != 4 || b.Hits != 3 {
		t.Errorf("16-24 px bucket %+v, want 3 of 4", b)
	}

	t.Run("min size leaves small faces out", func(t *testing.T) {
		cr := scoreClip(v, frames, 30, faces)
		fc := cr.Class(detect.Face)
		if c := fc.Counts; c.Truths != 2 || c.Hidden != 2 || c.Excluded != 7 || c.LeakFrames != 0 || fc.LongestRun.Frames != 0 {
			t.Errorf("counts %+v, run %+v; want track 2 alone, all hidden", c, fc.LongestRun)
		}
	})
	t.Run("a frame desens never reported fails the clip", func(t *testing.T) {
		short := map[int]desens.FrameRegions{0: frames[0], 1: frames[1], 2: frames[2], 3: frames[3]}
		if cr := scoreClip(v, short, 0, faces); cr.Error == "" {
			t.Error("no error for 4 frames out of 5")
		}
	})
}

func plateRegion(x0, y0, x1, y1 int) desens.HiddenRegion {
	return desens.HiddenRegion{Class: detect.Plate, Box: image.Rect(x0, y0, x1, y1), Shape: desens.ShapeRect}
}

// TestScoreClipPlates: faces and plates in one clip, scored by the
// classes asked for. Track 1 is a face 20 px high, left visible in frame
// 1. Track 2 is a plate 40 px wide, 70% hidden in frame 1 (a leak: under
// the 80% bar). Track 3 is a plate 24 px wide (under the 30 px band) in
// frames 0 and 1, track 4 an ignore plate in frame 2. A plate region in
// frame 1 touches nothing (false); in frame 2 a plate region over the
// ignore plate and a face region over plate 2 touch labelled boxes (not
// false, whatever class the box). Frame 3 is masked whole.
func TestScoreClipPlates(t *testing.T) {
	v := Video{File: "c.mp4", Width: 200, Height: 100, FPS: 25, Frames: 4, Tracks: []Track{
		{ID: 1, Class: detect.Face, Boxes: []TrackBox{
			{Frame: 0, Box: Box{10, 10, 20, 20}}, {Frame: 1, Box: Box{10, 10, 20, 20}},
			{Frame: 2, Box: Box{10, 10, 20, 20}}, {Frame: 3, Box: Box{10, 10, 20, 20}},
		}},
		{ID: 2, Class: detect.Plate, Boxes: []TrackBox{
			{Frame: 0, Box: Box{100, 60, 40, 12}}, {Frame: 1, Box: Box{100, 60, 40, 12}},
			{Frame: 2, Box: Box{100, 60, 40, 12}}, {Frame: 3, Box: Box{100, 60, 40, 12}},
		}},
		{ID: 3, Class: detect.Plate, Boxes: []TrackBox{{Frame: 0, Box: Box{150, 20, 24, 8}}, {Frame: 1, Box: Box{150, 20, 24, 8}}}},
		{ID: 4, Class: detect.Plate, Boxes: []TrackBox{{Frame: 2, Box: Box{150, 20, 24, 8}, Ignore: true}}},
	}}
	face := rectRegion(8, 8, 32, 32)
	plate2, plate3 := plateRegion(98, 58, 142, 74), plateRegion(149, 19, 175, 29)
	frames := map[int]desens.FrameRegions{
		0: {Frame: 0, Hidden: []desens.HiddenRegion{face, plate2, plate3}},
		1: {Frame: 1, Hidden: []desens.HiddenRegion{plateRegion(100, 58, 128, 74), plate3, plateRegion(0, 80, 10, 90)}},
		2: {Frame: 2, Hidden: []desens.HiddenRegion{face, plate2, plateRegion(150, 20, 174, 28), rectRegion(105, 62, 115, 70)}},
		3: {Frame: 3, Masked: true},
	}
	faceCounts := VideoCounts{Frames: 4, Truths: 4, Hidden: 3, BandTruths: 4, BandHidden: 3,
		ObjectFrames: 4, LeakFrames: 1, Regions: 3, FalseRegions: 0, MaskedFrames: 1}
	plateCounts := VideoCounts{Frames: 4, Truths: 6, Hidden: 5, BandTruths: 4, BandHidden: 3, Excluded: 1,
		ObjectFrames: 4, LeakFrames: 1, Regions: 7, FalseRegions: 1, MaskedFrames: 1}
	for _, tc := range []struct {
		name    string
		classes []detect.Class
		want    map[detect.Class]VideoCounts
		leaks   int
	}{
		{"faces alone", []detect.Class{detect.Face}, map[detect.Class]VideoCounts{detect.Face: faceCounts}, 1},
		{"plates alone", []detect.Class{detect.Plate}, map[detect.Class]VideoCounts{detect.Plate: plateCounts}, 1},
		{"faces and plates", []detect.Class{detect.Face, detect.Plate},
			map[detect.Class]VideoCounts{detect.Face: faceCounts, detect.Plate: plateCounts}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := scoreClip(v, frames, 0, tc.classes)
			if cr.Error != "" {
				t.Fatal(cr.Error)
			}
			if len(cr.Classes) != len(tc.classes) {
				t.Fatalf("%d classes scored, want %d", len(cr.Classes), len(tc.classes))
			}
			for i, c := range tc.classes {
				vc := cr.Classes[i]
				if vc.Class != c {
					t.Errorf("class %d is %s, want %s", i, vc.Class, c)
				}
				if vc.Counts != tc.want[c] {
					t.Errorf("%s counts\n got %+v\nwant %+v", c, vc.Counts, tc.want[c])
				}
			}
			if cr.LeakFrames != 1 || len(cr.Leaks) != tc.leaks {
				t.Errorf("%d frames with a leak, leaks %+v; want 1 frame, %d leaks", cr.LeakFrames, cr.Leaks, tc.leaks)
			}
			if pc := cr.Class(detect.Plate); pc != nil {
				if pc.Recall != 5.0/6 || pc.BandRecall != 0.75 || pc.Band != ">=30 px wide" || pc.FalsePerFrame != 0.25 {
					t.Errorf("plates: recall %v, band %q %v, false/frame %v; want 5/6, >=30 px wide 0.75, 0.25",
						pc.Recall, pc.Band, pc.BandRecall, pc.FalsePerFrame)
				}
				if pc.LongestRun != (Run{Track: 2, Start: 1, Frames: 1}) {
					t.Errorf("plates: longest run %+v, want track 2 from frame 1", pc.LongestRun)
				}
				if b := pc.Sizes[bucketOf(pc.Sizes, 40)]; b.Name != "30-60" || b.Truths != 4 || b.Hits != 3 {
					t.Errorf("plates: 30-60 px bucket %+v, want 3 of 4", b)
				}
				if b := pc.Sizes[bucketOf(pc.Sizes, 24)]; b.Name != "<30" || b.Truths != 2 || b.Hits != 2 {
					t.Errorf("plates: <30 px bucket %+v, want 2 of 2", b)
				}
				if len(cr.False) != 1 || cr.False[0] != (FalseRegion{Frame: 1, Class: detect.Plate, Box: Box{0, 80, 10, 10}}) {
					t.Errorf("false regions %+v, want the plate region at (0,80) in frame 1", cr.False)
				}
			}
		})
	}
}

func TestParseVideoLabels(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		ok         bool
	}{
		{"good", `{"version": 1, "videos": [{"file": "a.mp4", "width": 64, "height": 48, "fps": 25, "frames": 2,
			"tracks": [{"id": 1, "class": "face", "boxes": [{"frame": 0, "box": [1, 1, 8, 8], "ignore": false}]}]}]}`, true},
		{"no videos", `{"version": 1, "videos": []}`, false},
		{"other version", `{"version": 2, "videos": [{"file": "a.mp4", "width": 64, "height": 48, "frames": 2}]}`, false},
		{"frame past the clip", `{"version": 1, "videos": [{"file": "a.mp4", "width": 64, "height": 48, "frames": 2,
			"tracks": [{"id": 1, "class": "face", "boxes": [{"frame": 2, "box": [1, 1, 8, 8]}]}]}]}`, false},
		{"frames out of order", `{"version": 1, "videos": [{"file": "a.mp4", "width": 64, "height": 48, "frames": 2,
			"tracks": [{"id": 1, "class": "face", "boxes": [{"frame": 1, "box": [1, 1, 8, 8]}, {"frame": 0, "box": [1, 1, 8, 8]}]}]}]}`, false},
		{"box outside", `{"version": 1, "videos": [{"file": "a.mp4", "width": 64, "height": 48, "frames": 2,
			"tracks": [{"id": 1, "class": "face", "boxes": [{"frame": 0, "box": [70, 1, 8, 8]}]}]}]}`, false},
		{"track twice", `{"version": 1, "videos": [{"file": "a.mp4", "width": 64, "height": 48, "frames": 2,
			"tracks": [{"id": 1, "class": "face", "boxes": []}, {"id": 1, "class": "face", "boxes": []}]}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseVideoLabels([]byte(tc.json))
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestVideoEvalEndToEnd(t *testing.T) {
	testenv.ORT(t)
	testenv.FFmpeg(t)
	testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))
	dir := t.TempDir()
	st, err := evalset.GenerateVideo(evalset.VideoConfig{Out: dir, Clips: 2, Frames: 10, Width: 320, Height: 240, Seed: 1,
		Resolver: &evalset.Resolver{}})
	if err != nil {
		t.Fatal(err)
	}
	var heard []string
	ev := &VideoEvaluator{Options: desens.Options{Targets: []detect.Class{detect.Face, detect.Plate}, Runtime: desens.RuntimeOptions{Threads: 2}},
		OnClip: func(c ClipResult) { heard = append(heard, filepath.Base(c.Name)) }}
	res, err := ev.Run(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())

	if strings.Join(heard, ",") != "clip_000.mp4,clip_001.mp4" {
		t.Errorf("OnClip heard of %v", heard)
	}
	if res.Evaluated != 2 || res.Failed != 0 {
		t.Fatalf("%d clips evaluated, %d failed; want 2 and 0", res.Evaluated, res.Failed)
	}
	fc, pc := res.Class(detect.Face), res.Class(detect.Plate)
	if fc == nil || pc == nil || len(res.Classes) != 2 {
		t.Fatalf("classes %+v, want faces and plates", res.Classes)
	}
	leaks := map[detect.Class]int{}
	for _, c := range res.Clips {
		for _, l := range c.Leaks {
			leaks[l.Class]++
		}
	}
	if c := fc.Counts; c.Frames != 20 || c.Truths != st.Boxes || c.Hidden+leaks[detect.Face] != c.Truths {
		t.Errorf("face counts %+v: want 20 frames, %d faces, each hidden or a leak", c, st.Boxes)
	}
	if c := pc.Counts; c.Frames != 20 || c.Truths != st.PlateBoxes || c.Hidden+leaks[detect.Plate] != c.Truths || c.BandTruths != st.PlateBoxes30 {
		t.Errorf("plate counts %+v: want 20 frames, %d plates (%d >= 30 px), each hidden or a leak", c, st.PlateBoxes, st.PlateBoxes30)
	}
	if fc.Recall < 0 || fc.Recall > 1 || res.Millis <= 0 || res.FPS <= 0 {
		t.Errorf("recall %v, %v ms, %v fps", fc.Recall, res.Millis, res.FPS)
	}
	for _, want := range []string{"TOTAL (2 clips)", "per-frame recall", "FACE HEIGHT px", "PLATE WIDTH px", ">=30 px wide"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q", want)
		}
	}

	var js strings.Builder
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back VideoResult
	if err := json.Unmarshal([]byte(js.String()), &back); err != nil {
		t.Fatalf("JSON does not read back: %v", err)
	}
	if len(back.Classes) != 2 || back.Classes[0].Recall != fc.Recall || len(back.Clips) != 2 || back.Classes[0].Counts != fc.Counts {
		t.Errorf("JSON read back differs: %+v", back.Classes)
	}
}

// A plate hidden over its quadrilateral covers the pixels inside it, not
// the corners of the box round it.
func TestCoversQuad(t *testing.T) {
	h := desens.HiddenRegion{Class: detect.Plate, Box: image.Rect(0, 0, 100, 100), Shape: desens.ShapeQuad,
		Quad: []image.Point{{50, 0}, {100, 50}, {50, 100}, {0, 50}}}
	for _, tc := range []struct {
		x, y int
		want bool
	}{{50, 50, true}, {2, 2, false}, {97, 97, false}, {49, 5, true}} {
		if got := covers(h, tc.x, tc.y); got != tc.want {
			t.Errorf("covers(%d, %d) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

// TestScoreClipText: scene text is scored as text to keep readable,
// whatever the classes scored, and a region over text alone is false.
func TestScoreClipText(t *testing.T) {
	v := Video{File: "c.mp4", Width: 200, Height: 100, FPS: 25, Frames: 3, Tracks: []Track{
		{ID: 1, Class: detect.Plate, Boxes: []TrackBox{{Frame: 0, Box: Box{100, 60, 40, 12}}}},
		{ID: 2, Class: TextClass, Boxes: []TrackBox{
			{Frame: 0, Box: Box{10, 10, 50, 10}}, {Frame: 1, Box: Box{10, 10, 50, 10}}, {Frame: 2, Box: Box{10, 10, 50, 10}},
		}},
		{ID: 3, Class: TextClass, Boxes: []TrackBox{{Frame: 0, Box: Box{150, 10, 40, 10}, Ignore: true}, {Frame: 1, Box: Box{150, 10, 40, 10}}}},
	}}
	frames := map[int]desens.FrameRegions{
		// the plate hidden; the text touched at its edge (10% of it)
		0: {Frame: 0, Hidden: []desens.HiddenRegion{plateRegion(98, 58, 142, 74), plateRegion(5, 5, 15, 25)}},
		// a plate region over half of text 2, and a face over all of text 3
		1: {Frame: 1, Hidden: []desens.HiddenRegion{plateRegion(10, 5, 35, 25), rectRegion(148, 8, 192, 22)}},
		2: {Frame: 2, Masked: true},
	}
	cr := scoreClip(v, frames, 0, []detect.Class{detect.Plate})
	if cr.Error != "" {
		t.Fatal(cr.Error)
	}
	want := TextCounts{Frames: 3, Truths: 4, Readable: 1, Excluded: 1, ObscuredBy: map[string]int{"plate": 1, "face": 1, "masked": 1}}
	if cr.Text == nil || !reflect.DeepEqual(cr.Text.Counts, want) || cr.Text.Readable != 0.25 {
		t.Fatalf("text %+v, want %+v and a readable share of 0.25", cr.Text, want)
	}
	if len(cr.Obscured) != 3 || cr.Obscured[0] != (ObscuredText{Frame: 1, Track: 2, Box: Box{10, 10, 50, 10}, Share: 0.5, By: "plate"}) {
		t.Errorf("obscured %+v, want text 2 in frame 1 first, half hidden by a plate", cr.Obscured)
	}
	pc := cr.Class(detect.Plate)
	if pc.Counts.Regions != 3 || pc.Counts.FalseRegions != 2 {
		t.Errorf("plate regions %d, false %d; want 3, 2 (those over text alone)", pc.Counts.Regions, pc.Counts.FalseRegions)
	}
	res := &VideoResult{ReadableBar: ReadableBar, Clips: []ClipResult{cr, {Error: "broken"}}}
	res.summarize([]detect.Class{detect.Plate})
	if res.Text == nil || res.Text.Counts.Truths != 4 || res.Text.Readable != 0.25 {
		t.Errorf("total text %+v, want 1 of 4 readable", res.Text)
	}
	var buf strings.Builder
	if err := res.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "scene text readable 25.0%") || !strings.Contains(buf.String(), "face 1, masked 1, plate 1") {
		t.Errorf("text tables lack the readable share or what hid the text:\n%s", buf.String())
	}
	if plain := scoreClip(Video{File: "d.mp4", Width: 200, Height: 100, FPS: 25, Frames: 1, Tracks: v.Tracks[:1]},
		map[int]desens.FrameRegions{0: {}}, 0, []detect.Class{detect.Plate}); plain.Text != nil {
		t.Errorf("a clip without text labels got a text score %+v", plain.Text)
	}
}
