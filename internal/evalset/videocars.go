package evalset

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Plate widths in a 1080-line frame: the narrowest and the widest.
const (
	minPlate = 20
	maxPlate = 200
)

// carTrack is one car moving through a clip, its plate towards the camera.
type carTrack struct {
	car    *fimg // the car, plate included, at a scale no smaller than it is drawn
	plate  Box   // the plate in car
	kind   string
	t0     int
	end    int
	p0     [2]float64 // plate centre in the frame at t0
	v      [2]float64 // frame px per frame
	w0, w1 float64    // plate width at t0 and at the clip's last frame
	blur   float64
}

// carPose is where a car is drawn in one frame.
type carPose struct {
	px, py, dw, dh int
	plate          Box // in the frame, not clipped
}

// Kinds of car: passing across the frame, approaching (the plate grows),
// receding (it shrinks).
const (
	carPassing = iota
	carApproaching
	carReceding
)

// planCars plans the clip's cars from rng, a stream of their own so that
// the faces of a seed do not depend on them, and sorts them into drawing
// order, smaller (farther) first.
func (c *clip) planCars(rng *rand.Rand, art *plateArtist) {
	uniform := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }
	logUniform := func(a, b float64) float64 { return math.Exp(uniform(math.Log(a), math.Log(b))) }
	sign := func() float64 { return float64(2*rng.IntN(2) - 1) }
	maxW := max(2*minPlate, maxPlate*c.sc) - 0.6
	minW := float64(minPlate) + 0.6
	n := 2 + rng.IntN(3)
	if c.h < 1080 {
		n = 1 + rng.IntN(3)
	}
	for range n {
		tr := &carTrack{}
		kind := carPassing
		switch r := rng.Float64(); {
		case r < 0.45:
			tr.w0 = logUniform(minW, maxW)
			tr.w1 = min(max(tr.w0*uniform(0.85, 1.2), minW), maxW)
		case r < 0.75:
			kind = carApproaching
			tr.w0 = logUniform(minW, max(minW+1, maxW/2.5))
			tr.w1 = min(tr.w0*uniform(1.6, 3), maxW)
		default:
			kind = carReceding
			tr.w0 = logUniform(min(2.5*minW, maxW-1), maxW)
			tr.w1 = max(tr.w0/uniform(1.6, 3), minW)
		}
		plate, pk := art.plate(rng)
		base := 1.25 * max(tr.w0, tr.w1)
		plate = plate.resize(int(math.Ceil(base)), max(2, int(math.Round(base*float64(plate.H)/float64(plate.W)))))
		plate.adjust(uniform(0.8, 1.1), uniform(-25, 10))
		tr.car, tr.plate = drawCar(rng, plate)
		tr.kind = pk
		if rng.Float64() < 0.3 {
			tr.blur = uniform(0.3, 1)
		}
		y := uniform(0.45, 0.9) * float64(c.h)
		switch kind {
		case carPassing:
			// nearer cars cross the frame faster
			tr.v = [2]float64{sign() * uniform(3, 12) * c.sc * max(1, tr.w0/(50*c.sc)), uniform(-0.3, 0.3) * c.sc}
			if rng.Float64() < 0.4 {
				tr.p0 = [2]float64{uniform(0.1, 0.9) * float64(c.w), y}
				break
			}
			// from just outside the edge the car drives in from
			tr.t0 = rng.IntN(max(1, c.n/2))
			half := tr.w0 * float64(tr.car.W) / float64(tr.plate[2]) / 2
			x := -half
			if tr.v[0] < 0 {
				x = float64(c.w) + half
			}
			tr.p0 = [2]float64{x, y}
		case carApproaching:
			tr.t0 = rng.IntN(max(1, c.n/3))
			tr.p0 = [2]float64{uniform(0.15, 0.85) * float64(c.w), y - 0.1*float64(c.h)}
			tr.v = [2]float64{uniform(-2, 2) * c.sc, uniform(0, 2) * c.sc}
		default:
			tr.p0 = [2]float64{uniform(0.15, 0.85) * float64(c.w), y}
			tr.v = [2]float64{uniform(-2, 2) * c.sc, -uniform(0, 2) * c.sc}
		}
		if c.trimCar(tr) {
			c.cars = append(c.cars, tr)
			c.st.Cars++
		}
	}
	slices.SortStableFunc(c.cars, func(a, b *carTrack) int { return cmp.Compare(a.w0+a.w1, b.w0+b.w1) })
}

// trimCar sets tr.end as trim does for faces; false for a car that never
// comes into view.
func (c *clip) trimCar(tr *carTrack) bool {
	var ok bool
	tr.end, ok = c.inView(tr.t0, 30, func(t int) Box { return c.carPose(tr, t).plate })
	return ok
}

// carPose is where tr is drawn at frame t: its plate's width changes
// geometrically from w0 to w1 and its centre moves in a straight line.
func (c *clip) carPose(tr *carTrack, t int) carPose {
	f := c.progress(tr.t0, t)
	w := tr.w0 * math.Pow(tr.w1/tr.w0, f)
	k := w / float64(tr.plate[2])
	dt := float64(t - tr.t0)
	x, y := tr.p0[0]+tr.v[0]*dt, tr.p0[1]+tr.v[1]*dt
	p := carPose{dw: max(2, int(math.Round(float64(tr.car.W)*k))), dh: max(2, int(math.Round(float64(tr.car.H)*k)))}
	sx, sy := float64(p.dw)/float64(tr.car.W), float64(p.dh)/float64(tr.car.H)
	pcx, pcy := (float64(tr.plate[0])+float64(tr.plate[2])/2)*sx, (float64(tr.plate[1])+float64(tr.plate[3])/2)*sy
	p.px, p.py = int(math.Round(x-pcx)), int(math.Round(y-pcy))
	p.plate = boxFromEdges(float64(p.px)+float64(tr.plate[0])*sx, float64(p.py)+float64(tr.plate[1])*sy,
		float64(p.px)+float64(tr.plate.X1())*sx, float64(p.py)+float64(tr.plate.Y1())*sy)
	return p
}

func (p carPose) rect() Box { return Box{p.px, p.py, p.dw, p.dh} }

// faceCover is the part of a face's patch that hides what lies behind
// it: the ellipse halfway through its soft edge.
func (p facePose) cover() Box {
	k := (1 + p.inner) / 2
	return boxFromEdges(float64(p.px)+p.cx-k*p.ax, float64(p.py)+p.cy-k*p.ay, float64(p.px)+p.cx+k*p.ax, float64(p.py)+p.cy+k*p.ay)
}

// drawCars paints the cars at frame t, farther first.
func (c *clip) drawCars(canvas *fimg, t int) {
	for _, tr := range c.cars {
		if t < tr.t0 || t > tr.end {
			continue
		}
		p := c.carPose(tr, t)
		if !p.rect().Overlaps(Box{0, 0, c.w, c.h}) {
			continue
		}
		img := tr.car.resize(p.dw, p.dh)
		img.blur(tr.blur)
		canvas.composite(img, featherMask(p.dw, p.dh, max(1, min(p.dw, p.dh)/30)), p.px, p.py)
	}
}

// plateLabels computes the clip's plate tracks: each car's plate as
// visible (what occluders, faces and nearer cars leave of it) or, where
// more than half of it is hidden, an ignore box; the plates of the
// background photo the same way, but those no one can read as ignore
// boxes throughout; and ignore tracks for plates in occluder patches.
// Track ids start at id.
func (c *clip) plateLabels(id int) []Track {
	frame := Box{0, 0, c.w, c.h}
	cars := make([]Track, len(c.cars))
	for i := range cars {
		cars[i] = Track{ID: id, Class: "plate"}
		id++
	}
	world := make([]Track, len(c.worldPlates))
	for i := range world {
		world[i] = Track{ID: id, Class: "plate"}
		id++
	}
	unread := make([]Track, len(c.worldUnread))
	for i := range unread {
		unread[i] = Track{ID: id, Class: "plate"}
		id++
	}
	var occl []Track
	occlIdx := map[[2]int]int{}
	for t := 0; t < c.n; t++ {
		var faceOver, carOver []Box
		for _, tr := range c.faces {
			if t >= tr.t0 && t <= tr.end {
				faceOver = append(faceOver, c.pose(tr, t).cover())
			}
		}
		poses := make([]carPose, len(c.cars))
		for i, tr := range c.cars {
			if t >= tr.t0 && t <= tr.end {
				poses[i] = c.carPose(tr, t)
				carOver = append(carOver, poses[i].rect())
			} else {
				carOver = append(carOver, Box{})
			}
		}
		front := append(c.occluderRects(t), faceOver...)
		label := func(tr *Track, b Box, over []Box) {
			vb, frac := c.visible(b, over)
			_, inFrame := c.visible(b, nil)
			switch {
			case frac >= 0.5:
				tr.Boxes = append(tr.Boxes, TrackBox{Frame: t, Box: vb})
				c.st.PlateBoxes++
				if vb[2] >= 30 {
					c.st.PlateBoxes30++
				}
				if frac < inFrame-1e-9 {
					c.st.PlateOccluded++
				}
				c.st.PlateMinWidth, c.st.PlateMaxWidth = min(c.st.PlateMinWidth, vb[2]), max(c.st.PlateMaxWidth, vb[2])
			case !b.Intersect(frame).Empty():
				tr.Boxes = append(tr.Boxes, TrackBox{Frame: t, Box: b.Intersect(frame), Ignore: true})
				c.st.PlateIgnoreBoxes++
			}
		}
		for i, tr := range c.cars {
			if t < tr.t0 || t > tr.end {
				continue
			}
			over := append(slices.Clone(front), carOver[i+1:]...)
			label(&cars[i], poses[i].plate, over)
		}
		for i, r := range c.worldPlates {
			x0, y0 := c.cam.screen(t, r.x0, r.y0)
			x1, y1 := c.cam.screen(t, r.x1, r.y1)
			label(&world[i], boxFromEdges(x0, y0, x1, y1), append(slices.Clone(front), carOver...))
		}
		for i, r := range c.worldUnread {
			x0, y0 := c.cam.screen(t, r.x0, r.y0)
			x1, y1 := c.cam.screen(t, r.x1, r.y1)
			if b := boxFromEdges(x0, y0, x1, y1).Intersect(frame); !b.Empty() {
				unread[i].Boxes = append(unread[i].Boxes, TrackBox{Frame: t, Box: b, Ignore: true})
			}
		}
		for i, o := range c.occ {
			r := o.rect(t)
			for j, pb := range o.plates {
				b := Box{r[0] + pb[0], r[1] + pb[1], pb[2], pb[3]}.Intersect(frame)
				if b[2] < 3 || b[3] < 3 {
					continue
				}
				k, ok := occlIdx[[2]int{i, j}]
				if !ok {
					k = len(occl)
					occlIdx[[2]int{i, j}] = k
					occl = append(occl, Track{ID: id, Class: "plate"})
					id++
				}
				occl[k].Boxes = append(occl[k].Boxes, TrackBox{Frame: t, Box: b, Ignore: true})
			}
		}
	}
	var out []Track
	for _, tr := range append(cars, world...) {
		if len(tr.Boxes) > 0 {
			out = append(out, tr)
			c.st.PlateTracks++
		}
	}
	for _, tr := range unread {
		if len(tr.Boxes) > 0 {
			out = append(out, tr)
		}
	}
	return append(out, occl...)
}
