package desens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// outSink receives finished outputs. An output becomes visible only when
// committed; an aborted one leaves nothing behind, or, when something
// cannot be removed (a multipart upload whose abort fails), the file's
// report says so. Create first removes what earlier runs of the same
// output left behind. Both are noted through ctx's leftovers.
type outSink interface {
	// Create starts the output called name (a path, or a key in a bucket).
	Create(ctx context.Context, name string, info outputMeta) (output, error)
}

// outputMeta describes an output for sinks that store it with the bytes
// (object metadata).
type outputMeta struct {
	ContentType string
	// Metadata says where the output came from (MetaSource and friends).
	Metadata map[string]string
}

// Metadata keys stored with outputs in buckets, so anyone holding an
// output can find the exact source version it was made from.
const (
	MetaSource     = "desens-source"      // the source URL
	MetaSourceETag = "desens-source-etag" // the source's ETag, when it has one
	MetaVersion    = "desens-version"     // the desens release that made it
)

// output is one output being written, as a stream (Write). Outputs that
// are local files also implement localOutput; encoders that need to seek
// (faststart MP4) write to the file instead of streaming.
type output interface {
	io.Writer
	Commit() error
	Abort()
}

// localOutput is an output backed by a local file that nobody else reads
// until Commit. An encoder either writes to Path or calls Write, not both.
type localOutput interface {
	output
	Path() string
}

// fileSink writes outputs under a local path: each output is a temporary
// file in its final directory, renamed into place on Commit, so readers
// never see a partial file. Before creating one it removes the temporary
// files that earlier runs of the same output left behind (see cleanTemps).
type fileSink struct {
	Overwrite bool
	// temps, when set, lists each directory once for the whole run
	// rather than once per output.
	temps *tempIndex
	// noXattr marks outputs in companion files even where the file
	// system keeps extended attributes (see mark).
	noXattr bool
}

// Temporary files are named tmpPrefix, 12 random hex digits, '-', the
// output's name (shortened by tmpBase when need be) and tmpSuffix.
const (
	tmpPrefix = ".desens-"
	tmpSuffix = ".tmp"
	tmpRand   = 12
	// nameMax is the longest file name most file systems take (NAME_MAX).
	nameMax = 255
)

// tmpBase is the output name's part of its temporary file's name. A name
// too long to fit beside the prefix, the random part and the suffix within
// nameMax bytes keeps its beginning, cut at a character boundary, and a
// hash of the whole name, so two long names that begin alike still differ.
func tmpBase(base string) string {
	room := nameMax - len(tmpPrefix) - tmpRand - 1 - len(tmpSuffix)
	if len(base) <= room {
		return base
	}
	sum := sha256.Sum256([]byte(base))
	tail := "~" + hex.EncodeToString(sum[:8])
	cut := room - len(tail)
	for cut > 0 && !utf8.RuneStart(base[cut]) {
		cut--
	}
	return base[:cut] + tail
}

// isTempOf reports whether name is a temporary file of the output whose
// name's part is tb (tmpBase).
func isTempOf(name, tb string) bool {
	rest, ok := strings.CutPrefix(name, tmpPrefix)
	if !ok || len(rest) < tmpRand+1 {
		return false
	}
	if _, err := hex.DecodeString(rest[:tmpRand]); err != nil {
		return false
	}
	return rest[tmpRand:] == "-"+tb+tmpSuffix
}

// Create prepares a locked temporary file beside name. The info's
// metadata is kept as the output's mark (see mark): its content type has
// nowhere to go.
func (s fileSink) Create(ctx context.Context, name string, info outputMeta) (output, error) {
	if !s.Overwrite {
		if _, err := os.Stat(name); err == nil {
			return nil, fmt.Errorf("%w: %s (use --overwrite)", ErrExists, name)
		}
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	left := leftoversOf(ctx)
	tb := tmpBase(filepath.Base(name))
	s.cleanTemps(dir, tb, left)
	f, tmp, err := createTemp(dir, tb)
	if err != nil {
		return nil, err
	}
	return &fileOutput{tmp: tmp, final: name, f: f, left: left, md: info.Metadata, noXattr: s.noXattr}, nil
}

// createTemp creates and locks a new temporary file in dir. The lock,
// held until the file is renamed or removed, tells cleanTemps of other
// runs that it is in use. A cleaner may remove the file between its
// creation and the lock, so the lock is taken only on the file still at
// that name; else another name is tried.
func createTemp(dir, tb string) (*os.File, string, error) {
	for range 10 {
		var rnd [tmpRand / 2]byte
		_, _ = rand.Read(rnd[:])
		tmp := filepath.Join(dir, tmpPrefix+hex.EncodeToString(rnd[:])+"-"+tb+tmpSuffix)
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
		if err != nil {
			return nil, "", err
		}
		switch lerr := lock(f); {
		case errors.Is(lerr, syscall.EWOULDBLOCK):
			// A cleaner holds it, about to remove it.
		case lerr != nil:
			// No locks on this file system: cleaners there cannot lock
			// either, so they never remove a temporary file.
			return f, tmp, nil
		case stillAt(f, tmp):
			return f, tmp, nil
		}
		f.Close()
	}
	return nil, "", fmt.Errorf("%s: temporary files for %s keep being removed as they are made", dir, tb)
}

// lock takes an exclusive lock on f without waiting.
func lock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

// stillAt reports whether f is the file at path.
func stillAt(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}

// cleanTemps removes the temporary files of the output whose name's part
// is tb that earlier runs left in dir: a run killed before Commit or Abort
// (SIGKILL, a crash, a power cut) leaves its file behind. Only files it
// can lock are removed. Every run holds the lock on its temporary file
// until the file is renamed or removed, and the kernel drops it when the
// process dies, so a locked file belongs to a run still going and an
// unlocked one to a dead run. An FFmpeg that outlived its desens writes
// by path and holds no lock: removing the file it writes only leaves its
// bytes to an unnamed file that nobody will rename, and frees them when
// it exits. Every removal, and every failure to remove, is noted in left.
func (s fileSink) cleanTemps(dir, tb string, left *leftovers) {
	var names []string
	var err error
	if s.temps != nil {
		names, err = s.temps.names(dir)
	} else {
		names, err = listTemps(dir)
	}
	if err != nil {
		left.kept("could not look for temporary files of earlier runs in %s: %v", dir, err)
		return
	}
	for _, n := range names {
		if !isTempOf(n, tb) {
			continue
		}
		p := filepath.Join(dir, n)
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // renamed or removed by its run, or another cleaner
		}
		if err != nil {
			left.kept("could not remove temporary file %s left by an earlier run: %v", p, err)
			continue
		}
		// Locked: a live run's; no locks here: nobody can tell.
		if lock(f) == nil && stillAt(f, p) {
			st, _ := f.Stat()
			if err := os.Remove(p); err != nil {
				left.kept("could not remove temporary file %s left by an earlier run: %v", p, err)
			} else {
				left.removed("removed temporary file %s (%d bytes, last written %s) left by an earlier run",
					p, st.Size(), st.ModTime().UTC().Format(time.RFC3339))
			}
		}
		f.Close()
	}
}

// listTemps lists the names of the temporary files in dir.
func listTemps(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []string
	for {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if strings.HasPrefix(n, tmpPrefix) && strings.HasSuffix(n, tmpSuffix) {
				out = append(out, n)
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// tempIndex lists each directory's temporary files the first time a run
// writes into it. Those of earlier runs are all there by then; files that
// appear later belong to live runs, which cleanTemps leaves alone anyway.
type tempIndex struct {
	mu   sync.Mutex
	dirs map[string][]string
}

func (x *tempIndex) names(dir string) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if names, ok := x.dirs[dir]; ok {
		return names, nil
	}
	names, err := listTemps(dir)
	if err != nil {
		return nil, err
	}
	if x.dirs == nil {
		x.dirs = map[string][]string{}
	}
	x.dirs[dir] = names
	return names, nil
}

// fileOutput is one temporary file. f stays open, and locked, from Create
// to Commit or Abort; Write writes through it, and an encoder that writes
// to Path instead writes to the same file.
type fileOutput struct {
	tmp, final string
	f          *os.File
	left       *leftovers
	done       bool
	md         map[string]string // marked on the file at Commit
	noXattr    bool
}

func (o *fileOutput) Path() string { return o.tmp }

func (o *fileOutput) Write(p []byte) (int, error) {
	if o.done {
		return 0, errors.New("output already closed")
	}
	return o.f.Write(p)
}

// Commit syncs the file, then renames it into place, and only then closes
// it and so drops the lock.
func (o *fileOutput) Commit() error {
	if o.done {
		return errors.New("output already closed")
	}
	o.done = true
	mark(o.tmp, o.final, o.md, o.noXattr)
	// fsync before rename so a crash cannot leave a renamed but empty
	// file. It flushes the file, however it was written.
	if err := o.f.Sync(); err != nil {
		o.discard()
		return err
	}
	if err := os.Rename(o.tmp, o.final); err != nil {
		o.discard()
		return err
	}
	// The bytes are synced and in place: closing only drops the lock.
	_ = o.f.Close()
	return nil
}

func (o *fileOutput) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.discard()
}

// discard removes the temporary file, then closes it. A file that cannot
// be removed is noted: a later run of the output removes it.
func (o *fileOutput) discard() {
	if err := os.Remove(o.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		o.left.kept("could not remove temporary file %s: %v", o.tmp, err)
	}
	o.f.Close()
}
