package desens

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/desens/desens/desens/detect"
)

// Report describes one run over one or more files. It is written as JSON by
// the CLI's --report flag.
type Report struct {
	Tool     string      `json:"tool"`
	Version  string      `json:"version"`
	Runtime  string      `json:"onnxruntime"`
	Device   string      `json:"device"`
	Models   []ModelInfo `json:"models"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	// Shard is the share of the files this run took (Shard.String),
	// empty for all.
	Shard string `json:"shard,omitempty"`
	// MinSuccess is the success gate of a batch run
	// (BatchOptions.MinSuccess); 0 when none was set, and SuccessGate
	// applies to Done.
	MinSuccess float64 `json:"min_success,omitempty"`
	// Files lists every file done, failed or never started; with
	// BatchOptions.FailuresOnly, only those failed or never started.
	Files []FileReport `json:"files"`
	// Skipped lists the files of a directory or prefix that desens does
	// not handle: they were neither desensitized nor copied; and, unless
	// BatchOptions.FailuresOnly, those skipped as already done.
	Skipped []Skipped `json:"skipped,omitempty"`
	Summary Summary   `json:"summary"`
}

// Skipped is a file left out of the outputs, and why.
type Skipped struct {
	Input  string `json:"input"`
	Reason string `json:"reason"`
	// Done: the output exists, made from this version of the source, by
	// an earlier run; Output names it.
	Done   bool   `json:"already_done,omitempty"`
	Output string `json:"output,omitempty"`
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

// Summary counts outcomes. A batch is done when SuccessRate reaches the
// gate (Report.Done).
type Summary struct {
	Files  int `json:"files"`
	OK     int `json:"ok"`
	Failed int `json:"failed"`
	// SuccessRate is (OK+AlreadyDone)/(Files+AlreadyDone): a rerun that
	// resumes a job is judged on the whole job.
	SuccessRate float64 `json:"success_rate"`
	Frames      int     `json:"frames"`
	Masked      int     `json:"frames_masked"`
	Skipped     int     `json:"skipped"` // not handled: not in Files, not counted above
	// AlreadyDone counts the files whose output an earlier run made from
	// the same version of the source: skipped, not in Files.
	AlreadyDone int `json:"already_done,omitempty"`
	// Canceled counts the files a cancelled run never started: they are
	// in Files (marked Canceled) but not counted above.
	Canceled int `json:"canceled,omitempty"`
	// BytesIn and BytesOut add up the sources read and outputs written.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
	// Detections adds up what the files' detectors found, per class.
	Detections map[detect.Class]int `json:"detections,omitempty"`
	// Seconds is the run's wall-clock time; FilesPerSecond and
	// BytesPerSecond (bytes read) are over it.
	Seconds        float64 `json:"seconds,omitempty"`
	FilesPerSecond float64 `json:"files_per_second,omitempty"`
	BytesPerSecond float64 `json:"bytes_per_second,omitempty"`
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
	LeftBehind []string    `json:"left_behind,omitempty"`
	skip       string      // why the file was skipped (Report.Skipped)
	done       *doneOutput // the output, for the manifest
	outETag    string      // the output's ETag, where the sink learns it
	err        error
	started    time.Time
	stageTime  map[string]time.Duration
}

// Skip says why the file was skipped, "" if it was not; done says it was
// skipped because its output is already made from this version of the
// source.
func (r FileReport) Skip() (reason string, done bool) {
	return r.skip, r.skip != "" && r.done != nil
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

// add appends a file's outcome and updates the summary; with
// failuresOnly, files done or already done are counted only.
func (r *Report) add(f FileReport, failuresOnly bool) {
	switch {
	case f.skip != "" && f.done != nil:
		r.Summary.AlreadyDone++
		if !failuresOnly {
			r.Skipped = append(r.Skipped, Skipped{Input: f.Input, Reason: f.skip, Done: true, Output: f.Output})
		}
		r.rate()
		return
	case f.skip != "":
		r.Skipped = append(r.Skipped, Skipped{Input: f.Input, Reason: f.skip})
		r.Summary.Skipped++
		return
	}
	if !f.OK || !failuresOnly {
		r.Files = append(r.Files, f)
	}
	if f.Canceled {
		r.Summary.Canceled++
		return
	}
	s := &r.Summary
	s.Files++
	if f.OK {
		s.OK++
	} else {
		s.Failed++
	}
	s.Frames += f.Frames
	s.Masked += len(f.MaskedFrames)
	s.BytesIn += f.BytesIn
	s.BytesOut += f.BytesOut
	for c, n := range f.Detections {
		if n == 0 {
			continue
		}
		if s.Detections == nil {
			s.Detections = map[detect.Class]int{}
		}
		s.Detections[c] += n
	}
	r.rate()
}

func (r *Report) rate() {
	s := &r.Summary
	if n := s.Files + s.AlreadyDone; n > 0 {
		s.SuccessRate = float64(s.OK+s.AlreadyDone) / float64(n)
	}
}

// sortFiles puts the files in order of their names, as workers finish
// them in any order, and sets the throughput.
func (r *Report) sortFiles() {
	slices.SortStableFunc(r.Files, func(a, b FileReport) int { return strings.Compare(a.Input, b.Input) })
	slices.SortStableFunc(r.Skipped, func(a, b Skipped) int { return strings.Compare(a.Input, b.Input) })
	s := &r.Summary
	s.Seconds = time.Since(r.Started).Seconds()
	if s.Seconds > 0 {
		s.FilesPerSecond = float64(s.Files) / s.Seconds
		s.BytesPerSecond = float64(s.BytesIn) / s.Seconds
	}
}

// Gate is the success rate the batch must reach: MinSuccess when set,
// else SuccessGate.
func (r *Report) Gate() float64 {
	if r.MinSuccess > 0 {
		return r.MinSuccess
	}
	return SuccessGate
}

// Done reports whether the batch met the success gate (Gate). An empty
// batch is done.
func (r *Report) Done() bool {
	return r.Summary.Files+r.Summary.AlreadyDone == 0 || r.Summary.SuccessRate >= r.Gate()
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
