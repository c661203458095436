package desens

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/trajectory"
	"github.com/desens/desens/internal/archive"
)

// Archives (tar, tar.gz or .tgz, zip) are desensitized member by member
// and packed again in the same format, with the same member names, order,
// modes and times: images and videos as media (a video member becomes
// H.264 MP4, renamed .mp4, as any video output is), position logs by
// Options.Trajectory, archives inside archives the same way up to
// ArchiveOptions.MaxNesting, and every other member by ArchiveOptions.Other.
// Each media member goes through a private temporary file (os.TempDir,
// that is $TMPDIR), removed as soon as it is packed (archiveTemp).
//
// Any member that fails fails the whole archive, and no output is
// written: an archive never goes out with a member that was not
// desensitized. The error and ArchiveReport.FailedMember say which
// member, as ARCHIVE!/MEMBER (ARCHIVE!/INNER!/MEMBER inside a nested one).

// KindArchive is the kind of an archive in reports.
const KindArchive Kind = "archive"

// ErrUnsafeArchive means an archive was refused for what it holds or how:
// a member whose name leads outside the folder it would be unpacked into
// (zip slip), a link, a device, two members of one name, a name neither
// UTF-8 nor GBK, an encrypted member, archives nested too deep, or more
// bytes or members than ArchiveOptions allow (a zip bomb).
var ErrUnsafeArchive = errors.New("unsafe archive")

// ArchiveOther is what happens to archive members that are neither media,
// position logs nor archives.
type ArchiveOther string

const (
	// ArchiveDrop leaves them out of the output and lists them in the
	// report: desens cannot tell what they hold, and never copies what it
	// cannot desensitize, as a directory run skips such files.
	ArchiveDrop ArchiveOther = "drop"
	// ArchiveCopy copies them unchanged: for archives whose other members
	// are known to hold nothing sensitive (logs of the logger itself).
	ArchiveCopy ArchiveOther = "copy"
	// ArchiveFail fails the archive.
	ArchiveFail ArchiveOther = "fail"
)

// ParseArchiveOther reads "copy", "drop" or "fail".
func ParseArchiveOther(s string) (ArchiveOther, error) {
	switch o := ArchiveOther(strings.ToLower(strings.TrimSpace(s))); o {
	case ArchiveDrop, ArchiveCopy, ArchiveFail:
		return o, nil
	}
	return "", optionErr("archive other %q: want copy, drop or fail", s)
}

// ArchiveOptions say what happens inside archives, and bound what an
// archive may expand to. Zero values keep the defaults.
type ArchiveOptions struct {
	// Other is what happens to members desens does not read: ArchiveDrop
	// (the default), ArchiveCopy or ArchiveFail.
	Other ArchiveOther
	// MaxNesting is how many archives deep a member may lie inside the
	// one given: 1 lets an archive hold archives that hold none; 0 means
	// 2. Deeper archives fail the outermost.
	MaxNesting int
	// MaxMemberBytes bounds what one member may expand to; 0 means 16 GiB.
	MaxMemberBytes int64
	// MaxTotalBytes bounds what an archive's members, nested archives'
	// members included, may expand to together; 0 means 64 GiB.
	MaxTotalBytes int64
	// MaxRatio bounds how many bytes a zip member, or a tar.gz as a whole,
	// may expand to per compressed byte once past 1 MiB; 0 means 200.
	MaxRatio float64
	// MaxMembers bounds how many members one archive holds; 0 means
	// 100,000.
	MaxMembers int
}

func (a ArchiveOptions) withDefaults() (ArchiveOptions, error) {
	if a.Other == "" {
		a.Other = ArchiveDrop
	}
	if _, err := ParseArchiveOther(string(a.Other)); err != nil {
		return a, err
	}
	for _, l := range []struct {
		name string
		v    float64
	}{{"max nesting", float64(a.MaxNesting)}, {"max member bytes", float64(a.MaxMemberBytes)},
		{"max total bytes", float64(a.MaxTotalBytes)}, {"max ratio", a.MaxRatio}, {"max members", float64(a.MaxMembers)}} {
		if l.v < 0 {
			return a, optionErr("archive %s %v: want 0 (the default) or more", l.name, l.v)
		}
	}
	def := archive.DefaultLimits()
	a.MaxNesting = cmpOr(a.MaxNesting, 2)
	a.MaxMemberBytes = cmpOr(a.MaxMemberBytes, def.MemberBytes)
	a.MaxTotalBytes = cmpOr(a.MaxTotalBytes, def.TotalBytes)
	a.MaxRatio = cmpOr(a.MaxRatio, def.Ratio)
	a.MaxMembers = cmpOr(a.MaxMembers, def.Members)
	return a, nil
}

func cmpOr[T int | int64 | float64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func (a ArchiveOptions) limits() archive.Limits {
	return archive.Limits{MemberBytes: a.MaxMemberBytes, TotalBytes: a.MaxTotalBytes, Ratio: a.MaxRatio,
		RatioFloor: archive.DefaultLimits().RatioFloor, Members: a.MaxMembers}
}

// ArchiveReport says what happened to each member of an archive.
type ArchiveReport struct {
	Format string `json:"format"`
	Other  string `json:"other_policy"`
	// Members lists the members in order, those of nested archives as
	// INNER!/MEMBER after the nested archive itself. Directories are not
	// listed. When the archive failed, the list stops at the member that
	// failed it.
	Members []ArchiveMember `json:"members"`
	// FailedMember names the member that failed the archive, if one did.
	FailedMember string `json:"failed_member,omitempty"`
}

// ArchiveMember is one member's outcome.
type ArchiveMember struct {
	Name string `json:"name"`
	// Output is the member's name in the output when it differs (videos
	// become .mp4).
	Output string `json:"output,omitempty"`
	Kind   string `json:"kind"` // image, video, trajectory, archive or other
	// Action is desensitized, copied, dropped, or failed.
	Action       string               `json:"action"`
	Reason       string               `json:"reason,omitempty"`
	Frames       int                  `json:"frames,omitempty"`
	MaskedFrames []int                `json:"masked_frames,omitempty"`
	Detections   map[detect.Class]int `json:"detections,omitempty"`
	Redacted     int                  `json:"regions_redacted,omitempty"`
	BytesIn      int64                `json:"bytes_in"`
	BytesOut     int64                `json:"bytes_out,omitempty"`
	Trajectory   *TrajectoryReport    `json:"trajectory,omitempty"`
}

// Member kinds and actions in an ArchiveMember.
const (
	kindOther     = "other"
	actDone       = "desensitized"
	actCopied     = "copied"
	actDropped    = "dropped"
	actFailed     = "failed"
	memberSep     = "!/" // between an archive's name and its member's
	reasonOther   = "not an image, video, trajectory or archive desens reads, or hidden (--archive-other drop)"
	reasonDropped = "trajectory dropped by the trajectory policy"
)

// processArchive desensitizes the archive in into dst through sink.
func (d *Desensitizer) processArchive(ctx context.Context, in input, dst string, sink outSink) FileReport {
	name := in.String()
	format, _ := archive.FormatOf(name)
	outName := dst
	if n, ok := sink.(namer); ok {
		outName = n.url(dst)
	}
	rep := newFileReport(name, outName, string(KindArchive))
	ar := &ArchiveReport{Format: string(format), Other: string(d.opts.Archive.Other)}
	rep.Archive = ar
	err := func() error {
		info, err := in.stat(ctx)
		if err != nil {
			return fileErr(name, "source", err)
		}
		rep.BytesIn = info.size
		if info.size == 0 { // a tar reader takes it for an archive of nothing
			return fileErr(name, "source", fmt.Errorf("%w: empty file", ErrCorruptMedia))
		}
		tmp, release, err := archiveTemp(leftoversOf(ctx))
		if err != nil {
			return fileErr(name, "source", err)
		}
		defer release()
		src, size, closeSrc, err := openArchive(ctx, in, format, tmp)
		if err != nil {
			return fileErr(name, "source", err)
		}
		defer closeSrc()
		oi := d.outputInfo(KindArchive, dst, info)
		oi.ContentType = format.ContentType()
		out, err := sink.Create(ctx, dst, oi)
		if err != nil {
			return fileErr(name, "sink", err)
		}
		p := &packer{d: d, tmp: tmp, budget: archive.NewBudget(d.opts.Archive.MaxTotalBytes), rep: &rep}
		w := archive.NewWriter(out, format)
		err = p.repack(ctx, name, "", format, src, size, w, 0)
		if err == nil {
			if err = w.Close(); err != nil {
				err = fileErr(name, "sink", err)
			}
		}
		if err != nil {
			out.Abort()
			return err
		}
		rep.BytesOut = outputSize(out)
		if err := out.Commit(); err != nil {
			return fileErr(name, "sink", err)
		}
		rep.outETag = outputETag(out)
		return nil
	}()
	rep.finish(err)
	return rep
}

// openArchive opens an archive for reading: a tar as a stream, a zip
// (read from its end, and at random) as a local file, which a bucket
// object is first downloaded to, in dir.
func openArchive(ctx context.Context, in input, f archive.Format, dir string) (io.Reader, int64, func(), error) {
	switch v := in.(type) {
	case namedInput:
		return openArchive(ctx, v.input, f, dir)
	case localInput:
		fh, err := os.Open(string(v))
		if err != nil {
			return nil, 0, nil, err
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, 0, nil, err
		}
		return fh, st.Size(), func() { fh.Close() }, nil
	case *objectInput:
		r, err := v.open(ctx)
		if err != nil {
			return nil, 0, nil, err
		}
		if f != archive.Zip {
			return r, r.Size(), func() { r.Close() }, nil
		}
		// A storage.Reader reads at random too, but with one request per
		// read: zip's many small reads go faster from a local copy.
		defer r.Close()
		fh, err := os.CreateTemp(dir, "src-*.zip")
		if err != nil {
			return nil, 0, nil, err
		}
		n, err := io.Copy(fh, r)
		if err != nil {
			fh.Close()
			return nil, 0, nil, err
		}
		return fh, n, func() { fh.Close() }, nil
	}
	return nil, 0, nil, fmt.Errorf("%s: archives are read from files and bucket objects", in)
}

// An archive's temporary directory is archiveTmpPrefix and a random part,
// in os.TempDir; archiveLock, inside it, is locked while the archive is
// worked on.
const (
	archiveTmpPrefix = "desens-archive-"
	archiveLock      = ".lock"
	// archiveTmpAge is how old a temporary directory must be before
	// another run removes it: older than the instant between its making
	// and its lock.
	archiveTmpAge = time.Minute
)

// archiveTemp makes an archive's private temporary directory and locks
// it; release removes it. It first removes the directories that runs
// killed outright (SIGKILL, a crash) left behind: those whose lock nobody
// holds, as cleanTemps does for outputs. Removals and failures to remove
// are noted in left.
func archiveTemp(left *leftovers) (dir string, release func(), err error) {
	cleanArchiveTemps(left)
	dir, err = os.MkdirTemp("", archiveTmpPrefix)
	if err != nil {
		return "", nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, archiveLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	_ = lock(f) // without locks on this file system, no cleaner can lock it either
	return dir, func() {
		if err := os.RemoveAll(dir); err != nil {
			left.kept("could not remove temporary directory %s: %v", dir, err)
		}
		f.Close()
	}, nil
}

func cleanArchiveTemps(left *leftovers) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), archiveTmpPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		st, err := os.Lstat(dir)
		if err != nil || !st.IsDir() || time.Since(st.ModTime()) < archiveTmpAge {
			continue
		}
		f, err := os.Open(filepath.Join(dir, archiveLock))
		if err != nil {
			continue // not one of ours, or removed meanwhile
		}
		if lock(f) == nil {
			if err := os.RemoveAll(dir); err != nil {
				left.kept("could not remove temporary directory %s left by an earlier run: %v", dir, err)
			} else {
				left.removed("removed temporary directory %s (last written %s) left by an earlier run",
					dir, st.ModTime().UTC().Format(time.RFC3339))
			}
		}
		f.Close()
	}
}

// packer repacks one top-level archive and the archives nested in it.
type packer struct {
	d      *Desensitizer
	tmp    string          // private temporary directory
	budget *archive.Budget // shared by the nested archives
	rep    *FileReport     // the top-level archive's
	n      int             // temporary files made, for unique names
}

// repack reads the archive called name (prefix: its path inside the
// top-level archive, "" for that one, else ending in memberSep) from src
// and writes each member, desensitized, to w. depth counts the archives
// it lies inside.
func (p *packer) repack(ctx context.Context, name, prefix string, f archive.Format, src io.Reader, size int64, w *archive.Writer, depth int) error {
	r, err := archive.NewReader(name, f, src, size, p.d.opts.Archive.limits(), p.budget)
	if err != nil {
		return p.archiveErr(prefix, err)
	}
	defer r.Close()
	outNames := map[string]string{} // output name key -> the member it came from
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.archiveErr(prefix, err)
		}
		if m.Type == archive.Dir {
			if err := w.Add(m, m.Name, nil, 0); err != nil {
				return fileErr(name+memberSep+m.Name, "sink", err)
			}
			continue
		}
		mr, data, err := p.member(ctx, r, m, name, prefix, depth)
		if err != nil {
			mr.Action = actFailed
			if mr.Reason == "" {
				mr.Reason = err.Error()
			}
			p.rep.Archive.Members = append(p.rep.Archive.Members, mr)
			if p.rep.Archive.FailedMember == "" { // a nested archive's names its own member
				p.rep.Archive.FailedMember = prefix + m.Name
			}
			return err
		}
		p.rep.Archive.Members = append(p.rep.Archive.Members, mr)
		if mr.Action == actDropped {
			continue
		}
		outName := m.Name
		if mr.Output != "" {
			outName = mr.Output
		}
		k := path.Clean(strings.ReplaceAll(outName, `\`, "/"))
		if first, ok := outNames[k]; ok {
			p.rep.Archive.FailedMember = prefix + m.Name
			return &FileError{Path: name + memberSep + m.Name, Stage: "archive",
				Err: fmt.Errorf("%w: %w: output %s would also be that of member %s", ErrUnsafeArchive, archive.ErrDuplicate, outName, first)}
		}
		outNames[k] = m.Name
		err = p.add(w, m, outName, r, data, mr)
		if data != "" {
			os.RemoveAll(filepath.Dir(data)) // the member's own temporary directory
		}
		var ae *archive.Error
		if errors.As(err, &ae) { // a copied member's bytes, read as they are added
			return p.archiveErr(prefix, err)
		}
		if err != nil {
			return fileErr(name+memberSep+m.Name, "sink", err)
		}
	}
}

// add writes a member to w: the file data when set, else the member's own
// bytes from r (copied unchanged).
func (p *packer) add(w *archive.Writer, m *archive.Member, outName string, r io.Reader, data string, mr ArchiveMember) error {
	if data == "" {
		return w.Add(m, outName, r, m.Size)
	}
	f, err := os.Open(data)
	if err != nil {
		return err
	}
	defer f.Close()
	return w.Add(m, outName, f, mr.BytesOut)
}

// member desensitizes one member of the archive called name. It returns
// the member's report and, unless the member is copied or dropped, the
// local file that holds its output.
func (p *packer) member(ctx context.Context, r *archive.Reader, m *archive.Member, name, prefix string, depth int) (ArchiveMember, string, error) {
	mr := ArchiveMember{Name: prefix + m.Name, Kind: kindOther, BytesIn: m.Size}
	full := name + memberSep + m.Name // how errors and reports name it
	kind, kerr := KindOf(m.Name)
	switch {
	case hiddenMember(m.Name):
		return p.other(m, full, mr)
	case kerr == nil && kind == KindArchive:
		mr.Kind = string(KindArchive)
		if depth+1 > p.d.opts.Archive.MaxNesting {
			return mr, "", &FileError{Path: full, Stage: "archive",
				Err: fmt.Errorf("%w: archives nested more than %d deep", ErrUnsafeArchive, p.d.opts.Archive.MaxNesting)}
		}
		return p.nested(ctx, r, m, full, prefix+m.Name+memberSep, depth+1, mr)
	case kerr == nil || trajectory.IsCandidate(m.Name):
		return p.media(ctx, r, m, full, kind, mr)
	}
	return p.other(m, full, mr)
}

// hiddenMember reports whether a member is a hidden file, or one of the
// __MACOSX/ folder that macOS adds to the zips it makes: AppleDouble files
// named like the files they describe (__MACOSX/cam/._a.jpg for cam/a.jpg)
// that hold their extended attributes, not their media. They are members
// desens does not read, as a directory run leaves hidden files out.
func hiddenMember(name string) bool {
	n := strings.ReplaceAll(name, `\`, "/")
	return strings.HasPrefix(path.Base(n), ".") || n == "__MACOSX" || strings.HasPrefix(n, "__MACOSX/")
}

// other applies ArchiveOptions.Other to a member desens does not read.
func (p *packer) other(m *archive.Member, full string, mr ArchiveMember) (ArchiveMember, string, error) {
	switch p.d.opts.Archive.Other {
	case ArchiveCopy:
		mr.Action, mr.BytesOut = actCopied, m.Size
		return mr, "", nil
	case ArchiveFail:
		return mr, "", &FileError{Path: full, Stage: "archive",
			Err: fmt.Errorf("%w: not an image, video, trajectory or archive desens reads (--archive-other fail)", ErrUnsupported)}
	}
	mr.Action, mr.Reason = actDropped, reasonOther
	return mr, "", nil
}

// spool copies the current member into a new temporary file named for it
// (the extension tells the decoders what it holds).
func (p *packer) spool(r io.Reader, m *archive.Member, full, base string) (string, error) {
	p.n++
	dir := filepath.Join(p.tmp, strconv.Itoa(p.n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, base)
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", p.archiveErr("", err)
	}
	return dst, nil
}

// media desensitizes an image, video or position log member through
// temporary files, as ProcessFile does a file. The output file it returns
// lies in the member's own temporary directory, which the caller removes;
// without one, the directory is removed here.
func (p *packer) media(ctx context.Context, r io.Reader, m *archive.Member, full string, kind Kind, mr ArchiveMember) (_ ArchiveMember, data string, _ error) {
	ext := strings.ToLower(path.Ext(m.Name))
	src, err := p.spool(r, m, full, "in"+ext)
	if err != nil {
		return mr, "", fileErr(full, "source", err)
	}
	defer func() {
		if data == "" {
			os.RemoveAll(filepath.Dir(src))
		}
	}()
	in := namedInput{localInput(src), full}
	sink := scratchSink{}
	var fr FileReport
	if kind == "" { // a position log, by its name
		mr.Kind = string(KindTrajectory)
		fr = p.d.processSidecar(ctx, in, filepath.Join(filepath.Dir(src), "out"+ext), sink)
		if errors.Is(fr.Err(), trajectory.ErrUnknownFormat) {
			// Not a position log after all (a .log, a CSV without lat/lon).
			mr.Kind = kindOther
			if p.d.opts.Archive.Other == ArchiveCopy {
				mr.Action, mr.BytesOut = actCopied, m.Size
				return mr, src, nil
			}
			mr, _, err = p.other(m, full, mr)
			return mr, "", err
		}
		mr.Trajectory = fr.Trajectory
		if fr.OK && fr.Trajectory.Dropped {
			mr.Action, mr.Reason = actDropped, reasonDropped
			return mr, "", nil
		}
	} else {
		mr.Kind = string(kind)
		outBase := "out" + ext
		if kind == KindVideo {
			outBase = "out.mp4"
			if o := outputName(m.Name, m.Name); o != m.Name {
				mr.Output = o
			}
		}
		fr = p.d.processTo(ctx, in, filepath.Join(filepath.Dir(src), outBase), sink)
	}
	os.Remove(src) // the output is made: the input's copy is done with
	mr.Frames, mr.MaskedFrames, mr.Redacted = fr.Frames, fr.MaskedFrames, fr.Redacted
	if len(fr.Detections) > 0 {
		mr.Detections = fr.Detections
	}
	if !fr.OK {
		mr.Reason = fr.Error
		return mr, "", fr.Err()
	}
	mr.Action, mr.BytesOut = actDone, fr.BytesOut
	p.rep.Frames += fr.Frames
	p.rep.Redacted += fr.Redacted
	for c, n := range fr.Detections {
		p.rep.Detections[c] += n
	}
	if fr.Output == "" {
		return mr, "", fmt.Errorf("%s: no output", full)
	}
	return mr, fr.Output, nil
}

// nested repacks an archive member into a temporary archive of its own
// format, which becomes the member's output.
func (p *packer) nested(ctx context.Context, r io.Reader, m *archive.Member, full, prefix string, depth int, mr ArchiveMember) (_ ArchiveMember, data string, _ error) {
	f, _ := archive.FormatOf(m.Name)
	src, err := p.spool(r, m, full, "in."+string(f))
	if err != nil {
		return mr, "", fileErr(full, "source", err)
	}
	defer func() {
		if data == "" {
			os.RemoveAll(filepath.Dir(src))
		}
	}()
	in, err := os.Open(src)
	if err != nil {
		return mr, "", fileErr(full, "source", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return mr, "", fileErr(full, "source", err)
	}
	dst := filepath.Join(filepath.Dir(src), "out."+string(f))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return mr, "", fileErr(full, "sink", err)
	}
	defer out.Close()
	w := archive.NewWriter(out, f)
	if err := p.repack(ctx, full, prefix, f, in, st.Size(), w, depth); err != nil {
		return mr, "", err
	}
	if err := w.Close(); err != nil {
		return mr, "", fileErr(full, "sink", err)
	}
	if err := out.Close(); err != nil {
		return mr, "", fileErr(full, "sink", err)
	}
	ost, err := os.Stat(dst)
	if err != nil {
		return mr, "", fileErr(full, "sink", err)
	}
	mr.Action, mr.BytesOut = actDone, ost.Size()
	return mr, dst, nil
}

// archiveErr turns an error of the archive reader into a FileError that
// names the member as ARCHIVE!/MEMBER, filed under ErrUnsafeArchive or
// ErrCorruptMedia.
func (p *packer) archiveErr(prefix string, err error) error {
	var ae *archive.Error
	if !errors.As(err, &ae) {
		return err
	}
	where := ae.Archive
	if ae.Member != "" {
		where += memberSep + ae.Member
		if p.rep.Archive.FailedMember == "" {
			p.rep.Archive.FailedMember = prefix + ae.Member
		}
	}
	sentinel := ErrUnsafeArchive
	if errors.Is(ae.Err, archive.ErrCorrupt) {
		sentinel = ErrCorruptMedia
	}
	return &FileError{Path: where, Stage: "archive", Err: fmt.Errorf("%w: %w", sentinel, ae.Err)}
}

// scratchSink writes a member's output into the archive's private
// temporary directory, where nobody else looks: unlike fileSink, it needs
// no temporary name, lock or fsync, since the archive it goes into is the
// output that is made atomic.
type scratchSink struct{}

func (scratchSink) Create(_ context.Context, name string, _ outputMeta) (output, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	return &scratchOutput{f: f}, nil
}

// scratchOutput is one member's output file. An encoder that writes to
// Path writes to the same file.
type scratchOutput struct{ f *os.File }

func (o *scratchOutput) Path() string                { return o.f.Name() }
func (o *scratchOutput) Write(p []byte) (int, error) { return o.f.Write(p) }
func (o *scratchOutput) Commit() error               { return o.f.Close() }
func (o *scratchOutput) Abort()                      { o.f.Close(); os.Remove(o.f.Name()) }
