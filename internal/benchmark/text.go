package benchmark

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText prints the result for people.
func (r *Result) WriteText(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "file:    %s (%dx%d %s, %.2f fps, %d frames, %s MB)\n", r.File, r.Width, r.Height, r.Codec, r.FrameRate, r.Frames, sig3(float64(r.Bytes)/1e6))
	cpu := ""
	if m.CPU != "" {
		cpu = ", " + m.CPU
	}
	threads := "all cores"
	if m.Threads > 0 {
		threads = fmt.Sprint(m.Threads)
	}
	fmt.Fprintf(w, "machine: %d cores%s; device %s, inference threads %s; onnxruntime %s; ffmpeg %s; %s %s\n",
		m.Cores, cpu, m.Device, threads, m.ONNXRuntime, m.FFmpeg, m.Go, m.OS)
	if r.Limit > 0 {
		fmt.Fprintf(w, "limit:   first %d frames\n", r.Limit)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MEASUREMENT               \tFRAMES\tSECONDS\tFPS\tms/FRAME\tMB/s\t")
	row := func(name string, s Stage, extra string) {
		mbps := "-"
		if s.MBps > 0 {
			mbps = sig3(s.MBps)
		}
		fmt.Fprintf(tw, "%-26s\t%d\t%.2f\t%.1f\t%.1f\t%s\t%s\n", name, s.Frames, s.Seconds, s.FPS, s.MsPerFrame, mbps, extra)
	}
	tiles := ""
	if r.FaceInferences > 0 {
		tiles = fmt.Sprintf("  a full face search is %d inferences; a video spreads it over --face-every frames", r.FaceInferences)
	}
	row("(a) decode only", r.Decode, "")
	row("(b) detection only", r.Detect, tiles)
	for _, o := range r.Overlay {
		row(fmt.Sprintf("(b) overlays, every %d", o.Every), o.Stage, fmt.Sprintf("  text detector on %d frames", o.Runs))
	}
	if p := r.Plate; p != nil {
		row("(b) plates only", p.Stage, fmt.Sprintf("  scales %v, every frame in full; %.0f ms per 1920x1080 frame", p.Scales, p.MsPer1080p))
		row("(b) plate stream", p.Stream, "  as a video gets it: a share of each frame at full size")
	}
	row("(c) whole pipeline", r.Pipeline, "")
	row("(d) ffmpeg decode + x264", r.FFmpeg, fmt.Sprintf("  -preset %s -crf %d", Preset, CRF))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.PipelineStageMs) > 0 {
		keys := make([]string, 0, len(r.PipelineStageMs))
		for k := range r.PipelineStageMs {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if d := stageOrder(a) - stageOrder(b); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, r.PipelineStageMs[k]))
		}
		fmt.Fprintf(w, "\npipeline stage ms (stages overlap): %s\n", strings.Join(parts, ", "))
	}
	if len(r.Batches) > 0 {
		fmt.Fprintf(w, "\nmodel runs in (b) and (c), batch %d:\n", r.Batch)
		bw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(bw, "MODEL                 \tRUNS\tINPUTS\tMEAN BATCH\tMAX\tWAIT ms\tms/CALL\t")
		for _, b := range r.Batches {
			fmt.Fprintf(bw, "%-22s\t%d\t%d\t%.2f\t%d\t%.0f\t%.3f\t\n", b.Model, b.Runs, b.Inputs, b.Mean, b.Max, b.WaitMs, b.WaitMsPerCall)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n(e) pipeline / ffmpeg = %.3f  <- the ratio is the figure that counts\n", r.Ratio)
	return nil
}

// sig3 prints a positive figure with about three significant digits, so
// small clips do not show as 0.00 MB/s.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// stageOrder sorts stage names in pipeline order, unknown ones last.
func stageOrder(s string) int {
	i := slices.Index([]string{"probe", "decode", "detect", "track", "redact", "encode"}, s)
	if i < 0 {
		return 100
	}
	return i
}
