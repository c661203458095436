package event

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/internal/s3test"
	"github.com/desens/desens/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.CheckMats(m)) }

// env is a real S3 server (versitygw) and one Desensitizer with the real
// models, loaded once and shared by every case, as a service shares it
// between events.
type env struct {
	srv    *s3test.Server
	client *s3.Client
	mux    *storage.Mux         // buckets opened once (ShareBuckets)
	plain  *storage.Mux         // buckets opened on every call
	d      *desens.Desensitizer // on mux
}

func newEnv(t testing.TB, buckets ...string) *env {
	t.Helper()
	srv := s3test.Start(t)
	testenv.ORT(t)
	for _, b := range buckets {
		srv.CreateBucket(t, b)
	}
	plain := storage.NewMux(storage.S3Config{Provider: "versitygw", Endpoint: srv.URL, Region: srv.Region,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey})
	mux, closeAll := ShareBuckets(plain)
	d, err := desens.New(desens.Options{Storage: mux, Overwrite: true, Runtime: desens.RuntimeOptions{Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); closeAll() })
	return &env{srv: srv, client: srv.Client(), mux: mux, plain: plain, d: d}
}

// photo is a small portrait with one face.
var photo = filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg")

func (e *env) put(t testing.TB, bucket, key string, data []byte, md map[string]string) string {
	t.Helper()
	out, err := e.client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &bucket, Key: &key,
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), Metadata: md})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.ETag)
}

// head returns an object's ETag and metadata, or "" when it is missing.
func (e *env) head(t *testing.T, bucket, key string) (string, map[string]string) {
	t.Helper()
	out, err := e.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return "", nil
	}
	return aws.ToString(out.ETag), out.Metadata
}

func (e *env) keys(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := e.client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// gatedRunner is the real Desensitizer, held at the start of each run
// until the test lets it go: to catch the service mid-event.
type gatedRunner struct {
	Runner
	started chan struct{}
	release chan struct{}
}

func (g gatedRunner) Run(ctx context.Context, in, out string, onFile func(desens.FileReport)) (*desens.Report, error) {
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	return g.Runner.Run(ctx, in, out, onFile)
}

func mappings(t testing.TB, specs ...string) []Mapping {
	t.Helper()
	var ms []Mapping
	for _, s := range specs {
		m, err := ParseMapping(s)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// awsEvent is an S3 event notification for one new object, its key
// encoded as S3 encodes it.
func awsEvent(bucket, key string) []byte {
	return fmt.Appendf(nil, `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
"eventTime":"2026-01-02T03:04:05.678Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",
"bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"size":1,"eTag":"0","sequencer":"1"}}}]}`,
		bucket, bucket, url.QueryEscape(key))
}

type reply struct {
	code int
	res  Result
	err  string
	raw  string
}

func post(t *testing.T, url string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/events", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, raw: string(raw)}
	if resp.StatusCode == http.StatusOK || resp.StatusCode >= 500 && strings.Contains(r.raw, `"objects"`) {
		if err := json.Unmarshal(raw, &r.res); err != nil {
			t.Fatalf("reply %d: %v: %s", resp.StatusCode, err, raw)
		}
	} else {
		var e struct{ Error string }
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("reply %d is not a JSON error: %v: %s", resp.StatusCode, err, raw)
		}
		r.err = e.Error
	}
	return r
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServe posts AWS, COS and CloudEvents events, written from the
// providers' documentation, to the service backed by versitygw and the
// real models.
func TestServe(t *testing.T) {
	const cosBucket = "examplebucket-1250000000"
	e := newEnv(t, "sensitive", "desensitized", cosBucket, "shared")
	img, err := os.ReadFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(e.d, e.mux, mappings(t,
		"s3://sensitive/=s3://desensitized/aws/",
		"s3://"+cosBucket+"/=s3://desensitized/cos/",
		"s3://shared/raw/=s3://shared/clean/")...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	s := NewServer(ServerOptions{MaxBody: 64 << 10, MaxInFlight: 2})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)

	t.Run("not ready before the models are handed over", func(t *testing.T) {
		if code, _ := get(t, ts.URL+"/healthz"); code != http.StatusOK {
			t.Errorf("/healthz %d, want 200", code)
		}
		if code, _ := get(t, ts.URL+"/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz %d, want 503", code)
		}
		if r := post(t, ts.URL, readFixture(t, "aws-s3-put.json"), nil); r.code != http.StatusServiceUnavailable {
			t.Errorf("POST /events %d, want 503: %s", r.code, r.raw)
		}
		s.Start(h)
		if code, _ := get(t, ts.URL+"/readyz"); code != http.StatusOK {
			t.Errorf("/readyz %d after Start, want 200", code)
		}
	})

	// Each provider's event puts its object in the destination, faces
	// hidden, recording the source's ETag; the same event again is skipped.
	for i, tc := range []struct {
		name, fixture string
		header        map[string]string
		bucket, key   string
		out           string
	}{
		{"an S3 notification with an encoded key", "aws-s3-put.json", nil, "sensitive", "cam1/2026-01-02/front door (1).jpg", "aws/cam1/2026-01-02/front door (1).jpg"},
		{"S3 through SQS", "aws-sqs-s3.json", nil, "sensitive", "cam1/2026-01-02/front door (1).jpg", "aws/cam1/2026-01-02/front door (1).jpg"},
		{"a COS trigger", "cos-put.json", nil, cosBucket, "cam1/front.jpg", "cos/cam1/front.jpg"},
		{"an EventBridge event", "eventbridge-object-created.json", nil, "sensitive", "cam1/eb.jpg", "aws/cam1/eb.jpg"},
		{"a structured CloudEvent", "cloudevent-structured.json", map[string]string{"Content-Type": "application/cloudevents+json"}, "sensitive", "cam1/ce.jpg", "aws/cam1/ce.jpg"},
		{"a binary CloudEvent", "", map[string]string{"ce-specversion": "1.0", "ce-id": "b1", "ce-source": "aws.s3", "ce-type": "com.amazonaws.s3.ObjectCreated"}, "sensitive", "cam1/binary.jpg", "aws/cam1/binary.jpg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Bytes after the JPEG's end make each case's version its own.
			etag := e.put(t, tc.bucket, tc.key, append(bytes.Clone(img), make([]byte, i)...), nil)
			body := []byte(`{"bucket":{"name":"sensitive"},"object":{"key":"cam1/binary.jpg","size":16412}}`)
			if tc.fixture != "" {
				body = readFixture(t, tc.fixture)
			}
			r := post(t, ts.URL, body, tc.header)
			if r.code != http.StatusOK || r.res.Done != 1 || r.res.Failed != 0 {
				t.Fatalf("first post: %d %s", r.code, r.raw)
			}
			f := r.res.Objects[0].File
			if f == nil || f.Detections[detect.Face] == 0 || f.Redacted == 0 {
				t.Errorf("no face hidden: %s", r.raw)
			}
			outETag, md := e.head(t, "desensitized", tc.out)
			if outETag == "" {
				t.Fatalf("no output at s3://desensitized/%s; bucket holds %q", tc.out, e.keys(t, "desensitized"))
			}
			if md[desens.MetaSourceETag] != etag {
				t.Errorf("output records source ETag %q, want %q", md[desens.MetaSourceETag], etag)
			}

			r = post(t, ts.URL, body, tc.header)
			if r.code != http.StatusOK || r.res.Skipped != 1 || r.res.Done != 0 {
				t.Fatalf("second post: %d %s", r.code, r.raw)
			}
			if again, _ := e.head(t, "desensitized", tc.out); again != outETag {
				t.Errorf("output rewritten by a repeated event: ETag %s, then %s", outETag, again)
			}
		})
	}

	t.Run("a video lands as MP4 through the shared buckets", func(t *testing.T) {
		testenv.FFmpeg(t)
		clip := filepath.Join(t.TempDir(), "clip.mov")
		cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-loop", "1", "-i", photo, "-frames:v", "5", "-r", "5",
			"-vf", "scale=320:-2,format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast", clip)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		data, err := os.ReadFile(clip)
		if err != nil {
			t.Fatal(err)
		}
		etag := e.put(t, "sensitive", "cam2/clip.mov", data, nil)
		r := post(t, ts.URL, awsEvent("sensitive", "cam2/clip.mov"), nil)
		if r.code != http.StatusOK || r.res.Done != 1 || r.res.Objects[0].File.Frames != 5 {
			t.Fatalf("%d %s", r.code, r.raw)
		}
		if _, md := e.head(t, "desensitized", "aws/cam2/clip.mp4"); md[desens.MetaSourceETag] != etag {
			t.Errorf("aws/cam2/clip.mp4 records source ETag %q, want %q", md[desens.MetaSourceETag], etag)
		}
		if r := post(t, ts.URL, awsEvent("sensitive", "cam2/clip.mov"), nil); r.res.Skipped != 1 {
			t.Errorf("repeated video event: %d %s", r.code, r.raw)
		}
	})

	t.Run("an EventBridge key that names nothing is tried decoded", func(t *testing.T) {
		e.put(t, "sensitive", "cam1/front door.jpg", img, nil)
		body := []byte(`{"version":"0","id":"1","detail-type":"Object Created","source":"aws.s3",
"detail":{"bucket":{"name":"sensitive"},"object":{"key":"cam1/front+door.jpg","size":16412}}}`)
		r := post(t, ts.URL, body, nil)
		if r.code != http.StatusOK || r.res.Done != 1 || r.res.Objects[0].Output != "s3://desensitized/aws/cam1/front door.jpg" {
			t.Fatalf("%d %s", r.code, r.raw)
		}
		// A key that exists as given is taken as given.
		e.put(t, "sensitive", "cam1/plus+sign.jpg", img, nil)
		body = []byte(`{"version":"0","id":"2","detail-type":"Object Created","source":"aws.s3",
"detail":{"bucket":{"name":"sensitive"},"object":{"key":"cam1/plus+sign.jpg","size":16412}}}`)
		if r := post(t, ts.URL, body, nil); r.res.Done != 1 || r.res.Objects[0].Output != "s3://desensitized/aws/cam1/plus+sign.jpg" {
			t.Errorf("%d %s", r.code, r.raw)
		}
	})

	t.Run("a new version of the source replaces the output", func(t *testing.T) {
		const key = "cam1/replaced.jpg"
		e.put(t, "sensitive", key, img, nil)
		if r := post(t, ts.URL, awsEvent("sensitive", key), nil); r.res.Done != 1 {
			t.Fatalf("first version: %d %s", r.code, r.raw)
		}
		etag2 := e.put(t, "sensitive", key, append(bytes.Clone(img), 0), nil) // a JPEG with a trailing byte
		if r := post(t, ts.URL, awsEvent("sensitive", key), nil); r.res.Done != 1 {
			t.Fatalf("second version: %d %s", r.code, r.raw)
		}
		if _, md := e.head(t, "desensitized", "aws/"+key); md[desens.MetaSourceETag] != etag2 {
			t.Errorf("output records %q, want the new source ETag %q", md[desens.MetaSourceETag], etag2)
		}
	})

	t.Run("loops are cut", func(t *testing.T) {
		// An output in a shared bucket raises an event of its own.
		e.put(t, "shared", "raw/a.jpg", img, nil)
		if r := post(t, ts.URL, awsEvent("shared", "raw/a.jpg"), nil); r.res.Done != 1 {
			t.Fatalf("source: %d %s", r.code, r.raw)
		}
		r := post(t, ts.URL, awsEvent("shared", "clean/a.jpg"), nil)
		if r.code != http.StatusOK || r.res.Ignored != 1 || !strings.Contains(r.res.Objects[0].Reason, "destination") {
			t.Errorf("event for the output: %d %s", r.code, r.raw)
		}
		// An object desens wrote, copied back under a source prefix.
		outBytes := download(t, e, "shared", "clean/a.jpg")
		e.put(t, "shared", "raw/copied-back.jpg", outBytes, map[string]string{desens.MetaVersion: desens.Version})
		r = post(t, ts.URL, awsEvent("shared", "raw/copied-back.jpg"), nil)
		if r.code != http.StatusOK || r.res.Ignored != 1 || !strings.Contains(r.res.Objects[0].Reason, "written by desens") {
			t.Errorf("event for an object desens wrote: %d %s", r.code, r.raw)
		}
		if keys := e.keys(t, "shared"); len(keys) != 3 {
			t.Errorf("shared bucket holds %q, want raw/a.jpg, raw/copied-back.jpg and clean/a.jpg", keys)
		}
	})

	t.Run("nothing to do is not an error", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			body   []byte
			reason string
		}{
			{"a delete", readFixture(t, "aws-s3-batch.json"), "does not create"},
			{"an unmapped bucket", awsEvent("elsewhere", "a.jpg"), "no mapping"},
			{"a text file", awsEvent("sensitive", "notes.docx"), "not media"},
			{"an object gone since", awsEvent("sensitive", "gone.jpg"), "no longer exists"},
		} {
			r := post(t, ts.URL, tc.body, nil)
			last := len(r.res.Objects) - 1
			if r.code != http.StatusOK || r.res.Ignored == 0 || last < 0 || !strings.Contains(r.res.Objects[last].Reason, tc.reason) {
				t.Errorf("%s: %d %s", tc.name, r.code, r.raw)
			}
		}
		if r := post(t, ts.URL, readFixture(t, "aws-s3-test-event.json"), nil); r.code != http.StatusOK || len(r.res.Objects) != 0 {
			t.Errorf("s3:TestEvent: %d %s", r.code, r.raw)
		}
	})

	t.Run("bad events get 4xx and the service goes on", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			body   []byte
			header map[string]string
			code   int
			msg    string
		}{
			{"not JSON", []byte("hello"), nil, http.StatusBadRequest, "malformed event: not a JSON object"},
			{"a record without a key", []byte(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"sensitive"},"object":{}}}]}`), nil, http.StatusBadRequest, "s3.object.key is missing"},
			{"an unknown event", []byte(`{"hello":"world"}`), nil, http.StatusUnprocessableEntity, "unknown event"},
			{"an unknown CloudEvent type", []byte(`{}`), map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "x", "ce-type": "com.example.order"}, http.StatusUnprocessableEntity, `type "com.example.order"`},
			{"an oversized body", bytes.Repeat([]byte(" "), 65<<10), nil, http.StatusRequestEntityTooLarge, "over 65536 bytes"},
		} {
			r := post(t, ts.URL, tc.body, tc.header)
			if r.code != tc.code || !strings.Contains(r.err, tc.msg) {
				t.Errorf("%s: %d %q, want %d and %q", tc.name, r.code, r.err, tc.code, tc.msg)
			}
		}
		if code, _ := get(t, ts.URL+"/events"); code != http.StatusMethodNotAllowed {
			t.Errorf("GET /events: %d, want 405", code)
		}
		e.put(t, "sensitive", "cam1/after.jpg", img, nil)
		if r := post(t, ts.URL, awsEvent("sensitive", "cam1/after.jpg"), nil); r.code != http.StatusOK || r.res.Done != 1 {
			t.Errorf("a good event after the bad ones: %d %s", r.code, r.raw)
		}
	})

	t.Run("a corrupt object fails with the reason", func(t *testing.T) {
		e.put(t, "sensitive", "cam1/corrupt.jpg", img[:len(img)/3], nil)
		r := post(t, ts.URL, awsEvent("sensitive", "cam1/corrupt.jpg"), nil)
		if r.code != http.StatusInternalServerError || r.res.Failed != 1 || r.res.Objects[0].Retry {
			t.Errorf("%d %s", r.code, r.raw)
		}
		if out, _ := e.head(t, "desensitized", "aws/cam1/corrupt.jpg"); out != "" {
			t.Error("an output appeared for a corrupt source")
		}
	})

	t.Run("metrics count what happened", func(t *testing.T) {
		code, body := get(t, ts.URL+"/metrics")
		for _, want := range []string{`desens_objects_total{status="done"}`, `desens_objects_total{status="skipped"}`,
			`desens_events_total{outcome="malformed"}`, `desens_events_total{outcome="too_large"}`, "desens_ready 1", "go_goroutines"} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("/metrics (%d) lacks %s", code, want)
			}
		}
	})

	t.Run("a full service answers 429", func(t *testing.T) {
		g := gatedRunner{Runner: e.d, started: make(chan struct{}), release: make(chan struct{})}
		gh, err := NewHandler(g, e.mux, mappings(t, "s3://sensitive/=s3://desensitized/busy/")...)
		if err != nil {
			t.Fatal(err)
		}
		defer gh.Close()
		bs := NewServer(ServerOptions{MaxInFlight: 1})
		bs.Start(gh)
		bts := httptest.NewServer(bs)
		defer bts.Close()
		e.put(t, "sensitive", "cam1/busy.jpg", img, nil)
		first := make(chan reply, 1)
		go func() { first <- postNoFatal(bts.URL, awsEvent("sensitive", "cam1/busy.jpg")) }()
		<-g.started
		r := post(t, bts.URL, awsEvent("sensitive", "cam1/busy.jpg"), nil)
		if r.code != http.StatusTooManyRequests || !strings.Contains(r.err, "busy") {
			t.Errorf("second event while the first is in hand: %d %s", r.code, r.raw)
		}
		close(g.release)
		if r := <-first; r.code != http.StatusOK {
			t.Errorf("first event: %d %s", r.code, r.raw)
		}
	})

	t.Run("shutdown lets the event in hand finish", func(t *testing.T) {
		g := gatedRunner{Runner: e.d, started: make(chan struct{}), release: make(chan struct{})}
		gh, err := NewHandler(g, e.mux, mappings(t, "s3://sensitive/=s3://desensitized/drain/")...)
		if err != nil {
			t.Fatal(err)
		}
		defer gh.Close()
		ds := NewServer(ServerOptions{})
		ds.Start(gh)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		served := make(chan error, 1)
		go func() { served <- ds.Serve(ctx, l, 0) }()
		e.put(t, "sensitive", "cam1/drain.jpg", img, nil)
		first := make(chan reply, 1)
		go func() { first <- postNoFatal("http://"+l.Addr().String(), awsEvent("sensitive", "cam1/drain.jpg")) }()
		<-g.started
		stop() // as SIGTERM does in desens serve
		select {
		case err := <-served:
			t.Fatalf("Serve returned before the event in hand finished: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(g.release)
		if r := <-first; r.code != http.StatusOK || r.res.Done != 1 {
			t.Errorf("the event in hand: %d %s", r.code, r.raw)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if out, _ := e.head(t, "desensitized", "drain/cam1/drain.jpg"); out == "" {
			t.Error("no output from the event in hand")
		}
		if _, err := http.Get("http://" + l.Addr().String() + "/healthz"); err == nil {
			t.Error("still accepting connections after shutdown")
		}
	})
}

// TestServeDrainRunsOut: past the drain time, the work in hand is
// cancelled; its event gets 503 (try again) and no output appears.
func TestServeDrainRunsOut(t *testing.T) {
	e := newEnv(t, "sensitive", "desensitized")
	img, err := os.ReadFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	g := gatedRunner{Runner: e.d, started: make(chan struct{}), release: make(chan struct{})}
	h, err := NewHandler(g, e.mux, mappings(t, "s3://sensitive/=s3://desensitized/")...)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	s := NewServer(ServerOptions{})
	s.Start(h)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l, 50*time.Millisecond) }()
	e.put(t, "sensitive", "late.jpg", img, nil)
	first := make(chan reply, 1)
	go func() { first <- postNoFatal("http://"+l.Addr().String(), awsEvent("sensitive", "late.jpg")) }()
	<-g.started
	stop() // the gate is never opened: the drain runs out
	r := <-first
	if r.code != http.StatusServiceUnavailable || r.res.Failed != 1 || !r.res.Objects[0].Retry {
		t.Errorf("the event in hand: %d %s", r.code, r.raw)
	}
	if err := <-served; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve = %v, want the drain's deadline", err)
	}
	if out, _ := e.head(t, "desensitized", "late.jpg"); out != "" {
		t.Error("an output appeared from cancelled work")
	}
}

func postNoFatal(url string, body []byte) reply {
	resp, err := http.Post(url+"/events", "application/json", bytes.NewReader(body))
	if err != nil {
		return reply{code: -1, raw: err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.res)
	return r
}

func download(t *testing.T, e *env, bucket, key string) []byte {
	t.Helper()
	out, err := e.client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
