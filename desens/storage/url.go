package storage

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Location is a parsed storage URL: which bucket to open and the key (or
// key prefix) inside it.
type Location struct {
	// Scheme selects the Opener: "file", "s3", "cos".
	Scheme string
	// Bucket is the bucket name; for "file" it is the root directory, "/".
	Bucket string
	// Key is the object key or List prefix; may be empty ("the whole
	// bucket"). A trailing '/' is kept: it marks a prefix.
	Key string
}

// String formats the location back as a URL.
func (l Location) String() string {
	if l.Scheme == "file" {
		return (&url.URL{Scheme: "file", Path: strings.TrimSuffix(l.Bucket, "/") + "/" + l.Key}).String()
	}
	return l.Scheme + "://" + l.Bucket + "/" + l.Key
}

// ParseURL parses a storage URL:
//
//	s3://bucket/key/or/prefix
//	cos://bucket-1250000000/key
//	file:///absolute/path
//	relative/or/absolute/path   (no scheme: a local file)
//
// In s3:// and cos:// URLs everything after "bucket/" is the key,
// byte for byte, as in the AWS CLI and s5cmd: keys may contain '%', '+',
// '?', '#' and spaces, so nothing is unescaped and there is no query part.
// Endpoint, region and credentials therefore never travel in the URL; they
// come from the Opener's configuration. file:// URLs follow RFC 8089 and
// are percent-decoded.
func ParseURL(raw string) (Location, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !isScheme(scheme) {
		return parsePath(raw, raw)
	}
	scheme = strings.ToLower(scheme)
	if scheme == "file" {
		u, err := url.Parse(raw)
		if err != nil {
			return Location{}, fmt.Errorf("storage: parse %q: %w", raw, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("storage: parse %q: file URLs name no host (want file:///path)", raw)
		}
		if !strings.HasPrefix(u.Path, "/") {
			return Location{}, fmt.Errorf("storage: parse %q: file URL path must be absolute", raw)
		}
		return parsePath(raw, u.Path)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Location{}, fmt.Errorf("storage: parse %q: no bucket name", raw)
	}
	return Location{Scheme: scheme, Bucket: bucket, Key: key}, nil
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, '+', '-', '.'). Anything else before "://" belongs to a
// local path.
func isScheme(s string) bool {
	if s == "" || !('a' <= s[0]|32 && s[0]|32 <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c|32 && c|32 <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// parsePath maps a local path onto the file bucket rooted at "/", so one
// bucket serves every path and a directory is just a key prefix.
func parsePath(raw, p string) (Location, error) {
	if p == "" {
		return Location{}, fmt.Errorf("storage: parse %q: empty path", raw)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return Location{}, fmt.Errorf("storage: parse %q: %w", raw, err)
	}
	key := strings.TrimPrefix(filepath.ToSlash(abs), "/")
	if strings.HasSuffix(p, "/") && key != "" {
		key += "/"
	}
	return Location{Scheme: "file", Bucket: "/", Key: key}, nil
}

// Opener opens the bucket a Location names.
type Opener interface {
	OpenBucket(ctx context.Context, loc Location) (Bucket, error)
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(ctx context.Context, loc Location) (Bucket, error)

// OpenBucket implements Opener.
func (f OpenerFunc) OpenBucket(ctx context.Context, loc Location) (Bucket, error) { return f(ctx, loc) }

// Mux maps URL schemes to Openers. The program builds one explicitly at
// start-up (see NewMux); there is no global registry and no init-time
// registration, so what a binary can open is visible in its main package
// and tests can build their own. The zero Mux is empty and ready to use.
type Mux struct {
	mu      sync.RWMutex
	openers map[string]Opener
}

// Register makes scheme open with o, replacing any earlier opener.
func (m *Mux) Register(scheme string, o Opener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.openers == nil {
		m.openers = map[string]Opener{}
	}
	m.openers[strings.ToLower(scheme)] = o
}

// Schemes lists the registered schemes, sorted.
func (m *Mux) Schemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var s []string
	for k := range m.openers {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// Open parses rawURL and opens its bucket, returning the bucket and the key
// or prefix within it. The caller owns the Bucket and must Close it; open
// one per bucket and reuse it rather than one per object.
func (m *Mux) Open(ctx context.Context, rawURL string) (Bucket, string, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	b, err := m.OpenLocation(ctx, loc)
	return b, loc.Key, err
}

// OpenLocation opens the bucket of an already parsed Location.
func (m *Mux) OpenLocation(ctx context.Context, loc Location) (Bucket, error) {
	m.mu.RLock()
	o, ok := m.openers[loc.Scheme]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("storage: %s: unknown scheme %q (known: %s)", loc, loc.Scheme, strings.Join(m.Schemes(), ", "))
	}
	return o.OpenBucket(ctx, loc)
}

// FileOpener opens file locations with OpenFile.
type FileOpener struct{}

// OpenBucket implements Opener.
func (FileOpener) OpenBucket(_ context.Context, loc Location) (Bucket, error) {
	return OpenFile(loc.Bucket)
}

// S3Opener opens S3-compatible locations with NewS3, using Config for
// everything but the bucket name.
type S3Opener struct {
	Config S3Config
}

// OpenBucket implements Opener.
func (o *S3Opener) OpenBucket(ctx context.Context, loc Location) (Bucket, error) {
	cfg := o.Config
	cfg.Bucket = loc.Bucket
	return NewS3(ctx, cfg)
}

// NewMux returns a Mux for the schemes desens supports: plain paths and
// file://, s3:// with cfg, and cos:// with cfg on the "cos" provider (COS
// needs cfg.Region, or AWS_REGION, to find its endpoint).
func NewMux(cfg S3Config) *Mux {
	m := &Mux{}
	m.Register("file", FileOpener{})
	m.Register("s3", &S3Opener{Config: cfg})
	cos := cfg
	cos.Provider = "cos"
	m.Register("cos", &S3Opener{Config: cos})
	return m
}
