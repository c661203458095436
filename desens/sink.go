package desens

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Sink receives finished outputs. An output becomes visible only when
// committed; an aborted one leaves nothing behind.
type Sink interface {
	Create(ctx context.Context, name string) (Output, error)
}

// Output is one output being written. Encoders write to Path (a local file
// that nobody else reads) and the sink publishes it on Commit.
type Output interface {
	Path() string
	Commit() error
	Abort()
}

// FileSink writes outputs under a local path: each output is a temporary
// file in its final directory, renamed into place on Commit, so readers
// never see a partial file.
type FileSink struct {
	Overwrite bool
}

// Create prepares a temporary file beside name.
func (s FileSink) Create(_ context.Context, name string) (Output, error) {
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
	done       bool
}

func (o *fileOutput) Path() string { return o.tmp }

func (o *fileOutput) Commit() error {
	if o.done {
		return errors.New("output already closed")
	}
	o.done = true
	f, err := os.Open(o.tmp)
	if err != nil {
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
	if err := os.Remove(o.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		_ = err // nothing more to do: the temp name is never mistaken for an output
	}
}
