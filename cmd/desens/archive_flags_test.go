package main

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desens/desens/internal/testenv"
)

func writeTar(t *testing.T, path string, members map[string][]byte, order ...string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range order {
		data := members[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, ModTime: time.Unix(1764921600, 0), Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunArchive runs desens on a tar as a user would: the help says what
// happens to archives, a good one lands repacked with one line counting
// its members, and a zip-slip one fails naming the member, exit 1.
func TestRunArchive(t *testing.T) {
	testenv.ORT(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
		"TMPDIR=" + t.TempDir()}
	if p := os.Getenv("DESENS_ORT_LIB"); p != "" {
		env = append(env, "DESENS_ORT_LIB="+p)
	}
	help, err := exec.Command(bin, "run", "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ARCHIVES:", "--archive-other", "tar.gz", "zip bombs"} {
		if !bytes.Contains(help, []byte(s)) {
			t.Errorf("desens run --help does not mention %s", s)
		}
	}

	dir := t.TempDir()
	photo, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	gpx, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample", "street.gpx"))
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "day.tar")
	writeTar(t, good, map[string][]byte{"cam/photo.jpg": photo, "cam/street.gpx": gpx, "cam/can.log": []byte("can frames")},
		"cam/photo.jpg", "cam/street.gpx", "cam/can.log")
	code, stderr := runDesens(t, env, "run", "--archive-other", "copy", good, filepath.Join(dir, "out")+"/")
	t.Log(stderr)
	if code != 0 || !strings.Contains(stderr, "(tar: 3 members, 1 copied, 1 desensitized, 1 dropped;") {
		t.Fatalf("exit %d; want 0 and a line counting the members", code)
	}
	f, err := os.Open(filepath.Join(dir, "out", "day.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if want := []string{"cam/photo.jpg", "cam/can.log"}; !slices.Equal(names, want) {
		t.Errorf("output holds %q, want %q", names, want)
	}

	slip := filepath.Join(dir, "slip.tar")
	writeTar(t, slip, map[string][]byte{"../../etc/cron.d/x": []byte("* * * * * root sh")}, "../../etc/cron.d/x")
	code, stderr = runDesens(t, env, "run", slip, filepath.Join(dir, "out")+"/")
	t.Log(stderr)
	if code != 1 || !strings.Contains(stderr, "FAIL "+slip) || !strings.Contains(stderr, "slip.tar: member ../../etc/cron.d/x: ") ||
		!strings.Contains(stderr, "unsafe") {
		t.Errorf("exit %d; want 1 and a FAIL line naming the member", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "slip.tar")); err == nil {
		t.Error("the refused archive has an output")
	}
}
