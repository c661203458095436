package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/desens/desens/desens"
)

// reporter prints progress and per-file outcomes for people. Names are
// printed as desens.PrintableName gives them, so that a file name cannot
// forge or hide a line; the JSON report (--report) is the
// machine-readable record, with names exact.
type reporter struct {
	mu       sync.Mutex
	w        io.Writer
	quiet    bool
	tty      bool
	lastLine time.Time
	dirty    bool
}

func newReporter(w io.Writer, quiet bool) *reporter {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &reporter{w: w, quiet: quiet, tty: tty}
}

// progress shows a live line on a terminal and a line every 10 s otherwise.
func (r *reporter) progress(p desens.Progress) {
	if r.quiet || p.Done {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if !r.tty && now.Sub(r.lastLine) < 10*time.Second {
		return
	}
	r.lastLine = now
	name := desens.PrintableName(p.File)
	msg := fmt.Sprintf("%s: frame %d", name, p.Frame)
	if p.Frames > 0 {
		pct := 100 * float64(p.Frame) / float64(p.Frames)
		width := 30
		fill := min(width, int(pct/100*float64(width)))
		msg = fmt.Sprintf("%s [%s%s] %d/%d (%.0f%%)", name, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.Frame, p.Frames, pct)
	}
	if r.tty {
		fmt.Fprintf(r.w, "\r\033[K%s", msg)
		r.dirty = true
	} else {
		fmt.Fprintln(r.w, msg)
	}
}

func (r *reporter) clear() {
	if r.dirty {
		fmt.Fprint(r.w, "\r\033[K")
		r.dirty = false
	}
}

func (r *reporter) file(f desens.FileReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
	in := desens.PrintableName(f.Input)
	if !f.OK {
		msg := strings.TrimPrefix(desens.PrintableText(f.Error), in+": ")
		if m, ok := strings.CutPrefix(msg, in+"!/"); ok { // an archive's member, named ARCHIVE!/MEMBER
			msg = "member " + m
		}
		fmt.Fprintf(r.w, "FAIL %s: %s\n", in, msg)
		return
	}
	if r.quiet {
		return
	}
	var found []string
	for _, k := range slices.Sorted(maps.Keys(f.Detections)) {
		found = append(found, fmt.Sprintf("%d %s", f.Detections[k], k))
	}
	extra := ""
	if len(f.MaskedFrames) > 0 {
		extra = fmt.Sprintf(", %d frames masked whole", len(f.MaskedFrames))
	}
	fmt.Fprintf(r.w, "ok   %s -> %s (%d frames, %s%s, %.1fs)\n", in, desens.PrintableName(f.Output), f.Frames,
		orNone(strings.Join(found, ", ")), extra, float64(f.Elapsed)/1000)
}

func (r *reporter) finish(rep *desens.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
	if rep == nil || (r.quiet && rep.Summary.Failed == 0) {
		return
	}
	s := rep.Summary
	gate := "batch done"
	if !rep.Done() {
		gate = fmt.Sprintf("batch NOT done: success rate below %.0f%%", rep.Gate()*100)
	}
	done := ""
	if s.AlreadyDone > 0 {
		done = fmt.Sprintf(", %d already done (skipped)", s.AlreadyDone)
	}
	fmt.Fprintf(r.w, "%d files: %d ok, %d failed%s (%.1f%%); %d frames, %d masked whole; %s\n",
		s.Files, s.OK, s.Failed, done, 100*s.SuccessRate, s.Frames, s.Masked, gate)
}

func orNone(s string) string {
	if s == "" {
		return "nothing found"
	}
	return s
}
