package desens

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

// Version is the desens release, set at build time with
// -ldflags "-X github.com/desens/desens/desens.Version=...".
var Version = "0.1.0-dev"

// Desensitizer finds and hides sensitive regions in images and videos. It
// loads its models once; its methods are safe for concurrent use, and
// concurrent files share the loaded models.
type Desensitizer struct {
	opts        Options
	rt          *onnx.Runtime
	detectors   []Detector
	closers     []io.Closer
	redactor    Redactor
	models      []ModelInfo
	keepRegions bool
	face        *detect.FaceConfig // nil without the face target
}

// FaceInferences reports how many face model runs a w×h frame takes (0
// without the face target); second looks at uncertain faces come on top.
func (d *Desensitizer) FaceInferences(w, h int) int {
	if d.face == nil {
		return 0
	}
	return d.face.Proposals.Inferences(w, h)
}

// loadFace loads the face detector and, unless turned off, its verifier.
func (d *Desensitizer) loadFace(rt *onnx.Runtime, so onnx.SessionOptions) error {
	opts := d.opts
	m, err := models.Or(opts.FaceModel, models.Face)
	if err != nil {
		return err
	}
	fm := detect.FaceModels{Detector: m.Data}
	var vm models.Model
	if opts.FaceVerifyModel != "none" {
		if vm, err = models.Or(opts.FaceVerifyModel, models.FaceVerify); err != nil {
			return err
		}
		fm.Verifier = vm.Data
	}
	cfg := detect.DefaultFaceConfig()
	if opts.Threshold > 0 {
		cfg = cfg.WithThreshold(opts.Threshold)
	}
	if opts.FaceScale > 0 {
		cfg.Proposals.Scales = []float64{opts.FaceScale}
	}
	fd, err := detect.NewFace(rt, fm, cfg, so)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Source, err)
	}
	d.face = &cfg
	d.detectors = append(d.detectors, fd)
	d.closers = append(d.closers, fd)
	d.models = append(d.models, ModelInfo{Class: detect.Face, Name: m.Name, Source: m.Source, SHA256: m.SHA256})
	if fm.Verifier != nil {
		d.models = append(d.models, ModelInfo{Class: detect.Face, Role: "verifier", Name: vm.Name, Source: vm.Source, SHA256: vm.SHA256})
	}
	return nil
}

// New loads the models the options ask for.
func New(opts Options) (*Desensitizer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.NoDetect {
		return &Desensitizer{opts: opts,
			redactor: Redactor{Style: opts.Style, Shape: opts.Shape, Expand: opts.Expand}}, nil
	}
	rt, err := onnx.Open(opts.ORTLibrary)
	if err != nil {
		return nil, err
	}
	d := &Desensitizer{opts: opts, rt: rt,
		redactor: Redactor{Style: opts.Style, Shape: opts.Shape, Expand: opts.Expand}}
	so := onnx.SessionOptions{Device: onnx.Device(opts.Device), Threads: opts.Threads}
	if slices.Contains(opts.Targets, detect.Face) {
		if err := d.loadFace(rt, so); err != nil {
			d.Close()
			return nil, err
		}
	}
	if slices.Contains(opts.Targets, detect.Plate) {
		m, err := models.Or(opts.PlateModel, models.Plate)
		if err != nil {
			d.Close()
			return nil, err
		}
		cfg := detect.DefaultPlateConfig()
		var verifier []byte
		var vm models.Model
		if opts.PlateVerifyModel != "none" {
			if vm, err = models.Or(opts.PlateVerifyModel, models.PlateVerify); err != nil {
				d.Close()
				return nil, err
			}
			verifier = vm.Data
		}
		pm := detect.PlateModels{Detector: m.Data, Verifier: verifier}
		var qm models.Model
		if verifier != nil && opts.PlateVerifyModel == "" {
			// The first look is a part of the embedded verifier; another
			// verifier file is run on every candidate.
			qm = models.PlateVerifyQuick()
			pm.QuickVerifier = qm.Data
		} else {
			cfg.QuickGate = 0
		}
		var rm models.Model
		if opts.PlateReadModel != "none" {
			if rm, err = models.Or(opts.PlateReadModel, models.TextRec); err != nil {
				d.Close()
				return nil, err
			}
			pm.Reader, pm.ReaderKeys = rm.Data, models.TextRecKeys()
		}
		cfg.Threshold = detect.PlateThreshold(verifier != nil)
		if verifier == nil {
			cfg.SmallThreshold = 0 // tuned on the combined score
		}
		if opts.PlateThreshold > 0 {
			cfg = cfg.WithThreshold(opts.PlateThreshold)
		}
		pd, err := detect.NewPlate(rt, pm, cfg, so)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("%s: %w", m.Source, err)
		}
		d.detectors = append(d.detectors, pd)
		d.closers = append(d.closers, pd)
		d.models = append(d.models, ModelInfo{Class: detect.Plate, Name: m.Name, Source: m.Source, SHA256: m.SHA256})
		if verifier != nil {
			d.models = append(d.models, ModelInfo{Class: detect.Plate, Name: vm.Name, Source: vm.Source, SHA256: vm.SHA256, Role: "verifier"})
		}
		if pm.QuickVerifier != nil {
			d.models = append(d.models, ModelInfo{Class: detect.Plate, Name: qm.Name, Source: qm.Source, SHA256: qm.SHA256, Role: "quick-verifier"})
		}
		if pm.Reader != nil {
			d.models = append(d.models, ModelInfo{Class: detect.Plate, Name: rm.Name, Source: rm.Source, SHA256: rm.SHA256, Role: "reader"})
		}
	}
	if slices.Contains(opts.Targets, detect.Overlay) {
		od, td, mi, err := newOverlay(rt, opts, so)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.detectors = append(d.detectors, od)
		if td != nil {
			d.closers = append(d.closers, td)
			d.models = append(d.models, *mi)
		}
	}
	return d, nil
}

// Close frees the models.
func (d *Desensitizer) Close() error {
	var errs []error
	for _, c := range d.closers {
		errs = append(errs, c.Close())
	}
	d.closers = nil
	if d.rt != nil {
		errs = append(errs, d.rt.Close())
		d.rt = nil
	}
	return errors.Join(errs...)
}

// Models lists the models in use.
func (d *Desensitizer) Models() []ModelInfo { return d.models }

// RuntimeVersion reports the onnxruntime version in use ("" with
// Options.NoDetect, which loads none).
func (d *Desensitizer) RuntimeVersion() string {
	if d.rt == nil {
		return ""
	}
	return d.rt.Version()
}

// KeepRegions makes reports list every frame's detections (for evaluation).
func (d *Desensitizer) KeepRegions(on bool) { d.keepRegions = on }

// AddDetector adds a detector to run beside the built-in ones, for callers
// with models of their own.
func (d *Desensitizer) AddDetector(det Detector) { d.detectors = append(d.detectors, det) }

func (d *Desensitizer) newReport() *Report {
	return &Report{Tool: "desens", Version: Version, Runtime: d.RuntimeVersion(), Device: d.opts.Device,
		Models: d.models, Started: time.Now().UTC()}
}

// ProcessFile desensitizes the file at in into out (a file path): an image
// or video, or a trajectory sidecar by Options.Trajectory. The output
// appears only if the whole file succeeded.
func (d *Desensitizer) ProcessFile(ctx context.Context, in, out string) FileReport {
	return d.processJob(ctx, job{in: localInput(in), dst: out, sink: FileSink{Overwrite: d.opts.Overwrite}})
}

// namer is implemented by sinks whose outputs are better named by a URL
// than by the name given to Create.
type namer interface{ url(name string) string }

// sizer is implemented by outputs that count what was written to them.
type sizer interface{ size() int64 }

func (d *Desensitizer) processTo(ctx context.Context, in input, dst string, sink Sink) FileReport {
	name := in.String()
	kind, kerr := KindOf(name)
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
func (d *Desensitizer) outputInfo(kind Kind, dst string, src inputInfo) OutputInfo {
	md := map[string]string{MetaSource: metaValue(src.url), MetaVersion: metaValue(Version)}
	if src.etag != "" {
		md[MetaSourceETag] = metaValue(src.etag)
	}
	ct := "video/mp4"
	if kind == KindImage {
		ct = imageTypes[imageExt(dst)]
	}
	return OutputInfo{ContentType: ct, Metadata: md}
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

func outputSize(out Output) int64 {
	switch o := out.(type) {
	case sizer:
		return o.size()
	case FileOutput:
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
	rep := d.processTo(ctx, namedInput{localInput(src), name}, dst, FileSink{})
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
// without redacting anything (for evaluation and benchmarks).
func (d *Desensitizer) Detect(ctx context.Context, img gocv.Mat) ([]detect.Detection, error) {
	f := &frame{img: img}
	detectAll(ctx, d.detectors, []*frame{f})
	return f.dets, f.err
}

// Redactor returns the redactor the options configured.
func (d *Desensitizer) Redactor() Redactor { return d.redactor }
