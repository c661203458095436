package desens

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/internal/video"
)

func TestMain(m *testing.M) { os.Exit(testenv.CheckMats(m)) }

func newTestDesensitizer(t *testing.T, o Options) *Desensitizer {
	t.Helper()
	testenv.ORT(t) // skip or fail early with a clear reason
	if o.Runtime.Threads == 0 {
		o.Runtime.Threads = 2
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	testenv.FFmpeg(t)
	cmd := exec.Command("ffmpeg", append([]string{"-v", "error", "-nostdin", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// makeFaceVideo builds a short clip at test time: a real face (cropped from
// opencv-doc's messi5.jpg) moving across a street photo, with a sine audio
// track and a location tag, the way a dashcam might write one.
func makeFaceVideo(t *testing.T, dir string, frames int) string {
	t.Helper()
	bg := testenv.File(t, filepath.Join(testenv.OpenCVData, "building.jpg"))
	face := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))
	out := filepath.Join(dir, "faces.mp4")
	ffmpeg(t, "-loop", "1", "-i", bg, "-loop", "1", "-i", face,
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-filter_complex", "[0:v]scale=640:360,setsar=1[bg];[1:v]crop=90:90:195:70,scale=100:100[f];"+
			"[bg][f]overlay=x='20+n*12':y='100+n*2',format=yuv420p[v]",
		"-map", "[v]", "-map", "2:a", "-frames:v", strconv.Itoa(frames), "-r", "15", "-t", strconv.Itoa(frames/15+1),
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
		"-metadata", "location=+31.2304+121.4737/", "-metadata", "creation_time=2026-01-02T03:04:05Z", out)
	return out
}

// eachFrame decodes a video and calls fn on every frame.
func eachFrame(t testing.TB, path string, fn func(i int, img gocv.Mat)) int {
	t.Helper()
	ctx := context.Background()
	info, err := video.Probe(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := video.Open(ctx, path, info)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img := gocv.NewMat()
	defer img.Close()
	n := 0
	for ; ; n++ {
		err := r.Read(&img)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		fn(n, img)
	}
}

// faces counts faces found by d in img.
func faces(t *testing.T, d *Desensitizer, img gocv.Mat) []detect.Detection {
	t.Helper()
	dets, err := d.Detect(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	return dets
}

// noTemps fails if a temporary output was left behind in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".desens-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
