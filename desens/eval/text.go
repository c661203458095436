package eval

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText prints the result as tables for people: one line per image,
// the totals, recall by face height, per class, and the threshold sweep.
func (r *Result) WriteText(w io.Writer) error {
	// tabwriter right-aligns every column; names are padded to one width
	// so that they read left-aligned.
	total := fmt.Sprintf("TOTAL (%d images)", r.Evaluated)
	width := len(total)
	for _, im := range r.Images {
		width = max(width, len(im.Name))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tGT\tHITS\tMISSES\tFP\tIGNORED\tDETECT ms\t\n", width, "IMAGE")
	for _, im := range r.Images {
		if im.Error != "" {
			fmt.Fprintf(tw, "%-*s\t-\t-\t-\t-\t-\t-\t  FAILED: %s\n", width, im.Name, im.Error)
			continue
		}
		c := im.Counts
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%d\t%d\t%.0f\t\n", width, im.Name, c.Truths, c.Hits, c.Misses, c.FP, c.Ignored, im.DetectMillis)
	}
	c := r.Total
	fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%d\t%d\t\t\n", width, total, c.Truths, c.Hits, c.Misses, c.FP, c.Ignored)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nthreshold %.2f: recall %s, precision %s, %.2f false positives per image", r.Threshold, pct(r.Recall), pct(r.Precision), r.FPPerImage)
	if c.Excluded > 0 {
		fmt.Fprintf(w, " (%d boxes under %d px high excluded)", c.Excluded, r.Match.MinSize)
	}
	fmt.Fprintln(w)
	if r.Failed > 0 {
		fmt.Fprintf(w, "%d images FAILED and are left out of every figure\n", r.Failed)
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "FACE HEIGHT px\tGT\tHITS\tRECALL\t")
	for _, b := range r.Sizes {
		fmt.Fprintf(tw, "%-14s\t%d\t%d\t%s\t\n", b.Name, b.Truths, b.Hits, pctOf(b.Recall, b.Truths))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(r.Classes) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "CLASS  \tGT\tHITS\tMISSES\tFP\tRECALL\tPRECISION\t")
		for _, cl := range r.Classes {
			n := cl.Counts
			fmt.Fprintf(tw, "%-7s\t%d\t%d\t%d\t%d\t%s\t%s\t\n", cl.Class, n.Truths, n.Hits, n.Misses, n.FP, pctOf(cl.Recall, n.Truths), pctOf(cl.Precision, n.Hits+n.FP))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if r.Plates != nil {
		for _, part := range []struct {
			title  string
			groups []PlateGroup
		}{{"PLATE TYPE", r.Plates.Types}, {"PLATE WIDTH px", r.Plates.Widths}} {
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "%-14s\tGT\tHITS\tFP\tRECALL\tPRECISION\t\n", part.title)
			for _, g := range part.groups {
				fmt.Fprintf(tw, "%-14s\t%d\t%d\t%d\t%s\t%s\t\n", g.Name, g.Truths, g.Hits, g.FP, pctOf(g.Recall, g.Truths), pctOf(g.Precision, g.Hits+g.FP))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if r.Plates.LargestFalseImage != "" {
			fmt.Fprintf(w, "\nlargest false plate box: %.2f%% of its frame (%s)\n", 100*r.Plates.LargestFalse, r.Plates.LargestFalseImage)
		}
	}

	if len(r.Sweep) > 0 {
		from := r.Threshold
		if r.SweepFrom > 0 {
			from = r.SweepFrom
		}
		fmt.Fprintf(w, "\nthreshold sweep (re-scoring one detection pass at %.2f):\n", from)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "THRESHOLD\tHITS\tFP\tRECALL\tPRECISION\tFP/IMAGE\t")
		for _, p := range r.Sweep {
			fmt.Fprintf(tw, "%.2f\t%d\t%d\t%s\t%s\t%.2f\t\n", p.Threshold, p.Counts.Hits, p.Counts.FP, pct(p.Recall), pct(p.Precision), p.FPPerImage)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

// pctOf prints "-" for a share of nothing.
func pctOf(v float64, n int) string {
	if n == 0 {
		return "-"
	}
	return pct(v)
}
