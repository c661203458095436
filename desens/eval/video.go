package eval

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
)

// CoverBar is the rule of video evaluation: a labelled face counts as
// hidden in a frame when what the output hides there covers at least this
// share of its box's pixels (HiddenShare). A face under the bar is left
// visible in that frame: a leak.
const CoverBar = 0.8

// SmallMin and SmallMax bound the face heights, in px and inclusive, that
// video evaluation reports apart: distant faces, where detectors fail.
const (
	SmallMin = 12
	SmallMax = 32
)

// HiddenShare is the share of box's pixels that a frame's hidden regions
// cover: a pixel counts when its centre lies inside the frame (bounds) and
// inside the mask of one of the regions, their rectangle or the ellipse
// inscribed in it. A frame masked whole covers everything.
func HiddenShare(box image.Rectangle, fr desens.FrameRegions, bounds image.Rectangle) float64 {
	if box.Empty() {
		return 0
	}
	if fr.Masked {
		return 1
	}
	var regs []desens.HiddenRegion
	for _, h := range fr.Hidden {
		if h.Box.Intersect(bounds).Overlaps(box) {
			regs = append(regs, h)
		}
	}
	if len(regs) == 0 {
		return 0
	}
	n := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			p := image.Pt(x, y)
			if !p.In(bounds) {
				continue
			}
			for _, h := range regs {
				if covers(h, x, y) {
					n++
					break
				}
			}
		}
	}
	return float64(n) / float64(box.Dx()*box.Dy())
}

// covers reports whether pixel (x, y) lies in h's mask.
func covers(h desens.HiddenRegion, x, y int) bool {
	if !image.Pt(x, y).In(h.Box) {
		return false
	}
	if h.Shape == desens.ShapeQuad && len(h.Quad) >= 3 {
		return inConvex(h.Quad, float64(x)+0.5, float64(y)+0.5)
	}
	if h.Shape != desens.ShapeEllipse {
		return true
	}
	cx, cy := float64(h.Box.Min.X+h.Box.Max.X)/2, float64(h.Box.Min.Y+h.Box.Max.Y)/2
	ax, ay := float64(h.Box.Dx())/2, float64(h.Box.Dy())/2
	dx, dy := (float64(x)+0.5-cx)/ax, (float64(y)+0.5-cy)/ay
	return dx*dx+dy*dy <= 1
}

// inConvex reports whether (x, y) lies in the convex polygon pts (corners
// in order round it, either way).
func inConvex(pts []image.Point, x, y float64) bool {
	sign := 0.0
	for i, a := range pts {
		b := pts[(i+1)%len(pts)]
		c := (float64(b.X)-float64(a.X))*(y-float64(a.Y)) - (float64(b.Y)-float64(a.Y))*(x-float64(a.X))
		if c == 0 {
			continue
		}
		if sign != 0 && (c > 0) != (sign > 0) {
			return false
		}
		sign = c
	}
	return true
}

// TextClass is the class of labelled scene text: signs, shop fronts, road
// text and lettering on vehicles. No target hides it: video evaluation
// counts how much of it a run leaves readable, whatever the targets.
const TextClass detect.Class = "text"

// ReadableBar is the rule for scene text: a labelled line of text stays
// readable in a frame when what the output hides there covers less than
// this share of its box's pixels (HiddenShare).
const ReadableBar = 0.2

// TextCounts are the per-frame tallies of labelled scene text in a clip or
// in several.
type TextCounts struct {
	Frames int `json:"frames"`
	// Truths counts labelled lines of text over frames; Excluded are
	// ignore boxes and those under the minimum size.
	Truths   int `json:"gt"`
	Readable int `json:"readable"`
	Excluded int `json:"excluded"`
	// ObscuredBy counts the lines left unreadable by the class whose
	// regions cover the most of each ("masked" for frames hidden whole).
	ObscuredBy map[string]int `json:"obscured_by,omitempty"`
	// TypeTruths and TypeReadable are Truths and Readable by the tracks'
	// type, where they have one.
	TypeTruths   map[string]int `json:"type_gt,omitempty"`
	TypeReadable map[string]int `json:"type_readable,omitempty"`
}

// addTo adds o's counts to *m, making it when needed.
func addTo(m *map[string]int, o map[string]int) {
	for k, n := range o {
		if *m == nil {
			*m = map[string]int{}
		}
		(*m)[k] += n
	}
}

// Add adds o's counts to c.
func (c *TextCounts) Add(o TextCounts) {
	c.Frames += o.Frames
	c.Truths += o.Truths
	c.Readable += o.Readable
	c.Excluded += o.Excluded
	addTo(&c.ObscuredBy, o.ObscuredBy)
	addTo(&c.TypeTruths, o.TypeTruths)
	addTo(&c.TypeReadable, o.TypeReadable)
}

// TextScore is how much labelled scene text a run left readable, in a
// clip or in total.
type TextScore struct {
	Counts TextCounts `json:"counts"`
	// Readable is Counts.Readable / Counts.Truths: the share of labelled
	// lines of text, over frames, left readable.
	Readable float64 `json:"readable_share"`
}

func (ts *TextScore) finish() {
	ts.Readable = Counts{Truths: ts.Counts.Truths, Hits: ts.Counts.Readable}.Recall()
}

// obscurer names the class whose regions cover the most of box in fr.
func obscurer(box image.Rectangle, fr desens.FrameRegions, bounds image.Rectangle) string {
	if fr.Masked {
		return "masked"
	}
	best, most := "", -1.0
	for _, h := range fr.Hidden {
		if string(h.Class) == best {
			continue
		}
		var only desens.FrameRegions
		for _, o := range fr.Hidden {
			if o.Class == h.Class {
				only.Hidden = append(only.Hidden, o)
			}
		}
		if s := HiddenShare(box, only, bounds); s > most {
			best, most = string(h.Class), s
		}
	}
	return best
}

// faceState is what happened to one labelled track in one frame.
type faceState uint8

const (
	absent   faceState = iota // no box: out of the frame, or not yet come
	excluded                  // an ignore box, or under the minimum size
	hidden                    // covered to CoverBar
	visible                   // left visible: a leak
)

// longestRun is the longest stretch of consecutive frames in which a face
// stayed visible, and the frame it starts at (-1 when there is none). Any
// other state ends a stretch: a face more than half hidden by something
// in the scene, or out of the frame, is not on show.
func longestRun(states []faceState) (start, frames int) {
	start = -1
	run := 0
	for i, s := range states {
		if s != visible {
			run = 0
			continue
		}
		run++
		if run > frames {
			start, frames = i-run+1, run
		}
	}
	return start, frames
}

// PlateMinWidth is the narrowest plate, in px, that video evaluation
// reports apart: plates a person could read, the figure the plate
// detector is held to.
const PlateMinWidth = 30

// classRule is how one class is measured: what size its boxes are
// bucketed by, and the size band reported apart.
type classRule struct {
	band    string
	inBand  func(r image.Rectangle) bool
	size    func(r image.Rectangle) int
	buckets func() []SizeBucket
}

func ruleOf(c detect.Class) classRule {
	height := func(r image.Rectangle) int { return r.Dy() }
	switch c {
	case detect.Face:
		return classRule{band: itoa(SmallMin) + "-" + itoa(SmallMax) + " px high", size: height, buckets: SizeBuckets,
			inBand: func(r image.Rectangle) bool { return r.Dy() >= SmallMin && r.Dy() <= SmallMax }}
	case detect.Plate:
		return classRule{band: ">=" + itoa(PlateMinWidth) + " px wide", buckets: PlateSizeBuckets,
			size:   func(r image.Rectangle) int { return r.Dx() },
			inBand: func(r image.Rectangle) bool { return r.Dx() >= PlateMinWidth }}
	}
	return classRule{size: height, buckets: SizeBuckets, inBand: func(image.Rectangle) bool { return false }}
}

// PlateSizeBuckets returns empty buckets by plate width: <30, 30-60,
// 60-120 and >=120 px.
func PlateSizeBuckets() []SizeBucket {
	out := make([]SizeBucket, len(plateWidthEdges))
	for i, g := range plateWidthGroups()[:len(plateWidthEdges)] {
		out[i] = SizeBucket{Name: g.Name, Min: plateWidthEdges[i]}
		if i+1 < len(plateWidthEdges) {
			out[i].Max = plateWidthEdges[i+1]
		}
	}
	return out
}

// VideoCounts are the per-frame tallies of one class in a clip or in
// several.
type VideoCounts struct {
	Frames int `json:"frames"`
	// Truths counts labelled objects over frames: a face in view for 10
	// frames counts 10. Excluded are ignore boxes and those under the
	// minimum size.
	Truths int `json:"gt"`
	Hidden int `json:"hidden"`
	// BandTruths and BandHidden are the same for the class's size band
	// (VideoClass.Band).
	BandTruths int `json:"band_gt"`
	BandHidden int `json:"band_hidden"`
	Excluded   int `json:"excluded"`
	// ObjectFrames are the frames with a labelled object of the class;
	// LeakFrames those where at least one stayed visible.
	ObjectFrames int `json:"frames_with_objects"`
	LeakFrames   int `json:"frames_with_visible"`
	// Regions counts the regions of the class hidden; FalseRegions those
	// that touch no labelled box of any class, ignore boxes included;
	// scene text (TextClass) is not something to hide and clears none.
	// MaskedFrames were hidden whole.
	Regions      int `json:"regions_hidden"`
	FalseRegions int `json:"false_regions"`
	MaskedFrames int `json:"frames_masked"`
}

// Add adds o's counts to c.
func (c *VideoCounts) Add(o VideoCounts) {
	c.Frames += o.Frames
	c.Truths += o.Truths
	c.Hidden += o.Hidden
	c.BandTruths += o.BandTruths
	c.BandHidden += o.BandHidden
	c.Excluded += o.Excluded
	c.ObjectFrames += o.ObjectFrames
	c.LeakFrames += o.LeakFrames
	c.Regions += o.Regions
	c.FalseRegions += o.FalseRegions
	c.MaskedFrames += o.MaskedFrames
}

// VideoClass is the figures of one class scored, in a clip or in total.
type VideoClass struct {
	Class detect.Class `json:"class"`
	// Band names the sizes reported apart: faces 12-32 px high, plates
	// at least 30 px wide.
	Band   string      `json:"band"`
	Counts VideoCounts `json:"counts"`
	// Recall is Hidden / Truths: per-frame recall. BandRecall is the same
	// within Band.
	Recall        float64      `json:"recall"`
	BandRecall    float64      `json:"band_recall"`
	FalsePerFrame float64      `json:"false_regions_per_frame"`
	Sizes         []SizeBucket `json:"sizes"`
	LongestRun    Run          `json:"longest_visible_run"`
}

func newVideoClass(c detect.Class) VideoClass {
	r := ruleOf(c)
	return VideoClass{Class: c, Band: r.band, Sizes: r.buckets(), LongestRun: Run{Start: -1}}
}

func (vc *VideoClass) finish() {
	c := vc.Counts
	vc.Recall = Counts{Truths: c.Truths, Hits: c.Hidden}.Recall()
	vc.BandRecall = Counts{Truths: c.BandTruths, Hits: c.BandHidden}.Recall()
	vc.FalsePerFrame = perImage(c.FalseRegions, c.Frames)
	for i := range vc.Sizes {
		b := &vc.Sizes[i]
		b.Recall = Counts{Truths: b.Truths, Hits: b.Hits}.Recall()
	}
}

// Run is a stretch of frames in which one labelled track stayed visible.
type Run struct {
	Clip   string `json:"clip,omitempty"`
	Track  int    `json:"track"`
	Start  int    `json:"start"`
	Frames int    `json:"frames"`
}

// Leak is a labelled object left visible in one frame.
type Leak struct {
	Frame int          `json:"frame"`
	Class detect.Class `json:"class"`
	Track int          `json:"track"`
	Box   Box          `json:"box"`
	Share float64      `json:"hidden_share"` // HiddenShare of its box
}

// ObscuredText is a labelled line of scene text left unreadable in one
// frame.
type ObscuredText struct {
	Frame int     `json:"frame"`
	Track int     `json:"track"`
	Box   Box     `json:"box"`
	Share float64 `json:"hidden_share"` // HiddenShare of its box
	// By is the class whose regions cover the most of it, or "masked".
	By string `json:"by"`
}

// FalseRegion is a region hidden in one frame that touches no labelled
// box.
type FalseRegion struct {
	Frame int          `json:"frame"`
	Class detect.Class `json:"class"`
	Box   Box          `json:"box"`
}

// ClipResult is one clip's outcome.
type ClipResult struct {
	// Name is the clip as the user knows it: DIR/file.
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Frames int    `json:"frames"`
	// Classes holds the figures of each class scored, in the order asked.
	Classes []VideoClass `json:"classes"`
	// LeakFrames counts the frames that left a labelled object of any
	// class scored visible.
	LeakFrames int           `json:"frames_with_visible"`
	Leaks      []Leak        `json:"leaks,omitempty"`
	False      []FalseRegion `json:"false_hidden,omitempty"`
	// Text is the scene text left readable, when the clip has some
	// labelled; Obscured lists the lines of it left unreadable, each with
	// the class that hid it most.
	Text     *TextScore     `json:"text,omitempty"`
	Obscured []ObscuredText `json:"text_obscured,omitempty"`
	// Millis is the time desens took on the clip, as desens run would.
	Millis float64 `json:"ms"`
	Error  string  `json:"error,omitempty"`
}

// Class returns the figures of class c, or nil when it was not scored.
func (cr *ClipResult) Class(c detect.Class) *VideoClass { return classIn(cr.Classes, c) }

func classIn(cs []VideoClass, c detect.Class) *VideoClass {
	for i := range cs {
		if cs[i].Class == c {
			return &cs[i]
		}
	}
	return nil
}

// VideoResult is a video evaluation's outcome.
type VideoResult struct {
	Dirs     []string `json:"dirs"`
	CoverBar float64  `json:"cover_bar"`
	MinSize  int      `json:"min_size,omitempty"`
	// Evaluated counts the clips desens processed; Failed those it could
	// not (left out of every figure).
	Evaluated int `json:"evaluated"`
	Failed    int `json:"failed"`
	Frames    int `json:"frames"`
	// Classes holds the totals of each class scored.
	Classes    []VideoClass `json:"classes"`
	LeakFrames int          `json:"frames_with_visible"`
	// Text is the scene text left readable over the clips that have some
	// labelled, at ReadableBar.
	ReadableBar float64    `json:"readable_bar"`
	Text        *TextScore `json:"text,omitempty"`
	// Millis is the time desens took on the evaluated clips, FPS the
	// frames it processed per second.
	Millis float64      `json:"ms"`
	FPS    float64      `json:"fps"`
	Clips  []ClipResult `json:"clips"`
}

// Class returns the totals of class c, or nil when it was not scored.
func (r *VideoResult) Class(c detect.Class) *VideoClass { return classIn(r.Classes, c) }

// VideoEvaluator runs labelled clips through desens as desens run does and
// scores what each output frame hides.
type VideoEvaluator struct {
	// Options configure the Desensitizer as for production; Run sets
	// OnFrame. Its Targets (default faces) are the classes scored.
	Options desens.Options
	// MinSize leaves out labelled boxes less than this many px high.
	MinSize int
	// OnClip, if set, hears of each clip as it is done.
	OnClip func(ClipResult)
}

// frameLog collects what OnFrame reports of the file being processed.
type frameLog struct {
	mu     sync.Mutex
	file   string
	frames map[int]desens.FrameRegions
}

func (l *frameLog) record(fr desens.FrameRegions) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if fr.File == l.file {
		l.frames[fr.Frame] = fr
	}
}

func (l *frameLog) start(file string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.file, l.frames = file, map[int]desens.FrameRegions{}
}

func (l *frameLog) take() map[int]desens.FrameRegions {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.frames
	l.frames = nil
	return f
}

// Run evaluates every clip of every directory. The error is non-nil only
// when a labels file is unusable, desens cannot be set up, or ctx ends;
// clips desens cannot process are reported in the result (Failed,
// ClipResult.Error).
func (e *VideoEvaluator) Run(ctx context.Context, dirs ...string) (*VideoResult, error) {
	var sets []*VideoLabels
	for _, dir := range dirs {
		l, err := LoadVideoLabels(dir)
		if err != nil {
			return nil, err
		}
		sets = append(sets, l)
	}
	log := &frameLog{}
	opts := e.Options
	opts.OnFrame = log.record
	d, err := desens.New(opts)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	tmp, err := os.MkdirTemp("", "desens-eval-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	classes := opts.Targets
	if len(classes) == 0 {
		classes = []detect.Class{detect.Face}
	}
	res := &VideoResult{Dirs: dirs, CoverBar: CoverBar, ReadableBar: ReadableBar, MinSize: e.MinSize}
	for _, l := range sets {
		for _, v := range l.Videos {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			in := filepath.Join(l.Dir, v.File)
			log.start(in)
			out := filepath.Join(tmp, fmt.Sprintf("clip-%d.mp4", len(res.Clips)))
			rep := d.ProcessFile(ctx, in, out)
			_ = os.Remove(out)
			if err := ctx.Err(); err != nil {
				return res, err
			}
			cr := ClipResult{Name: in, Width: v.Width, Height: v.Height, Millis: float64(rep.Elapsed)}
			if rep.OK {
				cr = scoreClip(v, log.take(), e.MinSize, classes)
				cr.Name, cr.Millis = in, float64(rep.Elapsed)
			} else {
				cr.Error = rep.Error
			}
			if cr.Error != "" {
				res.Failed++
			}
			res.Clips = append(res.Clips, cr)
			if e.OnClip != nil {
				e.OnClip(cr)
			}
		}
	}
	res.summarize(classes)
	return res, nil
}

// scoreClip scores what desens hid in each frame of v (frames, by frame
// number) against its labels, for each class of classes.
func scoreClip(v Video, frames map[int]desens.FrameRegions, minSize int, classes []detect.Class) ClipResult {
	cr := ClipResult{Width: v.Width, Height: v.Height}
	if len(frames) != v.Frames {
		cr.Error = fmt.Sprintf("desens output %d frames, the labels have %d", len(frames), v.Frames)
		return cr
	}
	idx := map[detect.Class]int{}
	rules := make([]classRule, len(classes))
	for i, c := range classes {
		idx[c] = i
		rules[i] = ruleOf(c)
		cr.Classes = append(cr.Classes, newVideoClass(c))
	}
	states := map[int][]faceState{}
	for _, tr := range v.Tracks {
		if _, ok := idx[tr.Class]; ok {
			states[tr.ID] = make([]faceState, v.Frames)
		}
	}
	if slices.ContainsFunc(v.Tracks, func(tr Track) bool { return tr.Class == TextClass }) {
		cr.Text = &TextScore{}
	}
	bounds := image.Rect(0, 0, v.Width, v.Height)
	objects, leaked := make([]bool, len(classes)), make([]bool, len(classes))
	for f, boxes := range v.byFrame() {
		fr, ok := frames[f]
		if !ok {
			cr.Error = fmt.Sprintf("desens said nothing of frame %d", f)
			return cr
		}
		cr.Frames++
		clear(objects)
		clear(leaked)
		for i := range cr.Classes {
			cr.Classes[i].Counts.Frames++
			if fr.Masked {
				cr.Classes[i].Counts.MaskedFrames++
			}
		}
		if cr.Text != nil {
			cr.Text.Counts.Frames++
		}
		for _, b := range boxes {
			if b.class == TextClass {
				cr.scoreText(b, f, fr, bounds, minSize)
				continue
			}
			i, ok := idx[b.class]
			if !ok {
				continue // a class not scored: its boxes only clear regions of being false
			}
			vc, rule := &cr.Classes[i], rules[i]
			c := &vc.Counts
			r := b.rect.Intersect(bounds)
			if b.ignore || r.Dy() < minSize || r.Empty() {
				c.Excluded++
				states[b.track][f] = excluded
				continue
			}
			objects[i] = true
			inBand := rule.inBand(r)
			bucket := &vc.Sizes[bucketOf(vc.Sizes, rule.size(r))]
			c.Truths++
			bucket.Truths++
			if inBand {
				c.BandTruths++
			}
			share := HiddenShare(r, fr, bounds)
			if share >= CoverBar {
				c.Hidden++
				bucket.Hits++
				if inBand {
					c.BandHidden++
				}
				states[b.track][f] = hidden
				continue
			}
			leaked[i] = true
			states[b.track][f] = visible
			cr.Leaks = append(cr.Leaks, Leak{Frame: f, Class: b.class, Track: b.track, Box: BoxOf(r), Share: round4(share)})
		}
		for i := range cr.Classes {
			if objects[i] {
				cr.Classes[i].Counts.ObjectFrames++
			}
			if leaked[i] {
				cr.Classes[i].Counts.LeakFrames++
			}
		}
		if slices.Contains(leaked, true) {
			cr.LeakFrames++
		}
		var seen []image.Rectangle
		for _, h := range fr.Hidden {
			i, ok := idx[h.Class]
			r := h.Box.Intersect(bounds)
			if !ok || slices.Contains(seen, r) {
				continue // a region hidden twice counts once
			}
			seen = append(seen, r)
			c := &cr.Classes[i].Counts
			c.Regions++
			// Scene text is not something to hide: a region over it
			// alone is false.
			if !slices.ContainsFunc(boxes, func(b frameBox) bool { return b.class != TextClass && b.rect.Overlaps(r) }) {
				c.FalseRegions++
				cr.False = append(cr.False, FalseRegion{Frame: f, Class: h.Class, Box: BoxOf(r)})
			}
		}
	}
	for _, tr := range v.Tracks {
		i, ok := idx[tr.Class]
		if !ok {
			continue
		}
		if start, n := longestRun(states[tr.ID]); n > cr.Classes[i].LongestRun.Frames {
			cr.Classes[i].LongestRun = Run{Track: tr.ID, Start: start, Frames: n}
		}
	}
	for i := range cr.Classes {
		cr.Classes[i].finish()
	}
	if cr.Text != nil {
		cr.Text.finish()
	}
	return cr
}

// scoreText scores a labelled line of scene text, b, in frame f: readable
// when the hidden regions cover less than ReadableBar of it.
func (cr *ClipResult) scoreText(b frameBox, f int, fr desens.FrameRegions, bounds image.Rectangle, minSize int) {
	c := &cr.Text.Counts
	r := b.rect.Intersect(bounds)
	if b.ignore || r.Dy() < minSize || r.Empty() {
		c.Excluded++
		return
	}
	c.Truths++
	if b.typ != "" {
		addTo(&c.TypeTruths, map[string]int{b.typ: 1})
	}
	share := HiddenShare(r, fr, bounds)
	if share < ReadableBar {
		c.Readable++
		if b.typ != "" {
			addTo(&c.TypeReadable, map[string]int{b.typ: 1})
		}
		return
	}
	by := obscurer(r, fr, bounds)
	addTo(&c.ObscuredBy, map[string]int{by: 1})
	cr.Obscured = append(cr.Obscured, ObscuredText{Frame: f, Track: b.track, Box: BoxOf(r), Share: round4(share), By: by})
}

// summarize fills the totals of classes from the clips that were
// evaluated.
func (r *VideoResult) summarize(classes []detect.Class) {
	r.Classes, r.Evaluated, r.Frames, r.LeakFrames, r.Millis, r.Text = nil, 0, 0, 0, 0, nil
	for _, c := range classes {
		r.Classes = append(r.Classes, newVideoClass(c))
	}
	for _, cr := range r.Clips {
		if cr.Error != "" {
			continue
		}
		r.Evaluated++
		r.Frames += cr.Frames
		r.LeakFrames += cr.LeakFrames
		r.Millis += cr.Millis
		if cr.Text != nil {
			if r.Text == nil {
				r.Text = &TextScore{}
			}
			r.Text.Counts.Add(cr.Text.Counts)
		}
		for i := range r.Classes {
			t, c := &r.Classes[i], cr.Class(r.Classes[i].Class)
			if c == nil {
				continue
			}
			t.Counts.Add(c.Counts)
			for j, b := range c.Sizes {
				t.Sizes[j].Truths += b.Truths
				t.Sizes[j].Hits += b.Hits
			}
			if c.LongestRun.Frames > t.LongestRun.Frames {
				t.LongestRun = c.LongestRun
				t.LongestRun.Clip = cr.Name
			}
		}
	}
	for i := range r.Classes {
		r.Classes[i].finish()
	}
	if r.Text != nil {
		r.Text.finish()
	}
	if r.Millis > 0 {
		r.FPS = round4(float64(r.Frames) / (r.Millis / 1000))
	}
}
