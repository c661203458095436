// Package storage reads and writes whole objects — videos in, desensitized
// videos and reports out — on a local disk or on any service that speaks
// the S3 API (AWS S3, Tencent COS, MinIO, Ceph RGW, versitygw).
//
// The design follows go-cloud's blob/driver: a small Bucket interface whose
// contracts are written down, two backends (FileBucket, S3Bucket), and one
// conformance suite (package storagetest) that every backend must pass.
//
// # Keys
//
// Keys are '/'-separated relative paths of valid UTF-8, at most 1024
// bytes, with no empty, "." or ".." segments, no control characters and
// no segment starting with ".desens-". The rules are the intersection of
// what S3 and a file system can store, so a key that works on one backend
// works on the other, and a key can never climb out of a FileBucket's
// root. Invalid keys fail with ErrInvalidKey before any I/O.
//
// # Reading
//
// Open returns a Reader: an io.ReadSeekCloser and io.ReaderAt with the
// object's Attrs (size, ETag, content type, metadata), so a demuxer that
// wants random access can have it without a local copy.
//
// On S3, sequential Reads are served from ranged GETs fetched ahead by
// goroutines (chunks start at 1 MiB and double up to S3Config.ChunkSize).
// When a connection drops mid-body the read resumes from the first byte not
// yet received, not from the start, with If-Match on the ETag seen at Open:
// if the object was replaced meanwhile the read fails with
// ErrObjectChanged instead of splicing two versions. ReadAt issues exactly
// the requested range and resumes the same way. Programs that want a URL
// instead (FFmpeg) can ask an S3Bucket for one with PresignGet.
//
// # Writing
//
// Create returns a Writer. The object appears only when Close returns nil.
// Until then nothing is visible, not even in part; if the context is
// cancelled, Abort is called, or any write fails, no object is created and
// an existing one is untouched. Always call Close or Abort.
//
// FileBucket writes a temp file next to the target, fsyncs it and renames
// it into place. S3Bucket buffers one part (WriteOptions.PartSize, default
// 16 MiB) at a time: an object that fits in one part goes out as a single
// PutObject at Close; a larger one as a multipart upload with up to
// Concurrency parts in flight, each with Content-MD5, completed at Close
// and aborted on any failure, so no parts are left to be billed.
//
// # Memory
//
// Nothing buffers a whole object. A Writer holds at most
// (Concurrency+1)×PartSize bytes (80 MiB by default); a Reader at most
// (ReadAhead+1)×ChunkSize (24 MiB). Objects of any size stream through a
// few hundred MiB of RSS at most.
//
// # Listing
//
// List returns an iter.Seq2 over every object under a prefix, in byte
// order of keys, fetching pages (ListOptions.PageSize) only as the caller
// ranges. There is no delimiter: "directories" are only key prefixes.
//
// # Errors
//
// Every backend returns *Error, which names the operation, bucket and key
// in one line, wraps the cause with %w, and carries a kind sentinel —
// ErrNotExist, ErrBucketNotExist, ErrPermission, ErrInvalidKey,
// ErrInvalidArgument, ErrObjectChanged, ErrAborted — for errors.Is; refused
// credentials are ErrCredentials, which is also ErrPermission. A failed
// abort names the upload it left pending (Error.Upload, AbortFailure).
// Error.Retryable (and IsRetryable) says whether repeating the operation
// later may help: network failures and 5xx are retryable, the kinds above
// are not. Classification uses error types and codes, never message text.
// Backends retry transient failures themselves first (S3Config.MaxRetries).
//
// # URLs
//
// ParseURL understands s3://bucket/key, cos://bucket-appid/key,
// file:///abs/path and plain paths. A Mux maps schemes to Openers; the
// program builds one explicitly (NewMux, or Register by hand) so what it
// can open is visible in its main package, with no global registry.
// Endpoints, regions and credentials come from S3Config (or the AWS
// environment: AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL_S3, ...), never from the URL.
//
// # Providers
//
// What differs between S3-compatible services — endpoint template,
// addressing style, default region, bucket naming — is one table of data
// (see LookupProvider). Tencent COS, for example, is endpoint
// https://cos.<region>.myqcloud.com, virtual-host style, region required,
// bucket names ending in the account's APPID. Every provider gets
// Content-MD5 rather than the AWS SDK's default streaming CRC trailers,
// which several S3-compatible servers reject.
package storage
