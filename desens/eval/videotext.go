package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
)

// WriteText prints the result as tables for people: one line per clip, the
// totals, and per-frame recall by face height.
func (r *VideoResult) WriteText(w io.Writer) error {
	total := fmt.Sprintf("TOTAL (%d clips)", r.Evaluated)
	width := len(total)
	for _, c := range r.Clips {
		width = max(width, len(c.Name))
	}
	small := fmt.Sprintf("%d-%d px", r.SmallMin, r.SmallMax)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tFRAMES\tFACES\tHIDDEN\tRECALL\t%s\tLEAK FRAMES\tLONGEST RUN\tFALSE/FRAME\tms/FRAME\t\n", width, "CLIP", small)
	row := func(name string, c VideoCounts, recall, smallRecall, fpf float64, run Run, ms float64) {
		perFrame := "-"
		if ms > 0 && c.Frames > 0 {
			perFrame = fmt.Sprintf("%.0f", ms/float64(c.Frames))
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%.2f\t%s\t\n", width, name, c.Frames, c.Truths, c.Hidden,
			pctOf(recall, c.Truths), pctOf(smallRecall, c.SmallTruths), c.LeakFrames, run.Frames, fpf, perFrame)
	}
	for _, c := range r.Clips {
		if c.Error != "" {
			fmt.Fprintf(tw, "%-*s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t  FAILED: %s\n", width, c.Name, c.Error)
			continue
		}
		row(c.Name, c.Counts, c.Recall, c.SmallRecall, c.FalsePerFrame, c.LongestRun, c.Millis)
	}
	row(total, r.Total, r.Recall, r.SmallRecall, r.FalsePerFrame, r.LongestRun, r.Millis)
	if err := tw.Flush(); err != nil {
		return err
	}

	t := r.Total
	fmt.Fprintf(w, "\nper-frame recall %s, faces %s %s (a face counts hidden in a frame when the output hides at least %.0f%% of its box)\n",
		pctOf(r.Recall, t.Truths), small, pctOf(r.SmallRecall, t.SmallTruths), 100*r.CoverBar)
	fmt.Fprintf(w, "%d of %d frames with faces left a face visible", t.LeakFrames, t.FaceFrames)
	if run := r.LongestRun; run.Frames > 0 {
		fmt.Fprintf(w, "; longest a face stayed visible: %d frames (%s, track %d, from frame %d)", run.Frames, filepath.Base(run.Clip), run.Track, run.Start)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "false hidden regions: %.2f per frame (%d of %d regions touch no labelled box)", r.FalsePerFrame, t.FalseRegions, t.Regions)
	if t.Excluded > 0 {
		fmt.Fprintf(w, "; %d labelled boxes marked ignore", t.Excluded)
		if r.MinSize > 0 {
			fmt.Fprintf(w, " or under %d px high", r.MinSize)
		}
		fmt.Fprint(w, " count neither way")
	}
	fmt.Fprintln(w)
	if t.MaskedFrames > 0 {
		fmt.Fprintf(w, "%d frames were masked whole (detection failed on them)\n", t.MaskedFrames)
	}
	if r.Millis > 0 {
		fmt.Fprintf(w, "desens took %.1f s for %d frames (%.2f frames/s)\n", r.Millis/1000, t.Frames, r.FPS)
	}
	if r.Failed > 0 {
		fmt.Fprintf(w, "%d clips FAILED and are left out of every figure\n", r.Failed)
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "FACE HEIGHT px\tFACES\tHIDDEN\tRECALL\t")
	for _, b := range r.Sizes {
		fmt.Fprintf(tw, "%-14s\t%d\t%d\t%s\t\n", b.Name, b.Truths, b.Hits, pctOf(b.Recall, b.Truths))
	}
	return tw.Flush()
}

// WriteJSON writes the result, indented.
func (r *VideoResult) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
