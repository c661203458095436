package detect

import (
	"image"
	"math"
	"testing"
)

func TestMergeBoxes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []candidate
		want  []rectF
		score []float64
	}{
		{
			name: "disjoint boxes stay apart",
			in:   []candidate{{box: rectF{0, 0, 10, 10}, score: 0.9}, {box: rectF{50, 50, 60, 60}, score: 0.8}},
			want: []rectF{{0, 0, 10, 10}, {50, 50, 60, 60}}, score: []float64{0.9, 0.8},
		},
		{
			name: "overlapping boxes average by score",
			in:   []candidate{{box: rectF{0, 0, 10, 10}, score: 0.75}, {box: rectF{2, 0, 12, 10}, score: 0.25}},
			want: []rectF{{0.5, 0, 10.5, 10}}, score: []float64{0.75},
		},
		{
			name: "a weaker box inside a stronger one is dropped, not averaged in",
			in:   []candidate{{box: rectF{0, 0, 40, 40}, score: 0.9}, {box: rectF{5, 5, 25, 25}, score: 0.6}},
			want: []rectF{{0, 0, 40, 40}}, score: []float64{0.9},
		},
		{
			name: "a car-sized box round a stronger plate is dropped, not averaged in",
			in:   []candidate{{box: rectF{100, 100, 160, 130}, score: 0.9}, {box: rectF{0, 50, 600, 330}, score: 0.45}},
			want: []rectF{{100, 100, 160, 130}}, score: []float64{0.9},
		},
		{
			name: "the stronger box leads",
			in:   []candidate{{box: rectF{0, 0, 10, 10}, score: 0.5}, {box: rectF{0, 0, 10, 10}, score: 0.95}},
			want: []rectF{{0, 0, 10, 10}}, score: []float64{0.95},
		},
		{name: "nothing in, nothing out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeBoxes(tc.in, 0.3)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d boxes %v, want %d", len(got), got, len(tc.want))
			}
			for i, g := range got {
				w := tc.want[i]
				if math.Abs(g.box.x0-w.x0) > 1e-6 || math.Abs(g.box.y0-w.y0) > 1e-6 || math.Abs(g.box.x1-w.x1) > 1e-6 || math.Abs(g.box.y1-w.y1) > 1e-6 {
					t.Errorf("box %d = %+v, want %+v", i, g.box, w)
				}
				if g.score != tc.score[i] {
					t.Errorf("score %d = %v, want %v", i, g.score, tc.score[i])
				}
			}
		})
	}
}

func TestMergeBoxesKeepsTheLeadersScores(t *testing.T) {
	got := mergeBoxes([]candidate{
		{box: rectF{0, 0, 10, 10}, score: 0.5, peak: 0.3, ver: 0.8},
		{box: rectF{1, 0, 11, 10}, score: 0.7, peak: 0.6, ver: 0.99, large: true},
	}, 0.3)
	if len(got) != 1 || got[0].peak != 0.6 || got[0].ver != 0.99 || !got[0].large {
		t.Errorf("merged %+v, want the stronger box's peak 0.6, verifier 0.99 and large mark", got)
	}
}

func TestIoU(t *testing.T) {
	for _, tc := range []struct {
		a, b image.Rectangle
		want float64
	}{
		{image.Rect(0, 0, 10, 10), image.Rect(0, 0, 10, 10), 1},
		{image.Rect(0, 0, 10, 10), image.Rect(10, 0, 20, 10), 0},
		{image.Rect(0, 0, 10, 10), image.Rect(5, 0, 15, 10), 50.0 / 150},
	} {
		if got := IoU(tc.a, tc.b); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("IoU(%v,%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
