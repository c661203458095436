package desens

import (
	"context"
	"fmt"
	"io"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
)

// Detector finds regions to redact: a batch of BGR frames in, one Result per
// frame out. A Result with Err set marks a frame that was not examined.
// Implementations must be safe for concurrent use.
type Detector interface {
	Detect(ctx context.Context, frames []gocv.Mat) []detect.Result
}

// Streamer is a Detector that follows one video from frame to frame
// (overlays are told from scene text by standing still). Detectors are
// shared by concurrent files and keep no state, so a Streamer hands each
// video a fresh Detector of its own, which then gets that video's frames
// in order, in batches. If that Detector is an io.Closer, it is closed
// after the video.
type Streamer interface {
	Stream() Detector
}

// Finisher is a video's Detector (see Streamer) that searches a frame more
// fully once it knows the video ends with it: between two searches of a
// part of the frame, whatever comes into view there waits for the next
// search, and after the last frame there is none. The detector Stream
// returns is a Finisher: call Finish with the video's last frame, after
// Detect has seen it, and hide what it finds in that frame too.
type Finisher interface {
	Finish(ctx context.Context, last gocv.Mat) detect.Result
}

// streams returns the detectors for one video, each Streamer replaced by a
// fresh stream, and a function that closes the streams.
func streams(dets []Detector) ([]Detector, func()) {
	out := make([]Detector, len(dets))
	var closers []io.Closer
	for i, d := range dets {
		out[i] = d
		if s, ok := d.(Streamer); ok {
			out[i] = s.Stream()
			if c, ok := out[i].(io.Closer); ok {
				closers = append(closers, c)
			}
		}
	}
	return out, func() {
		for _, c := range closers {
			c.Close()
		}
	}
}

// detectAll runs every detector on a batch and merges their findings. A
// frame any detector failed on carries that error.
func detectAll(ctx context.Context, dets []Detector, frames []*frame) {
	mats := make([]gocv.Mat, len(frames))
	for i, f := range frames {
		mats[i] = f.img
	}
	for i, r := range multiDetector(dets).Detect(ctx, mats) {
		if r.Err != nil && frames[i].err == nil {
			frames[i].err = r.Err
		}
		frames[i].dets = append(frames[i].dets, r.Detections...)
	}
}

// multiDetector runs several detectors on each batch and merges what they
// find. A frame any detector failed on carries that error.
type multiDetector []Detector

func (m multiDetector) Detect(ctx context.Context, frames []gocv.Mat) []detect.Result {
	out := make([]detect.Result, len(frames))
	for _, d := range m {
		res := safeDetect(ctx, d, frames)
		for i := range out {
			if i >= len(res) {
				out[i].Err = fmt.Errorf("detector returned %d results for %d frames", len(res), len(frames))
				continue
			}
			if res[i].Err != nil && out[i].Err == nil {
				out[i].Err = res[i].Err
			}
			out[i].Detections = append(out[i].Detections, res[i].Detections...)
		}
	}
	return out
}

// Finish lets each detector that is a Finisher search the video's last
// frame again, and merges what they find.
func (m multiDetector) Finish(ctx context.Context, last gocv.Mat) (out detect.Result) {
	for _, d := range m {
		f, ok := d.(Finisher)
		if !ok {
			continue
		}
		r := safeDetect(ctx, finishing{f}, []gocv.Mat{last})[0]
		if r.Err != nil && out.Err == nil {
			out.Err = r.Err
		}
		out.Detections = append(out.Detections, r.Detections...)
	}
	return out
}

// finishing runs a Finisher's Finish as a Detector's Detect on one frame.
type finishing struct{ f Finisher }

func (f finishing) Detect(ctx context.Context, frames []gocv.Mat) []detect.Result {
	return []detect.Result{f.f.Finish(ctx, frames[0])}
}

// safeDetect turns a detector panic into per-frame errors: a bug in one
// detector must mask frames, not crash a bulk job or pass frames unexamined.
func safeDetect(ctx context.Context, d Detector, mats []gocv.Mat) (res []detect.Result) {
	defer func() {
		if p := recover(); p != nil {
			res = make([]detect.Result, len(mats))
			for i := range res {
				res[i].Err = fmt.Errorf("detector panic: %v", p)
			}
		}
	}()
	return d.Detect(ctx, mats)
}

// detectStage batches decoded frames, runs the detectors and passes the
// frames on in order. It holds the latest frame back until the next one
// comes: when none does, the video ends there, and the detectors search
// it again (Finisher) before it goes on.
func (p *pipeline) detectStage(ctx context.Context, in <-chan *frame, out chan<- *frame) error {
	defer close(out)
	batch := make([]*frame, 0, p.batch)
	var last *frame // detected, not yet sent
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		t := time.Now()
		detectAll(ctx, p.detectors, batch)
		p.clock.add("detect", time.Since(t))
		held := append([]*frame{last}, batch[:len(batch)-1]...)
		if last == nil {
			held = held[1:]
		}
		last = batch[len(batch)-1]
		batch = batch[:0]
		for i, f := range held {
			if err := send(ctx, out, f); err != nil {
				closeFrames(append(held[i:], last))
				last = nil
				return err
			}
		}
		return nil
	}
	for f := range in {
		batch = append(batch, f)
		if len(batch) == p.batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if last == nil {
		return nil
	}
	t := time.Now()
	r := multiDetector(p.detectors).Finish(ctx, last.img)
	p.clock.add("detect", time.Since(t))
	if r.Err != nil && last.err == nil {
		last.err = r.Err
	}
	last.dets = append(last.dets, r.Detections...)
	if err := send(ctx, out, last); err != nil {
		closeFrames([]*frame{last})
		return err
	}
	return nil
}
