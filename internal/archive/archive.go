package archive

import (
	"archive/tar"
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Format is an archive format.
type Format string

const (
	Tar   Format = "tar"
	TarGz Format = "tar.gz"
	Zip   Format = "zip"
)

// FormatOf says from a file name whether it is an archive, and of which
// format: .tar, .tar.gz or .tgz, .zip (in any case).
func FormatOf(name string) (Format, bool) {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".tar"):
		return Tar, true
	case strings.HasSuffix(n, ".tar.gz"), strings.HasSuffix(n, ".tgz"):
		return TarGz, true
	case strings.HasSuffix(n, ".zip"):
		return Zip, true
	}
	return "", false
}

// ContentType is the media type of the format.
func (f Format) ContentType() string {
	switch f {
	case TarGz:
		return "application/gzip"
	case Zip:
		return "application/zip"
	}
	return "application/x-tar"
}

var (
	// ErrCorrupt means the archive could not be read: truncated, damaged,
	// or not of the format its name says.
	ErrCorrupt = errors.New("corrupt archive")
	// ErrUnsafePath means a member's name leads outside the folder the
	// archive is unpacked into, or is empty.
	ErrUnsafePath = errors.New("unsafe member path")
	// ErrLink means a member is a symbolic or hard link.
	ErrLink = errors.New("link member")
	// ErrSpecial means a member is a device, a pipe or another file that
	// is not a regular file or a directory.
	ErrSpecial = errors.New("special file member")
	// ErrDuplicate means two members have the same name.
	ErrDuplicate = errors.New("duplicate member name")
	// ErrName means a zip member's name is neither UTF-8 nor GBK.
	ErrName = errors.New("member name neither UTF-8 nor GBK")
	// ErrEncrypted means a zip member is encrypted.
	ErrEncrypted = errors.New("encrypted member")
	// ErrTooLarge means a member, or the members together, expand past a
	// size limit.
	ErrTooLarge = errors.New("archive expands past its size limit")
	// ErrRatio means the bytes read out of compressed data outgrow the
	// bytes read in past the ratio limit: a zip bomb.
	ErrRatio = errors.New("compression ratio over its limit")
	// ErrTooMany means an archive has more members than the limit.
	ErrTooMany = errors.New("too many members")
)

// Error says which archive, and which member of it if any, an error is
// about.
type Error struct {
	Archive string
	Member  string // "" when the error is about the archive as a whole
	Err     error
}

func (e *Error) Error() string {
	if e.Member == "" {
		return fmt.Sprintf("archive %s: %v", e.Archive, e.Err)
	}
	return fmt.Sprintf("archive %s: member %s: %v", e.Archive, e.Member, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Limits bound what one archive, with the archives nested in it, may
// expand to.
type Limits struct {
	// MemberBytes is the most one member may expand to.
	MemberBytes int64
	// TotalBytes is the most all members may expand to together, the
	// members of nested archives and those archives themselves included.
	TotalBytes int64
	// Ratio is the most bytes a member (zip) or the archive (tar.gz) may
	// expand to per compressed byte, once past RatioFloor bytes.
	Ratio float64
	// RatioFloor is how many bytes a member or stream may expand to
	// before the ratio is checked: small, highly compressible files are
	// not bombs.
	RatioFloor int64
	// Members is the most members one archive may hold.
	Members int
}

// DefaultLimits fit a day's dashcam archives: a member of up to 16 GiB (a
// long recording), 64 GiB in all, 100,000 members, and 200 bytes out per
// byte in past 1 MiB (media hardly compresses; text logs compress about
// tenfold; deflate's worst case is about a thousandfold).
func DefaultLimits() Limits {
	return Limits{MemberBytes: 16 << 30, TotalBytes: 64 << 30, Ratio: 200, RatioFloor: 1 << 20, Members: 100_000}
}

// Budget is what is left of Limits.TotalBytes to a tree of nested
// archives: readers of nested archives share their outer reader's. It is
// safe for concurrent use.
type Budget struct {
	mu   sync.Mutex
	left int64
}

// NewBudget starts a budget of total bytes.
func NewBudget(total int64) *Budget { return &Budget{left: total} }

// spend takes n bytes off the budget, failing once it is overdrawn.
func (b *Budget) spend(n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left -= n
	if b.left < 0 {
		return ErrTooLarge
	}
	return nil
}

// Type is what a member is.
type Type int

const (
	File Type = iota
	Dir
)

// Member is one member of an archive.
type Member struct {
	// Name is the member's name as stored, slash-separated; for a zip
	// member decoded from GBK, the name in UTF-8.
	Name string
	Type Type
	Mode fs.FileMode
	// ModTime is the member's modification time (to the second, or two,
	// in a zip without extended timestamps).
	ModTime time.Time
	// Size is the size the header declares; the bytes read are counted
	// against the limits whatever it says.
	Size int64
	// Decoded says Name was decoded from GBK.
	Decoded bool

	tarHdr *tar.Header
	zipHdr *zip.FileHeader
}

// checkName refuses names that would lead outside the folder an archive
// is unpacked into, on Unix or on Windows.
func checkName(name string) error {
	n := strings.ReplaceAll(name, `\`, "/")
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrUnsafePath)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: NUL in name", ErrUnsafePath)
	case strings.HasPrefix(n, "/"):
		return fmt.Errorf("%w: absolute path", ErrUnsafePath)
	case len(n) >= 2 && n[1] == ':' && ('a' <= n[0]|0x20 && n[0]|0x20 <= 'z'):
		return fmt.Errorf("%w: Windows drive path", ErrUnsafePath)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return fmt.Errorf("%w: '..' in path", ErrUnsafePath)
		}
	}
	return nil
}

// nameKey is the name two members must not share: separators, "." steps
// and a directory's trailing '/' do not tell names apart when unpacked.
func nameKey(name string) string {
	return path.Clean(strings.ReplaceAll(name, `\`, "/"))
}

// zipName returns a zip member's name as UTF-8: as stored when it is
// valid UTF-8; else the Info-ZIP Unicode Path extra field's name, when it
// is there and still describes the stored name; else decoded from GBK,
// unless the UTF-8 flag says it is UTF-8.
func zipName(fh *zip.FileHeader) (name string, decoded bool, err error) {
	switch valid := utf8.ValidString(fh.Name); {
	case valid:
		return fh.Name, false, nil
	case fh.Flags&0x800 != 0: // flagged UTF-8, and not
		return "", false, ErrName
	}
	if u, ok := unicodePath(fh); ok {
		return u, true, nil
	}
	s, err := simplifiedchinese.GBK.NewDecoder().String(fh.Name)
	if err != nil || !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "", false, ErrName
	}
	return s, true, nil
}

// unicodePath reads the Info-ZIP Unicode Path extra field (0x7075) that
// Info-ZIP and 7-Zip add beside a name in a legacy encoding: version 1,
// the CRC-32 of the stored name, then the name in UTF-8. A CRC that does
// not match means a tool renamed the member without updating the field,
// which is then ignored.
func unicodePath(fh *zip.FileHeader) (string, bool) {
	for b := fh.Extra; len(b) >= 4; {
		tag, size := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if len(b) < 4+size {
			return "", false
		}
		f := b[4 : 4+size]
		b = b[4+size:]
		if tag != 0x7075 || len(f) < 5 || f[0] != 1 {
			continue
		}
		name := string(f[5:])
		if crc32.ChecksumIEEE([]byte(fh.Name)) != binary.LittleEndian.Uint32(f[1:]) || !utf8.ValidString(name) || name == "" {
			return "", false
		}
		return name, true
	}
	return "", false
}
