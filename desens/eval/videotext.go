package eval

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/desens/desens/desens/detect"
)

// classWords are how the tables name a class: its objects, one of them,
// and what its sizes are measured by.
func classWords(c detect.Class) (objects, object, size string) {
	switch c {
	case detect.Face:
		return "faces", "a face", "FACE HEIGHT px"
	case detect.Plate:
		return "plates", "a plate", "PLATE WIDTH px"
	}
	return string(c) + "s", "an " + string(c), strings.ToUpper(string(c)) + " HEIGHT px"
}

// WriteText prints the result as tables for people: for each class scored,
// one line per clip, the totals, and per-frame recall by size; then what
// the classes leave visible together, and the time.
func (r *VideoResult) WriteText(w io.Writer) error {
	total := fmt.Sprintf("TOTAL (%d clips)", r.Evaluated)
	width := len(total)
	for _, c := range r.Clips {
		width = max(width, len(c.Name))
	}
	for k, tc := range r.Classes {
		objects, object, sizeName := classWords(tc.Class)
		if k > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n", strings.ToUpper(objects))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-*s\tFRAMES\t%s\tHIDDEN\tRECALL\t%s\tLEAK FRAMES\tLONGEST RUN\tFALSE/FRAME\tms/FRAME\t\n", width, "CLIP",
			strings.ToUpper(objects), cmp.Or(tc.Band, "-"))
		row := func(name string, vc *VideoClass, ms float64) {
			c := vc.Counts
			perFrame := "-"
			if ms > 0 && c.Frames > 0 {
				perFrame = fmt.Sprintf("%.0f", ms/float64(c.Frames))
			}
			fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%.2f\t%s\t\n", width, name, c.Frames, c.Truths, c.Hidden,
				pctOf(vc.Recall, c.Truths), pctOf(vc.BandRecall, c.BandTruths), c.LeakFrames, vc.LongestRun.Frames, vc.FalsePerFrame, perFrame)
		}
		for _, c := range r.Clips {
			if c.Error != "" {
				fmt.Fprintf(tw, "%-*s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t  FAILED: %s\n", width, c.Name, c.Error)
				continue
			}
			if vc := c.Class(tc.Class); vc != nil {
				row(c.Name, vc, c.Millis)
			}
		}
		row(total, &tc, r.Millis)
		if err := tw.Flush(); err != nil {
			return err
		}

		t := tc.Counts
		fmt.Fprintf(w, "\nper-frame recall %s", pctOf(tc.Recall, t.Truths))
		if tc.Band != "" {
			fmt.Fprintf(w, ", %s %s %s", objects, tc.Band, pctOf(tc.BandRecall, t.BandTruths))
		}
		fmt.Fprintf(w, " (%s counts hidden in a frame when the output hides at least %.0f%% of its box)\n", object, 100*r.CoverBar)
		fmt.Fprintf(w, "%d of %d frames with %s left %s visible", t.LeakFrames, t.ObjectFrames, objects, object)
		if run := tc.LongestRun; run.Frames > 0 {
			fmt.Fprintf(w, "; longest %s stayed visible: %d frames (%s, track %d, from frame %d)", object, run.Frames, filepath.Base(run.Clip), run.Track, run.Start)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "false hidden regions: %.2f per frame (%d of %d regions touch no labelled box)", tc.FalsePerFrame, t.FalseRegions, t.Regions)
		if t.Excluded > 0 {
			fmt.Fprintf(w, "; %d labelled boxes marked ignore", t.Excluded)
			if r.MinSize > 0 {
				fmt.Fprintf(w, " or under %d px high", r.MinSize)
			}
			fmt.Fprint(w, " count neither way")
		}
		fmt.Fprintln(w)

		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\t%s\tHIDDEN\tRECALL\t\n", sizeName, strings.ToUpper(objects))
		for _, b := range tc.Sizes {
			fmt.Fprintf(tw, "%-14s\t%d\t%d\t%s\t\n", b.Name, b.Truths, b.Hits, pctOf(b.Recall, b.Truths))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if r.Text != nil {
		if err := r.writeText(w, width); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	if len(r.Classes) > 1 {
		fmt.Fprintf(w, "%d of %d frames left a labelled object of a class scored visible\n", r.LeakFrames, r.Frames)
	}
	if len(r.Classes) > 0 && r.Classes[0].Counts.MaskedFrames > 0 {
		fmt.Fprintf(w, "%d frames were masked whole (detection failed on them)\n", r.Classes[0].Counts.MaskedFrames)
	}
	if r.Millis > 0 {
		fmt.Fprintf(w, "desens took %.1f s for %d frames (%.2f frames/s)\n", r.Millis/1000, r.Frames, r.FPS)
	}
	if r.Failed > 0 {
		fmt.Fprintf(w, "%d clips FAILED and are left out of every figure\n", r.Failed)
	}
	return nil
}

// WriteJSON writes the result, indented.
func (r *VideoResult) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText prints the scene text table: per clip and in total, how many
// labelled lines of text stayed readable and what hid the others.
func (r *VideoResult) writeText(w io.Writer, width int) error {
	fmt.Fprintf(w, "\nSCENE TEXT (to stay readable)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tFRAMES\tTEXT\tREADABLE\tSHARE\tOBSCURED BY\t\n", width, "CLIP")
	row := func(name string, ts *TextScore) {
		c := ts.Counts
		var by []string
		for k, n := range c.ObscuredBy {
			by = append(by, fmt.Sprintf("%s %d", k, n))
		}
		slices.Sort(by)
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%s\t%s\t\n", width, name, c.Frames, c.Truths, c.Readable, pctOf(ts.Readable, c.Truths), cmp.Or(strings.Join(by, ", "), "-"))
	}
	for _, c := range r.Clips {
		if c.Error == "" && c.Text != nil {
			row(c.Name, c.Text)
		}
	}
	row(fmt.Sprintf("TOTAL (%d clips)", r.Evaluated), r.Text)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nscene text readable %s (a labelled line of text stays readable in a frame when the output hides less than %.0f%% of its box)\n",
		pctOf(r.Text.Readable, r.Text.Counts.Truths), 100*r.ReadableBar)
	if tt := r.Text.Counts.TypeTruths; len(tt) > 0 {
		var by []string
		for k, n := range tt {
			m := r.Text.Counts.TypeReadable[k]
			by = append(by, fmt.Sprintf("%s %s (%d of %d)", k, pct(float64(m)/float64(n)), m, n))
		}
		slices.Sort(by)
		fmt.Fprintf(w, "readable by type: %s\n", strings.Join(by, ", "))
	}
	if r.Text.Counts.Excluded > 0 {
		fmt.Fprintf(w, "%d labelled text boxes marked ignore", r.Text.Counts.Excluded)
		if r.MinSize > 0 {
			fmt.Fprintf(w, " or under %d px high", r.MinSize)
		}
		fmt.Fprintln(w, " count neither way")
	}
	return nil
}
