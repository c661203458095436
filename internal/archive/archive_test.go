package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"
)

// entry is a member to build a test archive from.
type entry struct {
	name string
	data string
	dir  bool
	link string // a symbolic link to this
	hard bool   // link is a hard link
	dev  bool   // a character device
	raw  bool   // zip: name stored as it is, without the UTF-8 flag
	mode fs.FileMode
}

var mtime = time.Date(2026, 12, 5, 8, 30, 0, 0, time.UTC)

// build writes entries as an archive of format f.
func build(t *testing.T, f Format, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	if f == Zip {
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime, NonUTF8: e.raw}
			mode := e.mode
			switch {
			case e.dir:
				mode |= fs.ModeDir
			case e.link != "":
				mode |= fs.ModeSymlink
				e.data = e.link
			}
			if mode.Perm() == 0 {
				mode |= 0o644
			}
			h.SetMode(mode)
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			if !e.dir {
				io.WriteString(w, e.data)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	var w io.Writer = &buf
	var gz *gzip.Writer
	if f == TarGz {
		gz = gzip.NewWriter(&buf)
		w = gz
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o640, ModTime: mtime, Size: int64(len(e.data)), Typeflag: tar.TypeReg}
		switch {
		case e.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o750, 0
		case e.link != "" && e.hard:
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.link, 0
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case e.dev:
			h.Typeflag, h.Size = tar.TypeChar, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			io.WriteString(tw, e.data)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if gz != nil {
		gz.Close()
	}
	return buf.Bytes()
}

type got struct {
	name string
	data string
	dir  bool
	mode fs.FileMode
	time time.Time
}

// readAll reads every member of an archive.
func readAll(t *testing.T, f Format, b []byte, lim Limits) ([]got, error) {
	t.Helper()
	r, err := NewReader("test."+string(f), f, bytes.NewReader(b), int64(len(b)), lim, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []got
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return out, err
		}
		out = append(out, got{name: m.Name, data: string(data), dir: m.Type == Dir, mode: m.Mode, time: m.ModTime})
	}
}

var formats = []Format{Tar, TarGz, Zip}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]Format{"a.tar": Tar, "A.TAR.GZ": TarGz, "x/y.tgz": TarGz, "b.Zip": Zip, "c.gz": "", "d.jpg": ""} {
		if f, ok := FormatOf(name); f != want || ok != (want != "") {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, f, ok, want)
		}
	}
}

func TestRoundTripKeepsNamesOrderModesAndTimes(t *testing.T) {
	entries := []entry{{name: "cam1/", dir: true}, {name: "cam1/b.jpg", data: "image"}, {name: "cam1/a.log", data: "log"},
		{name: "z.txt", data: strings.Repeat("text ", 1000)}, {name: "cam1/sub/", dir: true}, {name: "cam1/sub/c.gpx", data: "<gpx/>"}}
	for _, f := range formats {
		t.Run(string(f), func(t *testing.T) {
			in := build(t, f, entries...)
			r, err := NewReader("in", f, bytes.NewReader(in), int64(len(in)), DefaultLimits(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			w := NewWriter(&out, f)
			for {
				m, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if err := w.Add(m, m.Name, bytes.NewReader(data), int64(len(data))); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			want, err := readAll(t, f, in, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			have, err := readAll(t, f, out.Bytes(), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if len(have) != len(entries) || len(want) != len(entries) {
				t.Fatalf("members: %d in, %d out, want %d", len(want), len(have), len(entries))
			}
			for i := range want {
				a, b := want[i], have[i]
				if a.name != b.name || a.data != b.data || a.dir != b.dir || a.mode != b.mode || !a.time.Equal(b.time) {
					t.Errorf("member %d: in %+v, out %+v", i, a, b)
				}
				if a.name != entries[i].name {
					t.Errorf("member %d is %s, want %s", i, a.name, entries[i].name)
				}
			}
		})
	}
}

func TestZipNameFlaggedUTF8ButNotIsRefused(t *testing.T) {
	in := build(t, Zip, entry{name: "ok.txt", data: "x"}, entry{name: "\xd0\xd0.txt", data: "x"})
	// Set the UTF-8 flag on the second member, in its local and central headers.
	for _, sig := range []string{"PK\x03\x04", "PK\x01\x02"} {
		i := bytes.LastIndex(in, []byte(sig))
		off := 6 // general purpose flags, after the signature and versions
		if sig == "PK\x01\x02" {
			off = 8
		}
		in[i+off+1] |= 0x08
	}
	_, err := readAll(t, Zip, in, DefaultLimits())
	if !errors.Is(err, ErrName) {
		t.Fatalf("error %v, want ErrName", err)
	}
}

func TestGBKZipNameIsDecodedAndWrittenAsUTF8(t *testing.T) {
	// "行车记录/前摄像头.jpg" in GBK, as a zip tool on Chinese Windows stores it.
	gbk := "\xd0\xd0\xb3\xb5\xbc\xc7\xc2\xbc/\xc7\xb0\xc9\xe3\xcf\xf1\xcd\xb7.jpg"
	in := build(t, Zip, entry{name: gbk, data: "x", raw: true})
	r, err := NewReader("in.zip", Zip, bytes.NewReader(in), int64(len(in)), DefaultLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "行车记录/前摄像头.jpg" || !m.Decoded {
		t.Fatalf("name %q (decoded %v), want 行车记录/前摄像头.jpg decoded from GBK", m.Name, m.Decoded)
	}
	var out bytes.Buffer
	w := NewWriter(&out, Zip)
	if err := w.Add(m, m.Name, r, m.Size); err != nil {
		t.Fatal(err)
	}
	w.Close()
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f := zr.File[0]; f.Name != "行车记录/前摄像头.jpg" || f.Flags&0x800 == 0 {
		t.Errorf("written as %q, flags %#x; want the UTF-8 name with the UTF-8 flag", f.Name, f.Flags)
	}
}

// zeros is a reader of n zero bytes.
func zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bomb is a small archive whose one member expands to n zero bytes.
func bomb(t *testing.T, f Format, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if f == Zip {
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("zeros.bin")
		io.Copy(w, zeros(n))
		zw.Close()
		return buf.Bytes()
	}
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "zeros.bin", Mode: 0o644, Size: n, Typeflag: tar.TypeReg})
	io.Copy(tw, zeros(n))
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestRefusals(t *testing.T) {
	small := DefaultLimits()
	small.MemberBytes, small.TotalBytes, small.Members = 1000, 1500, 3
	for _, tc := range []struct {
		name    string
		formats []Format
		archive func(t *testing.T, f Format) []byte
		lim     Limits
		want    error
		member  string // the member the error names
	}{
		{"a ../ path (zip slip)", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "ok.txt", data: "x"}, entry{name: "a/../../evil.sh", data: "x"})
		}, DefaultLimits(), ErrUnsafePath, "a/../../evil.sh"},
		{"an absolute path", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "/etc/cron.d/x", data: "x"})
		}, DefaultLimits(), ErrUnsafePath, "/etc/cron.d/x"},
		{"a Windows drive path", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: `C:\Windows\x.dll`, data: "x"})
		}, DefaultLimits(), ErrUnsafePath, `C:\Windows\x.dll`},
		{"a ..\\ path", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: `dir\..\..\x.exe`, data: "x"})
		}, DefaultLimits(), ErrUnsafePath, `dir\..\..\x.exe`},
		{"a symbolic link", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "etc", link: "/etc"})
		}, DefaultLimits(), ErrLink, "etc"},
		{"a hard link", []Format{Tar, TarGz}, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "a", data: "x"}, entry{name: "b", link: "/etc/shadow", hard: true})
		}, DefaultLimits(), ErrLink, "b"},
		{"a device", []Format{Tar, TarGz}, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "null", dev: true})
		}, DefaultLimits(), ErrSpecial, "null"},
		{"a duplicate name", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "a/b.jpg", data: "1"}, entry{name: "a/./b.jpg", data: "2"})
		}, DefaultLimits(), ErrDuplicate, "a/./b.jpg"},
		{"a member over the member limit", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "big", data: strings.Repeat("x", 1001)})
		}, small, ErrTooLarge, "big"},
		{"members over the total limit", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "a", data: strings.Repeat("x", 900)}, entry{name: "b", data: strings.Repeat("x", 900)})
		}, small, ErrTooLarge, "b"},
		{"too many members", formats, func(t *testing.T, f Format) []byte {
			return build(t, f, entry{name: "a"}, entry{name: "b"}, entry{name: "c"}, entry{name: "d"})
		}, small, ErrTooMany, "d"},
		{"a zip bomb: 256 MiB of zeros", []Format{Zip}, func(t *testing.T, f Format) []byte {
			return bomb(t, f, 256<<20)
		}, DefaultLimits(), ErrRatio, "zeros.bin"},
		{"a tar.gz bomb: 256 MiB of zeros", []Format{TarGz}, func(t *testing.T, f Format) []byte {
			return bomb(t, f, 256<<20)
		}, DefaultLimits(), ErrRatio, "zeros.bin"},
		{"a truncated archive", formats, func(t *testing.T, f Format) []byte {
			b := build(t, f, entry{name: "a.txt", data: strings.Repeat("abc", 2000)}, entry{name: "b.txt", data: "x"})
			return b[:len(b)*2/3]
		}, DefaultLimits(), ErrCorrupt, ""},
		{"not an archive", formats, func(t *testing.T, f Format) []byte {
			return []byte(strings.Repeat("plain text, not an archive\n", 40))
		}, DefaultLimits(), ErrCorrupt, ""},
	} {
		for _, f := range tc.formats {
			t.Run(tc.name+"/"+string(f), func(t *testing.T) {
				b := tc.archive(t, f)
				if strings.Contains(tc.name, "bomb") && len(b) > 1<<20 {
					t.Fatalf("the bomb is %d bytes: not small", len(b))
				}
				_, err := readAll(t, f, b, tc.lim)
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				var ae *Error
				if !errors.As(err, &ae) || ae.Archive != "test."+string(f) {
					t.Fatalf("error %v does not name the archive", err)
				}
				if tc.member != "" && ae.Member != tc.member {
					t.Errorf("error %v names member %q, want %q", err, ae.Member, tc.member)
				}
			})
		}
	}
}

func TestBudgetIsSharedByNestedReaders(t *testing.T) {
	lim := DefaultLimits()
	b := NewBudget(1000)
	in := build(t, Tar, entry{name: "a", data: strings.Repeat("x", 600)})
	for i, want := range []error{nil, ErrTooLarge} {
		r, err := NewReader("in.tar", Tar, bytes.NewReader(in), int64(len(in)), lim, b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r); !errors.Is(err, want) {
			t.Errorf("reader %d: error %v, want %v", i, err, want)
		}
	}
}

func TestTarExtendedAttributesNotKept(t *testing.T) {
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	tw.WriteHeader(&tar.Header{Name: "a.jpg", Mode: 0o600, Uid: 1000, Uname: "cam", ModTime: mtime, Size: 1, Typeflag: tar.TypeReg,
		PAXRecords: map[string]string{"SCHILY.xattr.user.xdg.origin.url": "https://example.com/a.jpg", "comment": "31.23,121.47"}})
	tw.Write([]byte("x"))
	tw.Close()
	r, err := NewReader("in.tar", Tar, &in, int64(in.Len()), DefaultLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := NewWriter(&out, Tar)
	if err := w.Add(m, m.Name, r, m.Size); err != nil {
		t.Fatal(err)
	}
	w.Close()
	h, err := tar.NewReader(&out).Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(h.PAXRecords) != 0 || h.Uid != 1000 || h.Uname != "cam" || h.Mode != 0o600 || !h.ModTime.Equal(mtime) {
		t.Errorf("written header %+v: want owner, mode and time kept, no PAX records", h)
	}
	if bytes.Contains(out.Bytes(), []byte("example.com")) || bytes.Contains(out.Bytes(), []byte("31.23")) {
		t.Error("the output holds the extended attributes")
	}
}

// TestZipHeaderThatLies: a zip whose directory claims a member is 10
// bytes long while it expands to 100 KiB fails on the bytes read.
func TestZipHeaderThatLies(t *testing.T) {
	b := bomb(t, Zip, 100<<10)
	cd := bytes.LastIndex(b, []byte("PK\x01\x02"))
	if cd < 0 {
		t.Fatal("no central directory header")
	}
	binary.LittleEndian.PutUint32(b[cd+24:], 10) // uncompressed size
	lim := DefaultLimits()
	lim.MemberBytes = 1000
	_, err := readAll(t, Zip, b, lim)
	var ae *Error
	if !(errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooLarge)) || !errors.As(err, &ae) || ae.Member != "zeros.bin" {
		t.Fatalf("error %v; want a corrupt or too large zeros.bin", err)
	}
}

// FuzzReader: whatever the bytes, reading them as any format ends in
// io.EOF or an *Error naming the archive, never a panic, and never more
// bytes than the limits allow.
func FuzzReader(f *testing.F) {
	t := &testing.T{}
	for _, fm := range formats {
		f.Add(build(t, fm, entry{name: "a/", dir: true}, entry{name: "a/b.txt", data: "hello"}), uint8(0))
	}
	f.Add(bomb(t, Zip, 4<<20), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		fm := formats[int(which)%len(formats)]
		lim := Limits{MemberBytes: 1 << 20, TotalBytes: 2 << 20, Ratio: 50, RatioFloor: 64 << 10, Members: 100}
		r, err := NewReader("fuzz", fm, bytes.NewReader(data), int64(len(data)), lim, nil)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is no *Error", err)
			}
			return
		}
		defer r.Close()
		var total int64
		for {
			_, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("error %v is no *Error", err)
				}
				return
			}
			n, err := io.Copy(io.Discard, r)
			total += n
			if total > lim.TotalBytes+32<<10 {
				t.Fatalf("%d bytes read past the %d limit", total, lim.TotalBytes)
			}
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("read error %v is no *Error", err)
				}
				return
			}
		}
	})
}

// TestZipUnicodePathField: a name in a legacy encoding with Info-ZIP's
// Unicode Path field is read from the field, not guessed as GBK; a field
// whose CRC no longer matches the stored name is ignored.
func TestZipUnicodePathField(t *testing.T) {
	stored := "caf\xe9.txt" // "café.txt" in Latin-1: GBK would misread it
	field := func(crc uint32, name string) []byte {
		f := binary.LittleEndian.AppendUint16(nil, 0x7075)
		f = binary.LittleEndian.AppendUint16(f, uint16(5+len(name)))
		f = append(f, 1)
		f = binary.LittleEndian.AppendUint32(f, crc)
		return append(f, name...)
	}
	for _, tc := range []struct {
		name  string
		extra []byte
		want  string
	}{
		{"field matches", field(crc32.ChecksumIEEE([]byte(stored)), "café.txt"), "café.txt"},
		{"stale field", field(12345, "other.txt"), ""}, // falls back to GBK, which fails on \xe9.
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, err := zw.CreateHeader(&zip.FileHeader{Name: stored, Method: zip.Store, NonUTF8: true, Extra: tc.extra})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("x"))
			zw.Close()
			got, err := readAll(t, Zip, buf.Bytes(), DefaultLimits())
			if tc.want == "" {
				if !errors.Is(err, ErrName) {
					t.Fatalf("got %v, %v; want ErrName", got, err)
				}
				return
			}
			if err != nil || len(got) != 1 || got[0].name != tc.want {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}
