package desens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/internal/s3test"
	"github.com/desens/desens/internal/testenv"
)

// s3env is a real S3 server (versitygw) with an input and an output bucket,
// and the storage registry a Desensitizer reaches them with: through a
// fault-injecting proxy when the test asks for one. Checks go straight to
// the server.
type s3env struct {
	srv     *s3test.Server
	proxy   *s3test.Proxy
	client  *s3.Client
	in, out string // bucket names
	mux     *storage.Mux
}

var bucketSeq atomic.Int64

func newS3Env(t testing.TB, proxied bool, edit func(*storage.S3Config)) *s3env {
	t.Helper()
	srv := s3test.Start(t)
	n := bucketSeq.Add(1)
	e := &s3env{srv: srv, client: srv.Client(),
		in: fmt.Sprintf("sensitive-%d", n), out: fmt.Sprintf("desensitized-%d", n)}
	srv.CreateBucket(t, e.in)
	srv.CreateBucket(t, e.out)
	endpoint := srv.URL
	if proxied {
		e.proxy = s3test.NewProxy(t, srv.Addr)
		endpoint = e.proxy.URL
	}
	cfg := storage.S3Config{Provider: "versitygw", Endpoint: endpoint, Region: srv.Region,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	if edit != nil {
		edit(&cfg)
	}
	e.mux = storage.NewMux(cfg)
	return e
}

func s3url(bucket, key string) string { return "s3://" + bucket + "/" + key }

// put stores data and returns its ETag.
func (e *s3env) put(t testing.TB, bucket, key string, data []byte) string {
	t.Helper()
	out, err := e.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		t.Fatalf("put %s: %v", s3url(bucket, key), err)
	}
	return aws.ToString(out.ETag)
}

func (e *s3env) putFile(t testing.TB, bucket, key, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// Streamed from the file, so a benchmark's large object never sits in
	// this process's memory.
	out, err := e.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: f, ContentLength: aws.Int64(st.Size())})
	if err != nil {
		t.Fatalf("put %s: %v", s3url(bucket, key), err)
	}
	return aws.ToString(out.ETag)
}

func (e *s3env) head(t testing.TB, bucket, key string) *s3.HeadObjectOutput {
	t.Helper()
	out, err := e.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("head %s: %v", s3url(bucket, key), err)
	}
	return out
}

// download writes an object to a local file, for ffprobe and friends.
func (e *s3env) download(t testing.TB, bucket, key string) string {
	t.Helper()
	out, err := e.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", s3url(bucket, key), err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(out.Body); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Join(t.TempDir(), filepath.Base(key)), b.Bytes())
}

// keys lists a bucket.
func (e *s3env) keys(t testing.TB, bucket string) []string {
	t.Helper()
	out, err := e.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	slices.Sort(keys)
	return keys
}

// uploads counts multipart uploads neither completed nor aborted: parts
// that would linger, billed, on a real service.
func (e *s3env) uploads(t testing.TB, bucket string) int {
	t.Helper()
	out, err := e.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

// nothingLeft fails if the output bucket holds anything but want, or a
// multipart upload.
func (e *s3env) nothingLeft(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := e.keys(t, e.out); !slices.Equal(got, want) {
		t.Errorf("output bucket holds %q, want %q", got, want)
	}
	if n := e.uploads(t, e.out); n != 0 {
		t.Errorf("%d multipart uploads left behind", n)
	}
}

// newBareDesensitizer has no detector (newDesensitizer without detection) and the fastest
// encoder: for tests of storage and video I/O, which need no model.
func newBareDesensitizer(t testing.TB, e *s3env, o Options) *Desensitizer {
	t.Helper()
	o.Encode.Preset = "ultrafast"
	if e != nil {
		o.Storage = e.mux
	}
	d, err := newDesensitizer(o, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// makeNoiseVideo makes a video of moving noise, which compresses badly: a
// few seconds make outputs of several upload parts.
func makeNoiseVideo(t testing.TB, dir string, secs int, faststart bool) string {
	t.Helper()
	out := filepath.Join(dir, fmt.Sprintf("noise-%ds.mp4", secs))
	flags := "-faststart"
	if faststart {
		flags = "+faststart"
	}
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25,noise=alls=60:allf=t+u",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", strconv.Itoa(secs),
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-c:a", "aac", "-shortest",
		"-movflags", flags, out)
	return out
}

func frameCount(t testing.TB, path string) int {
	t.Helper()
	return eachFrame(t, path, func(int, gocv.Mat) {})
}

// TestBucketVideo takes one video with audio from a bucket into another,
// with the real detector: faces hidden, audio kept, location dropped, the
// output described by its metadata, the source untouched, and nothing
// staged on local disk.
func TestBucketVideo(t *testing.T) {
	e := newS3Env(t, false, nil)
	const frames = 15
	clip := makeFaceVideo(t, t.TempDir(), frames)
	etag := e.putFile(t, e.in, "a/b.mp4", clip)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	d := newTestDesensitizer(t, Options{Storage: e.mux})
	rep, err := d.Run(t.Context(), s3url(e.in, "a/b.mp4"), s3url(e.out, "a/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Files[0]
	if !f.OK {
		t.Fatal(f.Error)
	}
	if f.Output != s3url(e.out, "a/b.mp4") || f.Frames != frames || f.Detections[detect.Face] == 0 || !f.Audio {
		t.Errorf("report: output %s, %d frames, %d faces, audio %v; want %s, %d frames, faces, audio",
			f.Output, f.Frames, f.Detections[detect.Face], f.Audio, s3url(e.out, "a/b.mp4"), frames)
	}
	e.nothingLeft(t, "a/b.mp4")

	h := e.head(t, e.out, "a/b.mp4")
	for k, want := range map[string]string{
		MetaSource: s3url(e.in, "a/b.mp4"), MetaSourceETag: etag, MetaVersion: Version,
	} {
		if got := h.Metadata[k]; got != want {
			t.Errorf("metadata %s = %q, want %q", k, got, want)
		}
	}
	if ct := aws.ToString(h.ContentType); ct != "video/mp4" {
		t.Errorf("content type %q, want video/mp4", ct)
	}
	if f.BytesOut != aws.ToInt64(h.ContentLength) {
		t.Errorf("report says %d bytes out, the object has %d", f.BytesOut, aws.ToInt64(h.ContentLength))
	}

	out := e.download(t, e.out, "a/b.mp4")
	checkDesensitized(t, d, out, frames, nil)
	if got := aws.ToString(e.head(t, e.in, "a/b.mp4").ETag); got != etag {
		t.Errorf("source changed: ETag %s, was %s", got, etag)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("files staged in the temp dir: %v", entries)
	}
}

// TestBucketPrefix runs a prefix holding good, corrupt and foreign
// objects: the good ones land under the output prefix, every bad one is in
// the report, and no partial object or upload is left, not even for a
// corrupt video whose output had already streamed several parts.
func TestBucketPrefix(t *testing.T) {
	e := newS3Env(t, false, func(c *storage.S3Config) { c.PartSize = storage.MinPartSize })
	dir := t.TempDir()
	jpg, err := os.ReadFile(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	clip := makeFaceVideo(t, dir, 8)
	noise := makeNoiseVideo(t, dir, 6, true)
	e.put(t, e.in, "cam1/good.jpg", jpg)
	e.putFile(t, e.in, "cam1/day/clip.mov", clip)
	e.put(t, e.in, "cam1/bad/cut.jpg", jpg[:len(jpg)/3])
	e.put(t, e.in, "cam1/bad/noise-cut.mp4", mustRead(t, truncate(t, noise, filepath.Join(dir, "cut.mp4"), 0.7)))
	e.put(t, e.in, "cam1/bad/text.mp4", []byte("hello, this is not a video\n"))
	e.put(t, e.in, "cam1/bad/empty.jpg", nil)
	e.put(t, e.in, "cam1/notes.txt", []byte("gps: 31.23,121.47"))
	e.put(t, e.in, "cam1/.hidden.jpg", jpg)
	e.put(t, e.in, "cam2/other.jpg", jpg)

	d := newBareDesensitizer(t, e, Options{Workers: 2})
	var heard atomic.Int64
	rep, err := d.Run(t.Context(), s3url(e.in, "cam1/"), s3url(e.out, "cam1/"), func(FileReport) { heard.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Summary; s.Files != 6 || s.OK != 2 || s.Failed != 4 || heard.Load() != 6 {
		t.Fatalf("summary %+v, heard %d; want 6 files, 2 ok, 4 failed", s, heard.Load())
	}
	for _, f := range rep.Files {
		bad := strings.Contains(f.Input, "/bad/")
		if f.OK == bad {
			t.Errorf("%s: ok=%v (%s)", f.Input, f.OK, f.Error)
		}
		if bad && (!strings.Contains(f.Error, f.Input) || !errors.Is(f.Err(), ErrCorruptMedia)) {
			t.Errorf("%s: error %q does not name the object, or is not ErrCorruptMedia", f.Input, f.Error)
		}
		if bad {
			t.Logf("%s", f.Error)
		}
	}
	e.nothingLeft(t, "cam1/day/clip.mp4", "cam1/good.jpg")
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBucketAndLocal mixes local paths and buckets on either side.
func TestBucketAndLocal(t *testing.T) {
	e := newS3Env(t, false, nil)
	dir := t.TempDir()
	clip := makeFaceVideo(t, dir, 6)
	jpg := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "sub"), 0o755)
	writeFile(t, filepath.Join(tree, "sub", "p.jpg"), mustRead(t, jpg))
	writeFile(t, filepath.Join(tree, "v.mov"), mustRead(t, clip))
	e.putFile(t, e.in, "a/clip.mov", clip)
	e.putFile(t, e.in, "tree/sub/p.jpg", jpg)
	e.putFile(t, e.in, "tree/v.mov", clip)
	absClip, _ := filepath.Abs(clip)

	for i, tc := range []struct {
		name    string
		in, out string
		local   []string // outputs expected under the test's local dir
		objects []string // outputs expected in the output bucket
		meta    string   // expected desens-source of objects
	}{
		{"a local video to a bucket prefix", clip, s3url(e.out, "up/"), nil, []string{"up/faces.mp4"}, "file://" + absClip},
		{"an object to a local directory", s3url(e.in, "a/clip.mov"), "{dir}/", []string{"clip.mp4"}, nil, ""},
		{"an object to a file URL", s3url(e.in, "a/clip.mov"), "file://{dir}/named.mp4", []string{"named.mp4"}, nil, ""},
		{"a prefix to a local tree", s3url(e.in, "tree/"), "{dir}", []string{"sub/p.jpg", "v.mp4"}, nil, ""},
		{"a local tree to a prefix", tree, s3url(e.out, "tree/"), nil, []string{"tree/sub/p.jpg", "tree/v.mp4"}, ""},
		{"an image to a named object", s3url(e.in, "tree/sub/p.jpg"), s3url(e.out, "img/x.jpg"), nil, []string{"img/x.jpg"}, s3url(e.in, "tree/sub/p.jpg")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outDir := filepath.Join(t.TempDir(), "out"+strconv.Itoa(i))
			out := strings.ReplaceAll(tc.out, "{dir}", outDir)
			before := e.keys(t, e.out)
			d := newBareDesensitizer(t, e, Options{})
			rep, err := d.Run(t.Context(), tc.in, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Summary.Failed != 0 || rep.Summary.OK != max(len(tc.local), len(tc.objects)) {
				t.Fatalf("summary %+v; files %+v", rep.Summary, rep.Files)
			}
			var got []string
			filepath.WalkDir(outDir, func(p string, de os.DirEntry, err error) error {
				if err == nil && !de.IsDir() {
					rel, _ := filepath.Rel(outDir, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return nil
			})
			slices.Sort(got)
			if !slices.Equal(got, tc.local) {
				t.Errorf("local outputs %q, want %q", got, tc.local)
			}
			var added []string
			for _, k := range e.keys(t, e.out) {
				if !slices.Contains(before, k) {
					added = append(added, k)
				}
			}
			if !slices.Equal(added, tc.objects) {
				t.Errorf("objects %q, want %q", added, tc.objects)
			}
			for _, k := range tc.objects {
				h := e.head(t, e.out, k)
				want := "video/mp4"
				if strings.HasSuffix(k, ".jpg") {
					want = "image/jpeg"
				}
				if ct := aws.ToString(h.ContentType); ct != want {
					t.Errorf("%s: content type %q, want %q", k, ct, want)
				}
				if tc.meta != "" && h.Metadata[MetaSource] != metaValue(tc.meta) {
					t.Errorf("%s: %s = %q, want %q", k, MetaSource, h.Metadata[MetaSource], metaValue(tc.meta))
				}
				if _, ok := h.Metadata[MetaSourceETag]; ok != strings.HasPrefix(tc.meta, "s3://") {
					t.Errorf("%s: %s present=%v; only bucket sources have one", k, MetaSourceETag, ok)
				}
			}
			noTemps(t, outDir)
		})
	}
}

// TestBucketRefusals covers runs that must not start, or files that must
// not be written, because a source would be overwritten or something is
// missing; each says why in one line that names the URL.
func TestBucketRefusals(t *testing.T) {
	e := newS3Env(t, false, nil)
	jpg := mustRead(t, testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")))
	etags := map[string]string{}
	for _, k := range []string{"a/x.jpg", "a/a/x.jpg", "a/b.mp4", "dir/only/under.jpg"} {
		etags[k] = e.put(t, e.in, k, jpg)
	}
	e.put(t, e.out, "taken.jpg", []byte("precious"))

	for _, tc := range []struct {
		name    string
		in, out string
		runErr  error  // errors.Is the run's error
		says    string // in the run's error, or in a failed file's
		failed  int
	}{
		{"an output prefix inside the input prefix", s3url(e.in, ""), s3url(e.in, "a/out/"), nil, "inside input", 0},
		{"the output is the input", s3url(e.in, "a/x.jpg"), s3url(e.in, "a/x.jpg"), nil, "is the input", 0},
		{"a video whose MP4 name is the input", s3url(e.in, "a/b.mp4"), s3url(e.in, "a/b.mov"), nil, "is the input", 0},
		{"a relative name that climbs back into the input", s3url(e.in, "a/"), s3url(e.in, ""), nil, "would be inside input", 1},
		{"a missing key", s3url(e.in, "a/nope.jpg"), s3url(e.out, ""), storage.ErrNotExist, s3url(e.in, "a/nope.jpg"), 0},
		{"a folder named without its slash", s3url(e.in, "dir/only"), s3url(e.out, ""), storage.ErrNotExist, "end the URL with '/'", 0},
		{"a missing input bucket", s3url("no-such-bucket", "x.jpg"), s3url(e.out, ""), storage.ErrBucketNotExist, "s3://no-such-bucket/x.jpg", 0},
		{"a missing output bucket", s3url(e.in, "a/x.jpg"), s3url("no-such-bucket", "o/"), storage.ErrBucketNotExist, "s3://no-such-bucket/o/", 0},
		{"an existing output", s3url(e.in, "a/x.jpg"), s3url(e.out, "taken.jpg"), nil, "exists", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newBareDesensitizer(t, e, Options{})
			rep, err := d.Run(t.Context(), tc.in, tc.out, nil)
			msg := ""
			switch {
			case err != nil:
				msg = err.Error()
				if tc.failed > 0 || (tc.runErr != nil && !errors.Is(err, tc.runErr)) {
					t.Errorf("run error %v, want %v", err, tc.runErr)
				}
			case tc.failed == 0:
				t.Fatalf("run started: %+v", rep.Files)
			default:
				if rep.Summary.Failed != tc.failed {
					t.Errorf("%d files failed, want %d", rep.Summary.Failed, tc.failed)
				}
				for _, f := range rep.Files {
					msg += f.Error + "\n"
				}
			}
			if !strings.Contains(msg, tc.says) {
				t.Errorf("%q does not say %q", msg, tc.says)
			}
			t.Logf("%s", msg)
			if strings.Count(strings.TrimSpace(msg), "\n") > 0 && err != nil {
				t.Errorf("error spans lines: %q", msg)
			}
			for k, etag := range etags {
				if got := aws.ToString(e.head(t, e.in, k).ETag); got != etag {
					t.Errorf("source %s changed", k)
				}
			}
			if b := mustGet(t, e, e.out, "taken.jpg"); string(b) != "precious" {
				t.Error("existing output replaced without Overwrite")
			}
		})
	}

	t.Run("bucket URLs without storage configured", func(t *testing.T) {
		d := newBareDesensitizer(t, nil, Options{})
		if _, err := d.Run(t.Context(), s3url(e.in, "a/x.jpg"), t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "Options.Storage") {
			t.Errorf("error %v, want one naming Options.Storage", err)
		}
	})
}

func mustGet(t *testing.T, e *s3env, bucket, key string) []byte {
	t.Helper()
	return mustRead(t, e.download(t, bucket, key))
}

// TestBucketCancel cancels a run while its output is a multipart upload
// in flight: no object appears and the upload is aborted.
func TestBucketCancel(t *testing.T) {
	e := newS3Env(t, false, func(c *storage.S3Config) { c.PartSize = storage.MinPartSize })
	e.putFile(t, e.in, "long.mp4", makeNoiseVideo(t, t.TempDir(), 10, false))
	d := newBareDesensitizer(t, e, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := d.Run(ctx, s3url(e.in, "long.mp4"), s3url(e.out, "long.mp4"), nil)
		done <- result{rep, err}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for e.uploads(t, e.out) == 0 {
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
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) || r.rep.Summary.Failed != 1 {
		t.Errorf("run: %v, %+v; want cancelled with the file failed", r.err, r.rep.Summary)
	}
	e.nothingLeft(t)
}

// TestBucketDroppedConnections cuts connections mid-GET and mid-upload:
// reads resume where they stopped, uploads retry the part, and when
// uploads keep failing the file fails with nothing left behind.
func TestBucketDroppedConnections(t *testing.T) {
	e := newS3Env(t, true, func(c *storage.S3Config) {
		c.PartSize = storage.MinPartSize
		c.MaxRetries = 2
	})
	src := makeNoiseVideo(t, t.TempDir(), 4, false)
	want := frameCount(t, src)
	e.putFile(t, e.in, "clip.mp4", src)

	for i, tc := range []struct {
		name  string
		fault s3test.Fault
		ok    bool
	}{
		{"a GET cut mid-body resumes", s3test.Fault{Dir: s3test.Downstream, After: 3 << 20, Times: 1}, true},
		{"GETs cut again and again resume", s3test.Fault{Dir: s3test.Downstream, After: 1 << 20, Times: 6}, true},
		{"an upload cut mid-part is retried", s3test.Fault{Dir: s3test.Upstream, After: 2 << 20, Times: 1}, true},
		{"uploads that always fail leave nothing", s3test.Fault{Dir: s3test.Upstream, After: 1 << 20, Times: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("out-%d.mp4", i)
			cuts := e.proxy.Cuts()
			e.proxy.Inject(tc.fault)
			defer e.proxy.Clear()
			d := newBareDesensitizer(t, e, Options{})
			rep, err := d.Run(t.Context(), s3url(e.in, "clip.mp4"), s3url(e.out, key), nil)
			if err != nil {
				t.Fatal(err)
			}
			if e.proxy.Cuts() == cuts {
				t.Fatal("the fault never fired")
			}
			f := rep.Files[0]
			if !tc.ok {
				if f.OK {
					t.Fatal("succeeded through a dead upload path")
				}
				if !strings.Contains(f.Error, s3url(e.out, key)) {
					t.Errorf("error %q does not name the output", f.Error)
				}
				t.Logf("%s", f.Error)
				e.nothingLeft(t, existing(t, e, key)...)
				return
			}
			if !f.OK {
				t.Fatal(f.Error)
			}
			if n := frameCount(t, e.download(t, e.out, key)); n != want {
				t.Errorf("output has %d frames, want %d", n, want)
			}
			if n := e.uploads(t, e.out); n != 0 {
				t.Errorf("%d multipart uploads left behind", n)
			}
		})
	}
}

// existing lists the output bucket without key: what earlier cases left.
func existing(t *testing.T, e *s3env, key string) []string {
	return slices.DeleteFunc(e.keys(t, e.out), func(k string) bool { return k == key })
}

// TestBucketSourceReplaced replaces the source while it is being read: the
// file fails as ErrObjectChanged rather than splice two versions, and no
// output appears.
func TestBucketSourceReplaced(t *testing.T) {
	e := newS3Env(t, true, nil)
	dir := t.TempDir()
	e.putFile(t, e.in, "clip.mp4", makeNoiseVideo(t, dir, 8, false))
	other := mustRead(t, makeFaceVideo(t, dir, 4))
	d := newBareDesensitizer(t, e, Options{})
	replaced := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		// Once the read is under way, through the proxy; the new version
		// goes straight to the server.
		for e.proxy.Bytes(s3test.Downstream) < 2<<20 {
			select {
			case <-stop:
				replaced <- errors.New("the run ended before 2 MiB were read")
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		_, err := e.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &e.in, Key: aws.String("clip.mp4"),
			Body: bytes.NewReader(other), ContentLength: aws.Int64(int64(len(other)))})
		replaced <- err
	}()
	rep, err := d.Run(t.Context(), s3url(e.in, "clip.mp4"), s3url(e.out, "clip.mp4"), nil)
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-replaced; err != nil {
		t.Fatal(err)
	}
	f := rep.Files[0]
	if f.OK || !errors.Is(f.Err(), storage.ErrObjectChanged) {
		t.Fatalf("ok=%v error %q, want ErrObjectChanged", f.OK, f.Error)
	}
	t.Logf("%s", f.Error)
	e.nothingLeft(t)
}

func TestMetaValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"s3://b/a/b.mp4", "s3://b/a/b.mp4"},
		{`"9b2cf535f27731c974343645a3985328"`, `"9b2cf535f27731c974343645a3985328"`},
		{"s3://b/with space/100%.jpg", "s3://b/with%20space/100%25.jpg"},
		{"s3://b/行车记录.mp4", "s3://b/%E8%A1%8C%E8%BD%A6%E8%AE%B0%E5%BD%95.mp4"},
		{"s3://b/tab\there", "s3://b/tab%09here"},
	} {
		if got := metaValue(tc.in); got != tc.want {
			t.Errorf("metaValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
