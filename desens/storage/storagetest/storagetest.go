// Package storagetest is the conformance suite for storage.Bucket
// backends. Every backend runs the same tests, so the contracts written in
// package storage are checked rather than trusted, and a new backend is
// done when Run passes against it.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/desens/desens/desens/storage"
)

// Run runs the suite. newBucket must return an empty bucket, private to
// the calling (sub)test, and arrange its cleanup with t.Cleanup.
func Run(t *testing.T, newBucket func(t *testing.T) storage.Bucket) {
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Bucket)
	}{
		{"round trip of small and part-sized objects", testRoundTrip},
		{"large object uploads in parts and reads back exactly", testLarge},
		{"overwrite replaces the whole object", testOverwrite},
		{"cancelled write leaves no object", testCancelledWrite},
		{"cancelled overwrite keeps the old object", testCancelledOverwrite},
		{"Abort leaves no object", testAbort},
		{"Close after a failed Write fails and publishes nothing", testWriteAfterFailure},
		{"odd keys round trip and list", testOddKeys},
		{"invalid keys are rejected", testInvalidKeys},
		{"List paginates in key order", testListPagination},
		{"List filters by prefix", testListPrefix},
		{"List stops when the caller stops", testListBreak},
		{"missing objects give ErrNotExist", testMissing},
		{"Seek, ReadAt and ranges", testRanges},
		{"ReadAt from many goroutines", testConcurrentReadAt},
		{"content type and metadata round trip", testMetadata},
		{"invalid metadata is rejected", testInvalidMetadata},
		{"Delete removes the object", testDelete},
		{"cancelling the Open context fails reads", testCancelledRead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newBucket(t))
		})
	}
}

const partSize = 5 << 20 // the S3 minimum, to exercise multipart cheaply

// payload returns n deterministic pseudo-random bytes: compressible data
// could hide an off-by-one that shifts a run of zeros.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// write stores data at key with Writes of chunk bytes (odd sizes find
// buffering bugs that whole-buffer writes hide).
func write(t *testing.T, b storage.Bucket, key string, data []byte, chunk int, opts *storage.WriteOptions) {
	t.Helper()
	w, err := b.Create(t.Context(), key, opts)
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	for off := 0; off < len(data); off += chunk {
		if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
			t.Fatalf("Write(%q) at %d: %v", key, off, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%q): %v", key, err)
	}
}

func read(t *testing.T, b storage.Bucket, key string) []byte {
	t.Helper()
	r, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return got
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: got %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
	}
}

func listAll(t *testing.T, b storage.Bucket, prefix string, opts *storage.ListOptions) []storage.ObjectInfo {
	t.Helper()
	var out []storage.ObjectInfo
	for o, err := range b.List(t.Context(), prefix, opts) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		out = append(out, o)
	}
	return out
}

func keys(infos []storage.ObjectInfo) []string {
	ks := make([]string, len(infos))
	for i, o := range infos {
		ks[i] = o.Key
	}
	return ks
}

func wantNotExist(t *testing.T, b storage.Bucket, key string) {
	t.Helper()
	_, err := b.Stat(t.Context(), key)
	if !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Stat(%q) after a failed write = %v, want ErrNotExist: a partial object is visible", key, err)
	}
	if ks := keys(listAll(t, b, "", nil)); slices.Contains(ks, key) {
		t.Fatalf("List shows %q after a failed write", key)
	}
}

func testRoundTrip(t *testing.T, b storage.Bucket) {
	for _, n := range []int{0, 1, 1000, partSize, partSize + 1} {
		key := fmt.Sprintf("clips/%d.mp4", n)
		data := payload(n, 1)
		before := time.Now().Add(-time.Minute)
		write(t, b, key, data, 64<<10+1, &storage.WriteOptions{PartSize: partSize})
		sameBytes(t, key, read(t, b, key), data)

		a, err := b.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if a.Size != int64(n) {
			t.Errorf("Stat(%q).Size = %d, want %d", key, a.Size, n)
		}
		if a.ContentType != "video/mp4" {
			t.Errorf("Stat(%q).ContentType = %q, want video/mp4 guessed from the extension", key, a.ContentType)
		}
		if a.ETag == "" {
			t.Errorf("Stat(%q).ETag is empty", key)
		}
		if a.ModTime.Before(before) || a.ModTime.After(time.Now().Add(time.Minute)) {
			t.Errorf("Stat(%q).ModTime = %v, want about now", key, a.ModTime)
		}
		r, err := b.Open(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if ra := r.Attrs(); ra.ETag != a.ETag || ra.Size != a.Size || r.Size() != a.Size {
			t.Errorf("Open(%q).Attrs = %+v, Stat = %+v: they disagree", key, ra, a)
		}
		r.Close()
	}
}

func testLarge(t *testing.T, b storage.Bucket) {
	const n = 12 << 20 // three parts of 5 MiB, the last one short
	data := payload(n, 2)
	write(t, b, "big/object.bin", data, 100_003, &storage.WriteOptions{PartSize: partSize, Concurrency: 2})

	r, err := b.Open(t.Context(), "big/object.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	// Small reads cross every chunk boundary the backend uses.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{r}, make([]byte, 77_777)); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Sum(nil), sha256.Sum256(data); !bytes.Equal(got, want[:]) {
		t.Fatalf("sha256 of read-back = %x, want %x", got, want)
	}
	infos := listAll(t, b, "big/", nil)
	if len(infos) != 1 || infos[0].Size != n {
		t.Fatalf("List(big/) = %+v, want one object of %d bytes", infos, n)
	}
}

func testOverwrite(t *testing.T, b storage.Bucket) {
	first, second := payload(3000, 3), payload(100, 4)
	write(t, b, "x", first, len(first), nil)
	a1, err := b.Stat(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	write(t, b, "x", second, len(second), nil)
	sameBytes(t, "after overwrite", read(t, b, "x"), second)
	a2, err := b.Stat(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if a1.ETag == a2.ETag {
		t.Errorf("ETag %s did not change when the content did", a1.ETag)
	}
}

// cancelledWrite cancels the write's context after n bytes and checks that
// Close fails.
func cancelledWrite(t *testing.T, b storage.Bucket, key string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	w, err := b.Create(ctx, key, &storage.WriteOptions{PartSize: partSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload(n, 5)); err != nil {
		t.Fatal(err)
	}
	cancel()
	w.Write([]byte("more")) // may or may not fail; Close must
	if err := w.Close(); err == nil {
		t.Fatalf("Close after cancel of a %d-byte write = nil, want an error", n)
	} else if !errors.Is(err, context.Canceled) {
		t.Errorf("Close after cancel = %v, want it to wrap context.Canceled", err)
	}
}

func testCancelledWrite(t *testing.T, b storage.Bucket) {
	for _, n := range []int{10, partSize + 10, 2*partSize + 10} {
		key := fmt.Sprintf("cancelled-%d", n)
		cancelledWrite(t, b, key, n)
		wantNotExist(t, b, key)
	}
}

func testCancelledOverwrite(t *testing.T, b storage.Bucket) {
	old := payload(1000, 6)
	write(t, b, "keep", old, len(old), nil)
	cancelledWrite(t, b, "keep", partSize+10)
	sameBytes(t, "old object after cancelled overwrite", read(t, b, "keep"), old)
}

func testAbort(t *testing.T, b storage.Bucket) {
	old := payload(1000, 7)
	write(t, b, "existing", old, len(old), nil)
	for _, tc := range []struct {
		key string
		n   int
	}{{"aborted-small", 10}, {"aborted-multipart", 2*partSize + 1}, {"existing", partSize + 1}} {
		w, err := b.Create(t.Context(), tc.key, &storage.WriteOptions{PartSize: partSize})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(payload(tc.n, 8)); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort(%q): %v", tc.key, err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("second Abort(%q) = %v, want nil", tc.key, err)
		}
		if err := w.Close(); !errors.Is(err, storage.ErrAborted) {
			t.Errorf("Close after Abort(%q) = %v, want ErrAborted", tc.key, err)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Errorf("Write after Abort(%q) succeeded", tc.key)
		}
	}
	wantNotExist(t, b, "aborted-small")
	wantNotExist(t, b, "aborted-multipart")
	sameBytes(t, "object after aborted overwrite", read(t, b, "existing"), old)
}

func testWriteAfterFailure(t *testing.T, b storage.Bucket) {
	w, err := b.Create(t.Context(), "closed", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("late")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if got := read(t, b, "closed"); len(got) != 0 {
		t.Errorf("object has %d bytes, want the 0 written before Close", len(got))
	}
}

func testOddKeys(t *testing.T, b storage.Bucket) {
	oddKeys := []string{
		"with space.mp4",
		"plus+sign",
		"percent%20not-an-escape",
		"100%",
		"question?mark&amp=1",
		"hash#fragment",
		"unicode/京A·12345/车牌.jpg",
		"emoji😀",
		"tilde~and'quote\"",
		"a/b/c/d/e/f/g/h/deep.bin",
		"trailing.dot.",
		"..leading-dots",
		"semi;colon,comma",
		"back\\slash",
	}
	for i, k := range oddKeys {
		data := payload(10+i, uint64(i))
		write(t, b, k, data, len(data), nil)
		sameBytes(t, k, read(t, b, k), data)
		if _, err := b.Stat(t.Context(), k); err != nil {
			t.Errorf("Stat(%q): %v", k, err)
		}
	}
	want := slices.Clone(oddKeys)
	slices.Sort(want)
	if got := keys(listAll(t, b, "", nil)); !slices.Equal(got, want) {
		t.Errorf("List = %q,\nwant %q", got, want)
	}
}

func testInvalidKeys(t *testing.T, b storage.Bucket) {
	for _, k := range []string{"", "/abs", "..", "a/../b", "a/./b", "../escape", "a//b", "dir/", "a\x00b", "tab\tkey", ".desens-tmp-x", "d/.desens-attrs-y", strings.Repeat("k", 1025)} {
		if _, err := b.Create(t.Context(), k, nil); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Create(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := b.Open(t.Context(), k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Open(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := b.Stat(t.Context(), k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", k, err)
		}
		if err := b.Delete(t.Context(), k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	for _, p := range []string{"/abs", "../x", "a/../"} {
		for _, err := range b.List(t.Context(), p, nil) {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("List(%q) yielded %v, want ErrInvalidKey", p, err)
			}
		}
	}
}

func testListPagination(t *testing.T, b storage.Bucket) {
	var want []string
	for i := range 25 {
		// "a-c" sorts before "a/b" (0x2d < 0x2f): a file backend walking
		// directories naively gets this wrong.
		k := fmt.Sprintf("p/%02d", i)
		switch i % 5 {
		case 1:
			k = fmt.Sprintf("p/%02d/sub", i)
		case 2:
			k = fmt.Sprintf("p/%02d-dash", i)
		}
		write(t, b, k, []byte(k), 100, nil)
		want = append(want, k)
	}
	write(t, b, "p-sibling", []byte("x"), 1, nil)
	write(t, b, "p/01-a", []byte("x"), 1, nil) // between "p/01" sorts and "p/01/sub"
	want = append(want, "p/01-a")
	slices.Sort(want)
	for _, pageSize := range []int{0, 1, 7, 10} {
		infos := listAll(t, b, "p/", &storage.ListOptions{PageSize: pageSize})
		if got := keys(infos); !slices.Equal(got, want) {
			t.Fatalf("List(p/, page size %d) =\n%q\nwant\n%q", pageSize, got, want)
		}
		for _, o := range infos {
			if o.Size != int64(len(o.Key)) && o.Key != "p/01-a" {
				t.Errorf("List: %q has size %d, want %d", o.Key, o.Size, len(o.Key))
			}
			if o.ETag == "" || o.ModTime.IsZero() {
				t.Errorf("List: %q has no ETag or ModTime: %+v", o.Key, o)
			}
		}
	}
}

func testListPrefix(t *testing.T, b storage.Bucket) {
	all := []string{"dir/a", "dir/sub/b", "dir-x", "dirt", "di", "other/dir/c"}
	for _, k := range all {
		write(t, b, k, []byte(k), 10, nil)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"di", "dir-x", "dir/a", "dir/sub/b", "dirt", "other/dir/c"}},
		{"dir/", []string{"dir/a", "dir/sub/b"}},
		{"dir", []string{"dir-x", "dir/a", "dir/sub/b", "dirt"}},
		{"dir/s", []string{"dir/sub/b"}},
		{"dir/sub/b", []string{"dir/sub/b"}},
		{"dir/sub/b/", nil},
		{"nothing", nil},
		{"nothing/here/", nil},
	} {
		if got := keys(listAll(t, b, tc.prefix, nil)); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func testListBreak(t *testing.T, b storage.Bucket) {
	for i := range 5 {
		write(t, b, fmt.Sprintf("k%d", i), []byte("x"), 1, nil)
	}
	n := 0
	for _, err := range b.List(t.Context(), "", &storage.ListOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("got %d objects before break, want 3", n)
	}
}

func testMissing(t *testing.T, b storage.Bucket) {
	for _, key := range []string{"missing", "no/such/dir/file.mp4"} {
		_, err := b.Stat(t.Context(), key)
		checkNotExist(t, "Stat", key, err)
		_, err = b.Open(t.Context(), key)
		checkNotExist(t, "Open", key, err)
		if err := b.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q) of a missing object = %v, want nil", key, err)
		}
	}
	// A "directory" that holds objects is not an object itself.
	write(t, b, "parent/child", []byte("x"), 1, nil)
	_, err := b.Stat(t.Context(), "parent")
	checkNotExist(t, "Stat", "parent", err)
	_, err = b.Open(t.Context(), "parent")
	checkNotExist(t, "Open", "parent", err)
}

func checkNotExist(t *testing.T, op, key string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("%s(%q) = %v, want ErrNotExist", op, key, err)
		return
	}
	if storage.IsRetryable(err) {
		t.Errorf("%s(%q) = %v: a missing object is not retryable", op, key, err)
	}
	if msg := err.Error(); !strings.Contains(msg, key) || strings.Contains(msg, "\n") {
		t.Errorf("%s(%q) error %q should name the key on one line", op, key, msg)
	}
}

func testRanges(t *testing.T, b storage.Bucket) {
	// Over 1 MiB, so an S3 reader crosses chunk boundaries, yet small
	// enough for iotest's byte-at-a-time reads.
	const n = 3<<19 + 123
	data := payload(n, 9)
	write(t, b, "ranges.bin", data, n, nil)
	r, err := b.Open(t.Context(), "ranges.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// iotest.TestReader checks Read and Seek against the content, with
	// reads of a few bytes, at and past the end. ReadAt is hidden here
	// because iotest calls it once per byte: a GET each on S3.
	if err := iotest.TestReader(struct{ io.ReadSeeker }{r}, data); err != nil {
		t.Fatalf("iotest.TestReader: %v", err)
	}
	small := payload(300, 13)
	write(t, b, "small.bin", small, len(small), nil)
	rs, err := b.Open(t.Context(), "small.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if err := iotest.TestReader(rs, small); err != nil {
		t.Fatalf("iotest.TestReader with ReadAt: %v", err)
	}
	for _, tc := range []struct {
		off    int64
		whence int
		size   int
	}{
		{n - 100, io.SeekStart, 100},
		{-10, io.SeekEnd, 10},
		{1 << 20, io.SeekStart, 1 << 19},
		{0, io.SeekStart, 10},
		{-5, io.SeekCurrent, 5},
		{1<<20 - 1, io.SeekStart, 300_000},
	} {
		pos, err := r.Seek(tc.off, tc.whence)
		if err != nil {
			t.Fatalf("Seek(%d, %d): %v", tc.off, tc.whence, err)
		}
		got := make([]byte, tc.size)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("ReadFull after Seek(%d, %d) to %d: %v", tc.off, tc.whence, pos, err)
		}
		sameBytes(t, fmt.Sprintf("after Seek to %d", pos), got, data[pos:pos+int64(tc.size)])
	}
	if _, err := r.Seek(n+10, io.SeekStart); err != nil {
		t.Fatalf("Seek past the end: %v", err)
	}
	if k, err := r.Read(make([]byte, 10)); k != 0 || err != io.EOF {
		t.Errorf("Read past the end = %d, %v; want 0, io.EOF", k, err)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to -1 succeeded")
	}
	// ReadAt over the end returns what there is and io.EOF.
	buf := make([]byte, 100)
	k, err := r.ReadAt(buf, n-40)
	if k != 40 || err != io.EOF {
		t.Errorf("ReadAt over the end = %d, %v; want 40, io.EOF", k, err)
	}
	sameBytes(t, "ReadAt tail", buf[:k], data[n-40:])
}

func testConcurrentReadAt(t *testing.T, b storage.Bucket) {
	const n = 2 << 20
	data := payload(n, 10)
	write(t, b, "shared.bin", data, n, nil)
	r, err := b.Open(t.Context(), "shared.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for range 5 {
				off := rng.Int64N(n - 1000)
				size := 1 + rng.IntN(min(n-int(off), 300_000))
				got := make([]byte, size)
				if _, err := r.ReadAt(got, off); err != nil && !(err == io.EOF && int(off)+size == n) {
					errs <- fmt.Errorf("ReadAt(%d, %d): %v", off, size, err)
					return
				}
				if !bytes.Equal(got, data[off:int(off)+size]) {
					errs <- fmt.Errorf("ReadAt(%d, %d): wrong bytes", off, size)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testMetadata(t *testing.T, b storage.Bucket) {
	md := map[string]string{"Camera": "front-left", "trip-id": "42", "x_y": "a=b; c"}
	want := map[string]string{"camera": "front-left", "trip-id": "42", "x_y": "a=b; c"}
	for _, n := range []int{10, partSize + 10} { // single PUT and multipart
		key := fmt.Sprintf("md/%d", n)
		write(t, b, key, payload(n, 11), n, &storage.WriteOptions{
			ContentType: "application/x-desens-test", Metadata: md, PartSize: partSize,
		})
		a, err := b.Stat(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if a.ContentType != "application/x-desens-test" {
			t.Errorf("Stat(%q).ContentType = %q", key, a.ContentType)
		}
		if !mapsEqual(a.Metadata, want) {
			t.Errorf("Stat(%q).Metadata = %v, want %v", key, a.Metadata, want)
		}
		r, err := b.Open(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if ra := r.Attrs(); ra.ContentType != a.ContentType || !mapsEqual(ra.Metadata, want) {
			t.Errorf("Open(%q).Attrs = %+v, want metadata %v", key, ra, want)
		}
		r.Close()
	}
	write(t, b, "md/none", []byte("x"), 1, nil)
	if a, err := b.Stat(t.Context(), "md/none"); err != nil || len(a.Metadata) != 0 {
		t.Errorf("Stat without metadata = %+v, %v; want no metadata", a, err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func testInvalidMetadata(t *testing.T, b storage.Bucket) {
	for _, md := range []map[string]string{
		{"k": "非ASCII"},
		{"bad key": "v"},
		{"": "v"},
		{"k": "line\nbreak"},
		{"k": " padded "},
		{"Dup": "1", "dup": "2"},
	} {
		if _, err := b.Create(t.Context(), "md-bad", &storage.WriteOptions{Metadata: md}); !errors.Is(err, storage.ErrInvalidArgument) {
			t.Errorf("Create with metadata %q = %v, want ErrInvalidArgument", md, err)
		}
	}
	wantNotExist(t, b, "md-bad")
}

func testDelete(t *testing.T, b storage.Bucket) {
	write(t, b, "del/a", []byte("a"), 1, &storage.WriteOptions{Metadata: map[string]string{"k": "v"}})
	write(t, b, "del/b", []byte("b"), 1, nil)
	if err := b.Delete(t.Context(), "del/a"); err != nil {
		t.Fatal(err)
	}
	_, err := b.Stat(t.Context(), "del/a")
	checkNotExist(t, "Stat", "del/a", err)
	if got := keys(listAll(t, b, "", nil)); !slices.Equal(got, []string{"del/b"}) {
		t.Errorf("List after Delete = %q", got)
	}
	// A new object under a deleted key must not inherit old metadata.
	write(t, b, "del/a", []byte("new"), 3, nil)
	if a, err := b.Stat(t.Context(), "del/a"); err != nil || len(a.Metadata) != 0 {
		t.Errorf("recreated object: %+v, %v; want no metadata", a, err)
	}
}

func testCancelledRead(t *testing.T, b storage.Bucket) {
	data := payload(3<<20, 12)
	write(t, b, "r.bin", data, len(data), nil)
	ctx, cancel := context.WithCancel(t.Context())
	r, err := b.Open(ctx, "r.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.ReadAll(r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("reading after cancel = %v, want context.Canceled", err)
	}
}
