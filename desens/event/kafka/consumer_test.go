package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/event"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/internal/s3test"
	"github.com/desens/desens/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.CheckMats(m)) }

// recorder passes events to the real handler and reports each result.
type recorder struct {
	h       Handler
	results chan event.Result
}

func (r recorder) Handle(ctx context.Context, objs []event.Object) event.Result {
	res := r.h.Handle(ctx, objs)
	r.results <- res
	return res
}

func s3Event(bucket, key string) []byte {
	return fmt.Appendf(nil, `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":1,"eTag":"0"}}}]}`, bucket, url.QueryEscape(key))
}

// next waits for the handler's next result.
func next(t *testing.T, results chan event.Result, errc chan error) event.Result {
	t.Helper()
	select {
	case r := <-results:
		return r
	case err := <-errc:
		t.Fatalf("consumer stopped: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("no event handled in 2 minutes")
	}
	return event.Result{}
}

// TestConsumer reads S3 events from franz-go's in-process Kafka cluster
// (no broker is packaged for Debian or served by the Go proxy) into
// versitygw with the real models: a crash between an object's output and
// its commit makes it read again and skipped; failures go to the retry
// topic, then to the dead-letter topic with the reason; committed records
// are not read again.
func TestConsumer(t *testing.T) {
	const topic = "uploads"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
		kfake.SeedTopics(1, topic, topic+".retry", topic+".dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	srv := s3test.Start(t)
	testenv.ORT(t)
	srv.CreateBucket(t, "sensitive")
	srv.CreateBucket(t, "desensitized")
	mux := storage.NewMux(storage.S3Config{Provider: "versitygw", Endpoint: srv.URL, Region: srv.Region,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey})
	d, err := desens.New(desens.Options{Storage: mux, Overwrite: true, Runtime: desens.RuntimeOptions{Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, err := event.ParseMapping("s3://sensitive/=s3://desensitized/")
	if err != nil {
		t.Fatal(err)
	}
	h, err := event.NewHandler(d, mux, m)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rec := recorder{h: h, results: make(chan event.Result, 10)}

	client := srv.Client()
	img, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string, data []byte) {
		t.Helper()
		if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("sensitive"), Key: &key,
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}); err != nil {
			t.Fatal(err)
		}
	}
	outETag := func(key string) string {
		t.Helper()
		out, err := client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("desensitized"), Key: &key})
		if err != nil {
			return ""
		}
		return aws.ToString(out.ETag)
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	produce := func(topic string, value []byte) {
		t.Helper()
		if err := producer.ProduceSync(t.Context(), &kgo.Record{Topic: topic, Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	start := func(crash bool) (*Consumer, context.CancelFunc, chan error) {
		t.Helper()
		c, err := New(rec, Options{Brokers: brokers, Topic: topic})
		if err != nil {
			t.Fatal(err)
		}
		if crash {
			c.commit = func(context.Context, *kgo.Record) error { return errors.New("crashed before the commit") }
		}
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx) }()
		return c, cancel, errc
	}

	// 1. The output lands, then the process "dies" before committing.
	put("a.jpg", img)
	produce(topic, s3Event("sensitive", "a.jpg"))
	c, cancel, errc := start(true)
	if r := next(t, rec.results, errc); r.Done != 1 {
		t.Fatalf("first delivery: %+v", r)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "crashed before the commit") {
		t.Fatalf("Run = %v, want the commit's failure", err)
	}
	cancel()
	c.Close()
	first := outETag("a.jpg")
	if first == "" {
		t.Fatal("no output after the first delivery")
	}

	// 2. A new consumer of the group reads it again and skips it.
	c, cancel, errc = start(false)
	if r := next(t, rec.results, errc); r.Skipped != 1 || r.Done != 0 {
		t.Fatalf("redelivery after the crash: %+v", r)
	}
	if again := outETag("a.jpg"); again != first {
		t.Errorf("output rewritten on redelivery: ETag %s, then %s", first, again)
	}

	// 3. A corrupt object fails, goes to the retry topic, fails again and
	// goes to the dead-letter topic; a record that is no event goes there
	// at once.
	put("bad.jpg", img[:len(img)/3])
	produce(topic, s3Event("sensitive", "bad.jpg"))
	produce(topic, []byte("not an event"))
	for i := range 2 {
		if r := next(t, rec.results, errc); r.Failed != 1 {
			t.Fatalf("attempt %d of the corrupt object: %+v", i+1, r)
		}
	}
	dead := readTopic(t, brokers, topic+".dlq", 2)
	want := map[string]string{string(s3Event("sensitive", "bad.jpg")): "truncated", "not an event": "malformed event"}
	for _, r := range dead {
		reason, from := header(r, HeaderReason), header(r, HeaderFrom)
		if w, ok := want[string(r.Value)]; !ok || !strings.Contains(reason, w) || from == "" {
			t.Errorf("dead letter %q: reason %q, from %q", r.Value, reason, from)
		}
	}
	if retried := readTopic(t, brokers, topic+".retry", 1); !strings.Contains(header(retried[0], HeaderReason), "truncated") {
		t.Errorf("retry record's reason: %q", header(retried[0], HeaderReason))
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	c.Close()

	// 4. Everything so far is committed: a new consumer sees only the new event.
	put("c.jpg", img)
	produce(topic, s3Event("sensitive", "c.jpg"))
	c, cancel, errc = start(false)
	defer c.Close()
	defer cancel()
	r := next(t, rec.results, errc)
	if r.Done != 1 || r.Objects[0].Object.Key != "c.jpg" {
		t.Errorf("after restart: %+v, want only c.jpg done", r)
	}
}

// readTopic reads the first n records of a topic from its start.
func readTopic(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("%s: %d records of %d after a minute", topic, len(got), n)
		}
		got = append(got, fs.Records()...)
	}
	return got
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
