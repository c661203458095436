package storage_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/desens/storage/storagetest"
	"github.com/desens/desens/internal/s3test"
)

var bucketSeq atomic.Int64

// newBucketName returns a fresh bucket name: S3 names are lower case,
// 3 to 63 characters.
func newBucketName() string {
	return fmt.Sprintf("desens-test-%d", bucketSeq.Add(1))
}

// s3Config is the configuration for a bucket on srv, reached at endpoint.
func s3Config(srv *s3test.Server, endpoint, bucket string) storage.S3Config {
	return storage.S3Config{
		Bucket:          bucket,
		Provider:        "versitygw",
		Endpoint:        endpoint,
		Region:          srv.Region,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
	}
}

func openS3(t testing.TB, cfg storage.S3Config) *storage.S3Bucket {
	t.Helper()
	b, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// newS3Bucket creates a bucket on srv and opens it, through endpoint if
// given (a proxy), else directly.
func newS3Bucket(t testing.TB, srv *s3test.Server, endpoint string, edit func(*storage.S3Config)) *storage.S3Bucket {
	t.Helper()
	name := newBucketName()
	srv.CreateBucket(t, name)
	if endpoint == "" {
		endpoint = srv.URL
	}
	cfg := s3Config(srv, endpoint, name)
	if edit != nil {
		edit(&cfg)
	}
	return openS3(t, cfg)
}

func TestS3Conformance(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.Run(t, func(t *testing.T) storage.Bucket { return newS3Bucket(t, srv, "", nil) })
}

// Small chunks and parts make every code path run many times: chunk
// doubling, read-ahead, buffer reuse, concurrent parts.
func TestS3ConformanceSmallChunks(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.Run(t, func(t *testing.T) storage.Bucket {
		return newS3Bucket(t, srv, "", func(c *storage.S3Config) {
			c.ChunkSize = 64 << 10
			c.ReadAhead = 3
			c.Concurrency = 3
		})
	})
}

// putRandom stores n random bytes at key, in parts of partSize (0: the
// default), and returns their sha256.
func putRandom(t testing.TB, b storage.Bucket, key string, n, partSize int64) [32]byte {
	t.Helper()
	w, err := b.Create(context.Background(), key, &storage.WriteOptions{PartSize: partSize})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	src := io.LimitReader(rand.NewChaCha8([32]byte{byte(n)}), n)
	if _, err := io.Copy(io.MultiWriter(w, h), src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func sha256Of(t testing.TB, r io.Reader) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("reading: %v", err)
	}
	return [32]byte(h.Sum(nil))
}

// rangeLog records the Range header of every GET.
type rangeLog struct {
	mu     sync.Mutex
	starts []int64
}

func (l *rangeLog) RoundTrip(req *http.Request) (*http.Response, error) {
	if rg := req.Header.Get("Range"); rg != "" {
		var start int64
		fmt.Sscanf(rg, "bytes=%d-", &start)
		l.mu.Lock()
		l.starts = append(l.starts, start)
		l.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (l *rangeLog) reset() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.starts
	l.starts = nil
	return s
}

// (a) A GET cut mid-body resumes from the last byte received, with
// If-Match, instead of failing or starting the chunk again.
func TestS3ReadResumesAfterCut(t *testing.T) {
	srv := s3test.Start(t)
	proxy := s3test.NewProxy(t, srv.Addr)
	log := &rangeLog{}
	// The SDK refuses a plain *http.Client when asked to add a CA bundle.
	t.Setenv("AWS_CA_BUNDLE", "")
	b := newS3Bucket(t, srv, proxy.URL, func(c *storage.S3Config) {
		c.HTTPClient = &http.Client{Transport: log}
	})
	const size = 24 << 20
	want := putRandom(t, b, "drive/cam0.mp4", size, 5<<20)

	for _, tc := range []struct {
		name string
		read func(storage.Reader) io.Reader
	}{
		{"sequential Read", func(r storage.Reader) io.Reader { return r }},
		{"ReadAt", func(r storage.Reader) io.Reader {
			// 4 MiB reads, as a demuxer pulling samples might do.
			return bufio.NewReaderSize(io.NewSectionReader(struct{ io.ReaderAt }{r}, 0, r.Size()), 4<<20)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := b.Open(t.Context(), "drive/cam0.mp4")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			// Open's own GET for the first chunk is not a read under test:
			// ReadAt never uses it.
			log.reset()
			// Cut five connections, each after 1.5 MiB of response: inside
			// chunk bodies, since chunks are 1 MiB and up.
			cuts := proxy.Cuts()
			proxy.Inject(s3test.Fault{Dir: s3test.Downstream, After: 3 << 19, Times: 5})
			got := sha256Of(t, tc.read(r))
			proxy.Clear()
			if got != want {
				t.Fatalf("sha256 = %x, want %x", got, want)
			}
			if proxy.Cuts() == cuts {
				t.Fatal("the proxy cut nothing: the test did not test resumption")
			}
			// Resuming asks for the bytes after the last one received, so
			// no two GETs start at the same offset; restarting a chunk
			// would repeat its start.
			starts := log.reset()
			seen := map[int64]bool{}
			for _, s := range starts {
				if seen[s] {
					t.Errorf("two GETs started at byte %d: a read restarted instead of resuming (starts %v)", s, starts)
				}
				seen[s] = true
			}
			t.Logf("%d cuts, %d GETs starting at %v", proxy.Cuts()-cuts, len(starts), starts)
		})
	}
}

// A connection that goes silent mid-body (no FIN, no RST) is abandoned
// after StallTimeout and the read resumes on a new one.
func TestS3ReadResumesAfterStall(t *testing.T) {
	srv := s3test.Start(t)
	proxy := s3test.NewProxy(t, srv.Addr)
	b := newS3Bucket(t, srv, proxy.URL, func(c *storage.S3Config) { c.StallTimeout = 300 * time.Millisecond })
	const size = 6 << 20
	want := putRandom(t, b, "stall.bin", size, 5<<20)
	r := mustOpen(t, b, "stall.bin")
	proxy.Inject(s3test.Fault{Dir: s3test.Downstream, After: 1 << 20, Times: 2, Stall: true})
	start := time.Now()
	got := sha256Of(t, r)
	proxy.Clear()
	if got != want {
		t.Fatal("sha256 mismatch after stalls")
	}
	if proxy.Cuts() == 0 {
		t.Fatal("nothing stalled")
	}
	t.Logf("%d stalls survived in %v", proxy.Cuts(), time.Since(start).Round(time.Millisecond))
}

// A Reader reads one version: if the object is replaced under it, the
// next ranged GET fails its If-Match and the reader says so.
func TestS3ReadDetectsReplacedObject(t *testing.T) {
	srv := s3test.Start(t)
	b := newS3Bucket(t, srv, "", nil)
	putRandom(t, b, "obj", 4<<20, 5<<20)
	r, err := b.Open(t.Context(), "obj")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	putRandom(t, b, "obj", 4<<20+1, 5<<20)
	_, err = io.Copy(io.Discard, r)
	if !errors.Is(err, storage.ErrObjectChanged) || storage.IsRetryable(err) {
		t.Fatalf("reading a replaced object = %v, want permanent ErrObjectChanged", err)
	}
	t.Logf("error: %v", err)
}

func noMultipartUploads(t *testing.T, srv *s3test.Server, bucket string) {
	t.Helper()
	out, err := srv.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) > 0 {
		t.Errorf("%d multipart uploads left behind (parts billed forever)", len(out.Uploads))
	}
}

// (b) An upload whose connection is cut either recovers through retries or
// fails at Close with no object and no multipart upload left behind.
func TestS3UploadCut(t *testing.T) {
	srv := s3test.Start(t)
	proxy := s3test.NewProxy(t, srv.Addr)
	for _, tc := range []struct {
		name  string
		fault s3test.Fault
		// mustFail: every attempt is cut, so the upload cannot succeed.
		mustFail bool
	}{
		{"one part's connection cut once", s3test.Fault{Dir: s3test.Upstream, After: 7 << 20, Times: 1}, false},
		{"every connection cut after 1 MiB", s3test.Fault{Dir: s3test.Upstream, After: 1 << 20, Times: -1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newS3Bucket(t, srv, proxy.URL, func(c *storage.S3Config) { c.MaxRetries = 2 })
			data := make([]byte, 12<<20)
			rand.NewChaCha8([32]byte{7}).Read(data)

			cuts := proxy.Cuts()
			proxy.Inject(tc.fault)
			w, err := b.Create(t.Context(), "upload.bin", &storage.WriteOptions{PartSize: 5 << 20, Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, werr := w.Write(data)
			cerr := w.Close()
			proxy.Clear()
			if proxy.Cuts() == cuts {
				t.Fatal("the proxy cut nothing")
			}
			switch {
			case werr == nil && cerr == nil:
				if tc.mustFail {
					t.Fatal("upload succeeded although every attempt was cut")
				}
				if got := sha256Of(t, mustOpen(t, b, "upload.bin")); got != sha256.Sum256(data) {
					t.Fatal("uploaded object differs from what was written")
				}
				t.Logf("recovered by retrying after %d cut(s)", proxy.Cuts()-cuts)
			default:
				err := cmpErr(werr, cerr)
				t.Logf("failed as allowed: %v", err)
				if cerr == nil {
					t.Fatal("Write failed but Close succeeded")
				}
				if _, err := b.Stat(t.Context(), "upload.bin"); !errors.Is(err, storage.ErrNotExist) {
					t.Fatalf("after a failed upload Stat = %v, want ErrNotExist: a partial object is visible", err)
				}
			}
			noMultipartUploads(t, srv, b.Name())
		})
	}
}

func cmpErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func mustOpen(t *testing.T, b storage.Bucket, key string) storage.Reader {
	t.Helper()
	r, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Cancelled and aborted multipart writes must abort their uploads too, or
// the parts stay stored (and billed) with no object to show for them.
func TestS3CancelAndAbortLeaveNoUploads(t *testing.T) {
	srv := s3test.Start(t)
	b := newS3Bucket(t, srv, "", nil)
	data := make([]byte, 12<<20)
	for _, how := range []string{"cancel", "abort", "cancel after Close started"} {
		ctx, cancel := context.WithCancel(t.Context())
		w, err := b.Create(ctx, "x-"+how, &storage.WriteOptions{PartSize: 5 << 20, Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		switch how {
		case "cancel":
			cancel()
			if err := w.Close(); !errors.Is(err, context.Canceled) {
				t.Errorf("Close after cancel = %v", err)
			}
		case "abort":
			if err := w.Abort(); err != nil {
				t.Errorf("Abort = %v", err)
			}
		default:
			time.AfterFunc(time.Millisecond, cancel)
			if err := w.Close(); err == nil {
				t.Log("Close won the race against cancel; the object may exist")
				continue
			}
		}
		cancel()
		if _, err := b.Stat(t.Context(), "x-"+how); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("%s: Stat = %v, want ErrNotExist", how, err)
		}
	}
	noMultipartUploads(t, srv, b.Name())
}

// A cancel can cut a part request after its body has gone out; the server
// may then store the part after the abort and bring the upload back. Cancels
// at many moments through the uploads must still leave no upload behind.
func TestS3CancelMidPartLeavesNoUploads(t *testing.T) {
	srv := s3test.Start(t)
	b := newS3Bucket(t, srv, "", nil)
	data := make([]byte, 16<<20)
	for i := range 10 {
		ctx, cancel := context.WithCancel(t.Context())
		key := fmt.Sprintf("x-%d", i)
		w, err := b.Create(ctx, key, &storage.WriteOptions{PartSize: 5 << 20, Concurrency: 3})
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(time.Duration(i)*5*time.Millisecond, cancel)
		_, err = w.Write(data)
		if err == nil {
			err = w.Close()
		} else {
			w.Abort()
		}
		cancel()
		if err == nil {
			continue // finished before the cancel: the object exists
		}
		if _, err := b.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("%s: Stat = %v, want ErrNotExist", key, err)
		}
	}
	noMultipartUploads(t, srv, b.Name())
}

// An abort that fails (the server unreachable) leaves the multipart upload
// pending; the error of Abort, or of a Close that had to abort, names it so
// the caller can report it, and Uploads and AbortUpload clean it up later.
func TestS3AbortFailureNamesUpload(t *testing.T) {
	srv := s3test.Start(t)
	proxy := s3test.NewProxy(t, srv.Addr)
	b := newS3Bucket(t, srv, proxy.URL, func(c *storage.S3Config) { c.MaxRetries = 1 })
	data := make([]byte, 5<<20+1) // one full part sent, one byte buffered
	for _, end := range []string{"Abort", "Close"} {
		t.Run(end, func(t *testing.T) {
			key := "pending-" + end
			w, err := b.Create(t.Context(), key, &storage.WriteOptions{PartSize: 5 << 20, Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			proxy.Inject(s3test.Fault{Dir: s3test.Upstream, After: 0, Times: -1})
			if end == "Abort" {
				err = w.Abort()
			} else {
				err = w.Close()
			}
			proxy.Clear()
			if err == nil {
				t.Fatalf("%s succeeded with every connection cut", end)
			}
			t.Logf("%s: %v", end, err)
			ae, ok := storage.AbortFailure(err)
			if !ok {
				t.Fatalf("%s error carries no abort failure: %v", end, err)
			}
			var ids []string
			for u, err := range b.Uploads(t.Context(), key) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, u.ID)
			}
			if len(ids) != 1 || ae.Upload != ids[0] || ae.Key != key || ae.Bucket != "s3://"+b.Name() {
				t.Fatalf("abort failure names %s/%s upload %q; pending uploads of %s: %q", ae.Bucket, ae.Key, ae.Upload, key, ids)
			}
			if !strings.Contains(err.Error(), "upload ID "+ids[0]) {
				t.Errorf("message does not give the upload ID %s", ids[0])
			}
			if err := b.AbortUpload(t.Context(), key, ids[0]); err != nil {
				t.Fatal(err)
			}
		})
	}
	noMultipartUploads(t, srv, b.Name())
}

// With no static credentials, NewS3 follows the AWS SDK's default chain:
// environment variables, then shared config profiles.
func TestS3CredentialsFromEnvironmentAndProfile(t *testing.T) {
	srv := s3test.Start(t)
	name := newBucketName()
	srv.CreateBucket(t, name)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	err := os.WriteFile(creds, []byte("[desens-test]\naws_access_key_id = "+srv.AccessKey+
		"\naws_secret_access_key = "+srv.SecretKey+"\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	t.Setenv("AWS_REGION", srv.Region)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")

	use := func(what string, cfg storage.S3Config) {
		t.Helper()
		cfg.Bucket, cfg.Provider = name, "versitygw"
		b := openS3(t, cfg)
		w, err := b.Create(t.Context(), "k", nil)
		if err == nil {
			w.Write([]byte(what))
			err = w.Close()
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	use("profile", storage.S3Config{Profile: "desens-test"})
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	use("environment", storage.S3Config{})
}

// (c) Configuration mistakes and missing data give one-line errors that
// name the bucket and key, say why, and are classified permanent.
func TestS3ErrorsNameBucketKeyAndReason(t *testing.T) {
	srv := s3test.Start(t)
	good := newS3Bucket(t, srv, "", nil)
	goodName := good.Name()

	wrongSecret := s3Config(srv, srv.URL, goodName)
	wrongSecret.SecretAccessKey = "not-the-secret"
	unknownKey := s3Config(srv, srv.URL, goodName)
	unknownKey.AccessKeyID = "AKIANOSUCHKEY"
	missingBucket := s3Config(srv, srv.URL, "no-such-bucket")

	for _, tc := range []struct {
		name string
		cfg  storage.S3Config
		key  string
		kind error
	}{
		{"wrong secret", wrongSecret, "in/video.mp4", storage.ErrCredentials},
		{"unknown access key", unknownKey, "in/video.mp4", storage.ErrCredentials},
		{"missing bucket", missingBucket, "in/video.mp4", storage.ErrBucketNotExist},
		{"missing key", s3Config(srv, srv.URL, goodName), "in/missing.mp4", storage.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := openS3(t, tc.cfg)
			ctx := t.Context()
			check := func(op string, err error) {
				t.Helper()
				if err == nil {
					t.Errorf("%s succeeded", op)
					return
				}
				msg := err.Error()
				t.Logf("%s: %s", op, msg)
				if !errors.Is(err, tc.kind) {
					t.Errorf("%s: want errors.Is(err, %v)", op, tc.kind)
				}
				if errors.Is(tc.kind, storage.ErrPermission) && !errors.Is(err, storage.ErrPermission) {
					t.Errorf("%s: refused credentials should match ErrPermission too", op)
				}
				if storage.IsRetryable(err) {
					t.Errorf("%s: classified retryable", op)
				}
				if !strings.Contains(msg, "s3://"+tc.cfg.Bucket) || strings.Contains(msg, "\n") {
					t.Errorf("%s: message should name s3://%s on one line", op, tc.cfg.Bucket)
				}
				if !strings.Contains(msg, tc.kind.Error()) {
					t.Errorf("%s: message should give the reason %q", op, tc.kind)
				}
			}
			_, err := b.Open(ctx, tc.key)
			check("Open", err)
			if err != nil && !strings.Contains(err.Error(), tc.key) {
				t.Errorf("Open: message should name the key %q", tc.key)
			}
			_, err = b.Stat(ctx, tc.key)
			check("Stat", err)
			if tc.kind == storage.ErrNotExist {
				return // a missing key does not stop writes or lists
			}
			w, err := b.Create(ctx, tc.key, nil)
			if err == nil {
				w.Write([]byte("x"))
				err = w.Close()
			}
			check("Create+Close", err)
			for _, err := range b.List(ctx, "in/", nil) {
				check("List", err)
			}
		})
	}
}

func TestS3UnreachableIsRetryable(t *testing.T) {
	srv := s3test.Start(t)
	cfg := s3Config(srv, "http://127.0.0.1:1", "any-bucket") // nothing listens on port 1
	cfg.MaxRetries = 1
	b := openS3(t, cfg)
	_, err := b.Stat(t.Context(), "k")
	if err == nil || !storage.IsRetryable(err) {
		t.Fatalf("Stat on an unreachable endpoint = %v, want a retryable error", err)
	}
	t.Logf("error: %v", err)
}

func TestS3PresignGet(t *testing.T) {
	srv := s3test.Start(t)
	b := newS3Bucket(t, srv, "", nil)
	want := putRandom(t, b, "dir/with space+plus.mp4", 100_000, 5<<20)
	url, err := b.PresignGet(t.Context(), "dir/with space+plus.mp4", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url) // what FFmpeg does with it
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET presigned URL: %s: %s", resp.Status, body)
	}
	if got := sha256Of(t, resp.Body); got != want {
		t.Fatal("presigned GET returned different bytes")
	}
}

func TestS3MuxOpensURL(t *testing.T) {
	srv := s3test.Start(t)
	b := newS3Bucket(t, srv, "", nil)
	name := b.Name()
	putRandom(t, b, "videos/2024/a.mp4", 10, 5<<20)
	putRandom(t, b, "videos/2024/b.mp4", 10, 5<<20)

	m := storage.NewMux(storage.S3Config{
		Provider: "versitygw", Endpoint: srv.URL, Region: srv.Region,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
	})
	bkt, prefix, err := m.Open(t.Context(), "s3://"+name+"/videos/2024/")
	if err != nil {
		t.Fatal(err)
	}
	defer bkt.Close()
	var keys []string
	for o, err := range bkt.List(t.Context(), prefix, nil) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "videos/2024/a.mp4,videos/2024/b.mp4" {
		t.Fatalf("List(%q) = %q", prefix, keys)
	}
}

// Streaming must hold a bounded amount of memory however large the object.
// DESENS_STORAGE_BIG_MB sets the size (default 256; try 4096).
func TestS3StreamMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams hundreds of MB")
	}
	size := int64(256)
	if v := envInt("DESENS_STORAGE_BIG_MB"); v > 0 {
		size = v
	}
	size <<= 20
	srv := s3test.Start(t)
	b := newS3Bucket(t, srv, "", nil)

	peak := watchHeap(t)
	// Default 16 MiB parts: versitygw on ext4 keeps a multipart object's
	// part list in an xattr, which 5 MiB parts of 4 GiB overflow.
	want := putRandom(t, b, "big.bin", size, 0)
	r := mustOpen(t, b, "big.bin")
	w, err := b.Create(t.Context(), "copy.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != want {
		t.Fatal("streamed bytes differ")
	}
	p := peak()
	t.Logf("streamed %d MiB up, down and across; peak live heap %d MiB; peak RSS of the test process %d MiB",
		size>>20*3, p>>20, maxRSS()>>20)
	// Writer: (4+1)×16 MiB parts; Reader: 3×8 MiB chunks; plus the SDK.
	if p > 200<<20 {
		t.Errorf("peak live heap %d MiB: something buffers whole objects", p>>20)
	}
}

func envInt(name string) int64 {
	v, _ := strconv.ParseInt(os.Getenv(name), 10, 64)
	return v
}

// watchHeap samples the live heap (as measured by the last GC, so
// garbage not yet collected does not count) until the test ends; the
// returned function reports the peak so far.
func watchHeap(t *testing.T) func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	sample := func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > peak.Load() {
			peak.Store(v)
		}
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return func() uint64 { sample(); return peak.Load() }
}

// maxRSS is the process's peak resident set (VmHWM), or 0 if unknown.
func maxRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
