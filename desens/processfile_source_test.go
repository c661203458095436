package desens

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/desens/desens/desens/trajectory"
)

// TestProcessFileNeverReplacesItsInput: ProcessFile and ProcessTrajectory
// with Overwrite refuse an output that is their input by any name (the
// same path, a link to it, a hard link), and leave the source as it was.
func TestProcessFileNeverReplacesItsInput(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "sample", "street.gpx"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDesensitizer(Options{Overwrite: true, Trajectory: trajectory.Policy{Mode: trajectory.Coarsen, GridMetres: 500}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tc := range []struct {
		name string
		out  func(dir, in string) string
	}{
		{"the same path", func(_, in string) string { return in }},
		{"a symbolic link to it", func(dir, in string) string {
			l := filepath.Join(dir, "link.gpx")
			if err := os.Symlink(in, l); err != nil {
				t.Fatal(err)
			}
			return l
		}},
		{"a hard link to it", func(dir, in string) string {
			l := filepath.Join(dir, "hard.gpx")
			if err := os.Link(in, l); err != nil {
				t.Fatal(err)
			}
			return l
		}},
	} {
		for _, call := range []struct {
			name string
			run  func(in, out string) FileReport
		}{
			{"ProcessFile", func(in, out string) FileReport { return d.ProcessFile(t.Context(), in, out) }},
			{"ProcessTrajectory", func(in, out string) FileReport { return d.ProcessTrajectory(t.Context(), in, out) }},
		} {
			t.Run(call.name+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				in := filepath.Join(dir, "track.gpx")
				if err := os.WriteFile(in, src, 0o644); err != nil {
					t.Fatal(err)
				}
				rep := call.run(in, tc.out(dir, in))
				if rep.OK || !errors.Is(rep.Err(), ErrSourceOverwrite) {
					t.Fatalf("ok %v, err %v; want ErrSourceOverwrite", rep.OK, rep.Err())
				}
				if got, err := os.ReadFile(in); err != nil || !bytes.Equal(got, src) {
					t.Fatalf("source changed (%v)", err)
				}
			})
		}
	}
}
