package desens

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/desens/trajectory"
	"github.com/desens/desens/internal/archive"
	"github.com/desens/desens/internal/testenv"
)

// member is one member of a test archive, written by the standard
// library's writers (not by internal/archive, which the tests check).
type member struct {
	name string
	data []byte
	dir  bool
	link string // a symbolic link to this
	raw  bool   // zip: name stored as bytes, without the UTF-8 flag
}

var memberTime = time.Date(2026, 12, 5, 7, 45, 12, 0, time.UTC)

func packArchive(t testing.TB, f archive.Format, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	if f == archive.Zip {
		zw := zip.NewWriter(&buf)
		for _, m := range members {
			h := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Modified: memberTime, NonUTF8: m.raw}
			switch {
			case m.dir:
				h.SetMode(fs.ModeDir | 0o755)
			case m.link != "":
				h.SetMode(fs.ModeSymlink | 0o777)
				m.data = []byte(m.link)
			default:
				h.SetMode(0o640)
			}
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			if !m.dir {
				w.Write(m.data)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	var w io.Writer = &buf
	gz := gzip.NewWriter(&buf)
	if f == archive.TarGz {
		w = gz
	}
	tw := tar.NewWriter(w)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o640, ModTime: memberTime, Size: int64(len(m.data)), Typeflag: tar.TypeReg}
		switch {
		case m.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case m.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, m.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if f == archive.TarGz {
		gz.Close()
	}
	return buf.Bytes()
}

// unpacked is a member read back from an output archive.
type unpacked struct {
	name string
	data []byte
	dir  bool
	mode fs.FileMode
	time time.Time
	utf8 bool // zip: the UTF-8 flag is set
}

func unpackArchive(t *testing.T, f archive.Format, data []byte) []unpacked {
	t.Helper()
	var out []unpacked
	if f == archive.Zip {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, unpacked{name: zf.Name, data: b, dir: zf.Mode().IsDir(), mode: zf.Mode(),
				time: zf.Modified, utf8: zf.Flags&0x800 != 0})
		}
		return out
	}
	var r io.Reader = bytes.NewReader(data)
	if f == archive.TarGz {
		gz, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, unpacked{name: h.Name, data: b, dir: h.Typeflag == tar.TypeDir, mode: h.FileInfo().Mode(), time: h.ModTime})
	}
}

func names(us []unpacked) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.name)
	}
	return out
}

var archiveFormats = []archive.Format{archive.Tar, archive.TarGz, archive.Zip}

// archiveTmp points os.TempDir at a fresh directory, to check that
// archives leave no temporary files behind.
func archiveTmp(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// checkEmpty fails if an archive's temporary directory is left in dir.
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "desens-archive-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestArchiveMembersDesensitized packs a camera folder (a photo with a
// face and a GPS position in its EXIF, a video with a face, audio and a
// location tag, GPX and CSV logs, a nested zip, and files desens does
// not read) into each format and checks the output member by member.
func TestArchiveMembersDesensitized(t *testing.T) {
	tmp := archiveTmp(t)
	dir := t.TempDir()
	const frames = 4
	photo := withEXIF(mustRead(t, testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))), 1)
	clip := mustRead(t, makeFaceVideo(t, dir, frames))
	gpx := trajectorySample(t, "two_tracks.gpx")
	csv := trajectorySample(t, "drive.csv")
	nested := packArchive(t, archive.Zip, member{name: "x/", dir: true}, member{name: "x/drive.gpx", data: gpx},
		member{name: "x/notes.txt", data: []byte("private notes")})
	members := []member{
		{name: "cam1/", dir: true},
		{name: "cam1/front/", dir: true},
		{name: "cam1/front/photo.jpg", data: photo},
		{name: "cam1/front/clip.mov", data: clip},
		{name: "cam1/gps/drive.gpx", data: gpx},
		{name: "cam1/gps/track.csv", data: csv},
		{name: "cam1/can/bus.bin", data: []byte{1, 2, 3, 4}},
		{name: "cam1/nested.zip", data: nested},
		{name: "README.txt", data: []byte("recorder 7")},
	}
	// Directories, then members in their order: the video renamed, the
	// files desens does not read dropped.
	wantNames := []string{"cam1/", "cam1/front/", "cam1/front/photo.jpg", "cam1/front/clip.mp4",
		"cam1/gps/drive.gpx", "cam1/gps/track.csv", "cam1/nested.zip"}
	wantActions := map[string]string{"cam1/front/photo.jpg": actDone, "cam1/front/clip.mov": actDone,
		"cam1/gps/drive.gpx": actDone, "cam1/gps/track.csv": actDone, "cam1/can/bus.bin": actDropped,
		"cam1/nested.zip": actDone, "cam1/nested.zip!/x/drive.gpx": actDone, "cam1/nested.zip!/x/notes.txt": actDropped,
		"README.txt": actDropped}

	d := newTestDesensitizer(t, Options{Trajectory: trajectory.Policy{Mode: trajectory.Coarsen, GridMetres: 500, TimeRound: time.Minute}})
	for _, f := range archiveFormats {
		t.Run(string(f), func(t *testing.T) {
			in := writeFile(t, filepath.Join(dir, "day."+string(f)), packArchive(t, f, members...))
			out := filepath.Join(dir, "out", "day."+string(f))
			rep := d.ProcessFile(t.Context(), in, out)
			if !rep.OK {
				t.Fatalf("archive failed: %s", rep.Error)
			}
			if rep.Kind != string(KindArchive) || rep.Archive == nil || rep.Archive.Format != string(f) {
				t.Fatalf("report kind %s, archive %+v", rep.Kind, rep.Archive)
			}
			got := unpackArchive(t, f, mustRead(t, out))
			if !slices.Equal(names(got), wantNames) {
				t.Fatalf("output members\n%q\nwant\n%q", names(got), wantNames)
			}
			for _, m := range rep.Archive.Members {
				if wantActions[m.Name] != m.Action {
					t.Errorf("member %s: %s (%s), want %s", m.Name, m.Action, m.Reason, wantActions[m.Name])
				}
			}
			if len(rep.Archive.Members) != len(wantActions) {
				t.Errorf("%d members reported, want %d: %+v", len(rep.Archive.Members), len(wantActions), rep.Archive.Members)
			}
			byName := map[string]unpacked{}
			for _, u := range got {
				byName[u.name] = u
				if !u.time.Equal(memberTime) {
					t.Errorf("member %s: time %v, want %v", u.name, u.time, memberTime)
				}
				if want := fs.FileMode(0o640); u.dir {
					if u.mode != fs.ModeDir|0o755 {
						t.Errorf("directory %s: mode %v, want %v", u.name, u.mode, fs.ModeDir|0o755)
					}
				} else if u.mode != want {
					t.Errorf("member %s: mode %v, want %v", u.name, u.mode, want)
				}
			}

			// The photo: its face hidden, nothing else, and no EXIF left.
			po := byName["cam1/front/photo.jpg"].data
			if bytes.Contains(po, []byte("Exif")) {
				t.Error("photo member keeps its EXIF")
			}
			inImg, err := gocv.IMDecode(photo, gocv.IMReadColor)
			if err != nil {
				t.Fatal(err)
			}
			defer inImg.Close()
			outImg, err := gocv.IMDecode(po, gocv.IMReadColor)
			if err != nil {
				t.Fatal(err)
			}
			defer outImg.Close()
			checkOnlyFacesHidden(t, inImg, outImg, FileReport{Detections: memberReport(t, rep, "cam1/front/photo.jpg").Detections})

			// The video: H.264 with its audio, no face, no location.
			vo := writeFile(t, filepath.Join(t.TempDir(), "clip.mp4"), byName["cam1/front/clip.mp4"].data)
			checkDesensitized(t, d, vo, frames, nil)
			if mr := memberReport(t, rep, "cam1/front/clip.mov"); mr.Output != "cam1/front/clip.mp4" || mr.Frames != frames {
				t.Errorf("video member report: output %q, %d frames", mr.Output, mr.Frames)
			}

			// The logs: coarsened, as they would be beside the archive.
			for name, in := range map[string][]byte{"cam1/gps/drive.gpx": gpx, "cam1/gps/track.csv": csv} {
				if o := byName[name].data; len(o) == 0 || bytes.Equal(o, in) {
					t.Errorf("%s: not rewritten (%d bytes)", name, len(o))
				}
			}
			if bytes.Contains(byName["cam1/gps/track.csv"].data, []byte("31.2307148")) {
				t.Error("track.csv keeps an exact position")
			}

			// The nested zip, desensitized the same way.
			inner := unpackArchive(t, archive.Zip, byName["cam1/nested.zip"].data)
			if !slices.Equal(names(inner), []string{"x/", "x/drive.gpx"}) || bytes.Equal(inner[1].data, gpx) {
				t.Errorf("nested zip holds %q, want x/ and a coarsened x/drive.gpx", names(inner))
			}
			if rep.Detections["face"] < 1 || rep.Frames < frames {
				t.Errorf("archive report: %d faces, %d frames", rep.Detections["face"], rep.Frames)
			}
			noTemps(t, filepath.Dir(out))
			checkEmpty(t, tmp)
		})
	}
}

func memberReport(t *testing.T, rep FileReport, name string) ArchiveMember {
	t.Helper()
	for _, m := range rep.Archive.Members {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no member %s in the report", name)
	return ArchiveMember{}
}

// newArchiveDesensitizer loads no model: these archives hold no media the
// tests look into.
func newArchiveDesensitizer(t *testing.T, o Options) *Desensitizer {
	t.Helper()
	d, err := newDesensitizer(o, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestArchiveOtherPolicy(t *testing.T) {
	tmp := archiveTmp(t)
	members := []member{{name: "logs/", dir: true}, {name: "logs/app.log", data: []byte("recorder started\n")},
		{name: "logs/drive.gpx", data: trajectorySample(t, "two_tracks.gpx")}, {name: "firmware.bin", data: []byte{0, 1, 2}},
		// macOS's AppleDouble files are named like media but hold none.
		{name: "__MACOSX/logs/._drive.gpx", data: []byte("\x00\x05\x16\x07 attributes")}}
	for _, tc := range []struct {
		other ArchiveOther
		want  []string // output members; nil: the archive fails
	}{
		{"", []string{"logs/"}}, // drop, and the trajectory policy drops the GPX
		{ArchiveDrop, []string{"logs/"}},
		{ArchiveCopy, []string{"logs/", "logs/app.log", "firmware.bin", "__MACOSX/logs/._drive.gpx"}},
		{ArchiveFail, nil},
	} {
		for _, f := range archiveFormats {
			name := string(tc.other)
			if name == "" {
				name = "default"
			}
			t.Run(fmt.Sprintf("%s/%s", name, f), func(t *testing.T) {
				dir := t.TempDir()
				d := newArchiveDesensitizer(t, Options{Archive: ArchiveOptions{Other: tc.other}})
				in := writeFile(t, filepath.Join(dir, "a."+string(f)), packArchive(t, f, members...))
				out := filepath.Join(dir, "out", "a."+string(f))
				rep := d.ProcessFile(t.Context(), in, out)
				if tc.want == nil {
					if rep.OK || !errors.Is(rep.Err(), ErrUnsupported) || rep.Archive.FailedMember != "logs/app.log" ||
						!strings.Contains(rep.Error, "a."+string(f)+"!/logs/app.log") {
						t.Fatalf("ok %v, error %q (failed member %q); want ErrUnsupported naming logs/app.log", rep.OK, rep.Error, rep.Archive.FailedMember)
					}
					if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("a failed archive has an output: %v", err)
					}
					checkEmpty(t, tmp)
					return
				}
				if !rep.OK {
					t.Fatal(rep.Error)
				}
				got := unpackArchive(t, f, mustRead(t, out))
				if !slices.Equal(names(got), tc.want) {
					t.Fatalf("output members %q, want %q", names(got), tc.want)
				}
				for _, u := range got {
					if u.name == "logs/app.log" && string(u.data) != "recorder started\n" {
						t.Errorf("copied member changed: %q", u.data)
					}
				}
				checkEmpty(t, tmp)
			})
		}
	}
}

// zipBomb is a zip of a few hundred KiB whose one member, called name,
// expands to 256 MiB of zeros.
func zipBomb(t *testing.T, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for range 256 {
		w.Write(zero)
	}
	zw.Close()
	if buf.Len() > 1<<20 {
		t.Fatalf("the bomb is %d bytes", buf.Len())
	}
	return buf.Bytes()
}

// TestArchiveRefused: archives that are unsafe, corrupt or hold a member
// that cannot be desensitized fail whole, with an error naming the archive
// and the member, and leave no output and no temporary file.
func TestArchiveRefused(t *testing.T) {
	tmp := archiveTmp(t)
	img := mustRead(t, filepath.Join(testenv.Root(), "testdata", "sample", "car.jpg"))
	ok := member{name: "ok.jpg", data: img}
	for _, tc := range []struct {
		name   string
		format archive.Format
		data   func(t *testing.T) []byte
		opts   ArchiveOptions
		want   error
		member string // ArchiveReport.FailedMember, named as ARCHIVE!/MEMBER; "?" where it depends on the cut
	}{
		{"a zip bomb, copied", archive.Zip, func(t *testing.T) []byte { return zipBomb(t, "data/zeros.bin") },
			ArchiveOptions{Other: ArchiveCopy}, ErrUnsafeArchive, "data/zeros.bin"},
		{"a zip bomb named as an image", archive.Zip, func(t *testing.T) []byte { return zipBomb(t, "cam/frame.bmp") },
			ArchiveOptions{}, ErrUnsafeArchive, "cam/frame.bmp"},
		{"a zip slip", archive.Zip, func(t *testing.T) []byte {
			return packArchive(t, archive.Zip, ok, member{name: "../../etc/cron.d/evil", data: []byte("x")})
		}, ArchiveOptions{}, ErrUnsafeArchive, "../../etc/cron.d/evil"},
		{"a tar slip through a Windows path", archive.Tar, func(t *testing.T) []byte {
			return packArchive(t, archive.Tar, member{name: `cam\..\..\evil.exe`, data: []byte("x")})
		}, ArchiveOptions{}, ErrUnsafeArchive, `cam\..\..\evil.exe`},
		{"a symbolic link", archive.TarGz, func(t *testing.T) []byte {
			return packArchive(t, archive.TarGz, ok, member{name: "cam/etc", link: "/etc"})
		}, ArchiveOptions{}, ErrUnsafeArchive, "cam/etc"},
		{"a symbolic link in a zip", archive.Zip, func(t *testing.T) []byte {
			return packArchive(t, archive.Zip, member{name: "passwd", link: "/etc/passwd"})
		}, ArchiveOptions{}, ErrUnsafeArchive, "passwd"},
		{"a truncated tar.gz", archive.TarGz, func(t *testing.T) []byte {
			b := packArchive(t, archive.TarGz, ok, member{name: "b.jpg", data: img})
			return b[:len(b)*3/4]
		}, ArchiveOptions{}, ErrCorruptMedia, "?"},
		{"a truncated zip", archive.Zip, func(t *testing.T) []byte {
			b := packArchive(t, archive.Zip, ok)
			return b[:len(b)-30]
		}, ArchiveOptions{}, ErrCorruptMedia, ""},
		{"an empty file", archive.Tar, func(t *testing.T) []byte { return nil }, ArchiveOptions{}, ErrCorruptMedia, ""},
		{"a corrupt image member", archive.Tar, func(t *testing.T) []byte {
			return packArchive(t, archive.Tar, ok, member{name: "cam/bad.jpg", data: []byte("not a jpeg at all")})
		}, ArchiveOptions{}, ErrCorruptMedia, "cam/bad.jpg"},
		{"archives nested past the limit", archive.Zip, func(t *testing.T) []byte {
			l3 := packArchive(t, archive.Zip, ok)
			l2 := packArchive(t, archive.Tar, member{name: "l3.zip", data: l3})
			l1 := packArchive(t, archive.TarGz, member{name: "l2.tar", data: l2})
			return packArchive(t, archive.Zip, member{name: "l1.tgz", data: l1})
		}, ArchiveOptions{}, ErrUnsafeArchive, "l1.tgz!/l2.tar!/l3.zip"},
		{"two members with one output name", archive.Tar, func(t *testing.T) []byte {
			clip := mustRead(t, makeFaceVideo(t, t.TempDir(), 2))
			return packArchive(t, archive.Tar, member{name: "a.mp4", data: clip}, member{name: "a.mov", data: clip})
		}, ArchiveOptions{}, ErrUnsafeArchive, "a.mov"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d := newArchiveDesensitizer(t, Options{Archive: tc.opts})
			base := "in." + string(tc.format)
			in := writeFile(t, filepath.Join(dir, base), tc.data(t))
			out := filepath.Join(dir, "out", base)
			rep := d.ProcessFile(t.Context(), in, out)
			t.Log(rep.Error)
			if rep.OK || !errors.Is(rep.Err(), tc.want) {
				t.Fatalf("ok %v, error %v; want %v", rep.OK, rep.Err(), tc.want)
			}
			where := base
			if tc.member != "" && tc.member != "?" {
				where = base + "!/" + tc.member
			}
			if !strings.Contains(rep.Error, where) || (tc.member != "?" && rep.Archive.FailedMember != tc.member) {
				t.Errorf("error %q, failed member %q; want them to name %s", rep.Error, rep.Archive.FailedMember, where)
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a refused archive has an output: %v", err)
			}
			noTemps(t, dir)
			checkEmpty(t, tmp)
		})
	}
}

// TestArchiveGBKNames: a zip made on Chinese Windows stores names in GBK
// without the UTF-8 flag; the output holds the same names in UTF-8, flagged.
func TestArchiveGBKNames(t *testing.T) {
	archiveTmp(t)
	dir := t.TempDir()
	img := mustRead(t, filepath.Join(testenv.Root(), "testdata", "sample", "car.jpg"))
	// "行车记录/前摄像头.jpg" and "行车记录/说明.txt" in GBK.
	gbkDir := "\xd0\xd0\xb3\xb5\xbc\xc7\xc2\xbc/"
	in := writeFile(t, filepath.Join(dir, "win.zip"), packArchive(t, archive.Zip,
		member{name: gbkDir + "\xc7\xb0\xc9\xe3\xcf\xf1\xcd\xb7.jpg", data: img, raw: true},
		member{name: gbkDir + "\xcb\xb5\xc3\xf7.txt", data: []byte("notes"), raw: true}))
	d := newArchiveDesensitizer(t, Options{Archive: ArchiveOptions{Other: ArchiveCopy}})
	out := filepath.Join(dir, "out", "win.zip")
	rep := d.ProcessFile(t.Context(), in, out)
	if !rep.OK {
		t.Fatal(rep.Error)
	}
	got := unpackArchive(t, archive.Zip, mustRead(t, out))
	want := []string{"行车记录/前摄像头.jpg", "行车记录/说明.txt"}
	if !slices.Equal(names(got), want) {
		t.Fatalf("output members %q, want %q", names(got), want)
	}
	for _, u := range got {
		if !u.utf8 {
			t.Errorf("%s: written without the UTF-8 flag", u.name)
		}
	}
	if m := rep.Archive.Members[0]; m.Name != want[0] || m.Action != actDone {
		t.Errorf("report: %+v", m)
	}
}

// TestBucketArchives runs a prefix of archive objects on versitygw: a
// tar.gz streamed from the bucket, a zip downloaded first, and two that
// are refused. The good ones land repacked, with their source recorded;
// the refused ones leave no object and no pending upload.
func TestBucketArchives(t *testing.T) {
	tmp := archiveTmp(t)
	e := newS3Env(t, false, func(c *storage.S3Config) { c.PartSize = storage.MinPartSize })
	dir := t.TempDir()
	photo := withEXIF(mustRead(t, filepath.Join(testenv.Root(), "testdata", "sample", "car.jpg")), 1)
	clip := mustRead(t, makeFaceVideo(t, dir, 3))
	gpx := trajectorySample(t, "two_tracks.gpx")
	etag := e.put(t, e.in, "day/cam1.tar.gz", packArchive(t, archive.TarGz, member{name: "cam1/", dir: true},
		member{name: "cam1/a.jpg", data: photo}, member{name: "cam1/b.mp4", data: clip},
		member{name: "cam1/drive.gpx", data: gpx}, member{name: "cam1/can.bin", data: []byte{1, 2}}))
	e.put(t, e.in, "day/cam2.zip", packArchive(t, archive.Zip,
		member{name: "\xc7\xb0\xc9\xe3\xcf\xf1\xcd\xb7.jpg", data: photo, raw: true})) // 前摄像头.jpg in GBK
	e.put(t, e.in, "day/bomb.zip", zipBomb(t, "x.bmp"))
	e.put(t, e.in, "day/slip.tar", packArchive(t, archive.Tar, member{name: "../../x.jpg", data: photo}))

	d := newBareDesensitizer(t, e, Options{Workers: 2})
	rep, err := d.Run(t.Context(), s3url(e.in, "day/"), s3url(e.out, "day/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Summary; s.Files != 4 || s.OK != 2 || s.Failed != 2 {
		t.Fatalf("summary %+v; want 4 files, 2 ok, 2 failed", s)
	}
	for _, f := range rep.Files {
		t.Logf("%s: ok %v %s", f.Input, f.OK, f.Error)
		if !f.OK && (!errors.Is(f.Err(), ErrUnsafeArchive) || !strings.Contains(f.Error, f.Input+"!/")) {
			t.Errorf("%s: error %q is not ErrUnsafeArchive naming the member", f.Input, f.Error)
		}
	}
	e.nothingLeft(t, "day/cam1.tar.gz", "day/cam2.zip")
	h := e.head(t, e.out, "day/cam1.tar.gz")
	if aws.ToString(h.ContentType) != "application/gzip" || h.Metadata[MetaSourceETag] != metaValue(etag) {
		t.Errorf("output content type %q, metadata %v", aws.ToString(h.ContentType), h.Metadata)
	}
	got := unpackArchive(t, archive.TarGz, mustRead(t, e.download(t, e.out, "day/cam1.tar.gz")))
	if want := []string{"cam1/", "cam1/a.jpg", "cam1/b.mp4"}; !slices.Equal(names(got), want) {
		t.Errorf("cam1.tar.gz holds %q, want %q", names(got), want)
	}
	for _, u := range got {
		if u.name == "cam1/a.jpg" && (bytes.Contains(u.data, []byte("Exif")) || !bytes.HasPrefix(u.data, []byte{0xFF, 0xD8})) {
			t.Error("cam1/a.jpg keeps its EXIF, or is no JPEG")
		}
	}
	zipped := unpackArchive(t, archive.Zip, mustRead(t, e.download(t, e.out, "day/cam2.zip")))
	if len(zipped) != 1 || zipped[0].name != "前摄像头.jpg" || !zipped[0].utf8 {
		t.Errorf("cam2.zip holds %q", names(zipped))
	}
	checkEmpty(t, tmp)
}

// TestArchiveTempsOfKilledRunsRemoved: a run killed outright leaves its
// archive's temporary directory; the next archive removes it, and says so,
// but leaves alone one whose run still holds its lock.
func TestArchiveTempsOfKilledRunsRemoved(t *testing.T) {
	tmp := archiveTmp(t)
	old := time.Now().Add(-time.Hour)
	mk := func(name string) string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, archiveLock), nil)
		writeFile(t, filepath.Join(dir, "in.mp4"), []byte("half a video"))
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dead, live := mk(archiveTmpPrefix+"dead"), mk(archiveTmpPrefix+"live")
	f, err := os.Open(filepath.Join(live, archiveLock))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := lock(f); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "a.tar"), packArchive(t, archive.Tar, member{name: "notes.txt", data: []byte("x")}))
	d := newArchiveDesensitizer(t, Options{})
	rep := d.ProcessFile(t.Context(), in, filepath.Join(dir, "out", "a.tar"))
	if !rep.OK {
		t.Fatal(rep.Error)
	}
	if _, err := os.Stat(dead); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed run's directory is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live run's directory was removed: %v", err)
	}
	if len(rep.Cleaned) != 1 || !strings.Contains(rep.Cleaned[0], dead) {
		t.Errorf("report's cleaned: %q, want the killed run's directory", rep.Cleaned)
	}
	f.Close()
	os.RemoveAll(live)
}

// TestArchiveProcessStream: Process takes an archive as a stream too.
func TestArchiveProcessStream(t *testing.T) {
	archiveTmp(t)
	gpx := trajectorySample(t, "two_tracks.gpx")
	in := packArchive(t, archive.TarGz, member{name: "a/drive.gpx", data: gpx}, member{name: "a/notes.txt", data: []byte("x")})
	d := newArchiveDesensitizer(t, Options{Trajectory: trajectory.Policy{Mode: trajectory.Coarsen, GridMetres: 500, TimeRound: time.Minute}})
	var out bytes.Buffer
	rep, err := d.Process(t.Context(), "day.tgz", bytes.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := unpackArchive(t, archive.TarGz, out.Bytes())
	if !slices.Equal(names(got), []string{"a/drive.gpx"}) || bytes.Equal(got[0].data, gpx) || rep.Archive == nil {
		t.Errorf("output holds %q (report %+v)", names(got), rep.Archive)
	}
}
