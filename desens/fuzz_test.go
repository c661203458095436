package desens

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/testenv"
)

// FuzzImage feeds arbitrary bytes as an image. Whatever they are, desens
// must not crash, and if it writes an output, that output is a decodable
// image.
func FuzzImage(f *testing.F) {
	src := filepath.Join(testenv.OpenCVData, "messi5.jpg")
	if data, err := os.ReadFile(src); err == nil {
		f.Add(data, ".jpg")
		f.Add(data[:len(data)/2], ".jpg")
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"), ".png")
	f.Add([]byte("BM\x00\x00"), ".bmp")
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xD9}, ".jpg")
	f.Add([]byte("II*\x00\x08\x00\x00\x00"), ".tif")
	d, err := New(Options{Runtime: RuntimeOptions{Threads: 1}})
	if err != nil {
		testenv.Missing(f, "onnxruntime", err)
	}
	defer d.Close()
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, ext string) {
		if k, err := KindOf("x" + ext); err != nil || k != KindImage || len(ext) > 6 || strings.ContainsAny(ext, "\x00/ ") {
			return
		}
		in := filepath.Join(dir, "in"+ext)
		out := filepath.Join(dir, "out"+ext)
		os.Remove(out)
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rep := d.ProcessFile(t.Context(), in, out)
		if !rep.OK {
			if _, err := os.Stat(out); err == nil {
				t.Fatal("failed file left an output")
			}
			return
		}
		img := gocv.IMRead(out, gocv.IMReadColor)
		defer img.Close()
		if img.Empty() {
			t.Fatal("output does not decode")
		}
	})
}
