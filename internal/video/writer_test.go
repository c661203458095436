package video

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
	"gocv.io/x/gocv"
)

func TestWriterArgs(t *testing.T) {
	cfg := WriterConfig{Width: 640, Height: 360, FrameRate: "15/1"}
	head := "-v error -nostdin -y -f rawvideo -pix_fmt bgr24 -s 640x360 -framerate 15/1 -i pipe:0 -map 0:v:0 " +
		"-vf pad=ceil(iw/2)*2:ceil(ih/2)*2 -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -map_metadata -1 -map_chapters -1 "
	for _, tc := range []struct {
		name string
		dst  string
		want string
	}{
		{"a file gets its index first, for players that stream it",
			"out.mp4", head + "-movflags +faststart -f mp4 out.mp4"},
		{"a stream cannot seek back, so it is fragmented MP4 with an empty index first",
			StreamDst, head + "-movflags +frag_keyframe+empty_moov+default_base_moof -f mp4 pipe:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(cfg.Args(tc.dst), " "); got != tc.want {
				t.Errorf("ffmpeg %s\nwant   %s", got, tc.want)
			}
		})
	}
}

// failingWriter accepts n bytes, then fails every write.
type failingWriter struct {
	n   int
	got bytes.Buffer
}

var errSink = errors.New("sink refused")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.got.Len()+len(p) > w.n {
		return 0, errSink
	}
	return w.got.Write(p)
}

func grey(t *testing.T, w, h int) gocv.Mat {
	t.Helper()
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	m.SetTo(gocv.NewScalar(90, 120, 150, 0))
	return m
}

func TestCreateStream(t *testing.T) {
	testenv.FFmpeg(t)
	cfg := WriterConfig{Width: 64, Height: 48, FrameRate: "10/1", Preset: "ultrafast"}
	img := grey(t, 64, 48)
	defer img.Close()
	for _, tc := range []struct {
		name    string
		limit   int
		wantErr error
	}{
		{"the whole fragmented MP4 reaches the writer", 1 << 30, nil},
		{"a refusing destination fails the encode as itself", 100, errSink},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := &failingWriter{n: tc.limit}
			w, err := CreateStream(context.Background(), dst, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 30 && err == nil; i++ {
				err = w.Write(img)
			}
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				b := dst.got.Bytes()
				if len(b) < 8 || string(b[4:8]) != "ftyp" || !bytes.Contains(b, []byte("moof")) {
					t.Errorf("output of %d bytes is not fragmented MP4", len(b))
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestAbortStream checks that Abort returns only once nothing will write
// to the destination any more, which a storage.Writer needs before its
// own Abort.
func TestAbortStream(t *testing.T) {
	testenv.FFmpeg(t)
	img := grey(t, 64, 48)
	defer img.Close()
	dst := &failingWriter{n: 1 << 30}
	w, err := CreateStream(context.Background(), dst, WriterConfig{Width: 64, Height: 48, FrameRate: "10/1"})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := w.Write(img); err != nil {
			t.Fatal(err)
		}
	}
	w.Abort()
	n := dst.got.Len()
	if err := w.Close(); err == nil {
		t.Error("Close after Abort succeeded")
	}
	if dst.got.Len() != n {
		t.Error("destination written to after Abort returned")
	}
}
