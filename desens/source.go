package desens

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/desens/desens/internal/archive"
)

// input is one file or object to desensitize, wherever it lives: a local
// file (localInput) or an object in a bucket (objectInput).
type input interface {
	// String names the input in reports and errors: a path or a URL.
	String() string
	// stat checks that the input exists and is a plain file or object.
	stat(ctx context.Context) (inputInfo, error)
	// head returns the input's first n bytes, or fewer if it is shorter.
	head(ctx context.Context, n int) ([]byte, error)
	// readAll returns the whole input (images), which is at most limit bytes.
	readAll(ctx context.Context, limit int64) ([]byte, error)
	// media returns a path or URL that FFmpeg can read, and a function to
	// call once FFmpeg is done with it. That function reports a failure to
	// read the input that FFmpeg may have taken for the end of the file.
	media(ctx context.Context) (string, func() error, error)
}

// inputInfo is what an input's stat learns.
type inputInfo struct {
	size int64
	url  string // the input as a URL, recorded in outputs' metadata
	etag string // the version read, if the store has versions
	// stamp is a local file's version: its size and modification time.
	stamp string
}

// localInput is a local file, read in place.
type localInput string

func (p localInput) String() string { return string(p) }

func (p localInput) stat(context.Context) (inputInfo, error) {
	st, err := os.Stat(string(p))
	if err != nil {
		return inputInfo{}, err
	}
	if !st.Mode().IsRegular() {
		return inputInfo{}, fmt.Errorf("%w: not a regular file", ErrUnsupported)
	}
	url := string(p)
	if abs, err := filepath.Abs(url); err == nil {
		url = "file://" + filepath.ToSlash(abs)
	}
	stamp := fmt.Sprintf("size=%d mtime=%d", st.Size(), st.ModTime().UnixNano())
	return inputInfo{size: st.Size(), url: url, stamp: stamp}, nil
}

func (p localInput) head(_ context.Context, n int) ([]byte, error) {
	f, err := os.Open(string(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readHead(f, n)
}

func (p localInput) readAll(_ context.Context, limit int64) ([]byte, error) {
	f, err := os.Open(string(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, limit)
}

func (p localInput) media(context.Context) (string, func() error, error) {
	return string(p), func() error { return nil }, nil
}

// readHead reads up to n bytes; a short input is not an error.
func readHead(r io.Reader, n int) ([]byte, error) {
	head := make([]byte, n)
	k, err := io.ReadFull(r, head)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return head[:k], err
}

// readLimited reads all of r, failing rather than reading past limit: the
// size seen by stat may be stale, and memory must stay bounded anyway.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooBig(int64(len(data)), limit)
	}
	return data, nil
}

func tooBig(size, limit int64) error {
	return fmt.Errorf("%w: image of %d bytes is over the %d byte limit", ErrUnsupported, size, limit)
}

// Kind is the sort of media a file holds.
type Kind string

const (
	KindImage Kind = "image"
	KindVideo Kind = "video"
)

var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true,
	".webp": true, ".tif": true, ".tiff": true, ".jp2": true, ".pgm": true, ".ppm": true}

var videoExts = map[string]bool{".mp4": true, ".mov": true, ".m4v": true, ".mkv": true,
	".avi": true, ".ts": true, ".mts": true, ".m2ts": true, ".webm": true, ".flv": true,
	".3gp": true, ".h264": true, ".264": true, ".h265": true, ".hevc": true, ".mpg": true, ".mpeg": true}

// KindOf says from a file name whether desens handles it, and as what.
func KindOf(name string) (Kind, error) {
	if _, ok := archive.FormatOf(name); ok {
		return KindArchive, nil // archive.go
	}
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case imageExts[ext]:
		return KindImage, nil
	case videoExts[ext]:
		return KindVideo, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnsupported, ext)
}

// sniffLen is how many first bytes sniff looks at.
const sniffLen = 32

// sniff checks a file's first bytes against its claimed kind, so that a
// text file named .jpg fails with a clear reason before any decoder runs.
func sniff(head []byte, kind Kind) error {
	n := len(head)
	if n == 0 {
		return fmt.Errorf("%w: empty file", ErrCorruptMedia)
	}
	head = head[:min(n, sniffLen)]
	if kind == KindImage && !imageMagic(head) {
		return fmt.Errorf("%w: not an image (starts with % x)", ErrCorruptMedia, head[:min(8, n)])
	}
	if kind == KindVideo && looksLikeText(head) {
		return fmt.Errorf("%w: not a video (text)", ErrCorruptMedia)
	}
	return nil
}

func imageMagic(h []byte) bool {
	for _, m := range [][]byte{
		{0xFF, 0xD8, 0xFF},           // JPEG
		{0x89, 'P', 'N', 'G'},        // PNG
		[]byte("BM"),                 // BMP
		[]byte("II*\x00"),            // TIFF little-endian
		[]byte("MM\x00*"),            // TIFF big-endian
		[]byte("\x00\x00\x00\x0cjP"), // JPEG 2000
		[]byte("P5"), []byte("P6"),   // PGM, PPM
	} {
		if bytes.HasPrefix(h, m) {
			return true
		}
	}
	return len(h) >= 12 && string(h[0:4]) == "RIFF" && string(h[8:12]) == "WEBP"
}

func looksLikeText(h []byte) bool {
	for _, c := range h {
		if c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f {
			return false
		}
	}
	return true
}

// namedInput reports an input under another name (Process's spooled
// stream, reported under the caller's name).
type namedInput struct {
	input
	name string
}

func (n namedInput) String() string { return n.name }
