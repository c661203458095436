package desens

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// tiffEntry is one IFD entry: a SHORT (type 3) or LONG (type 4) array.
type tiffEntry struct {
	tag, typ uint16
	vals     []uint32
}

// makeTIFF writes a baseline TIFF in byte order bo whose only directory
// comes first, followed by the entries' out-of-line arrays and then body.
// Offsets in entries are relative to the start of body; fix marks the tags
// whose values are such offsets.
func makeTIFF(bo binary.ByteOrder, entries []tiffEntry, body []byte, fix ...uint16) []byte {
	slices.SortFunc(entries, func(a, b tiffEntry) int { return int(a.tag) - int(b.tag) })
	size := func(e tiffEntry) int {
		if e.typ == 3 {
			return 2 * len(e.vals)
		}
		return 4 * len(e.vals)
	}
	ifdLen := 2 + 12*len(entries) + 4
	extra := 0
	for _, e := range entries {
		if size(e) > 4 {
			extra += size(e)
		}
	}
	bodyAt := uint32(8 + ifdLen + extra)
	var b bytes.Buffer
	if bo == binary.LittleEndian {
		b.WriteString("II")
	} else {
		b.WriteString("MM")
	}
	put16 := func(v uint16) { _ = binary.Write(&b, bo, v) }
	put32 := func(v uint32) { _ = binary.Write(&b, bo, v) }
	put16(42)
	put32(8)
	put16(uint16(len(entries)))
	var arrays bytes.Buffer
	arrayAt := uint32(8 + ifdLen)
	for _, e := range entries {
		vals := slices.Clone(e.vals)
		if slices.Contains(fix, e.tag) {
			for i := range vals {
				vals[i] += bodyAt
			}
		}
		var v bytes.Buffer
		for _, x := range vals {
			if e.typ == 3 {
				_ = binary.Write(&v, bo, uint16(x))
			} else {
				_ = binary.Write(&v, bo, x)
			}
		}
		put16(e.tag)
		put16(e.typ)
		put32(uint32(len(vals)))
		if v.Len() <= 4 {
			b.Write(append(v.Bytes(), make([]byte, 4-v.Len())...))
		} else {
			put32(arrayAt + uint32(arrays.Len()))
			arrays.Write(v.Bytes())
		}
	}
	put32(0)
	b.Write(arrays.Bytes())
	b.Write(body)
	return b.Bytes()
}

// rgbTIFF is a w×h uncompressed RGB TIFF, eight rows a strip, its pixels
// after its directory, as scanners and cameras write it.
func rgbTIFF(bo binary.ByteOrder, w, h int) []byte {
	var offs, counts []uint32
	var body []byte
	for y := 0; y < h; y += 8 {
		rows := min(8, h-y)
		offs = append(offs, uint32(len(body)))
		counts = append(counts, uint32(rows*w*3))
		for i := range rows * w * 3 {
			body = append(body, byte((y*w*3+i)*7/5))
		}
	}
	return makeTIFF(bo, []tiffEntry{
		{256, 4, []uint32{uint32(w)}}, {257, 3, []uint32{uint32(h)}},
		{258, 3, []uint32{8, 8, 8}}, {259, 3, []uint32{1}}, {262, 3, []uint32{2}},
		{273, 4, offs}, {277, 3, []uint32{3}}, {278, 3, []uint32{8}}, {279, 4, counts},
	}, body, 273)
}

// tiffBomb is a w×h greyscale TIFF whose strips all point at one small
// deflated strip of zeros: a few kilobytes that decode to w×h bytes.
func tiffBomb(bo binary.ByteOrder, w, h int) []byte {
	const rows = 64
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, w*rows))
	_ = zw.Close()
	n := (h + rows - 1) / rows
	offs, counts := make([]uint32, n), make([]uint32, n)
	for i := range counts {
		counts[i] = uint32(z.Len())
	}
	return makeTIFF(bo, []tiffEntry{
		{256, 4, []uint32{uint32(w)}}, {257, 4, []uint32{uint32(h)}},
		{258, 3, []uint32{8}}, {259, 3, []uint32{8}}, {262, 3, []uint32{1}},
		{273, 4, offs}, {277, 3, []uint32{1}}, {278, 4, []uint32{rows}}, {279, 4, counts},
	}, z.Bytes(), 273)
}

// sampleImages writes one w×h image per accepted format into dir, made by
// ffmpeg from opencv-doc's messi5.jpg, plus directory-first TIFFs in both
// byte orders, and returns their paths by name.
func sampleImages(t *testing.T, dir string, w, h int) map[string]string {
	t.Helper()
	src := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))
	scale := "scale=" + strconv.Itoa(w) + ":" + strconv.Itoa(h)
	files := map[string]string{}
	for _, f := range []struct {
		name string
		args []string
	}{
		{"jpeg", nil},
		{"png", nil},
		{"bmp", nil},
		{"webp VP8", nil},
		{"webp VP8L", []string{"-lossless", "1"}},
		{"webp VP8X", []string{"-pix_fmt", "yuva420p"}},
		{"tiff", nil},
		{"jp2", []string{"-pix_fmt", "rgb24"}}, // OpenCV decodes no subsampled components
		{"pgm", nil},
		{"ppm", nil},
	} {
		ext := strings.Fields(f.name)[0]
		if ext == "jpeg" {
			ext = "jpg"
		}
		path := filepath.Join(dir, strings.ReplaceAll(f.name, " ", "-")+"."+ext)
		vf := scale
		if f.name == "webp VP8X" {
			// A translucent overlay keeps the alpha plane, which needs VP8X.
			vf += ",format=yuva420p,colorchannelmixer=aa=0.5"
		}
		ffmpeg(t, append(append([]string{"-i", src, "-vf", vf}, f.args...), "-frames:v", "1", path)...)
		files[f.name] = path
	}
	files["tiff, directory first, little-endian"] = writeFile(t, filepath.Join(dir, "first-le.tif"), rgbTIFF(binary.LittleEndian, w, h))
	files["tiff, directory first, big-endian"] = writeFile(t, filepath.Join(dir, "first-be.tif"), rgbTIFF(binary.BigEndian, w, h))
	return files
}

// TestImageHeaderSize reads the size of images of every accepted format
// from their headers, WebP's three forms included, 512 wide so that a
// width over 255 needs its second byte.
func TestImageHeaderSize(t *testing.T) {
	files := sampleImages(t, t.TempDir(), 512, 300)
	for name, path := range files {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(name, "webp") && string(data[12:16]) != strings.Fields(name)[1]+strings.Repeat(" ", 4-len(strings.Fields(name)[1])) {
				t.Fatalf("%s holds a %q chunk", path, data[12:16])
			}
			w, h, err := imageHeader(data)
			if err != nil {
				t.Fatal(err)
			}
			if w != 512 || h != 300 {
				t.Errorf("header says %dx%d, want 512x300", w, h)
			}
		})
	}
}

// cuts are where TestTruncatedImagesFail cuts each image: half, most, and
// all but its last two bytes.
func cuts(n int) []int { return []int{n / 2, n * 9 / 10, n - 2} }

// TestTruncatedImagesFail cuts an image of every accepted format at
// several points: each cut fails as corrupt media, naming the file and
// saying it is truncated, from desens's own checks whatever the decoder
// makes of it, and leaves no output, while the whole image goes through.
func TestTruncatedImagesFail(t *testing.T) {
	dir := t.TempDir()
	files := sampleImages(t, dir, 320, 200)
	d := newTestDesensitizer(t, Options{})
	for name, path := range files {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ext := filepath.Ext(path)
			outDir := filepath.Join(dir, "out", strings.ReplaceAll(name, " ", "-"))
			if rep := d.ProcessFile(t.Context(), path, filepath.Join(outDir, "whole"+ext)); !rep.OK {
				t.Fatalf("whole image: %s", rep.Error)
			}
			for _, n := range cuts(len(data)) {
				in := writeFile(t, filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+"-"+strconv.Itoa(n)+ext), data[:n])
				out := filepath.Join(outDir, strconv.Itoa(n)+ext)
				rep := d.ProcessFile(t.Context(), in, out)
				if rep.OK {
					t.Errorf("cut to %d of %d bytes: processed", n, len(data))
					continue
				}
				if !errors.Is(rep.Err(), ErrCorruptMedia) || !strings.Contains(rep.Error, in) || !strings.Contains(rep.Error, "truncated") {
					t.Errorf("cut to %d of %d bytes: %q is not truncated media naming the file", n, len(data), rep.Error)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("cut to %d of %d bytes: output written", n, len(data))
				}
			}
		})
	}
}

// peakRSS is the process's peak resident memory in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Maxrss << 10
}

// TestImageBombRefused feeds small files whose headers declare more
// pixels than the limit, the TIFFs among them really decoding to that
// many: each is refused from its header, before any decoder allocates the
// image, and the process's peak memory stays where it was.
func TestImageBombRefused(t *testing.T) {
	dir := t.TempDir()
	riff := func(chunk string, payload []byte) []byte {
		b := []byte("RIFF\x00\x00\x00\x00WEBP" + chunk + "\x00\x00\x00\x00")
		binary.LittleEndian.PutUint32(b[16:], uint32(len(payload)))
		b = append(b, payload...)
		binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
		return b
	}
	// 16000x16000 canvas: width-1 and height-1 in three bytes each.
	vp8x := riff("VP8X", []byte{0x10, 0, 0, 0, 0x7f, 0x3e, 0, 0x7f, 0x3e, 0})
	jp2 := []byte("\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 \x00\x00\x00\x00jp2 " +
		"\x00\x00\x00\x2djp2h\x00\x00\x00\x16ihdr\x00\x00\x4e\x20\x00\x00\x4e\x20\x00\x03\x07\x07\x00\x00" +
		"\x00\x00\x00\x0fcolr\x01\x00\x00\x00\x00\x00\x10" +
		"\x00\x00\x00\x00jp2c\xff\x4f\xff\x51\x00\x2f\x00\x00\x00\x00\x4e\x20\x00\x00\x4e\x20\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x4e\x20\x00\x00\x4e\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x07\x01\x01\x07\x01\x01\x07\x01\x01")
	for _, c := range []struct {
		name string
		data []byte
		ext  string
	}{
		{"tiff 60000x60000, little-endian", tiffBomb(binary.LittleEndian, 60000, 60000), ".tif"},
		{"tiff 11000x11000, big-endian", tiffBomb(binary.BigEndian, 11000, 11000), ".tiff"},
		{"webp 16000x16000", vp8x, ".webp"},
		{"jp2 20000x20000", jp2, ".jp2"},
		{"pgm 20000x20000", append([]byte("P5\n# comment\n20000 20000\n255\n"), make([]byte, 4096)...), ".pgm"},
		{"ppm 12000x12000", append([]byte("P6 12000 12000 255\n"), make([]byte, 4096)...), ".ppm"},
		{"bmp 20000x20000", append([]byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"+
			"\x20\x4e\x00\x00\x20\x4e\x00\x00\x01\x00\x18\x00"), make([]byte, 4096)...), ".bmp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.data) > 256<<10 {
				t.Fatalf("bomb of %d bytes is not small", len(c.data))
			}
			d := newTestDesensitizer(t, Options{})
			in := writeFile(t, filepath.Join(dir, strings.Fields(c.name)[0]+"-"+strings.Fields(c.name)[1]+c.ext), c.data)
			before := peakRSS(t)
			rep := d.ProcessFile(t.Context(), in, filepath.Join(dir, "out", filepath.Base(in)))
			grew := peakRSS(t) - before
			if rep.OK {
				t.Fatal("processed")
			}
			if !errors.Is(rep.Err(), ErrUnsupported) || !strings.Contains(rep.Error, "header says") || !strings.Contains(rep.Error, in) {
				t.Errorf("%q: want unsupported, refused from the header, naming the file", rep.Error)
			}
			if grew > 64<<20 {
				t.Errorf("peak memory grew by %d MB", grew>>20)
			}
			t.Log(rep.Error)
		})
	}
}
