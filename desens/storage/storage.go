package storage

import (
	"context"
	"io"
	"iter"
	"time"
)

// Bucket is the part of an object store that desens needs: whole objects
// addressed by '/'-separated keys. The contracts below hold for every
// backend; storagetest.Run checks them.
//
// A Bucket is safe for concurrent use by multiple goroutines.
type Bucket interface {
	// Open returns a Reader for the object at key. The ctx governs the whole
	// life of the Reader, not only the call: cancelling it fails later reads.
	// A missing object gives an error matching ErrNotExist.
	Open(ctx context.Context, key string) (Reader, error)

	// Create returns a Writer that replaces the object at key. The new
	// object may not be visible, not even partly, until Close returns nil;
	// if ctx is cancelled before that, if Abort is called, or if a Write
	// fails, no object is created and an existing one is left unchanged.
	// opts may be nil.
	Create(ctx context.Context, key string, opts *WriteOptions) (Writer, error)

	// Stat returns the attributes of the object at key without reading it.
	// A missing object gives an error matching ErrNotExist.
	Stat(ctx context.Context, key string) (Attrs, error)

	// List yields every object whose key starts with prefix, in ascending
	// byte order of keys, fetching pages lazily as the caller ranges over
	// the sequence. There is no delimiter: keys under "sub-directories" are
	// listed too. On failure it yields one non-nil error and stops. opts may
	// be nil.
	List(ctx context.Context, prefix string, opts *ListOptions) iter.Seq2[ObjectInfo, error]

	// Delete removes the object at key. Deleting a missing object is not an
	// error, as on S3.
	Delete(ctx context.Context, key string) error

	// Close releases resources held by the bucket (idle connections).
	Close() error
}

// Reader reads one object, in the version that existed when it was opened:
// if the object is replaced meanwhile, a Reader either goes on returning
// the old bytes (a FileBucket keeps the old file open) or fails with
// ErrObjectChanged (S3), but never mixes two versions.
//
// Read and Seek must not be called concurrently; ReadAt may be called from
// several goroutines at once, as io.ReaderAt requires, and does not move the
// offset used by Read. Seek with io.SeekEnd is relative to Attrs().Size.
type Reader interface {
	io.ReadSeekCloser
	io.ReaderAt
	// Size is the length of the object in bytes; the same as Attrs().Size.
	Size() int64
	// Attrs are the object's attributes as of Open.
	Attrs() Attrs
}

// Writer writes one object; see Bucket.Create for when it becomes visible.
// Write, Close and Abort must not be called concurrently.
type Writer interface {
	io.WriteCloser
	// Abort discards everything written so far and leaves no object. It is
	// a no-op after Close or a previous Abort. Calling Close after Abort
	// returns an error matching ErrAborted.
	Abort() error
}

// Attrs are the attributes of a stored object.
type Attrs struct {
	Size        int64
	ModTime     time.Time
	ContentType string
	// ETag identifies one version of the object's bytes, as the server
	// spells it (quoted). It is opaque: compare it only for equality.
	ETag string
	// Metadata is user metadata. Keys are lower case (HTTP headers are not
	// case sensitive, so S3 cannot keep case); nil when there is none.
	Metadata map[string]string
}

// ObjectInfo describes one object returned by List.
type ObjectInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
	ETag    string
}

// WriteOptions tune Create. The zero value is valid.
type WriteOptions struct {
	// ContentType is stored with the object; empty means the backend
	// guesses from the key's extension, falling back to
	// application/octet-stream.
	ContentType string
	// Metadata is user metadata stored with the object. Keys and values
	// must be printable US-ASCII (an S3 limit); keys are lower-cased.
	Metadata map[string]string
	// PartSize is the size of each part of a multipart upload, and so the
	// unit of buffering; 0 means the backend's default. Ignored by backends
	// that do not upload in parts.
	PartSize int64
	// Concurrency is how many parts may upload at once; 0 means the
	// backend's default. Memory held by a Writer is about
	// (Concurrency+1)×PartSize.
	Concurrency int
}

// ListOptions tune List. The zero value is valid.
type ListOptions struct {
	// PageSize is how many keys to ask the server for per request; 0 means
	// the backend's default (1000 on S3). Useful to bound the latency of the
	// first result, and in tests to exercise pagination.
	PageSize int
}

// LocalPather is implemented by buckets whose objects are plain local files
// that other programs (FFmpeg) may open directly.
type LocalPather interface {
	LocalPath(key string) (string, error)
}
