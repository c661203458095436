package video

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// TestWriterDropsSourceMetadata feeds the writer a source (for its audio)
// that carries location in container tags, a subtitle track and a data
// track, and checks that only the frames, the audio and the tags asked
// for reach the output. It needs no model, so it runs wherever ffmpeg is.
func TestWriterDropsSourceMetadata(t *testing.T) {
	testenv.FFmpeg(t)
	dir := t.TempDir()
	srt := filepath.Join(dir, "gps.srt")
	if err := os.WriteFile(srt, []byte("1\n00:00:00,000 --> 00:00:01,000\nGPS (121.4737, 31.2304, 18)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gpmf.bin")
	if err := os.WriteFile(bin, []byte("DEVC\x00\x01\x00\x0cGPS5l\x14\x00\x00\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.mov")
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-f", "lavfi", "-i", "sine=sample_rate=8000",
		"-i", srt, "-f", "data", "-i", bin, "-t", "1",
		"-map", "0:v", "-map", "1:a", "-map", "2", "-map", "3",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "mov_text", "-c:d", "copy", "-tag:d", "gpmd",
		"-metadata", "location=+31.2304+121.4737/", "-metadata", "creation_time=2026-01-02T03:04:05Z",
		"-metadata:s:a", "handler_name=Location audio", src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make source: %v\n%s", err, out)
	}
	info, err := Probe(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if info.Tags["location"] == "" {
		t.Fatal("source has no location tag: the test would prove nothing")
	}

	dst := filepath.Join(dir, "out.mp4")
	w, err := Create(context.Background(), dst, WriterConfig{Width: 64, Height: 48, FrameRate: "10/1",
		AudioFrom: src, AudioCodecs: info.AudioCodecs, Preset: "ultrafast",
		Metadata: map[string]string{"creation_time": info.Tags["creation_time"], "comment": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	img := grey(t, 64, 48)
	defer img.Close()
	for range 10 {
		if err := w.Write(img); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", dst).Output()
	if err != nil {
		t.Fatal(err)
	}
	var p probeJSON
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, s := range p.Streams {
		types = append(types, s.CodecType)
		if h := s.Tags["handler_name"]; h != "" && h != "VideoHandler" && h != "SoundHandler" {
			t.Errorf("stream handler %q copied from the source", h)
		}
	}
	if !slices.Equal(types, []string{"video", "audio"}) {
		t.Errorf("streams %v, want video and audio", types)
	}
	var keys []string
	for k := range p.Format.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"comment", "compatible_brands", "creation_time", "encoder", "major_brand", "minor_version"}; !slices.Equal(keys, want) {
		t.Errorf("container tags %v, want %v", keys, want)
	}
	raw, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"31.2304", "\xa9xyz", "loci", "gpmd", "GPS", "Location"} {
		if bytes.Contains(raw, []byte(l)) {
			t.Errorf("output holds %q", l)
		}
	}
	if !strings.HasPrefix(p.Format.Tags["creation_time"], "2026-01-02T03:04:05") {
		t.Errorf("creation_time %q", p.Format.Tags["creation_time"])
	}
}
