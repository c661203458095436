package desens

import (
	"image"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
)

// runTracker feeds frames with the given detections (by frame index) and
// returns, per frame, every box the redactor would hide.
func runTracker(hold, lead, n int, dets map[int][]image.Rectangle) [][]image.Rectangle {
	tr := newTracker(hold, lead)
	var out []*frame
	for i := 0; i < n; i++ {
		f := &frame{seq: i}
		for _, b := range dets[i] {
			f.dets = append(f.dets, detect.Detection{Box: b, Class: detect.Face, Score: 1})
		}
		out = append(out, tr.push(f)...)
	}
	out = append(out, tr.flush()...)
	boxes := make([][]image.Rectangle, len(out))
	for i, f := range out {
		if f.seq != i {
			panic("frames out of order")
		}
		for _, d := range f.dets {
			boxes[i] = append(boxes[i], d.Box)
		}
		for _, e := range f.extra {
			boxes[i] = append(boxes[i], e.Box)
		}
	}
	return boxes
}

func TestTracker(t *testing.T) {
	a := image.Rect(100, 100, 140, 140)
	b := image.Rect(110, 100, 150, 140) // a, moved right
	far := image.Rect(500, 500, 540, 540)
	small := image.Rect(100, 100, 110, 112)
	big := image.Rect(400, 300, 640, 540)
	for _, tc := range []struct {
		name    string
		hold, n int
		lead    int // faceLead; 0: hold
		dets    map[int][]image.Rectangle
		covered map[int]image.Rectangle // frame -> a box that must lie within one hidden there
		bare    []int                   // frames that must have nothing hidden
		within  map[int]image.Rectangle // frame -> a box every box hidden there lies within
	}{
		{
			name: "a box outlives its last detection by hold frames",
			hold: 3, n: 10, dets: map[int][]image.Rectangle{5: {a}},
			covered: map[int]image.Rectangle{5: a, 6: a, 7: a, 8: a},
			bare:    []int{9},
		},
		{
			name: "a new track leads in over the frames before it",
			hold: 3, n: 10, dets: map[int][]image.Rectangle{5: {a}},
			covered: map[int]image.Rectangle{2: a, 3: a, 4: a},
			bare:    []int{0, 1},
		},
		{
			name: "a gap is bridged by interpolation",
			hold: 4, n: 12, dets: map[int][]image.Rectangle{2: {a}, 6: {b}},
			covered: map[int]image.Rectangle{3: image.Rect(103, 100, 143, 140), 4: image.Rect(105, 100, 145, 140), 5: image.Rect(108, 100, 148, 140)},
		},
		{
			// Two frames apart (the face detector searching every other
			// frame), a small face a side to the right overlaps its last
			// box not at all: it is the same face, and the frame between
			// gets the path between, not two grown boxes.
			name: "a small face a side away two frames on is the same track",
			hold: 4, n: 10, dets: map[int][]image.Rectangle{2: {small}, 4: {small.Add(image.Pt(11, 0))}},
			covered: map[int]image.Rectangle{3: small.Add(image.Pt(6, 0))},
			within:  map[int]image.Rectangle{3: image.Rect(103, 98, 119, 114)},
		},
		{
			name: "a distant detection starts a new track",
			hold: 2, n: 8, dets: map[int][]image.Rectangle{3: {a}, 4: {far}},
			covered: map[int]image.Rectangle{4: a, 2: far, 6: far},
			bare:    []int{0, 7},
		},
		{
			name: "a carried box follows the track's motion and grows",
			hold: 3, n: 8, dets: map[int][]image.Rectangle{0: {a}, 1: {b}},
			covered: map[int]image.Rectangle{2: a.Add(image.Pt(20, 2)), 3: a.Add(image.Pt(30, -3)), 4: a.Add(image.Pt(40, 5))},
			bare:    []int{5, 6, 7},
		},
		{
			name: "a lead-in box grows to cover a face that moved",
			hold: 3, n: 8, dets: map[int][]image.Rectangle{5: {a}},
			covered: map[int]image.Rectangle{4: a.Add(image.Pt(-10, 0)), 3: a.Add(image.Pt(-20, 4)), 2: a.Add(image.Pt(-30, -6))},
		},
		{
			name: "once its motion is known, a lead-in box follows it back",
			hold: 4, n: 10, dets: map[int][]image.Rectangle{5: {a}, 6: {b}},
			covered: map[int]image.Rectangle{4: a.Add(image.Pt(-10, 0)), 3: a.Add(image.Pt(-20, 2)), 2: a.Add(image.Pt(-30, -3))},
			within:  map[int]image.Rectangle{2: image.Rect(50, 70, 160, 170)},
		},
		{
			name: "a second detection leads a face in over faceLead frames",
			hold: 3, lead: 6, n: 14, dets: map[int][]image.Rectangle{7: {a}, 8: {b}},
			covered: map[int]image.Rectangle{3: a.Add(image.Pt(-40, 0)), 2: a.Add(image.Pt(-50, 0))},
			within:  map[int]image.Rectangle{2: image.Rect(-10, 70, 130, 170)},
			bare:    []int{0, 1},
		},
		{
			name: "a face found once is led in over hold frames",
			hold: 3, lead: 6, n: 14, dets: map[int][]image.Rectangle{7: {a}},
			covered: map[int]image.Rectangle{4: a},
			bare:    []int{0, 1, 2, 3},
		},
		{
			name: "an object found twice in one frame is one track",
			hold: 3, n: 9, dets: map[int][]image.Rectangle{4: {a}, 5: {b, b.Add(image.Pt(1, 1))}},
			covered: map[int]image.Rectangle{3: a.Add(image.Pt(-10, 0)), 2: a.Add(image.Pt(-20, 0))},
			within:  map[int]image.Rectangle{2: image.Rect(50, 70, 160, 170)},
		},
		{
			// grown by 0.3 of its own 240 px side a frame, it would
			// reach 216 px past each side three frames back
			name: "a large face's lead-in grows as a faceGrowthSide one's",
			hold: 3, n: 8, dets: map[int][]image.Rectangle{5: {big}},
			covered: map[int]image.Rectangle{2: big},
			within:  map[int]image.Rectangle{2: big.Inset(-32)},
		},
		{
			name: "hold 0 passes detections through",
			hold: 0, n: 4, dets: map[int][]image.Rectangle{1: {a}},
			covered: map[int]image.Rectangle{1: a},
			bare:    []int{0, 2, 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runTracker(tc.hold, tc.lead, tc.n, tc.dets)
			if len(got) != tc.n {
				t.Fatalf("%d frames out, want %d", len(got), tc.n)
			}
			for f, want := range tc.covered {
				if !slices.ContainsFunc(got[f], want.In) {
					t.Errorf("frame %d hides %v, want %v among them", f, got[f], want)
				}
			}
			for f, bound := range tc.within {
				for _, b := range got[f] {
					if !b.In(bound) {
						t.Errorf("frame %d hides %v, beyond %v", f, b, bound)
					}
				}
			}
			for _, f := range tc.bare {
				if len(got[f]) != 0 {
					t.Errorf("frame %d hides %v, want nothing", f, got[f])
				}
			}
		})
	}
}

// TestTrackerPlateReach: a plate box is carried and led in over
// plateReach frames at most, whatever the hold; a face's over the hold.
func TestTrackerPlateReach(t *testing.T) {
	const hold, n, at = 11, 30, 15
	box := image.Rect(100, 100, 160, 120)
	for _, tc := range []struct {
		class detect.Class
		reach int
	}{{detect.Face, hold}, {detect.Plate, plateReach}} {
		t.Run(string(tc.class), func(t *testing.T) {
			tr := newTracker(hold, hold)
			var out []*frame
			for i := range n {
				f := &frame{seq: i}
				if i == at {
					f.dets = []detect.Detection{{Box: box, Class: tc.class, Score: 1}}
				}
				out = append(out, tr.push(f)...)
			}
			out = append(out, tr.flush()...)
			for _, f := range out {
				hidden := len(f.dets)+len(f.extra) > 0
				if want := f.seq >= at-tc.reach && f.seq <= at+tc.reach; hidden != want {
					t.Errorf("frame %d: hidden %v, want %v", f.seq, hidden, want)
				}
			}
		})
	}
}

// TestTrackerLeadSmallFaces: a small face's track, once a second
// detection confirms it, is led in over every frame still held (the face
// lead), and so is one first found in the video's last frame, which no
// second detection can follow; a large face's track, or a small one found
// once before the end, reaches back over hold frames only.
func TestTrackerLeadSmallFaces(t *testing.T) {
	img := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	const hold, lead = 2, 6
	for _, tc := range []struct {
		name   string
		side   int
		frames int   // frames in the video
		found  []int // frames the face is detected in
		back   int   // how far back before the first detection a box reaches
	}{
		{"small face", 24, 12, []int{7, 8}, lead - 1},
		{"large face", 40, 12, []int{7, 8}, hold},
		{"small face, last frame", 24, 8, []int{7}, lead - 1},
		{"large face, last frame", 40, 8, []int{7}, hold},
		{"small face, once before the last frame", 24, 9, []int{7}, hold},
	} {
		t.Run(tc.name, func(t *testing.T) {
			face := image.Rect(300, 100, 300+tc.side, 100+tc.side)
			tr := newTracker(hold, lead)
			var out []*frame
			for i := range tc.frames {
				f := &frame{seq: i, img: img}
				if slices.Contains(tc.found, i) {
					f.dets = []detect.Detection{{Box: face.Add(image.Pt(4*(i-7), 0)), Class: detect.Face, Score: 1}}
				}
				out = append(out, tr.push(f)...)
			}
			out = append(out, tr.flush()...)
			for _, f := range out[:7] {
				if hidden, want := len(f.extra) > 0, f.seq >= 7-tc.back; hidden != want {
					t.Errorf("frame %d: hidden %v, want %v", f.seq, hidden, want)
				}
			}
		})
	}
}

// TestTrackerPlateGrowsFlat: a plate's lead-in box grows up and down by
// its height, not its width, so it stays off the lettering above it.
func TestTrackerPlateGrowsFlat(t *testing.T) {
	plate := image.Rect(400, 300, 500, 325)
	tr := newTracker(3, 3)
	var out []*frame
	for i := range 8 {
		f := &frame{seq: i}
		if i == 5 {
			f.dets = []detect.Detection{{Box: plate, Class: detect.Plate, Score: 1}}
		}
		out = append(out, tr.push(f)...)
	}
	out = append(out, tr.flush()...)
	f := out[2] // led in 3 frames back
	if len(f.extra) != 1 {
		t.Fatalf("frame 2 hides %v, want one lead-in box", f.extra)
	}
	got := f.extra[0].Box
	if !plate.In(got) || got.Dy() > 2*plate.Dy() {
		t.Errorf("lead-in box %v for plate %v: want it round the plate and under twice its height", got, plate)
	}
}

// TestTrackerLeaving: a face leaving the frame is boxed by what is left
// of it; the track's box moved on, cut by the frame, is hidden as well.
func TestTrackerLeaving(t *testing.T) {
	img := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	tr := newTracker(3, 3)
	step := image.Pt(24, 0)
	face := image.Rect(544, 200, 577, 243)
	var out []*frame
	for i := range 4 {
		b := face.Add(step.Mul(i)).Intersect(image.Rect(0, 0, 640, 360))
		if i == 3 {
			b = image.Rect(620, 206, 640, 238) // what the detector makes of the rest
		}
		out = append(out, tr.push(&frame{seq: i, img: img, dets: []detect.Detection{{Box: b, Class: detect.Face, Score: 1}}})...)
	}
	out = append(out, tr.flush()...)
	want := image.Rect(616, 200, 640, 243) // the face moved on, cut by the frame
	last := out[3]
	if !slices.ContainsFunc(last.extra, func(e trackedBox) bool { return want.In(e.Box) }) {
		t.Errorf("last frame hides %v and %v, want %v covered", last.dets, last.extra, want)
	}
	for _, f := range out[:3] {
		if len(f.extra) > 0 {
			t.Errorf("frame %d, in the open, got %v besides its detection", f.seq, f.extra)
		}
	}
}
