package desens

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"gocv.io/x/gocv"
	"golang.org/x/sync/errgroup"

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
}

// New loads the models the options ask for.
func New(opts Options) (*Desensitizer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rt, err := onnx.Open(opts.ORTLibrary)
	if err != nil {
		return nil, err
	}
	d := &Desensitizer{opts: opts, rt: rt,
		redactor: Redactor{Style: opts.Style, Shape: opts.Shape, Expand: opts.Expand}}
	so := onnx.SessionOptions{Device: onnx.Device(opts.Device), Threads: opts.Threads}
	for _, t := range opts.Targets {
		if t != detect.Face {
			continue
		}
		m := models.Face()
		if opts.FaceModel != "" {
			if m, err = models.Load(opts.FaceModel); err != nil {
				d.Close()
				return nil, err
			}
		}
		cfg := detect.DefaultFaceConfig()
		if opts.Threshold > 0 {
			cfg.Threshold = opts.Threshold
			cfg.CandidateThreshold = min(cfg.CandidateThreshold, opts.Threshold)
		}
		fd, err := detect.NewFace(rt, m.Data, cfg, so)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("%s: %w", m.Source, err)
		}
		d.detectors = append(d.detectors, fd)
		d.closers = append(d.closers, fd)
		d.models = append(d.models, ModelInfo{Class: detect.Face, Name: m.Name, Source: m.Source, SHA256: m.SHA256})
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

// RuntimeVersion reports the onnxruntime version in use.
func (d *Desensitizer) RuntimeVersion() string { return d.rt.Version() }

// KeepRegions makes reports list every frame's detections (for evaluation).
func (d *Desensitizer) KeepRegions(on bool) { d.keepRegions = on }

// AddDetector adds a detector to run beside the built-in ones, for callers
// with models of their own.
func (d *Desensitizer) AddDetector(det Detector) { d.detectors = append(d.detectors, det) }

func (d *Desensitizer) newReport() *Report {
	return &Report{Tool: "desens", Version: Version, Runtime: d.rt.Version(), Device: d.opts.Device,
		Models: d.models, Started: time.Now().UTC()}
}

// ProcessFile desensitizes the file at in into out (a file path). The output
// appears only if the whole file succeeded.
func (d *Desensitizer) ProcessFile(ctx context.Context, in, out string) FileReport {
	return d.processTo(ctx, in, in, out, FileSink{Overwrite: d.opts.Overwrite})
}

func (d *Desensitizer) processTo(ctx context.Context, name, src, dst string, sink Sink) FileReport {
	kind, kerr := KindOf(src)
	rep := newFileReport(name, dst, string(kind))
	err := func() error {
		if kerr != nil {
			return fileErr(name, "source", kerr)
		}
		st, err := os.Stat(src)
		if err != nil {
			return fileErr(name, "source", err)
		}
		if !st.Mode().IsRegular() {
			return fileErr(name, "source", fmt.Errorf("%w: not a regular file", ErrUnsupported))
		}
		rep.BytesIn = st.Size()
		if err := sniff(src, kind); err != nil {
			return fileErr(name, "source", err)
		}
		if kind == KindVideo && filepath.Ext(dst) != ".mp4" {
			dst = dst[:len(dst)-len(filepath.Ext(dst))] + ".mp4"
			rep.Output = dst
		}
		out, err := sink.Create(ctx, dst)
		if err != nil {
			return fileErr(name, "sink", err)
		}
		if kind == KindImage {
			err = d.processImage(ctx, name, src, out, imageExt(dst), &rep)
		} else {
			err = d.processVideo(ctx, name, src, out, &rep)
		}
		if err != nil {
			out.Abort()
			return err
		}
		if st, err := os.Stat(out.Path()); err == nil {
			rep.BytesOut = st.Size()
		}
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
	rep := d.processTo(ctx, name, src, dst, FileSink{})
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

// Run desensitizes in into out: a file into a file, or a directory tree
// into a directory tree with the same relative paths. Every file's outcome
// is in the report, and onFile (if set) hears of each as it finishes. The
// error is non-nil only when the run could not start or was cancelled;
// failed files are reported, not returned.
func (d *Desensitizer) Run(ctx context.Context, in, out string, onFile func(FileReport)) (*Report, error) {
	rep := d.newReport()
	defer func() { rep.Finished = time.Now().UTC() }()
	st, err := os.Stat(in)
	if err != nil {
		return rep, fmt.Errorf("input: %w", err)
	}
	if !st.IsDir() {
		if ost, err := os.Stat(out); err == nil && ost.IsDir() {
			out = filepath.Join(out, filepath.Base(in))
		}
		fr := d.ProcessFile(ctx, in, out)
		rep.add(fr)
		if onFile != nil {
			onFile(fr)
		}
		return rep, ctx.Err()
	}
	files, err := listMedia(in)
	if err != nil {
		return rep, err
	}
	if abs, aerr := filepath.Abs(out); aerr == nil {
		if ain, _ := filepath.Abs(in); isWithin(abs, ain) {
			return rep, fmt.Errorf("output %s is inside input %s", out, in)
		}
	}
	var mu sync.Mutex
	results := make([]FileReport, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.opts.Workers)
	for i, rel := range files {
		g.Go(func() error {
			if gctx.Err() != nil {
				results[i] = newFileReport(filepath.Join(in, rel), "", "")
				results[i].finish(fileErr(filepath.Join(in, rel), "source", gctx.Err()))
				return nil
			}
			fr := d.ProcessFile(gctx, filepath.Join(in, rel), filepath.Join(out, rel))
			results[i] = fr
			if onFile != nil {
				mu.Lock()
				onFile(fr)
				mu.Unlock()
			}
			return nil // a failed file never stops the others
		})
	}
	_ = g.Wait()
	for _, fr := range results {
		rep.add(fr)
	}
	return rep, ctx.Err()
}

func isWithin(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (rel == "." || len(rel) < 2 || rel[:2] != "..")
}

// listMedia walks dir for files desens handles, sorted. Other files are not
// copied: they may hold sensitive data desens does not understand. Symbolic
// links are not followed.
func listMedia(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() || e.Name()[0] == '.' {
			return nil
		}
		if _, kerr := KindOf(path); kerr != nil {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out, err
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
