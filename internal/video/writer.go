package video

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sync"

	"gocv.io/x/gocv"
)

// WriterConfig describes the output video.
type WriterConfig struct {
	Width, Height int
	FrameRate     string // rational, as Info.FrameRate
	// AudioFrom is the source whose audio streams are copied (or re-encoded to
	// AAC when MP4 cannot carry them). Empty means no audio.
	AudioFrom   string
	AudioCodecs []string
	// Metadata are the container tags to write; everything else from the
	// source (location, device IDs, GPS data tracks, subtitles) is dropped.
	Metadata map[string]string
	Preset   string // libx264 preset, default "veryfast"
	CRF      int    // libx264 quality, default 20
	Threads  int    // encoder threads, 0 = FFmpeg's choice
}

// mp4Audio lists audio codecs MP4 carries as they are.
var mp4Audio = []string{"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}

// StreamDst is the destination that makes Args write to stdout.
const StreamDst = "pipe:1"

// Args returns the ffmpeg command line (after "ffmpeg") that encodes raw BGR
// frames from stdin into dst, a file, or StreamDst for stdout. A file gets
// its index at the front (faststart), which needs a second pass over the
// file; stdout cannot seek, so it gets fragmented MP4 instead: an empty
// index first, then self-contained fragments that start at keyframes.
func (c WriterConfig) Args(dst string) []string {
	preset := c.Preset
	if preset == "" {
		preset = "veryfast"
	}
	crf := c.CRF
	if crf == 0 {
		crf = 20
	}
	args := []string{"-v", "error", "-nostdin", "-y",
		"-f", "rawvideo", "-pix_fmt", "bgr24",
		"-s", fmt.Sprintf("%dx%d", c.Width, c.Height), "-framerate", c.FrameRate, "-i", "pipe:0"}
	if c.AudioFrom != "" && len(c.AudioCodecs) > 0 {
		args = append(args, "-i", c.AudioFrom, "-map", "0:v:0", "-map", "1:a")
	} else {
		args = append(args, "-map", "0:v:0")
	}
	args = append(args,
		// yuv420p needs even sizes; pad odd ones by a pixel.
		"-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
		"-c:v", "libx264", "-preset", preset, "-crf", fmt.Sprint(crf), "-pix_fmt", "yuv420p")
	if c.Threads > 0 {
		args = append(args, "-threads", fmt.Sprint(c.Threads))
	}
	if c.AudioFrom != "" && len(c.AudioCodecs) > 0 {
		copyAll := true
		for _, a := range c.AudioCodecs {
			copyAll = copyAll && slices.Contains(mp4Audio, a)
		}
		if copyAll {
			args = append(args, "-c:a", "copy")
		} else {
			args = append(args, "-c:a", "aac", "-b:a", "160k")
		}
	}
	args = append(args, "-map_metadata", "-1", "-map_chapters", "-1")
	keys := make([]string, 0, len(c.Metadata))
	for k := range c.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "-metadata", k+"="+c.Metadata[k])
	}
	movflags := "+faststart"
	if dst == StreamDst {
		movflags = "+frag_keyframe+empty_moov+default_base_moof"
	}
	return append(args, "-movflags", movflags, "-f", "mp4", dst)
}

// Writer encodes BGR frames to an H.264 MP4 file or stream.
type Writer struct {
	cfg    WriterConfig
	cmd    *exec.Cmd
	in     io.WriteCloser
	stderr *tailBuffer
	once   sync.Once
	err    error

	// For CreateStream: copied is closed when the copy from ffmpeg's stdout
	// has ended, and sinkErr is set if the destination refused a write.
	copied  chan struct{}
	sinkErr error
}

// Create starts an encoder writing to dst, which the caller treats as
// incomplete until Close returns nil.
func Create(ctx context.Context, dst string, cfg WriterConfig) (*Writer, error) {
	return start(ctx, dst, cfg, nil)
}

// CreateStream starts an encoder writing fragmented MP4 to dst, from a
// goroutine. dst must not be used by anyone else until Close or Abort has
// returned; what it received is incomplete unless Close returns nil.
func CreateStream(ctx context.Context, dst io.Writer, cfg WriterConfig) (*Writer, error) {
	return start(ctx, StreamDst, cfg, dst)
}

func start(ctx context.Context, dst string, cfg WriterConfig, stream io.Writer) (*Writer, error) {
	cmd := exec.CommandContext(ctx, "ffmpeg", cfg.Args(dst)...)
	cmd.Env = ChildEnv()
	w := &Writer{cfg: cfg, cmd: cmd, stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = w.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	w.in = in
	var out io.ReadCloser
	if stream != nil {
		// Our own pipe and copy, rather than cmd.Stdout = stream, so that a
		// failing destination is reported as itself, not as ffmpeg dying.
		if out, err = cmd.StdoutPipe(); err != nil {
			in.Close()
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	if stream != nil {
		w.copied = make(chan struct{})
		go func() {
			defer close(w.copied)
			if _, err := io.Copy(stream, out); err != nil {
				w.sinkErr = err
				// ffmpeg's next write fails (EPIPE) and it exits, which
				// unblocks whoever is feeding it frames.
				out.Close()
			}
		}()
	}
	return w, nil
}

// waitCopy waits for the stdout copy of a stream to end (ffmpeg must have
// exited or closed stdout) and returns the destination's error, if any.
func (w *Writer) waitCopy() error {
	if w.copied == nil {
		return nil
	}
	<-w.copied
	return w.sinkErr
}

// Write encodes one frame, which must match the configured size.
func (w *Writer) Write(img gocv.Mat) error {
	if img.Cols() != w.cfg.Width || img.Rows() != w.cfg.Height || img.Type() != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("encode: frame is %dx%d %v, want %dx%d BGR", img.Cols(), img.Rows(), img.Type(), w.cfg.Width, w.cfg.Height)
	}
	var buf []byte
	if img.IsContinuous() {
		var err error
		if buf, err = img.DataPtrUint8(); err != nil {
			return err
		}
	} else {
		buf = img.ToBytes() // a region of a larger Mat
	}
	if _, err := w.in.Write(buf); err != nil {
		if w.copied != nil {
			select {
			case <-w.copied:
				if w.sinkErr != nil {
					return fmt.Errorf("encode: output: %w", w.sinkErr)
				}
			default:
			}
		}
		return fmt.Errorf("encode: %w (%s)", err, firstLine(w.stderr.String(), "ffmpeg stopped"))
	}
	return nil
}

// Close finishes the output and reports whether it is complete.
func (w *Writer) Close() error {
	w.once.Do(func() {
		cerr := w.in.Close()
		// All of stdout must be copied before Wait, which closes the pipe.
		serr := w.waitCopy()
		err := w.cmd.Wait()
		switch {
		case serr != nil:
			w.err = fmt.Errorf("encode: output: %w", serr)
		case err != nil:
			w.err = fmt.Errorf("encode: %s", firstLine(w.stderr.String(), err.Error()))
		case cerr != nil:
			w.err = fmt.Errorf("encode: %w", cerr)
		}
	})
	return w.err
}

// Abort stops the encoder; the output is incomplete and must be discarded.
// When it returns, a stream's destination is no longer written to.
func (w *Writer) Abort() {
	w.once.Do(func() {
		_ = w.in.Close()
		if w.cmd.Process != nil {
			_ = w.cmd.Process.Kill()
		}
		_ = w.waitCopy()
		_ = w.cmd.Wait()
		w.err = fmt.Errorf("encode: aborted")
	})
}
