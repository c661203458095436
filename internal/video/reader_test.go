package video

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

	"github.com/desens/desens/internal/testenv"
)

// run runs ffmpeg or ffprobe and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// makeClip writes a 30-frame 15 fps clip with an audio track into dir,
// keyframes every 10 frames, its index at the start.
func makeClip(t *testing.T, dir string) string {
	t.Helper()
	testenv.FFmpeg(t)
	src := filepath.Join(dir, "clip.mp4")
	run(t, "ffmpeg", "-v", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "testsrc=size=160x120:rate=15", "-f", "lavfi", "-i", "sine=sample_rate=44100",
		"-frames:v", "30", "-t", "2", "-g", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-movflags", "+faststart", src)
	return src
}

// decodeAll decodes path to the end and returns the frame count and the
// error that ended it (nil for io.EOF).
func decodeAll(t *testing.T, path string) (int, error) {
	t.Helper()
	ctx := context.Background()
	info, err := Probe(ctx, path)
	if err != nil {
		return 0, err
	}
	r, err := Open(ctx, path, info)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img := gocv.NewMat()
	defer img.Close()
	for {
		err := r.Read(&img)
		if errors.Is(err, io.EOF) {
			return r.Frames(), nil
		}
		if err != nil {
			return r.Frames(), err
		}
	}
}

// cut writes the first n bytes of src to dst.
func cut(t *testing.T, src, dst string, n int) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data[:n], 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// videoPackets returns the byte offsets of the video packets of path.
func videoPackets(t *testing.T, path string) []int {
	t.Helper()
	var pos []int
	for _, l := range strings.Fields(run(t, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pos", "-of", "csv=p=0", path)) {
		if p, err := strconv.Atoi(strings.Trim(l, ",")); err == nil {
			pos = append(pos, p)
		}
	}
	return pos
}

// TestReaderRefusesTruncatedVideo cuts a clip whose index comes first,
// so that the container still promises every frame, both inside a packet
// (FFmpeg fails) and right before a video packet (FFmpeg logs a partial
// file and exits 0), in MP4 and Matroska. Each cut fails with ErrCorrupt
// naming the frames decoded and promised.
func TestReaderRefusesTruncatedVideo(t *testing.T) {
	dir := t.TempDir()
	src := makeClip(t, dir)
	mkv := filepath.Join(dir, "clip.mkv")
	run(t, "ffmpeg", "-v", "error", "-nostdin", "-y", "-i", src, "-c", "copy", mkv)
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	size := int(fi.Size())
	pkts := videoPackets(t, src)
	if len(pkts) != 30 {
		t.Fatalf("%d video packets, want 30", len(pkts))
	}
	mfi, err := os.Stat(mkv)
	if err != nil {
		t.Fatal(err)
	}

	type tc struct {
		name string
		src  string
		n    int
	}
	cases := []tc{
		{"mp4 at 60%", src, size * 6 / 10},
		{"mp4 at 80%", src, size * 8 / 10},
		{"mkv at 80%", mkv, int(mfi.Size()) * 8 / 10},
	}
	for _, i := range []int{15, 20, 24, 27} {
		cases = append(cases, tc{"mp4 before video packet " + strconv.Itoa(i), src, pkts[i]})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := cut(t, c.src, filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+filepath.Ext(c.src)), c.n)
			n, err := decodeAll(t, path)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decoded %d frames, err %v: want ErrCorrupt", n, err)
			}
			if want := "decoded " + strconv.Itoa(n) + " of the 30 frames"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			t.Log(err)
		})
	}
}

// TestReaderAcceptsCompleteVideo decodes whole videos whose containers
// promise their frames in different ways, or not at all, and whose frames
// an edit list trims: none may fail the frame count check.
func TestReaderAcceptsCompleteVideo(t *testing.T) {
	dir := t.TempDir()
	src := makeClip(t, dir)
	remux := func(name string, args ...string) string {
		out := filepath.Join(dir, name)
		run(t, "ffmpeg", append(append([]string{"-v", "error", "-nostdin", "-y"}, args...), out)...)
		return out
	}
	for _, c := range []struct {
		name string
		path string
		want int
	}{
		{"mp4, index first", src, 30},
		{"mp4, index last", remux("last.mp4", "-i", src, "-c", "copy"), 30},
		{"mp4 trimmed by an edit list", remux("trim.mp4", "-ss", "0.9", "-i", src, "-c", "copy"), 16},
		{"fragmented mp4", remux("frag.mp4", "-i", src, "-c", "copy", "-movflags", "frag_keyframe+empty_moov"), 30},
		{"matroska", remux("clip.mkv", "-i", src, "-c", "copy"), 30},
		{"webm without audio", remux("clip.webm", "-i", src, "-an", "-c:v", "libvpx", "-deadline", "realtime"), 30},
		{"mpeg-ts", remux("clip.ts", "-i", src, "-c", "copy"), 30},
		{"raw h264", remux("clip.h264", "-i", src, "-an", "-c", "copy"), 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := decodeAll(t, c.path)
			if err != nil {
				t.Fatalf("after %d frames: %v", n, err)
			}
			if n != c.want {
				t.Errorf("decoded %d frames, want %d", n, c.want)
			}
		})
	}
}

// TestPromised checks the promise read from each kind of container
// information.
func TestPromised(t *testing.T) {
	for _, c := range []struct {
		name        string
		info        Info
		want, slack int
	}{
		{"frame count", Info{Frames: 300, VideoDuration: 10, FPS: 30, Format: "mov,mp4,m4a,3gp,3g2,mj2"}, 300, 2},
		{"edit list hides frames", Info{Frames: 90, VideoDuration: 1.9, FPS: 30, Format: "mov,mp4,m4a,3gp,3g2,mj2"}, 57, 3},
		{"duration only", Info{VideoDuration: 100, FPS: 25, Format: "matroska,webm"}, 2500, 52},
		{"transport stream", Info{VideoDuration: 100, FPS: 25, Format: "mpegts"}, 0, 0},
		{"nothing", Info{FPS: 25, Format: "h264"}, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, slack := c.info.Promised(); got != c.want || slack != c.slack {
				t.Errorf("Promised() = %d, %d; want %d, %d", got, slack, c.want, c.slack)
			}
		})
	}
}

// TestStreamDuration reads both forms of a stream's duration.
func TestStreamDuration(t *testing.T) {
	for _, c := range []struct {
		field, tag string
		want       float64
	}{
		{"1.333333", "", 1.333333},
		{"N/A", "00:00:01.357000000", 1.357},
		{"", "01:02:03.500000000", 3723.5},
		{"", "garbage", 0},
		{"N/A", "", 0},
	} {
		if got := streamDuration(c.field, c.tag); got != c.want {
			t.Errorf("streamDuration(%q, %q) = %v, want %v", c.field, c.tag, got, c.want)
		}
	}
}

// TestReaderCountsFrames decodes a whole clip against promises of more
// frames than it holds: within the slack it ends cleanly, beyond it fails,
// even though FFmpeg itself logs nothing.
func TestReaderCountsFrames(t *testing.T) {
	src := makeClip(t, t.TempDir())
	ctx := context.Background()
	info, err := Probe(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		promise int
		fails   bool
	}{
		{30, false},
		{32, false},
		{33, true},
		{300, true},
	} {
		t.Run(strconv.Itoa(c.promise), func(t *testing.T) {
			info := info
			info.Frames = c.promise
			info.VideoDuration = float64(c.promise) / info.FPS
			r, err := Open(ctx, src, info)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			img := gocv.NewMat()
			defer img.Close()
			for err == nil {
				err = r.Read(&img)
			}
			if c.fails != errors.Is(err, ErrCorrupt) || !c.fails && !errors.Is(err, io.EOF) {
				t.Fatalf("promise of %d frames: %v", c.promise, err)
			}
			if c.fails && !strings.Contains(err.Error(), "decoded 30 of the "+strconv.Itoa(c.promise)+" frames") {
				t.Errorf("error %q does not count the frames", err)
			}
		})
	}
}
