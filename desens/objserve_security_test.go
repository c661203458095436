package desens

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/desens/desens/internal/s3test"
)

// nobody is the unprivileged account the other local user runs as.
const nobody = 65534

// TestServeObjectOtherUser serves an object on loopback and fetches its URL
// from a process of another user, which must get not one byte, and from
// processes of this user, which must get the whole object.
func TestServeObjectOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		s3test.SkipUnlessCI(t, "running a client as another user needs root")
	}
	// bash, unlike dash, opens TCP connections itself (/dev/tcp), so the
	// client needs no program that other users may be unable to run.
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	e := newS3Env(t, false, nil)
	data := bytes.Repeat([]byte("unredacted raw footage\n"), 1000)
	e.put(t, e.in, "cam/raw.mp4", data)
	ctx := context.Background()
	b, key, err := e.mux.Open(ctx, s3url(e.in, "cam/raw.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in := &objectInput{b: b, key: key, url: s3url(e.in, key)}
	s, err := serveObject(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	u, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	// The script says "connected" on stderr once the connection is up, so
	// a refusal is told apart from a client that never reached the server.
	script := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s || exit 1
echo connected >&2
printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' >&3
cat <&3`, u.Hostname(), u.Port(), u.RequestURI(), u.Host)
	fetch := func(cred *syscall.Credential) (stdout, stderr string) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, bash, "-c", script)
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		_ = cmd.Run() // cat fails on a reset connection; the output tells
		return out.String(), errb.String()
	}

	out, errOut := fetch(&syscall.Credential{Uid: nobody, Gid: nobody})
	if !strings.Contains(errOut, "connected") {
		t.Fatalf("the other user's client never connected: %q", errOut)
	}
	if out != "" {
		t.Errorf("the other user read %d bytes: %.80q", len(out), out)
	}

	out, errOut = fetch(nil)
	if !strings.Contains(out, "200 OK") || !strings.HasSuffix(out, string(data)) {
		t.Errorf("this user's client read %.80q (stderr %q), want the object", out, errOut)
	}
	resp, err := http.Get(s.url)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("this process read %d bytes, %v; want the %d of the object", len(got), err, len(data))
	}
	if err := s.close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
