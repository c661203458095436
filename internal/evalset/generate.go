package evalset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Config controls Generate. Zero values take the defaults noted.
type Config struct {
	Out  string // output directory (created)
	N    int    // synthetic frames (default 60)
	Seed uint64 // RNG seed; the same seed and sources give byte-identical labels.json

	Frac720    float64 // share of 1280x720 frames (default 0.25; negative = none)
	EmptyEvery int     // frame i has no faces when i%EmptyEvery == 2 (default 10; negative = never)
	MinFace    int     // smallest face height in px (default 14)
	MaxFace    int     // largest face height in a 1080p frame (default 200)
	SmallMax   int     // "small" face height limit (default 32)
	SmallFrac  float64 // share of faces <= SmallMax (default 0.5)
	NoReal     bool    // do not copy the real photos into Out/real

	// Crowds, when set, is a directory with the labels.json of the
	// hand-labelled real crowd photos (testdata/eval/crowds), and
	// CrowdPhotos the directory holding those photos
	// (../shared/photos/crowds). They are copied with their labels into
	// Out/crowds, a set of its own that Out/labels.json leaves out. When
	// CrowdPhotos does not exist the crowds are skipped with a log line.
	Crowds      string
	CrowdPhotos string

	Resolver *Resolver // finds source files (default: installed files only)
	// FacesDir, when set, is a directory with a labels.json (testdata/faces)
	// whose crops are used as extra face sources when their original photo
	// ("source") is not available.
	FacesDir string
	Logf     func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.N == 0 {
		c.N = 60
	}
	if c.Frac720 == 0 {
		c.Frac720 = 0.25
	}
	if c.EmptyEvery == 0 {
		c.EmptyEvery = 10
	}
	if c.MinFace == 0 {
		c.MinFace = 14
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
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Stats summarises a generated set.
type Stats struct {
	Frames      int      `json:"frames"`
	Frames720   int      `json:"frames_720p"`
	EmptyFrames int      `json:"empty_frames"`
	Faces       int      `json:"faces"`
	SmallFaces  int      `json:"small_faces"` // height <= SmallMax
	Heights     []int    `json:"heights"`
	Ignores     int      `json:"ignores"`
	Negatives   int      `json:"hard_negatives"`
	RealImages  int      `json:"real_images"`
	RealFaces   int      `json:"real_faces"`
	CrowdImages int      `json:"crowd_images"`
	CrowdFaces  int      `json:"crowd_faces"`
	FaceSources []string `json:"face_sources"`
	Backgrounds []string `json:"backgrounds"`
	NegSources  []string `json:"negative_sources"`
	Missing     []string `json:"missing_sources"`
}

type faceSample struct {
	id     string
	img    *fimg
	box    [4]float64 // face box in crop coordinates
	others []Box      // other faces / ignore regions in crop coordinates
	gray   bool
}

type bgSample struct {
	id     string
	img    *fimg
	ignore []Box
	plates []Box
	// blurred are plates no one can read (Source.BlurredPlates).
	blurred []Box
}

type negSample struct {
	id          string
	img         *fimg
	ignoreWhole bool
}

type realPhoto struct {
	photo *Photo
	path  string
}

type sources struct {
	faces   []faceSample
	bgs     []bgSample
	negs    []negSample
	real    []realPhoto
	missing []string
}

// faceMargin is the context kept around a face crop, as a fraction of the
// face size on each side; the soft elliptical mask fades out inside it.
const faceMargin = 0.45

func cutFace(id string, im *fimg, face Box, others []Box) faceSample {
	mx, my := faceMargin*float64(face[2]), faceMargin*float64(face[3])
	r := Box{
		int(math.Floor(float64(face[0]) - mx)), int(math.Floor(float64(face[1]) - my)),
		0, 0,
	}
	r[2] = int(math.Ceil(float64(face.X1())+mx)) - r[0]
	r[3] = int(math.Ceil(float64(face.Y1())+my)) - r[1]
	r = r.Intersect(Box{0, 0, im.W, im.H})
	fs := faceSample{
		id:  id,
		img: im.crop(r),
		box: [4]float64{float64(face[0] - r[0]), float64(face[1] - r[1]), float64(face[2]), float64(face[3])},
	}
	for _, o := range others {
		if in := o.Intersect(r); !in.Empty() {
			fs.others = append(fs.others, Box{in[0] - r[0], in[1] - r[1], in[2], in[3]})
		}
	}
	fs.gray = fs.img.isGray()
	return fs
}

func loadSources(cfg *Config) (*sources, error) {
	s := &sources{}
	loadedPaths := map[string]bool{}
	for i := range Photos {
		p := &Photos[i]
		path := cfg.Resolver.Resolve(p)
		if path == "" {
			s.missing = append(s.missing, p.ID)
			continue
		}
		im, err := loadImage(path)
		if err != nil {
			return nil, err
		}
		if im.W != p.W || im.H != p.H {
			return nil, fmt.Errorf("%s: %s is %dx%d, table says %dx%d (labels would be wrong)", p.ID, path, im.W, im.H, p.W, p.H)
		}
		loadedPaths[p.Path] = true
		switch p.Role {
		case RoleReal:
			s.real = append(s.real, realPhoto{photo: p, path: path})
			for fi, f := range p.Faces {
				if !f.Composite {
					continue
				}
				var others []Box
				for fj, g := range p.Faces {
					if fj != fi {
						others = append(others, g.Box)
					}
				}
				others = append(others, p.Ignore...)
				s.faces = append(s.faces, cutFace(fmt.Sprintf("%s#%d", p.ID, fi), im, f.Box, others))
			}
		case RoleBackground:
			s.bgs = append(s.bgs, bgSample{id: p.ID, img: im, ignore: p.Ignore, plates: p.Plates, blurred: p.BlurredPlates})
		case RoleNegative:
			patch := im
			if !p.Patch.Empty() {
				patch = im.crop(p.Patch)
			}
			s.negs = append(s.negs, negSample{id: p.ID, img: patch, ignoreWhole: p.IgnoreWhole})
		}
	}
	if cfg.FacesDir != "" {
		if err := loadFacesDir(cfg, s, loadedPaths); err != nil {
			return nil, err
		}
	}
	if len(s.faces) == 0 {
		return nil, errors.New("no face source photos available (is opencv-doc installed?)")
	}
	if len(s.bgs) == 0 {
		return nil, errors.New("no background photos available (is opencv-doc installed?)")
	}
	return s, nil
}

// loadFacesDir adds the crops of FacesDir/labels.json whose original photo
// ("origin") was not available.
func loadFacesDir(cfg *Config, s *sources, loaded map[string]bool) error {
	set, err := ReadSet(filepath.Join(cfg.FacesDir, "labels.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, im := range set.Images {
		if im.Origin != "" && loaded[im.Origin] {
			continue
		}
		img, err := loadImage(filepath.Join(cfg.FacesDir, im.File))
		if err != nil {
			return err
		}
		for fi, o := range im.Objects {
			if o.Class != "face" {
				continue
			}
			var others []Box
			for fj, g := range im.Objects {
				if fj != fi {
					others = append(others, g.Box)
				}
			}
			others = append(others, im.Ignore...)
			s.faces = append(s.faces, cutFace(fmt.Sprintf("testdata/faces/%s#%d", im.File, fi), img, o.Box, others))
		}
	}
	return nil
}

type rect struct{ x0, y0, x1, y1 int }

func (r rect) overlaps(o rect) bool { return r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1 }

// Generate builds the evaluation set into cfg.Out and returns its stats.
func Generate(cfg Config) (*Stats, error) {
	cfg.defaults()
	src, err := loadSources(&cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	st := &Stats{Missing: src.missing}
	for _, f := range src.faces {
		st.FaceSources = append(st.FaceSources, f.id)
	}
	for _, b := range src.bgs {
		st.Backgrounds = append(st.Backgrounds, b.id)
	}
	for _, n := range src.negs {
		st.NegSources = append(st.NegSources, n.id)
	}
	if len(src.missing) > 0 {
		cfg.logf("sources not available (skipped): %s", strings.Join(src.missing, ", "))
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	set := &Set{Version: LabelVersion}
	g := &frameGen{cfg: &cfg, src: src, rng: rng, st: st}
	for i := 0; i < cfg.N; i++ {
		im, err := g.frame(i)
		if err != nil {
			return nil, err
		}
		set.Images = append(set.Images, im)
		cfg.logf("%s %dx%d faces=%d ignore=%d", im.File, im.Width, im.Height, len(im.Objects), len(im.Ignore))
	}

	if !cfg.NoReal && len(src.real) > 0 {
		realSet, err := copyReal(src.real, filepath.Join(cfg.Out, "real"))
		if err != nil {
			return nil, err
		}
		for _, im := range realSet.Images {
			st.RealImages++
			st.RealFaces += len(im.Objects)
			im.File = "real/" + im.File
			set.Images = append(set.Images, im)
		}
	}
	if err := copyCrowds(&cfg, st); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("generated labels invalid: %w", err)
	}
	if err := set.WriteFile(filepath.Join(cfg.Out, "labels.json")); err != nil {
		return nil, err
	}
	man := struct {
		Seed  uint64 `json:"seed"`
		N     int    `json:"n"`
		Stats *Stats `json:"stats"`
	}{cfg.Seed, cfg.N, st}
	if err := writeManifest(cfg.Out, man); err != nil {
		return nil, err
	}
	return st, nil
}

// writeManifest writes what made a set (seed, sizes, stats) to
// dir/manifest.json.
func writeManifest(dir string, man any) error {
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644)
}

type frameGen struct {
	cfg         *Config
	src         *sources
	rng         *rand.Rand
	st          *Stats
	placedSmall int
	placedAll   int
}

func (g *frameGen) uniform(a, b float64) float64 { return a + (b-a)*g.rng.Float64() }

func (g *frameGen) frame(i int) (Image, error) {
	cfg, rng := g.cfg, g.rng
	W, H := 1920, 1080
	if cfg.Frac720 > 0 && rng.Float64() < cfg.Frac720 {
		W, H = 1280, 720
		g.st.Frames720++
	}
	empty := cfg.EmptyEvery > 0 && i%cfg.EmptyEvery == 2
	canvas := newFimg(W, H)
	var ignore []Box
	var occupied []rect

	// background: one photo, two side by side, two stacked, or a 2x2 grid
	var cells []Box
	switch p := rng.Float64(); {
	case p < 0.45:
		cells = []Box{{0, 0, W, H}}
	case p < 0.65:
		cells = []Box{{0, 0, W / 2, H}, {W / 2, 0, W - W/2, H}}
	case p < 0.8:
		cells = []Box{{0, 0, W, H / 2}, {0, H / 2, W, H - H/2}}
	default:
		cells = []Box{{0, 0, W / 2, H / 2}, {W / 2, 0, W - W/2, H / 2}, {0, H / 2, W / 2, H - H/2}, {W / 2, H / 2, W - W/2, H - H/2}}
	}
	for _, c := range cells {
		ignore = append(ignore, g.fillCell(canvas, c)...)
	}

	// hard negatives
	nneg := rng.IntN(4)
	if empty {
		nneg = 2 + rng.IntN(4)
	}
	for k := 0; k < nneg && len(g.src.negs) > 0; k++ {
		neg := g.src.negs[rng.IntN(len(g.src.negs))]
		long := math.Exp(g.uniform(math.Log(40), math.Log(380)))
		sc := long / float64(max(neg.img.W, neg.img.H))
		dw, dh := max(1, int(math.Round(float64(neg.img.W)*sc))), max(1, int(math.Round(float64(neg.img.H)*sc)))
		if dw >= W || dh >= H {
			continue
		}
		var r rect
		ok := false
		for try := 0; try < 20 && !ok; try++ {
			x, y := rng.IntN(W-dw+1), rng.IntN(H-dh+1)
			r = rect{x, y, x + dw, y + dh}
			ok = !overlapsAny(r, occupied)
		}
		if !ok {
			continue
		}
		patch := neg.img.resize(dw, dh)
		patch.adjust(g.uniform(0.8, 1.2), g.uniform(-20, 20))
		var mask []float32
		if rng.IntN(2) == 0 {
			mask = ellipseMask(dw, dh, float64(dw)/2, float64(dh)/2, float64(dw)/2, float64(dh)/2, 0.75)
		} else {
			mask = featherMask(dw, dh, max(2, min(dw, dh)/10))
		}
		canvas.composite(patch, mask, r.x0, r.y0)
		occupied = append(occupied, r)
		g.st.Negatives++
		if neg.ignoreWhole {
			ignore = append(ignore, Box{r.x0, r.y0, dw, dh})
		}
	}

	var objects []Object
	if !empty {
		nf := 3 + rng.IntN(8)
		if H < 1080 {
			nf = 2 + rng.IntN(6)
		}
		used := map[int]bool{}
		for k := 0; k < nf; k++ {
			obj, ign, r, ok := g.placeFace(canvas, occupied, used)
			if !ok {
				continue
			}
			objects = append(objects, obj)
			ignore = append(ignore, ign...)
			occupied = append(occupied, r)
		}
	} else {
		g.st.EmptyFrames++
	}

	// frame-level photometric variation
	if rng.Float64() < 0.15 {
		canvas.gray()
	}
	canvas.adjust(g.uniform(0.85, 1.15), g.uniform(-15, 15))
	if rng.Float64() < 0.25 {
		canvas.blur(g.uniform(0.4, 0.9))
	}
	if rng.Float64() < 0.3 {
		addNoise(canvas, rng, g.uniform(1, 4))
	}
	q := 60 + rng.IntN(36)
	name := fmt.Sprintf("frame_%04d.jpg", i)
	if err := canvas.writeJPEG(filepath.Join(cfg.Out, name), q); err != nil {
		return Image{}, err
	}
	g.st.Frames++
	g.st.Ignores += len(ignore)
	return Image{File: name, Width: W, Height: H, Objects: objects, Ignore: ignore}, nil
}

func overlapsAny(r rect, occ []rect) bool {
	for _, o := range occ {
		if r.overlaps(o) {
			return true
		}
	}
	return false
}

// fillCell covers cell c of the canvas with a random crop of a background
// photo and returns the background's ignore regions in canvas coordinates.
func (g *frameGen) fillCell(canvas *fimg, c Box) []Box {
	rng := g.rng
	bg := g.src.bgs[rng.IntN(len(g.src.bgs))]
	bw, bh := float64(bg.img.W), float64(bg.img.H)
	scale := max(float64(c[2])/bw, float64(c[3])/bh) * g.uniform(1, 1.5)
	sw := min(bg.img.W, max(1, int(math.Round(float64(c[2])/scale))))
	sh := min(bg.img.H, max(1, int(math.Round(float64(c[3])/scale))))
	win := Box{rng.IntN(bg.img.W - sw + 1), rng.IntN(bg.img.H - sh + 1), sw, sh}
	patch := bg.img.crop(win).resize(c[2], c[3])
	flip := rng.IntN(3) == 0
	if flip {
		patch.flipH()
	}
	patch.adjust(g.uniform(0.9, 1.1), g.uniform(-10, 10))
	canvas.composite(patch, nil, c[0], c[1])
	var out []Box
	sx, sy := float64(c[2])/float64(sw), float64(c[3])/float64(sh)
	for _, b := range bg.ignore {
		in := b.Intersect(win)
		if in.Empty() {
			continue
		}
		x0 := float64(in[0]-win[0]) * sx
		x1 := float64(in.X1()-win[0]) * sx
		if flip {
			x0, x1 = float64(c[2])-x1, float64(c[2])-x0
		}
		y0 := float64(in[1]-win[1]) * sy
		y1 := float64(in.Y1()-win[1]) * sy
		r := boxFromEdges(float64(c[0])+x0, float64(c[1])+y0, float64(c[0])+x1, float64(c[1])+y1).Intersect(c)
		if !r.Empty() {
			out = append(out, r)
		}
	}
	return out
}

// boxFromEdges converts float edges to the enclosing integer box.
func boxFromEdges(x0, y0, x1, y1 float64) Box {
	ix0, iy0 := int(math.Floor(x0)), int(math.Floor(y0))
	ix1, iy1 := int(math.Ceil(x1)), int(math.Ceil(y1))
	return Box{ix0, iy0, ix1 - ix0, iy1 - iy0}
}

// placeFace composites one face crop onto the canvas at a free spot.
func (g *frameGen) placeFace(canvas *fimg, occupied []rect, used map[int]bool) (Object, []Box, rect, bool) {
	cfg, rng := g.cfg, g.rng
	W, H := canvas.W, canvas.H
	maxFace := cfg.MaxFace * H / 1080
	small := float64(g.placedSmall) < cfg.SmallFrac*float64(g.placedAll+1)
	var h float64
	if small {
		// one pixel inside the limits: rounding of the scaled box may add one
		h = float64(cfg.MinFace + 1 + rng.IntN(max(1, cfg.SmallMax-cfg.MinFace-1)))
	} else {
		lo := float64(cfg.SmallMax + 2)
		h = math.Round(math.Exp(g.uniform(math.Log(lo), math.Log(float64(max(maxFace, cfg.SmallMax+2))))))
	}
	// prefer sources that need no more than 1.5x upscaling, and a
	// different source than the other faces of this frame
	var cands []int
	for j, f := range g.src.faces {
		if f.box[3]*1.5 >= h && !used[j] {
			cands = append(cands, j)
		}
	}
	if len(cands) == 0 {
		for j := range g.src.faces {
			cands = append(cands, j)
		}
	}
	j := cands[rng.IntN(len(cands))]
	fs := g.src.faces[j]
	s := h / fs.box[3]
	dw, dh := int(math.Round(float64(fs.img.W)*s)), int(math.Round(float64(fs.img.H)*s))
	if dw < 2 || dh < 2 || dw > W || dh > H {
		return Object{}, nil, rect{}, false
	}
	sx, sy := float64(dw)/float64(fs.img.W), float64(dh)/float64(fs.img.H)
	fx, fy := fs.box[0]*sx, fs.box[1]*sy
	fw, fh := fs.box[2]*sx, fs.box[3]*sy
	var r rect
	ok := false
	for try := 0; try < 40 && !ok; try++ {
		x, y := rng.IntN(W-dw+1), rng.IntN(H-dh+1)
		r = rect{x, y, x + dw, y + dh}
		ok = !overlapsAny(rect{r.x0 - 2, r.y0 - 2, r.x1 + 2, r.y1 + 2}, occupied)
	}
	if !ok {
		return Object{}, nil, rect{}, false
	}
	patch := fs.img.resize(dw, dh)
	patch.adjust(g.uniform(0.85, 1.15), g.uniform(-20, 20))
	if !fs.gray {
		patch.tint(g.uniform(0.93, 1.07), g.uniform(0.95, 1.05), g.uniform(0.93, 1.07))
	}
	if rng.Float64() < 0.3 {
		sig := g.uniform(0.3, 1.2)
		if h <= float64(cfg.SmallMax) {
			sig = min(sig, 0.6)
		}
		patch.blur(sig)
	}
	cx, cy := fx+fw/2, fy+fh/2
	ax, ay := min(cx, float64(dw)-cx), min(cy, float64(dh)-cy)
	inner := max(fw/2*1.05/ax, fh/2*1.1/ay)
	canvas.composite(patch, ellipseMask(dw, dh, cx, cy, ax, ay, min(inner, 0.9)), r.x0, r.y0)

	bx0, by0 := int(math.Round(float64(r.x0)+fx)), int(math.Round(float64(r.y0)+fy))
	bx1, by1 := int(math.Round(float64(r.x0)+fx+fw)), int(math.Round(float64(r.y0)+fy+fh))
	box := Box{bx0, by0, bx1 - bx0, by1 - by0}.Intersect(Box{0, 0, W, H})
	// other faces / ignore regions of the source that show through the
	// mask (alpha > ~0.03 inside 0.95 of the outer ellipse) become ignore
	vis := boxFromEdges(float64(r.x0)+cx-0.95*ax, float64(r.y0)+cy-0.95*ay, float64(r.x0)+cx+0.95*ax, float64(r.y0)+cy+0.95*ay)
	var ign []Box
	for _, o := range fs.others {
		ib := boxFromEdges(float64(r.x0)+float64(o[0])*sx, float64(r.y0)+float64(o[1])*sy,
			float64(r.x0)+float64(o.X1())*sx, float64(r.y0)+float64(o.Y1())*sy).Intersect(vis).Intersect(Box{0, 0, W, H})
		if ib[2] >= 3 && ib[3] >= 3 {
			ign = append(ign, ib)
		}
	}
	used[j] = true
	g.placedAll++
	if box[3] <= cfg.SmallMax {
		g.placedSmall++
		g.st.SmallFaces++
	}
	g.st.Faces++
	g.st.Heights = append(g.st.Heights, box[3])
	return Object{Class: "face", Box: box}, ign, r, true
}

// featherMask is a rectangle whose edges fade over `f` pixels.
func featherMask(w, h, f int) []float32 {
	m := make([]float32, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := min(x, w-1-x, y, h-1-y)
			a := min(1, float64(d+1)/float64(f))
			m[y*w+x] = float32(a * a * (3 - 2*a))
		}
	}
	return m
}

func addNoise(f *fimg, rng *rand.Rand, sigma float64) {
	for i := 0; i < len(f.Pix); i += 4 {
		n := float32(rng.NormFloat64() * sigma)
		for j := 0; j < 3; j++ {
			f.Pix[i+j] = min(max(f.Pix[i+j]+n, 0), 255)
		}
	}
}

// copyCrowds copies the crowd photos into cfg.Out/crowds when cfg names
// them and their folder exists.
func copyCrowds(cfg *Config, st *Stats) error {
	if cfg.Crowds == "" || cfg.CrowdPhotos == "" {
		return nil
	}
	if _, err := os.Stat(cfg.CrowdPhotos); err != nil {
		cfg.logf("sources: crowds: %v; %s not written", err, filepath.Join(cfg.Out, "crowds"))
		return nil
	}
	set, err := CopyCrowds(cfg.Crowds, cfg.CrowdPhotos, filepath.Join(cfg.Out, "crowds"))
	if err != nil {
		return err
	}
	for _, im := range set.Images {
		st.CrowdImages++
		st.CrowdFaces += len(im.Objects)
	}
	return nil
}

// copyReal copies the real photos as-is into dir and writes their labels.
func copyReal(real []realPhoto, dir string) (*Set, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	set := &Set{Version: LabelVersion}
	for _, rp := range real {
		im := RealImage(rp.photo)
		if err := copyFile(rp.path, filepath.Join(dir, im.File)); err != nil {
			return nil, err
		}
		set.Images = append(set.Images, im)
	}
	if err := set.WriteFile(filepath.Join(dir, "labels.json")); err != nil {
		return nil, err
	}
	return set, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// RealImage is the label entry of a real photo (file name <ID><ext>).
func RealImage(p *Photo) Image {
	pkg := PackageByKey(p.Pkg)
	im := Image{
		File:    p.ID + strings.ToLower(filepath.Ext(p.Path)),
		Width:   p.W,
		Height:  p.H,
		Objects: []Object{},
		Ignore:  append([]Box{}, p.Ignore...),
		Source:  p.Path,
		Note:    p.Note,
	}
	if pkg != nil {
		im.Package = pkg.Kind + ":" + pkg.Name + "@" + pkg.Version
		im.License = pkg.License
	}
	if p.License != "" {
		im.License = p.License
	}
	for _, f := range p.Faces {
		im.Objects = append(im.Objects, Object{Class: "face", Box: f.Box})
	}
	return im
}

// RealSet is the labels of the real photos in the table (whether or not
// they are available here). With optional=false it holds the photos of
// packages installed by setup (absolute "source" paths that exist, so the
// file is usable as-is: testdata/eval/real/labels.json); with optional=true
// the photos of the optional packages, whose "source" is the path inside
// the package (testdata/eval/real-optional/labels.json; the generator
// fetches them and copies them into <out>/real).
func RealSet(optional bool) *Set {
	set := &Set{Version: LabelVersion}
	for i := range Photos {
		p := &Photos[i]
		pkg := PackageByKey(p.Pkg)
		if p.Role == RoleReal && pkg != nil && pkg.Setup != optional {
			set.Images = append(set.Images, RealImage(p))
		}
	}
	return set
}

// WriteRealLabels writes RealSet(false) to dir/real/labels.json and
// RealSet(true) to dir/real-optional/labels.json.
func WriteRealLabels(dir string) error {
	for _, part := range []struct {
		sub      string
		optional bool
	}{{"real", false}, {"real-optional", true}} {
		d := filepath.Join(dir, part.sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := RealSet(part.optional).WriteFile(filepath.Join(d, "labels.json")); err != nil {
			return err
		}
	}
	return nil
}
