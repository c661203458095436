package desens

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

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
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case imageExts[ext]:
		return KindImage, nil
	case videoExts[ext]:
		return KindVideo, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnsupported, ext)
}

// sniff checks a file's first bytes against its claimed kind, so that a
// text file named .jpg fails with a clear reason before any decoder runs.
func sniff(path string, kind Kind) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 32)
	n, err := io.ReadFull(f, head)
	if n == 0 {
		if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: empty file", ErrCorruptMedia)
		}
		return err
	}
	head = head[:n]
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
