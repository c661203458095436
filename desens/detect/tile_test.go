package detect

import (
	"image"
	"testing"
)

func TestStartsEndAtEdge(t *testing.T) {
	for _, tc := range []struct{ n, side, step int }{{1920, 256, 192}, {1080, 256, 192}, {256, 256, 192}, {300, 256, 192}, {100, 256, 192}} {
		s := starts(tc.n, tc.side, tc.step)
		if s[0] != 0 {
			t.Errorf("%v: first start %d", tc, s[0])
		}
		if tc.n > tc.side && s[len(s)-1] != tc.n-tc.side {
			t.Errorf("%v: last start %d, want %d", tc, s[len(s)-1], tc.n-tc.side)
		}
		for i := 1; i < len(s); i++ {
			if d := s[i] - s[i-1]; d > tc.step || d <= 0 {
				t.Errorf("%v: step %d between %d and %d", tc, d, s[i-1], s[i])
			}
		}
	}
}

func TestTileToFrame(t *testing.T) {
	tl := Tile{Src: image.Rect(100, 50, 612, 562), Scale: 0.5}
	x, y := tl.ToFrame(128, 64)
	if x != 356 || y != 178 {
		t.Fatalf("ToFrame = %v,%v, want 356,178", x, y)
	}
}
