package desens

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/desens/desens/desens/detect"
)

// Report describes one run over one or more files. It is written as JSON by
// the CLI's --report flag.
type Report struct {
	Tool     string       `json:"tool"`
	Version  string       `json:"version"`
	Runtime  string       `json:"onnxruntime"`
	Device   string       `json:"device"`
	Models   []ModelInfo  `json:"models"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Files    []FileReport `json:"files"`
	// Skipped lists the files of a directory or prefix that desens does
	// not handle: they were neither desensitized nor copied.
	Skipped []Skipped `json:"skipped,omitempty"`
	Summary Summary   `json:"summary"`
}

// Skipped is a file left out of the outputs, and why.
type Skipped struct {
	Input  string `json:"input"`
	Reason string `json:"reason"`
}

// ModelInfo identifies a model used in a run.
type ModelInfo struct {
	Class  detect.Class `json:"class"`
	Name   string       `json:"name"`
	Source string       `json:"source"`
	SHA256 string       `json:"sha256"`
	// Role is "verifier" for a model that rescores another's candidates,
	// "quick-verifier" for the verifier's cheaper first look, "reader" for
	// one that reads their text; empty for a detector.
	Role string `json:"role,omitempty"`
}

// Summary counts outcomes. A batch is done when SuccessRate >= SuccessGate.
type Summary struct {
	Files       int     `json:"files"`
	OK          int     `json:"ok"`
	Failed      int     `json:"failed"`
	SuccessRate float64 `json:"success_rate"`
	Frames      int     `json:"frames"`
	Masked      int     `json:"frames_masked"`
	Skipped     int     `json:"skipped"` // not in Files, not counted above
	// Canceled counts the files a cancelled run never started: they are
	// in Files (marked Canceled) but not counted above.
	Canceled int `json:"canceled,omitempty"`
}

// SuccessGate is the share of files that must succeed for a batch to count
// as done.
const SuccessGate = 0.95

// FileReport is the outcome for one file.
type FileReport struct {
	Input  string `json:"input"`
	Output string `json:"output,omitempty"`
	Kind   string `json:"kind"` // image, video, trajectory or archive
	OK     bool   `json:"ok"`
	// Canceled: the run was cancelled (interrupted) before this file
	// started; it is neither done nor failed, and Error says so.
	Canceled bool   `json:"canceled,omitempty"`
	Error    string `json:"error,omitempty"`
	Stage    string `json:"failed_stage,omitempty"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
	Frames   int    `json:"frames"`
	// MaskedFrames lists frames hidden whole because detection failed on them.
	MaskedFrames []int                `json:"masked_frames,omitempty"`
	MaskReasons  []string             `json:"mask_reasons,omitempty"`
	Detections   map[detect.Class]int `json:"detections"`
	// Redacted counts regions hidden, tracker-filled ones included.
	Redacted int               `json:"regions_redacted"`
	Audio    bool              `json:"audio_kept,omitempty"`
	BytesIn  int64             `json:"bytes_in"`
	BytesOut int64             `json:"bytes_out,omitempty"`
	Timings  map[string]Millis `json:"stage_ms"`
	Elapsed  Millis            `json:"elapsed_ms"`
	// Trajectory describes a sidecar (GPX, NMEA, ...) and its policy.
	Trajectory *TrajectoryReport `json:"trajectory,omitempty"`
	// Archive lists what happened to each member of an archive.
	Archive *ArchiveReport `json:"archive,omitempty"`
	// Cleaned lists the leftovers of earlier runs of this output that
	// were removed before it was written: temporary files of killed runs,
	// multipart uploads never completed nor aborted.
	Cleaned []string `json:"cleaned,omitempty"`
	// LeftBehind lists what could not be removed, this run's own
	// temporary file or multipart upload included: a multipart upload
	// whose abort failed stays pending, its parts stored and billed, until
	// the next run of the output aborts it or a lifecycle rule removes it.
	LeftBehind []string `json:"left_behind,omitempty"`
	skip       string   // why the file was skipped (Report.Skipped)
	err        error
	started    time.Time
	stageTime  map[string]time.Duration
}

// Err returns the error that failed the file, if any.
func (r FileReport) Err() error { return r.err }

// Millis is a duration written as milliseconds in JSON.
type Millis float64

func ms(d time.Duration) Millis { return Millis(float64(d.Microseconds()) / 1000) }

func newFileReport(in, out, kind string) FileReport {
	return FileReport{Input: in, Output: out, Kind: kind, Detections: map[detect.Class]int{},
		Timings: map[string]Millis{}, started: time.Now(), stageTime: map[string]time.Duration{}}
}

func (r *FileReport) addStage(name string, d time.Duration) { r.stageTime[name] += d }

func (r *FileReport) finish(err error) {
	for k, v := range r.stageTime {
		r.Timings[k] = ms(v)
	}
	r.Elapsed = ms(time.Since(r.started))
	r.err = err
	r.OK = err == nil
	if err != nil {
		r.Error = err.Error()
		if fe, ok := err.(*FileError); ok {
			r.Stage = fe.Stage
		}
		r.Output = ""
		r.BytesOut = 0
	}
}

// cancel marks a file the run never started because ctx ended with err.
func (r *FileReport) cancel(err error) {
	r.finish(fmt.Errorf("not started: %w", err))
	r.Canceled = true
}

// add appends a file's outcome and updates the summary.
func (r *Report) add(f FileReport) {
	if f.skip != "" {
		r.Skipped = append(r.Skipped, Skipped{Input: f.Input, Reason: f.skip})
		r.Summary.Skipped++
		return
	}
	r.Files = append(r.Files, f)
	if f.Canceled {
		r.Summary.Canceled++
		return
	}
	r.Summary.Files++
	if f.OK {
		r.Summary.OK++
	} else {
		r.Summary.Failed++
	}
	r.Summary.Frames += f.Frames
	r.Summary.Masked += len(f.MaskedFrames)
	r.Summary.SuccessRate = float64(r.Summary.OK) / float64(r.Summary.Files)
}

// Done reports whether the batch met the success gate. An empty batch is done.
func (r *Report) Done() bool {
	return r.Summary.Files == 0 || r.Summary.SuccessRate >= SuccessGate
}

// WriteJSON writes the report, indented.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// leftovers collects, while one file is processed, what its sink found
// and did about leftovers: those of earlier runs it removed
// (FileReport.Cleaned) and those it could not remove (LeftBehind).
// processJob gives each file one through its context.
type leftovers struct {
	mu            sync.Mutex
	cleaned, left []string
}

type leftoversKey struct{}

func withLeftovers(ctx context.Context) (context.Context, *leftovers) {
	l := &leftovers{}
	return context.WithValue(ctx, leftoversKey{}, l), l
}

// leftoversOf returns ctx's collector; nil, which notes nothing, when the
// file is processed without one.
func leftoversOf(ctx context.Context) *leftovers {
	l, _ := ctx.Value(leftoversKey{}).(*leftovers)
	return l
}

// removed notes a leftover of an earlier run that was removed.
func (l *leftovers) removed(format string, args ...any) {
	if l != nil {
		l.mu.Lock()
		l.cleaned = append(l.cleaned, fmt.Sprintf(format, args...))
		l.mu.Unlock()
	}
}

// kept notes something left behind that could not be removed.
func (l *leftovers) kept(format string, args ...any) {
	if l != nil {
		l.mu.Lock()
		l.left = append(l.left, fmt.Sprintf(format, args...))
		l.mu.Unlock()
	}
}

// addTo copies the notes into r.
func (l *leftovers) addTo(r *FileReport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Cleaned = append(r.Cleaned, l.cleaned...)
	r.LeftBehind = append(r.LeftBehind, l.left...)
}
