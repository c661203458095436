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
// the stream is truncated or damaged.
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
		return io.EOF
	default:
		r.done = true
		if werr := r.wait(); werr != nil {
			return werr
		}
		return fmt.Errorf("%w: frame %d cut short after %d of %d bytes", ErrCorrupt, r.frame, n, len(buf))
	}
}

// Frames reports how many frames have been read.
func (r *Reader) Frames() int { return r.frame }

func (r *Reader) wait() error {
	var err error
	r.once.Do(func() {
		err = r.cmd.Wait()
	})
	if err != nil {
		return fmt.Errorf("%w: after frame %d: %s", ErrCorrupt, r.frame, firstLine(r.stderr.String(), err.Error()))
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

// tailBuffer keeps the first max bytes written: FFmpeg's first error line is
// the one that names the problem.
type tailBuffer struct {
	mu  sync.Mutex
	b   strings.Builder
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.b.Len(); room > 0 {
		t.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
