package desens

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gocv.io/x/gocv"
	"golang.org/x/sync/errgroup"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/video"
)

// The video pipeline runs one goroutine per stage, joined by bounded
// channels whose capacity is the memory bound (a 1080p frame is 6 MB):
//
//	source.go → decode.go → detectstage.go → track.go → redact.go → encode.go → sink.go
//
// Frames keep their sequence number and travel through single goroutines
// after detection, so they reach the encoder in order. The first error
// cancels every stage; frames still in flight are closed on the way out.

// frame is one decoded picture on its way through the pipeline.
type frame struct {
	seq   int
	img   gocv.Mat
	dets  []detect.Detection // what the detectors found
	extra []trackedBox       // what the tracker adds (held, bridged, lead-in)
	err   error              // detection failed: the frame is masked whole
}

type pipeline struct {
	name      string
	detectors []Detector
	redactor  redactor
	batch     int
	hold      int
	faceLead  int
	strict    bool
	progress  func(Progress)
	expected  int

	report *FileReport // written only by the track/redact and encode goroutines
	clock  stageClock
}

// stageClock adds up the time each stage spends working, from several
// goroutines.
type stageClock struct {
	mu sync.Mutex
	d  map[string]time.Duration
}

func (c *stageClock) add(stage string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d == nil {
		c.d = map[string]time.Duration{}
	}
	c.d[stage] += d
}

func send(ctx context.Context, ch chan<- *frame, f *frame) error {
	select {
	case ch <- f:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func closeFrames(fs []*frame) {
	for _, f := range fs {
		f.img.Close()
	}
}

func drain(ch <-chan *frame) {
	for f := range ch {
		f.img.Close()
	}
}

// run pushes every frame of r through detection, tracking and redaction
// into w.
func (p *pipeline) run(ctx context.Context, r *video.Reader, w *video.Writer) error {
	g, gctx := errgroup.WithContext(ctx)
	decoded := make(chan *frame, p.batch)
	detected := make(chan *frame, p.batch)
	tracked := make(chan *frame, 2)
	redacted := make(chan *frame, 2)
	g.Go(func() error { return p.decodeStage(gctx, r, decoded) })
	g.Go(func() error { return p.detectStage(gctx, decoded, detected) })
	g.Go(func() error { return p.trackStage(gctx, detected, tracked) })
	g.Go(func() error { return p.redactStage(gctx, tracked, redacted) })
	g.Go(func() error { return p.encodeStage(gctx, w, redacted) })
	err := g.Wait()
	if err != nil {
		// Stop the decoder first so the decode stage is not blocked, then free
		// whatever is left in the channels (all closed by their senders).
		_ = r.Close()
	}
	for _, ch := range []chan *frame{decoded, detected, tracked, redacted} {
		drain(ch)
	}
	for k, v := range p.clock.d {
		p.report.addStage(k, v)
	}
	return err
}

// processVideo desensitizes the video in into out. FFmpeg reads the input
// where it lives (a local path, or a loopback URL streaming a bucket
// object) and writes a local output in place, or streams fragmented MP4
// into an output that is not a local file.
func (d *Desensitizer) processVideo(ctx context.Context, name string, in input, out output, rep *FileReport) (err error) {
	src, release, err := in.media(ctx)
	if err != nil {
		return fileErr(name, "source", err)
	}
	defer func() {
		// A failure to read the source is the real cause of whatever FFmpeg
		// made of it, and fails the file even if FFmpeg noticed nothing.
		if rerr := release(); rerr != nil {
			err = &FileError{Path: name, Stage: "source", Err: rerr}
		}
	}()
	t := time.Now()
	info, err := video.Probe(ctx, src)
	rep.addStage("probe", time.Since(t))
	if err != nil {
		return fileErr(name, "probe", err)
	}
	rep.Width, rep.Height = info.Width, info.Height
	rep.Audio = len(info.AudioCodecs) > 0
	r, err := video.Open(ctx, src, info)
	if err != nil {
		return fileErr(name, "decode", err)
	}
	defer r.Close()
	meta := map[string]string{}
	if ct, ok := info.Tags["creation_time"]; ok && !d.opts.Encode.DropCreationTime {
		meta["creation_time"] = ct
	}
	meta["comment"] = "desensitized by desens " + Version
	cfg := video.WriterConfig{
		Width: info.Width, Height: info.Height, FrameRate: info.FrameRate,
		AudioFrom: src, AudioCodecs: info.AudioCodecs, Metadata: meta,
		Preset: d.opts.Encode.Preset, CRF: d.opts.Encode.CRF,
	}
	var w *video.Writer
	if fo, ok := out.(localOutput); ok {
		w, err = video.Create(ctx, fo.Path(), cfg)
	} else {
		w, err = video.CreateStream(ctx, out, cfg)
	}
	if err != nil {
		return fileErr(name, "encode", err)
	}
	dets, closeStreams := streams(d.dets.all)
	defer closeStreams()
	dets = d.limits.limitInference(dets)
	p := &pipeline{
		name: name, detectors: dets, redactor: d.redactor,
		batch: d.opts.Runtime.BatchSize, hold: d.opts.Hold, faceLead: d.opts.Face.Lead, strict: d.opts.Strict,
		progress: d.opts.Progress, expected: info.Frames,
		report: rep,
	}
	if err := p.run(ctx, r, w); err != nil {
		w.Abort()
		return err
	}
	t = time.Now()
	err = w.Close()
	rep.addStage("encode", time.Since(t))
	if err != nil {
		return fileErr(name, "encode", err)
	}
	if rep.Frames == 0 {
		return fileErr(name, "decode", fmt.Errorf("%w: no frames decoded", ErrCorruptMedia))
	}
	return nil
}
