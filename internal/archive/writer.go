package archive

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
)

// Writer writes an archive of one format.
type Writer struct {
	f  Format
	gz *gzip.Writer
	tw *tar.Writer
	zw *zip.Writer
}

// NewWriter writes an archive in format f to w. Deflate (zip members, and
// gzip) runs at its fastest level: the members of camera archives are
// mostly media, which hardly compress, so higher levels cost time for
// next to nothing.
func NewWriter(w io.Writer, f Format) *Writer {
	aw := &Writer{f: f}
	switch f {
	case Zip:
		aw.zw = zip.NewWriter(w)
		aw.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
	case TarGz:
		aw.gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
		aw.tw = tar.NewWriter(aw.gz)
	default:
		aw.tw = tar.NewWriter(w)
	}
	return aw
}

// Add writes a member like m (its type, mode and time, and in a zip its
// compression method) called name, with size bytes from r. m comes from a
// Reader of any format; the bytes of a directory are ignored. In a tar, r
// must hold exactly size bytes.
func (w *Writer) Add(m *Member, name string, r io.Reader, size int64) error {
	if w.zw != nil {
		return w.addZip(m, name, r)
	}
	return w.addTar(m, name, r, size)
}

func (w *Writer) addTar(m *Member, name string, r io.Reader, size int64) error {
	// A fresh header: extended attributes and other PAX records can say
	// where a file came from, and are not kept.
	h := tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(m.Mode.Perm()), ModTime: m.ModTime, Size: size}
	if o := m.tarHdr; o != nil {
		h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.Format = o.Mode, o.Uid, o.Gid, o.Uname, o.Gname, o.Format
	}
	if m.Type == Dir {
		h.Typeflag, h.Size = tar.TypeDir, 0
	}
	if err := w.tw.WriteHeader(&h); err != nil {
		return fmt.Errorf("member %s: %w", name, err)
	}
	if m.Type == Dir {
		return nil
	}
	n, err := io.Copy(w.tw, r)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("member %s: %d bytes written, %d declared", name, n, size)
	}
	return nil
}

func (w *Writer) addZip(m *Member, name string, r io.Reader) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: m.ModTime}
	if m.zipHdr != nil {
		h.Method = m.zipHdr.Method
		h.CreatorVersion = m.zipHdr.CreatorVersion
		h.ExternalAttrs = m.zipHdr.ExternalAttrs
	} else {
		h.SetMode(m.Mode)
	}
	if m.Type == Dir {
		h.Method = zip.Store
		if name != "" && name[len(name)-1] != '/' {
			h.Name += "/"
		}
	}
	fw, err := w.zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("member %s: %w", name, err)
	}
	if m.Type == Dir {
		return nil
	}
	_, err = io.Copy(fw, r)
	return err
}

// Close writes the archive's end (and flushes the compressor); it does
// not close the underlying writer.
func (w *Writer) Close() error {
	if w.zw != nil {
		return w.zw.Close()
	}
	if err := w.tw.Close(); err != nil {
		return err
	}
	if w.gz != nil {
		return w.gz.Close()
	}
	return nil
}
