package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/internal/benchmark"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "measure speed on a video",
		ArgsUsage: "FILE",
		Description: `Measures, on one video and in one run: (a) decoding alone, (b) face
detection alone on the decoded frames, (c) the whole desens pipeline
(decode, detect, track, redact, encode into a temporary file), (d) FFmpeg's
own decode and libx264 encode of the same file with the preset and CRF
desens uses, and (e) the ratio of (c) to (d) in frames per second. With
--targets plate, the plate detector is also timed alone: on the file's
frames searched in full as images are, on its first frame scaled to
1920x1080 (ms per 1080p frame), and as the plate stream a video gets.
For each model it reports how its runs in (b) and (c) were batched
(--batch): runs, inputs, mean and largest batch, and the time spent
waiting for a batch.

The ratio is the figure that counts: it is what desensitizing costs on top
of the re-encode any redaction needs anyway, and it moves much less from
machine to machine than frames per second do. MB/s is the file's size in
10^6 bytes, scaled to the share of its frames measured, per second.

EXAMPLES:
   1. Measure a clip:
        desens bench dashcam.mp4
   2. The first 100 frames only, as JSON:
        desens bench --frames 100 --json dashcam.mp4 > bench.json
   3. Faces and plates, with the plate detector's cost per 1080p frame:
        desens bench --targets face,plate --frames 60 dashcam.mp4
   4. Detection on the GPU, or on the CPU with 4 inference threads:
        desens bench --device cuda dashcam.mp4
        desens bench --threads 4 dashcam.mp4
   5. Model runs of up to 16 inputs on the GPU (the report gives the
      batches reached and the time spent waiting for them):
        desens bench --device cuda --batch 16 dashcam.mp4

EXIT STATUS:
   0  measured
   1  the file could not be read or a measurement failed
   2  usage error
   130 interrupted`,
		Flags: append(modelFlags(),
			&cli.IntFlag{Name: "frames", Usage: "measure the first N frames only (0 = all)"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
		),
		Action: runBench,
	}
}

func runBench(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("bench needs one FILE (see desens bench --help)")
	}
	if c.Int("frames") < 0 {
		return usagef(fmt.Sprintf("--frames %d: want 0 (all) or more", c.Int("frames")))
	}
	opts, err := optionsFrom(c)
	if err != nil {
		return err
	}
	opts.Overwrite = true // the pipeline writes into a fresh temporary directory
	d, err := desens.New(opts)
	if err != nil {
		return err
	}
	defer d.Close()
	cfg := benchmark.Config{Frames: c.Int("frames"), Options: opts, Log: os.Stderr}
	res, err := benchmark.Run(c.Context, d, c.Args().First(), cfg)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return res.WriteJSON(os.Stdout)
	}
	return res.WriteText(os.Stdout)
}
