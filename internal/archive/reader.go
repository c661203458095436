package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Reader reads an archive's members in order.
type Reader struct {
	name   string
	lim    Limits
	budget *Budget

	tr *tar.Reader
	gz *gzip.Reader

	zr *zip.Reader
	zi int
	zf io.ReadCloser // the current zip member's decompressor

	cur  *Member
	data *memberReader
	seen map[string]bool
	n    int
	err  error // sticky: the archive failed
}

// NewReader reads the archive called name (for errors) in format f from
// r. A zip is read from its end, so for Zip r must be an io.ReaderAt and
// size its length; a tar is read as a stream. Members read count against
// lim and against budget, which readers of nested archives share (nil: a
// new one of lim.TotalBytes).
func NewReader(name string, f Format, r io.Reader, size int64, lim Limits, budget *Budget) (*Reader, error) {
	if budget == nil {
		budget = NewBudget(lim.TotalBytes)
	}
	ar := &Reader{name: name, lim: lim, budget: budget, seen: map[string]bool{}}
	switch f {
	case Tar:
		ar.tr = tar.NewReader(r)
	case TarGz:
		in := &counter{r: r}
		gz, err := gzip.NewReader(bufio.NewReader(in))
		if err != nil {
			return nil, ar.fail("", corrupt(err))
		}
		ar.gz = gz
		ar.tr = tar.NewReader(&ratioReader{r: gz, in: in, lim: lim})
	case Zip:
		ra, ok := r.(io.ReaderAt)
		if !ok {
			return nil, fmt.Errorf("archive %s: a zip is read at random, from an io.ReaderAt", name)
		}
		zr, err := zip.NewReader(ra, size)
		if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // checked per member, with the name
			return nil, ar.fail("", corrupt(err))
		}
		ar.zr = zr
	default:
		return nil, fmt.Errorf("archive %s: unknown format %q", name, f)
	}
	return ar, nil
}

// Name is the archive's name, as given to NewReader.
func (r *Reader) Name() string { return r.name }

// Next moves to the next member, skipping what is left of the current
// one, and returns it; io.EOF after the last. A member that fails a check
// fails the archive: Next returns an *Error naming it, and so does every
// later call.
func (r *Reader) Next() (*Member, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.zf != nil {
		r.zf.Close()
		r.zf = nil
	}
	prev := ""
	if r.cur != nil {
		prev = r.cur.Name
	}
	r.cur, r.data = nil, nil
	var m *Member
	var err error
	if r.zr != nil {
		m, err = r.nextZip()
	} else {
		m, err = r.nextTar(prev)
	}
	if err != nil {
		return nil, err
	}
	if err := r.check(m); err != nil {
		return nil, r.fail(m.Name, err)
	}
	r.cur = m
	return m, nil
}

func (r *Reader) nextTar(prev string) (*Member, error) {
	for {
		h, err := r.tr.Next()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) { // checked below, with the name
			return nil, r.readErr(prev, "after member", err)
		}
		m := &Member{Name: h.Name, Mode: h.FileInfo().Mode(), ModTime: h.ModTime, Size: h.Size, tarHdr: h}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse:
		case tar.TypeDir:
			m.Type = Dir
		case tar.TypeXGlobalHeader:
			continue // defaults for later headers, which the reader has applied
		case tar.TypeSymlink, tar.TypeLink:
			return nil, r.fail(h.Name, fmt.Errorf("%w to %s", ErrLink, h.Linkname))
		default:
			return nil, r.fail(h.Name, fmt.Errorf("%w (tar type %q)", ErrSpecial, h.Typeflag))
		}
		r.data = &memberReader{r: r.tr, r0: r, name: h.Name}
		return m, nil
	}
}

func (r *Reader) nextZip() (*Member, error) {
	if r.zi >= len(r.zr.File) {
		return nil, io.EOF
	}
	f := r.zr.File[r.zi]
	r.zi++
	name, decoded, err := zipName(&f.FileHeader)
	if err != nil {
		return nil, r.fail(fmt.Sprintf("%q", f.Name), err)
	}
	mode := f.Mode()
	m := &Member{Name: name, Mode: mode, ModTime: f.Modified, Size: int64(f.UncompressedSize64), Decoded: decoded, zipHdr: &f.FileHeader}
	switch {
	case mode.IsDir():
		m.Type = Dir
	case mode&fs.ModeSymlink != 0:
		return nil, r.fail(name, ErrLink)
	case !mode.IsRegular():
		return nil, r.fail(name, fmt.Errorf("%w (mode %v)", ErrSpecial, mode))
	case f.Flags&0x1 != 0:
		return nil, r.fail(name, ErrEncrypted)
	}
	if m.Type == File {
		rc, err := f.Open()
		if err != nil {
			return nil, r.fail(name, corrupt(err))
		}
		r.zf = rc
		r.data = &memberReader{r: rc, r0: r, name: name, compressed: int64(f.CompressedSize64), ratio: true}
	}
	return m, nil
}

// check runs the checks every member passes, whatever the format.
func (r *Reader) check(m *Member) error {
	r.n++
	if r.lim.Members > 0 && r.n > r.lim.Members {
		return fmt.Errorf("%w: more than %d", ErrTooMany, r.lim.Members)
	}
	if err := checkName(m.Name); err != nil {
		return err
	}
	k := nameKey(m.Name)
	if r.seen[k] {
		return ErrDuplicate
	}
	r.seen[k] = true
	if m.Type == Dir {
		r.data = nil
		return nil
	}
	return r.checkSize(m)
}

// checkSize refuses a member whose header already says it is too large.
func (r *Reader) checkSize(m *Member) error {
	if r.lim.MemberBytes > 0 && m.Size > r.lim.MemberBytes {
		return fmt.Errorf("%w: %d bytes declared, over the %d byte member limit", ErrTooLarge, m.Size, r.lim.MemberBytes)
	}
	return nil
}

// Read reads the current member's bytes; a directory has none.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.data == nil {
		return 0, io.EOF
	}
	return r.data.Read(p)
}

// Close releases the reader; it does not close the source.
func (r *Reader) Close() error {
	if r.zf != nil {
		r.zf.Close()
		r.zf = nil
	}
	if r.gz != nil {
		return r.gz.Close()
	}
	return nil
}

// fail makes err, about member, the archive's error for good.
func (r *Reader) fail(member string, err error) error {
	var ae *Error
	if errors.As(err, &ae) {
		r.err = err
	} else {
		r.err = &Error{Archive: r.name, Member: member, Err: err}
	}
	return r.err
}

// readErr fails the archive on a read error: a limit's error as it is, any
// other as corruption. where says how the member relates ("after member").
func (r *Reader) readErr(member, where string, err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrRatio) || errors.Is(err, ErrCorrupt) {
		return r.fail(member, err)
	}
	if where != "" && member != "" {
		return r.fail("", fmt.Errorf("%s %s: %w", where, member, corrupt(err)))
	}
	return r.fail(member, corrupt(err))
}

func corrupt(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// memberReader counts one member's bytes against the limits as they are
// read.
type memberReader struct {
	r          io.Reader
	r0         *Reader
	name       string
	n          int64
	compressed int64 // zip: the member's compressed size
	ratio      bool  // check n against compressed
}

func (m *memberReader) Read(p []byte) (int, error) {
	k, err := m.r.Read(p)
	m.n += int64(k)
	lim := m.r0.lim
	switch {
	case lim.MemberBytes > 0 && m.n > lim.MemberBytes:
		return k, m.r0.fail(m.name, fmt.Errorf("%w: over the %d byte member limit", ErrTooLarge, lim.MemberBytes))
	case m.r0.budget.spend(int64(k)) != nil:
		return k, m.r0.fail(m.name, fmt.Errorf("%w: over the %d byte limit for all members", ErrTooLarge, lim.TotalBytes))
	case m.ratio && overRatio(m.n, m.compressed, lim):
		return k, m.r0.fail(m.name, fmt.Errorf("%w: %d bytes from %d compressed, over %g:1", ErrRatio, m.n, m.compressed, lim.Ratio))
	}
	if err != nil && err != io.EOF {
		return k, m.r0.readErr(m.name, "", err)
	}
	return k, err
}

func overRatio(out, in int64, lim Limits) bool {
	return lim.Ratio > 0 && out > lim.RatioFloor && float64(out) > lim.Ratio*float64(max(in, 1))
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// ratioReader fails a decompressed stream that outgrows the compressed
// bytes read for it (in) past the ratio limit.
type ratioReader struct {
	r   io.Reader
	in  *counter
	n   int64
	lim Limits
}

func (c *ratioReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	if overRatio(c.n, c.in.n, c.lim) {
		return k, fmt.Errorf("%w: %d bytes from %d compressed, over %g:1", ErrRatio, c.n, c.in.n, c.lim.Ratio)
	}
	return k, err
}
