package desens

import (
	"errors"
	"fmt"

	"github.com/desens/desens/internal/video"
)

var (
	// ErrCorruptMedia means a file could not be decoded: truncated, damaged,
	// or not the media its name says.
	ErrCorruptMedia = video.ErrCorrupt
	// ErrUnsupported means desens does not handle this kind of file.
	ErrUnsupported = errors.New("unsupported file type")
	// ErrDetection means a detector failed on a frame and the options asked
	// for the file to fail rather than for the frame to be masked whole.
	ErrDetection = errors.New("detection failed")
	// ErrExists means the output already exists and overwriting was not asked for.
	ErrExists = errors.New("output exists")
	// ErrOptions means an Options field is out of range or unknown.
	ErrOptions = errors.New("bad option")
)

// FileError says which file failed, at which stage, and why.
type FileError struct {
	Path  string
	Stage string // source, probe, decode, detect, redact, encode, sink
	Err   error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Path, e.Stage, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

func fileErr(path, stage string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	return &FileError{Path: path, Stage: stage, Err: err}
}
