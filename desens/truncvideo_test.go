package desens

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTruncatedVideoFails cuts a 20-frame MP4 whose index comes first, so
// that the container still promises every frame, at 80% of its bytes and
// right before the video packet nearest that point, where FFmpeg logs a
// partial file and exits 0. Each cut fails as corrupt media at the decode
// stage, naming the file and the frames decoded and promised, and leaves
// no output; the whole file goes through.
func TestTruncatedVideoFails(t *testing.T) {
	dir := t.TempDir()
	fast := filepath.Join(dir, "fast.mp4")
	ffmpeg(t, "-i", makeFaceVideo(t, dir, 20), "-c", "copy", "-movflags", "+faststart", fast)
	data, err := os.ReadFile(fast)
	if err != nil {
		t.Fatal(err)
	}
	at := len(data) * 8 / 10
	pkt := 0
	for _, p := range videoPacketStarts(t, fast) {
		if p <= at {
			pkt = p
		}
	}
	d, err := newDesensitizer(Options{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if rep := d.ProcessFile(t.Context(), fast, filepath.Join(dir, "out", "whole.mp4")); !rep.OK || rep.Frames != 20 {
		t.Fatalf("whole file: ok %v, %d frames: %s", rep.OK, rep.Frames, rep.Error)
	}
	for _, c := range []struct {
		name string
		n    int
	}{
		{"at 80% of its bytes", at},
		{"before the video packet at byte " + strconv.Itoa(pkt), pkt},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := writeFile(t, filepath.Join(dir, "cut-"+strconv.Itoa(c.n)+".mp4"), data[:c.n])
			outDir := filepath.Join(dir, "out-"+strconv.Itoa(c.n))
			rep := d.ProcessFile(t.Context(), in, filepath.Join(outDir, "cut.mp4"))
			if rep.OK {
				t.Fatalf("processed %d frames", rep.Frames)
			}
			var fe *FileError
			if !errors.Is(rep.Err(), ErrCorruptMedia) || !errors.As(rep.Err(), &fe) || fe.Stage != "decode" {
				t.Errorf("%q: want corrupt media at the decode stage", rep.Error)
			}
			if !strings.Contains(rep.Error, in) || !strings.Contains(rep.Error, " of the 20 frames the container promises") {
				t.Errorf("%q does not name the file and the frames decoded and promised", rep.Error)
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("output dir not empty after failure: %v", entries)
			}
			t.Log(rep.Error)
		})
	}
}
