package evalset

import (
	"image"
	"math"
	"math/rand/v2"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// This file draws licence plates for the video set. The layouts follow
// the plate types of the plate detector's own scene generator
// (models/train/plates/platesynth.py): Chinese blue, yellow and green
// plates, European plates with the blue strip, and North American plates
// with a state name. Plates are drawn at one pixel per millimetre and
// scaled down to their size in the frame.

// cjkFonts are the fonts tried, in order, for the Chinese province
// characters (Debian fonts-droid-fallback, installed by scripts/setup.sh,
// and fonts-arphic-gbsn00lp; the collections of fonts-wqy-zenhei and
// fonts-arphic-ukai do not parse). Without one a Latin letter stands in;
// the labels do not change.
var cjkFonts = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
}

const (
	plateProvinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
	plateLetters   = "ABCDEFGHJKLMNPQRSTUVWXYZ" // no I, no O
	plateDigits    = "0123456789"
	euLetters      = "ABCDEFGHIJKLMNOPRSTUVWXYZ"
)

var usStates = []string{"CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ARIZONA", "OREGON", "NEVADA", "UTAH", "IOWA"}

// plateKinds are the plate types drawn, with their weights and sizes in
// millimetres.
var plateKinds = []struct {
	name   string
	weight float64
	w, h   int
}{
	{"cn-blue", 0.28, 440, 140},
	{"cn-yellow", 0.10, 440, 140},
	{"cn-green", 0.15, 480, 140},
	{"eu", 0.25, 520, 112},
	{"us", 0.22, 305, 152},
}

// plateArtist draws plates; it keeps the fonts and the glyphs drawn so
// far.
type plateArtist struct {
	latin, cjk font.Face
	glyphs     map[rune]*fimg
}

// newPlateArtist loads the fonts. The Latin font is Go Bold, built in; the
// CJK one is optional (cjkOK is false when it could not be loaded).
func newPlateArtist() (a *plateArtist, cjkOK bool, err error) {
	lf, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, false, err
	}
	a = &plateArtist{glyphs: map[rune]*fimg{}}
	if a.latin, err = opentype.NewFace(lf, &opentype.FaceOptions{Size: 96, DPI: 72}); err != nil {
		return nil, false, err
	}
	for _, p := range cjkFonts {
		if a.cjk != nil {
			break
		}
		if b, err := os.ReadFile(p); err == nil {
			if cf, err := opentype.Parse(b); err == nil {
				a.cjk, _ = opentype.NewFace(cf, &opentype.FaceOptions{Size: 96, DPI: 72})
			}
		}
	}
	return a, a.cjk != nil, nil
}

// glyph is the tight mask of r (in all four channels, 0..255).
func (a *plateArtist) glyph(r rune) *fimg {
	if g, ok := a.glyphs[r]; ok {
		return g
	}
	face := a.latin
	if r > 127 {
		face = a.cjk
	}
	dst := image.NewAlpha(image.Rect(0, 0, 160, 160))
	d := font.Drawer{Dst: dst, Src: image.Opaque, Face: face, Dot: fixed.P(20, 118)}
	d.DrawString(string(r))
	x0, y0, x1, y1 := 160, 160, -1, -1
	for y := 0; y < 160; y++ {
		for x := 0; x < 160; x++ {
			if dst.Pix[y*dst.Stride+x] > 40 {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	g := newFimg(8, 8)
	if x1 >= x0 {
		g = newFimg(x1-x0+1, y1-y0+1)
		for y := range g.H {
			for x := range g.W {
				v := float32(dst.Pix[(y0+y)*dst.Stride+x0+x])
				copy(g.Pix[(y*g.W+x)*4:], []float32{v, v, v, v})
			}
		}
	}
	a.glyphs[r] = g
	return g
}

// char draws r stretched over the box (x, y, w, h) of canvas in colour
// col; a "1" keeps a narrow stroke, as on plates.
func (a *plateArtist) char(canvas *fimg, r rune, x, y, w, h float64, col [3]float32) {
	if r == '1' {
		nw := w * 0.45
		x, w = x+(w-nw)/2, nw
	}
	g := a.glyph(r).resize(max(1, int(math.Round(w))), max(1, int(math.Round(h))))
	fillMasked(canvas, g, int(math.Round(x)), int(math.Round(y)), col)
}

// textLine draws s in proportional glyphs h high from (x, y) and returns
// its width; with canvas nil it only measures.
func (a *plateArtist) textLine(canvas *fimg, s string, x, y, h float64, col [3]float32) float64 {
	cx := x
	for _, r := range s {
		if r == ' ' {
			cx += h * 0.35
			continue
		}
		g := a.glyph(r)
		gw := max(1, float64(g.W)/float64(g.H)*h)
		if canvas != nil {
			a.char(canvas, r, cx, y, gw, h, col)
		}
		cx += gw + h*0.05
	}
	return cx - x
}

// fillMasked paints col over canvas at (x0, y0) where mask (its first
// channel, 0..255) says.
func fillMasked(canvas, mask *fimg, x0, y0 int, col [3]float32) {
	for y := range mask.H {
		for x := range mask.W {
			cx, cy := x0+x, y0+y
			if cx < 0 || cy < 0 || cx >= canvas.W || cy >= canvas.H {
				continue
			}
			m := mask.Pix[(y*mask.W+x)*4] / 255
			o := (cy*canvas.W + cx) * 4
			for c := range 3 {
				canvas.Pix[o+c] = canvas.Pix[o+c]*(1-m) + col[c]*m
			}
		}
	}
}

// fillRect paints the rectangle [x0,x1)x[y0,y1) of f, clipped.
func fillRect(f *fimg, x0, y0, x1, y1 int, col [3]float32) {
	for y := max(0, y0); y < min(f.H, y1); y++ {
		for x := max(0, x0); x < min(f.W, x1); x++ {
			o := (y*f.W + x) * 4
			f.Pix[o], f.Pix[o+1], f.Pix[o+2], f.Pix[o+3] = col[0], col[1], col[2], 255
		}
	}
}

// strokeRect draws a rectangle outline t px thick.
func strokeRect(f *fimg, x0, y0, x1, y1, t int, col [3]float32) {
	fillRect(f, x0, y0, x1, y0+t, col)
	fillRect(f, x0, y1-t, x1, y1, col)
	fillRect(f, x0, y0, x0+t, y1, col)
	fillRect(f, x1-t, y0, x1, y1, col)
}

// disc paints a filled circle.
func disc(f *fimg, cx, cy, r float64, col [3]float32) {
	for y := int(cy - r - 1); y <= int(cy+r+1); y++ {
		for x := int(cx - r - 1); x <= int(cx+r+1); x++ {
			if x < 0 || y < 0 || x >= f.W || y >= f.H {
				continue
			}
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			m := float32(min(max(r+0.5-d, 0), 1))
			o := (y*f.W + x) * 4
			for c := range 3 {
				f.Pix[o+c] = f.Pix[o+c]*(1-m) + col[c]*m
			}
		}
	}
}

func jitter(rng *rand.Rand, c [3]float32, amount float64) [3]float32 {
	var out [3]float32
	for i, v := range c {
		out[i] = float32(min(max(float64(v)+rng.NormFloat64()*amount, 0), 255))
	}
	return out
}

func pick(rng *rand.Rand, s string) rune {
	rs := []rune(s)
	return rs[rng.IntN(len(rs))]
}

// plate draws one plate, chosen by weight, at 1 px per mm: the plate and
// its type.
func (a *plateArtist) plate(rng *rand.Rand) (*fimg, string) {
	r, kind := rng.Float64(), plateKinds[len(plateKinds)-1]
	for _, k := range plateKinds {
		if r < k.weight {
			kind = k
			break
		}
		r -= k.weight
	}
	canvas := newFimg(kind.w, kind.h)
	switch kind.name {
	case "eu":
		a.drawEU(rng, canvas)
	case "us":
		a.drawUS(rng, canvas)
	default:
		a.drawCN(rng, canvas, kind.name)
	}
	return canvas, kind.name
}

func (a *plateArtist) drawCN(rng *rand.Rand, c *fimg, kind string) {
	var bg, fg [3]float32
	switch kind {
	case "cn-blue":
		bg, fg = [3]float32{10, 60, 180}, [3]float32{235, 235, 235}
	case "cn-yellow":
		bg, fg = [3]float32{240, 190, 20}, [3]float32{20, 20, 20}
	default: // green, new energy: white to green from top to bottom
		bg, fg = [3]float32{225, 245, 225}, [3]float32{20, 20, 20}
	}
	bg = jitter(rng, bg, 12)
	fillRect(c, 0, 0, c.W, c.H, bg)
	if kind == "cn-green" {
		bot := jitter(rng, [3]float32{70, 200, 100}, 12)
		for y := range c.H {
			t := float32(y) / float32(c.H-1)
			fillRect(c, 0, y, c.W, y+1, [3]float32{bg[0]*(1-t) + bot[0]*t, bg[1]*(1-t) + bot[1]*t, bg[2]*(1-t) + bot[2]*t})
		}
	} else {
		strokeRect(c, 3, 3, c.W-3, c.H-3, 2, fg)
	}
	prov, stand := pick(rng, plateProvinces), pick(rng, plateLetters)
	if a.cjk == nil {
		prov = stand
	}
	text := []rune{prov, pick(rng, plateLetters)}
	n := 5
	if kind == "cn-green" {
		n = 6
	}
	letters := 0
	for range n {
		ch := pick(rng, plateLetters+plateDigits)
		if ch >= 'A' && ch <= 'Z' {
			if letters++; letters > 2 {
				ch = pick(rng, plateDigits)
			}
		}
		text = append(text, ch)
	}
	cw, chh, gap, sep, left := 45.0, 90.0, 12.0, 34.0, 15.5
	if kind == "cn-green" {
		cw, gap, sep = 43, 9, 49
	}
	y, x := (float64(c.H)-chh)/2, left
	for i, ch := range text {
		a.char(c, ch, x, y, cw, chh, fg)
		x += cw + gap
		if i == 1 {
			x += sep - gap
			disc(c, x-sep/2-gap/2, float64(c.H)/2, 5, fg)
		}
	}
}

func (a *plateArtist) drawEU(rng *rand.Rand, c *fimg) {
	bg := [3]float32{238, 238, 238}
	if rng.Float64() < 0.15 {
		bg = [3]float32{240, 190, 20}
	}
	fillRect(c, 0, 0, c.W, c.H, jitter(rng, bg, 8))
	ink := [3]float32{20, 20, 20}
	strokeRect(c, 2, 2, c.W-2, c.H-2, 2, ink)
	const strip = 44
	fillRect(c, 4, 4, strip, c.H-4, jitter(rng, [3]float32{0, 50, 150}, 10))
	for k := range 12 {
		ang := 2 * math.Pi * float64(k) / 12
		disc(c, 4+strip/2-2+13*math.Cos(ang), 36+13*math.Sin(ang), 2, [3]float32{255, 200, 0})
	}
	cc := []string{"D", "F", "NL", "B", "I", "E", "PL", "A", "CZ", "GB"}[rng.IntN(10)]
	a.textLine(c, cc, 10, 66, 30, [3]float32{240, 240, 240})
	L := func() rune { return pick(rng, euLetters) }
	D := func() rune { return pick(rng, plateDigits) }
	var text []rune
	switch rng.IntN(3) {
	case 0:
		text = []rune{L(), L(), ' ', D(), D(), D(), ' ', L(), L()}
	case 1:
		text = []rune{L(), L(), L(), '-', L(), ' ', D(), D(), D()}
	default:
		text = []rune{D(), '-', L(), L(), L(), '-', D(), D(), D()}
	}
	x, cw, h := float64(strip+14), 38.0, 76.0
	for _, ch := range text {
		switch ch {
		case ' ':
			x += 18
		case '-':
			fillRect(c, int(x+2), c.H/2-2, int(x+14), c.H/2+3, ink)
			x += 18
		default:
			a.char(c, ch, x, (float64(c.H)-h)/2, cw, h, ink)
			x += cw + 5
		}
	}
}

func (a *plateArtist) drawUS(rng *rand.Rand, c *fimg) {
	top := jitter(rng, [3]float32{245, 245, 245}, 10)
	bot := jitter(rng, [][3]float32{{170, 200, 230}, {245, 230, 200}, {245, 245, 245}, {200, 220, 190}}[rng.IntN(4)], 10)
	for y := range c.H {
		t := float32(y) / float32(c.H-1)
		fillRect(c, 0, y, c.W, y+1, [3]float32{top[0]*(1-t) + bot[0]*t, top[1]*(1-t) + bot[1]*t, top[2]*(1-t) + bot[2]*t})
	}
	ink := [][3]float32{{10, 30, 120}, {160, 30, 30}, {20, 20, 20}, {0, 40, 90}}[rng.IntN(4)]
	state := usStates[rng.IntN(len(usStates))]
	sw := a.textLine(nil, state, 0, 0, 22, ink)
	a.textLine(c, state, (float64(c.W)-sw)/2, 10, 22, jitter(rng, [3]float32{180, 40, 40}, 40))
	n := 6 + rng.IntN(2)
	cw := (float64(c.W)-40)/float64(n) - 4
	for i := range n {
		ch := pick(rng, plateDigits)
		if rng.Float64() < 0.5 {
			ch = pick(rng, plateLetters+plateDigits)
		}
		a.char(c, ch, 20+float64(i)*(cw+4), 42, cw, 70, ink)
	}
	for _, p := range [][2]float64{{0.23, 16}, {0.77, 16}, {0.23, float64(c.H) - 16}, {0.77, float64(c.H) - 16}} {
		disc(c, p[0]*float64(c.W), p[1], 5, jitter(rng, [3]float32{170, 170, 170}, 30))
	}
}

// drawCar paints a car's rear or front around a plate of pw x ph px: the
// body, a window, a bumper line and lamps. It returns the car and the
// plate's place in it.
func drawCar(rng *rand.Rand, plate *fimg) (*fimg, Box) {
	pw, ph := float64(plate.W), float64(plate.H)
	bw := pw * (2.8 + 1.6*rng.Float64())
	bh := max(ph*(3+2.5*rng.Float64()), bw*0.55)
	W, H := int(math.Round(bw)), int(math.Round(bh))
	car := newFimg(W, H)
	body := jitter(rng, [][3]float32{{30, 30, 30}, {230, 230, 230}, {150, 40, 40}, {40, 80, 120}, {160, 160, 160}, {30, 60, 30}}[rng.IntN(6)], 15)
	fillRect(car, 0, 0, W, H, body)
	// shading from top to bottom
	for y := range H {
		k := float32(1.1 - 0.3*float64(y)/float64(H))
		for x := range W {
			o := (y*W + x) * 4
			for c := range 3 {
				car.Pix[o+c] = min(car.Pix[o+c]*k, 255)
			}
		}
	}
	// rear window
	fillRect(car, int(bw*0.12), int(bh*0.04), int(bw*0.88), int(bh*0.34), jitter(rng, [3]float32{45, 55, 65}, 10))
	px := int(math.Round((bw - pw) / 2))
	py := int(math.Round(bh*(0.58+0.12*rng.Float64()) - ph/2))
	py = min(py, H-int(ph)-int(ph*0.25)-1)
	shade := [3]float32{body[0] * 0.55, body[1] * 0.55, body[2] * 0.55}
	fillRect(car, 0, py+int(ph*1.1), W, py+int(ph*1.25), shade)
	lamp := [3]float32{200, 30, 30}
	if rng.Float64() < 0.35 {
		lamp = [3]float32{225, 225, 225}
	}
	for _, sx := range []float64{-1, 1} {
		lx := bw/2 + sx*bw*0.38
		fillRect(car, int(lx-bw*0.08), int(bh*0.4), int(lx+bw*0.08), int(bh*0.5), lamp)
	}
	car.composite(plate, nil, px, py)
	return car, Box{px, py, plate.W, plate.H}
}
