package evalset

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// clipWriter encodes frames into an H.264 MP4 file with ffmpeg, which
// reads them as raw BGR from its stdin.
type clipWriter struct {
	path   string
	cmd    *exec.Cmd
	in     io.WriteCloser
	stderr bytes.Buffer
	buf    []byte
}

// clipArgs is the ffmpeg command line (after "ffmpeg") that writes path.
func clipArgs(path string, w, h, fps int) []string {
	return []string{"-v", "error", "-nostdin", "-y",
		"-f", "rawvideo", "-pix_fmt", "bgr24", "-s", fmt.Sprintf("%dx%d", w, h), "-framerate", strconv.Itoa(fps), "-i", "pipe:0",
		"-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", path}
}

func newClipWriter(path string, w, h, fps int) (*clipWriter, error) {
	cmd := exec.Command("ffmpeg", clipArgs(path, w, h, fps)...)
	cmd.Env = childEnv(os.Environ())
	cw := &clipWriter{path: path, cmd: cmd, buf: make([]byte, w*h*3)}
	cmd.Stderr = &cw.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cw.in = in
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	return cw, nil
}

// childEnv keeps what ffmpeg needs of environ: where programs and
// libraries are, the temporary directory and the locale. It is never nil,
// which exec.Cmd would take as "inherit everything".
func childEnv(environ []string) []string {
	env := []string{}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH", k == "LD_LIBRARY_PATH", k == "TMPDIR", k == "LANG", strings.HasPrefix(k, "LC_"):
			env = append(env, kv)
		}
	}
	return env
}

// write encodes one frame of the writer's size.
func (cw *clipWriter) write(f *fimg) error {
	for i, j := 0, 0; i < len(f.Pix); i, j = i+4, j+3 {
		cw.buf[j] = uint8(min(max(f.Pix[i+2]+0.5, 0), 255))
		cw.buf[j+1] = uint8(min(max(f.Pix[i+1]+0.5, 0), 255))
		cw.buf[j+2] = uint8(min(max(f.Pix[i]+0.5, 0), 255))
	}
	if _, err := cw.in.Write(cw.buf); err != nil {
		return fmt.Errorf("%s: encode: %w (%s)", cw.path, err, strings.TrimSpace(cw.stderr.String()))
	}
	return nil
}

// close finishes the file.
func (cw *clipWriter) close() error {
	cerr := cw.in.Close()
	if err := cw.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: ffmpeg: %w (%s)", cw.path, err, strings.TrimSpace(cw.stderr.String()))
	}
	if cerr != nil {
		return fmt.Errorf("%s: encode: %w", cw.path, cerr)
	}
	return nil
}

// abort stops ffmpeg and removes what it wrote.
func (cw *clipWriter) abort() {
	_ = cw.in.Close()
	_ = cw.cmd.Process.Kill()
	_ = cw.cmd.Wait()
	_ = os.Remove(cw.path)
}
