package desens

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// outSink receives finished outputs. An output becomes visible only when
// committed; an aborted one leaves nothing behind.
type outSink interface {
	// Create starts the output called name (a path, or a key in a bucket).
	Create(ctx context.Context, name string, info outputMeta) (output, error)
}

// outputMeta describes an output for sinks that store it with the bytes
// (object metadata).
type outputMeta struct {
	ContentType string
	// Metadata says where the output came from (MetaSource and friends).
	Metadata map[string]string
}

// Metadata keys stored with outputs in buckets, so anyone holding an
// output can find the exact source version it was made from.
const (
	MetaSource     = "desens-source"      // the source URL
	MetaSourceETag = "desens-source-etag" // the source's ETag, when it has one
	MetaVersion    = "desens-version"     // the desens release that made it
)

// output is one output being written, as a stream (Write). Outputs that
// are local files also implement localOutput; encoders that need to seek
// (faststart MP4) write to the file instead of streaming.
type output interface {
	io.Writer
	Commit() error
	Abort()
}

// localOutput is an output backed by a local file that nobody else reads
// until Commit. An encoder either writes to Path or calls Write, not both.
type localOutput interface {
	output
	Path() string
}

// fileSink writes outputs under a local path: each output is a temporary
// file in its final directory, renamed into place on Commit, so readers
// never see a partial file.
type fileSink struct {
	Overwrite bool
}

// Create prepares a temporary file beside name. The info is not stored: a
// file has nowhere to keep it.
func (s fileSink) Create(_ context.Context, name string, _ outputMeta) (output, error) {
	if !s.Overwrite {
		if _, err := os.Stat(name); err == nil {
			return nil, fmt.Errorf("%w: %s (use --overwrite)", ErrExists, name)
		}
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".desens-"+hex.EncodeToString(rnd[:])+"-"+filepath.Base(name)+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	f.Close()
	return &fileOutput{tmp: tmp, final: name}, nil
}

type fileOutput struct {
	tmp, final string
	f          *os.File // opened by the first Write
	done       bool
}

func (o *fileOutput) Path() string { return o.tmp }

func (o *fileOutput) Write(p []byte) (int, error) {
	if o.done {
		return 0, errors.New("output already closed")
	}
	if o.f == nil {
		f, err := os.OpenFile(o.tmp, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return 0, err
		}
		o.f = f
	}
	return o.f.Write(p)
}

// closeFile closes the file opened by Write, if any.
func (o *fileOutput) closeFile() error {
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}

func (o *fileOutput) Commit() error {
	if o.done {
		return errors.New("output already closed")
	}
	o.done = true
	if err := o.closeFile(); err != nil {
		os.Remove(o.tmp)
		return err
	}
	f, err := os.Open(o.tmp)
	if err != nil {
		os.Remove(o.tmp)
		return err
	}
	// fsync before rename so a crash cannot leave a renamed but empty file.
	serr := f.Sync()
	f.Close()
	if serr != nil {
		os.Remove(o.tmp)
		return serr
	}
	if err := os.Rename(o.tmp, o.final); err != nil {
		os.Remove(o.tmp)
		return err
	}
	return nil
}

func (o *fileOutput) Abort() {
	if o.done {
		return
	}
	o.done = true
	_ = o.closeFile()
	// A failed removal leaves only a ".desens-" temp name, which is never
	// mistaken for an output; there is nothing more to do about it.
	_ = os.Remove(o.tmp)
}
