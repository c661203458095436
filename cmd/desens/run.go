package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
)

// modelFlags are shared by every command that loads models.
func modelFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "targets", Value: "face", Usage: "what to redact, comma-separated: face, plate (licence plates, hidden as rectangles over plate, frame and screws), overlay (burned-in text)", EnvVars: []string{"DESENS_TARGETS"}},
		&cli.Float64Flag{Name: "threshold", Usage: "detection score threshold in (0,1); 0 keeps each model's tuned default (face 0.6, faces under 32 px 0.15 lower; over the taller boxes of YuNet, video's default proposer, the bar rises from there to the full one at 48 px, and in video a box YuNet scores at least 0.6 keeps the lower bar at any size)"},
		&cli.StringFlag{Name: "device", Value: "cpu", Usage: "where models run: cpu or cuda", EnvVars: []string{"DESENS_DEVICE"}},
		&cli.IntFlag{Name: "threads", Usage: "inference threads (0 = all cores)"},
		&cli.IntFlag{Name: "batch", Usage: "the most inputs (frames, tiles and crops, from every file at work) one model run takes (0 = the device's default: 1 on cpu, where each input runs at once, 8 on cuda)", EnvVars: []string{"DESENS_BATCH"}},
		&cli.DurationFlag{Name: "batch-wait", Value: 2 * time.Millisecond, Usage: "with --batch over 1, the longest an input waits for others to share its model run while the model is busy (one the idle model can take runs at once)"},
		&cli.StringFlag{Name: "face-model", Usage: "load this RetinaFace ONNX file (dynamic input size, see models/README.md) instead of the embedded one; with --face-proposer yunet, a YuNet file", EnvVars: []string{"DESENS_FACE_MODEL"}},
		&cli.StringFlag{Name: "face-proposer", Usage: "the model that proposes faces: retinaface or yunet (a much smaller model, cheaper per frame; see models/README.md for what each finds); by default retinaface for images and yunet for videos (retinaface for both with --face-model); the second look and the thresholds are the same for both, except that over the taller boxes of YuNet the bar for faces of 32-48 px rises gradually rather than in one step, and that in video a box YuNet scores at least 0.6 faces the small-face bar at any size"},
		&cli.StringFlag{Name: "face-verify-model", Usage: "load this BlazeFace back-camera ONNX file, which looks again at uncertain faces, instead of the embedded one; none turns the second look off", EnvVars: []string{"DESENS_FACE_VERIFY_MODEL"}},
		&cli.StringFlag{Name: "plate-model", Usage: "load this plate ONNX file (same inputs and outputs, see models/README.md) instead of the embedded one", EnvVars: []string{"DESENS_PLATE_MODEL"}},
		&cli.StringFlag{Name: "plate-corner-model", Usage: "load this plate detector ONNX file with four corner points (HyperLPR3's y5fu shape; see models/README.md), run beside the own plate detector, instead of the embedded one; none turns it off", EnvVars: []string{"DESENS_PLATE_CORNER_MODEL"}},
		&cli.StringFlag{Name: "plate-read-model", Usage: "load this PP-OCR text recognition ONNX file (PaddleOCR's Chinese character list; see models/README.md) that reads plate boxes instead of the embedded one; none turns reading off", EnvVars: []string{"DESENS_PLATE_READ_MODEL"}},
		&cli.StringFlag{Name: "plate-verify-model", Usage: "load this plate verifier ONNX file (see models/README.md) instead of the embedded one, run on every candidate; none turns the verifier off", EnvVars: []string{"DESENS_PLATE_VERIFY_MODEL"}},
		&cli.Float64Flag{Name: "face-scale", Usage: "how much the face detector enlarges each frame, in (0,4]; 0 keeps the defaults: on images 3× and 2× (faces from about 14 px high), on video 2× (YuNet), and 3× as well on frames smaller than 1080p; a value runs that one enlargement: on images 2 takes about a third of the time and finds about 3% fewer faces"},
		&cli.IntFlag{Name: "face-every", Value: 6, Usage: "in video, spread the enlarged search for small faces over N frames: each frame is searched whole, shrunk to 640 px, for faces of 16 px and more there (48 px at 1080p), one share of it enlarged for small ones, round the faces of the last frames, and the strips along its left and right edges enlarged, for faces coming into view there (at most --hold+1; 1 = search every frame in full, several times slower)"},
		&cli.IntFlag{Name: "face-stride", Value: 1, Usage: "in video, search for faces in one frame of N at all: the tracker carries the boxes over the frames between and, once the next search finds a face again, puts its box there on the path between (at most --hold+1; applies where --face-every is over N); 2 costs about a quarter less CPU than searching every frame and finds a little less (see models/README.md)"},
		&cli.IntFlag{Name: "face-lead", Usage: "in video, how many frames back a small face's track is extended once a second detection confirms it: a face under 1/20 of the frame's long side, which only the enlarged search finds, may be turned down at its first look and found a round of --face-every later (0 = 2×--face-every, and at least 24; at least --hold; a face found once, or a larger one, is led in over --hold frames, and a small face first found in the last frame keeps its --hold lead-in box over the frames before); a video's frames wait the larger of --hold and this in memory, about 6 MB each at 1080p"},
		&cli.IntFlag{Name: "plate-every", Value: 6, Usage: "in video, spread the full-size search for small plates over N frames: each frame is searched whole at half size and one share of it at full size (at most --hold+1 and 6: plate boxes are carried and led in over 5 frames at most; 1 = search every frame in full)"},
		&cli.IntFlag{Name: "plate-stride", Value: 2, Usage: "in video, search for plates in one frame of N at all, as --face-stride does for faces (at most --hold+1 and 6; applies where --plate-every is over N; 1 = search every frame, which costs more and takes more scene text for plates)"},
		&cli.Float64Flag{Name: "plate-threshold", Usage: "plate score threshold in (0,1); 0 keeps the model's tuned default"},
		&cli.StringFlag{Name: "overlays", Value: "geo", Usage: "with --targets overlay, which text: geo (text that stands still in the top and bottom fifths: coordinates, speed, time, IDs), all-text (all text that stands still) or roi (the rectangles of --overlay-roi)"},
		&cli.IntFlag{Name: "overlay-every", Value: 5, Usage: "run the text detector on every N-th frame and reuse its boxes in between (at most --hold+1; 1 = every frame)"},
		&cli.StringFlag{Name: "overlay-roi", Usage: "JSON file of fixed overlay rectangles, {\"regions\":[{\"name\":\"gps\",\"box\":[x,y,w,h]}]}, in pixels or fractions of the frame; implies --overlays roi"},
		&cli.StringFlag{Name: "text-model", Usage: "load this PP-OCR detection ONNX file instead of the embedded one", EnvVars: []string{"DESENS_TEXT_MODEL"}},
		&cli.StringFlag{Name: "ort-lib", Usage: "path of libonnxruntime.so (default: $DESENS_ORT_LIB, then beside the binary and in its ../lib/desens/, then .cache/ort/ above the binary or the working directory, then the system library paths)", EnvVars: []string{"DESENS_ORT_LIB"}},
	}
}

func runFlags() []cli.Flag {
	return append(append(append(append(append(modelFlags(), storageFlags()...), trajectoryFlags()...), archiveFlags()...), batchFlags()...),
		&cli.StringFlag{Name: "style", Value: "blur", Usage: "how regions are hidden: blur, pixelate or solid"},
		&cli.StringFlag{Name: "shape", Value: "ellipse", Usage: "mask outline: ellipse or rect"},
		&cli.Float64Flag{Name: "expand", Value: 1.3, Usage: "grow each box by this factor about its centre before hiding it"},
		&cli.BoolFlag{Name: "strict", Usage: "fail a file when detection fails on a frame, instead of masking that frame whole"},
		&cli.IntFlag{Name: "hold", Value: 14, Usage: "frames a box outlives its last detection (also bridges gaps and leads in); -1 disables tracking"},
		&cli.IntFlag{Name: "workers", Usage: "files processed at once in a directory run (0 = half the cores, at least 1)"},
		&cli.StringFlag{Name: "report", Usage: "write a JSON report to this file (- for stdout)"},
		&cli.BoolFlag{Name: "overwrite", Usage: "replace outputs that already exist, and redo those already made from the same version of their source (which a run without it skips)"},
		&cli.StringFlag{Name: "preset", Value: "veryfast", Usage: "libx264 preset for video outputs"},
		&cli.IntFlag{Name: "crf", Value: 20, Usage: "libx264 CRF for video outputs (lower is better quality)"},
		&cli.BoolFlag{Name: "drop-creation-time", Usage: "also drop the container creation_time tag"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
	)
}

// optionsFrom reads the model and run flags into desens.Options, which
// check every value themselves (desens.ErrOptions, exit 2). Only what the
// CLI spells differently is handled here: "none" for a model turns it off,
// and --overlay-every counts from 1.
func optionsFrom(c *cli.Context) (desens.Options, error) {
	targets, err := desens.ParseTargets(c.String("targets"))
	if err != nil {
		return desens.Options{}, err
	}
	o := desens.Options{
		Targets: targets,
		Face: desens.FaceOptions{
			Threshold: c.Float64("threshold"), Scale: c.Float64("face-scale"), Model: c.String("face-model"),
			Proposer: c.String("face-proposer"), Every: c.Int("face-every"), Stride: c.Int("face-stride"),
			Lead: c.Int("face-lead"),
		},
		Plate: desens.PlateOptions{Threshold: c.Float64("plate-threshold"), Model: c.String("plate-model"), Every: c.Int("plate-every"), Stride: c.Int("plate-stride")},
		Overlay: desens.OverlayOptions{
			Every: c.Int("overlay-every"), ROI: c.String("overlay-roi"), TextModel: c.String("text-model"),
		},
		Runtime: desens.RuntimeOptions{Device: c.String("device"), Threads: c.Int("threads"), Library: c.String("ort-lib"),
			Batch: c.Int("batch"), BatchWait: c.Duration("batch-wait")},
	}
	o.Face.VerifyModel, o.Face.NoVerify = modelOrNone(c.String("face-verify-model"))
	o.Plate.VerifyModel, o.Plate.NoVerify = modelOrNone(c.String("plate-verify-model"))
	o.Plate.ReadModel, o.Plate.NoRead = modelOrNone(c.String("plate-read-model"))
	o.Plate.CornerModel, o.Plate.NoCorners = modelOrNone(c.String("plate-corner-model"))
	if c.IsSet("overlays") || o.Overlay.ROI == "" {
		o.Overlay.Mode = detect.OverlayMode(c.String("overlays"))
	}
	if o.Face.Every < 1 {
		return o, usagef(fmt.Sprintf("--face-every %d: want 1 or more", o.Face.Every))
	}
	if o.Face.Stride < 1 {
		return o, usagef(fmt.Sprintf("--face-stride %d: want 1 or more", o.Face.Stride))
	}
	if o.Face.Lead < 0 {
		return o, usagef(fmt.Sprintf("--face-lead %d: want 1 or more (0 for the default)", o.Face.Lead))
	}
	if o.Plate.Every < 1 {
		return o, usagef(fmt.Sprintf("--plate-every %d: want 1 or more", o.Plate.Every))
	}
	if o.Plate.Stride < 1 {
		return o, usagef(fmt.Sprintf("--plate-stride %d: want 1 or more", o.Plate.Stride))
	}
	if o.Overlay.Every < 1 {
		return o, usagef(fmt.Sprintf("--overlay-every %d: want 1 or more", o.Overlay.Every))
	}
	if c.Command.HasName("run") || isEventCommand(c) {
		o.Redact = desens.RedactOptions{
			Style: desens.Style(c.String("style")), Shape: desens.Shape(c.String("shape")), Expand: c.Float64("expand"),
		}
		o.Encode = desens.EncodeOptions{
			Preset: c.String("preset"), CRF: c.Int("crf"), DropCreationTime: c.Bool("drop-creation-time"),
		}
		o.Strict = c.Bool("strict")
		o.Hold = c.Int("hold")
		o.Workers = c.Int("workers")
		o.Overwrite = c.Bool("overwrite")
		if o.Trajectory, err = trajectoryFrom(c); err != nil {
			return o, err
		}
		o.Archive.Other = desens.ArchiveOther(c.String("archive-other")) // desens.New checks it
		if o.Batch, err = batchFrom(c); err != nil {
			return o, err
		}
	}
	return o, nil
}

// modelOrNone reads a model flag: a file, "" for the embedded model, or
// "none" for no model.
func modelOrNone(v string) (path string, off bool) {
	if v == "none" {
		return "", true
	}
	return v, false
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "desensitize a file or a directory tree, locally or in buckets",
		ArgsUsage: "INPUT OUTPUT",
		Description: `INPUT is an image, a video, an archive (tar, tar.gz, zip), a directory,
or the same in a bucket (an object, or a key prefix ending in '/'). A file
goes to the file (or into the directory or prefix) OUTPUT; a directory or
prefix is walked recursively and each image, video or archive goes to the
same relative path under OUTPUT. Images keep their format; videos become
H.264 MP4 with their audio; archives are repacked (see ARCHIVES). Other
files are skipped, never copied. Outputs appear only when complete.

EXAMPLES:
   1. Blur faces in one video:
        desens run dashcam.mp4 out/dashcam.mp4
   2. A whole folder, with a JSON report:
        desens run --report report.json raw/ desensitized/
   3. Pixelate instead of blur, rectangular masks, a stricter threshold:
        desens run --style pixelate --shape rect --threshold 0.7 in.jpg out.jpg
   4. Fail files outright rather than masking frames the detector failed on:
        desens run --strict in.mp4 out.mp4
   5. One object into another bucket (lands as s3://desensitized/a/b.mp4):
        desens run s3://sensitive/a/b.mp4 s3://desensitized/a/
   6. Every object under a prefix, with a JSON report:
        desens run --report report.json s3://sensitive/cam1/ s3://desensitized/cam1/
   7. A local folder up to a bucket, and a prefix down to a local folder:
        desens run raw/ s3://desensitized/raw/
        desens run s3://sensitive/cam1/ out/cam1/
   8. Tencent COS, credentials from the environment:
        AWS_ACCESS_KEY_ID=<SecretId> AWS_SECRET_ACCESS_KEY=<SecretKey> \
        desens run --s3-region ap-guangzhou cos://sensitive-1250000000/cam1/ cos://clean-1250000000/cam1/
   9. A self-hosted S3 server (MinIO, Ceph, versitygw):
        desens run --s3-endpoint http://10.0.0.5:9000 --s3-provider minio s3://raw/day1/ s3://clean/day1/
  10. Faces and burned-in GPS/speed/time text; the text detector on every frame:
        desens run --targets face,overlay --overlay-every 1 dashcam.mp4 out.mp4
  11. A camera model whose overlay layout is known (no text model runs):
        desens run --targets overlay --overlay-roi cam-x1.json raw/ clean/
  12. A logger's tar of a day, its other files (CAN logs, configs) kept:
        desens run --archive-other copy s3://raw/day1/cam1.tar s3://clean/day1/
  13. One day of a fleet's uploads as shard 2 of 8, gated at 95%, rerun to resume:
        desens run --partition dt=2026-12-05 --shard 2/8 --min-success 0.95 \
          --report-failures-only --metrics-addr :9090 s3://raw/fleet/ s3://clean/fleet/

` + bucketsHelp + `

` + trajectoryHelp + `

` + archiveHelp + `
` + batchHelp + `

EXIT STATUS:
   0  every file was desensitized (or already done); with --min-success,
      the batch passed its gate, though some files may have failed
   1  some files failed (see the report), without --min-success; or the
      run could not start (missing input, missing bucket, wrong
      credentials), or a batch's report, manifest or marker could not be
      written
   2  usage error
   3  a batch (--min-success) finished below its success gate
   130 interrupted`,
		Flags:  runFlags(),
		Action: func(c *cli.Context) error { return runRun(c) },
	}
}

func runRun(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("run needs INPUT and OUTPUT (see desens run --help)")
	}
	in, out := c.Args().Get(0), c.Args().Get(1)
	opts, err := optionsFrom(c)
	if err != nil {
		return err
	}
	if opts.Storage, err = storageFrom(c); err != nil {
		return err
	}
	batch := opts.Batch.MinSuccess > 0 || opts.Batch.Shard.Count > 0
	mode, err := progressMode(c.String("progress"), batch, os.Stderr)
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet") || mode != progressBar
	ui := newReporter(os.Stderr, quiet)
	var ev *jsonLines
	if mode == progressJSONL {
		ev = newJSONLines(os.Stderr)
	} else {
		opts.Progress = ui.progress
	}
	var m *metrics
	if addr := c.String("metrics-addr"); addr != "" {
		m = newMetrics()
		stop, _, err := m.serve(addr)
		if err != nil {
			return err
		}
		defer stop()
	}
	d, err := desens.New(opts)
	if err != nil {
		return err
	}
	defer d.Close()
	line := fileLine(ui)
	rep, err := d.Run(c.Context, in, out, func(f desens.FileReport) {
		m.observe(f)
		if ev != nil {
			ev.file(f)
			return
		}
		if reason, _ := f.Skip(); reason != "" || f.Canceled {
			return // already done, or not started: counted once, at the end
		}
		line(f)
		printLeftovers(ui, f)
	})
	if err == nil || len(rep.Files) > 0 || rep.Summary.AlreadyDone > 0 {
		// else the run never started: the error line says it all
		if ev != nil {
			ev.finish(rep)
		} else {
			ui.finish(rep)
			printSkipped(os.Stderr, rep, quiet)
			printNotStarted(os.Stderr, rep)
		}
	}
	werr := writeReport(c.String("report"), rep)
	if err != nil {
		// The reason the run stopped matters more than a missing report.
		return startError(err)
	}
	if werr != nil {
		return werr
	}
	switch s := rep.Summary; {
	case opts.Batch.MinSuccess > 0 && !rep.Done():
		return gateError{rate: s.SuccessRate, gate: rep.Gate()}
	case opts.Batch.MinSuccess == 0 && s.Failed > 0:
		return failedFilesError{failed: s.Failed, total: s.Files}
	}
	return nil
}

// printLeftovers prints, under a file's line, the leftovers of earlier
// runs removed before its output was written (unless quiet), and as WARN
// lines what could not be removed.
func printLeftovers(ui *reporter, f desens.FileReport) {
	if len(f.LeftBehind) == 0 && (ui.quiet || len(f.Cleaned) == 0) {
		return
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	ui.clear()
	if !ui.quiet {
		for _, s := range f.Cleaned {
			fmt.Fprintf(ui.w, "     %s\n", desens.PrintableText(s))
		}
	}
	for _, s := range f.LeftBehind {
		fmt.Fprintf(ui.w, "WARN %s: %s\n", desens.PrintableName(f.Input), desens.PrintableText(s))
	}
}

// printNotStarted says how many files an interrupted run never started.
// It is printed even when quiet: those files are not done.
func printNotStarted(w io.Writer, rep *desens.Report) {
	switch n := rep.Summary.Canceled; n {
	case 0:
	case 1:
		fmt.Fprintln(w, "1 file not started (interrupted)")
	default:
		fmt.Fprintf(w, "%d files not started (interrupted)\n", n)
	}
}

func writeReport(path string, rep *desens.Report) error {
	return writeJSONFile(path, "report", rep.WriteJSON)
}

// writeJSONFile writes JSON to path ("-" for stdout, "" for nowhere) through
// a temporary file, so a reader never sees half a document.
func writeJSONFile(path, what string, write func(io.Writer) error) error {
	switch path {
	case "":
		return nil
	case "-":
		return write(os.Stdout)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
