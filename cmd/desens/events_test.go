package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/desens/desens/internal/s3test"
	"github.com/desens/desens/internal/testenv"
)

func s3Event(bucket, key string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":1,"eTag":"0"}}}]}`, bucket, url.QueryEscape(key))
}

// TestHandle runs desens handle as a function runtime's bootstrap would:
// one event on standard input, the result as JSON on standard output.
func TestHandle(t *testing.T) {
	testenv.ORT(t)
	srv := s3test.Start(t)
	srv.CreateBucket(t, "sensitive")
	srv.CreateBucket(t, "desensitized")
	jpg, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	put(t, srv, "sensitive", "cam 1/a.jpg", jpg)
	put(t, srv, "sensitive", "cam 1/bad.jpg", jpg[:len(jpg)/3])
	flags := []string{"handle", "--s3-endpoint", srv.URL, "--s3-provider", "versitygw", "--map", "s3://sensitive/=s3://desensitized/"}
	handle := func(t *testing.T, stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, append(flags, args...)...)
		cmd.Env = cliEnv(t, srv)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	status := func(t *testing.T, stdout string) string {
		t.Helper()
		var res struct{ Objects []struct{ Status string } }
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Objects) != 1 {
			t.Fatalf("stdout is no result for one object (%v): %s", err, stdout)
		}
		return res.Objects[0].Status
	}

	code, stdout, stderr := handle(t, s3Event("sensitive", "cam 1/a.jpg"))
	if code != 0 || status(t, stdout) != "done" || !exists(t, srv, "desensitized", "cam 1/a.jpg") {
		t.Errorf("first event: exit %d, %s %s", code, stdout, stderr)
	}
	evFile := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(evFile, []byte(s3Event("sensitive", "cam 1/a.jpg")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := handle(t, "", "--event", evFile); code != 0 || status(t, stdout) != "skipped" {
		t.Errorf("the same event from a file: exit %d, %s %s", code, stdout, stderr)
	}
	if code, stdout, _ := handle(t, s3Event("sensitive", "cam 1/bad.jpg")); code != 1 || status(t, stdout) != "failed" {
		t.Errorf("a corrupt object: exit %d, %s", code, stdout)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		says        string
	}{
		{"a malformed event", "{", nil, 1, "event standard input: malformed event"},
		{"an unknown event", `{"a":1}`, nil, 1, "unknown event"},
		{"a missing event file", "", []string{"--event", filepath.Join(t.TempDir(), "none.json")}, 1, "none.json"},
		{"a bad --map", s3Event("sensitive", "cam 1/a.jpg"), []string{"--map", "s3://raw/"}, 2, "want SRC=DST"},
	} {
		if code, _, stderr := handle(t, tc.stdin, tc.args...); code != tc.code || !strings.Contains(stderr, tc.says) {
			t.Errorf("%s: exit %d, %q; want %d and %q", tc.name, code, stderr, tc.code, tc.says)
		}
	}
}

// TestServeProcess runs desens serve: live at once, ready once the models
// are loaded, an event desensitized, and SIGTERM during a video's event
// letting it finish and land before the process exits with status 0.
func TestServeProcess(t *testing.T) {
	testenv.ORT(t)
	srv := s3test.Start(t)
	srv.CreateBucket(t, "sensitive")
	srv.CreateBucket(t, "desensitized")
	jpg, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	put(t, srv, "sensitive", "a.jpg", jpg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--s3-endpoint", srv.URL, "--s3-provider", "versitygw",
		"--map", "s3://sensitive/=s3://desensitized/")
	cmd.Env = cliEnv(t, srv)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	logDone := make(chan struct{})
	lines := make(chan string, 100)
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(io.TeeReader(stderr, &log))
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	defer func() {
		cmd.Process.Kill()
		<-logDone
		cmd.Wait()
		if t.Failed() {
			t.Logf("desens serve said:\n%s", log.String())
		}
	}()
	// It logs "ready" once the models are loaded.
	deadline := time.After(2 * time.Minute)
	for ready := false; !ready; {
		select {
		case line := <-lines:
			ready = strings.Contains(line, "msg=ready")
		case <-deadline:
			t.Fatal("not ready after 2 minutes")
		}
	}
	base := "http://" + addr
	resp, err := http.Get(base + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post(base+"/events", "application/json", strings.NewReader(s3Event("sensitive", "a.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"done": 1`) || !exists(t, srv, "desensitized", "a.jpg") {
		t.Errorf("POST /events: %d %s", resp.StatusCode, body)
	}
	// The first event's log lines, so that the next "event received" is
	// the video's.
	for logged := false; !logged; {
		select {
		case line := <-lines:
			logged = strings.Contains(line, "msg=event ")
		case <-deadline:
			t.Fatal("the first event was not logged")
		}
	}

	// SIGTERM while a video is being desensitized: it finishes and lands.
	testenv.FFmpeg(t)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-loop", "1", "-i",
		filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg"), "-frames:v", "10", "-r", "5",
		"-vf", "scale=320:-2,format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast", clip).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	video, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	put(t, srv, "sensitive", "v.mp4", video)
	type reply struct {
		code int
		body string
		err  error
	}
	replied := make(chan reply, 1)
	go func() {
		resp, err := http.Post(base+"/events", "application/json", strings.NewReader(s3Event("sensitive", "v.mp4")))
		if err != nil {
			replied <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		replied <- reply{code: resp.StatusCode, body: string(b)}
	}()
	for received := false; !received; {
		select {
		case line := <-lines:
			received = strings.Contains(line, `msg="event received"`)
		case <-deadline:
			t.Fatal("the video event was not received")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-replied
	if r.err != nil || r.code != http.StatusOK || !strings.Contains(r.body, `"done": 1`) {
		t.Errorf("the event in hand at SIGTERM: %d %v %s", r.code, r.err, r.body)
	}
	if !exists(t, srv, "desensitized", "v.mp4") {
		t.Error("the video in hand at SIGTERM did not land")
	}
	<-logDone
	err = cmd.Wait()
	if err != nil {
		t.Errorf("after SIGTERM: %v, want exit status 0", err)
	}
}

// TestConsumeProcess runs desens consume against franz-go's in-process
// Kafka cluster: an event on the topic is desensitized, and SIGTERM ends
// it with status 0.
func TestConsumeProcess(t *testing.T) {
	testenv.ORT(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.SeedTopics(1, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	srv := s3test.Start(t)
	srv.CreateBucket(t, "sensitive")
	srv.CreateBucket(t, "desensitized")
	jpg, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	put(t, srv, "sensitive", "k.jpg", jpg)
	producer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	if err := producer.ProduceSync(t.Context(), &kgo.Record{Topic: "uploads", Value: []byte(s3Event("sensitive", "k.jpg"))}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "consume", "--brokers", strings.Join(cluster.ListenAddrs(), ","), "--topic", "uploads",
		"--s3-endpoint", srv.URL, "--s3-provider", "versitygw", "--map", "s3://sensitive/=s3://desensitized/")
	cmd.Env = cliEnv(t, srv)
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("desens consume said:\n%s", log.String())
		}
	}()
	for deadline := time.Now().Add(2 * time.Minute); !exists(t, srv, "desensitized", "k.jpg"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no output after 2 minutes")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v, want exit status 0", err)
	}
}

// TestEventCommandsDocumented: handle, serve and consume have examples
// and exit statuses in their help, and the README's table has every flag
// of theirs that run lacks.
func TestEventCommandsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testenv.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	runNames := map[string]bool{}
	for _, f := range runFlags() {
		for _, n := range f.Names() {
			runNames[n] = true
		}
	}
	app := newApp()
	for _, name := range eventCommands {
		cmd := app.Command(name)
		if cmd == nil {
			t.Fatalf("no command %s", name)
		}
		for _, s := range []string{"EXAMPLES:", "EXIT STATUS:", "--map"} {
			if !strings.Contains(cmd.Description, s) {
				t.Errorf("desens %s --help lacks %s", name, s)
			}
		}
		for _, f := range cmd.Flags {
			if n := f.Names()[0]; !runNames[n] && !bytes.Contains(readme, []byte("`--"+n+"`")) {
				t.Errorf("README does not document desens %s --%s", name, n)
			}
		}
	}
}

// TestServeModelsFail: models that cannot load stop serve with status 1
// and the reason, rather than leave a live process that is never ready.
func TestServeModelsFail(t *testing.T) {
	testenv.ORT(t)
	missing := filepath.Join(t.TempDir(), "no-such-model.onnx")
	code, stderr := runDesens(t, cliEnv(t, &s3test.Server{}), "serve", "--addr", "127.0.0.1:0",
		"--face-model", missing, "--map", "s3://a/=s3://b/")
	if code != 1 || !strings.Contains(stderr, missing) {
		t.Errorf("exit %d, %q; want 1 naming %s", code, stderr, missing)
	}
}
