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

// VideoCounts are the per-frame tallies of a clip or of several.
type VideoCounts struct {
	Frames int `json:"frames"`
	// Truths counts labelled faces over frames: a face in view for 10
	// frames counts 10. Excluded are ignore boxes and those under the
	// minimum size.
	Truths      int `json:"gt"`
	Hidden      int `json:"hidden"`
	SmallTruths int `json:"small_gt"`
	SmallHidden int `json:"small_hidden"`
	Excluded    int `json:"excluded"`
	// FaceFrames are the frames with a labelled face; LeakFrames those
	// where at least one stayed visible.
	FaceFrames int `json:"frames_with_faces"`
	LeakFrames int `json:"frames_with_visible_face"`
	// Regions counts the regions hidden, of the classes labelled;
	// FalseRegions those that touch no labelled box, ignore boxes
	// included. MaskedFrames were hidden whole.
	Regions      int `json:"regions_hidden"`
	FalseRegions int `json:"false_regions"`
	MaskedFrames int `json:"frames_masked"`
}

// Add adds o's counts to c.
func (c *VideoCounts) Add(o VideoCounts) {
	c.Frames += o.Frames
	c.Truths += o.Truths
	c.Hidden += o.Hidden
	c.SmallTruths += o.SmallTruths
	c.SmallHidden += o.SmallHidden
	c.Excluded += o.Excluded
	c.FaceFrames += o.FaceFrames
	c.LeakFrames += o.LeakFrames
	c.Regions += o.Regions
	c.FalseRegions += o.FalseRegions
	c.MaskedFrames += o.MaskedFrames
}

// Run is a stretch of frames in which one labelled track stayed visible.
type Run struct {
	Clip   string `json:"clip,omitempty"`
	Track  int    `json:"track"`
	Start  int    `json:"start"`
	Frames int    `json:"frames"`
}

// Leak is a labelled face left visible in one frame.
type Leak struct {
	Frame int     `json:"frame"`
	Track int     `json:"track"`
	Box   Box     `json:"box"`
	Share float64 `json:"hidden_share"` // HiddenShare of its box
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
	Name   string      `json:"name"`
	Width  int         `json:"width"`
	Height int         `json:"height"`
	Counts VideoCounts `json:"counts"`
	// Recall is Hidden / Truths: per-frame recall. SmallRecall is the
	// same for faces SmallMin to SmallMax px high.
	Recall        float64       `json:"recall"`
	SmallRecall   float64       `json:"small_recall"`
	FalsePerFrame float64       `json:"false_regions_per_frame"`
	Sizes         []SizeBucket  `json:"sizes"`
	LongestRun    Run           `json:"longest_visible_run"`
	Leaks         []Leak        `json:"leaks,omitempty"`
	False         []FalseRegion `json:"false_hidden,omitempty"`
	// Millis is the time desens took on the clip, as desens run would.
	Millis float64 `json:"ms"`
	Error  string  `json:"error,omitempty"`
}

// VideoResult is a video evaluation's outcome.
type VideoResult struct {
	Dirs     []string `json:"dirs"`
	CoverBar float64  `json:"cover_bar"`
	MinSize  int      `json:"min_size,omitempty"`
	SmallMin int      `json:"small_min"`
	SmallMax int      `json:"small_max"`
	// Evaluated counts the clips desens processed; Failed those it could
	// not (left out of every figure).
	Evaluated     int          `json:"evaluated"`
	Failed        int          `json:"failed"`
	Total         VideoCounts  `json:"total"`
	Recall        float64      `json:"recall"`
	SmallRecall   float64      `json:"small_recall"`
	FalsePerFrame float64      `json:"false_regions_per_frame"`
	Sizes         []SizeBucket `json:"sizes"`
	LongestRun    Run          `json:"longest_visible_run"`
	// Millis is the time desens took on the evaluated clips, FPS the
	// frames it processed per second.
	Millis float64      `json:"ms"`
	FPS    float64      `json:"fps"`
	Clips  []ClipResult `json:"clips"`
}

// VideoEvaluator runs labelled clips through desens as desens run does and
// scores what each output frame hides.
type VideoEvaluator struct {
	// Options configure the Desensitizer as for production; Run sets
	// OnFrame.
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

	res := &VideoResult{Dirs: dirs, CoverBar: CoverBar, MinSize: e.MinSize, SmallMin: SmallMin, SmallMax: SmallMax}
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
				cr = scoreClip(v, log.take(), e.MinSize)
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
	res.summarize()
	return res, nil
}

// scoreClip scores what desens hid in each frame of v (frames, by frame
// number) against its labels.
func scoreClip(v Video, frames map[int]desens.FrameRegions, minSize int) ClipResult {
	cr := ClipResult{Width: v.Width, Height: v.Height, Sizes: SizeBuckets(), LongestRun: Run{Start: -1}}
	if len(frames) != v.Frames {
		cr.Error = fmt.Sprintf("desens output %d frames, the labels have %d", len(frames), v.Frames)
		return cr
	}
	labelled := map[detect.Class]bool{}
	var ids []int
	for _, tr := range v.Tracks {
		labelled[tr.Class] = true
		ids = append(ids, tr.ID)
	}
	states := map[int][]faceState{}
	for _, id := range ids {
		states[id] = make([]faceState, v.Frames)
	}
	bounds := image.Rect(0, 0, v.Width, v.Height)
	c := &cr.Counts
	for f, boxes := range v.byFrame() {
		fr, ok := frames[f]
		if !ok {
			cr.Error = fmt.Sprintf("desens said nothing of frame %d", f)
			return cr
		}
		c.Frames++
		if fr.Masked {
			c.MaskedFrames++
		}
		faces, leaked := 0, false
		for _, b := range boxes {
			r := b.rect.Intersect(bounds)
			if b.ignore || r.Dy() < minSize || r.Empty() {
				c.Excluded++
				states[b.track][f] = excluded
				continue
			}
			faces++
			small := r.Dy() >= SmallMin && r.Dy() <= SmallMax
			bucket := &cr.Sizes[bucketOf(cr.Sizes, r.Dy())]
			c.Truths++
			bucket.Truths++
			if small {
				c.SmallTruths++
			}
			share := HiddenShare(r, fr, bounds)
			if share >= CoverBar {
				c.Hidden++
				bucket.Hits++
				if small {
					c.SmallHidden++
				}
				states[b.track][f] = hidden
				continue
			}
			leaked = true
			states[b.track][f] = visible
			cr.Leaks = append(cr.Leaks, Leak{Frame: f, Track: b.track, Box: BoxOf(r), Share: round4(share)})
		}
		if faces > 0 {
			c.FaceFrames++
		}
		if leaked {
			c.LeakFrames++
		}
		var seen []image.Rectangle
		for _, h := range fr.Hidden {
			r := h.Box.Intersect(bounds)
			if !labelled[h.Class] || slices.Contains(seen, r) {
				continue // a region hidden twice counts once
			}
			seen = append(seen, r)
			c.Regions++
			if !slices.ContainsFunc(boxes, func(b frameBox) bool { return b.rect.Overlaps(r) }) {
				c.FalseRegions++
				cr.False = append(cr.False, FalseRegion{Frame: f, Class: h.Class, Box: BoxOf(r)})
			}
		}
	}
	for _, id := range ids {
		if start, n := longestRun(states[id]); n > cr.LongestRun.Frames {
			cr.LongestRun = Run{Track: id, Start: start, Frames: n}
		}
	}
	cr.finish()
	return cr
}

func (cr *ClipResult) finish() {
	c := cr.Counts
	cr.Recall = Counts{Truths: c.Truths, Hits: c.Hidden}.Recall()
	cr.SmallRecall = Counts{Truths: c.SmallTruths, Hits: c.SmallHidden}.Recall()
	cr.FalsePerFrame = perImage(c.FalseRegions, c.Frames)
	for i := range cr.Sizes {
		b := &cr.Sizes[i]
		b.Recall = Counts{Truths: b.Truths, Hits: b.Hits}.Recall()
	}
}

// summarize fills the totals from the clips that were evaluated.
func (r *VideoResult) summarize() {
	r.Total, r.Sizes, r.LongestRun = VideoCounts{}, SizeBuckets(), Run{Start: -1}
	r.Evaluated, r.Millis = 0, 0
	for _, cr := range r.Clips {
		if cr.Error != "" {
			continue
		}
		r.Evaluated++
		r.Total.Add(cr.Counts)
		r.Millis += cr.Millis
		for i, b := range cr.Sizes {
			r.Sizes[i].Truths += b.Truths
			r.Sizes[i].Hits += b.Hits
		}
		if cr.LongestRun.Frames > r.LongestRun.Frames {
			r.LongestRun = cr.LongestRun
			r.LongestRun.Clip = cr.Name
		}
	}
	all := ClipResult{Counts: r.Total, Sizes: r.Sizes}
	all.finish()
	r.Recall, r.SmallRecall, r.FalsePerFrame, r.Sizes = all.Recall, all.SmallRecall, all.FalsePerFrame, all.Sizes
	if r.Millis > 0 {
		r.FPS = round4(float64(r.Total.Frames) / (r.Millis / 1000))
	}
}
