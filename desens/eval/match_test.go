package eval

import (
	"image"
	"testing"

	"github.com/desens/desens/desens/detect"
)

func face(x, y, w, h int) Object {
	return Object{Class: detect.Face, Box: Box{float64(x), float64(y), float64(w), float64(h)}}
}

func det(c detect.Class, x, y, w, h int, score float32) detect.Detection {
	return detect.Detection{Box: image.Rect(x, y, x+w, y+h), Class: c, Score: score}
}

func box(x, y, w, h int) Box { return Box{float64(x), float64(y), float64(w), float64(h)} }

func TestMatch(t *testing.T) {
	type want struct {
		truths []Outcome
		found  []Outcome
		counts Counts
	}
	tests := []struct {
		name   string
		objs   []Object
		ignore []Box
		dets   []detect.Detection
		cfg    MatchConfig
		want   want
	}{
		{
			name: "a detection exactly on the labelled box is a hit",
			objs: []Object{face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 100, 100, 40, 40, 0.9)},
			want: want{[]Outcome{Hit}, []Outcome{Hit}, Counts{Truths: 1, Hits: 1}},
		},
		{
			name: "a box offset by a quarter of its side still matches (IoU 0.39)",
			objs: []Object{face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 110, 110, 40, 40, 0.9)},
			want: want{[]Outcome{Hit}, []Outcome{Hit}, Counts{Truths: 1, Hits: 1}},
		},
		{
			name: "a loose detector square round a tight label matches by centres although IoU is 0.16",
			objs: []Object{face(100, 100, 20, 20)},
			dets: []detect.Detection{det(detect.Face, 85, 85, 50, 50, 0.8)},
			want: want{[]Outcome{Hit}, []Outcome{Hit}, Counts{Truths: 1, Hits: 1}},
		},
		{
			name: "a box beside the face, sharing an edge strip, is a false positive and the face a miss",
			objs: []Object{face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 130, 100, 40, 40, 0.9)},
			want: want{[]Outcome{Miss}, []Outcome{FalsePositive}, Counts{Truths: 1, Misses: 1, FP: 1}},
		},
		{
			name: "two detections on one face: the higher score hits, the other is a false positive",
			objs: []Object{face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 104, 104, 40, 40, 0.7), det(detect.Face, 100, 100, 40, 40, 0.95)},
			want: want{[]Outcome{Hit}, []Outcome{FalsePositive, Hit}, Counts{Truths: 1, Hits: 1, FP: 1}},
		},
		{
			name: "two faces, each detection takes the face it overlaps most",
			objs: []Object{face(100, 100, 40, 40), face(130, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 128, 100, 40, 40, 0.9), det(detect.Face, 98, 100, 40, 40, 0.8)},
			want: want{[]Outcome{Hit, Hit}, []Outcome{Hit, Hit}, Counts{Truths: 2, Hits: 2}},
		},
		{
			name: "no detections: every labelled face is a miss",
			objs: []Object{face(10, 10, 20, 20), face(50, 50, 20, 20)},
			want: want{[]Outcome{Miss, Miss}, []Outcome{}, Counts{Truths: 2, Misses: 2}},
		},
		{
			name:   "a detection inside an ignore region is ignored",
			ignore: []Box{box(0, 0, 200, 200)},
			dets:   []detect.Detection{det(detect.Face, 150, 150, 40, 40, 0.9)},
			want:   want{nil, []Outcome{Ignored}, Counts{Ignored: 1}},
		},
		{
			name:   "a detection that matches nothing but touches an ignore region is ignored",
			ignore: []Box{box(0, 0, 100, 100)},
			dets:   []detect.Detection{det(detect.Face, 90, 90, 40, 40, 0.9)},
			want:   want{nil, []Outcome{Ignored}, Counts{Ignored: 1}},
		},
		{
			name:   "a detection that matches a face is a hit even if it touches an ignore region",
			objs:   []Object{face(100, 100, 40, 40)},
			ignore: []Box{box(0, 0, 110, 110)},
			dets:   []detect.Detection{det(detect.Face, 100, 100, 40, 40, 0.9)},
			want:   want{[]Outcome{Hit}, []Outcome{Hit}, Counts{Truths: 1, Hits: 1}},
		},
		{
			name:   "a detection at least half inside an ignore region is ignored before matching",
			objs:   []Object{face(100, 100, 40, 40)},
			ignore: []Box{box(0, 0, 130, 200)},
			dets:   []detect.Detection{det(detect.Face, 100, 100, 40, 40, 0.9)},
			want:   want{[]Outcome{Miss}, []Outcome{Ignored}, Counts{Truths: 1, Misses: 1, Ignored: 1}},
		},
		{
			name: "a detection of another class does not match a face",
			objs: []Object{face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Plate, 100, 100, 40, 40, 0.9)},
			want: want{[]Outcome{Miss}, []Outcome{FalsePositive}, Counts{Truths: 1, Misses: 1, FP: 1}},
		},
		{
			name: "classes are matched separately",
			objs: []Object{face(100, 100, 40, 40), {Class: detect.Plate, Box: box(100, 100, 40, 40)}},
			dets: []detect.Detection{det(detect.Plate, 100, 100, 40, 40, 0.8), det(detect.Face, 100, 100, 40, 40, 0.9)},
			want: want{[]Outcome{Hit, Hit}, []Outcome{Hit, Hit}, Counts{Truths: 2, Hits: 2}},
		},
		{
			name: "boxes under the minimum size are excluded, and detections on them ignored",
			objs: []Object{face(10, 10, 10, 10), face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 10, 10, 10, 10, 0.9)},
			cfg:  MatchConfig{MinSize: 16},
			want: want{[]Outcome{Excluded, Miss}, []Outcome{Ignored}, Counts{Truths: 1, Misses: 1, Ignored: 1, Excluded: 1}},
		},
		{
			name: "a box offset by just over half its side matches on IoU (0.31) alone",
			objs: []Object{face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 121, 100, 40, 40, 0.9)},
			want: want{[]Outcome{Hit}, []Outcome{Hit}, Counts{Truths: 1, Hits: 1}},
		},
		{
			name: "a stricter IoU turns that box into a false positive",
			objs: []Object{face(100, 100, 40, 40)},
			dets: []detect.Detection{det(detect.Face, 121, 100, 40, 40, 0.9)},
			cfg:  MatchConfig{MinIoU: 0.6},
			want: want{[]Outcome{Miss}, []Outcome{FalsePositive}, Counts{Truths: 1, Misses: 1, FP: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Match(tc.objs, tc.ignore, tc.dets, image.Rect(0, 0, 640, 480), tc.cfg)
			if len(m.Truths) != len(tc.want.truths) || len(m.Found) != len(tc.want.found) {
				t.Fatalf("got %d truths and %d detections, want %d and %d", len(m.Truths), len(m.Found), len(tc.want.truths), len(tc.want.found))
			}
			for i, o := range tc.want.truths {
				if m.Truths[i].Outcome != o {
					t.Errorf("labelled box %d: %s, want %s", i, m.Truths[i].Outcome, o)
				}
			}
			for i, o := range tc.want.found {
				if m.Found[i].Outcome != o {
					t.Errorf("detection %d: %s, want %s", i, m.Found[i].Outcome, o)
				}
			}
			if m.Counts != tc.want.counts {
				t.Errorf("counts %+v, want %+v", m.Counts, tc.want.counts)
			}
			for i, f := range m.Found {
				if f.Outcome == Hit && m.Truths[f.Truth].Det != i {
					t.Errorf("detection %d hits box %d, which points back at %d", i, f.Truth, m.Truths[f.Truth].Det)
				}
			}
		})
	}
}

func TestCountsRates(t *testing.T) {
	tests := []struct {
		name            string
		c               Counts
		recall, precise float64
	}{
		{"nothing labelled and nothing found is perfect", Counts{}, 1, 1},
		{"half found, one false positive", Counts{Truths: 4, Hits: 2, Misses: 2, FP: 1}, 0.5, 2.0 / 3},
		{"only false positives", Counts{FP: 3}, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Recall(); got != tc.recall {
				t.Errorf("recall %v, want %v", got, tc.recall)
			}
			if got := tc.c.Precision(); got != tc.precise {
				t.Errorf("precision %v, want %v", got, tc.precise)
			}
		})
	}
}

func TestSizeBuckets(t *testing.T) {
	b := SizeBuckets()
	tests := []struct {
		height int
		want   string
	}{{0, "<16"}, {15, "<16"}, {16, "16-24"}, {23, "16-24"}, {24, "24-32"}, {32, "32-64"}, {63, "32-64"}, {64, "64-128"}, {128, ">=128"}, {5000, ">=128"}}
	for _, tc := range tests {
		if got := b[bucketOf(b, tc.height)].Name; got != tc.want {
			t.Errorf("height %d in bucket %s, want %s", tc.height, got, tc.want)
		}
	}
}

func TestSweepThresholds(t *testing.T) {
	th := SweepThresholds()
	if len(th) != 13 || th[0] != 0.3 || th[12] != 0.9 || th[6] != 0.6 {
		t.Errorf("sweep thresholds %v, want 0.30..0.90 step 0.05", th)
	}
}

func TestPassingKeepsScoreEqualToThreshold(t *testing.T) {
	dets := []detect.Detection{{Score: 0.6}, {Score: 0.59}, {Score: 0.9}}
	if got := len(passing(dets, 0.6, nil)); got != 2 {
		t.Errorf("passing(0.6) kept %d detections, want 2", got)
	}
}
