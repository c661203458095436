package benchmark

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/internal/video"
)

// testClip makes a w×h clip of the FFmpeg test pattern.
func testClip(tb testing.TB, w, h, rate int, seconds float64) string {
	tb.Helper()
	testenv.FFmpeg(tb)
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("testsrc-%dx%d.mp4", w, h))
	out, err := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc=size=%dx%d:rate=%d", w, h, rate), "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("making %s: %v\n%s", path, err, out)
	}
	return path
}

// benchOptions are those of every Desensitizer measured here.
var benchOptions = desens.Options{Runtime: desens.RuntimeOptions{Threads: 1}, Overwrite: true}

// newDesensitizer skips when onnxruntime is not installed, except in CI.
func newDesensitizer(t *testing.T) *desens.Desensitizer {
	t.Helper()
	testenv.ORT(t)
	d, err := desens.New(benchOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestRun(t *testing.T) {
	clip := testClip(t, 320, 240, 10, 1)
	d := newDesensitizer(t)
	tests := []struct {
		name   string
		limit  int
		frames int // measured by every stage
	}{
		{"every frame of a 10-frame clip", 0, 10},
		{"--frames 4 limits every measurement to 4 frames", 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			before := liveMats()
			var log strings.Builder
			r, err := Run(t.Context(), d, clip, Config{Frames: tc.limit, TempDir: tmp, Options: benchOptions, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s%s", log.String(), text.String())

			if r.Width != 320 || r.Height != 240 || r.Frames != 10 || r.Bytes <= 0 {
				t.Errorf("file: %dx%d, %d frames, %d bytes; want 320x240, 10 frames", r.Width, r.Height, r.Frames, r.Bytes)
			}
			stages := map[string]Stage{"decode": r.Decode, "detect": r.Detect, "pipeline": r.Pipeline, "ffmpeg": r.FFmpeg}
			for name, s := range stages {
				if s.Frames != tc.frames {
					t.Errorf("%s measured %d frames, want %d", name, s.Frames, tc.frames)
				}
				if s.Seconds <= 0 || s.FPS <= 0 || s.MsPerFrame <= 0 {
					t.Errorf("%s: %+v, want positive time and rates", name, s)
				}
				if name != "detect" && s.MBps <= 0 {
					t.Errorf("%s: MB/s %v, want positive", name, s.MBps)
				}
			}
			if r.Ratio <= 0 || r.FaceInferences <= 0 {
				t.Errorf("ratio %v, face inferences/frame %d; want both positive", r.Ratio, r.FaceInferences)
			}
			// The video face proposer ran through its batching session, in
			// runs of one (the CPU's default batch).
			if i := slices.IndexFunc(r.Batches, func(b ModelBatch) bool { return b.Model == "yunet" }); r.Batch != 1 || i < 0 ||
				r.Batches[i].Runs <= 0 || r.Batches[i].Inputs != r.Batches[i].Runs || r.Batches[i].Max != 1 {
				t.Errorf("batch %d, batches %+v: want yunet's runs at batch 1", r.Batch, r.Batches)
			}
			m := r.Machine
			if m.Cores <= 0 || m.ONNXRuntime == "" || m.Device != "cpu" {
				t.Errorf("machine %+v: want cores, onnxruntime version and device", m)
			}
			if before >= 0 {
				if after := liveMats(); after != before {
					t.Errorf("%d gocv Mats leaked", after-before)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

func TestRunRejects(t *testing.T) {
	d := newDesensitizer(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		cfg  Config
		want string
	}{
		{"a file that does not exist", filepath.Join(dir, "missing.mp4"), Config{}, "no such file"},
		{"a directory", dir, Config{}, "not a regular file"},
		{"a file that is not a video", text, Config{}, "not a video"},
		{"a negative frame limit", text, Config{Frames: -1}, "want 0 (all) or more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(t.Context(), d, tc.file, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestTranscodeArgs(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		want  string
	}{
		{"every frame, with the preset and CRF desens encodes with",
			0, "-v error -nostdin -i in.mov -map 0:v:0 -c:v libx264 -preset veryfast -crf 20 -f mp4 -y out.mp4"},
		{"a frame limit becomes -frames:v",
			25, "-v error -nostdin -i in.mov -map 0:v:0 -frames:v 25 -c:v libx264 -preset veryfast -crf 20 -f mp4 -y out.mp4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(TranscodeArgs("in.mov", "out.mp4", tc.limit), " "); got != tc.want {
				t.Errorf("ffmpeg %s\nwant   %s", got, tc.want)
			}
		})
	}
	// The yardstick must encode as desens does.
	w := video.WriterConfig{}.Args("x.mp4")
	if !reflect.DeepEqual(after(w, "-preset"), []string{Preset}) || !reflect.DeepEqual(after(w, "-crf"), []string{fmt.Sprint(CRF)}) {
		t.Errorf("desens encodes with -preset %v -crf %v, the yardstick with %s and %d", after(w, "-preset"), after(w, "-crf"), Preset, CRF)
	}
}

func after(args []string, flag string) []string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1 : i+2]
		}
	}
	return nil
}

// BenchmarkDecode720p is the cost of decoding one 1280×720 H.264 frame into
// a BGR Mat through the FFmpeg pipe, the floor under every other figure.
func BenchmarkDecode720p(b *testing.B) {
	clip := testClip(b, 1280, 720, 25, 2)
	info, err := video.Probe(b.Context(), clip)
	if err != nil {
		b.Fatal(err)
	}
	frames := 0
	for b.Loop() {
		n, _, _, err := Decode(b.Context(), clip, info, 0)
		if err != nil {
			b.Fatal(err)
		}
		frames += n
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}

// liveMats counts open gocv Mats (-1 without -tags matprofile).
func liveMats() int { n, _ := testenv.LiveMats(); return n }

// TestRunPlateStages: with plates among the targets, the plate detector
// is timed on every frame searched in full and as the stream a video
// gets, on the same frames.
func TestRunPlateStages(t *testing.T) {
	clip := testClip(t, 320, 240, 10, 0.5)
	testenv.ORT(t)
	opts := benchOptions
	opts.Targets = []detect.Class{detect.Plate}
	d, err := desens.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := Run(t.Context(), d, clip, Config{TempDir: t.TempDir(), Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Plate
	if p == nil {
		t.Fatal("no plate stage")
	}
	for name, s := range map[string]Stage{"in full": p.Stage, "stream": p.Stream} {
		if s.Frames != 5 || s.Seconds <= 0 || s.MsPerFrame <= 0 {
			t.Errorf("plates %s: %+v, want 5 frames timed", name, s)
		}
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "(b) plate stream") {
		t.Errorf("no plate stream row in\n%s", text.String())
	}
}
