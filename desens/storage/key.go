package storage

import (
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"
	"unicode/utf8"
)

// reservedPrefix starts the names the file backend uses for its own temp
// and attribute files. Keys may not use it on any backend, so that a key
// that works on S3 also works on disk and List never shows the backend's
// bookkeeping.
const reservedPrefix = ".desens-"

// maxKeyLen is S3's limit, applied everywhere for portability.
const maxKeyLen = 1024

// checkKey returns why key is not a portable object key, or nil. Keys are
// '/'-separated relative paths: that maps one to one onto a file under a
// root directory and can never name anything outside it.
func checkKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("key longer than %d bytes", maxKeyLen)
	}
	if strings.HasSuffix(key, "/") {
		return errors.New("key ends in '/'")
	}
	return checkSegments(key)
}

// checkPrefix is checkKey for List prefixes: "" is allowed, and the last
// segment may be partial ("videos/2024-" matches "videos/2024-01.mp4").
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > maxKeyLen {
		return fmt.Errorf("prefix longer than %d bytes", maxKeyLen)
	}
	dir, last := splitLast(prefix)
	if err := checkChars(last); err != nil {
		return err
	}
	if dir == "" {
		if strings.HasPrefix(prefix, "/") {
			return errors.New("prefix starts with '/'")
		}
		return nil
	}
	return checkSegments(dir)
}

func checkSegments(key string) error {
	if strings.HasPrefix(key, "/") {
		return errors.New("key starts with '/'")
	}
	if err := checkChars(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return errors.New("empty path segment ('//')")
		case seg == "." || seg == "..":
			return fmt.Errorf("path segment %q", seg)
		case strings.HasPrefix(seg, reservedPrefix):
			return fmt.Errorf("path segment starts with reserved %q", reservedPrefix)
		}
	}
	return nil
}

func checkChars(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("key is not valid UTF-8")
	}
	for _, r := range s {
		// Control characters cannot appear in S3 list XML and confuse
		// terminals and shells when printed.
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("control character %U in key", r)
		}
	}
	return nil
}

// splitLast splits "a/b/c" into "a/b" and "c", and "c" into "" and "c".
func splitLast(p string) (dir, last string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// checkMetadata lower-cases metadata keys and rejects what S3 cannot carry
// in HTTP headers unchanged, so the round trip is exact on every backend.
func checkMetadata(md map[string]string) (map[string]string, error) {
	if len(md) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(md))
	for k, v := range md {
		if k == "" {
			return nil, errors.New("empty metadata key")
		}
		for i := 0; i < len(k); i++ {
			if !isTokenChar(k[i]) {
				return nil, fmt.Errorf("metadata key %q: byte %q not allowed in an HTTP header name", k, k[i])
			}
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				return nil, fmt.Errorf("metadata %q: value must be printable US-ASCII", k)
			}
		}
		if strings.TrimSpace(v) != v {
			return nil, fmt.Errorf("metadata %q: value has leading or trailing space, which HTTP drops", k)
		}
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			return nil, fmt.Errorf("metadata key %q given twice (keys are not case sensitive)", lk)
		}
		out[lk] = v
	}
	return out, nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// contentTypeFor picks the stored content type: the caller's, else a guess
// from the extension (so a browser or FFmpeg fetching a presigned URL gets
// video/mp4), else the HTTP default.
func contentTypeFor(key, given string) string {
	if given != "" {
		return given
	}
	ext := strings.ToLower(path.Ext(key))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// mediaTypes covers what desens reads and writes, because the system MIME
// tables that mime.TypeByExtension consults differ between machines.
var mediaTypes = map[string]string{
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".mov":  "video/quicktime",
	".mkv":  "video/x-matroska",
	".webm": "video/webm",
	".avi":  "video/x-msvideo",
	".ts":   "video/mp2t",
	".h264": "video/h264",
	".h265": "video/h265",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".json": "application/json",
}
