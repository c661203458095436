package desens

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// spoolWatcher is a stream that, while Process reads it, looks at the
// spool Process made for it.
type spoolWatcher struct {
	t    *testing.T
	r    io.Reader
	tmp  string
	seen bool
}

func (s *spoolWatcher) Read(p []byte) (int, error) {
	if !s.seen {
		s.seen = true
		entries, _ := os.ReadDir(s.tmp)
		if len(entries) != 1 {
			s.t.Errorf("temp dir holds %d entries while spooling, want 1 private dir", len(entries))
		}
		for _, e := range entries {
			if st, err := os.Stat(filepath.Join(s.tmp, e.Name())); err != nil || st.Mode().Perm() != 0o700 {
				s.t.Errorf("spool %s: mode %v (%v), want 0700", e.Name(), st.Mode().Perm(), err)
			}
		}
	}
	return s.r.Read(p)
}

// TestProcessSpool checks that the spool of a stream is private while it
// exists and gone afterwards, however the file ends.
func TestProcessSpool(t *testing.T) {
	jpg := mustRead(t, testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		data []byte
		ok   bool
	}{
		{"success", context.Background(), jpg, true},
		{"corrupt input", context.Background(), jpg[:len(jpg)/2], false},
		{"cancelled", cancelled, jpg, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			d := newBareDesensitizer(t, nil, Options{})
			var out bytes.Buffer
			rep, err := d.Process(tc.ctx, "photo.jpg", &spoolWatcher{t: t, r: bytes.NewReader(tc.data), tmp: tmp}, &out)
			if (err == nil) != tc.ok || rep.OK != tc.ok {
				t.Errorf("err %v, ok %v; want ok %v", err, rep.OK, tc.ok)
			}
			if !tc.ok && out.Len() != 0 {
				t.Errorf("%d bytes written for a failed file", out.Len())
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("spool left behind: %v", entries)
			}
		})
	}
}
