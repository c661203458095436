package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/eval"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "measure detection on labelled images, or what labelled videos' outputs hide",
		ArgsUsage: "DIR [DIR...]",
		Description: `Each DIR holds images and a labels.json naming the faces in them (format in
testdata/README.md). desens eval runs detection on every image as desens run
would, matches detections to the labelled boxes and prints, per image and in
total, what was found, missed and wrongly found; recall by face height; and a
threshold sweep showing recall and false positives from 0.30 to 0.90. With
plates labelled (--targets plate), recall and precision are also split by
plate type (the labels' optional "type") and by plate width (<30, 30-60,
60-120, >=120 px, and all >=30); with --targets plate alone the threshold
and the sweep are the plate detector's (--plate-threshold), and each sweep
row is what that --plate-threshold would give (boxes under 60 px wide keep
their lower bar).

A detection matches a labelled box of its class at IoU >= 0.3, or when each
box holds the other's centre. Detections in "ignore" regions count neither
way. Recall is the figure that matters: a missed face goes out unblurred.

A DIR with a videos.json instead of a labels.json holds clips whose faces
and licence plates are labelled frame by frame (format in
testdata/README.md; make evalset-video builds one). desens eval then runs
each clip as desens run would, tracking included (--hold, --expand and
--shape as desens run's), and scores each class of --targets (default
face) by what each output frame hides: a labelled face or plate counts as
hidden in a frame when the hidden regions cover at least 80% of its box,
and as left visible otherwise. It prints, per class, per clip and in
total: per-frame recall (over every object in every frame), the same for
faces 12-32 px high and for plates at least 30 px wide, recall by face
height or plate width, the frames that left one visible, the longest run
of frames one stayed visible, false hidden regions per frame (regions of
the class touching no labelled or ignore box of any class) and the time
desens took; then the frames that left an object of any class scored
visible. Labelled scene text (class "text": signs, shop fronts, road
text, lettering on vehicles) is never a target: whatever --targets, the
share of its lines, over frames, left readable (the output hides less
than 20% of the box) is reported per clip and in total, with the class
that hid the others; a hidden region over text alone counts as false.
--fail-under-recall gates on each class's per-frame recall;
there is no sweep and no --html for videos. All DIRs must be of one kind.

The sweep comes from a second detection pass at --sweep-from, because a
lower threshold also changes the detector's first-pass candidates; the
headline figures are from the production setting (--threshold, default the
model's own).

EXAMPLES:
   1. Evaluate one labelled directory:
        desens eval testdata/eval
   2. Several sets, with a page of annotated images to look through:
        desens eval --html out/eval-html out/evalset out/evalset/real
   3. Gate a build on recall, ignoring faces under 16 px high:
        desens eval --min-size 16 --fail-under-recall 0.9 out/evalset
   4. Machine-readable results, and a stricter threshold under test:
        desens eval --threshold 0.7 --json eval.json out/evalset
   5. Plates: the held-out synthetic set (make evalset-plates) and the real
      photos with plates from Debian packages:
        desens eval --targets plate out/evalset-plates testdata/eval/plates-real
   6. Labelled clips (make evalset-video), tracking held 8 frames:
        desens eval --hold 8 --json video.json out/evalset-video
   7. The same clips, faces and plates scored apart:
        desens eval --targets face,plate out/evalset-video

EXIT STATUS:
   0  evaluated (and recall reached --fail-under-recall)
   1  recall under --fail-under-recall, images or clips that could not be
      read, or a labels.json or videos.json that could not be used
   2  usage error
   130 interrupted`,
		Flags: append(modelFlags(),
			&cli.IntFlag{Name: "min-size", Usage: "leave out labelled boxes less than this many pixels high"},
			&cli.StringFlag{Name: "json", Usage: "write the full results as JSON to this file (- for stdout; the tables then go to stderr)"},
			&cli.StringFlag{Name: "html", Usage: "write DIR/index.html and one annotated JPEG per image"},
			&cli.Float64Flag{Name: "fail-under-recall", Usage: "exit 1 when recall is under this fraction, e.g. 0.9 (0 = never)"},
			&cli.Float64Flag{Name: "sweep-from", Value: 0.3, Usage: "threshold of the sweep's detection pass (0 = no second pass: sweep from the headline detections)"},
			&cli.IntFlag{Name: "hold", Value: 14, Usage: "videos: frames a box outlives its last detection, as desens run's --hold (-1 disables tracking)"},
			&cli.Float64Flag{Name: "expand", Value: 1.3, Usage: "videos: grow each box by this factor about its centre before hiding it, as desens run's --expand"},
			&cli.StringFlag{Name: "shape", Value: "ellipse", Usage: "videos: mask outline, ellipse or rect, as desens run's --shape"},
		),
		Action: runEval,
	}
}

func runEval(c *cli.Context) error {
	if c.NArg() == 0 {
		return usagef("eval needs at least one DIR (see desens eval --help)")
	}
	opts, err := optionsFrom(c)
	if err != nil {
		return err
	}
	gate, from := c.Float64("fail-under-recall"), c.Float64("sweep-from")
	if gate < 0 || gate > 1 {
		return usagef(fmt.Sprintf("--fail-under-recall %v: want a fraction in [0,1]", gate))
	}
	if from < 0 || from >= 1 {
		return usagef(fmt.Sprintf("--sweep-from %v: want a value in [0,1)", from))
	}
	if c.Int("min-size") < 0 {
		return usagef(fmt.Sprintf("--min-size %d: want 0 or more", c.Int("min-size")))
	}
	videos := 0
	for _, dir := range c.Args().Slice() {
		if eval.HasVideoLabels(dir) {
			videos++
		}
	}
	switch {
	case videos == c.NArg():
		return runVideoEval(c, opts, gate)
	case videos > 0:
		return usagef("eval: some DIRs hold videos.json and some labels.json; evaluate them apart")
	}

	d, err := desens.New(opts)
	if err != nil {
		return err
	}
	defer d.Close()
	ev := &eval.Evaluator{Detector: d, Threshold: d.Threshold(detect.Face), Match: eval.MatchConfig{MinSize: c.Int("min-size")}}
	if len(opts.Targets) == 1 && opts.Targets[0] != detect.Overlay {
		// One detector: the threshold and the sweep are its own, and each
		// sweep row is what that threshold would give (small faces and
		// plates keep their lower bar).
		ev.Threshold, ev.Keep = d.Threshold(opts.Targets[0]), d.Passes
	}
	if ev.Threshold == 0 { // overlays alone, which have no threshold
		ev.Threshold = detect.DefaultFaceConfig().Threshold
	}
	if from > 0 && from < ev.Threshold {
		low := opts
		if len(opts.Targets) == 1 && opts.Targets[0] == detect.Plate {
			low.Plate.Threshold = from
		} else {
			low.Face.Threshold = from
		}
		sd, err := desens.New(low)
		if err != nil {
			return err
		}
		defer sd.Close()
		ev.SweepDetector, ev.SweepFrom = sd, from
	}
	res, err := ev.Run(c.Context, c.Args().Slice()...)
	if err != nil {
		return err
	}
	tables, err := printResults(c, res.WriteText, res.WriteJSON)
	if err != nil {
		return err
	}
	if dir := c.String("html"); dir != "" {
		if err := eval.WriteHTML(dir, res); err != nil {
			return err
		}
		fmt.Fprintf(tables, "\nannotated images: %s/index.html\n", dir)
	}

	var errs []error
	if res.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d images could not be evaluated", res.Failed, len(res.Images)))
	}
	if gate > 0 && res.Recall < gate {
		errs = append(errs, fmt.Errorf("recall %.1f%% is under --fail-under-recall %.1f%%", 100*res.Recall, 100*gate))
	}
	return errors.Join(errs...)
}

// runVideoEval scores what desens hides in each frame of labelled clips.
func runVideoEval(c *cli.Context, opts desens.Options, gate float64) error {
	for _, f := range []string{"html", "sweep-from"} {
		if c.IsSet(f) {
			return usagef(fmt.Sprintf("--%s: not for videos", f))
		}
	}
	opts.Redact = desens.RedactOptions{Shape: desens.Shape(c.String("shape")), Expand: c.Float64("expand")}
	opts.Hold = c.Int("hold")
	ev := &eval.VideoEvaluator{Options: opts, MinSize: c.Int("min-size"), OnClip: func(cr eval.ClipResult) {
		fmt.Fprintf(os.Stderr, "eval: %s: %d frames in %.1f s\n", cr.Name, cr.Frames, cr.Millis/1000)
	}}
	res, err := ev.Run(c.Context, c.Args().Slice()...)
	if err != nil {
		return err
	}
	if _, err := printResults(c, res.WriteText, res.WriteJSON); err != nil {
		return err
	}
	var errs []error
	if res.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d clips could not be evaluated", res.Failed, len(res.Clips)))
	}
	for _, vc := range res.Classes {
		if gate > 0 && vc.Counts.Truths > 0 && vc.Recall < gate {
			errs = append(errs, fmt.Errorf("%s: per-frame recall %.1f%% is under --fail-under-recall %.1f%%", vc.Class, 100*vc.Recall, 100*gate))
		}
	}
	return errors.Join(errs...)
}

// printResults prints an evaluation's tables (on stderr when --json -
// takes stdout) and writes its JSON where --json says; it returns where
// the tables went.
func printResults(c *cli.Context, text, json func(io.Writer) error) (io.Writer, error) {
	var tables io.Writer = os.Stdout
	if c.String("json") == "-" {
		tables = os.Stderr
	}
	if err := text(tables); err != nil {
		return tables, err
	}
	return tables, writeJSONFile(c.String("json"), "json", json)
}
