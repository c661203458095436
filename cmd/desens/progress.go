package main

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"

	"github.com/desens/desens/desens"
)

// Progress modes (--progress).
const (
	progressAuto  = "auto"
	progressBar   = "bar"
	progressJSONL = "jsonl"
	progressNone  = "none"
)

// progressMode resolves --progress: auto is a bar on a terminal; otherwise
// JSON lines for a batch (a job's log collector parses them) and text
// lines for anything else.
func progressMode(flag string, batch bool, w *os.File) (string, error) {
	switch flag {
	case progressBar, progressJSONL, progressNone:
		return flag, nil
	case progressAuto:
		if st, err := w.Stat(); (err == nil && st.Mode()&os.ModeCharDevice != 0) || !batch {
			return progressBar, nil
		}
		return progressJSONL, nil
	}
	return "", usagef("--progress " + flag + ": want auto, bar, jsonl or none")
}

// progressEvent is one JSON line of --progress jsonl: "file" for each file done,
// failed or not started, "skip" for each file skipped (already done, or
// not handled), and "summary" once at the end. Names are exact, as in the
// report; JSON escapes what a terminal would act on.
type progressEvent struct {
	Event    string          `json:"event"`
	Time     time.Time       `json:"time"`
	Input    string          `json:"input,omitempty"`
	Output   string          `json:"output,omitempty"`
	Kind     string          `json:"kind,omitempty"`
	OK       *bool           `json:"ok,omitempty"`
	Canceled bool            `json:"canceled,omitempty"`
	Stage    string          `json:"stage,omitempty"`
	Error    string          `json:"error,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Done     bool            `json:"already_done,omitempty"`
	BytesIn  int64           `json:"bytes_in,omitempty"`
	BytesOut int64           `json:"bytes_out,omitempty"`
	Frames   int             `json:"frames,omitempty"`
	Elapsed  desens.Millis   `json:"elapsed_ms,omitempty"`
	Cleaned  []string        `json:"cleaned,omitempty"`
	Left     []string        `json:"left_behind,omitempty"`
	Summary  *desens.Summary `json:"summary,omitempty"`
	Passed   *bool           `json:"passed,omitempty"`
}

// jsonLines writes JSON lines, one call at a time.
type jsonLines struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newJSONLines(w io.Writer) *jsonLines { return &jsonLines{enc: json.NewEncoder(w)} }

func (e *jsonLines) emit(ev progressEvent) {
	ev.Time = time.Now().UTC()
	e.mu.Lock()
	defer e.mu.Unlock()
	_ = e.enc.Encode(ev)
}

func (e *jsonLines) file(f desens.FileReport) {
	if reason, done := f.Skip(); reason != "" {
		e.emit(progressEvent{Event: "skip", Input: f.Input, Output: f.Output, Reason: reason, Done: done})
		return
	}
	ok := f.OK
	e.emit(progressEvent{Event: "file", Input: f.Input, Output: f.Output, Kind: f.Kind, OK: &ok, Canceled: f.Canceled,
		Stage: f.Stage, Error: f.Error, BytesIn: f.BytesIn, BytesOut: f.BytesOut, Frames: f.Frames,
		Elapsed: f.Elapsed, Cleaned: f.Cleaned, Left: f.LeftBehind})
}

// finish emits the files left out for what they are, then the summary.
func (e *jsonLines) finish(rep *desens.Report) {
	for _, s := range rep.Skipped {
		if !s.Done {
			e.emit(progressEvent{Event: "skip", Input: s.Input, Reason: s.Reason})
		}
	}
	passed := rep.Done()
	e.emit(progressEvent{Event: "summary", Summary: &rep.Summary, Passed: &passed})
}
