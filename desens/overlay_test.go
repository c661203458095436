package desens

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/internal/video"
)

// Fonts from Debian's fonts-dejavu-core and fonts-wqy-zenhei.
const (
	fontMono  = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
	fontBold  = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
	fontSans  = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	fontSerif = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
	fontCJK   = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
)

// textLayer is one drawtext filter and the part of the frame its glyphs
// stay in (to tell layers apart in the difference to the bare scene).
type textLayer struct {
	name   string
	filter string
	zone   image.Rectangle
	moving bool // scene text: must stay untouched
}

// overlayLayers are the texts drawn over a 960×540 panning street scene:
// four burned-in overlays in the corners (Latin and Chinese, four fonts,
// 14-24 px, four colours, digits changing every frame), one that appears
// mid-clip between two detector runs (outlined: drawn plain, white on the
// white wall, the model did not find it at all), and two lines of
// scene text that move (one in the middle, one scrolling through the
// bottom band where overlays live).
func overlayLayers(t *testing.T) []textLayer {
	font := func(p string) string { return testenv.File(t, p) }
	return []textLayer{
		{name: "top-left GPS and speed", zone: image.Rect(0, 0, 480, 60),
			filter: "drawtext=fontfile=" + font(fontMono) + ":fontsize=16:fontcolor=white:x=12:y=12:" +
				`text='GPS N31.2304 E121.4737 %{eif\:30+mod(n\,40)\:d}km/h'`},
		{name: "top-right 经度/纬度", zone: image.Rect(480, 0, 960, 60),
			filter: "drawtext=fontfile=" + font(fontCJK) + ":fontsize=22:fontcolor=yellow:x=w-tw-12:y=12:" +
				`text='经度121.4737 纬度31.2304'`},
		{name: "bottom-left clock on a box", zone: image.Rect(0, 485, 480, 540),
			filter: "drawtext=fontfile=" + font(fontBold) + ":fontsize=14:fontcolor=black:box=1:boxcolor=white@0.7:x=12:y=h-th-14:" +
				`text='2026-11-24 %{pts\:hms} F%{frame_num}'`},
		{name: "bottom-right plate and device", zone: image.Rect(480, 485, 960, 540),
			filter: "drawtext=fontfile=" + font(fontCJK) + ":fontsize=24:fontcolor=cyan:x=w-tw-12:y=h-th-12:" +
				`text='沪A12345 DEV-7731 %{frame_num}'`},
		{name: "GPS fix appearing at frame 12 (between detector runs)", zone: image.Rect(0, 62, 960, 100),
			filter: "drawtext=fontfile=" + font(fontSans) + ":fontsize=16:fontcolor=white:borderw=1:bordercolor=black:x=(w-tw)/2:y=70:enable='gte(n,12)':" +
				`text='SAT 7 FIX 3D HDOP 0.9'`},
		{name: "moving sign in the middle", zone: image.Rect(0, 230, 960, 310), moving: true,
			filter: "drawtext=fontfile=" + font(fontSerif) + ":fontsize=32:fontcolor=white:x=40+6*n:y=250:" +
				`text='HOTEL PARKING 24H'`},
		{name: "ticker scrolling in the bottom band", zone: image.Rect(0, 435, 960, 480), moving: true,
			filter: "drawtext=fontfile=" + font(fontSans) + ":fontsize=20:fontcolor=orange:x=w-160-8*n:y=445:" +
				`text='SALE TODAY ONLY'`},
	}
}

// smallOverlayLayers are overlays at the small end (12-16 px font sizes)
// over a 1920×1080 scene, with the same kinds of moving scene text.
func smallOverlayLayers(t *testing.T) []textLayer {
	font := func(p string) string { return testenv.File(t, p) }
	return []textLayer{
		{name: "12 px GPS top left", zone: image.Rect(0, 0, 960, 60),
			filter: "drawtext=fontfile=" + font(fontMono) + ":fontsize=12:fontcolor=white:x=16:y=16:" +
				`text='N31.2304 E121.4737 %{eif\:30+mod(n\,40)\:d}km/h'`},
		{name: "16 px clock top right", zone: image.Rect(960, 0, 1920, 60),
			filter: "drawtext=fontfile=" + font(fontSerif) + ":fontsize=16:fontcolor=red:x=w-tw-16:y=16:" +
				`text='2026-11-24 %{pts\:hms}'`},
		{name: "13 px device ID bottom left", zone: image.Rect(0, 1020, 960, 1080),
			filter: "drawtext=fontfile=" + font(fontBold) + ":fontsize=13:fontcolor=black:box=1:boxcolor=white@0.7:x=16:y=h-th-16:" +
				`text='DEV-7731 F%{frame_num}'`},
		{name: "14 px 经度/纬度 bottom right", zone: image.Rect(960, 1020, 1920, 1080),
			filter: "drawtext=fontfile=" + font(fontCJK) + ":fontsize=14:fontcolor=yellow:x=w-tw-16:y=h-th-16:" +
				`text='经度121.4737 纬度31.2304 %{pts\:hms}'`},
		{name: "moving sign in the middle", zone: image.Rect(0, 500, 1920, 600), moving: true,
			filter: "drawtext=fontfile=" + font(fontSerif) + ":fontsize=40:fontcolor=white:x=100+9*n:y=520:" +
				`text='HOTEL PARKING 24H'`},
		{name: "ticker scrolling in the bottom band", zone: image.Rect(0, 870, 1920, 930), moving: true,
			filter: "drawtext=fontfile=" + font(fontSans) + ":fontsize=24:fontcolor=orange:x=w-300-12*n:y=885:" +
				`text='SALE TODAY ONLY'`},
	}
}

// Panning street scenes for the text layers: a dashcam's moving picture.
const (
	scene540  = "scale=1280:-2,crop=960:540:x='4*n':y=120,setsar=1"
	scene1080 = "scale=2400:-2,crop=1920:1080:x='6*n':y=300,setsar=1"
)

// makeOverlayVideos renders the scene twice, losslessly (in 4:2:0, as
// cameras record and desens writes): bare and with the text layers. Their
// difference is where each glyph is in each frame.
func makeOverlayVideos(t *testing.T, dir, scene string, frames int, layers []textLayer) (bare, drawn string) {
	t.Helper()
	bg := testenv.File(t, filepath.Join(testenv.OpenCVData, "building.jpg"))
	var texts []string
	for _, l := range layers {
		texts = append(texts, l.filter)
	}
	for _, v := range []struct{ out, vf string }{
		{filepath.Join(dir, "bare.mkv"), scene},
		{filepath.Join(dir, "drawn.mkv"), scene + "," + strings.Join(texts, ",")},
	} {
		ffmpeg(t, "-loop", "1", "-framerate", "25", "-i", bg, "-vf", v.vf+",format=yuv420p",
			"-frames:v", strconv.Itoa(frames), "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", v.out)
	}
	return filepath.Join(dir, "bare.mkv"), filepath.Join(dir, "drawn.mkv")
}

// lockstep decodes videos side by side and calls fn with frame i of each.
func lockstep(t *testing.T, paths []string, fn func(i int, imgs []gocv.Mat)) int {
	t.Helper()
	ctx := context.Background()
	readers := make([]*video.Reader, len(paths))
	imgs := make([]gocv.Mat, len(paths))
	for k, p := range paths {
		info, err := video.Probe(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if readers[k], err = video.Open(ctx, p, info); err != nil {
			t.Fatal(err)
		}
		defer readers[k].Close()
		imgs[k] = gocv.NewMat()
		defer imgs[k].Close()
	}
	for n := 0; ; n++ {
		for k, r := range readers {
			err := r.Read(&imgs[k])
			if errors.Is(err, io.EOF) {
				if k != 0 {
					t.Fatalf("%s ends at frame %d, before %s", paths[k], n, paths[0])
				}
				return n
			}
			if err != nil {
				t.Fatalf("%s frame %d: %v", paths[k], n, err)
			}
		}
		fn(n, imgs)
	}
}

// glyphMask marks the pixels of zone where drawn differs from bare (the
// glyphs of one layer in one frame), and returns the box around them.
func glyphMask(bare, drawn gocv.Mat, zone image.Rectangle, mask *gocv.Mat) image.Rectangle {
	a, b := bare.Region(zone), drawn.Region(zone)
	defer a.Close()
	defer b.Close()
	d, g := gocv.NewMat(), gocv.NewMat()
	defer d.Close()
	defer g.Close()
	gocv.AbsDiff(a, b, &d)
	gocv.CvtColor(d, &g, gocv.ColorBGRToGray)
	*mask = gocv.NewMatWithSize(drawn.Rows(), drawn.Cols(), gocv.MatTypeCV8U)
	m := mask.Region(zone)
	defer m.Close()
	gocv.Threshold(g, &m, 40, 255, gocv.ThresholdBinary)
	pts := gocv.NewMat()
	defer pts.Close()
	gocv.FindNonZero(m, &pts)
	if pts.Empty() {
		return image.Rectangle{}
	}
	pv := gocv.NewPointVectorFromMat(pts)
	defer pv.Close()
	return gocv.BoundingRect(pv).Add(zone.Min)
}

// kept is the share of the glyph pixels (mask) in box that out still shows
// in their drawn colour (every channel within 24 levels): ~0.8 for text
// merely re-encoded, ~0 for hidden text.
func kept(drawn, out, mask gocv.Mat, box image.Rectangle) (float64, int) {
	rd, ro, rm := drawn.Region(box), out.Region(box), mask.Region(box)
	defer rd.Close()
	defer ro.Close()
	defer rm.Close()
	glyph := gocv.CountNonZero(rm)
	if glyph == 0 {
		return 0, 0
	}
	d, close3 := gocv.NewMat(), gocv.NewMat()
	defer d.Close()
	defer close3.Close()
	gocv.AbsDiff(rd, ro, &d)
	gocv.InRangeWithScalar(d, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(24, 24, 24, 0), &close3)
	both := gocv.NewMat()
	defer both.Close()
	gocv.BitwiseAnd(close3, rm, &both)
	return float64(gocv.CountNonZero(both)) / float64(glyph), glyph
}

// chunks cuts a glyph box into pieces about a glyph wide, so that one
// unhidden character cannot hide behind a well-hidden line.
func chunks(b image.Rectangle) []image.Rectangle {
	w := max(8, b.Dy())
	var out []image.Rectangle
	for x := b.Min.X; x < b.Max.X; x += w {
		if x+w+w/2 > b.Max.X { // no sliver at the end: too thin to measure
			return append(out, image.Rect(x, b.Min.Y, b.Max.X, b.Max.Y))
		}
		out = append(out, image.Rect(x, b.Min.Y, x+w, b.Max.Y))
	}
	return out
}

// meanDiff is the mean absolute grey-level difference of two images in box.
func meanDiff(a, b gocv.Mat, box image.Rectangle) float64 {
	ra, rb := a.Region(box), b.Region(box)
	defer ra.Close()
	defer rb.Close()
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(ra, rb, &d)
	s := d.Sum()
	return (s.Val1 + s.Val2 + s.Val3) / float64(3*box.Dx()*box.Dy())
}

// Thresholds of the checks below. Hidden: a glyph-wide piece keeps under
// maxKeptGlyph of its glyph pixels or under maxHiddenDetail of its fine
// structure (shown text keeps ~80% and ~90%). Untouched: moving text keeps over
// minKeptDetail of its fine structure (70-95% seen) and differs from the input by under
// maxKeptDiff grey levels (codec noise over a panning scene reaches ~9;
// hidden text is ~1% and ~40).
const (
	maxKeptGlyph    = 0.2
	maxHiddenDetail = 0.3
	minKeptDetail   = 0.6
	maxKeptDiff     = 14.0
)

// checkOverlays checks every frame of out against the input: each glyph
// of each overlay hidden, and (when keepMoving) the moving text untouched.
func checkOverlays(t *testing.T, bare, drawn, out string, layers []textLayer, keepMoving bool) {
	t.Helper()
	worst := map[string]float64{}
	n := lockstep(t, []string{bare, drawn, out}, func(i int, imgs []gocv.Mat) {
		for _, l := range layers {
			var mask gocv.Mat
			g := glyphMask(imgs[0], imgs[1], l.zone, &mask)
			switch {
			case g.Empty():
				// a moving line off screen
			case !l.moving:
				for _, c := range chunks(g) {
					k, px := kept(imgs[1], imgs[2], mask, c)
					if px < 10 {
						continue // a gap between words
					}
					// Either measure alone is fooled: glyph colour by white
					// text washed over a white wall, detail by a wall's
					// edge under yellow text. Shown text passes both.
					r := detail(imgs[2], c) / max(1, detail(imgs[1], c))
					worst[l.name] = max(worst[l.name], min(k/maxKeptGlyph, r/maxHiddenDetail))
					if k > maxKeptGlyph && r > maxHiddenDetail {
						t.Errorf("frame %d, %s: glyphs at %v still show (%.0f%% of their pixels, %.0f%% of their detail)", i, l.name, c, 100*k, 100*r)
					}
				}
			case keepMoving:
				r := detail(imgs[2], g) / detail(imgs[1], g)
				d := meanDiff(imgs[1], imgs[2], g)
				if r < minKeptDetail || d > maxKeptDiff {
					t.Errorf("frame %d, %s: scene text at %v changed (detail %.0f%%, mean difference %.1f)", i, l.name, g, 100*r, d)
				}
			}
			mask.Close()
		}
	})
	for k, v := range worst {
		t.Logf("%s: worst piece at %.2f of the limit", k, v)
	}
	if n == 0 {
		t.Fatal("no frames")
	}
}

func TestOverlaysHiddenEveryFrame(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and desensitizes 50 frames per case")
	}
	dir := t.TempDir()
	layers := overlayLayers(t)
	bare, drawn := makeOverlayVideos(t, dir, scene540, 50, layers)
	smallDir := filepath.Join(dir, "small")
	if err := os.Mkdir(smallDir, 0o755); err != nil {
		t.Fatal(err)
	}
	small := smallOverlayLayers(t)
	smallBare, smallDrawn := makeOverlayVideos(t, smallDir, scene1080, 15, small)
	for _, tc := range []struct {
		name        string
		bare, drawn string
		layers      []textLayer
		mode        detect.OverlayMode
		every       int
	}{
		{"540p", bare, drawn, layers, detect.OverlayGeo, 5},
		{"540p", bare, drawn, layers, detect.OverlayAllText, 5},
		{"540p", bare, drawn, layers, detect.OverlayGeo, 1},
		{"1080p small fonts", smallBare, smallDrawn, small, detect.OverlayGeo, 5},
		{"1080p small fonts", smallBare, smallDrawn, small, detect.OverlayAllText, 5},
	} {
		t.Run(fmt.Sprintf("%s %s every %d", tc.name, tc.mode, tc.every), func(t *testing.T) {
			d := newTestDesensitizer(t, Options{Targets: []detect.Class{detect.Overlay}, Overlay: OverlayOptions{Mode: tc.mode, Every: tc.every}})
			out := filepath.Join(filepath.Dir(tc.drawn), fmt.Sprintf("out-%s-%d.mp4", tc.mode, tc.every))
			rep := d.ProcessFile(context.Background(), tc.drawn, out)
			if !rep.OK {
				t.Fatal(rep.Err())
			}
			t.Logf("%d frames, %d regions hidden, stage ms %v", rep.Frames, rep.Redacted, rep.Timings)
			checkOverlays(t, tc.bare, tc.drawn, out, tc.layers, true)
		})
	}
}

func TestOverlayROIVideo(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and desensitizes 50 frames")
	}
	dir := t.TempDir()
	layers := overlayLayers(t)
	bare, drawn := makeOverlayVideos(t, dir, scene540, 50, layers)
	roi := filepath.Join(dir, "cam.json")
	// The top-left overlay's place, in fractions of the frame.
	if err := os.WriteFile(roi, []byte(`{"regions":[{"name":"gps","box":[0,0,0.4,0.1]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := newTestDesensitizer(t, Options{Targets: []detect.Class{detect.Overlay}, Overlay: OverlayOptions{ROI: roi}})
	if len(d.Models()) != 0 {
		t.Errorf("roi mode loaded %v", d.Models())
	}
	out := filepath.Join(dir, "out.mp4")
	if rep := d.ProcessFile(context.Background(), drawn, out); !rep.OK {
		t.Fatal(rep.Err())
	}
	var checked []textLayer
	for _, l := range layers {
		if l.moving || l.name == "top-left GPS and speed" {
			checked = append(checked, l)
		}
	}
	checkOverlays(t, bare, drawn, out, checked, true)
}

func TestOverlayOptions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        Options
		mode      detect.OverlayMode
		every     int
		errSaying string
	}{
		{"defaults", Options{}, detect.OverlayGeo, 5, ""},
		{"an ROI file means roi mode", Options{Overlay: OverlayOptions{ROI: "cam.json"}}, detect.OverlayROI, 5, ""},
		{"every is capped at hold+1", Options{Overlay: OverlayOptions{Every: 10}, Hold: 3}, detect.OverlayGeo, 4, ""},
		{"no tracking: every frame", Options{Overlay: OverlayOptions{Every: 5}, Hold: -1}, detect.OverlayGeo, 1, ""},
		{"an ROI file in geo mode", Options{Overlay: OverlayOptions{Mode: detect.OverlayGeo, ROI: "cam.json"}}, "", 0, "ROI file goes with roi mode"},
		{"roi mode without a file", Options{Overlay: OverlayOptions{Mode: detect.OverlayROI}}, "", 0, "ROI file goes with roi mode"},
		{"an unknown mode", Options{Overlay: OverlayOptions{Mode: "gps"}}, "", 0, "unknown overlay mode"},
		{"a negative interval", Options{Overlay: OverlayOptions{Every: -2}}, "", 0, "want 1 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Targets = []detect.Class{detect.Overlay}
			o, err := tc.in.withDefaults()
			if tc.errSaying != "" {
				if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tc.errSaying) {
					t.Fatalf("err %v, want one saying %q", err, tc.errSaying)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Overlay.Mode != tc.mode || o.Overlay.Every != tc.every {
				t.Errorf("mode %s every %d, want %s every %d", o.Overlay.Mode, o.Overlay.Every, tc.mode, tc.every)
			}
		})
	}
}

// TestOverlayImage: a still image has no persistence to go on, so geo mode
// hides the text in the top and bottom bands and leaves the rest.
func TestOverlayImage(t *testing.T) {
	dir := t.TempDir()
	layers := overlayLayers(t)
	var still []textLayer // the corner overlays and the sign, on one frame
	var texts []string
	for _, l := range layers {
		if l.name != "ticker scrolling in the bottom band" {
			still = append(still, l)
			texts = append(texts, l.filter)
		}
	}
	bg := testenv.File(t, filepath.Join(testenv.OpenCVData, "building.jpg"))
	bare, drawn := filepath.Join(dir, "bare.png"), filepath.Join(dir, "drawn.png")
	ffmpeg(t, "-i", bg, "-vf", scene540, "-frames:v", "1", bare)
	ffmpeg(t, "-i", bg, "-vf", scene540+","+strings.Join(texts, ","), "-frames:v", "1", drawn)
	d := newTestDesensitizer(t, Options{Targets: []detect.Class{detect.Overlay}})
	out := filepath.Join(dir, "out.png")
	if rep := d.ProcessFile(context.Background(), drawn, out); !rep.OK {
		t.Fatal(rep.Err())
	}
	// PNG frames are lossless, so they stand in for one-frame videos.
	checkOverlays(t, bare, drawn, out, still, true)
}
