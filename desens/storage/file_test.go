package storage_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/desens/storage/storagetest"
)

func newFileBucket(t *testing.T) *storage.FileBucket {
	b, err := storage.OpenFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Bucket { return newFileBucket(t) })
}

func TestFileLeavesNoTempFilesBehind(t *testing.T) {
	b := newFileBucket(t)
	ctx := t.Context()
	w, _ := b.Create(ctx, "a/aborted", nil)
	w.Write([]byte("data"))
	w.Abort()
	w, _ = b.Create(ctx, "a/written", nil)
	w.Write([]byte("data"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var names []string
	filepath.WalkDir(b.Root(), func(p string, d os.DirEntry, err error) error {
		if strings.Contains(d.Name(), "tmp") {
			names = append(names, p)
		}
		return nil
	})
	if len(names) > 0 {
		t.Errorf("temp files left: %q", names)
	}
}

func TestFileObjectsArePlainFiles(t *testing.T) {
	b := newFileBucket(t)
	w, _ := b.Create(t.Context(), "clip.mp4", nil)
	w.Write([]byte("frames"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := b.LocalPath("clip.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "frames" {
		t.Fatalf("os.ReadFile(%s) = %q, %v", p, got, err)
	}
	if _, err := b.LocalPath("../etc/passwd"); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("LocalPath(../etc/passwd) = %v, want ErrInvalidKey", err)
	}
}

// Files that other programs put under the root are objects too; their
// attributes are derived, and a sidecar made stale by an outside rewrite
// is ignored rather than believed.
func TestFileForeignFiles(t *testing.T) {
	b := newFileBucket(t)
	if err := os.WriteFile(filepath.Join(b.Root(), "foreign.mp4"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := b.Stat(t.Context(), "foreign.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != 3 || a.ContentType != "video/mp4" || a.ETag == "" {
		t.Errorf("Stat(foreign.mp4) = %+v", a)
	}

	w, _ := b.Create(t.Context(), "rewritten", &storage.WriteOptions{Metadata: map[string]string{"k": "v"}})
	w.Write([]byte("original"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Root(), "rewritten"), []byte("changed outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err = b.Stat(t.Context(), "rewritten")
	if err != nil {
		t.Fatal(err)
	}
	if a.Metadata != nil || a.Size != int64(len("changed outside")) {
		t.Errorf("Stat after outside rewrite = %+v, want fresh size and no stale metadata", a)
	}
}

func TestFileLeftoverTempFilesAreHidden(t *testing.T) {
	b := newFileBucket(t)
	// What a crash between CreateTemp and rename leaves behind.
	if err := os.WriteFile(filepath.Join(b.Root(), ".desens-tmp-123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	for o, err := range b.List(t.Context(), "", nil) {
		t.Errorf("List yielded %+v, %v; want nothing", o, err)
	}
}

func TestOpenFileMissingRoot(t *testing.T) {
	_, err := storage.OpenFile(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("OpenFile(missing) = %v, want ErrBucketNotExist", err)
	}
}

func TestFileReaderIsPlainReader(t *testing.T) {
	b := newFileBucket(t)
	w, _ := b.Create(t.Context(), "x", nil)
	w.Write([]byte("hello"))
	w.Close()
	r, err := b.Open(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// io.EOF must come back bare: callers compare with ==.
	buf := make([]byte, 10)
	n, _ := io.ReadFull(r, buf)
	if _, err := r.Read(buf); n != 5 || err != io.EOF {
		t.Errorf("n=%d, err=%v; want 5, io.EOF", n, err)
	}
}
