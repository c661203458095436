package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/desens/desens/internal/s3test"
	"github.com/desens/desens/internal/testenv"
)

// bin is the desens binary, built once for every test here: the tests run
// it as a user would, and check what it prints and its exit status.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "desens-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "desens")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building desens: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cliEnv is what the binary needs to reach srv, and nothing from the
// machine's own AWS set-up.
func cliEnv(t *testing.T, srv *s3test.Server, extra ...string) []string {
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey, "AWS_REGION=" + srv.Region,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if p := os.Getenv("DESENS_ORT_LIB"); p != "" {
		env = append(env, "DESENS_ORT_LIB="+p)
	}
	return append(env, extra...) // later entries win
}

// runDesens runs the binary and returns its exit status and stderr.
func runDesens(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	t.Fatalf("desens %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

func put(t *testing.T, srv *s3test.Server, bucket, key string, data []byte) {
	t.Helper()
	_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key,
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, srv *s3test.Server, bucket, key string) bool {
	t.Helper()
	_, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	return err == nil
}

// TestRunBuckets runs desens over versitygw the way a user would. A run
// that cannot start prints one line naming the URL and the reason; every
// outcome has its exit status.
func TestRunBuckets(t *testing.T) {
	testenv.ORT(t) // the binary loads the model before it looks at storage
	srv := s3test.Start(t)
	srv.CreateBucket(t, "sensitive")
	srv.CreateBucket(t, "desensitized")
	jpg, err := os.ReadFile(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	put(t, srv, "sensitive", "a/photo.jpg", jpg)
	put(t, srv, "sensitive", "p/good.jpg", jpg)
	put(t, srv, "sensitive", "p/bad.jpg", jpg[:len(jpg)/3])
	s3flags := []string{"run", "-q", "--s3-endpoint", srv.URL, "--s3-provider", "versitygw"}

	for _, tc := range []struct {
		name    string
		env     []string // on top of working credentials
		args    []string // after run and the storage flags
		code    int
		oneLine bool     // stderr is a single line
		says    []string // in stderr
	}{
		{"desens run s3://sensitive/a/photo.jpg s3://desensitized/a/",
			nil, []string{"s3://sensitive/a/photo.jpg", "s3://desensitized/a/"}, 0, false, nil},
		{"a prefix with a corrupt object fails that object and lands the rest",
			nil, []string{"s3://sensitive/p/", "s3://desensitized/p/"}, 1, false,
			[]string{"FAIL s3://sensitive/p/bad.jpg", "truncated JPEG", "1 file of 2 files failed"}},
		{"wrong credentials",
			[]string{"AWS_SECRET_ACCESS_KEY=wrong"}, []string{"s3://sensitive/a/photo.jpg", "s3://desensitized/x/"}, 1, true,
			[]string{"s3://sensitive/a/photo.jpg", "permission denied", "AWS_ACCESS_KEY_ID"}},
		{"wrong credentials on a prefix",
			[]string{"AWS_SECRET_ACCESS_KEY=wrong"}, []string{"s3://sensitive/p/", "s3://desensitized/x/"}, 1, true,
			[]string{"s3://sensitive/p/", "permission denied", "SignatureDoesNotMatch"}},
		{"missing input bucket",
			nil, []string{"s3://no-such-bucket/a.jpg", "s3://desensitized/x/"}, 1, true,
			[]string{"s3://no-such-bucket/a.jpg", "bucket does not exist"}},
		{"missing output bucket",
			nil, []string{"s3://sensitive/a/photo.jpg", "s3://no-such-bucket/x/"}, 1, true,
			[]string{"s3://no-such-bucket/x/", "bucket does not exist"}},
		{"missing key",
			nil, []string{"s3://sensitive/a/nope.jpg", "s3://desensitized/x/"}, 1, true,
			[]string{"s3://sensitive/a/nope.jpg", "object does not exist"}},
		{"a folder named without its slash",
			nil, []string{"s3://sensitive/p", "s3://desensitized/x/"}, 1, true,
			[]string{"s3://sensitive/p", "end the URL with '/'"}},
		{"output inside the input prefix",
			nil, []string{"s3://sensitive/", "s3://sensitive/out/"}, 1, true,
			[]string{"s3://sensitive/out/", "inside input"}},
		{"part size below the S3 minimum",
			nil, []string{"--s3-part-size", "4", "s3://sensitive/a/photo.jpg", "s3://desensitized/x/"}, 2, true,
			[]string{"--s3-part-size"}},
		{"unknown provider",
			nil, []string{"--s3-provider", "dropbox", "s3://sensitive/a/photo.jpg", "s3://desensitized/x/"}, 2, true,
			[]string{"dropbox"}},
		{"unknown scheme",
			nil, []string{"gs://sensitive/a.jpg", "s3://desensitized/x/"}, 1, true,
			[]string{"gs://sensitive/a.jpg", "unknown scheme"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runDesens(t, cliEnv(t, srv, tc.env...), append(s3flags, tc.args...)...)
			t.Logf("exit %d: %s", code, stderr)
			if code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; tc.oneLine && lines != 1 {
				t.Errorf("%d lines on stderr, want 1", lines)
			}
			for _, s := range tc.says {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not say %q", s)
				}
			}
		})
	}
	for _, key := range []string{"a/photo.jpg", "p/good.jpg"} {
		if !exists(t, srv, "desensitized", key) {
			t.Errorf("s3://desensitized/%s did not land", key)
		}
	}
	if exists(t, srv, "desensitized", "p/bad.jpg") {
		t.Error("output of the corrupt object landed")
	}
}
