package video

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"gocv.io/x/gocv"
)

// Reader decodes a video's first video stream into upright BGR frames.
type Reader struct {
	info   Info
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *tailBuffer
	frame  int
	done   bool
	once   sync.Once
}

// Open starts decoding src (a path or a URL FFmpeg can read). info comes
// from Probe.
func Open(ctx context.Context, src string, info Info) (*Reader, error) {
	args := []string{"-v", "error", "-nostdin", "-xerror", "-i", src,
		"-map", "0:v:0", "-fps_mode", "passthrough", "-an", "-sn", "-dn",
		"-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"}
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.Env = ChildEnv()
	r := &Reader{info: info, cmd: cmd, stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = r.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	r.out = out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	return r, nil
}

// Info describes the stream being decoded.
func (r *Reader) Info() Info { return r.info }

// Read decodes the next frame into dst, (re)allocating it as needed. It
// returns io.EOF after the last frame, and an error wrapping ErrCorrupt if
// the stream is truncated or damaged: FFmpeg fails or logs that data is
// missing, or fewer frames come out than the container promises.
func (r *Reader) Read(dst *gocv.Mat) error {
	if r.done {
		return io.EOF
	}
	w, h := r.info.Width, r.info.Height
	if dst.Empty() || dst.Rows() != h || dst.Cols() != w || dst.Type() != gocv.MatTypeCV8UC3 {
		dst.Close()
		*dst = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	}
	buf, err := dst.DataPtrUint8()
	if err != nil {
		return err
	}
	n, err := io.ReadFull(r.out, buf)
	switch {
	case err == nil:
		r.frame++
		return nil
	case errors.Is(err, io.EOF) && n == 0:
		r.done = true
		if werr := r.wait(); werr != nil {
			return werr
		}
		return r.complete()
	default:
		r.done = true
		if werr := r.wait(); werr != nil {
			return werr
		}
		return fmt.Errorf("%w: frame %d cut short after %d of %d bytes", ErrCorrupt, r.frame, n, len(buf))
	}
}

// complete returns io.EOF if FFmpeg decoded the whole video, and an error
// wrapping ErrCorrupt if it ended cleanly on a file cut short: FFmpeg
// exits 0 when a file ends at a packet boundary, logging the missing data
// at most, so the log and the frame count are what tell.
func (r *Reader) complete() error {
	if line := r.stderr.Marked(); line != "" {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, r.decoded(), line)
	}
	if want, slack := r.info.Promised(); want > 0 && r.frame < want-slack {
		return fmt.Errorf("%w: %s: the file ends early", ErrCorrupt, r.decoded())
	}
	return io.EOF
}

// decoded says how many frames came out, and of how many when the
// container says.
func (r *Reader) decoded() string {
	if want, _ := r.info.Promised(); want > 0 {
		return fmt.Sprintf("decoded %d of the %d frames the container promises", r.frame, want)
	}
	return fmt.Sprintf("decoded %d frames", r.frame)
}

// Frames reports how many frames have been read.
func (r *Reader) Frames() int { return r.frame }

func (r *Reader) wait() error {
	var err error
	r.once.Do(func() {
		err = r.cmd.Wait()
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, r.decoded(), firstLine(r.stderr.String(), err.Error()))
	}
	return nil
}

// Close stops decoding and releases the ffmpeg process.
func (r *Reader) Close() error {
	r.once.Do(func() {
		if r.cmd.Process != nil {
			_ = r.cmd.Process.Kill()
		}
		_ = r.cmd.Wait()
	})
	return nil
}

// truncationMarks are what FFmpeg's demuxers and decoders log, at error
// level, on data that ends early or cannot be parsed, even when they go on
// and exit 0.
var truncationMarks = []string{"partial file", "ended prematurely", "truncat", "invalid data found", "corrupt"}

// tailBuffer keeps the first max bytes written: FFmpeg's first error line is
// the one that names the problem. It also keeps the first line, wherever it
// comes, that says the input is cut short or damaged.
type tailBuffer struct {
	mu     sync.Mutex
	b      strings.Builder
	max    int
	marked string
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.b.Len(); room > 0 {
		t.b.Write(p[:min(len(p), room)])
	}
	if t.marked == "" {
		for _, l := range strings.Split(string(p), "\n") {
			low := strings.ToLower(l)
			for _, m := range truncationMarks {
				if strings.Contains(low, m) {
					t.marked = firstLine(l, l)
					return len(p), nil
				}
			}
		}
	}
	return len(p), nil
}

// Marked returns the first line that says the input is cut short or
// damaged, or "".
func (t *tailBuffer) Marked() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.marked
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
