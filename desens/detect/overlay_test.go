package detect

import (
	"context"
	"image"
	"image/color"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

func TestParseROI(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		err        string // "" for success
		want       image.Rectangle
	}{
		{"pixels", `{"regions":[{"name":"gps","box":[10,20,300,40]}]}`, "", image.Rect(10, 20, 310, 60)},
		{"fractions of the frame", `{"regions":[{"name":"clock","box":[0.5,0.9,0.5,0.1]}]}`, "", image.Rect(960, 972, 1920, 1080)},
		{"clipped to the frame", `{"regions":[{"box":[1800,1000,400,400]}]}`, "", image.Rect(1800, 1000, 1920, 1080)},
		{"no regions", `{"regions":[]}`, "no regions", image.Rectangle{}},
		{"negative width", `{"regions":[{"name":"x","box":[0,0,-5,10]}]}`, "width,height > 0", image.Rectangle{}},
		{"a misspelt key", `{"region":[{"box":[0,0,5,10]}]}`, "unknown field", image.Rectangle{}},
		{"not JSON", `gps: 0 0 5 10`, "want {", image.Rectangle{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			regs, err := ParseROI([]byte(tc.json))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := regs[0].Rect(1920, 1080); got != tc.want {
				t.Errorf("Rect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOverlayROIStream(t *testing.T) {
	od, err := NewOverlay(nil, OverlayConfig{Mode: OverlayROI, Every: 5, Band: 0.25,
		ROI: []ROIRegion{{Name: "gps", Box: [4]float64{0, 0, 0.5, 0.1}}}})
	if err != nil {
		t.Fatal(err)
	}
	img := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	st := od.Stream()
	defer st.Close()
	res := st.Detect(context.Background(), []gocv.Mat{img, img})
	if len(res) != 2 {
		t.Fatalf("%d results for 2 frames", len(res))
	}
	for i, r := range res {
		if r.Err != nil || len(r.Detections) != 1 || r.Detections[0].Box != image.Rect(0, 0, 320, 36) {
			t.Errorf("frame %d: %+v, want the ROI (0,0)-(320,36)", i, r)
		}
	}
	if st.Runs() != 0 {
		t.Errorf("roi mode ran the text detector %d times", st.Runs())
	}
}

// TestOverlayStillImage: a still image has no neighbour frames, so geo mode
// takes the text in the top and bottom bands, all-text all of it.
func TestOverlayStillImage(t *testing.T) {
	td := newText(t)
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 100, 110, 0), 360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	white := color.RGBA{255, 255, 255, 0}
	gocv.PutText(&img, "N31.2304 E121.4737", image.Pt(20, 30), gocv.FontHersheySimplex, 0.6, white, 1)
	gocv.PutText(&img, "HOTEL PARKING", image.Pt(200, 190), gocv.FontHersheySimplex, 0.8, white, 2)
	for _, tc := range []struct {
		mode OverlayMode
		want int
	}{{OverlayGeo, 1}, {OverlayAllText, 2}} {
		cfg := DefaultOverlayConfig()
		cfg.Mode = tc.mode
		od, err := NewOverlay(td, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := od.Detect(context.Background(), []gocv.Mat{img})[0]
		if r.Err != nil || len(r.Detections) != tc.want {
			t.Errorf("%s: %+v, want %d boxes", tc.mode, r, tc.want)
		}
	}
}

// TestOverlayStreamFailsClosed: a frame the text detector cannot read is
// an error (the pipeline masks it), not a frame without overlays.
func TestOverlayStreamFailsClosed(t *testing.T) {
	td := newText(t)
	od, err := NewOverlay(td, DefaultOverlayConfig())
	if err != nil {
		t.Fatal(err)
	}
	st := od.Stream()
	defer st.Close()
	grey := gocv.NewMatWithSize(36, 64, gocv.MatTypeCV8U) // not BGR
	defer grey.Close()
	if r := st.Detect(context.Background(), []gocv.Mat{grey}); r[0].Err == nil {
		t.Errorf("a one-channel frame passed: %+v", r[0])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	img := gocv.NewMatWithSize(64, 64, gocv.MatTypeCV8UC3)
	defer img.Close()
	if r := st.Detect(ctx, []gocv.Mat{img}); r[0].Err == nil {
		t.Errorf("a cancelled detection passed: %+v", r[0])
	}
}

func TestJoinLines(t *testing.T) {
	box := func(x0, y0, x1, y1 int) Detection { return Detection{Box: image.Rect(x0, y0, x1, y1)} }
	for _, tc := range []struct {
		name string
		in   []Detection
		want []image.Rectangle
	}{
		{"words of one line join", []Detection{box(0, 10, 50, 30), box(60, 11, 120, 31), box(130, 10, 200, 30)},
			[]image.Rectangle{image.Rect(0, 10, 200, 31)}},
		{"lines above each other stay apart", []Detection{box(0, 10, 50, 30), box(0, 40, 50, 60)},
			[]image.Rectangle{image.Rect(0, 10, 50, 30), image.Rect(0, 40, 50, 60)}},
		{"a far word stays apart", []Detection{box(0, 10, 50, 30), box(200, 10, 250, 30)},
			[]image.Rectangle{image.Rect(0, 10, 50, 30), image.Rect(200, 10, 250, 30)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := joinLines(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i].Box != tc.want[i] {
					t.Errorf("box %d = %v, want %v", i, got[i].Box, tc.want[i])
				}
			}
		})
	}
}

// TestOverlayStreamRunsEarly: between detector runs, a line that grows out
// of its box (the picture beside it changes, then stands still) makes the
// detector run again early.
func TestOverlayStreamRunsEarly(t *testing.T) {
	td := newText(t)
	od, err := NewOverlay(td, DefaultOverlayConfig()) // every 5th frame
	if err != nil {
		t.Fatal(err)
	}
	st := od.Stream()
	defer st.Close()
	frame := func(text string) gocv.Mat {
		img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 100, 110, 0), 360, 640, gocv.MatTypeCV8UC3)
		gocv.PutText(&img, text, image.Pt(20, 340), gocv.FontHersheySimplex, 0.6, color.RGBA{255, 255, 255, 0}, 2)
		return img
	}
	short, long := frame("12:00:01"), frame("12:00:01 N31.2304 E121.4737")
	defer short.Close()
	defer long.Close()
	seq := []gocv.Mat{short, short, short, short, short, short, short, long, long}
	var last []Detection
	for i, f := range seq {
		r := st.Detect(context.Background(), []gocv.Mat{f})[0]
		if r.Err != nil {
			t.Fatalf("frame %d: %v", i, r.Err)
		}
		last = r.Detections
	}
	// Runs at 0 and 5 by the interval, and at 8 (not 10) for the change,
	// once the grown line has stood still for a frame.
	if st.Runs() != 3 {
		t.Errorf("%d detector runs over 9 frames, want 3", st.Runs())
	}
	if len(last) != 1 || last[0].Box.Max.X < 300 {
		t.Errorf("last frame: %v, want one box over the grown line", last)
	}
}
