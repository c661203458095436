package desens

import (
	"context"
	"errors"
	"fmt"
	"io"

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
	known bool // attrs are set
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
}

func (s bucketSink) url(key string) string {
	return storage.Location{Scheme: s.loc.Scheme, Bucket: s.loc.Bucket, Key: key}.String()
}

// Create checks that the object does not exist yet (unless overwriting)
// and starts writing it with info as its content type and metadata.
func (s bucketSink) Create(ctx context.Context, key string, info outputMeta) (output, error) {
	if !s.overwrite {
		_, err := s.b.Stat(ctx, key)
		if err == nil {
			return nil, fmt.Errorf("%w: %s (use --overwrite)", ErrExists, s.url(key))
		}
		if !errors.Is(err, storage.ErrNotExist) {
			return nil, err
		}
	}
	w, err := s.b.Create(ctx, key, &storage.WriteOptions{ContentType: info.ContentType, Metadata: info.Metadata})
	if err != nil {
		return nil, err
	}
	return &objectOutput{w: w}, nil
}

// objectOutput is one object being written.
type objectOutput struct {
	w storage.Writer
	n int64
}

var _ io.Writer = (*objectOutput)(nil)

func (o *objectOutput) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.n += int64(n)
	return n, err
}

func (o *objectOutput) size() int64   { return o.n }
func (o *objectOutput) Commit() error { return o.w.Close() }

// Abort discards the upload. Its error is dropped: the storage package has
// already tried everything to leave no parts behind, and the file has
// failed for a reason the report gives.
func (o *objectOutput) Abort() { _ = o.w.Abort() }
