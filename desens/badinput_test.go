package desens

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// truncate writes the first frac of src to dst.
func truncate(t *testing.T, src, dst string, frac float64) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data[:int(float64(len(data))*frac)], 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBadInputFailsClearly feeds damaged and mislabelled files: each fails
// with an error that names the file and the reason, and leaves no output.
func TestBadInputFailsClearly(t *testing.T) {
	dir := t.TempDir()
	good := makeFaceVideo(t, dir, 30)
	slow := filepath.Join(dir, "moov-at-end.mp4") // no faststart: index written last
	ffmpeg(t, "-i", good, "-c", "copy", "-movflags", "-faststart", slow)
	fast := filepath.Join(dir, "moov-first.mp4")
	ffmpeg(t, "-i", good, "-c", "copy", "-movflags", "+faststart", fast)
	jpg := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))
	png := filepath.Join(dir, "good.png")
	ffmpeg(t, "-i", jpg, png)
	noise := make([]byte, 64<<10)
	for i := range noise {
		noise[i] = byte(i*7919 + i>>3)
	}

	for _, tc := range []struct {
		name   string
		path   string
		reason string // must appear in the error
		is     error
	}{
		{"truncated mp4, index at the end", truncate(t, slow, filepath.Join(dir, "cut-tail.mp4"), 0.5), "", ErrCorruptMedia},
		{"truncated mp4, index first", truncate(t, fast, filepath.Join(dir, "cut-data.mp4"), 0.6), "", ErrCorruptMedia},
		{"noise named mp4", writeFile(t, filepath.Join(dir, "noise.mp4"), noise), "", ErrCorruptMedia},
		{"text named mp4", writeFile(t, filepath.Join(dir, "text.mp4"), []byte("hello, this is not a video\n")), "not a video", ErrCorruptMedia},
		{"empty mp4", writeFile(t, filepath.Join(dir, "empty.mp4"), nil), "empty file", ErrCorruptMedia},
		{"truncated jpeg", truncate(t, jpg, filepath.Join(dir, "cut.jpg"), 0.4), "truncated", ErrCorruptMedia},
		{"truncated png", truncate(t, png, filepath.Join(dir, "cut.png"), 0.5), "", ErrCorruptMedia},
		{"text named jpg", writeFile(t, filepath.Join(dir, "text.jpg"), []byte("not an image at all")), "not an image", ErrCorruptMedia},
		{"noise named png", writeFile(t, filepath.Join(dir, "noise.png"), append([]byte("\x89PNG\r\n\x1a\n"), noise...)), "", ErrCorruptMedia},
		{"unknown extension", writeFile(t, filepath.Join(dir, "notes.xyz"), []byte("x")), "unsupported", ErrUnsupported},
		{"missing file", filepath.Join(dir, "missing.mp4"), "no such file", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDesensitizer(t, Options{})
			outDir := filepath.Join(dir, "out", strings.ReplaceAll(tc.name, " ", "-"))
			out := filepath.Join(outDir, filepath.Base(tc.path))
			rep := d.ProcessFile(t.Context(), tc.path, out)
			if rep.OK {
				t.Fatalf("%s: succeeded", tc.path)
			}
			msg := rep.Error
			if !strings.Contains(msg, tc.path) {
				t.Errorf("error %q does not name the file", msg)
			}
			if tc.reason != "" && !strings.Contains(msg, tc.reason) {
				t.Errorf("error %q does not say %q", msg, tc.reason)
			}
			if tc.is != nil && !errors.Is(rep.Err(), tc.is) {
				t.Errorf("error %q is not %v", msg, tc.is)
			}
			var fe *FileError
			if !errors.As(rep.Err(), &fe) || fe.Stage == "" {
				t.Errorf("error %q is not a *FileError with a stage", msg)
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("output dir not empty after failure: %v", entries)
			}
			t.Logf("%s", msg)
		})
	}
}
