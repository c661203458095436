package evalset

import (
	"bytes"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// requireOpenCVDoc skips when the Debian opencv-doc images are missing, and
// fails in CI, which installs them (scripts/setup.sh).
func requireOpenCVDoc(t *testing.T) {
	t.Helper()
	for i := range Photos {
		if p := &Photos[i]; p.Pkg == "opencv-doc" {
			testenv.File(t, p.Path)
		}
	}
}

func genTiny(t *testing.T, seed uint64) (string, *Stats, []byte) {
	t.Helper()
	dir := t.TempDir()
	st, err := Generate(Config{
		Out: dir, N: 3, Seed: seed,
		// installed files only: the result must not depend on a local cache
		Resolver: &Resolver{},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, st, b
}

func TestGenerateTiny(t *testing.T) {
	requireOpenCVDoc(t)
	dir, st, labels := genTiny(t, 1)
	set, err := ReadSet(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("frames", func(t *testing.T) {
		frames := 0
		for _, im := range set.Images {
			if filepath.Dir(im.File) == "real" {
				continue
			}
			frames++
			ok := (im.Width == 1920 && im.Height == 1080) || (im.Width == 1280 && im.Height == 720)
			if !ok {
				t.Errorf("%s: size %dx%d", im.File, im.Width, im.Height)
			}
		}
		if frames != 3 || st.Frames != 3 {
			t.Errorf("frames = %d (stats %d), want 3", frames, st.Frames)
		}
		if st.EmptyFrames != 1 {
			t.Errorf("empty frames = %d, want 1 (frame 2)", st.EmptyFrames)
		}
	})

	t.Run("files-match-labels", func(t *testing.T) {
		for _, im := range set.Images {
			f, err := os.Open(filepath.Join(dir, im.File))
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := image.DecodeConfig(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", im.File, err)
			}
			if cfg.Width != im.Width || cfg.Height != im.Height {
				t.Errorf("%s: file %dx%d, label %dx%d", im.File, cfg.Width, cfg.Height, im.Width, im.Height)
			}
		}
	})

	t.Run("boxes", func(t *testing.T) {
		for _, im := range set.Images {
			for i, a := range im.Objects {
				if a.Class != "face" {
					t.Errorf("%s: class %q", im.File, a.Class)
				}
				if !a.Box.Inside(im.Width, im.Height) {
					t.Errorf("%s: box %v outside", im.File, a.Box)
				}
				if filepath.Dir(im.File) == "real" {
					continue
				}
				for _, b := range im.Objects[i+1:] {
					if a.Box.Overlaps(b.Box) {
						t.Errorf("%s: faces %v and %v overlap", im.File, a.Box, b.Box)
					}
				}
			}
		}
	})

	t.Run("sizes", func(t *testing.T) {
		if st.Faces < 5 {
			t.Fatalf("only %d faces in 2 non-empty frames", st.Faces)
		}
		small := 0
		for _, h := range st.Heights {
			if h < 14 || h > 200 {
				t.Errorf("face height %d outside 14..200", h)
			}
			if h <= 32 {
				small++
			}
		}
		if small*10 < 4*len(st.Heights) {
			t.Errorf("%d of %d faces <= 32 px, want >= 40%%", small, len(st.Heights))
		}
		if small == len(st.Heights) {
			t.Errorf("no face above 32 px")
		}
	})

	t.Run("real", func(t *testing.T) {
		if st.RealImages == 0 {
			t.Fatal("no real photos copied")
		}
		rs, err := ReadSet(filepath.Join(dir, "real", "labels.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Images) != st.RealImages {
			t.Errorf("real/labels.json has %d images, stats %d", len(rs.Images), st.RealImages)
		}
	})

	t.Run("determinism", func(t *testing.T) {
		_, _, again := genTiny(t, 1)
		if !bytes.Equal(labels, again) {
			t.Error("same seed gave different labels.json")
		}
		_, _, other := genTiny(t, 2)
		if bytes.Equal(labels, other) {
			t.Error("different seeds gave identical labels.json")
		}
	})
}

// TestCommittedRealLabels: testdata/eval/real{,-optional}/labels.json are
// the dump of the source table (mkevalset -dump-real testdata/eval).
func TestCommittedRealLabels(t *testing.T) {
	tests := []struct {
		sub      string
		optional bool
	}{{"real", false}, {"real-optional", true}}
	for _, tc := range tests {
		t.Run(tc.sub, func(t *testing.T) {
			want, err := RealSet(tc.optional).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "..", "testdata", "eval", tc.sub, "labels.json")
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: regenerate with go run ./internal/evalset/cmd/mkevalset -dump-real testdata/eval", path)
			}
			set, err := ReadSet(path)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.optional {
				for _, im := range set.Images {
					if !filepath.IsAbs(im.Source) {
						t.Errorf("%s: source %q is not an installed path", im.File, im.Source)
					}
				}
			}
		})
	}
}

func TestTable(t *testing.T) {
	ids := map[string]bool{}
	faces := 0
	for _, p := range Photos {
		if ids[p.ID] {
			t.Errorf("duplicate id %s", p.ID)
		}
		ids[p.ID] = true
		if PackageByKey(p.Pkg) == nil {
			t.Errorf("%s: unknown package %q", p.ID, p.Pkg)
		}
		if p.Role == RoleReal && len(p.Faces) == 0 {
			t.Errorf("%s: real photo without faces", p.ID)
		}
		if p.Role != RoleReal && len(p.Faces) > 0 {
			t.Errorf("%s: faces on a non-real photo", p.ID)
		}
		for _, f := range p.Faces {
			faces++
			if !f.Box.Inside(p.W, p.H) {
				t.Errorf("%s: face %v outside %dx%d", p.ID, f.Box, p.W, p.H)
			}
			if ar := float64(f.Box[2]) / float64(f.Box[3]); ar < 0.6 || ar > 1.4 {
				t.Errorf("%s: face %v aspect %.2f", p.ID, f.Box, ar)
			}
		}
		for _, b := range p.Ignore {
			if !b.Inside(p.W, p.H) {
				t.Errorf("%s: ignore %v outside %dx%d", p.ID, b, p.W, p.H)
			}
		}
	}
	if faces < 15 {
		t.Errorf("%d labelled faces, want >= 15", faces)
	}
}

// TestFacesDir checks testdata/faces: labels valid, files match, small.
func TestFacesDir(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "faces")
	set, err := ReadSet(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Images); n < 3 || n > 6 {
		t.Errorf("%d images, want 3..6", n)
	}
	var total int64
	for _, im := range set.Images {
		if len(im.Objects) == 0 {
			t.Errorf("%s: no faces", im.File)
		}
		fi, err := os.Stat(filepath.Join(dir, im.File))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		f, _ := os.Open(filepath.Join(dir, im.File))
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != im.Width || cfg.Height != im.Height {
			t.Errorf("%s: file %dx%d, label %dx%d", im.File, cfg.Width, cfg.Height, im.Width, im.Height)
		}
	}
	if total > 2<<20 {
		t.Errorf("testdata/faces images total %d bytes, want < 2 MiB", total)
	}
}

func TestTaps(t *testing.T) {
	for _, c := range [][2]int{{100, 37}, {37, 100}, {5, 1}, {1, 5}, {640, 1920}} {
		for i, tp := range taps(c[0], c[1]) {
			var s float32
			for _, w := range tp.w {
				s += w
			}
			if s < 0.999 || s > 1.001 || tp.i0 < 0 || tp.i0+len(tp.w) > c[0] {
				t.Errorf("taps(%d,%d)[%d] = %+v (sum %v)", c[0], c[1], i, tp, s)
			}
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	// minimal JPEG header with an APP1/Exif segment holding orientation 6
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0}
	seg := append([]byte("Exif\x00\x00"), tiff...)
	b := []byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	b = append(b, seg...)
	b = append(b, 0xFF, 0xD9)
	if o := jpegOrientation(b); o != 6 {
		t.Errorf("orientation = %d, want 6", o)
	}
}
