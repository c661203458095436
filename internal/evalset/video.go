package evalset

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// VideoConfig controls GenerateVideo. Zero values take the defaults noted.
type VideoConfig struct {
	Out    string // output directory (created)
	Clips  int    // number of clips (default 4)
	Frames int    // frames per clip (default 60)
	FPS    int    // frame rate (default 25)
	Seed   uint64 // RNG seed; the same seed and sources give a byte-identical videos.json

	// Width and Height, when set, give every clip that size (both even).
	// By default clips come in pairs: clip i is 1920x1080 when i%4 < 2,
	// else 1280x720.
	Width, Height int
	MinFace       int     // smallest face height in px (default 12)
	MaxFace       int     // largest face height in a 1080-line frame, scaled by frame height (default 200)
	SmallMax      int     // "small" face height limit (default 32)
	SmallFrac     float64 // share of labelled face boxes <= SmallMax (default 0.5)

	Resolver *Resolver // finds source files (default: installed files only)
	// FacesDir is as Config.FacesDir: crops used when their original
	// photo is not available.
	FacesDir string
	Logf     func(format string, args ...any)
}

func (c *VideoConfig) defaults() error {
	if c.Clips == 0 {
		c.Clips = 4
	}
	if c.Frames == 0 {
		c.Frames = 60
	}
	if c.FPS == 0 {
		c.FPS = 25
	}
	if c.MinFace == 0 {
		c.MinFace = 12
	}
	if c.MaxFace == 0 {
		c.MaxFace = 200
	}
	if c.SmallMax == 0 {
		c.SmallMax = 32
	}
	if c.SmallFrac == 0 {
		c.SmallFrac = 0.5
	}
	if c.Resolver == nil {
		c.Resolver = &Resolver{}
	}
	switch {
	case c.Clips < 0 || c.Frames < 0 || c.FPS < 0:
		return fmt.Errorf("video set: %d clips of %d frames at %d fps", c.Clips, c.Frames, c.FPS)
	case (c.Width == 0) != (c.Height == 0) || c.Width < 0 || c.Height < 0 || c.Width%2 != 0 || c.Height%2 != 0:
		return fmt.Errorf("video set: clip size %dx%d: want both even and positive, or neither", c.Width, c.Height)
	case c.MinFace+2 > c.SmallMax:
		return fmt.Errorf("video set: smallest face %d px does not fit under the small limit %d px", c.MinFace, c.SmallMax)
	}
	return nil
}

func (c *VideoConfig) size(i int) (int, int) {
	if c.Width > 0 {
		return c.Width, c.Height
	}
	if i%4 < 2 {
		return 1920, 1080
	}
	return 1280, 720
}

func (c *VideoConfig) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// VideoStats summarises a generated video set.
type VideoStats struct {
	Clips        int `json:"clips"`
	Frames       int `json:"frames"`
	Tracks       int `json:"face_tracks"`
	IgnoreTracks int `json:"ignore_tracks"`
	// Boxes counts labelled face boxes (one per face and frame), ignore
	// boxes not included.
	Boxes       int `json:"face_boxes"`
	SmallBoxes  int `json:"small_face_boxes"` // height <= SmallMax
	Occluded    int `json:"occluded_boxes"`   // partly behind an occluder or another face
	IgnoreBoxes int `json:"ignore_boxes"`     // faces more than half hidden
	MinHeight   int `json:"min_height"`
	MaxHeight   int `json:"max_height"`
	Occluders   int `json:"occluders"`
	Negatives   int `json:"hard_negatives"`
	// Cars carry the plates; PlateBoxes counts labelled plate boxes (one
	// per plate and frame, ignore boxes not included), PlateBoxes30 those
	// at least 30 px wide.
	Cars             int `json:"cars"`
	PlateTracks      int `json:"plate_tracks"`
	PlateBoxes       int `json:"plate_boxes"`
	PlateBoxes30     int `json:"plate_boxes_30px"`
	PlateOccluded    int `json:"occluded_plate_boxes"`
	PlateIgnoreBoxes int `json:"ignore_plate_boxes"`
	PlateMinWidth    int `json:"plate_min_width"`
	PlateMaxWidth    int `json:"plate_max_width"`
	// Signs stand in the world (shop fronts, road signs, text on the
	// road); Lettered counts the cars with lettering. TextBoxes counts
	// labelled text lines over frames, ignore boxes not included.
	Signs           int      `json:"signs"`
	Lettered        int      `json:"lettered_cars"`
	TextTracks      int      `json:"text_tracks"`
	TextBoxes       int      `json:"text_boxes"`
	TextIgnoreBoxes int      `json:"ignore_text_boxes"`
	FaceSources     []string `json:"face_sources"`
	Backgrounds     []string `json:"backgrounds"`
	Missing         []string `json:"missing_sources"`
}

// GenerateVideo builds a labelled video set into cfg.Out: H.264 clips
// (clip_NNN.mp4) made with ffmpeg, their labels in videos.json and a
// manifest.json.
//
// Each clip is a virtual camera panning and slowly zooming over one
// background photo scaled to about twice the frame. Faces cut from the
// source photos move through it: some are in view from the first frame,
// some come in from an edge, some step out from behind an occluder (a patch
// of another photo crossing the frame in front of everything); they grow or
// shrink as they approach or recede, and leave. Heights span MinFace to
// MaxFace, with about SmallFrac of the labelled boxes SmallMax px or less.
func GenerateVideo(cfg VideoConfig) (*VideoStats, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	src, err := loadSources(&Config{Resolver: cfg.Resolver, FacesDir: cfg.FacesDir, Logf: cfg.Logf})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	st := &VideoStats{Missing: src.missing, MinHeight: math.MaxInt, PlateMinWidth: math.MaxInt}
	art, cjk, err := newPlateArtist()
	if err != nil {
		return nil, err
	}
	if !cjk {
		st.Missing = append(st.Missing, "fonts-droid-fallback")
	}
	for _, f := range src.faces {
		st.FaceSources = append(st.FaceSources, f.id)
	}
	// Worlds are photos large enough to stand being stretched to twice a
	// 1080p frame; occluders may be cut from any photo.
	var worlds []bgSample
	for _, b := range src.bgs {
		if b.img.W >= 500 && b.img.H >= 350 {
			worlds = append(worlds, b)
			st.Backgrounds = append(st.Backgrounds, b.id)
		}
	}
	if len(worlds) == 0 {
		return nil, errors.New("no background photo of at least 500x350 available")
	}
	if len(src.missing) > 0 {
		cfg.logf("sources not available (skipped): %s", strings.Join(src.missing, ", "))
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6a09e667f3bcc909))
	set := &VideoSet{Version: LabelVersion}
	for i := range cfg.Clips {
		w, h := cfg.size(i)
		c := newClip(&cfg, src, rng, st, w, h)
		c.plan(worlds)
		// Cars come from a stream of their own: a seed's faces stay as
		// they were before clips had cars.
		c.planCars(rand.New(rand.NewPCG(cfg.Seed^0x3c6ef372fe94f82b, uint64(i))), art)
		// Scene text too: faces and plates stay as they were before
		// clips had text.
		c.planText(rand.New(rand.NewPCG(cfg.Seed^0xa54ff53a5f1d36f1, uint64(i))), art)
		v := c.labels(fmt.Sprintf("clip_%03d.mp4", i))
		if err := c.render(filepath.Join(cfg.Out, v.File)); err != nil {
			return nil, err
		}
		set.Videos = append(set.Videos, v)
		st.Clips++
		st.Frames += v.Frames
		cfg.logf("%s %dx%d %d frames: %d face tracks, %d cars, %d occluders, %d signs", v.File, w, h, v.Frames, len(c.faces), len(c.cars), len(c.occ), len(c.signs))
	}
	if st.MinHeight == math.MaxInt {
		st.MinHeight = 0
	}
	if st.PlateMinWidth == math.MaxInt {
		st.PlateMinWidth = 0
	}
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("generated video labels invalid: %w", err)
	}
	if err := set.WriteFile(filepath.Join(cfg.Out, VideoLabelsFile)); err != nil {
		return nil, err
	}
	man := struct {
		Seed   uint64      `json:"seed"`
		Clips  int         `json:"clips"`
		Frames int         `json:"frames_per_clip"`
		FPS    int         `json:"fps"`
		Stats  *VideoStats `json:"stats"`
	}{cfg.Seed, cfg.Clips, cfg.Frames, cfg.FPS, st}
	if err := writeManifest(cfg.Out, man); err != nil {
		return nil, err
	}
	return st, nil
}

// camera maps the world (the background photo, scaled) to frames: its
// centre moves in a straight line and its zoom changes geometrically from
// the first frame to the last.
type camera struct {
	w, h   int        // frame size
	n      int        // frames
	c0, c1 [2]float64 // world centre at the first and last frame
	z0, z1 float64    // frame px per world px
}

func (c camera) at(t int) (cx, cy, z float64) {
	f := 0.0
	if c.n > 1 {
		f = float64(t) / float64(c.n-1)
	}
	return c.c0[0] + (c.c1[0]-c.c0[0])*f, c.c0[1] + (c.c1[1]-c.c0[1])*f, c.z0 * math.Pow(c.z1/c.z0, f)
}

// velocity is the camera centre's motion per frame, in world px.
func (c camera) velocity() [2]float64 {
	if c.n < 2 {
		return [2]float64{}
	}
	return [2]float64{(c.c1[0] - c.c0[0]) / float64(c.n-1), (c.c1[1] - c.c0[1]) / float64(c.n-1)}
}

// screen maps a world point to frame coordinates at frame t.
func (c camera) screen(t int, wx, wy float64) (float64, float64) {
	cx, cy, z := c.at(t)
	return (wx-cx)*z + float64(c.w)/2, (wy-cy)*z + float64(c.h)/2
}

// world maps a frame point at frame t to the world.
func (c camera) world(t int, sx, sy float64) (float64, float64) {
	cx, cy, z := c.at(t)
	return (sx-float64(c.w)/2)/z + cx, (sy-float64(c.h)/2)/z + cy
}

// fbox is a rectangle with float edges.
type fbox struct{ x0, y0, x1, y1 float64 }

// occluder is a patch moving sideways across the frame in front of
// everything.
type occluder struct {
	patch *fimg
	mask  []float32
	y     int
	x0    float64 // left edge at frame 0
	vx    float64 // px per frame
	// plates are the licence plates of the photo that show in the patch,
	// in patch px
	plates []Box
}

// rect is the occluder's place at frame t, which may lie partly or wholly
// outside the frame.
func (o *occluder) rect(t int) Box {
	return Box{int(math.Round(o.x0 + o.vx*float64(t))), o.y, o.patch.W, o.patch.H}
}

// negative is a hard-negative patch standing still in the world.
type negative struct {
	img     *fimg
	at      fbox // in the world
	ellipse bool // else a feathered rectangle
}

// faceTrack is one face moving through a clip.
type faceTrack struct {
	id       int
	fs       *faceSample
	t0, end  int        // first and last frame
	p0       [2]float64 // world centre of the face box at t0
	v        [2]float64 // world motion per frame
	h0, h1   float64    // face height in px at t0 and at the clip's last frame
	contrast float64
	bright   float64
	tint     [3]float64
	blur     float64
}

// facePose is where a face is drawn in one frame.
type facePose struct {
	px, py int // patch top-left in the frame
	dw, dh int // patch size
	box    Box // face box in the frame (not clipped)
	sx, sy float64
	// the soft ellipse, in patch coordinates
	cx, cy, ax, ay, inner float64
}

type clip struct {
	cfg  *VideoConfig
	src  *sources
	rng  *rand.Rand
	st   *VideoStats
	w, h int
	n    int
	sc   float64 // sizes and speeds are given for 1080 lines; this scales them

	world       *fimg   // the background photo, adjusted (and maybe mirrored)
	s           float64 // world px per photo px
	worldIgnore []fbox  // ignore regions in the world
	worldPlates []fbox  // licence plates in the world
	worldUnread []fbox  // plates in the world no one can read, labelled ignore
	cars        []*carTrack
	signs       []sceneSign
	vanText     []vanText
	cam         camera
	occ         []*occluder
	negs        []negative
	faces       []*faceTrack // in drawing order once planned
	gray        bool
	contrast    float64
	bright      float64
	noise       float64
	noiseSeed   [2]uint64
}

func newClip(cfg *VideoConfig, src *sources, rng *rand.Rand, st *VideoStats, w, h int) *clip {
	return &clip{cfg: cfg, src: src, rng: rng, st: st, w: w, h: h, n: cfg.Frames, sc: float64(h) / 1080}
}

func (c *clip) uniform(a, b float64) float64 { return a + (b-a)*c.rng.Float64() }

func (c *clip) sign() float64 {
	if c.rng.IntN(2) == 0 {
		return -1
	}
	return 1
}

func (c *clip) plan(worlds []bgSample) {
	world := worlds[c.rng.IntN(len(worlds))]
	c.planWorld(world)
	c.planOccluders(world)
	c.planNegatives()
	c.planFaces()
	c.gray = c.rng.Float64() < 0.15
	c.contrast, c.bright = c.uniform(0.88, 1.12), c.uniform(-12, 12)
	c.noise = c.uniform(1, 3)
	c.noiseSeed = [2]uint64{c.rng.Uint64(), c.rng.Uint64()}
}

// planWorld scales the background to about twice the frame and lays the
// camera's path over it: a pan mostly sideways, a zoom of up to 15% either
// way.
func (c *clip) planWorld(bg bgSample) {
	img := bg.img.crop(Box{0, 0, bg.img.W, bg.img.H})
	flip := c.rng.IntN(3) == 0
	if flip {
		img.flipH()
	}
	img.adjust(c.uniform(0.9, 1.1), c.uniform(-10, 10))
	c.world = img
	W, H := float64(c.w), float64(c.h)
	pw, ph := float64(img.W), float64(img.H)
	c.s = max(c.uniform(1.7, 2.3)*W/pw, 1.3*H/ph)
	for _, b := range bg.ignore {
		x0, x1 := float64(b.X0()), float64(b.X1())
		if flip {
			x0, x1 = pw-x1, pw-x0
		}
		c.worldIgnore = append(c.worldIgnore, fbox{x0 * c.s, float64(b.Y0()) * c.s, x1 * c.s, float64(b.Y1()) * c.s})
	}
	for k, b := range slices.Concat(bg.plates, bg.blurred) {
		x0, x1 := float64(b.X0()), float64(b.X1())
		if flip {
			x0, x1 = pw-x1, pw-x0
		}
		r := fbox{x0 * c.s, float64(b.Y0()) * c.s, x1 * c.s, float64(b.Y1()) * c.s}
		if k < len(bg.plates) {
			c.worldPlates = append(c.worldPlates, r)
		} else {
			c.worldUnread = append(c.worldUnread, r)
		}
	}

	z0, z1 := 1.0, c.uniform(0.93, 1.15)
	zmin := min(z0, z1)
	xmin, xmax := W/(2*zmin), pw*c.s-W/(2*zmin)
	ymin, ymax := H/(2*zmin), ph*c.s-H/(2*zmin)
	dist := c.uniform(2, 9) * c.sc * float64(max(0, c.n-1))
	ang := c.uniform(-0.35, 0.35)
	dx, dy := c.sign()*math.Cos(ang)*dist, math.Sin(ang)*dist
	f := 1.0
	if r := 0.95 * (xmax - xmin); math.Abs(dx) > r {
		f = r / math.Abs(dx)
	}
	if r := 0.95 * (ymax - ymin); math.Abs(dy)*f > r {
		f = r / math.Abs(dy)
	}
	dx, dy = dx*f, dy*f
	x0 := xmin + c.rng.Float64()*(xmax-xmin-math.Abs(dx))
	if dx < 0 {
		x0 += math.Abs(dx)
	}
	y0 := ymin + c.rng.Float64()*(ymax-ymin-math.Abs(dy))
	if dy < 0 {
		y0 += math.Abs(dy)
	}
	c.cam = camera{w: c.w, h: c.h, n: c.n, c0: [2]float64{x0, y0}, c1: [2]float64{x0 + dx, y0 + dy}, z0: z0, z1: z1}
}

// planOccluders sends one or two patches of other photos sideways across
// the frame, standing on its bottom edge like a passing van or a pillar
// close to the camera. Each is wholly in view at some frame. Photos with
// ignore regions (people) are left out: an occluder carries no labels.
func (c *clip) planOccluders(world bgSample) {
	var cands []bgSample
	for _, b := range c.src.bgs {
		if len(b.ignore) == 0 && b.id != world.id {
			cands = append(cands, b)
		}
	}
	if len(cands) == 0 {
		return
	}
	n := 1
	if c.rng.Float64() < 0.4 {
		n = 2
	}
	for range n {
		bg := cands[c.rng.IntN(len(cands))]
		ow := max(8, int(c.uniform(0.1, 0.25)*float64(c.w)))
		oh := max(8, int(c.uniform(0.45, 1)*float64(c.h)))
		// a window of the photo with the occluder's aspect
		cw, ch := bg.img.W, int(math.Round(float64(bg.img.W)*float64(oh)/float64(ow)))
		if ch > bg.img.H {
			ch, cw = bg.img.H, int(math.Round(float64(bg.img.H)*float64(ow)/float64(oh)))
		}
		k := c.uniform(0.5, 1)
		cw, ch = max(1, int(float64(cw)*k)), max(1, int(float64(ch)*k))
		win := Box{c.rng.IntN(bg.img.W - min(cw, bg.img.W) + 1), c.rng.IntN(bg.img.H - min(ch, bg.img.H) + 1), cw, ch}
		patch := bg.img.crop(win).resize(ow, oh)
		patch.adjust(c.uniform(0.8, 1.1), c.uniform(-40, 0))
		vx := c.sign() * c.uniform(4, 25) * c.sc
		tm, xm := c.rng.IntN(c.n), c.uniform(0, float64(c.w-ow))
		o := &occluder{patch: patch, mask: featherMask(ow, oh, max(2, ow/40)), y: c.h - oh, x0: xm - vx*float64(tm), vx: vx}
		for _, pb := range slices.Concat(bg.plates, bg.blurred) {
			sx, sy := float64(ow)/float64(win[2]), float64(oh)/float64(win[3])
			b := pb.Intersect(win)
			if b2 := boxFromEdges(float64(b[0]-win[0])*sx, float64(b[1]-win[1])*sy, float64(b.X1()-win[0])*sx,
				float64(b.Y1()-win[1])*sy); !b.Empty() && !b2.Empty() {
				o.plates = append(o.plates, b2)
			}
		}
		c.occ = append(c.occ, o)
		c.st.Occluders++
	}
}

// planNegatives stands up to two hard negatives in the part of the world
// the camera sees.
func (c *clip) planNegatives() {
	n := c.rng.IntN(3)
	for range n {
		if len(c.src.negs) == 0 {
			return
		}
		neg := c.src.negs[c.rng.IntN(len(c.src.negs))]
		long := math.Exp(c.uniform(math.Log(40), math.Log(300))) * c.sc
		k := long / float64(max(neg.img.W, neg.img.H))
		dw, dh := max(2, int(math.Round(float64(neg.img.W)*k))), max(2, int(math.Round(float64(neg.img.H)*k)))
		if dw >= c.w/2 || dh >= c.h/2 {
			continue
		}
		t := c.rng.IntN(c.n)
		sx, sy := c.uniform(0, float64(c.w-dw)), c.uniform(0, float64(c.h-dh))
		x0, y0 := c.cam.world(t, sx, sy)
		_, _, z := c.cam.at(t)
		at := fbox{x0, y0, x0 + float64(dw)/z, y0 + float64(dh)/z}
		img := neg.img.resize(dw, dh)
		img.adjust(c.uniform(0.8, 1.2), c.uniform(-20, 20))
		c.negs = append(c.negs, negative{img: img, at: at, ellipse: c.rng.IntN(2) == 0})
		if neg.ignoreWhole {
			c.worldIgnore = append(c.worldIgnore, at)
		}
		c.st.Negatives++
	}
}

// Kinds of face track: in view from the first frame, coming in from the
// left or right edge, or stepping out from behind an occluder.
const (
	kindInView = iota
	kindEdge
	kindBehind
)

// planFaces plans the face tracks and sorts them into drawing order,
// smaller (farther) first.
func (c *clip) planFaces() {
	base := max(2, int(math.Round(10*math.Sqrt(float64(c.w*c.h)/(1920*1080)))))
	n := base + c.rng.IntN(base/2+1)
	maxFace := max(float64(c.cfg.SmallMax+4), float64(c.cfg.MaxFace)*float64(c.h)/1080)
	used := map[int]bool{}
	small, all, large := 0, 0, 0
	for range n {
		// a little over the share: the last tracks may be long ones
		isSmall := float64(small) <= (c.cfg.SmallFrac+0.05)*float64(all)
		var h0, h1 float64
		if isSmall {
			// one pixel inside the limits: rounding may add one
			lo, hi := float64(c.cfg.MinFace)+0.6, float64(c.cfg.SmallMax)-0.6
			h0 = c.uniform(lo, hi)
			h1 = min(max(h0*math.Exp(c.uniform(math.Log(0.7), math.Log(1.5))), lo), hi)
		} else {
			lo := float64(c.cfg.SmallMax + 2)
			// log-uniform in one of three bands, in turn, so that each
			// clip spans the whole range
			hi := maxFace - 0.6
			band := (math.Log(hi) - math.Log(lo)) / 3
			b0 := math.Log(lo) + band*float64(large%3)
			large++
			h0 = math.Exp(c.uniform(b0, b0+band))
			h1 = min(max(h0*math.Exp(c.uniform(math.Log(0.7), math.Log(1.5))), lo), hi)
		}
		kind := kindInView
		switch r := c.rng.Float64(); {
		case r < 0.4:
		case r < 0.75 || len(c.occ) == 0:
			kind = kindEdge
		default:
			kind = kindBehind
		}
		tr := &faceTrack{h0: h0, h1: h1, fs: c.pickFace(max(h0, h1), used)}
		tr.contrast, tr.bright = c.uniform(0.85, 1.15), c.uniform(-20, 20)
		tr.tint = [3]float64{1, 1, 1}
		if !tr.fs.gray {
			tr.tint = [3]float64{c.uniform(0.93, 1.07), c.uniform(0.95, 1.05), c.uniform(0.93, 1.07)}
		}
		if c.rng.Float64() < 0.3 {
			tr.blur = c.uniform(0.3, 1.2)
			if isSmall {
				tr.blur = min(tr.blur, 0.6)
			}
		}
		if kind == kindBehind && !c.placeBehind(tr) {
			kind = kindEdge
		}
		switch kind {
		case kindInView:
			c.placeInView(tr)
		case kindEdge:
			c.placeAtEdge(tr)
		}
		if !c.trim(tr) {
			continue
		}
		c.faces = append(c.faces, tr)
		for t := tr.t0; t <= tr.end; t++ {
			if vb, frac := c.visible(c.pose(tr, t).box, c.occluderRects(t)); frac >= 0.5 {
				all++
				if vb[3] <= c.cfg.SmallMax {
					small++
				}
			}
		}
	}
	for i, tr := range c.faces {
		tr.id = i + 1
	}
	slices.SortStableFunc(c.faces, func(a, b *faceTrack) int { return cmp.Compare(a.h0+a.h1, b.h0+b.h1) })
}

// pickFace chooses a face crop that needs no more than 1.5x enlarging for
// height h, one not yet used in this clip when there is one.
func (c *clip) pickFace(h float64, used map[int]bool) *faceSample {
	var cands []int
	for pass := 0; pass < 3 && len(cands) == 0; pass++ {
		for j, f := range c.src.faces {
			if (pass > 0 || f.box[3]*1.5 >= h) && (pass > 1 || !used[j]) {
				cands = append(cands, j)
			}
		}
	}
	j := cands[c.rng.IntN(len(cands))]
	used[j] = true
	return &c.src.faces[j]
}

// walk draws a pedestrian's own motion in frame px per frame.
func (c *clip) walk() [2]float64 {
	v := c.uniform(0.3, 3.5) * c.sc
	return [2]float64{c.sign() * v, c.uniform(-0.3, 0.3) * v}
}

// setMotion makes tr's face centre be at frame point (x, y) at tr.t0 and
// walk by w frame px per frame on top of the camera's motion.
func (c *clip) setMotion(tr *faceTrack, x, y float64, w [2]float64) {
	_, _, z := c.cam.at(tr.t0)
	tr.v = [2]float64{w[0] / z, w[1] / z}
	tr.p0[0], tr.p0[1] = c.cam.world(tr.t0, x, y)
}

func (c *clip) faceSize(tr *faceTrack) (float64, float64) {
	return tr.h0 * tr.fs.box[2] / tr.fs.box[3], tr.h0
}

func (c *clip) placeInView(tr *faceTrack) {
	w, h := c.faceSize(tr)
	var x, y float64
	for try := 0; try < 30; try++ {
		x = c.uniform(w/2+1, float64(c.w)-w/2-1)
		y = c.uniform(h/2+1, float64(c.h)-h/2-1)
		r := Box{int(x - w/2 - h/2), int(y - h), int(w + h), int(2 * h)}
		free := true
		for _, o := range c.faces {
			if o.t0 == 0 && c.pose(o, 0).box.Overlaps(r) {
				free = false
				break
			}
		}
		if free {
			break
		}
	}
	c.setMotion(tr, x, y, c.walk())
}

// placeAtEdge starts tr just outside the left or right edge, on the side
// its motion across the frame brings it in from.
func (c *clip) placeAtEdge(tr *faceTrack) {
	tr.t0 = c.rng.IntN(max(1, (c.n-1)*6/10) + 1)
	w, h := c.faceSize(tr)
	_, _, z := c.cam.at(tr.t0)
	wk := c.walk()
	flow := -c.cam.velocity()[0] * z
	if vx := wk[0] + flow; math.Abs(vx) < 0.8*c.sc {
		wk[0] = c.sign()*1.5*c.sc - flow
	}
	x := -w/2 - 0.5
	if wk[0]+flow < 0 {
		x = float64(c.w) + w/2 + 0.5
	}
	c.setMotion(tr, x, c.uniform(h/2+1, float64(c.h)-h/2-1), wk)
}

// placeBehind starts tr hidden behind an occluder, near the edge that
// uncovers it first; false when the occluder is nowhere wide enough in
// view after the first frame.
func (c *clip) placeBehind(tr *faceTrack) bool {
	o := c.occ[c.rng.IntN(len(c.occ))]
	frame := Box{0, 0, c.w, c.h}
	var ts []int
	for t := 1; t < c.n; t++ {
		if in := o.rect(t).Intersect(frame); in[2]*5 >= o.patch.W*3 {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return false
	}
	tr.t0 = ts[c.rng.IntN(len(ts))]
	in := o.rect(tr.t0).Intersect(frame)
	if k := 0.7 * float64(min(in[2], in[3])) / max(tr.h0, tr.h1); k < 1 {
		tr.h0, tr.h1 = tr.h0*k, tr.h1*k
	}
	if min(tr.h0, tr.h1) < float64(c.cfg.MinFace)+0.6 {
		return false
	}
	w, h := c.faceSize(tr)
	x := float64(in[0]) + w/2 + c.uniform(1, 0.25*float64(in[2]))
	if o.vx < 0 {
		x = float64(in.X1()) - w/2 - c.uniform(1, 0.25*float64(in[2]))
	}
	x = min(max(x, float64(in[0])+w/2), float64(in.X1())-w/2)
	y := c.uniform(float64(in[1])+h/2, float64(in.Y1())-h/2)
	wk := c.walk()
	wk[0] *= 0.5
	c.setMotion(tr, x, y, wk)
	return true
}

// trim sets tr.end: the frame before the face has left the frame for good,
// or the last frame. It is false for a face that never comes into view.
func (c *clip) trim(tr *faceTrack) bool {
	var ok bool
	tr.end, ok = c.inView(tr.t0, 12, func(t int) Box { return c.pose(tr, t).box })
	return ok
}

// inView follows a track that starts at frame t0 and is drawn in box at(t)
// at frame t: end is the frame before it leaves the picture after coming
// into view (the clip's last frame if it never leaves), and ok reports
// whether it comes into view at all, within patience frames of t0.
func (c *clip) inView(t0, patience int, at func(t int) Box) (end int, ok bool) {
	frame := Box{0, 0, c.w, c.h}
	entered := false
	for t := t0; t < c.n; t++ {
		switch in := at(t).Overlaps(frame); {
		case in:
			entered = true
		case entered:
			return t - 1, true
		case t-t0 > patience:
			return c.n - 1, false
		}
	}
	return c.n - 1, entered
}

// progress is how far frame t lies from t0 to the clip's last frame, 0 to 1.
func (c *clip) progress(t0, t int) float64 {
	if c.n-1 > t0 {
		return float64(t-t0) / float64(c.n-1-t0)
	}
	return 0
}

// pose is where tr's face is drawn at frame t.
func (c *clip) pose(tr *faceTrack, t int) facePose {
	f := c.progress(tr.t0, t)
	h := tr.h0 * math.Pow(tr.h1/tr.h0, f)
	dt := float64(t - tr.t0)
	x, y := c.cam.screen(t, tr.p0[0]+tr.v[0]*dt, tr.p0[1]+tr.v[1]*dt)
	fs := tr.fs
	k := h / fs.box[3]
	p := facePose{dw: max(2, int(math.Round(float64(fs.img.W)*k))), dh: max(2, int(math.Round(float64(fs.img.H)*k)))}
	p.sx, p.sy = float64(p.dw)/float64(fs.img.W), float64(p.dh)/float64(fs.img.H)
	fx, fy := fs.box[0]*p.sx, fs.box[1]*p.sy
	fw, fh := fs.box[2]*p.sx, fs.box[3]*p.sy
	p.px, p.py = int(math.Round(x-fx-fw/2)), int(math.Round(y-fy-fh/2))
	bx0, by0 := int(math.Round(float64(p.px)+fx)), int(math.Round(float64(p.py)+fy))
	bx1, by1 := int(math.Round(float64(p.px)+fx+fw)), int(math.Round(float64(p.py)+fy+fh))
	p.box = Box{bx0, by0, bx1 - bx0, by1 - by0}
	p.cx, p.cy = fx+fw/2, fy+fh/2
	p.ax, p.ay = min(p.cx, float64(p.dw)-p.cx), min(p.cy, float64(p.dh)-p.cy)
	p.inner = min(max(fw/2*1.05/p.ax, fh/2*1.1/p.ay), 0.9)
	return p
}

func (c *clip) occluderRects(t int) []Box {
	var out []Box
	for _, o := range c.occ {
		out = append(out, o.rect(t))
	}
	return out
}

// visible returns the bounding box of the part of b inside the frame and
// under none of over, and that part's share of b's area.
func (c *clip) visible(b Box, over []Box) (Box, float64) {
	if b.Empty() {
		return Box{}, 0
	}
	area := float64(b[2] * b[3])
	in := b.Intersect(Box{0, 0, c.w, c.h})
	if in.Empty() {
		return Box{}, 0
	}
	var occ []Box
	for _, o := range over {
		if oi := o.Intersect(in); !oi.Empty() {
			occ = append(occ, oi)
		}
	}
	if len(occ) == 0 {
		return in, float64(in[2]*in[3]) / area
	}
	n := 0
	x0, y0, x1, y1 := math.MaxInt, math.MaxInt, -1, -1
	for y := in.Y0(); y < in.Y1(); y++ {
		for x := in.X0(); x < in.X1(); x++ {
			covered := false
			for _, o := range occ {
				if x >= o.X0() && x < o.X1() && y >= o.Y0() && y < o.Y1() {
					covered = true
					break
				}
			}
			if !covered {
				n++
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	if n == 0 {
		return Box{}, 0
	}
	return Box{x0, y0, x1 - x0 + 1, y1 - y0 + 1}, float64(n) / area
}

// labels computes the clip's tracks: each face's visible box per frame (or
// an ignore box where more than half of it is hidden), and ignore tracks
// for faces in the background photo, drawn faces, and other people's faces
// at the rim of a face crop.
func (c *clip) labels(file string) Video {
	v := Video{File: file, Width: c.w, Height: c.h, FPS: c.cfg.FPS, Frames: c.n}
	frame := Box{0, 0, c.w, c.h}
	faceTracks := make([]Track, len(c.faces))
	for i, tr := range c.faces {
		faceTracks[i] = Track{ID: tr.id, Class: "face"}
	}
	nextID := len(c.faces) + 1
	ignoreIDs := map[string]int{}
	var ignores []Track
	addIgnore := func(key string, t int, b Box) {
		b = b.Intersect(frame)
		if b[2] < 3 || b[3] < 3 {
			return
		}
		id, ok := ignoreIDs[key]
		if !ok {
			id = nextID
			nextID++
			ignoreIDs[key] = id
			ignores = append(ignores, Track{ID: id, Class: "face"})
		}
		for i := range ignores {
			if ignores[i].ID == id {
				ignores[i].Boxes = append(ignores[i].Boxes, TrackBox{Frame: t, Box: b, Ignore: true})
			}
		}
	}
	for t := 0; t < c.n; t++ {
		occl := c.occluderRects(t)
		poses := make([]facePose, len(c.faces))
		for i, tr := range c.faces {
			if t >= tr.t0 && t <= tr.end {
				poses[i] = c.pose(tr, t)
			}
		}
		for i, tr := range c.faces {
			if t < tr.t0 || t > tr.end {
				continue
			}
			p := poses[i]
			over := slices.Clone(occl)
			for j := i + 1; j < len(c.faces); j++ { // drawn over this one
				if t >= c.faces[j].t0 && t <= c.faces[j].end {
					over = append(over, poses[j].cover())
				}
			}
			vb, frac := c.visible(p.box, over)
			_, inFrame := c.visible(p.box, nil)
			switch {
			case frac >= 0.5:
				faceTracks[i].Boxes = append(faceTracks[i].Boxes, TrackBox{Frame: t, Box: vb})
				c.st.Boxes++
				if vb[3] <= c.cfg.SmallMax {
					c.st.SmallBoxes++
				}
				if frac < inFrame-1e-9 {
					c.st.Occluded++
				}
				c.st.MinHeight, c.st.MaxHeight = min(c.st.MinHeight, vb[3]), max(c.st.MaxHeight, vb[3])
			case !p.box.Intersect(frame).Empty():
				faceTracks[i].Boxes = append(faceTracks[i].Boxes, TrackBox{Frame: t, Box: p.box.Intersect(frame), Ignore: true})
				c.st.IgnoreBoxes++
			}
			// other faces of the source photo that show through the mask
			vis := boxFromEdges(float64(p.px)+p.cx-0.95*p.ax, float64(p.py)+p.cy-0.95*p.ay,
				float64(p.px)+p.cx+0.95*p.ax, float64(p.py)+p.cy+0.95*p.ay)
			for k, o := range tr.fs.others {
				ib := boxFromEdges(float64(p.px)+float64(o[0])*p.sx, float64(p.py)+float64(o[1])*p.sy,
					float64(p.px)+float64(o.X1())*p.sx, float64(p.py)+float64(o.Y1())*p.sy).Intersect(vis)
				addIgnore(fmt.Sprintf("face%d/%d", tr.id, k), t, ib)
			}
		}
		for k, r := range c.worldIgnore {
			x0, y0 := c.cam.screen(t, r.x0, r.y0)
			x1, y1 := c.cam.screen(t, r.x1, r.y1)
			addIgnore(fmt.Sprintf("world%d", k), t, boxFromEdges(x0, y0, x1, y1))
		}
	}
	for _, tr := range faceTracks {
		if len(tr.Boxes) > 0 {
			v.Tracks = append(v.Tracks, tr)
			c.st.Tracks++
		}
	}
	slices.SortFunc(v.Tracks, func(a, b Track) int { return a.ID - b.ID })
	v.Tracks = append(v.Tracks, ignores...)
	c.st.IgnoreTracks += len(ignores)
	v.Tracks = append(v.Tracks, c.plateLabels(nextID)...)
	for _, tr := range v.Tracks {
		nextID = max(nextID, tr.ID+1)
	}
	v.Tracks = append(v.Tracks, c.textLabels(nextID)...)
	return v
}

// render draws every frame and encodes the clip into path.
func (c *clip) render(path string) error {
	enc, err := newClipWriter(path, c.w, c.h, c.cfg.FPS)
	if err != nil {
		return err
	}
	noise := rand.New(rand.NewPCG(c.noiseSeed[0], c.noiseSeed[1]))
	canvas := newFimg(c.w, c.h)
	for t := 0; t < c.n; t++ {
		c.drawFrame(canvas, t, noise)
		if err := enc.write(canvas); err != nil {
			enc.abort()
			return err
		}
	}
	return enc.close()
}

func (c *clip) drawFrame(canvas *fimg, t int, noise *rand.Rand) {
	c.drawWorld(canvas, t)
	_, _, z := c.cam.at(t)
	for _, ng := range c.negs {
		x0, y0 := c.cam.screen(t, ng.at.x0, ng.at.y0)
		dw := max(2, int(math.Round((ng.at.x1-ng.at.x0)*z)))
		dh := max(2, int(math.Round((ng.at.y1-ng.at.y0)*z)))
		var mask []float32
		if ng.ellipse {
			mask = ellipseMask(dw, dh, float64(dw)/2, float64(dh)/2, float64(dw)/2, float64(dh)/2, 0.75)
		} else {
			mask = featherMask(dw, dh, max(2, min(dw, dh)/10))
		}
		canvas.composite(ng.img.resize(dw, dh), mask, int(math.Round(x0)), int(math.Round(y0)))
	}
	c.drawSigns(canvas, t)
	c.drawCars(canvas, t)
	for _, tr := range c.faces {
		if t < tr.t0 || t > tr.end {
			continue
		}
		p := c.pose(tr, t)
		patch := tr.fs.img.resize(p.dw, p.dh)
		patch.adjust(tr.contrast, tr.bright)
		if !tr.fs.gray {
			patch.tint(tr.tint[0], tr.tint[1], tr.tint[2])
		}
		patch.blur(tr.blur)
		canvas.composite(patch, ellipseMask(p.dw, p.dh, p.cx, p.cy, p.ax, p.ay, p.inner), p.px, p.py)
	}
	for _, o := range c.occ {
		if r := o.rect(t); r.Overlaps(Box{0, 0, c.w, c.h}) {
			canvas.composite(o.patch, o.mask, r[0], r[1])
		}
	}
	if c.gray {
		canvas.gray()
	}
	canvas.adjust(c.contrast, c.bright)
	addNoise(canvas, noise, c.noise)
}

// drawWorld fills canvas with the camera's view of the world at frame t,
// sampled bilinearly from the photo (the world is always an enlargement).
func (c *clip) drawWorld(canvas *fimg, t int) {
	cx, cy, z := c.cam.at(t)
	step := 1 / (z * c.s) // photo px per frame px
	// frame pixel centre x+0.5 lies at world cx+(x+0.5-w/2)/z; photo
	// pixel centres are at integers.
	ox := (cx+(0.5-float64(c.w)/2)/z)/c.s - 0.5
	oy := (cy+(0.5-float64(c.h)/2)/z)/c.s - 0.5
	src := c.world
	xi, xf := lerpTaps(ox, step, c.w, src.W)
	yi, yf := lerpTaps(oy, step, c.h, src.H)
	for y := 0; y < c.h; y++ {
		r0 := src.Pix[yi[y]*src.W*4:]
		r1 := src.Pix[min(yi[y]+1, src.H-1)*src.W*4:]
		fy := yf[y]
		dst := canvas.Pix[y*c.w*4:]
		for x := 0; x < c.w; x++ {
			i0, i1 := xi[x]*4, min(xi[x]+1, src.W-1)*4
			fx := xf[x]
			for ch := 0; ch < 3; ch++ {
				top := r0[i0+ch] + (r0[i1+ch]-r0[i0+ch])*fx
				bot := r1[i0+ch] + (r1[i1+ch]-r1[i0+ch])*fx
				dst[x*4+ch] = top + (bot-top)*fy
			}
			dst[x*4+3] = 255
		}
	}
}

// lerpTaps gives, for each of n output samples at origin+i*step in a
// source of size, the left source index and the weight of the next one.
func lerpTaps(origin, step float64, n, size int) ([]int, []float32) {
	idx, frac := make([]int, n), make([]float32, n)
	for i := range n {
		u := min(max(origin+float64(i)*step, 0), float64(size-1))
		j := int(math.Floor(u))
		idx[i], frac[i] = j, float32(u-float64(j))
	}
	return idx, frac
}
