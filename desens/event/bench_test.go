package event

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/desens/desens/desens"
)

// BenchmarkServeEvent times one S3 event for a small image through the
// service (versitygw, real models): "done" desensitizes a new version of
// the object each time, "skipped" is a repeated event (parse and two
// HEADs), and "run" is the same object through Desensitizer.Run without
// the event layer, for the overhead between the two; "done-unshared"
// opens the buckets on every run instead of once (ShareBuckets).
func BenchmarkServeEvent(b *testing.B) {
	e := newEnv(b, "sensitive", "desensitized")
	img, err := os.ReadFile(photo)
	if err != nil {
		b.Fatal(err)
	}
	tr := &timedRunner{Runner: e.d}
	h, err := NewHandler(tr, e.mux, mappings(b, "s3://sensitive/=s3://desensitized/")...)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	s := NewServer(ServerOptions{})
	s.Start(h)
	ts := httptest.NewServer(s)
	defer ts.Close()
	postOK := func(body []byte) {
		resp, err := http.Post(ts.URL+"/events", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%d", resp.StatusCode)
		}
	}
	version := 0
	newVersion := func(key string) {
		version++
		e.put(b, "sensitive", key, append(bytes.Clone(img), make([]byte, version%64)...), map[string]string{"v": fmt.Sprint(version)})
	}

	b.Run("done", func(b *testing.B) {
		tr.inRun = 0
		var total time.Duration
		for b.Loop() {
			b.StopTimer()
			newVersion("bench/done.jpg")
			b.StartTimer()
			start := time.Now()
			postOK(awsEvent("sensitive", "bench/done.jpg"))
			total += time.Since(start)
		}
		// What the event layer adds to each Run: HTTP, parsing, two HEADs.
		b.ReportMetric(float64((total-tr.inRun).Microseconds())/1000/float64(b.N), "overhead-ms/op")
	})
	b.Run("done-unshared", func(b *testing.B) {
		d, err := desens.New(desens.Options{Storage: e.plain, Overwrite: true, Runtime: desens.RuntimeOptions{Threads: 2}})
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		uh, err := NewHandler(d, e.plain, mappings(b, "s3://sensitive/=s3://desensitized/")...)
		if err != nil {
			b.Fatal(err)
		}
		defer uh.Close()
		s.Start(uh)
		defer s.Start(h)
		for b.Loop() {
			b.StopTimer()
			newVersion("bench/unshared.jpg")
			b.StartTimer()
			postOK(awsEvent("sensitive", "bench/unshared.jpg"))
		}
	})
	b.Run("skipped", func(b *testing.B) {
		newVersion("bench/skip.jpg")
		postOK(awsEvent("sensitive", "bench/skip.jpg"))
		for b.Loop() {
			postOK(awsEvent("sensitive", "bench/skip.jpg"))
		}
	})
	b.Run("run", func(b *testing.B) {
		newVersion("bench/run.jpg")
		for b.Loop() {
			rep, err := e.d.Run(b.Context(), "s3://sensitive/bench/run.jpg", "s3://desensitized/direct/run.jpg", nil)
			if err != nil || rep.Summary.Failed != 0 {
				b.Fatal(err, rep.Summary)
			}
		}
	})
}

// timedRunner adds up the time spent in Run.
type timedRunner struct {
	Runner
	inRun time.Duration
}

func (r *timedRunner) Run(ctx context.Context, in, out string, onFile func(desens.FileReport)) (*desens.Report, error) {
	start := time.Now()
	defer func() { r.inRun += time.Since(start) }()
	return r.Runner.Run(ctx, in, out, onFile)
}
