// Package benchmark measures where the time goes when desens processes a
// video: decoding alone, detection alone, the whole pipeline, and FFmpeg's
// own decode and libx264 encode of the same file as the yardstick.
//
// # The figure that counts
//
// Absolute frames per second depend on the machine; the ratio of the
// pipeline's speed to FFmpeg's plain transcode of the same file (same
// preset and CRF as desens encodes with) does much less. It says what
// desensitizing costs on top of the re-encode any redaction needs anyway.
//
// # Frame limits
//
// Config.Frames limits every measurement to the first N frames. The
// pipeline cannot be stopped after N frames from outside, so it runs on a
// stream copy of the first N video frames made beforehand (not timed).
// Without a limit the pipeline also copies the file's audio, as desens run
// does; the FFmpeg yardstick encodes the video stream alone.
//
// MB/s is the input file's size in 10^6 bytes, scaled to the share of its
// frames a measurement processed, over the seconds it took.
package benchmark

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/video"
)

// Encoder settings of the FFmpeg yardstick: those desens encodes with.
const (
	Preset = "veryfast"
	CRF    = 20
)

// Config says what to measure.
type Config struct {
	// Frames limits every measurement to the first N frames; 0 means all.
	Frames int
	// Options are those the measured Desensitizer was built with: the
	// stages timed alone (plates, overlays) are built from them too, and
	// the device and threads are reported with the machine.
	Options desens.Options
	// TempDir is where the pipeline and FFmpeg outputs go (removed after);
	// default os.TempDir().
	TempDir string
	// Log, if set, hears a line as each measurement starts.
	Log io.Writer
}

// Stage is one measurement.
type Stage struct {
	Frames     int     `json:"frames"`
	Seconds    float64 `json:"seconds"`
	FPS        float64 `json:"fps"`
	MsPerFrame float64 `json:"ms_per_frame"`
	MBps       float64 `json:"mb_per_s,omitempty"`
}

// Machine describes where the figures were taken.
type Machine struct {
	Cores       int    `json:"cores"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	CPU         string `json:"cpu,omitempty"`
	OS          string `json:"os"`
	Go          string `json:"go"`
	Device      string `json:"device"`
	Threads     int    `json:"inference_threads"` // 0: all cores
	ONNXRuntime string `json:"onnxruntime"`
	FFmpeg      string `json:"ffmpeg,omitempty"`
}

// Result is one bench run.
type Result struct {
	Desens    string  `json:"desens_version"`
	File      string  `json:"file"`
	Bytes     int64   `json:"bytes"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	FrameRate float64 `json:"frame_rate"`
	Codec     string  `json:"codec"`
	// Frames is the file's frame count: counted when some measurement read
	// to the end, else the container's figure or duration x rate.
	Frames  int     `json:"frames"`
	Limit   int     `json:"frame_limit,omitempty"`
	Machine Machine `json:"machine"`

	Decode Stage `json:"decode"`
	Detect Stage `json:"detect"`
	// FaceInferences is how many face model runs a full search of a frame
	// of this size takes; a video's stream spreads them over Face.Every
	// frames (second looks come on top).
	FaceInferences int `json:"face_inferences_per_frame,omitempty"`
	// Overlay is the overlay detector alone (with --targets overlay), with
	// the text detector on every frame and at the default interval.
	Overlay []OverlayStage `json:"overlay,omitempty"`
	// Plate is the plate detector alone (with --targets plate).
	Plate    *PlateStage `json:"plate,omitempty"`
	Pipeline Stage       `json:"pipeline"`
	// PipelineStageMs is the time each pipeline stage spent working; the
	// stages overlap, so they add up to more than the pipeline's seconds.
	PipelineStageMs map[string]float64 `json:"pipeline_stage_ms,omitempty"`
	FFmpeg          Stage              `json:"ffmpeg"`
	// Batch is the most inputs one model run takes (--batch), and
	// Batches how each model's runs were batched over (b) and (c).
	Batch   int          `json:"batch"`
	Batches []ModelBatch `json:"batches,omitempty"`
	// Ratio is Pipeline.FPS / FFmpeg.FPS: the figure that counts.
	Ratio float64 `json:"pipeline_over_ffmpeg"`
}

// ModelBatch is how one model's runs were batched: runs, the inputs
// (frames, tiles, crops) in them, and the time calls waited for their run
// to start.
type ModelBatch struct {
	Model         string  `json:"model"`
	Runs          int64   `json:"runs"`
	Inputs        int64   `json:"inputs"`
	Mean          float64 `json:"mean_batch"`
	Max           int     `json:"max_batch"`
	WaitMs        float64 `json:"wait_ms"`          // summed over calls
	WaitMsPerCall float64 `json:"wait_ms_per_call"` // mean per call
}

// batchesSince is how d's models were batched since the reading before.
func batchesSince(d *desens.Desensitizer, before []desens.ModelBatches) []ModelBatch {
	var out []ModelBatch
	for _, b := range d.Batches() {
		for _, o := range before {
			if o.Model == b.Model {
				b.Runs, b.Calls, b.Inputs, b.Waited = b.Runs-o.Runs, b.Calls-o.Calls, b.Inputs-o.Inputs, b.Waited-o.Waited
			}
		}
		if b.Runs == 0 {
			continue
		}
		m := ModelBatch{Model: b.Model, Runs: b.Runs, Inputs: b.Inputs, Max: b.Max,
			Mean: float64(b.Inputs) / float64(b.Runs), WaitMs: float64(b.Waited) / 1e6}
		if b.Calls > 0 {
			m.WaitMsPerCall = m.WaitMs / float64(b.Calls)
		}
		out = append(out, m)
	}
	return out
}

// Run measures the four figures for file with d.
func Run(ctx context.Context, d *desens.Desensitizer, file string, cfg Config) (*Result, error) {
	if cfg.Frames < 0 {
		return nil, fmt.Errorf("frames %d: want 0 (all) or more", cfg.Frames)
	}
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", file)
	}
	if kind, err := desens.KindOf(file); err != nil || kind != desens.KindVideo {
		return nil, fmt.Errorf("%s: not a video desens handles", file)
	}
	info, err := video.Probe(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	tmp, err := os.MkdirTemp(cfg.TempDir, "desens-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	r := &Result{Desens: desens.Version, File: file, Bytes: st.Size(), Width: info.Width, Height: info.Height, FrameRate: info.FPS,
		Codec: info.Codec, Limit: cfg.Frames, Machine: machine(d, cfg)}
	if slices.Contains(cfg.Options.Targets, detect.Face) || len(cfg.Options.Targets) == 0 {
		fc := detect.DefaultFaceConfig().WithScale(cfg.Options.Face.Scale)
		fc.Proposer = detect.Proposer(cfg.Options.Face.Proposer)
		if fc.Proposer == "" && cfg.Options.Face.Model == "" {
			fc.Proposer = detect.ProposerYuNet // what videos get by default
		}
		r.FaceInferences = fc.VideoInferences(info.Width, info.Height)
	}
	logf := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", a...)
		}
	}

	logf("bench: decoding %s", file)
	n, secs, eof, err := Decode(ctx, file, info, cfg.Frames)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	r.Frames = info.Frames
	if eof {
		r.Frames = n
	} else if r.Frames <= 0 {
		r.Frames = int(info.Duration*info.FPS + 0.5)
	}
	r.Decode = r.stage(n, secs)

	before := d.Batches()
	logf("bench: detecting on %s frames", orAll(cfg.Frames))
	n, secs, err = detectFrames(ctx, d, file, info, cfg.Frames)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	r.Detect = r.stage(n, secs)
	r.Detect.MBps = 0 // detection reads no file
	if err := overlayStages(ctx, file, info, cfg, r); err != nil {
		return nil, fmt.Errorf("overlays: %w", err)
	}
	if err := plateStage(ctx, file, info, cfg, r); err != nil {
		return nil, fmt.Errorf("plates: %w", err)
	}

	in := file
	if cfg.Frames > 0 {
		in = filepath.Join(tmp, "head"+strings.ToLower(filepath.Ext(file)))
		if err := head(ctx, file, in, cfg.Frames); err != nil {
			return nil, err
		}
	}
	logf("bench: running the whole pipeline")
	t := time.Now()
	rep := d.ProcessFile(ctx, in, filepath.Join(tmp, "pipeline.mp4"))
	secs = time.Since(t).Seconds()
	if !rep.OK {
		return nil, fmt.Errorf("pipeline: %w", rep.Err())
	}
	r.Pipeline = r.stage(rep.Frames, secs)
	r.PipelineStageMs = map[string]float64{}
	for k, v := range rep.Timings {
		r.PipelineStageMs[k] = float64(v)
	}
	r.Batch, r.Batches = d.Runtime().Batch, batchesSince(d, before)

	logf("bench: ffmpeg decode + libx264 -preset %s -crf %d", Preset, CRF)
	n, secs, err = Transcode(ctx, file, filepath.Join(tmp, "ffmpeg.mp4"), cfg.Frames)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %w", err)
	}
	r.FFmpeg = r.stage(n, secs)
	if r.FFmpeg.FPS > 0 {
		r.Ratio = r.Pipeline.FPS / r.FFmpeg.FPS
	}
	return r, nil
}

// stage turns a count and a time into rates.
func (r *Result) stage(frames int, secs float64) Stage {
	s := Stage{Frames: frames, Seconds: secs}
	if secs > 0 {
		s.FPS = float64(frames) / secs
		share := 1.0
		if r.Frames > 0 {
			share = min(1, float64(frames)/float64(r.Frames))
		}
		s.MBps = float64(r.Bytes) * share / secs / 1e6
	}
	if frames > 0 {
		s.MsPerFrame = secs * 1000 / float64(frames)
	}
	return s
}

// Decode reads up to limit frames (0: all) of file as desens does and
// reports how many it read, the seconds taken (starting the decoder
// included) and whether it reached the end of the file.
func Decode(ctx context.Context, file string, info video.Info, limit int) (frames int, secs float64, eof bool, err error) {
	t := time.Now()
	r, err := video.Open(ctx, file, info)
	if err != nil {
		return 0, 0, false, err
	}
	defer r.Close()
	img := gocv.NewMat()
	defer img.Close()
	for limit == 0 || frames < limit {
		err := r.Read(&img)
		if errors.Is(err, io.EOF) {
			return frames, time.Since(t).Seconds(), true, nil
		}
		if err != nil {
			return frames, 0, false, err
		}
		frames++
	}
	return frames, time.Since(t).Seconds(), false, nil
}

// detectFrames times detection alone on up to limit decoded frames, as
// the pipeline detects: one stream for the video.
func detectFrames(ctx context.Context, d *desens.Desensitizer, file string, info video.Info, limit int) (frames int, secs float64, err error) {
	r, err := video.Open(ctx, file, info)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	img := gocv.NewMat()
	defer img.Close()
	det, done := d.Stream()
	defer done()
	var spent time.Duration
	for limit == 0 || frames < limit {
		err := r.Read(&img)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return frames, 0, err
		}
		t := time.Now()
		res := det.Detect(ctx, []gocv.Mat{img})
		if len(res) != 1 {
			return frames, 0, fmt.Errorf("frame %d: %d results for one frame", frames, len(res))
		}
		if res[0].Err != nil {
			return frames, 0, fmt.Errorf("frame %d: %w", frames, res[0].Err)
		}
		spent += time.Since(t)
		frames++
	}
	if f, ok := det.(desens.Finisher); ok && frames > 0 {
		t := time.Now()
		if res := f.Finish(ctx, img); res.Err != nil {
			return frames, 0, fmt.Errorf("last frame: %w", res.Err)
		}
		spent += time.Since(t)
	}
	return frames, spent.Seconds(), nil
}

// TranscodeArgs is the FFmpeg yardstick's command line (after "ffmpeg"):
// decode, then encode with libx264 as desens does.
func TranscodeArgs(src, dst string, limit int) []string {
	args := []string{"-v", "error", "-nostdin", "-i", src, "-map", "0:v:0"}
	if limit > 0 {
		args = append(args, "-frames:v", fmt.Sprint(limit))
	}
	return append(args, "-c:v", "libx264", "-preset", Preset, "-crf", fmt.Sprint(CRF), "-f", "mp4", "-y", dst)
}

// Transcode runs the FFmpeg yardstick and reports the frames it wrote and
// the seconds it took.
func Transcode(ctx context.Context, src, dst string, limit int) (frames int, secs float64, err error) {
	t := time.Now()
	if err := ffmpeg(ctx, TranscodeArgs(src, dst, limit)...); err != nil {
		return 0, 0, err
	}
	secs = time.Since(t).Seconds()
	out, err := video.Probe(ctx, dst)
	if err != nil {
		return 0, 0, fmt.Errorf("probe output: %w", err)
	}
	if out.Frames <= 0 {
		return 0, 0, fmt.Errorf("output %s: frame count unknown", dst)
	}
	return out.Frames, secs, nil
}

// head stream-copies the first n video frames of src to dst.
func head(ctx context.Context, src, dst string, n int) error {
	if err := ffmpeg(ctx, "-v", "error", "-nostdin", "-i", src, "-map", "0:v:0", "-c", "copy",
		"-frames:v", fmt.Sprint(n), "-y", dst); err != nil {
		return fmt.Errorf("cutting the first %d frames: %w", n, err)
	}
	return nil
}

func ffmpeg(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.Env = video.ChildEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, firstLine(msg))
		}
		return err
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func machine(d *desens.Desensitizer, cfg Config) Machine {
	m := Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Go: runtime.Version(), Device: cfg.Options.Runtime.Device, Threads: cfg.Options.Runtime.Threads, ONNXRuntime: d.RuntimeVersion(), CPU: cpuModel()}
	if m.Device == "" {
		m.Device = "cpu"
	}
	if out, err := exec.Command("ffmpeg", "-version").Output(); err == nil {
		m.FFmpeg = strings.TrimPrefix(firstLine(string(out)), "ffmpeg version ")
		m.FFmpeg, _, _ = strings.Cut(m.FFmpeg, " ")
	}
	return m
}

// cpuModel reads the processor name on Linux; "" elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func orAll(n int) string {
	if n == 0 {
		return "all"
	}
	return fmt.Sprint(n)
}

// WriteJSON writes the result, indented.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
