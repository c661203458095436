package desens

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/internal/s3test"
)

// samplePhoto is a small JPEG from testdata/sample.
func samplePhoto(t testing.TB) []byte {
	t.Helper()
	return mustRead(t, filepath.Join("..", "testdata", "sample", "photo.jpg"))
}

// Temporary names stay within NAME_MAX whatever the output's name, and
// cleanTemps recognises them; a long name keeps a hash, so two long names
// that begin alike get different temporary names.
func TestTempNameFitsNameMax(t *testing.T) {
	long := strings.Repeat("a", 251) + ".jpg"
	for _, tc := range []struct {
		name string
		base string
		kept bool // tmpBase is the name itself
	}{
		{"short", "photo.jpg", true},
		{"longest kept whole", strings.Repeat("b", 226) + ".jpg", true},
		{"one byte too long", strings.Repeat("b", 227) + ".jpg", false},
		{"NAME_MAX", long, false},
		{"NAME_MAX, other end", long[:250] + "b.jpg", false},
		{"NAME_MAX of two-byte characters", strings.Repeat("é", 125) + ".jpeg", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := tmpBase(tc.base)
			if (tb == tc.base) != tc.kept {
				t.Errorf("tmpBase(%d bytes) = %q, kept whole %v, want %v", len(tc.base), tb, tb == tc.base, tc.kept)
			}
			tmp := tmpPrefix + "0123456789ab-" + tb + tmpSuffix
			if len(tmp) > nameMax || !utf8.ValidString(tmp) {
				t.Errorf("temporary name of %d bytes (valid UTF-8: %v)", len(tmp), utf8.ValidString(tmp))
			}
			if !isTempOf(tmp, tb) {
				t.Errorf("isTempOf does not recognise %q", tmp)
			}
			if tc.base != long && tb == tmpBase(long) {
				t.Errorf("%q and %q share the temporary name part %q", tc.base, long, tb)
			}
		})
	}
	for _, name := range []string{".desens-0123456789ab-photo.jpg.tmp.tmp", ".desens-0123456789zz-photo.jpg.tmp",
		".desens-0123456789ab-xphoto.jpg.tmp", "desens-0123456789ab-photo.jpg.tmp", ".desens-0123456789ab-photo.jpg"} {
		if isTempOf(name, "photo.jpg") {
			t.Errorf("%q taken for a temporary file of photo.jpg", name)
		}
	}
}

// A file whose name has NAME_MAX bytes is processed like any other: its
// temporary file's name fits too.
func TestLongFileName(t *testing.T) {
	d := newBareDesensitizer(t, nil, Options{})
	jpg := samplePhoto(t)
	for _, name := range []string{strings.Repeat("a", 251) + ".jpg", strings.Repeat("é", 125) + ".jpeg"} {
		t.Run(name[:8], func(t *testing.T) {
			if len(name) != nameMax {
				t.Fatalf("name of %d bytes", len(name))
			}
			in := writeFile(t, filepath.Join(t.TempDir(), name), jpg)
			outDir := t.TempDir()
			rep, err := d.Run(t.Context(), in, outDir+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if f := rep.Files[0]; !f.OK {
				t.Fatal(f.Error)
			}
			entries, _ := os.ReadDir(outDir)
			if len(entries) != 1 || entries[0].Name() != name {
				t.Errorf("output directory holds %v, want the output alone", entries)
			}
		})
	}
}

// TestStaleTempCleaned: a temporary file that a killed run left beside the
// output is removed before the output is written, and the report says so;
// one still locked by a live run, and those of other outputs, are kept.
func TestStaleTempCleaned(t *testing.T) {
	d := newBareDesensitizer(t, nil, Options{})
	in := writeFile(t, filepath.Join(t.TempDir(), "photo.jpg"), samplePhoto(t))
	dir := t.TempDir()
	stale := writeFile(t, filepath.Join(dir, ".desens-0123456789ab-photo.jpg.tmp"), []byte("half an image"))
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	other := writeFile(t, filepath.Join(dir, ".desens-0123456789ab-other.jpg.tmp"), nil)
	live := writeFile(t, filepath.Join(dir, ".desens-ba9876543210-photo.jpg.tmp"), nil)
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Skipf("no flock here: %v", err)
	}

	fr := d.ProcessFile(t.Context(), in, filepath.Join(dir, "photo.jpg"))
	if !fr.OK {
		t.Fatal(fr.Error)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file still there (%v)", err)
	}
	for _, p := range []string{other, live} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
	if len(fr.Cleaned) != 1 || !strings.Contains(fr.Cleaned[0], stale) || len(fr.LeftBehind) != 0 {
		t.Errorf("report: cleaned %q, left behind %q; want one line naming %s", fr.Cleaned, fr.LeftBehind, stale)
	}
	t.Logf("cleaned: %s", fr.Cleaned)
}

// An aborted output removes its temporary file and drops its lock, and a
// committed one leaves only the output.
func TestTempFileLockedWhileWritten(t *testing.T) {
	dir := t.TempDir()
	for _, commit := range []bool{true, false} {
		out, err := fileSink{}.Create(t.Context(), filepath.Join(dir, "x.jpg"), outputMeta{})
		if err != nil {
			t.Fatal(err)
		}
		tmp := out.(localOutput).Path()
		f, err := os.Open(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
			t.Errorf("temporary file being written is not locked: %v", err)
		}
		f.Close()
		out.Write([]byte("data"))
		if commit {
			if err := out.Commit(); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "x.jpg"))
		} else {
			out.Abort()
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("commit %v: %v left", commit, entries)
		}
	}
}

// createUpload starts a multipart upload of key with one part, the way a
// run killed mid-upload leaves it, and returns its ID.
func (e *s3env) createUpload(t *testing.T, key string) string {
	t.Helper()
	ctx := t.Context()
	up, err := e.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &e.out, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	part := bytes.Repeat([]byte("x"), 1<<10)
	_, err = e.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &e.out, Key: &key, UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part)))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(up.UploadId)
}

// pendingIDs lists the IDs of the output bucket's multipart uploads.
func (e *s3env) pendingIDs(t *testing.T) []string {
	t.Helper()
	out, err := e.client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &e.out})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range out.Uploads {
		ids = append(ids, aws.ToString(u.UploadId))
	}
	return ids
}

// TestBucketStaleUploadAborted: a multipart upload of the output's key
// that an earlier run left pending is aborted before the output is
// written, and the report says so; an upload of another key that shares
// the prefix is not touched.
func TestBucketStaleUploadAborted(t *testing.T) {
	e := newS3Env(t, false, nil)
	stale := e.createUpload(t, "out/photo.jpg")
	other := e.createUpload(t, "out/photo.jpg.old")
	time.Sleep(1100 * time.Millisecond) // upload times have whole seconds
	in := writeFile(t, filepath.Join(t.TempDir(), "photo.jpg"), samplePhoto(t))

	d := newBareDesensitizer(t, e, Options{})
	rep, err := d.Run(t.Context(), in, s3url(e.out, "out/photo.jpg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Files[0]
	if !f.OK {
		t.Fatal(f.Error)
	}
	if len(f.Cleaned) != 1 || !strings.Contains(f.Cleaned[0], stale) || !strings.Contains(f.Cleaned[0], s3url(e.out, "out/photo.jpg")) {
		t.Errorf("report cleaned %q; want one line naming upload %s of %s", f.Cleaned, stale, s3url(e.out, "out/photo.jpg"))
	}
	t.Logf("cleaned: %s", f.Cleaned)
	if ids := e.pendingIDs(t); !slices.Equal(ids, []string{other}) {
		t.Errorf("pending uploads %q, want only %s (another key's)", ids, other)
	}
	if got := e.keys(t, e.out); !slices.Equal(got, []string{"out/photo.jpg"}) {
		t.Errorf("output bucket holds %q", got)
	}
}

// TestBucketAbortFailureReported cuts every connection to the server while
// a video's output is a multipart upload: the file fails, the upload
// cannot be aborted, and the report names the upload left pending.
func TestBucketAbortFailureReported(t *testing.T) {
	e := newS3Env(t, true, func(c *storage.S3Config) {
		c.PartSize = storage.MinPartSize
		c.MaxRetries = 1
	})
	in := makeNoiseVideo(t, t.TempDir(), 10, false)
	d := newBareDesensitizer(t, e, Options{})
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := d.Run(t.Context(), in, s3url(e.out, "long.mp4"), nil)
		done <- result{rep, err}
	}()
	var ids []string
	deadline := time.Now().Add(2 * time.Minute)
	for ids = e.pendingIDs(t); len(ids) == 0; ids = e.pendingIDs(t) {
		select {
		case r := <-done:
			t.Fatalf("run ended before an upload was seen: %v %+v", r.err, r.rep.Summary)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no multipart upload started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.proxy.Inject(s3test.Fault{Dir: s3test.Upstream, After: 0, Times: -1})
	r := <-done
	e.proxy.Clear()
	if r.err != nil {
		t.Fatal(r.err)
	}
	f := r.rep.Files[0]
	if f.OK {
		t.Fatal("succeeded with every connection cut")
	}
	if len(f.LeftBehind) != 1 || !strings.Contains(f.LeftBehind[0], ids[0]) || !strings.Contains(f.LeftBehind[0], s3url(e.out, "long.mp4")) {
		t.Errorf("report left behind %q; want one line naming upload %s of %s", f.LeftBehind, ids[0], s3url(e.out, "long.mp4"))
	}
	t.Logf("error: %s\nleft behind: %s", f.Error, f.LeftBehind)
	if got := e.pendingIDs(t); !slices.Equal(got, ids) {
		t.Errorf("pending uploads %q, want %q", got, ids)
	}
}
