package detect

import (
	"image"
	"testing"
)

func TestPyramidTilesCoverFrame(t *testing.T) {
	p := DefaultBlazeFaceConfig().Pyramid
	for _, tc := range []struct {
		name string
		w, h int
		// faces up to this size (frame pixels) must lie wholly inside some
		// tile of the native level, wherever they are
		face int
	}{
		{"1080p", 1920, 1080, 40},
		{"720p", 1280, 720, 40},
		{"portrait phone video", 720, 1280, 40},
		{"smaller than one tile", 200, 150, 0},
		{"odd size", 1001, 333, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tiles := p.Tiles(tc.w, tc.h)
			frame := image.Rect(0, 0, tc.w, tc.h)
			last := tiles[len(tiles)-1]
			if last.Src != frame {
				t.Fatalf("last tile %v, want the whole frame %v", last.Src, frame)
			}
			for _, tl := range tiles {
				if !tl.Src.In(frame) {
					t.Errorf("tile %v leaves the frame", tl.Src)
				}
				if got := float64(max(tl.Src.Dx(), tl.Src.Dy())) * tl.Scale; got > float64(p.Input)+0.5 {
					t.Errorf("tile %v at scale %.3f is %.1f model pixels, over %d", tl.Src, tl.Scale, got, p.Input)
				}
			}
			if tc.face == 0 {
				return
			}
			for y := 0; y+tc.face <= tc.h; y += 7 {
				for x := 0; x+tc.face <= tc.w; x += 7 {
					f := image.Rect(x, y, x+tc.face, y+tc.face)
					ok := false
					for _, tl := range tiles {
						if tl.Scale == 1 && f.In(tl.Src) {
							ok = true
							break
						}
					}
					if !ok {
						t.Fatalf("a %d px face at %v is cut by every native tile", tc.face, f)
					}
				}
			}
		})
	}
}

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
