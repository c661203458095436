package desens

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/onnx"
)

// Version is the desens release, set at build time with
// -ldflags "-X github.com/desens/desens/desens.Version=...".
var Version = "0.1.0-dev"

// Desensitizer finds and hides sensitive regions in images and videos. It
// loads its models once; its methods are safe for concurrent use, and
// concurrent files share the loaded models.
type Desensitizer struct {
	opts     Options
	rt       *onnx.Runtime
	dets     *detectors
	redactor redactor
	limits   limits
}

// New checks the options, fills in their defaults and loads the models
// they ask for. A bad option is an error wrapping ErrOptions.
func New(opts Options) (*Desensitizer, error) { return newDesensitizer(opts, true) }

// newDesensitizer is New; without models it loads none and finds
// nothing, so every frame is written as it is: for tests and benchmarks of
// storage and video I/O alone.
func newDesensitizer(opts Options, withModels bool) (*Desensitizer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Desensitizer{opts: opts, dets: &detectors{},
		redactor: redactor{Style: opts.Redact.Style, Shape: opts.Redact.Shape, Expand: opts.Redact.Expand,
			onFrame: opts.OnFrame}, limits: newLimits(opts.Batch)}
	if !withModels {
		return d, nil
	}
	if d.rt, err = onnx.Open(opts.Runtime.Library); err != nil {
		return nil, err
	}
	if d.dets, err = loadDetectors(d.rt, opts); err != nil {
		d.rt.Close()
		return nil, err
	}
	return d, nil
}

// Close frees the models.
func (d *Desensitizer) Close() error {
	err := d.dets.Close()
	if d.rt != nil {
		err = errors.Join(err, d.rt.Close())
		d.rt = nil
	}
	return err
}

// Models lists the models in use.
func (d *Desensitizer) Models() []ModelInfo { return d.dets.models }

// RuntimeVersion reports the onnxruntime version in use.
func (d *Desensitizer) RuntimeVersion() string {
	if d.rt == nil {
		return ""
	}
	return d.rt.Version()
}

// ModelBatches is how one model's runs were batched (RuntimeOptions.Batch).
type ModelBatches struct {
	Model  string
	Runs   int64         // model runs made
	Calls  int64         // detector calls they served
	Inputs int64         // frames, tiles and crops in them
	Max    int           // the most inputs in one run
	Waited time.Duration // summed over calls: from the call to the start of its run
}

// Runtime reports the runtime options in use, defaults filled in.
func (d *Desensitizer) Runtime() RuntimeOptions { return d.opts.Runtime }

// Batches reports, per model, how its runs were batched so far, for
// benchmarks and tuning RuntimeOptions.Batch.
func (d *Desensitizer) Batches() []ModelBatches {
	if d.rt == nil {
		return nil
	}
	var out []ModelBatches
	for _, s := range d.rt.BatchStats() {
		out = append(out, ModelBatches{Model: s.Model, Runs: s.Runs, Calls: s.Requests, Inputs: s.Items,
			Max: s.MaxItems, Waited: s.Waited})
	}
	return out
}

// AddDetector adds a detector to run beside the built-in ones, for callers
// with models of their own. Call it before processing any file.
func (d *Desensitizer) AddDetector(det Detector) { d.dets.all = append(d.dets.all, det) }

func (d *Desensitizer) newReport() *Report {
	return &Report{Tool: "desens", Version: Version, Runtime: d.RuntimeVersion(), Device: d.opts.Runtime.Device,
		Models: d.Models(), Started: time.Now().UTC(), Shard: d.opts.Batch.Shard.String(), MinSuccess: d.opts.Batch.MinSuccess}
}

// ProcessFile desensitizes the file at in into out (a file path): an image
// or video, or a trajectory sidecar by Options.Trajectory. The output
// appears only if the whole file succeeded.
func (d *Desensitizer) ProcessFile(ctx context.Context, in, out string) FileReport {
	sink := guardSink{outSink: fileSink{Overwrite: d.opts.Overwrite}, in: in}
	return d.processJob(ctx, job{in: localInput(in), dst: out, sink: sink})
}

// namer is implemented by sinks whose outputs are better named by a URL
// than by the name given to Create.
type namer interface{ url(name string) string }

// sizer is implemented by outputs that count what was written to them.
type sizer interface{ size() int64 }

func (d *Desensitizer) processTo(ctx context.Context, in input, dst string, sink outSink) FileReport {
	name := in.String()
	kind, kerr := KindOf(name)
	if kind == KindArchive {
		return d.processArchive(ctx, in, dst, sink) // archive.go
	}
	dst = outputName(name, dst)
	outName := dst
	if n, ok := sink.(namer); ok {
		outName = n.url(dst)
	}
	rep := newFileReport(name, outName, string(kind))
	err := func() error {
		if kerr != nil {
			return fileErr(name, "source", kerr)
		}
		info, err := in.stat(ctx)
		if err != nil {
			return fileErr(name, "source", err)
		}
		rep.BytesIn = info.size
		var data []byte // a whole image
		if kind == KindImage {
			if info.size > maxImageBytes {
				return fileErr(name, "source", tooBig(info.size, maxImageBytes))
			}
			if data, err = in.readAll(ctx, maxImageBytes); err != nil {
				return fileErr(name, "source", err)
			}
			err = sniff(data, kind)
		} else {
			var head []byte
			if head, err = in.head(ctx, sniffLen); err != nil {
				return fileErr(name, "source", err)
			}
			err = sniff(head, kind)
		}
		if err != nil {
			return fileErr(name, "source", err)
		}
		out, err := sink.Create(ctx, dst, d.outputInfo(kind, dst, info))
		if err != nil {
			return fileErr(name, "sink", err)
		}
		if kind == KindImage {
			err = d.processImage(ctx, name, data, out, imageExt(dst), &rep)
		} else {
			err = d.processVideo(ctx, name, in, out, &rep)
		}
		if err != nil {
			out.Abort()
			return err
		}
		rep.BytesOut = outputSize(out)
		if err := out.Commit(); err != nil {
			return fileErr(name, "sink", err)
		}
		rep.outETag = outputETag(out)
		return nil
	}()
	if d.opts.Progress != nil {
		d.opts.Progress(Progress{File: name, Frame: rep.Frames, Frames: rep.Frames, Done: true})
	}
	rep.finish(err)
	return rep
}

// outputInfo is what a sink stores with an output: its media type and
// where it came from.
func (d *Desensitizer) outputInfo(kind Kind, dst string, src inputInfo) outputMeta {
	md := map[string]string{MetaSource: metaValue(src.url), MetaVersion: metaValue(Version)}
	if k, v := src.version(); k != "" {
		md[k] = v
	}
	ct := "video/mp4"
	if kind == KindImage {
		ct = imageTypes[imageExt(dst)]
	}
	return outputMeta{ContentType: ct, Metadata: md}
}

// metaValue percent-encodes what object metadata cannot carry (it must be
// printable US-ASCII), and '%' itself, so the value decodes back exactly.
func metaValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// outputETag is the ETag of a committed output, where the sink learns it.
func outputETag(out output) string {
	if o, ok := out.(interface{ etag() string }); ok {
		return o.etag()
	}
	return ""
}

func outputSize(out output) int64 {
	switch o := out.(type) {
	case sizer:
		return o.size()
	case localOutput:
		if st, err := os.Stat(o.Path()); err == nil {
			return st.Size()
		}
	}
	return 0
}

// Process desensitizes a stream: name's extension says what r holds, and
// the result is written to w (MP4 for videos, the same format for images).
// The input is spooled to a private temporary file because video
// containers need seeking.
func (d *Desensitizer) Process(ctx context.Context, name string, r io.Reader, w io.Writer) (FileReport, error) {
	dir, err := os.MkdirTemp("", "desens-")
	if err != nil {
		return FileReport{}, err
	}
	defer os.RemoveAll(dir)
	base := filepath.Base(name)
	src := filepath.Join(dir, "in"+filepath.Ext(base))
	f, err := os.OpenFile(src, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return FileReport{}, err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return FileReport{}, fileErr(name, "source", err)
	}
	if err := f.Close(); err != nil {
		return FileReport{}, err
	}
	dst := filepath.Join(dir, "out", base)
	rep := d.processTo(ctx, namedInput{localInput(src), name}, dst, fileSink{})
	if !rep.OK {
		return rep, rep.err
	}
	o, err := os.Open(rep.Output)
	if err != nil {
		return rep, err
	}
	defer o.Close()
	rep.Output = ""
	if _, err := io.Copy(w, o); err != nil {
		return rep, fileErr(name, "sink", err)
	}
	return rep, nil
}

// Detect runs every detector on one BGR image and returns what they found,
// without hiding anything: for audits, evaluation and benchmarks.
func (d *Desensitizer) Detect(ctx context.Context, img gocv.Mat) ([]detect.Detection, error) {
	f := &frame{img: img}
	detectAll(ctx, d.dets.all, []*frame{f})
	return f.dets, f.err
}

// Stream returns a detector for the frames of one video, which must then
// be given in order, as the pipeline runs them: each frame is searched in
// part and what recent frames showed is followed (Options' Face.Every and
// Plate.Every). The detector is a Finisher: at the end of the video, give
// Finish its last frame and hide what it finds there too. Call the
// function Stream returns when the video is done.
func (d *Desensitizer) Stream() (Detector, func()) {
	dets, closeStreams := streams(d.dets.all)
	return multiDetector(dets), closeStreams
}

// Threshold reports the score threshold the detector of class c keeps
// boxes at (its bar for boxes of ordinary size), or 0 when c is not a
// built-in target.
func (d *Desensitizer) Threshold(c detect.Class) float64 {
	switch {
	case c == detect.Face && d.dets.face != nil:
		return d.dets.face.Threshold()
	case c == detect.Plate && d.dets.plate != nil:
		return d.dets.plate.Threshold()
	}
	return 0
}

// Passes reports whether det would be kept were its class's threshold t,
// by its detector's own rules (small faces and plates keep a lower bar).
// Detections of other classes pass when their score reaches t.
func (d *Desensitizer) Passes(det detect.Detection, t float64) bool {
	switch {
	case det.Class == detect.Face && d.dets.face != nil:
		return d.dets.face.Passes(det, t)
	case det.Class == detect.Plate && d.dets.plate != nil:
		return d.dets.plate.Passes(det, t)
	}
	return float64(det.Score) >= t
}
