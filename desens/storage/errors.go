package storage

import (
	"errors"
	"fmt"
	"strings"
)

// Kinds of failure that callers act on. Backends never return them bare:
// they come wrapped in an *Error, so test with errors.Is.
var (
	// ErrNotExist: the object does not exist.
	ErrNotExist = errors.New("object does not exist")
	// ErrBucketNotExist: the bucket (or the file backend's root) does not
	// exist. It is not ErrNotExist because it is a configuration mistake,
	// not a missing input.
	ErrBucketNotExist = errors.New("bucket does not exist")
	// ErrPermission: the credentials are wrong or lack the right.
	ErrPermission = errors.New("permission denied")
	// ErrCredentials: the server refused the credentials themselves (an
	// unknown access key, a wrong secret, an expired token) rather than
	// found them short of a right. It matches ErrPermission too.
	ErrCredentials = fmt.Errorf("%w: the server refused the credentials", ErrPermission)
	// ErrInvalidKey: the key is empty, absolute, has "." or ".." or empty
	// segments, or is otherwise not portable across backends.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidArgument: an option (such as metadata) cannot be stored.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrObjectChanged: the object was replaced while a Reader was reading
	// it, so the bytes already returned and those to come would not match.
	ErrObjectChanged = errors.New("object changed while being read")
	// ErrAborted: Close was called on a Writer after Abort.
	ErrAborted = errors.New("write aborted")
)

// Error is the error type every backend returns. It names the operation,
// the bucket and the key, so a log line is enough to act on, and says
// whether trying again later may succeed.
type Error struct {
	Op     string // "open", "read", "create", "write", "close", "stat", "list", "delete", "presign", "abort"
	Bucket string // the bucket as a URL: "s3://name", "file:///root"
	Key    string // the key or prefix; may be empty
	// Upload is the ID of the multipart upload concerned, when there is
	// one: an "abort" that failed names the upload it left pending.
	Upload string
	// Kind is one of the Err* sentinels of this package, or nil.
	Kind error
	// Retryable reports that the failure looks transient (network, server
	// overload, 5xx) and the whole operation may succeed if repeated later.
	// Backends have already retried such failures themselves by then.
	Retryable bool
	Err       error // the underlying cause; may be nil when Kind says it all
}

// Error returns one line: "storage: open s3://b/k: object does not exist: cause",
// with " (upload ID …)" after the key when Upload is set.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("storage: ")
	b.WriteString(e.Op)
	b.WriteByte(' ')
	b.WriteString(e.Bucket)
	if e.Key != "" {
		if !strings.HasSuffix(e.Bucket, "/") {
			b.WriteByte('/')
		}
		b.WriteString(e.Key)
	}
	if e.Upload != "" {
		b.WriteString(" (upload ID ")
		b.WriteString(e.Upload)
		b.WriteByte(')')
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Err != nil {
		b.WriteString(": ")
		// Causes from HTTP servers may span lines; a log line must not.
		b.WriteString(strings.Join(strings.Fields(e.Err.Error()), " "))
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As see both the kind and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// IsRetryable reports whether err, or an *Error it wraps, is marked
// retryable. Unknown errors are treated as permanent: retrying a bug or a
// cancellation helps nobody.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// AbortFailure finds in err a failed abort of a multipart upload: the
// error of Writer.Abort, or the one Writer.Close wraps when it could not
// clean up after a failure. The upload it names (Error.Upload) is left
// pending: its parts stay stored, and billed, until something aborts it or
// a lifecycle rule for incomplete multipart uploads removes it.
func AbortFailure(err error) (*Error, bool) {
	if e, ok := err.(*Error); ok && e.Op == "abort" && e.Upload != "" {
		return e, true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return AbortFailure(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, err := range u.Unwrap() {
			if e, ok := AbortFailure(err); ok {
				return e, true
			}
		}
	}
	return nil, false
}
