// Package s3test starts a real S3 server (versitygw) on loopback for tests,
// and a TCP proxy in front of it that can cut connections on purpose.
//
// A real server, rather than an in-process fake, is what catches the
// differences that matter: HTTP framing, signing, multipart rules, error
// bodies. versitygw is a single Go binary that starts in milliseconds.
//
// # Finding the binary
//
// $DESENS_VERSITYGW if set, else <repo>/.cache/bin/versitygw, which
// scripts/setup.sh --test builds. When it is missing the test is skipped,
// except under CI=true, where a skipped server test would hide a broken
// set-up, so it fails instead.
//
// $DESENS_S3TEST_DIR, if set, is where servers keep their objects, e.g.
// /dev/shm for benchmarks that should not measure the disk.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Server is a running versitygw with a posix backend in a temp directory.
type Server struct {
	URL       string // http://127.0.0.1:PORT
	Addr      string // 127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Dir       string // the posix root: one sub-directory per bucket
}

// Environment variables read by this package.
const (
	// EnvBinary points at a versitygw binary.
	EnvBinary = "DESENS_VERSITYGW"
	// EnvDir is where servers keep their data (default: the test's temp
	// dir). Benchmarks want a tmpfs such as /dev/shm, so they measure the
	// client rather than the disk; it must support user xattrs.
	EnvDir = "DESENS_S3TEST_DIR"
)

// Binary returns the path of the versitygw binary, or skips the test (fails
// it under CI=true) when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("s3test: $%s=%s: %v", EnvBinary, p, err)
		}
		return p
	}
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, ".cache", "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	SkipUnlessCI(t, "versitygw not found: run `bash scripts/setup.sh --test` or set $"+EnvBinary)
	return ""
}

// SkipUnlessCI skips the test, or fails it when CI=true: CI must never
// pass by silently not running the tests that need a server.
func SkipUnlessCI(t testing.TB, reason string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("s3test: %s (CI=true: refusing to skip)", reason)
	}
	t.Skip("s3test: " + reason)
}

// repoRoot walks up from the working directory (a package directory under
// go test) to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// Start runs versitygw on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	if parent := os.Getenv(EnvDir); parent != "" {
		var err error
		if dir, err = os.MkdirTemp(parent, "versitygw-"); err != nil {
			t.Fatalf("s3test: $%s: %v", EnvDir, err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	s := &Server{AccessKey: "desens-test-key", SecretKey: "desens-test-secret", Region: "us-east-1", Dir: dir}
	var lastErr error
	for range 3 { // another process may take the port between probe and bind
		addr, err := freePort()
		if err != nil {
			t.Fatalf("s3test: %v", err)
		}
		if lastErr = s.run(t, bin, addr); lastErr == nil {
			return s
		}
	}
	t.Fatalf("s3test: starting versitygw: %v", lastErr)
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// syncBuffer collects the server's output for failure reports.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 1<<20 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (s *Server) run(t testing.TB, bin, addr string) error {
	cmd := exec.Command(bin, "--port", addr, "--quiet", "--keep-alive", "posix", s.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey, "VGW_REGION="+s.Region)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Ready when it answers HTTP at all: an unsigned request gets 403.
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("exited early (%v): %s", err, out.String())
		default:
		}
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("not ready after 20s: %v: %s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Addr, s.URL = addr, "http://"+addr
	t.Cleanup(func() {
		// No graceful shutdown: it waits for idle keep-alive connections,
		// and a test server has nothing to save.
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			if o := out.String(); o != "" {
				t.Logf("versitygw output:\n%s", o)
			}
		}
	})
	return nil
}

// Client returns an SDK client for the server, or for endpoint if given
// (a Proxy in front of it).
func (s *Server) Client(endpoint ...string) *s3.Client {
	url := s.URL
	if len(endpoint) > 0 {
		url = endpoint[0]
	}
	return s3.New(s3.Options{
		BaseEndpoint:               aws.String(url),
		Region:                     s.Region,
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// CreateBucket creates a bucket through the S3 API, so the server records
// its owner as it would in production.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
}
