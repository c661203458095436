package event

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/desens/trajectory"
)

// Mapping sends the objects under one bucket prefix to another.
type Mapping struct {
	From, To storage.Location
}

// ParseMapping reads "SRC=DST", two bucket URLs such as
// "s3://raw/=s3://clean/" or "cos://raw-1250000000/cam/=cos://clean-1250000000/cam/".
// An object whose bucket is SRC's and whose key starts with SRC's key goes
// to DST's bucket, that start replaced by DST's key. Events name buckets,
// not services, so SRC's scheme only says how to reach the bucket.
func ParseMapping(s string) (Mapping, error) {
	src, dst, ok := strings.Cut(s, "=")
	if !ok {
		return Mapping{}, fmt.Errorf("mapping %q: want SRC=DST, e.g. s3://raw/=s3://clean/", s)
	}
	var m Mapping
	var err error
	if m.From, err = bucketURL(src); err != nil {
		return Mapping{}, fmt.Errorf("mapping %q: source: %w", s, err)
	}
	if m.To, err = bucketURL(dst); err != nil {
		return Mapping{}, fmt.Errorf("mapping %q: destination: %w", s, err)
	}
	if m.From.Bucket == m.To.Bucket && strings.HasPrefix(m.From.Key, m.To.Key) {
		return Mapping{}, fmt.Errorf("mapping %q: the source lies inside the destination, whose objects are never desensitized again", s)
	}
	return m, nil
}

func bucketURL(s string) (storage.Location, error) {
	if !strings.Contains(s, "://") {
		return storage.Location{}, fmt.Errorf("%q is not a bucket URL (s3://bucket/prefix/)", s)
	}
	loc, err := storage.ParseURL(s)
	if err != nil {
		return storage.Location{}, err
	}
	if loc.Scheme == "file" {
		return storage.Location{}, fmt.Errorf("%q: events name buckets, not local files", s)
	}
	return loc, nil
}

// String formats m back as SRC=DST.
func (m Mapping) String() string { return m.From.String() + "=" + m.To.String() }

// Runner desensitizes one object into another; *desens.Desensitizer is
// one. Its options should allow overwriting, so that a source replaced by
// a new version replaces its output too.
type Runner interface {
	Run(ctx context.Context, in, out string, onFile func(desens.FileReport)) (*desens.Report, error)
}

// Opener opens buckets; *storage.Mux is one.
type Opener interface {
	OpenLocation(ctx context.Context, loc storage.Location) (storage.Bucket, error)
}

// Handler desensitizes the objects that events report. It is safe for
// concurrent use.
type Handler struct {
	run  Runner
	open Opener
	maps []Mapping

	mu      sync.Mutex
	buckets map[storage.Location]storage.Bucket // by scheme and bucket
}

// NewHandler returns a Handler that runs objects through r, reaching
// buckets through o, by maps (the longest matching source prefix wins).
func NewHandler(r Runner, o Opener, maps ...Mapping) (*Handler, error) {
	if len(maps) == 0 {
		return nil, errors.New("event: no mapping from source to destination")
	}
	return &Handler{run: r, open: o, maps: maps, buckets: map[storage.Location]storage.Bucket{}}, nil
}

// Close closes the buckets the Handler opened.
func (h *Handler) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	for k, b := range h.buckets {
		err = errors.Join(err, b.Close())
		delete(h.buckets, k)
	}
	return err
}

// Status is what became of one object.
type Status string

const (
	// Done: the object was desensitized into its destination.
	Done Status = "done"
	// Skipped: the destination already records this version of the source.
	Skipped Status = "skipped"
	// Ignored: nothing to do (not a creation, no mapping, written by
	// desens, not media, gone since the event).
	Ignored Status = "ignored"
	// Failed: the object could not be desensitized; see Reason and Retry.
	Failed Status = "failed"
)

// Outcome is what became of one object, and why.
type Outcome struct {
	Object Object `json:"object"`
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Retry: the failure looks transient (storage unreachable, shutting
	// down), so handling the event again later may succeed.
	Retry bool `json:"retry,omitempty"`
	// File is the desensitization report, for objects that were run.
	File *desens.FileReport `json:"file,omitempty"`
	err  error
	gone bool // the source does not exist
}

// Err is the error that failed the object, or nil.
func (o Outcome) Err() error { return o.err }

// Result is what became of every object of an event.
type Result struct {
	Objects []Outcome `json:"objects"`
	Done    int       `json:"done"`
	Skipped int       `json:"skipped"`
	Ignored int       `json:"ignored"`
	Failed  int       `json:"failed"`
}

// Retry reports whether some object failed in a way that trying again
// later may fix.
func (r Result) Retry() bool {
	for _, o := range r.Objects {
		if o.Status == Failed && o.Retry {
			return true
		}
	}
	return false
}

// Err joins the errors of the objects that failed, or is nil.
func (r Result) Err() error {
	var err error
	for _, o := range r.Objects {
		err = errors.Join(err, o.err)
	}
	return err
}

// Handle desensitizes each created object into its destination, one after
// another, and says what became of each.
func (h *Handler) Handle(ctx context.Context, objs []Object) Result {
	res := Result{Objects: make([]Outcome, 0, len(objs))}
	for _, o := range objs {
		out := h.handle(ctx, o)
		switch out.Status {
		case Done:
			res.Done++
		case Skipped:
			res.Skipped++
		case Ignored:
			res.Ignored++
		case Failed:
			res.Failed++
		}
		res.Objects = append(res.Objects, out)
	}
	return res
}

func (h *Handler) handle(ctx context.Context, o Object) Outcome {
	out := h.handleKey(ctx, o)
	if out.gone && o.maybeEncoded {
		d := o
		d.Key, _ = url.QueryUnescape(o.Key)
		d.maybeEncoded = false
		if dout := h.handleKey(ctx, d); !dout.gone {
			return dout
		}
	}
	return out
}

func (h *Handler) handleKey(ctx context.Context, o Object) Outcome {
	out := Outcome{Object: o, Status: Ignored}
	if !o.Created {
		out.Reason = fmt.Sprintf("event %q does not create an object", o.Event)
		return out
	}
	base := path.Base(o.Key)
	switch {
	case strings.HasSuffix(o.Key, "/"):
		out.Reason = "a folder marker"
		return out
	case strings.HasPrefix(base, "."):
		out.Reason = "a hidden object (its name starts with '.')"
		return out
	}
	for _, m := range h.maps {
		if o.Bucket == m.To.Bucket && strings.HasPrefix(o.Key, m.To.Key) {
			out.Reason = "under the destination " + m.To.String() + ": desens's own output"
			return out
		}
	}
	m, ok := h.match(o)
	if !ok {
		out.Reason = "no mapping covers bucket " + o.Bucket + " key " + o.Key
		return out
	}
	src := storage.Location{Scheme: m.From.Scheme, Bucket: o.Bucket, Key: o.Key}
	dst := storage.Location{Scheme: m.To.Scheme, Bucket: m.To.Bucket, Key: m.To.Key + strings.TrimPrefix(o.Key, m.From.Key)}
	out.Input = src.String()
	if _, err := desens.KindOf(o.Key); err != nil && !trajectory.IsCandidate(o.Key) {
		out.Reason = fmt.Sprintf("not media nor a position log: %v", err)
		return out
	}
	if k, _ := desens.KindOf(o.Key); k == desens.KindVideo && path.Ext(dst.Key) != ".mp4" {
		dst.Key = strings.TrimSuffix(dst.Key, path.Ext(dst.Key)) + ".mp4" // as desens names video outputs
	}
	out.Output = dst.String()

	sb, err := h.bucket(ctx, src)
	if err != nil {
		return failed(out, err)
	}
	sa, err := sb.Stat(ctx, src.Key)
	if errors.Is(err, storage.ErrNotExist) {
		out.Reason, out.gone = "the object no longer exists", true
		return out
	}
	if err != nil {
		return failed(out, err)
	}
	if by := writtenBy(sa.Metadata); by != "" {
		out.Reason = "written by desens (metadata " + by + "): never desensitized again"
		return out
	}
	db, err := h.bucket(ctx, dst)
	if err != nil {
		return failed(out, err)
	}
	da, err := db.Stat(ctx, dst.Key)
	switch {
	case err == nil && sa.ETag != "" && sameETag(da.Metadata[desens.MetaSourceETag], sa.ETag):
		out.Status = Skipped
		out.Reason = "the destination was made from this version (ETag " + sa.ETag + ")"
		return out
	case err != nil && !errors.Is(err, storage.ErrNotExist):
		return failed(out, err)
	}

	rep, err := h.run.Run(ctx, src.String(), dst.String(), nil)
	if err != nil {
		return failed(out, err)
	}
	if len(rep.Files) != 1 {
		return failed(out, fmt.Errorf("%s: the run reported %d files, want 1", src, len(rep.Files)))
	}
	fr := rep.Files[0]
	out.File = &fr
	if fr.Output != "" {
		out.Output = fr.Output
	}
	if !fr.OK {
		err := fr.Err()
		if err == nil {
			err = errors.New(fr.Error)
		}
		return failed(out, err)
	}
	out.Status = Done
	return out
}

// match finds the mapping whose source holds o, the longest prefix first.
func (h *Handler) match(o Object) (Mapping, bool) {
	var best Mapping
	found := false
	for _, m := range h.maps {
		if o.Bucket == m.From.Bucket && strings.HasPrefix(o.Key, m.From.Key) && (!found || len(m.From.Key) > len(best.From.Key)) {
			best, found = m, true
		}
	}
	return best, found
}

// bucket opens loc's bucket once and keeps it for later events.
func (h *Handler) bucket(ctx context.Context, loc storage.Location) (storage.Bucket, error) {
	k := storage.Location{Scheme: loc.Scheme, Bucket: loc.Bucket}
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.buckets[k]; ok {
		return b, nil
	}
	b, err := h.open.OpenLocation(ctx, k)
	if err != nil {
		return nil, err
	}
	h.buckets[k] = b
	return b, nil
}

func failed(o Outcome, err error) Outcome {
	o.Status, o.err, o.Reason, o.Retry = Failed, err, desens.PrintableText(err.Error()), retryable(err)
	return o
}

// retryable reports whether err looks transient: storage says so, or the
// work was cut short (a shutdown, a deadline).
func retryable(err error) bool {
	var se *storage.Error
	if errors.As(err, &se) && se.Retryable {
		return true
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// writtenBy names the desens metadata key an object carries, if any.
func writtenBy(md map[string]string) string {
	for _, k := range []string{desens.MetaVersion, desens.MetaSource, desens.MetaSourceETag} {
		if _, ok := md[k]; ok {
			return k
		}
	}
	return ""
}

// sameETag compares a recorded ETag (percent-encoded as desens stores
// metadata) with a server's, quotes aside.
func sameETag(recorded, etag string) bool {
	if recorded == "" {
		return false
	}
	if r, err := url.PathUnescape(recorded); err == nil {
		recorded = r
	}
	return strings.Trim(recorded, `"`) == strings.Trim(etag, `"`)
}
