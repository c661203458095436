package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/desens/desens/internal/s3test"
)

// batchInput is a day of mixed uploads in a bucket, and what a run must
// make of it.
type batchInput struct {
	outputs []string // relative names of the outputs a run must make
	files   int      // files the report counts (not skipped)
	failed  int      // of which fail
	skipped int      // left out as not handled
}

// putBatch stores in s3://raw/day/: many small photos in nested folders,
// two videos, GPX sidecars (dropped: counted, no output), corrupt images
// and videos, text files desens skips, and archives: a tar and a tar.gz
// with nested folders (a photo, a GPX log, a text file), a zip made on
// Chinese Windows (GBK names), a zip bomb and a zip slip (both fail).
func putBatch(t *testing.T, srv *s3test.Server) batchInput {
	t.Helper()
	var in batchInput
	root := filepath.Join("..", "..", "testdata", "sample")
	clip := mustReadFile(t, filepath.Join(root, "street.mp4"))
	gpx := mustReadFile(t, filepath.Join(root, "street.gpx"))
	c := srv.Client()
	put := func(key string, data []byte) {
		bucket := "raw"
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 240 {
		name := fmt.Sprintf("cam%d/h=%02d/%03d.jpg", i%4, i%24, i)
		put("day/"+name, tinyJPEG(t, i))
		in.outputs = append(in.outputs, name)
	}
	for i := range 2 {
		name := fmt.Sprintf("cam%d/clip%d.mp4", i, i)
		put("day/"+name, clip)
		in.outputs = append(in.outputs, name)
	}
	for i := range 5 {
		put(fmt.Sprintf("day/cam%d/track%d.gpx", i%4, i), gpx)
	}
	for i := range 8 {
		put(fmt.Sprintf("day/cam%d/bad/%d.jpg", i%4, i), tinyJPEG(t, i)[:100])
	}
	put("day/cam1/bad/cut.mp4", clip[:len(clip)/3])
	put("day/cam2/bad/text.mp4", []byte("not a video\n"))
	for i := range 3 {
		put(fmt.Sprintf("day/cam%d/notes%d.txt", i, i), []byte("parked at home"))
	}
	day := []archiveMember{
		{"front/001.jpg", tinyJPEG(t, 1)},
		{"front/track.gpx", gpx},
		{"notes/readme.txt", []byte("logger notes")},
	}
	put("day/cam0/logs/day.tar", packTar(t, day, false))
	put("day/cam1/logs/day.tar.gz", packTar(t, day, true))
	put("day/cam2/logs/win.zip", packZip(t, []archiveMember{
		{"\xd0\xd0\xb3\xb5\xbc\xc7\xc2\xbc/\xc7\xb0\xc9\xe3\xcf\xf1\xcd\xb7.jpg", tinyJPEG(t, 2)}, // 行车记录/前摄像头.jpg in GBK
	}, true))
	in.outputs = append(in.outputs, "cam0/logs/day.tar", "cam1/logs/day.tar.gz", "cam2/logs/win.zip")
	zeros := make([]byte, 32<<20)
	put("day/cam3/bad/bomb.zip", packZip(t, []archiveMember{{"frame.bmp", zeros}}, false))
	put("day/cam3/bad/slip.tar", packTar(t, []archiveMember{{"../../x.jpg", tinyJPEG(t, 3)}}, false))
	in.files, in.failed, in.skipped = 240+2+5+10+5, 10+2, 3
	slices.Sort(in.outputs)
	return in
}

// archiveMember is one file packed into a test archive.
type archiveMember struct {
	name string
	data []byte
}

func packTar(t *testing.T, members []archiveMember, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

// packZip packs members into a zip; raw names are stored as they are,
// without the UTF-8 flag, as Windows tools write GBK names.
func packZip(t *testing.T, members []archiveMember, raw bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Deflate, NonUTF8: raw})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tinyJPEG(t *testing.T, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*seed + seed)
	}
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// listKeys lists the keys under prefix, relative to it.
func listKeys(t *testing.T, srv *s3test.Server, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(srv.Client(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(*o.Key, prefix))
		}
	}
	return keys
}

func getJSON(t *testing.T, srv *s3test.Server, bucket, key string, v any) {
	t.Helper()
	out, err := srv.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

// batchReport is what the tests read of a report.
type batchReport struct {
	Shard string
	Files []struct {
		Input, Error string
		Stage        string `json:"failed_stage"`
	}
	Skipped []struct{ Input string }
	Summary struct {
		Files, OK, Failed, Skipped int
		AlreadyDone                int     `json:"already_done"`
		SuccessRate                float64 `json:"success_rate"`
	}
}

// TestBatchGateAndShards runs a day of a few hundred mixed objects on
// versitygw: a gate just above the success rate fails the run (exit 3, a
// report, no marker), one just below passes it (a manifest and the marker);
// then two, and three, shards run side by side and together make every
// output exactly once.
func TestBatchGateAndShards(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "raw")
	srv.CreateBucket(t, "clean")
	in := putBatch(t, srv)
	rate := float64(in.files-in.failed) / float64(in.files) // 250/262, 95.4%
	roi := filepath.Join(t.TempDir(), "roi.json")
	os.WriteFile(roi, []byte(`{"regions":[{"name":"gps","box":[0,0.9,0.5,0.1]}]}`), 0o644)
	env := cliEnv(t, srv)
	args := func(extra ...string) []string {
		return append([]string{"run", "--progress", "none", "--s3-endpoint", srv.URL, "--s3-provider", "versitygw",
			"--targets", "overlay", "--overlay-roi", roi, "--workers", "2", "--report-failures-only"}, extra...)
	}

	t.Run("gate", func(t *testing.T) {
		code, stderr := runDesens(t, env, args("--min-success", "0.96", "s3://raw/day/", "s3://clean/day/")...)
		if code != exitGate || !strings.Contains(stderr, "below its success gate") {
			t.Fatalf("at 0.96: exit %d, %s; want %d", code, stderr, exitGate)
		}
		if exists(t, srv, "clean", "day/_SUCCESS") || exists(t, srv, "clean", "day/_manifest.json") {
			t.Error("a batch below its gate wrote its marker or manifest")
		}
		var rep batchReport
		getJSON(t, srv, "clean", "day/_report.json", &rep)
		if s := rep.Summary; s.Files != in.files || s.Failed != in.failed || s.Skipped != in.skipped || len(rep.Files) != in.failed {
			t.Errorf("report %+v with %d files listed; want %d files, %d failed (listed), %d skipped", s, len(rep.Files), in.files, in.failed, in.skipped)
		}
		for _, f := range rep.Files {
			if f.Error == "" || f.Stage == "" {
				t.Errorf("failure of %s without its stage and reason", f.Input)
			}
		}

		// The rerun resumes: the finished outputs are already done, and
		// count as succeeded.
		code, stderr = runDesens(t, env, args("--min-success", "0.95", "s3://raw/day/", "s3://clean/day/")...)
		if code != exitOK {
			t.Fatalf("at 0.95: exit %d, %s; want 0", code, stderr)
		}
		getJSON(t, srv, "clean", "day/_report.json", &rep)
		if s := rep.Summary; s.AlreadyDone != len(in.outputs) || s.SuccessRate < 0.95 || s.SuccessRate != rate {
			t.Errorf("rerun %+v: want %d already done, success rate %.4f", s, len(in.outputs), rate)
		}
		var m struct {
			Outputs []struct {
				Name string
				Size int64
			}
		}
		getJSON(t, srv, "clean", "day/_manifest.json", &m)
		var names []string
		for _, o := range m.Outputs {
			names = append(names, o.Name)
			if o.Size <= 0 {
				t.Errorf("manifest: %s of %d bytes", o.Name, o.Size)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, in.outputs) {
			t.Errorf("manifest lists %d outputs, want %d", len(names), len(in.outputs))
		}
		got := listKeys(t, srv, "clean", "day/")
		want := append(slices.Clone(in.outputs), "_SUCCESS", "_manifest.json", "_report.json")
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("output prefix holds %d keys, want %d: %v", len(got), len(want), got)
		}
	})

	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			out := fmt.Sprintf("s%d/", n)
			var wg sync.WaitGroup
			codes := make([]int, n)
			for i := range n {
				wg.Go(func() {
					cmd := exec.Command(bin, args("--shard", fmt.Sprintf("%d/%d", i, n), "--min-success", "0.5",
						"s3://raw/day/", "s3://clean/"+out)...)
					cmd.Env = env
					if err := cmd.Run(); err != nil {
						codes[i] = cmd.ProcessState.ExitCode()
					}
				})
			}
			wg.Wait()
			files, ok, failed, skipped := 0, 0, 0, 0
			for i := range n {
				if codes[i] != 0 {
					t.Errorf("shard %d/%d exit %d", i, n, codes[i])
				}
				var rep batchReport
				getJSON(t, srv, "clean", fmt.Sprintf("%s_report-%d-of-%d.json", out, i, n), &rep)
				if rep.Shard != fmt.Sprintf("%d-of-%d", i, n) {
					t.Errorf("report of shard %d says shard %q", i, rep.Shard)
				}
				files += rep.Summary.Files
				ok += rep.Summary.OK
				failed += rep.Summary.Failed
				skipped += rep.Summary.Skipped
				if !exists(t, srv, "clean", fmt.Sprintf("%s_SUCCESS-%d-of-%d", out, i, n)) {
					t.Errorf("no marker of shard %d", i)
				}
				// The manifest names each output with the ETag its upload got.
				var m struct {
					Outputs []struct{ Name, ETag string }
				}
				getJSON(t, srv, "clean", fmt.Sprintf("%s_manifest-%d-of-%d.json", out, i, n), &m)
				for _, o := range m.Outputs {
					key, bucket := out+o.Name, "clean"
					h, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
					if err != nil || o.ETag == "" || *h.ETag != o.ETag {
						t.Errorf("manifest: %s with ETag %q; the object's is %v (%v)", o.Name, o.ETag, h, err)
						break
					}
				}
			}
			if files != in.files || ok != in.files-in.failed || failed != in.failed || skipped != in.skipped {
				t.Errorf("shards counted %d files, %d ok, %d failed, %d skipped; want %d, %d, %d, %d",
					files, ok, failed, skipped, in.files, in.files-in.failed, in.failed, in.skipped)
			}
			var got []string
			for _, k := range listKeys(t, srv, "clean", out) {
				if !strings.HasPrefix(k, "_") {
					got = append(got, k)
				}
			}
			if !slices.Equal(got, in.outputs) {
				t.Errorf("shards made %d outputs, want %d", len(got), len(in.outputs))
			}
		})
	}
}
