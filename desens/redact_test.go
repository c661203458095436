package desens

import (
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
)

// TestRedactionDestroysFaces redacts the faces in a real photo with every
// style and shape: afterwards the detector finds nothing, the face's detail
// is gone, and pixels away from the faces are untouched.
func TestRedactionDestroysFaces(t *testing.T) {
	d := newTestDesensitizer(t, Options{})
	src := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer src.Close()
	up := gocv.NewMat() // make the face a comfortable 66 px
	defer up.Close()
	gocv.Resize(src, &up, image.Pt(0, 0), 2, 2, gocv.InterpolationCubic)
	found := faces(t, d, up)
	if len(found) == 0 {
		t.Fatal("no face in the test photo")
	}
	var boxes []image.Rectangle
	for _, f := range found {
		boxes = append(boxes, f.Box)
	}
	for _, style := range []Style{StyleBlur, StylePixelate, StyleSolid} {
		for _, shape := range []Shape{ShapeEllipse, ShapeRect} {
			t.Run(string(style)+"/"+string(shape), func(t *testing.T) {
				img := up.Clone()
				defer img.Close()
				r := redactor{Style: style, Shape: shape, Expand: 1.3}
				r.RedactDetections(&img, found, nil)
				if f := faces(t, d, img); len(f) > 0 {
					t.Errorf("detector still fires after redaction: %v", f)
				}
				for _, b := range boxes {
					if style == StylePixelate {
						break // block edges are strong Laplacian edges; the detector check stands
					}
					if after, before := detail(img, b), detail(up, b); after > before/10 {
						t.Errorf("face at %v keeps %.0f%% of its detail", b, 100*after/before)
					}
				}
				// Far from the face nothing changes.
				bounds := image.Rect(0, 0, img.Cols(), img.Rows())
				far := r.Region(boxes[0], bounds).Inset(-40)
				diff := gocv.NewMat()
				defer diff.Close()
				gocv.AbsDiff(img, up, &diff)
				for _, probe := range []image.Rectangle{image.Rect(0, 0, 100, 100), image.Rect(bounds.Max.X-100, bounds.Max.Y-100, bounds.Max.X, bounds.Max.Y)} {
					if probe.Overlaps(far) {
						continue
					}
					roi := diff.Region(probe)
					s := roi.Sum()
					roi.Close()
					if s.Val1+s.Val2+s.Val3 != 0 {
						t.Errorf("pixels changed at %v, far from any face", probe)
					}
				}
			})
		}
	}
}

func TestMaskAllHidesEverything(t *testing.T) {
	img := gocv.NewMatWithSize(90, 160, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	redactor{Style: StyleBlur, Shape: ShapeEllipse, Expand: 1.3}.MaskAll(&img)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(img, &mean, &std)
	if std.Rows()*std.Cols() != 3 {
		t.Fatalf("standard deviations of %dx%d values, want one per channel", std.Rows(), std.Cols())
	}
	// Each channel on its own: a mask that left one of them would leave
	// the picture in that colour.
	for c, name := range []string{"blue", "green", "red"} {
		if s := std.GetDoubleAt(c, 0); s != 0 {
			t.Errorf("masked frame still varies in %s (std %.2f)", name, s)
		}
	}
}

func TestRegionExpandsAndClips(t *testing.T) {
	bounds := image.Rect(0, 0, 100, 100)
	for _, tc := range []struct {
		name string
		r    redactor
		box  image.Rectangle
		want image.Rectangle
	}{
		{"rect grows about the centre", redactor{Shape: ShapeRect, Expand: 1.5}, image.Rect(40, 40, 60, 60), image.Rect(35, 35, 65, 65)},
		{"ellipse gets extra slack", redactor{Shape: ShapeEllipse, Expand: 1.5}, image.Rect(40, 40, 60, 60), image.Rect(32, 32, 68, 68)},
		{"clipped at the frame edge", redactor{Shape: ShapeRect, Expand: 2}, image.Rect(0, 0, 20, 20), image.Rect(0, 0, 30, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Region(tc.box, bounds); got != tc.want {
				t.Errorf("Region(%v) = %v, want %v", tc.box, got, tc.want)
			}
		})
	}
}

// TestTextRedactedCoarser checks that plates and text lines are washed with
// fewer blocks than faces: a line of characters keeps about one value per
// character, not several that could be matched against an alphabet.
func TestTextRedactedCoarser(t *testing.T) {
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), 120, 320, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.PutText(&img, "A12345", image.Pt(60, 75), gocv.FontHersheySimplex, 1.2, color.RGBA{0, 0, 0, 0}, 3)
	box := image.Rect(50, 40, 270, 85) // the text line, 45 px high
	r := redactor{Style: StyleBlur, Shape: ShapeEllipse, Expand: 1}
	for _, tc := range []struct {
		class   detect.Class
		maxStep float64 // largest brightness change between columns 8 px apart
	}{
		{detect.Plate, 20},
		{detect.Overlay, 20},
	} {
		t.Run(string(tc.class), func(t *testing.T) {
			out := img.Clone()
			defer out.Close()
			r.RedactDetections(&out, []detect.Detection{{Box: box, Class: tc.class}}, nil)
			gray := gocv.NewMat()
			defer gray.Close()
			gocv.CvtColor(out, &gray, gocv.ColorBGRToGray)
			row := box.Min.Y + box.Dy()/2
			worst := 0.0
			for x := box.Min.X; x+8 < box.Max.X; x++ {
				d := float64(gray.GetUCharAt(row, x+8)) - float64(gray.GetUCharAt(row, x))
				worst = max(worst, d, -d)
			}
			if worst > tc.maxStep {
				t.Errorf("brightness still steps by %.0f across 8 px of the hidden line", worst)
			}
		})
	}
}

// A plate with corners is hidden over its own outline grown for its frame:
// every pixel of the plate changes, for every style, while the corners of
// the loose rectangle round a tilted plate keep theirs. Corners that make
// no quadrilateral fall back to the rectangle.
func TestPlateQuadRedaction(t *testing.T) {
	const w, h = 400, 300
	// A 120×40 plate turned by about 30°: corners in order round it.
	quad := []image.Point{{138, 120}, {242, 60}, {262, 95}, {158, 155}}
	for _, style := range []Style{StyleBlur, StylePixelate, StyleSolid} {
		t.Run(string(style), func(t *testing.T) {
			img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), h, w, gocv.MatTypeCV8UC3)
			defer img.Close()
			pv := gocv.NewPointsVectorFromPoints([][]image.Point{quad})
			defer pv.Close()
			gocv.FillPoly(&img, pv, color.RGBA{0, 0, 0, 0})
			blank := img.Clone() // the plate without its text
			defer blank.Close()
			// Plate text: a white stroke on the black plate.
			gocv.Line(&img, image.Pt(160, 120), image.Pt(240, 76), color.RGBA{255, 255, 255, 0}, 3)
			orig := img.Clone()
			defer orig.Close()
			r := redactor{Style: style, Shape: ShapeEllipse, Expand: 1.1}
			box := image.Rect(138, 60, 263, 156)
			det := detect.Detection{Box: box, Class: detect.Plate, Quad: quad}
			r.RedactDetections(&img, []detect.Detection{det}, nil)
			// The stroke is gone: the output differs little from the plate
			// without it hidden the same way.
			r.RedactDetections(&blank, []detect.Detection{det}, nil)
			diff := gocv.NewMat()
			defer diff.Close()
			gocv.AbsDiff(img, blank, &diff)
			gray := gocv.NewMat()
			defer gray.Close()
			gocv.CvtColor(diff, &gray, gocv.ColorBGRToGray)
			if _, most, _, at := gocv.MinMaxLoc(gray); most > 40 {
				t.Errorf("the plate text still shows: %v brighter at %v", most, at)
			}
			// The loose rectangle's far corners (well outside the grown
			// outline) are untouched.
			for _, p := range []image.Point{{box.Min.X, box.Min.Y}, {box.Max.X - 1, box.Max.Y - 1}} {
				if !slices.Equal(img.GetVecbAt(p.Y, p.X), orig.GetVecbAt(p.Y, p.X)) {
					t.Errorf("pixel %v outside the plate's outline changed", p)
				}
			}
			hidden := r.hidden([]detect.Detection{det}, nil, image.Rect(0, 0, w, h))
			if len(hidden) != 1 || hidden[0].Shape != ShapeQuad || len(hidden[0].Quad) != 4 {
				t.Fatalf("hidden = %+v, want one quad", hidden)
			}
			for _, p := range hidden[0].Quad {
				if !p.In(hidden[0].Box.Inset(-1)) {
					t.Errorf("outline corner %v outside its box %v", p, hidden[0].Box)
				}
			}
			// Corners in a line: the rectangle is hidden instead.
			flat := detect.Detection{Box: box, Class: detect.Plate, Quad: []image.Point{{140, 60}, {180, 90}, {220, 120}, {260, 150}}}
			if hf := r.hidden([]detect.Detection{flat}, nil, image.Rect(0, 0, w, h)); len(hf) != 1 || hf[0].Shape != ShapeRect {
				t.Errorf("degenerate corners hidden as %+v, want the rectangle", hf)
			}
		})
	}
}

// A box the tracker grew for motion it has not seen is hidden over its
// class's cover of the object plus that growth: a plate's frame, screws
// and Expand are shares of the plate, not of the ground it may have
// crossed. A face's growth is grown with it, as its box is.
func TestTrackedBoxSlack(t *testing.T) {
	bounds := image.Rect(0, 0, 1920, 1080)
	r := redactor{Style: StyleBlur, Shape: ShapeEllipse, Expand: 1.3}
	plate := image.Rect(500, 500, 600, 532)
	face := image.Rect(800, 300, 840, 350)
	slack := image.Pt(15, 5)
	grown := func(b image.Rectangle) image.Rectangle {
		return image.Rect(b.Min.X-slack.X, b.Min.Y-slack.Y, b.Max.X+slack.X, b.Max.Y+slack.Y)
	}
	only := func(d detect.Detection) image.Rectangle {
		h := r.hidden([]detect.Detection{d}, nil, bounds)
		if len(h) != 1 {
			t.Fatalf("%v hidden as %+v", d, h)
		}
		return h[0].Box
	}
	for _, tc := range []struct {
		name string
		box  trackedBox
		want image.Rectangle
	}{
		{"plate with slack", trackedBox{Detection: detect.Detection{Box: grown(plate), Class: detect.Plate}, slack: slack},
			grown(only(detect.Detection{Box: plate, Class: detect.Plate}))},
		{"plate without", trackedBox{Detection: detect.Detection{Box: plate, Class: detect.Plate}},
			only(detect.Detection{Box: plate, Class: detect.Plate})},
		{"face with slack", trackedBox{Detection: detect.Detection{Box: grown(face), Class: detect.Face}, slack: slack},
			only(detect.Detection{Box: grown(face), Class: detect.Face})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := r.hidden(nil, []trackedBox{tc.box}, bounds)
			if len(h) != 1 || h[0].Box != tc.want {
				t.Errorf("hidden %+v, want %v", h, tc.want)
			}
			if !tc.box.Box.In(h[0].Box) {
				t.Errorf("hidden %v does not hold the tracked box %v", h[0].Box, tc.box.Box)
			}
		})
	}
}
