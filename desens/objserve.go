package desens

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/desens/desens/desens/storage"
)

// objectServer serves one object over HTTP on loopback while FFmpeg
// decodes it, so a video streams from its bucket with no local copy.
//
// Why not hand FFmpeg a presigned URL: its command line is readable by
// every local user (/proc/PID/cmdline) and the URL would work from
// anywhere until it expires, which for a long video must be hours; FFmpeg
// would also reconnect without pinning the object's version. Here the
// credentials never leave this process (FFmpeg's environment holds none,
// see video.ChildEnv), and the URL works only on this host, only until the
// file is done, and only for processes of this process's user: the
// listener drops every other user's connection before reading it
// (sameUserListener), so the token, visible to all in the command line,
// is no secret. Another process of the same user could read this
// process's memory anyway. Every byte comes through a storage.Reader,
// which resumes dropped connections and refuses to splice two versions of
// the object.
type objectServer struct {
	in     *objectInput
	url    string
	ctx    context.Context // readers' context, cancelled by close
	cancel context.CancelFunc
	srv    *http.Server
	prefix string // "/<token>/"

	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup   // handlers in flight
	idle    []storage.Reader // readers to reuse, saving a GET per seek
	err     error            // the first failure to read the object
}

// maxIdleReaders bounds the readers kept between requests (each holds up
// to ReadAhead+1 chunks of buffers).
const maxIdleReaders = 1

func serveObject(ctx context.Context, in *objectInput) (*objectServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		ln.Close()
		return nil, err
	}
	s := &objectServer{in: in, prefix: "/" + hex.EncodeToString(tok[:]) + "/"}
	s.ctx, s.cancel = context.WithCancel(ctx)
	// The object's base name ends the URL because FFmpeg uses the
	// extension as a hint for formats without a header (.h264, .ts).
	s.url = "http://" + ln.Addr().String() + s.prefix + url.PathEscape(path.Base(in.key))
	// A client that cannot be checked is refused like another user's, and
	// the file fails with the reason rather than with FFmpeg's I/O error.
	ln = sameUserListener{Listener: ln, uid: os.Getuid(), checkFailed: s.fail}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		// Client hang-ups on seeks are routine; the errors that matter are
		// kept in s.err.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *objectServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !strings.HasPrefix(req.URL.Path, s.prefix) {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.enter() {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	r, err := s.take()
	if err != nil {
		s.fail(err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	rr := &recordingReader{Reader: r}
	w.Header().Set("Content-Type", "application/octet-stream") // no sniffing
	http.ServeContent(w, req, "", time.Time{}, rr)
	if rr.err != nil {
		// The response was cut short, which FFmpeg reports as an I/O
		// error; the file fails with this cause whatever FFmpeg does.
		s.fail(rr.err)
		r.Close()
		return
	}
	s.give(r)
}

// recordingReader keeps the first read error, which http.ServeContent
// does not return.
type recordingReader struct {
	storage.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

func (s *objectServer) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *objectServer) take() (storage.Reader, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		r := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return r, nil
	}
	s.mu.Unlock()
	return s.in.open(s.ctx)
}

func (s *objectServer) give(r storage.Reader) {
	s.mu.Lock()
	if !s.closing && len(s.idle) < maxIdleReaders {
		s.idle = append(s.idle, r)
		r = nil
	}
	s.mu.Unlock()
	if r != nil {
		r.Close()
	}
}

// fail records the first err, unless the readers were cancelled (by close,
// or because the file was): then err says nothing about the object.
func (s *objectServer) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && !s.closing && s.ctx.Err() == nil {
		s.err = err
	}
}

// close stops serving, waits for every handler, closes the readers and
// returns the first read failure, if any.
func (s *objectServer) close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	_ = s.srv.Close()
	s.cancel()
	s.wg.Wait()
	for _, r := range s.idle {
		r.Close()
	}
	s.idle = nil
	return s.err
}
