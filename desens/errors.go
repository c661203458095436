package desens

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

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
	// ErrSourceOverwrite means an output would replace an input or lie
	// inside an input directory or prefix, by whatever name (a symbolic
	// link, a relative path, a file:// URL, a hard link): Run refuses.
	ErrSourceOverwrite = errors.New("sources are never overwritten")
)

// FileError says which file failed, at which stage, and why.
type FileError struct {
	Path  string
	Stage string // source, probe, decode, detect, redact, encode, sink
	Err   error
}

// Error names the file as PrintableName does, and escapes control
// characters in the cause too (an os error repeats the raw path), so the
// message stays one honest line.
func (e *FileError) Error() string {
	return PrintableName(e.Path) + ": " + e.Stage + ": " + PrintableText(fmt.Sprint(e.Err))
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

// printableErr returns err, with its message escaped by PrintableText
// when it needs to be: for errors that carry names from elsewhere.
func printableErr(err error) error {
	if err == nil || printable(err.Error()) {
		return err
	}
	return printableError{err}
}

type printableError struct{ err error }

func (e printableError) Error() string { return PrintableText(e.err.Error()) }
func (e printableError) Unwrap() error { return e.err }

// PrintableName returns a file name, path or URL fit for a line of text
// read by people: the name itself when it is valid UTF-8 of printable
// characters, else the name quoted in Go syntax (strconv.Quote). A name
// holding a newline or a terminal escape cannot then forge or hide lines
// of a log. Names that start with '"' are quoted too, so a plain name is
// never taken for a quoted one. Reports in JSON keep names exact.
func PrintableName(name string) string {
	if strings.HasPrefix(name, `"`) || !printable(name) {
		return strconv.Quote(name)
	}
	return name
}

// printable reports whether s is valid UTF-8 of printable characters
// (strconv.IsPrint; the space is the only one of its kind allowed).
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// PrintableText escapes, the way strconv.Quote does, every character of
// s that is not printable and every byte that is not UTF-8, leaving the
// rest as it is: for messages that may carry names from elsewhere (an os
// error repeats the raw path), so that they print as one line.
func PrintableText(s string) string {
	if printable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
