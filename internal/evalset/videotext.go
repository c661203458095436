package evalset

import (
	"math"
	"math/rand/v2"
	"slices"
)

// This file adds scene text to the clips: signs and shop fronts standing
// in the world, text painted on the road, and lettering on the cars. None
// of it may be hidden: each line of it is a "text" track, labelled per
// frame as faces and plates are, so an evaluation can count how much of
// it a run leaves readable. Scene text comes from a random stream of its
// own and is drawn behind the cars, people and occluders, so a seed's face
// and plate labels stay as they were before clips had text.

// TextClass is the class of scene-text tracks.
const TextClass = "text"

// minTextHeight is the smallest text line, in px high in a frame, that is
// labelled as one to keep readable; a smaller one is an ignore box.
const minTextHeight = 8

// What scene text says. Brand names are left out on purpose.
var (
	shopNames = []string{"便利店", "超市", "药房", "五金店", "快餐", "面馆", "宾馆", "汽车维修", "洗车", "停车场",
		"美容美发", "水果店", "烟酒", "手机维修", "24小时营业", "早餐", "火锅", "加油站", "银行", "饭店"}
	roadNames  = []string{"人民路", "中山路", "解放大道", "建设路", "和平街", "长江路", "环城北路", "学院路"}
	roadLatin  = []string{"RENMIN RD", "ZHONGSHAN RD", "JIEFANG AVE", "JIANSHE RD", "HEPING ST", "CHANGJIANG RD", "HUANCHENG N RD", "XUEYUAN RD"}
	latinSigns = []string{"OPEN", "HOTEL", "PHARMACY", "PARKING", "BAKERY", "TAXI", "CAFE", "EXIT", "BUS STOP", "SALE 50%", "PIZZA", "BAR"}
	roadText   = []string{"公交专用", "慢", "学校", "禁止停车", "BUS", "STOP", "SLOW", "KEEP CLEAR"}
	vanNames   = []string{"快递", "物流配送", "搬家", "冷链运输", "家政服务", "建材", "EXPRESS", "MOVING CO", "DELIVERY"}
)

// phone makes a phone number as signs and vans show them: a mobile
// number, a city number or a 400 number, maybe after 电话 or TEL.
func phone(rng *rand.Rand, cjk bool) string {
	d := func(n int) string {
		s := make([]rune, n)
		for i := range s {
			s[i] = rune('0' + rng.IntN(10))
		}
		return string(s)
	}
	var num string
	switch rng.IntN(3) {
	case 0:
		num = "1" + string(rune('3'+rng.IntN(6))) + d(1) + " " + d(4) + " " + d(4)
	case 1:
		num = "0" + d(2+rng.IntN(2)) + "-" + d(8)
	default:
		num = "400-" + d(3) + "-" + d(4)
	}
	switch r := rng.IntN(3); {
	case r == 0 && cjk:
		return "电话 " + num
	case r == 1:
		return "TEL " + num
	}
	return num
}

// sceneSign is a sign, a shop front or text painted on the road, standing
// still in the world.
type sceneSign struct {
	img   *fimg  // the sign at no less than its largest size in the frame; alpha 0 where it is not
	at    fbox   // in the world
	lines []fbox // its lines of text, in img px
	kind  int    // signShop...
	board bool   // feathered at its edges when drawn; else img's alpha alone
}

// vanText is a line of lettering on a car: its box in the car's image.
type vanText struct {
	car  int // index in clip.cars
	line fbox
}

// signLine draws s in glyphs h high from (x, y), spaces and dashes kept
// narrow, and returns its width; with canvas nil it only measures.
func (a *plateArtist) signLine(canvas *fimg, s string, x, y, h float64, col [3]float32) float64 {
	cx := x
	for _, r := range s {
		switch {
		case r == ' ':
			cx += h * 0.35
			continue
		case r == '-':
			if canvas != nil {
				fillRect(canvas, int(cx+h*0.05), int(y+h*0.45), int(cx+h*0.3), int(y+h*0.56), col)
			}
			cx += h * 0.4
			continue
		case r > 127 && a.cjk == nil:
			r = 'X'
		}
		g := a.glyph(r)
		gw := max(1, float64(g.W)/float64(g.H)*h)
		if r > 127 {
			gw = h // a CJK character fills a square
		}
		if canvas != nil {
			a.char(canvas, r, cx, y, gw, h, col)
		}
		cx += gw + h*0.12
	}
	return cx - x - h*0.12
}

// Kinds of sign.
const (
	signShop   = iota // a shop front: a wide board, a name, maybe a phone number
	signYellow        // a yellow board with black text, as plate-like as a sign gets
	signBlue          // a blue road-name sign with white text and a Latin line
	signLatin         // a board with a Latin word
	signPhone         // a small board with a phone number alone
	signRoad          // text painted on the road
	signKinds
)

// signTypes name the kinds of sign in the labels' type.
var signTypes = [signKinds]string{"shop", "yellow", "blue", "latin", "phone", "road"}

// drawSign renders a sign of kind with its lines h px high (the first
// line; further lines are smaller) and returns it with the lines' boxes.
func (a *plateArtist) drawSign(rng *rand.Rand, kind int, h float64) (*fimg, []fbox, bool) {
	cjk := a.cjk != nil
	type line struct {
		s string
		h float64
	}
	var lines []line
	var bg, fg [3]float32
	border := false
	switch kind {
	case signShop:
		bg = [][3]float32{{180, 30, 30}, {20, 70, 160}, {30, 120, 60}, {240, 240, 235}, {25, 25, 25}, {200, 90, 20}}[rng.IntN(6)]
		fg = [3]float32{250, 250, 240}
		if bg[0] > 200 {
			fg = [3]float32{180, 20, 20}
		} else if rng.IntN(3) == 0 {
			fg = [3]float32{250, 215, 40}
		}
		lines = append(lines, line{shopNames[rng.IntN(len(shopNames))], h})
		if rng.IntN(2) == 0 {
			lines = append(lines, line{phone(rng, cjk), h * 0.45})
		}
	case signYellow:
		bg, fg = [3]float32{242, 195, 25}, [3]float32{20, 20, 20}
		border = rng.IntN(2) == 0
		lines = append(lines, line{[]string{"24小时营业", "便利店", "停车场", "洗车", "快餐"}[rng.IntN(5)], h})
		if rng.IntN(3) > 0 {
			lines = append(lines, line{phone(rng, cjk), h * 0.6})
		}
	case signBlue:
		bg, fg = [3]float32{15, 65, 175}, [3]float32{240, 240, 240}
		border = true
		k := rng.IntN(len(roadNames))
		lines = append(lines, line{roadNames[k], h}, line{roadLatin[k], h * 0.42})
	case signLatin:
		bg = [][3]float32{{240, 240, 235}, {170, 25, 30}, {20, 20, 20}, {20, 90, 60}}[rng.IntN(4)]
		fg = [3]float32{245, 245, 245}
		if bg[0] > 200 {
			fg = [3]float32{25, 25, 25}
		}
		lines = append(lines, line{latinSigns[rng.IntN(len(latinSigns))], h})
	case signPhone:
		bg = [][3]float32{{240, 240, 235}, {242, 195, 25}, {15, 65, 175}}[rng.IntN(3)]
		fg = [3]float32{20, 20, 20}
		if bg[2] > 150 && bg[0] < 100 {
			fg = [3]float32{240, 240, 240}
		}
		border = rng.IntN(2) == 0
		lines = append(lines, line{phone(rng, cjk), h})
	default: // road
		fg = [3]float32{235, 235, 225}
		if rng.IntN(3) == 0 {
			fg = [3]float32{235, 200, 40}
		}
		lines = append(lines, line{roadText[rng.IntN(len(roadText))], h})
	}
	bg, fg = jitter(rng, bg, 10), jitter(rng, fg, 8)
	pad := h * 0.4
	w := 0.0
	for _, l := range lines {
		w = max(w, a.signLine(nil, l.s, 0, 0, l.h, fg))
	}
	if kind == signShop {
		w *= 1 + 0.8*rng.Float64() // a board wider than its name
	}
	W := int(math.Ceil(w + 2*pad))
	H := pad * 2
	for i, l := range lines {
		H += l.h
		if i > 0 {
			H += 0.3 * lines[0].h
		}
	}
	img := newFimg(W, int(math.Ceil(H)))
	if kind != signRoad {
		fillRect(img, 0, 0, img.W, img.H, bg)
		if border {
			t := max(1, int(h*0.08))
			strokeRect(img, t, t, img.W-t, img.H-t, t, fg)
		}
	}
	var boxes []fbox
	y := pad
	for i, l := range lines {
		if i > 0 {
			y += 0.3 * lines[0].h
		}
		lw := a.signLine(nil, l.s, 0, 0, l.h, fg)
		x := (float64(W) - lw) / 2
		a.signLine(img, l.s, x, y, l.h, fg)
		boxes = append(boxes, fbox{x, y, x + lw, y + l.h})
		y += l.h
	}
	if kind == signRoad {
		// paint: the colour where the glyphs are, worn, and clear elsewhere
		for i := 0; i < len(img.Pix); i += 4 {
			p := img.Pix[i : i+4]
			m := max(p[0], p[1], p[2]) / 255
			p[0], p[1], p[2], p[3] = fg[0], fg[1], fg[2], 255*m*float32(0.7+0.25*rng.Float64())
		}
	}
	return img, boxes, kind == signRoad
}

// planText plans the clip's scene text from rng, a stream of its own:
// signs standing in the part of the world the camera sees, clear of the
// labelled regions of the background photo, and lettering on some of the
// cars. It must run after plan and planCars.
func (c *clip) planText(rng *rand.Rand, art *plateArtist) {
	uniform := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }
	n := 3 + rng.IntN(4)
	if c.h < 1080 {
		n = 2 + rng.IntN(3)
	}
	var taken []fbox
	taken = append(taken, c.worldIgnore...)
	taken = append(taken, c.worldPlates...)
	taken = append(taken, c.worldUnread...)
	for _, ng := range c.negs {
		taken = append(taken, ng.at)
	}
	_, _, zmax := c.cam.at(c.n - 1)
	zmax = max(zmax, 1)
	for range n {
		kind := rng.IntN(signKinds)
		// the first line's height in the frame, log-uniform 12-70 px at
		// 1080 lines
		h := math.Exp(uniform(math.Log(12), math.Log(70))) * c.sc
		img, lines, road := art.drawSign(rng, kind, math.Ceil(h*zmax*1.1))
		t := rng.IntN(c.n)
		_, _, z := c.cam.at(t)
		k := h / (math.Ceil(h * zmax * 1.1)) / z // world px per img px
		ww, wh := float64(img.W)*k, float64(img.H)*k
		if road {
			wh *= 0.5 // painted flat: seen foreshortened
		}
		if ww*z >= 0.6*float64(c.w) || wh*z >= 0.4*float64(c.h) {
			continue
		}
		for range 20 {
			sy := uniform(0.05, 0.7) * float64(c.h)
			if road {
				sy = uniform(0.6, 0.95) * float64(c.h)
			}
			sx := uniform(0, float64(c.w)-ww*z)
			x0, y0 := c.cam.world(t, sx, min(sy, float64(c.h)-wh*z))
			at := fbox{x0, y0, x0 + ww, y0 + wh}
			grown := fbox{at.x0 - 0.1*ww, at.y0 - 0.2*wh, at.x1 + 0.1*ww, at.y1 + 0.2*wh}
			if slices.ContainsFunc(taken, func(o fbox) bool { return o.x0 < grown.x1 && grown.x0 < o.x1 && o.y0 < grown.y1 && grown.y0 < o.y1 }) {
				continue
			}
			taken = append(taken, at)
			s := sceneSign{img: img, at: at, lines: lines, kind: kind}
			if road {
				// foreshortened: the image is squashed when drawn
				s.img = img.resize(img.W, max(2, img.H/2))
				for i := range s.lines {
					s.lines[i].y0, s.lines[i].y1 = s.lines[i].y0/2, s.lines[i].y1/2
				}
			} else {
				s.board = true
			}
			c.signs = append(c.signs, s)
			c.st.Signs++
			break
		}
	}
	// lettering on the cars: on the rear window or on the body between
	// the window and the plate
	for i, tr := range c.cars {
		if rng.Float64() >= 0.5 {
			continue
		}
		W, H := float64(tr.car.W), float64(tr.car.H)
		var area fbox
		var col [3]float32
		if rng.IntN(2) == 0 {
			area = fbox{0.16 * W, 0.07 * H, 0.84 * W, 0.31 * H}
			col = jitter(rng, [][3]float32{{240, 240, 240}, {245, 210, 40}, {230, 60, 50}}[rng.IntN(3)], 8)
		} else {
			// clear of the plate by more than what hides a plate
			// takes round it (its frame and screws, grown)
			area = fbox{0.23 * W, 0.36 * H, 0.77 * W, float64(tr.plate[1]) - 0.6*float64(tr.plate[3]) - 0.04*H}
			body := tr.car.Pix[(int(0.36*H)*tr.car.W+int(0.5*W))*4:]
			col = [3]float32{240, 240, 240}
			if body[0]+body[1]+body[2] > 3*140 {
				col = [3]float32{170, 20, 20}
				if rng.IntN(2) == 0 {
					col = [3]float32{20, 50, 140}
				}
			}
		}
		if area.y1-area.y0 < 4 || area.x1-area.x0 < 8 {
			continue
		}
		texts := []string{vanNames[rng.IntN(len(vanNames))]}
		if rng.IntN(2) == 0 {
			texts = append(texts, phone(rng, art.cjk != nil))
		}
		lh := (area.y1 - area.y0) / (float64(len(texts)) + 0.3*float64(len(texts)-1))
		y := area.y0
		for _, s := range texts {
			h := lh
			if w := art.signLine(nil, s, 0, 0, h, col); w > area.x1-area.x0 {
				h *= (area.x1 - area.x0) / w
			}
			w := art.signLine(nil, s, 0, 0, h, col)
			x := area.x0 + (area.x1-area.x0-w)/2
			art.signLine(tr.car, s, x, y, h, col)
			c.vanText = append(c.vanText, vanText{car: i, line: fbox{x, y, x + w, y + h}})
			y += lh * 1.3
		}
		c.st.Lettered++
	}
}

// signRect is where sign s is drawn at frame t.
func (c *clip) signRect(s *sceneSign, t int) (x, y, w, h int) {
	x0, y0 := c.cam.screen(t, s.at.x0, s.at.y0)
	_, _, z := c.cam.at(t)
	return int(math.Round(x0)), int(math.Round(y0)), max(2, int(math.Round((s.at.x1-s.at.x0)*z))), max(2, int(math.Round((s.at.y1-s.at.y0)*z)))
}

// drawSigns paints the signs at frame t.
func (c *clip) drawSigns(canvas *fimg, t int) {
	for i := range c.signs {
		s := &c.signs[i]
		x, y, w, h := c.signRect(s, t)
		if !(Box{x, y, w, h}).Overlaps(Box{0, 0, c.w, c.h}) {
			continue
		}
		var mask []float32
		if s.board {
			mask = featherMask(w, h, max(1, min(w, h)/30))
		}
		canvas.composite(s.img.resize(w, h), mask, x, y)
	}
}

// textLabels computes the clip's text tracks, ids from id: each line of
// scene text as visible (what occluders, people and cars leave of it), or
// an ignore box where more than half of it is hidden or it is under
// minTextHeight px high.
func (c *clip) textLabels(id int) []Track {
	frame := Box{0, 0, c.w, c.h}
	type src struct {
		sign, line int // sign index and line, or -1 and the vanText index
	}
	var srcs []src
	for i, s := range c.signs {
		for j := range s.lines {
			srcs = append(srcs, src{i, j})
		}
	}
	for j := range c.vanText {
		srcs = append(srcs, src{-1, j})
	}
	tracks := make([]Track, len(srcs))
	for i, s := range srcs {
		tracks[i] = Track{ID: id + i, Class: TextClass, Type: "vehicle"}
		if s.sign >= 0 {
			tracks[i].Type = signTypes[c.signs[s.sign].kind]
		}
	}
	for t := 0; t < c.n; t++ {
		front := c.occluderRects(t)
		for _, tr := range c.faces {
			if t >= tr.t0 && t <= tr.end {
				front = append(front, c.pose(tr, t).cover())
			}
		}
		cars := make([]Box, len(c.cars))
		poses := make([]carPose, len(c.cars))
		for i, tr := range c.cars {
			if t >= tr.t0 && t <= tr.end {
				poses[i] = c.carPose(tr, t)
				cars[i] = poses[i].rect()
			}
		}
		for k, s := range srcs {
			var b Box
			var over []Box
			if s.sign >= 0 {
				sg := &c.signs[s.sign]
				x, y, w, h := c.signRect(sg, t)
				kx, ky := float64(w)/float64(sg.img.W), float64(h)/float64(sg.img.H)
				l := sg.lines[s.line]
				b = boxFromEdges(float64(x)+l.x0*kx, float64(y)+l.y0*ky, float64(x)+l.x1*kx, float64(y)+l.y1*ky)
				over = append(slices.Clone(front), cars...)
			} else {
				vt := c.vanText[s.line]
				tr := c.cars[vt.car]
				if t < tr.t0 || t > tr.end {
					continue
				}
				p := poses[vt.car]
				kx, ky := float64(p.dw)/float64(tr.car.W), float64(p.dh)/float64(tr.car.H)
				l := vt.line
				b = boxFromEdges(float64(p.px)+l.x0*kx, float64(p.py)+l.y0*ky, float64(p.px)+l.x1*kx, float64(p.py)+l.y1*ky)
				over = append(slices.Clone(front), cars[vt.car+1:]...)
			}
			vb, frac := c.visible(b, over)
			switch {
			case frac >= 0.5 && b[3] >= minTextHeight:
				tracks[k].Boxes = append(tracks[k].Boxes, TrackBox{Frame: t, Box: vb})
				c.st.TextBoxes++
			case !b.Intersect(frame).Empty():
				tracks[k].Boxes = append(tracks[k].Boxes, TrackBox{Frame: t, Box: b.Intersect(frame), Ignore: true})
				c.st.TextIgnoreBoxes++
			}
		}
	}
	var out []Track
	for _, tr := range tracks {
		if slices.ContainsFunc(tr.Boxes, func(b TrackBox) bool { return !b.Ignore }) {
			c.st.TextTracks++
		}
		if len(tr.Boxes) > 0 {
			out = append(out, tr)
		}
	}
	return out
}
