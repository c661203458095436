package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/desens/desens/internal/s3test"
)

// killRun runs desens with --progress jsonl and kills it with SIGKILL
// once it has announced killAfter more files finished (0: let it end).
// It returns the inputs the run announced finished (made now) and those
// it announced already done, and its summary event if it got that far.
func killRun(t *testing.T, env []string, killAfter int, args ...string) (made, done []string, sum *progressEvent) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--progress", "jsonl"}, args...)...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	killed := false
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		var ev progressEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue // not an event: an error line
		}
		for _, c := range ev.Cleaned {
			t.Logf("rerun cleaned: %s", c)
		}
		switch {
		case ev.Event == "file" && ev.OK != nil && *ev.OK:
			made = append(made, ev.Input)
		case ev.Event == "file":
			t.Errorf("%s failed: %s", ev.Input, ev.Error)
		case ev.Event == "skip" && ev.Done:
			done = append(done, ev.Input)
		case ev.Event == "summary":
			sum = &ev
		}
		if killAfter > 0 && len(made) == killAfter && !killed {
			killed = true
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	err = cmd.Wait()
	if killed {
		t.Logf("killed after %d files made (%d already done)", len(made), len(done))
	} else if err != nil {
		t.Fatalf("desens: %v\n%s", err, log.String())
	}
	return made, done, sum
}

// noisePNG is an image large enough that its output goes up in several
// parts of a multipart upload.
func noisePNG(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	img.Set(0, 0, color.NRGBA{A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestKillAndResume kills a run with SIGKILL at several points, reruns
// it each time, and checks after the last run that every output is there
// once and complete, with no temporary file or pending upload left, and
// that no rerun redid a file an earlier run had finished.
func TestKillAndResume(t *testing.T) {
	photo, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	const photos = 12
	in := t.TempDir()
	var want []string
	for i := range photos {
		name := fmt.Sprintf("cam%d/%02d.jpg", i%2, i)
		os.MkdirAll(filepath.Join(in, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(in, name), photo, 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	slices.Sort(want)

	t.Run("local", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
			"DESENS_ORT_LIB=" + os.Getenv("DESENS_ORT_LIB")}
		resumeAfterKills(t, env, in, out, len(want), "--targets", "face")
		var got []string
		filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(out, p)
			if strings.HasPrefix(e.Name(), ".desens-") {
				t.Errorf("temporary file left: %s", rel)
			}
			if !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
				got = append(got, filepath.ToSlash(rel))
				completeImage(t, rel, mustReadFile(t, p))
			}
			return nil
		})
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("outputs %v, want %v", got, want)
		}
		if _, err := os.Stat(filepath.Join(out, "_SUCCESS")); err != nil {
			t.Error("no _SUCCESS after the last run")
		}
	})

	t.Run("versitygw", func(t *testing.T) {
		srv := s3test.Start(t)
		srv.CreateBucket(t, "clean")
		// Two large outputs go up in parts, so a kill may leave an upload
		// pending for the rerun to abort.
		big := noisePNG(t, 1400, 1400)
		bigIn := t.TempDir()
		os.CopyFS(bigIn, os.DirFS(in))
		for _, n := range []string{"cam0/big1.png", "cam1/big2.png"} {
			os.WriteFile(filepath.Join(bigIn, n), big, 0o644)
		}
		all := slices.Sorted(slices.Values(append(slices.Clone(want), "cam0/big1.png", "cam1/big2.png")))
		// Fixed overlay rectangles need no model, so the large images
		// take no detector time.
		roi := filepath.Join(t.TempDir(), "roi.json")
		os.WriteFile(roi, []byte(`{"regions":[{"name":"gps","box":[0,0.9,0.5,0.1]}]}`), 0o644)
		env := cliEnv(t, srv)
		resumeAfterKills(t, env, bigIn, "s3://clean/day/", len(all), "--targets", "overlay", "--overlay-roi", roi,
			"--s3-endpoint", srv.URL, "--s3-provider", "versitygw", "--s3-part-size", "5")
		c := srv.Client()
		ctx := context.Background()
		bucket := "clean"
		lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range lo.Contents {
			k := strings.TrimPrefix(*o.Key, "day/")
			if strings.HasPrefix(k, "_") {
				continue
			}
			got = append(got, k)
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(obj.Body)
			obj.Body.Close()
			completeImage(t, k, b.Bytes())
		}
		if !slices.Equal(got, all) {
			t.Errorf("outputs %v, want %v", got, all)
		}
		if !exists(t, srv, "clean", "day/_SUCCESS") {
			t.Error("no _SUCCESS after the last run")
		}
		up, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range up.Uploads {
			t.Errorf("multipart upload of %s pending", *u.Key)
		}
	})
}

// resumeAfterKills runs desens from in to out, killed after 2, then 3,
// then 3 more files, then to the end; each rerun must skip every file the
// runs before announced finished, and the last must account for all n.
func resumeAfterKills(t *testing.T, env []string, in, out string, n int, extra ...string) {
	t.Helper()
	args := append([]string{"--workers", "1", "--min-success", "1"}, extra...)
	args = append(args, in, out)
	finished := map[string]bool{}
	for _, kill := range []int{2, 3, 3, 0} {
		made, done, sum := killRun(t, env, kill, args...)
		for _, f := range done {
			delete(finished, f)
		}
		for f := range finished {
			t.Errorf("%s was finished by an earlier run, yet not skipped as already done", f)
		}
		for _, f := range made {
			finished[f] = true
		}
		for _, f := range done {
			finished[f] = true
		}
		if kill == 0 {
			if sum == nil {
				t.Fatal("no summary")
			}
			s := sum.Summary
			if s.OK+s.AlreadyDone != n || s.Failed != 0 || s.OK != len(made) || !*sum.Passed {
				t.Errorf("last run: %+v, passed %v; want %d files ok or already done", s, *sum.Passed, n)
			}
		}
	}
}

// completeImage checks that data is a whole JPEG or PNG.
func completeImage(t *testing.T, name string, data []byte) {
	t.Helper()
	ok := false
	switch filepath.Ext(name) {
	case ".jpg":
		ok = bytes.HasPrefix(data, []byte{0xFF, 0xD8}) && bytes.HasSuffix(data, []byte{0xFF, 0xD9})
	case ".png":
		_, err := png.Decode(bytes.NewReader(data))
		ok = err == nil
	}
	if !ok {
		t.Errorf("%s (%d bytes) is not a complete image", name, len(data))
	}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
