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

	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/internal/video"
)

// sampleDir holds the demo media, the valid files the fuzz targets cut.
var sampleDir = filepath.Join(testenv.Root(), "testdata", "sample")

// cutPoints are where a valid file is cut to seed a fuzz target: inside
// the header, through the body, and just short of the end.
func cutPoints(n int) []int {
	return []int{min(n, 64), n / 4, n / 2, n * 8 / 10, n * 95 / 100, n - 2}
}

// addCuts seeds f with data whole and cut at cutPoints.
func addCuts(f *testing.F, data []byte, ext string) {
	f.Add(data, ext)
	for _, n := range cutPoints(len(data)) {
		f.Add(data[:n], ext)
	}
}

type seed struct {
	data []byte
	ext  string
}

// sampleImageSeeds returns the sample photos and what ffmpeg makes of
// one in every other accepted format.
func sampleImageSeeds(f *testing.F) []seed {
	var seeds []seed
	for _, name := range []string{"photo.jpg", "car.jpg"} {
		if data, err := os.ReadFile(filepath.Join(sampleDir, name)); err == nil {
			seeds = append(seeds, seed{data, ".jpg"})
		}
	}
	dir := f.TempDir()
	photo := testenv.File(f, filepath.Join(sampleDir, "photo.jpg"))
	for _, ext := range []string{".png", ".webp", ".tif", ".bmp", ".jp2", ".pgm", ".ppm"} {
		out := filepath.Join(dir, "photo"+ext)
		args := []string{"-i", photo, "-vf", "scale=120:-2"}
		if ext == ".jp2" {
			args = append(args, "-pix_fmt", "rgb24") // OpenCV decodes no subsampled components
		}
		ffmpeg(f, append(args, out)...)
		data, err := os.ReadFile(out)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, seed{data, ext})
	}
	return seeds
}

// FuzzImage feeds arbitrary bytes as an image. Whatever they are, desens
// must not crash, and if it writes an output, that output is a decodable
// image of the size the input's header declares, from an input whose
// header and structure say it is whole. The corpus holds the sample
// photos and the formats ffmpeg makes of one, each whole and cut short.
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
	for _, s := range sampleImageSeeds(f) {
		addCuts(f, s.data, s.ext)
	}
	dir := f.TempDir()
	d, err := New(Options{Runtime: RuntimeOptions{Threads: 1}})
	if err != nil {
		testenv.Missing(f, "onnxruntime", err)
	}
	defer d.Close()
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
		w, h, err := imageHeader(data)
		if err != nil {
			t.Fatalf("processed an input its header check refuses: %v", err)
		}
		img := gocv.IMRead(out, gocv.IMReadColor)
		defer img.Close()
		if img.Empty() {
			t.Fatal("output does not decode")
		}
		if img.Cols()*img.Rows() != w*h {
			t.Fatalf("output is %dx%d, header says %dx%d", img.Cols(), img.Rows(), w, h)
		}
	})
}

// FuzzImageHeader feeds arbitrary bytes to the header reader, which runs
// on untrusted input before any decoder: it must not panic, and a file it
// calls whole has a positive size.
func FuzzImageHeader(f *testing.F) {
	for _, s := range sampleImageSeeds(f) {
		addCuts(f, s.data, s.ext)
	}
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00\x01\x01\x00\x00\x04\x00\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00"), ".tif")
	f.Add([]byte("P6 # c\n3 2\n255\n"), ".ppm")
	f.Fuzz(func(t *testing.T, data []byte, _ string) {
		w, h, err := imageHeader(data)
		if err == nil && (w <= 0 || h <= 0) {
			t.Fatalf("whole image of %dx%d", w, h)
		}
	})
}

// videoPacketStarts returns the byte offsets of a video's video packets.
func videoPacketStarts(t testing.TB, path string) []int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pos", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var pos []int
	for _, l := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(strings.Trim(l, ",")); err == nil {
			pos = append(pos, p)
		}
	}
	return pos
}

// FuzzVideo feeds arbitrary bytes as a video to a desensitizer without
// models, so that only decoding, the checks on it and encoding run.
// Whatever the bytes are, desens must not crash; a failed file leaves no
// output; an output decodes whole, holds every frame desens reports, and
// is written only from an input that gave at least the frames its
// container promises. The corpus holds the sample clip, with its index
// moved first so that a cut keeps the promise, whole and cut at
// cutPoints and right before its video packets near the end.
func FuzzVideo(f *testing.F) {
	dir := f.TempDir()
	street := testenv.File(f, filepath.Join(sampleDir, "street.mp4"))
	fast := filepath.Join(dir, "street-fast.mp4")
	ffmpeg(f, "-i", street, "-c", "copy", "-movflags", "+faststart", fast)
	mkv := filepath.Join(dir, "street.mkv")
	ffmpeg(f, "-i", street, "-c", "copy", mkv)
	for _, src := range []string{fast, mkv} {
		data, err := os.ReadFile(src)
		if err != nil {
			f.Fatal(err)
		}
		addCuts(f, data, filepath.Ext(src))
		if src == fast {
			pkts := videoPacketStarts(f, src)
			for _, i := range []int{len(pkts) * 8 / 10, len(pkts) - 1} {
				f.Add(data[:pkts[i]], ".mp4")
			}
		}
	}
	d, err := newDesensitizer(Options{Runtime: RuntimeOptions{Threads: 1}}, false)
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	f.Fuzz(func(t *testing.T, data []byte, ext string) {
		if k, err := KindOf("x" + ext); err != nil || k != KindVideo || len(ext) > 6 || strings.ContainsAny(ext, "\x00/ ") {
			return
		}
		in := filepath.Join(dir, "in"+ext)
		out := filepath.Join(dir, "out.mp4")
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
		ctx := context.Background()
		info, err := video.Probe(ctx, in)
		if err != nil {
			t.Fatalf("processed an input ffprobe refuses: %v", err)
		}
		if want, slack := info.Promised(); rep.Frames < want-slack {
			t.Fatalf("processed %d of the %d frames the input promises", rep.Frames, want)
		}
		n, err := decodedFrames(ctx, out)
		if err != nil {
			t.Fatalf("output after %d frames: %v", n, err)
		}
		if n != rep.Frames {
			t.Fatalf("output holds %d frames, report says %d", n, rep.Frames)
		}
	})
}

// decodedFrames decodes a whole video and counts its frames.
func decodedFrames(ctx context.Context, path string) (int, error) {
	info, err := video.Probe(ctx, path)
	if err != nil {
		return 0, err
	}
	r, err := video.Open(ctx, path, info)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	img := gocv.NewMat()
	defer img.Close()
	for {
		if err := r.Read(&img); errors.Is(err, io.EOF) {
			return r.Frames(), nil
		} else if err != nil {
			return r.Frames(), err
		}
	}
}
