package storage

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// FileBucket stores objects as plain files under a root directory, so other
// programs (FFmpeg, a shell) can use them directly. Content type, metadata
// and the MD5 ETag live in a hidden sidecar file next to each object.
//
// Symbolic links under the root are followed: a link is the user's choice,
// and keys themselves can never climb out of the root (see checkKey).
type FileBucket struct {
	root string // absolute, cleaned
	url  string // "file:///root" for error messages
}

var (
	_ Bucket      = (*FileBucket)(nil)
	_ LocalPather = (*FileBucket)(nil)
)

const (
	tmpPrefix   = reservedPrefix + "tmp-"
	attrsPrefix = reservedPrefix + "attrs-"
)

// OpenFile returns a bucket rooted at the existing directory root.
func OpenFile(root string) (*FileBucket, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, &Error{Op: "open bucket", Bucket: "file://" + root, Err: err}
	}
	b := &FileBucket{root: abs, url: "file://" + filepath.ToSlash(abs)}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, b.error("open bucket", "", err)
	}
	if !fi.IsDir() {
		return nil, &Error{Op: "open bucket", Bucket: b.url, Kind: ErrBucketNotExist, Err: errors.New("not a directory")}
	}
	return b, nil
}

// Root is the directory the bucket stores its objects in.
func (b *FileBucket) Root() string { return b.root }

// LocalPath returns the file that holds key.
func (b *FileBucket) LocalPath(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", b.invalid("path", key, err)
	}
	return b.path(key), nil
}

func (b *FileBucket) path(key string) string {
	return filepath.Join(b.root, filepath.FromSlash(key))
}

// sidecarPath names the attributes file of the object at p. The data file's
// name is hashed so a 255-byte name still leaves room for the prefix.
func sidecarPath(p string) string {
	sum := sha256.Sum256([]byte(filepath.Base(p)))
	return filepath.Join(filepath.Dir(p), attrsPrefix+hex.EncodeToString(sum[:16]))
}

// fileAttrs is the sidecar's content. Size and ModTime tie it to one
// version of the data file: if another program rewrites the file, the
// sidecar no longer matches and is ignored rather than lying.
type fileAttrs struct {
	ContentType string            `json:"content_type"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	MD5         string            `json:"md5"`
	Size        int64             `json:"size"`
	ModTimeNs   int64             `json:"mtime_ns"`
}

func (b *FileBucket) attrs(key, p string, fi fs.FileInfo) Attrs {
	a := Attrs{Size: fi.Size(), ModTime: fi.ModTime()}
	var fa fileAttrs
	if data, err := os.ReadFile(sidecarPath(p)); err == nil &&
		json.Unmarshal(data, &fa) == nil &&
		fa.Size == fi.Size() && fa.ModTimeNs == fi.ModTime().UnixNano() {
		a.ContentType = fa.ContentType
		a.Metadata = fa.Metadata
		a.ETag = `"` + fa.MD5 + `"`
		return a
	}
	// Written by someone else: derive what we can, as HTTP file servers do.
	a.ContentType = contentTypeFor(key, "")
	a.ETag = fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size())
	return a
}

// Open implements Bucket.
func (b *FileBucket) Open(ctx context.Context, key string) (Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, b.invalid("open", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, b.error("open", key, err)
	}
	p := b.path(key)
	f, err := os.Open(p)
	if err != nil {
		return nil, b.error("open", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist // a "directory" is not an object
	}
	if err != nil {
		f.Close()
		return nil, b.error("open", key, err)
	}
	return &fileReader{ctx: ctx, b: b, key: key, f: f, attrs: b.attrs(key, p, fi)}, nil
}

// Stat implements Bucket.
func (b *FileBucket) Stat(ctx context.Context, key string) (Attrs, error) {
	if err := checkKey(key); err != nil {
		return Attrs{}, b.invalid("stat", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Attrs{}, b.error("stat", key, err)
	}
	p := b.path(key)
	fi, err := os.Stat(p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Attrs{}, b.error("stat", key, err)
	}
	return b.attrs(key, p, fi), nil
}

// Delete implements Bucket.
func (b *FileBucket) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return b.invalid("delete", key, err)
	}
	if err := ctx.Err(); err != nil {
		return b.error("delete", key, err)
	}
	p := b.path(key)
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return nil // no object by that name
	}
	if err := os.Remove(p); err != nil && !isNotExist(err) {
		return b.error("delete", key, err)
	}
	if err := os.Remove(sidecarPath(p)); err != nil && !isNotExist(err) {
		return b.error("delete", key, err)
	}
	return nil
}

// Close implements Bucket; a FileBucket holds nothing open.
func (b *FileBucket) Close() error { return nil }

// List implements Bucket. Directories are read one at a time and their
// entries sorted as S3 sorts keys (a directory "a" sorts as "a/"), so the
// order matches S3's and memory is bounded by the largest directory rather
// than by the whole tree.
func (b *FileBucket) List(ctx context.Context, prefix string, _ *ListOptions) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if err := checkPrefix(prefix); err != nil {
			yield(ObjectInfo{}, b.invalid("list", prefix, err))
			return
		}
		if _, err := os.Stat(b.root); err != nil {
			yield(ObjectInfo{}, b.error("list", prefix, err))
			return
		}
		dir, name := splitLast(prefix)
		b.walk(ctx, dir, name, yield)
	}
}

// walk lists the directory for dirKey, keeping entries whose name starts
// with namePrefix. It returns false when the caller stopped or it failed.
func (b *FileBucket) walk(ctx context.Context, dirKey, namePrefix string, yield func(ObjectInfo, error) bool) bool {
	entries, err := os.ReadDir(b.path(dirKey))
	if err != nil {
		if isNotExist(err) {
			return true // nothing under this prefix
		}
		return yield(ObjectInfo{}, b.error("list", dirKey, err))
	}
	type entry struct {
		name string
		sort string
		dir  bool
	}
	var list []entry
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, namePrefix) || strings.HasPrefix(n, reservedPrefix) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// Follow links to files; skip links to directories, which
			// could form cycles.
			fi, err := os.Stat(filepath.Join(b.path(dirKey), n))
			if err != nil || fi.IsDir() {
				continue
			}
		}
		s := n
		if isDir {
			s += "/"
		}
		list = append(list, entry{n, s, isDir})
	}
	slices.SortFunc(list, func(x, y entry) int { return cmp.Compare(x.sort, y.sort) })
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			yield(ObjectInfo{}, b.error("list", dirKey, err))
			return false
		}
		key := e.name
		if dirKey != "" {
			key = dirKey + "/" + e.name
		}
		if e.dir {
			if !b.walk(ctx, key, "", yield) {
				return false
			}
			continue
		}
		p := b.path(key)
		fi, err := os.Stat(p)
		if err != nil {
			if isNotExist(err) {
				continue // deleted since ReadDir
			}
			return yield(ObjectInfo{}, b.error("list", key, err))
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		a := b.attrs(key, p, fi)
		if !yield(ObjectInfo{Key: key, Size: a.Size, ModTime: a.ModTime, ETag: a.ETag}, nil) {
			return false
		}
	}
	return true
}

// Create implements Bucket. Data goes to a temp file in the target's
// directory (rename is atomic only within one file system), which is
// fsynced and renamed over the target on Close.
func (b *FileBucket) Create(ctx context.Context, key string, opts *WriteOptions) (Writer, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	if err := checkKey(key); err != nil {
		return nil, b.invalid("create", key, err)
	}
	md, err := checkMetadata(opts.Metadata)
	if err != nil {
		return nil, &Error{Op: "create", Bucket: b.url, Key: key, Kind: ErrInvalidArgument, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, b.error("create", key, err)
	}
	if _, err := os.Stat(b.root); err != nil {
		return nil, b.error("create", key, err)
	}
	p := b.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, b.error("create", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), tmpPrefix+"*")
	if err != nil {
		return nil, b.error("create", key, err)
	}
	return &fileWriter{
		ctx: ctx, b: b, key: key, path: p, f: f, md5: md5.New(),
		attrs: fileAttrs{ContentType: contentTypeFor(key, opts.ContentType), Metadata: md},
	}, nil
}

// error wraps a cause from the OS or ctx as an *Error with its kind.
func (b *FileBucket) error(op, key string, err error) error {
	e := &Error{Op: op, Bucket: b.url, Key: key, Err: err}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// The path repeats the bucket and key; keep only the reason.
		e.Err = pe.Err
	}
	switch {
	case isNotExist(err):
		e.Kind = ErrNotExist
		if _, serr := os.Stat(b.root); serr != nil {
			e.Kind = ErrBucketNotExist
		}
	case errors.Is(err, fs.ErrPermission):
		e.Kind = ErrPermission
	case errors.Is(err, syscall.EINTR), errors.Is(err, syscall.EAGAIN):
		e.Retryable = true
	}
	return e
}

func (b *FileBucket) invalid(op, key string, err error) error {
	return &Error{Op: op, Bucket: b.url, Key: key, Kind: ErrInvalidKey, Err: err}
}

// isNotExist also counts ENOTDIR: "a/b" when "a" is a file is simply
// missing, as it would be on S3.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

type fileReader struct {
	ctx   context.Context
	b     *FileBucket
	key   string
	f     *os.File
	attrs Attrs
}

func (r *fileReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, r.b.error("read", r.key, err)
	}
	n, err := r.f.Read(p)
	return n, r.wrap(err)
}

func (r *fileReader) ReadAt(p []byte, off int64) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, r.b.error("read", r.key, err)
	}
	n, err := r.f.ReadAt(p, off)
	return n, r.wrap(err)
}

func (r *fileReader) Seek(offset int64, whence int) (int64, error) {
	n, err := r.f.Seek(offset, whence)
	return n, r.wrap(err)
}

func (r *fileReader) wrap(err error) error {
	if err == nil || err == io.EOF {
		return err // io.EOF must stay bare: callers compare with ==
	}
	return r.b.error("read", r.key, err)
}

func (r *fileReader) Close() error { return r.f.Close() }
func (r *fileReader) Size() int64  { return r.attrs.Size }
func (r *fileReader) Attrs() Attrs { return r.attrs }

type fileWriter struct {
	ctx   context.Context
	b     *FileBucket
	key   string
	path  string
	f     *os.File // nil once closed or aborted
	md5   hash.Hash
	attrs fileAttrs
	size  int64
	err   error // first failure; sticky
	state writerState
}

type writerState int

const (
	writing writerState = iota
	closed
	aborted
)

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.state != writing {
		return 0, w.stateErr("write")
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = w.b.error("write", w.key, err)
		return 0, w.err
	}
	n, err := w.f.Write(p)
	w.md5.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		w.err = w.b.error("write", w.key, err)
	}
	return n, w.err
}

func (w *fileWriter) stateErr(op string) error {
	if w.state == aborted {
		return &Error{Op: op, Bucket: w.b.url, Key: w.key, Kind: ErrAborted}
	}
	return &Error{Op: op, Bucket: w.b.url, Key: w.key, Err: errors.New("writer already closed")}
}

// Close publishes the object. Order matters for crash safety: data and
// sidecar are durable before either is renamed, the sidecar is renamed
// first (it is ignored until the data it describes appears), and the
// directory is synced so the renames themselves survive a crash.
func (w *fileWriter) Close() error {
	if w.state != writing {
		return w.stateErr("close")
	}
	if w.err == nil {
		if err := w.ctx.Err(); err != nil {
			w.err = w.b.error("close", w.key, err)
		}
	}
	if w.err != nil {
		w.discard()
		w.state = closed
		return w.err
	}
	w.state = closed
	err := w.publish()
	if err != nil {
		w.discard()
		return w.b.error("close", w.key, err)
	}
	return nil
}

func (w *fileWriter) publish() error {
	f := w.f
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	w.attrs.MD5 = hex.EncodeToString(w.md5.Sum(nil))
	w.attrs.Size = fi.Size()
	w.attrs.ModTimeNs = fi.ModTime().UnixNano()
	data, err := json.Marshal(w.attrs)
	if err != nil {
		return err
	}
	dir := filepath.Dir(w.path)
	sc, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	_, err = sc.Write(data)
	if err == nil {
		err = sc.Sync()
	}
	if cerr := sc.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(sc.Name(), sidecarPath(w.path))
	}
	if err != nil {
		os.Remove(sc.Name())
		return err
	}
	if err := os.Rename(f.Name(), w.path); err != nil {
		return err
	}
	w.f = nil
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err // EINVAL: the file system cannot sync directories
	}
	return nil
}

// discard removes the temp file; the target is untouched.
func (w *fileWriter) discard() {
	if w.f != nil {
		w.f.Close()
		os.Remove(w.f.Name())
		w.f = nil
	}
}

func (w *fileWriter) Abort() error {
	if w.state != writing {
		return nil
	}
	w.state = aborted
	w.discard()
	return nil
}
