package detect

import (
	"image"
	"image/color"
	"math"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/testenv"
)

func TestDecodeCorners(t *testing.T) {
	anchor := func(cx, cy, w, h, obj, c1, c2 float32, corners ...float32) []float32 {
		return append(append([]float32{cx, cy, w, h, obj}, corners...), c1, c2)
	}
	q := []float32{10, 20, 50, 20, 50, 30, 10, 30}
	out := append(anchor(30, 25, 40, 10, 0.9, 0.8, 0.1, q...), anchor(100, 100, 10, 10, 0.2, 1, 0, q...)...)
	out = append(out, anchor(200, 100, 40, 20, 0.9, 0.1, 0.6, q...)...) // double row
	got := decodeCorners(out, 0.25)
	if len(got) != 2 {
		t.Fatalf("got %d candidates, want 2: %+v", len(got), got)
	}
	if math.Abs(got[0].score-0.72) > 1e-6 || got[0].box != (rectF{10, 20, 50, 30}) {
		t.Errorf("first = %+v, want score 0.72 box (10,20)-(50,30)", got[0])
	}
	if math.Abs(got[1].score-0.54) > 1e-6 {
		t.Errorf("double-row score = %v, want 0.9 × 0.6", got[1].score)
	}
	if got[0].quad == nil || got[0].quad[2] != (pointF{50, 30}) {
		t.Errorf("corners = %v", got[0].quad)
	}
}

func TestLetterboxFill(t *testing.T) {
	// The close-up view: a 1920×1080 frame spanning half the square,
	// 320×180 px in its middle.
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), 1080, 1920, gocv.MatTypeCV8UC3)
	defer img.Close()
	in, s, off, err := letterbox(img, 640, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s-1.0/6) > 1e-9 || off != image.Pt(160, 230) {
		t.Fatalf("letterbox: scale %v, offset %v", s, off)
	}
	for _, p := range []struct {
		pt   image.Point
		want float32
	}{{image.Pt(159, 300), 0}, {image.Pt(160, 230), 1}, {image.Pt(479, 409), 1}, {image.Pt(480, 409), 0}, {image.Pt(300, 410), 0}} {
		if got := in[p.pt.Y*640+p.pt.X]; got != p.want {
			t.Errorf("value at %v = %v, want %v", p.pt, got, p.want)
		}
	}
}

func TestUnletterbox(t *testing.T) {
	// A 1920×1080 frame in a 640 square: scale 1/3, 140 px bands above
	// and below.
	img := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
	defer img.Close()
	in, s, off, err := letterbox(img, 640, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 3*640*640 || math.Abs(s-1.0/3) > 1e-9 || off != image.Pt(0, 140) {
		t.Fatalf("letterbox: %d values, scale %v, offset %v", len(in), s, off)
	}
	c := candidate{box: rectF{100, 240, 130, 250}, quad: &quadF{{100, 240}, {130, 240}, {130, 250}, {100, 250}}}
	c = c.unletterbox(s, off)
	if c.box.rect() != image.Rect(300, 300, 390, 330) || c.quad[2] != (pointF{390, 330}) {
		t.Errorf("unletterboxed = %v %v", c.box, c.quad)
	}
}

func TestQuadHull(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    quadF
		ok   bool
	}{
		{"in order", quadF{{0, 0}, {40, 0}, {40, 10}, {0, 10}}, true},
		{"crossed order", quadF{{0, 0}, {40, 10}, {40, 0}, {0, 10}}, true},
		{"three in a line", quadF{{0, 0}, {20, 0}, {40, 0}, {0, 10}}, false},
		{"one point", quadF{{5, 5}, {5, 5}, {5, 5}, {5, 5}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := tc.q.hull()
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%v)", ok, tc.ok, h)
			}
			if ok && math.Abs(h.area()-400) > 1e-9 {
				t.Errorf("area = %v, want 400", h.area())
			}
		})
	}
}

// A tilted plate is hidden over its own outline grown along its axes: the
// grown corners hold the plate's and stay near it, far inside the loose
// rectangle round it.
func TestPlateQuadCover(t *testing.T) {
	// A 100×30 plate turned by 30°.
	a := math.Pi / 6
	var quad []image.Point
	for _, p := range [][2]float64{{-50, -15}, {50, -15}, {50, 15}, {-50, 15}} {
		x := 500 + p[0]*math.Cos(a) - p[1]*math.Sin(a)
		y := 500 + p[0]*math.Sin(a) + p[1]*math.Cos(a)
		quad = append(quad, image.Pt(int(math.Round(x)), int(math.Round(y))))
	}
	got := PlateQuadCover(quad)
	if len(got) != 4 {
		t.Fatalf("PlateQuadCover = %v", got)
	}
	var g quadF
	for k, p := range got {
		g[k] = pointF{float64(p.X), float64(p.Y)}
	}
	w, h := g.sides()
	// 100 + 2×(10+2) wide, 30 + 2×(7.5+2) high, give or take rounding.
	if math.Abs(w-124) > 2 || math.Abs(h-49) > 2 {
		t.Errorf("grown sides %.1f × %.1f, want about 124 × 49", w, h)
	}
	for _, p := range quad {
		if !inQuad(g, pointF{float64(p.X), float64(p.Y)}) {
			t.Errorf("corner %v outside the cover %v", p, got)
		}
	}
	if PlateQuadCover(quad[:3]) != nil || PlateQuadCover([]image.Point{{0, 0}, {1, 0}, {2, 0}, {3, 0}}) != nil {
		t.Error("a degenerate outline gave a cover")
	}
}

// inQuad reports whether p is inside the convex quadrilateral q (corners
// in order round it).
func inQuad(q quadF, p pointF) bool {
	sign := 0.0
	for i := range 4 {
		a, b := q[i], q[(i+1)%4]
		c := (b.x-a.x)*(p.y-a.y) - (b.y-a.y)*(p.x-a.x)
		if c != 0 && sign != 0 && math.Signbit(c) != math.Signbit(sign) {
			return false
		}
		if c != 0 {
			sign = c
		}
	}
	return true
}

func TestTrustedQuad(t *testing.T) {
	box := rectF{0, 0, 100, 30}
	for _, tc := range []struct {
		name string
		q    *quadF
		ok   bool
	}{
		{"no corners", nil, false},
		{"the box's corners", &quadF{{0, 0}, {100, 0}, {100, 30}, {0, 30}}, true},
		{"tilted inside", &quadF{{0, 10}, {100, 0}, {100, 20}, {0, 30}}, true},
		{"elsewhere", &quadF{{300, 0}, {400, 0}, {400, 30}, {300, 30}}, false},
		{"a sliver across the box", &quadF{{0, 0}, {100, 28}, {100, 30}, {0, 3}}, false},
	} {
		_, ok := candidate{box: box, quad: tc.q}.trustedQuad()
		if ok != tc.ok {
			t.Errorf("%s: ok = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

func TestPlateShaped(t *testing.T) {
	d := &PlateDetector{cfg: DefaultPlateConfig(), verify: &plateVerifier{}, corner: &cornerDetector{}}
	own := &PlateDetector{cfg: DefaultPlateConfig(), verify: &plateVerifier{}} // no corner detector
	// 1000×500 frame: 5 % is 25000 px².
	for _, tc := range []struct {
		name string
		c    candidate
		keep bool
	}{
		{"small plate", candidate{box: rectF{0, 0, 60, 20}}, true},
		{"twice as tall as wide", candidate{box: rectF{0, 0, 20, 41}}, false},
		{"a plate turned away, taller than wide", candidate{box: rectF{0, 0, 28, 48}}, true},
		{"a thin line", candidate{box: rectF{0, 0, 300, 20}}, false},
		{"most of the width", candidate{box: rectF{0, 0, 800, 200}, ver: 1, peak: 1}, false},
		{"large, verifier sure", candidate{box: rectF{0, 0, 300, 100}, ver: 0.9}, false},
		{"large, corners sure", candidate{box: rectF{0, 0, 300, 100}, ver: 0.3, peak: 0.8,
			quad: &quadF{{0, 0}, {300, 0}, {300, 100}, {0, 100}}}, true},
		{"large, corners sure, verifier against", candidate{box: rectF{0, 0, 300, 100}, ver: 0.1, peak: 0.8,
			quad: &quadF{{0, 0}, {300, 0}, {300, 100}, {0, 100}}}, false},
		{"large, corners sure, no corners", candidate{box: rectF{0, 0, 300, 100}, ver: 0.3, peak: 0.8}, false},
		{"large, corners unsure", candidate{box: rectF{0, 0, 300, 100}, ver: 0.1, peak: 0.4,
			quad: &quadF{{0, 0}, {300, 0}, {300, 100}, {0, 100}}}, false},
		{"large and square", candidate{box: rectF{0, 0, 200, 190}, ver: 1}, false},
		{"most of the width, corners sure, nothing to read it", candidate{box: rectF{0, 0, 900, 300}, ver: 0.3, peak: 0.8,
			quad: &quadF{{0, 0}, {900, 0}, {900, 300}, {0, 300}}}, false},
		{"large, corners sure, close-up view, nothing to read it", candidate{box: rectF{0, 0, 300, 100}, ver: 0.3, peak: 0.8,
			quad: &quadF{{0, 0}, {300, 0}, {300, 100}, {0, 100}}, closeUp: true}, false},
		{"most of the width, corners unsure", candidate{box: rectF{0, 0, 900, 300}, ver: 1, peak: 0.6,
			quad: &quadF{{0, 0}, {900, 0}, {900, 300}, {0, 300}}}, false},
	} {
		got := d.plateShaped([]candidate{tc.c}, 1000, 500, frameSearch{still: true})
		if (len(got) == 1) != tc.keep {
			t.Errorf("%s: kept %v, want %v", tc.name, len(got) == 1, tc.keep)
		}
	}
	// A large box the corner detector is not sure of needs the verifier
	// and then its reading: with a reader it is kept, marked large.
	reading := &PlateDetector{cfg: DefaultPlateConfig(), verify: &plateVerifier{}, read: &plateReader{}}
	for _, tc := range []struct {
		d           *PlateDetector
		ver         float64
		keep, large bool
	}{{own, 0.9, false, false}, {reading, 0.9, true, true}, {reading, 0.3, false, false}} {
		got := tc.d.plateShaped([]candidate{{box: rectF{0, 0, 300, 100}, ver: tc.ver}, {box: rectF{0, 0, 60, 20}}}, 1000, 500, frameSearch{still: true})
		if keep := len(got) == 2; keep != tc.keep || got[0].large != (tc.keep && tc.large) {
			t.Errorf("reader %v, large box, verifier %.1f: kept %v (%+v), want %v, large %v", tc.d.read != nil, tc.ver, keep, got, tc.keep, tc.large)
		}
	}
	// Boxes kept for their reading to judge: a plate turned 45° in a
	// close-up, whose box spans 0.8 of the frame's height and the plate
	// itself (453 × 113 px) less; boxes spanning most of the frame's
	// width, the corner detector sure of one; in a still with a reader,
	// any large box, sure corners or not; one of the close-up view. Those
	// without sure corners need the verifier's LargeVerify too.
	for _, tc := range []struct {
		name string
		c    candidate
	}{
		{"turned close-up plate", candidate{box: rectF{0, 0, 400, 400}, ver: 1, peak: 0.6,
			quad: &quadF{{0, 320}, {320, 0}, {400, 80}, {80, 400}}}},
		{"most of the width, corners sure", candidate{box: rectF{0, 0, 900, 300}, ver: 0.3, peak: 0.8,
			quad: &quadF{{0, 0}, {900, 0}, {900, 300}, {0, 300}}}},
		{"most of the width, no corners", candidate{box: rectF{0, 0, 800, 200}, ver: 0.9, peak: 0.3}},
		{"large, corners sure", candidate{box: rectF{0, 0, 300, 100}, ver: 0.3, peak: 0.8,
			quad: &quadF{{0, 0}, {300, 0}, {300, 100}, {0, 100}}}},
		{"close-up view, corners sure", candidate{box: rectF{0, 0, 300, 100}, ver: 0.3, peak: 0.8,
			quad: &quadF{{0, 0}, {300, 0}, {300, 100}, {0, 100}}, closeUp: true}},
	} {
		if got := reading.plateShaped([]candidate{tc.c}, 1000, 500, frameSearch{still: true}); len(got) != 1 || !got[0].large {
			t.Errorf("%s: got %+v, want it kept, marked large", tc.name, got)
		}
		// In video a box spanning more than MaxSide, or whose plate does,
		// is dropped.
		over := tc.c.box.w() > 700 || tc.c.box.h() > 350 || reading.wide(tc.c, 1000, 500)
		if got := reading.plateShaped([]candidate{tc.c}, 1000, 500, frameSearch{}); (len(got) == 1) == over {
			t.Errorf("%s, in video: got %+v, want it dropped %v", tc.name, got, over)
		}
	}
}

// In video a box without corners clear of the frame's edges must be at
// least as wide as high; one cut by an edge, or with corners, keeps
// MinAspect.
func TestPlateShapedInside(t *testing.T) {
	d := &PlateDetector{cfg: DefaultPlateConfig(), verify: &plateVerifier{}, corner: &cornerDetector{}}
	for _, tc := range []struct {
		name   string
		c      candidate
		inside float64
		keep   bool
	}{
		{"taller than wide, clear of the edges", candidate{box: rectF{100, 100, 128, 148}}, 1, false},
		{"taller than wide, in a still", candidate{box: rectF{100, 100, 128, 148}}, 0, true},
		{"as tall as wide", candidate{box: rectF{100, 100, 148, 148}}, 1, true},
		{"taller than wide, at the left edge", candidate{box: rectF{0, 100, 28, 148}}, 1, true},
		{"taller than wide, at the bottom edge", candidate{box: rectF{100, 452, 128, 500}}, 1, true},
		{"corners of a plate on end", candidate{box: rectF{100, 100, 140, 220},
			quad: &quadF{{100, 100}, {140, 100}, {140, 220}, {100, 220}}}, 1, true},
	} {
		got := d.plateShaped([]candidate{tc.c}, 1000, 500, frameSearch{inside: tc.inside, still: tc.inside == 0})
		if (len(got) == 1) != tc.keep {
			t.Errorf("%s: kept %v, want %v", tc.name, len(got) == 1, tc.keep)
		}
	}
}

// The real Chinese photos (testdata/eval/plates-cn, hand labels): every
// plate is found, and no box covers more than a small part of the frame
// unless it is the close-up plate.
func TestPlateChinesePhotos(t *testing.T) {
	d := newPlate(t)
	for _, im := range loadPlateLabels(t, filepath.Join("eval", "plates-cn")) {
		t.Run(im.File, func(t *testing.T) {
			img := readPhoto(t, filepath.Join("eval", "plates-cn"), im.File)
			dets, err := d.DetectFrame(t.Context(), img)
			if err != nil {
				t.Fatal(err)
			}
			checkPlates(t, dets, im, 0.7)
		})
	}
}

// Photos of cars without a readable plate: no box may cover more than 5 %
// of the frame.
func TestPlateNoLargeFalseBox(t *testing.T) {
	d := newPlate(t)
	for _, f := range []string{"white_car.jpg", "black_car.jpg"} {
		img := gocv.IMRead(testenv.File(t, filepath.Join("/usr/share/doc/opencv-doc/opencv4/html", f)), gocv.IMReadColor)
		dets, err := d.DetectFrame(t.Context(), img)
		area := img.Cols() * img.Rows()
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, det := range dets {
			if a := det.Box.Dx() * det.Box.Dy(); a*20 > area {
				t.Errorf("%s: box %v covers %.1f%% of the frame", f, det.Box, 100*float64(a)/float64(area))
			}
		}
	}
}

func TestDigits(t *testing.T) {
	for s, want := range map[string]int{"": 0, "PARKING": 0, "苏E·D51712": 5, "A1": 1, "24小时营业": 2} {
		if got := digits(s); got != want {
			t.Errorf("digits(%q) = %d, want %d", s, got, want)
		}
	}
}

// A close-up: the green plate of testdata/eval/plates-cn's street photo,
// seen at a steep angle, cut out and enlarged so that it spans 45 % of a
// 1280 px frame, larger than any plate the models were trained on. The
// corner detector's close-up view finds it (its one view at full size
// sees nothing there), and a plate that large is kept.
func TestPlateCloseUp(t *testing.T) {
	img := readPhoto(t, "eval/plates-cn", "hyperlpr_test_img.jpg")
	// The labelled plate is at (1756, 750), 106 × 103 px.
	crop := img.Region(image.Rect(1691, 731, 1920, 873))
	defer crop.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	f := 1280.0 / 229
	gocv.Resize(crop, &frame, image.Pt(1280, int(142*f)), 0, 0, gocv.InterpolationCubic)
	want := image.Rect(int(65*f), int(19*f), int(171*f), int(122*f))

	for _, tc := range []struct {
		closeUp float64
		found   bool
	}{{0, false}, {DefaultPlateConfig().CornerCloseUp, true}} {
		cfg := DefaultPlateConfig()
		cfg.CornerCloseUp = tc.closeUp
		cfg.CornerTurn = 0 // which finds this plate too, turned as it is
		dets, err := newPlateConfig(t, cfg).DetectFrame(t.Context(), frame)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, det := range dets {
			found = found || IoU(det.Box, want) >= 0.5
		}
		if found != tc.found {
			t.Errorf("close-up view %v: plate at %v found %v, want %v; got %v", tc.closeUp, want, found, tc.found, dets)
		}
	}
}

// Close-ups of the synthetic plates in testdata/plates, cut so that each
// spans 90 % of a 1280 px frame (1150 px): wider than the own model's
// widest at its coarsest size, 1/4 (200 model px). With the still's
// close-up size (CloseUpScale) each is found; the log says whether the
// stage finds it without.
func TestPlateCloseUpScale(t *testing.T) {
	cfg := DefaultPlateConfig()
	with := newPlate(t)
	cfg.CloseUpScale = 0
	without := newPlateConfig(t, cfg)
	for _, im := range loadPlateLabels(t, "plates") {
		t.Run(im.File, func(t *testing.T) {
			img := readPhoto(t, "plates", im.File)
			b := im.Objects[0].Box
			cw := float64(b[2]) / 0.9
			ch := cw * 0.6
			x0 := max(0, min(img.Cols()-int(cw), b[0]+b[2]/2-int(cw/2)))
			y0 := max(0, min(img.Rows()-int(ch), b[1]+b[3]/2-int(ch/2)))
			cr := image.Rect(x0, y0, x0+int(cw), y0+int(ch)).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
			crop := img.Region(cr)
			defer crop.Close()
			f := 1280 / float64(cr.Dx())
			frame := gocv.NewMat()
			defer frame.Close()
			gocv.Resize(crop, &frame, image.Pt(1280, int(float64(cr.Dy())*f)), 0, 0, gocv.InterpolationCubic)
			want := image.Rect(int(float64(b[0]-x0)*f), int(float64(b[1]-y0)*f), int(float64(b[0]+b[2]-x0)*f), int(float64(b[1]+b[3]-y0)*f))
			found := func(d *PlateDetector) bool {
				dets, err := d.DetectFrame(t.Context(), frame)
				if err != nil {
					t.Fatal(err)
				}
				for _, det := range dets {
					if IoU(det.Box, want) >= 0.5 {
						return true
					}
				}
				t.Logf("%v: got %v", want, dets)
				return false
			}
			if !found(with) {
				t.Errorf("plate at %v not found", want)
			}
			t.Logf("without the close-up size: found %v", found(without))
		})
	}
}

// A turned view maps back to the frame: a bright dot in the frame comes
// out in the square where the map sends back to the dot, and the
// square's centre is the frame's.
func TestTurnedLetterbox(t *testing.T) {
	for _, deg := range []float64{30, -30, 90} {
		img := gocv.NewMatWithSize(200, 400, gocv.MatTypeCV8UC3)
		dot := image.Pt(300, 50)
		gocv.Circle(&img, dot, 3, color.RGBA{255, 255, 255, 0}, -1)
		in, back, err := turnedLetterbox(img, 640, 1, deg)
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		if c := back(pointF{320, 320}); math.Abs(c.x-200) > 1e-6 || math.Abs(c.y-100) > 1e-6 {
			t.Errorf("%v°: the square's centre maps to %v, want (200, 100)", deg, c)
		}
		best, at := float32(0), 0
		for i, v := range in[:640*640] {
			if v > best {
				best, at = v, i
			}
		}
		p := back(pointF{float64(at%640) + 0.5, float64(at/640) + 0.5})
		if math.Hypot(p.x-float64(dot.X), p.y-float64(dot.Y)) > 4 {
			t.Errorf("%v°: the dot at %v maps back to %v", deg, dot, p)
		}
	}
}

// A real traffic-camera photo (testdata/eval/plates-cn/hyperlpr_pre.jpg)
// turned 30° each way: the plate (29 × 10 px) is found in the turned views
// (PlateConfig.CornerTurn), which straighten it for the corner detector
// and the verifier; the log says whether it is found without them.
func TestPlateTurned(t *testing.T) {
	img := readPhoto(t, "eval/plates-cn", "hyperlpr_pre.jpg")
	cfg := DefaultPlateConfig()
	cfg.CornerTurn = 0
	without := newPlateConfig(t, cfg)
	with := newPlate(t)
	plate := pointF{154 + 14.5, 205 + 5}
	for _, deg := range []float64{30, -30} {
		// The photo turned on a canvas that holds it all, as
		// turnedLetterbox turns a frame.
		rad := deg * math.Pi / 180
		cos, sin := math.Cos(rad), math.Sin(rad)
		side := 320 * (math.Abs(cos) + math.Abs(sin))
		m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
		for i, v := range []float64{cos, sin, side/2 - cos*160 - sin*160, -sin, cos, side/2 + sin*160 - cos*160} {
			m.SetDoubleAt(i/3, i%3, v)
		}
		turned := gocv.NewMat()
		gocv.WarpAffineWithParams(img, &turned, m, image.Pt(int(side), int(side)), gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{110, 110, 110, 0})
		m.Close()
		at := image.Pt(int(cos*(plate.x-160)+sin*(plate.y-160)+side/2), int(-sin*(plate.x-160)+cos*(plate.y-160)+side/2))
		found := func(d *PlateDetector) bool {
			dets, err := d.DetectFrame(t.Context(), turned)
			if err != nil {
				t.Fatal(err)
			}
			for _, det := range dets {
				if at.In(det.Box) {
					return true
				}
			}
			t.Logf("%v°: plate at %v, got %v", deg, at, dets)
			return false
		}
		if !found(with) {
			t.Errorf("%v°: the plate at %v not found", deg, at)
		}
		t.Logf("%v°: found without the turned views: %v", deg, found(without))
		turned.Close()
	}
}

func TestQuadTilt(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    quadF
		want float64
	}{
		{"upright", quadF{{0, 0}, {40, 0}, {40, 10}, {0, 10}}, 0},
		{"starting at a short side", quadF{{40, 0}, {40, 10}, {0, 10}, {0, 0}}, 0},
		{"turned 45°", quadF{{0, 30}, {30, 0}, {40, 10}, {10, 40}}, 45},
		{"on end", quadF{{0, 0}, {10, 0}, {10, 40}, {0, 40}}, 90},
	} {
		if got := tc.q.tilt(); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: tilt %v, want %v", tc.name, got, tc.want)
		}
	}
}
