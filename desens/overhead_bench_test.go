package desens

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkPerFileOverhead runs a directory of many small files and one of
// a single large file holding the same work, with detection off (so only
// what each file costs on its own shows: listing, stat, the resume check,
// probing, starting FFmpeg, creating and committing the output, the
// report), with Workers 1:
//
//	videos/many  20 clips of 15 frames (640x360)
//	videos/one   1 clip of 300 frames
//	images/many  64 JPEGs of 320x240
//	images/one   1 JPEG of 2560x1920, the same pixels
//
// Each row reports ns/frame or ns/pixel; many over one is the per-file
// overhead.
//
//	go test ./desens -run '^$' -bench PerFileOverhead -benchtime 5x
func BenchmarkPerFileOverhead(b *testing.B) {
	tmp := b.TempDir()
	clip := func(name string, frames int) string {
		p := filepath.Join(tmp, name)
		ffmpeg(b, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15", "-frames:v", strconv.Itoa(frames),
			"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", p)
		return p
	}
	still := func(name string, w, h int) string {
		p := filepath.Join(tmp, name)
		ffmpeg(b, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d", w, h), "-frames:v", "1", p)
		return p
	}
	dirOf := func(name, src string, n int) string {
		dir := filepath.Join(tmp, name)
		os.MkdirAll(dir, 0o755)
		data := mustRead(b, src)
		for i := range n {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d%s", i, filepath.Ext(src))), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		return dir
	}
	for _, tc := range []struct {
		name  string
		dir   string
		units float64
		unit  string
	}{
		{"videos/many", dirOf("vmany", clip("short.mp4", 15), 20), 300, "frame"},
		{"videos/one", dirOf("vone", clip("long.mp4", 300), 1), 300, "frame"},
		{"images/many", dirOf("imany", still("small.jpg", 320, 240), 64), 64 * 320 * 240, "pixel"},
		{"images/one", dirOf("ione", still("large.jpg", 2560, 1920), 1), 2560 * 1920, "pixel"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := newBareDesensitizer(b, nil, Options{Workers: 1, Overwrite: true})
			out := b.TempDir()
			for b.Loop() {
				rep, err := d.Run(b.Context(), tc.dir, out, nil)
				if err != nil || rep.Summary.Failed > 0 {
					b.Fatalf("%v, %+v", err, rep.Summary)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/tc.units, "ns/"+tc.unit)
		})
	}
}
