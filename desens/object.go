package desens

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/desens/desens/desens/storage"
)

// objectInput is an object in a bucket. Every read is pinned to the ETag
// its stat saw, so the output and its desens-source-etag metadata always
// describe one version of the source, even if it is replaced meanwhile.
type objectInput struct {
	b     storage.Bucket
	key   string
	url   string
	attrs storage.Attrs
	known bool                // attrs are set
	slots *semaphore.Weighted // bounds whole reads (limits.downloads)
}

func newObjectInput(b storage.Bucket, loc storage.Location) *objectInput {
	return &objectInput{b: b, key: loc.Key, url: loc.String()}
}

func (o *objectInput) String() string { return o.url }

func (o *objectInput) stat(ctx context.Context) (inputInfo, error) {
	if !o.known {
		a, err := o.b.Stat(ctx, o.key)
		if err != nil {
			return inputInfo{}, err
		}
		o.attrs, o.known = a, true
	}
	return inputInfo{size: o.attrs.Size, url: o.url, etag: o.attrs.ETag}, nil
}

// open opens a Reader on the version stat saw.
func (o *objectInput) open(ctx context.Context) (storage.Reader, error) {
	if _, err := o.stat(ctx); err != nil {
		return nil, err
	}
	r, err := o.b.Open(ctx, o.key)
	if err != nil {
		return nil, err
	}
	if o.attrs.ETag != "" && r.Attrs().ETag != o.attrs.ETag {
		r.Close()
		return nil, fmt.Errorf("%s: %w (ETag %s, then %s)", o.url, storage.ErrObjectChanged, o.attrs.ETag, r.Attrs().ETag)
	}
	return r, nil
}

func (o *objectInput) head(ctx context.Context, n int) ([]byte, error) {
	r, err := o.open(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readHead(r, n)
}

func (o *objectInput) readAll(ctx context.Context, limit int64) ([]byte, error) {
	release, err := acquire(ctx, o.slots)
	if err != nil {
		return nil, err
	}
	defer release()
	r, err := o.open(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if r.Size() > limit {
		return nil, tooBig(r.Size(), limit)
	}
	return readLimited(r, limit)
}

// media hands FFmpeg a local path when the bucket has one, else a loopback
// URL that streams the object (see objectServer).
func (o *objectInput) media(ctx context.Context) (string, func() error, error) {
	if lp, ok := o.b.(storage.LocalPather); ok {
		p, err := lp.LocalPath(o.key)
		return p, func() error { return nil }, err
	}
	s, err := serveObject(ctx, o)
	if err != nil {
		return "", nil, err
	}
	return s.url, s.close, nil
}

// bucketSink writes outputs as objects in a bucket. Each output streams
// into a storage.Writer (a multipart upload for large ones) that is
// completed on Commit and aborted on Abort: a partial output never becomes
// an object, and nothing is spooled to disk on the way.
type bucketSink struct {
	b         storage.Bucket
	loc       storage.Location // scheme and bucket, for URLs
	overwrite bool
	slots     *semaphore.Weighted // bounds outputs in flight (limits.uploads)
}

func (s bucketSink) url(key string) string {
	return storage.Location{Scheme: s.loc.Scheme, Bucket: s.loc.Bucket, Key: key}.String()
}

// Create checks that the object does not exist yet (unless overwriting),
// aborts the multipart uploads that earlier runs left pending on the key,
// and starts writing it with info as its content type and metadata.
func (s bucketSink) Create(ctx context.Context, key string, info outputMeta) (out output, err error) {
	release, err := acquire(ctx, s.slots)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	started := time.Now()
	if !s.overwrite {
		_, err := s.b.Stat(ctx, key)
		if err == nil {
			return nil, fmt.Errorf("%w: %s (use --overwrite)", ErrExists, s.url(key))
		}
		if !errors.Is(err, storage.ErrNotExist) {
			return nil, err
		}
	}
	left := leftoversOf(ctx)
	s.cleanUploads(ctx, key, started, left)
	w, err := s.b.Create(ctx, key, &storage.WriteOptions{ContentType: info.ContentType, Metadata: info.Metadata})
	if err != nil {
		return nil, err
	}
	return &objectOutput{w: w, url: s.url(key), left: left, release: release}, nil
}

// pendingUploads is implemented by buckets that upload in parts
// (storage.S3Bucket).
type pendingUploads interface {
	Uploads(ctx context.Context, prefix string) iter.Seq2[storage.Upload, error]
	AbortUpload(ctx context.Context, key, id string) error
}

// cleanUploads aborts the multipart uploads of exactly key that were
// started before this output (before, by this machine's clock against the
// server's): a run killed mid-upload, or whose abort failed, leaves one
// pending, its parts stored and billed with no object to show. A run that
// is still writing key elsewhere loses its upload and fails; two runs
// writing one key would have overwritten each other anyway. Without
// permission to list uploads there is nothing to clean, and nothing is
// noted; other failures are noted in left.
func (s bucketSink) cleanUploads(ctx context.Context, key string, before time.Time, left *leftovers) {
	pu, ok := s.b.(pendingUploads)
	if !ok {
		return
	}
	for u, err := range pu.Uploads(ctx, key) {
		if err != nil {
			if !errors.Is(err, storage.ErrPermission) && ctx.Err() == nil {
				left.kept("could not look for multipart uploads of %s left by earlier runs: %v", s.url(key), err)
			}
			return
		}
		if u.Key != key || !u.Initiated.Before(before) {
			continue
		}
		if err := pu.AbortUpload(ctx, key, u.ID); err != nil {
			left.kept("could not abort multipart upload %s (upload ID %s, started %s) left by an earlier run: %v",
				s.url(key), u.ID, u.Initiated.UTC().Format(time.RFC3339), err)
			continue
		}
		left.removed("aborted multipart upload %s (upload ID %s, started %s) left pending by an earlier run",
			s.url(key), u.ID, u.Initiated.UTC().Format(time.RFC3339))
	}
}

// objectOutput is one object being written.
type objectOutput struct {
	w       storage.Writer
	url     string
	n       int64
	left    *leftovers
	release func() // the upload slot, freed on Commit or Abort
	tag     string // the object's ETag, once committed
}

var _ io.Writer = (*objectOutput)(nil)

func (o *objectOutput) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.n += int64(n)
	return n, err
}

func (o *objectOutput) size() int64 { return o.n }

// Commit completes the object. When that fails and the upload it then
// aborts cannot be aborted either, the upload is noted as left behind.
func (o *objectOutput) Commit() error {
	defer o.release()
	err := o.w.Close()
	o.noteAbortFailure(err)
	if e, ok := o.w.(etagger); ok && err == nil {
		o.tag = e.ETag()
	}
	return err
}

// etagger is implemented by writers that learn the ETag of the object they
// made (storage.S3Bucket's).
type etagger interface{ ETag() string }

func (o *objectOutput) etag() string { return o.tag }

// Abort discards the upload. The file has failed for a reason its report
// gives; an upload that could not be aborted is noted as left behind.
func (o *objectOutput) Abort() {
	defer o.release()
	o.noteAbortFailure(o.w.Abort())
}

func (o *objectOutput) noteAbortFailure(err error) {
	if e, ok := storage.AbortFailure(err); ok {
		o.left.kept("multipart upload %s (upload ID %s) could not be aborted and stays pending, its parts stored, "+
			"until a run of this output aborts it or a lifecycle rule removes it: %v", o.url, e.Upload, e.Err)
	}
}
