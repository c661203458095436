package desens

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// BenchmarkArchiveOverhead compares 100 small JPEGs desensitized loose
// (a directory run) with the same packed as one archive of each format,
// without models, so that what differs is the archive's own cost:
// reading, spooling each member, packing. Compare ns/op between the
// sub-benchmarks.
func BenchmarkArchiveOverhead(b *testing.B) {
	const n = 100
	photo := mustRead(b, filepath.Join(testenv.Root(), "testdata", "sample", "photo.jpg"))
	dir := b.TempDir()
	loose := filepath.Join(dir, "loose")
	if err := os.MkdirAll(filepath.Join(loose, "imgs"), 0o755); err != nil {
		b.Fatal(err)
	}
	var members []member
	for i := range n {
		name := fmt.Sprintf("imgs/p%03d.jpg", i)
		writeFile(b, filepath.Join(loose, filepath.FromSlash(name)), photo)
		members = append(members, member{name: name, data: photo})
	}
	d, err := newDesensitizer(Options{Workers: 1, Overwrite: true}, false)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.Run("loose", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			rep, err := d.Run(b.Context(), loose, filepath.Join(dir, fmt.Sprintf("out-loose-%d", i)), nil)
			if err != nil || rep.Summary.OK != n {
				b.Fatalf("%v, %+v", err, rep.Summary)
			}
		}
	})
	for _, f := range archiveFormats {
		in := filepath.Join(dir, "imgs."+string(f))
		if err := os.WriteFile(in, packArchive(b, f, members...), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(string(f), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				rep := d.ProcessFile(b.Context(), in, filepath.Join(dir, fmt.Sprintf("out-%s-%d", f, i), "imgs."+string(f)))
				if !rep.OK {
					b.Fatal(rep.Error)
				}
			}
		})
	}
}
