package desens

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/desens/desens/desens/storage"
)

// Run desensitizes in into out. Each is a local path or, with
// Options.Storage set, a URL: s3://bucket/key, cos://bucket-appid/key or
// file:///path; local and bucket sides mix freely.
//
// A file or object goes to the file or object out, or into it when out is
// a directory or ends in '/'. A directory, or a key prefix (a URL ending in
// '/'), goes to a directory or prefix, each file to the same relative name.
//
// Every file's outcome is in the report, and onFile (if set) hears of each
// as it finishes, one call at a time: those done, failed or never started,
// and those skipped as already done (FileReport.Skip), but not those left
// out for what they are. Files are listed as they are processed, page by
// page, and Options.Batch selects and tries them; without
// Options.Overwrite, an output already made from the same version of its
// source is skipped (resume.go). The error is non-nil only when the run could not start
// (a missing input, a missing bucket, wrong credentials) or was cancelled;
// failed files are reported, not returned. Sources are never modified:
// an output that is the input, or lies inside the input directory or
// prefix, by any name (a symbolic link, a relative path, a file:// URL, a
// hard link), is refused with ErrSourceOverwrite. Symbolic links in a
// local tree are followed to regular files; links to directories are
// skipped (see listMedia).
func (d *Desensitizer) Run(ctx context.Context, in, out string, onFile func(FileReport)) (*Report, error) {
	rep := d.newReport()
	defer func() { rep.Finished = time.Now().UTC() }()
	// The errors that stop a run may repeat names as they came (an os
	// error does), so they are escaped to stay one line of text.
	src, err := d.openPlace(ctx, in)
	if err != nil {
		return rep, printableErr(err)
	}
	defer src.close()
	dst, err := d.openPlace(ctx, out)
	if err != nil {
		return rep, printableErr(err)
	}
	defer dst.close()
	jobs, err := d.plan(ctx, src, dst)
	if err != nil {
		return rep, printableErr(err)
	}
	del, err := d.startDelivery(ctx, src, dst) // deliver.go
	if err != nil {
		return rep, printableErr(err)
	}
	collect := func(fr FileReport) {
		rep.add(fr, d.opts.Batch.FailuresOnly)
		del.add(fr)
		if onFile != nil && (fr.skip == "" || fr.done != nil) {
			onFile(fr)
		}
	}
	err = runJobs(ctx, d.opts.Workers, jobs, d.doJob, collect)
	rep.sortFiles()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		del.discard()
		return rep, printableErr(err)
	}
	rep.Finished = time.Now().UTC()
	return rep, del.finish(ctx, rep)
}

// runJobs hands the jobs to workers goroutines as the listing yields them,
// and gives each outcome to collect, one call at a time. The listing runs
// no further ahead than the workers take, so memory does not grow with the
// number of files. A cancelled ctx leaves the jobs not yet started
// reported as canceled; a listing that fails stops the run with its error.
func runJobs(ctx context.Context, workers int, jobs iter.Seq2[job, error], do func(context.Context, job) FileReport, collect func(FileReport)) error {
	ch := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	report := func(fr FileReport) {
		mu.Lock()
		defer mu.Unlock()
		collect(fr)
	}
	for range workers {
		wg.Go(func() {
			for j := range ch {
				report(do(ctx, j))
			}
		})
	}
	var lerr error
	for j, err := range jobs {
		if err != nil {
			if ctx.Err() == nil {
				lerr = err
			}
			break
		}
		select {
		case ch <- j:
		case <-ctx.Done():
			report(canceledJob(ctx, j))
		}
	}
	close(ch)
	wg.Wait()
	return lerr
}

func canceledJob(ctx context.Context, j job) FileReport {
	fr := newFileReport(j.in.String(), "", "")
	fr.cancel(ctx.Err()) // not started: neither done nor failed
	return fr
}

// doJob does one job: a file left out or refused is reported as such, an
// output already made from this version of its source is skipped (unless
// overwriting), and the rest is desensitized, retried on transient storage
// errors (tryFile).
func (d *Desensitizer) doJob(ctx context.Context, j job) FileReport {
	var fr FileReport
	switch {
	case j.skip != "": // neither read nor written, whatever else holds
		fr = newFileReport(j.in.String(), "", "")
		fr.skip = j.skip
		return fr
	case ctx.Err() != nil:
		return canceledJob(ctx, j)
	case j.err != nil:
		fr = newFileReport(j.in.String(), "", "")
		fr.finish(fileErr(j.in.String(), "sink", j.err))
		return fr
	}
	if !d.opts.Overwrite {
		switch state, out, size, etag := checkOutput(ctx, j); state { // resume.go
		case outputDone:
			if n, ok := unguarded(j.sink).(namer); ok {
				out = n.url(out)
			}
			fr = newFileReport(j.in.String(), out, "")
			fr.skip = "already done: " + out + " was made from this version of the source"
			fr.done = &doneOutput{Name: outputName(j.in.String(), j.rel), Size: size, ETag: etag}
			return fr
		case outputStale:
			j.sink = replacing(j.sink)
		}
	}
	fr = d.tryFile(ctx, func(ctx context.Context) FileReport { return d.processJob(ctx, j) }) // sidecar.go
	if fr.OK && fr.Output != "" && j.rel != "" {
		fr.done = &doneOutput{Name: outputName(j.in.String(), j.rel), Size: fr.BytesOut, ETag: fr.outETag}
	}
	return fr
}

// place is one side of a run: a local path, or a key or key prefix in a
// bucket.
type place struct {
	raw    string
	path   string           // a local path, when bucket is nil
	loc    storage.Location // where in the bucket
	bucket storage.Bucket
}

// openPlace parses raw. Plain paths stay as given, so reports name files
// the way the caller did.
func (d *Desensitizer) openPlace(ctx context.Context, raw string) (*place, error) {
	loc, err := storage.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	if loc.Scheme == "file" {
		p := raw
		if strings.HasPrefix(strings.ToLower(raw), "file:") {
			p = "/" + loc.Key
		}
		return &place{raw: raw, path: p}, nil
	}
	if d.opts.Storage == nil {
		return nil, fmt.Errorf("%s: bucket URLs need storage configured (Options.Storage)", raw)
	}
	b, err := d.opts.Storage.OpenLocation(ctx, loc)
	if err != nil {
		return nil, err
	}
	return &place{raw: raw, loc: loc, bucket: b}, nil
}

func (p *place) close() {
	if p.bucket != nil {
		p.bucket.Close()
	}
}

func (p *place) isPrefix() bool { return p.loc.Key == "" || strings.HasSuffix(p.loc.Key, "/") }

// prefix is the bucket place as a key prefix: "" or ending in '/'.
func (p *place) prefix() string {
	if p.isPrefix() {
		return p.loc.Key
	}
	return p.loc.Key + "/"
}

func (p *place) object(key string) storage.Location {
	return storage.Location{Scheme: p.loc.Scheme, Bucket: p.loc.Bucket, Key: key}
}

// sameBucket reports whether two bucket places are one bucket.
func sameBucket(a, b *place) bool {
	return a.bucket != nil && b.bucket != nil && a.loc.Scheme == b.loc.Scheme && a.loc.Bucket == b.loc.Bucket
}

func (p *place) sink(overwrite bool) outSink {
	if p.bucket == nil {
		return fileSink{Overwrite: overwrite, temps: &tempIndex{}}
	}
	return bucketSink{b: p.bucket, loc: p.loc, overwrite: overwrite}
}

// check makes a missing bucket or wrong credentials stop the run before
// any work, rather than fail every file. It needs permission to list the
// bucket.
func (p *place) check(ctx context.Context) error {
	if p.bucket == nil {
		return nil
	}
	for _, err := range p.bucket.List(ctx, p.loc.Key, &storage.ListOptions{PageSize: 1}) {
		return err
	}
	return nil
}

// job is one file to do: in into dst through sink, unless err refused it.
type job struct {
	in   input
	dst  string
	sink outSink
	err  error
	tree bool   // one of a directory's or prefix's files
	rel  string // its name in the tree, '/'-separated; "" for a single input
	skip string // why the file is left out, unread (sidecar.go)
}

// plan checks what can be checked before any work and returns the jobs,
// which a tree yields as its listing goes, those that Options.Batch's
// filter and shard leave out unlisted.
func (d *Desensitizer) plan(ctx context.Context, src, dst *place) (iter.Seq2[job, error], error) {
	var one input // a single file or object, else a tree
	var files iter.Seq2[listed, error]
	byTime := d.opts.Batch.Filter.byTime()
	switch {
	case src.bucket == nil:
		st, err := os.Stat(src.path)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if st.IsDir() {
			if files, err = listMedia(src.path, byTime); err != nil {
				return nil, err
			}
		} else {
			one = localInput(src.path)
		}
	case src.isPrefix():
		// The listing runs as the work goes; one key first makes a
		// missing bucket or wrong credentials stop the run here.
		if err := src.check(ctx); err != nil {
			return nil, err
		}
		files = listObjects(ctx, src)
	default:
		o := newObjectInput(src.bucket, src.loc)
		if _, err := o.stat(ctx); err != nil {
			return nil, prefixHint(ctx, src, err)
		}
		one = o
	}
	if err := dst.check(ctx); err != nil {
		return nil, err
	}
	sink := dst.sink(d.opts.Overwrite)
	if bs, ok := sink.(bucketSink); ok {
		bs.slots = d.limits.uploads
		sink = bs
	}
	if o, ok := one.(*objectInput); ok {
		o.slots = d.limits.downloads
	}

	// Local outputs of local inputs are compared by where their names
	// lead (paths.go), and checked again as each is created (guardSink).
	local := src.bucket == nil && dst.bucket == nil
	if one != nil {
		j := job{in: one, dst: dst.fileTarget(src.base()), sink: sink}
		if err := src.refuseSame(dst, j.dst); err != nil {
			return nil, err
		}
		if local {
			j.sink = guardSink{outSink: sink, in: src.path}
		}
		return func(yield func(job, error) bool) { yield(j, nil) }, nil
	}

	var inTree *dirResolver
	if local {
		// Outputs go to filepath.Join(dst.path, rel), so under the clean
		// path.
		inside, err := insideLocal(filepath.Clean(dst.path), src.path)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", PrintableName(dst.raw), err)
		}
		if inside {
			return nil, sourceHoldsOutput(dst.raw, src.raw)
		}
		if inTree, err = newDirResolver(src.path); err != nil {
			return nil, fmt.Errorf("input %s: %w", PrintableName(src.raw), err)
		}
	}
	if sameBucket(src, dst) && strings.HasPrefix(dst.prefix(), src.prefix()) {
		return nil, sourceHoldsOutput(dst.raw, src.raw)
	}
	batch := d.opts.Batch
	return func(yield func(job, error) bool) {
		for f, err := range files {
			if err != nil {
				yield(job{}, err)
				return
			}
			rel := f.rel
			slash := filepath.ToSlash(rel)
			if !batch.Shard.takes(slash) || !batch.Filter.keeps(slash, f.mod) {
				continue
			}
			j := job{sink: sink, tree: true, rel: slash, skip: f.skip}
			if j.skip == "" {
				j.skip = skipReason(rel)
			}
			if src.bucket == nil {
				j.in = localInput(filepath.Join(src.path, rel))
			} else {
				o := newObjectInput(src.bucket, src.object(src.prefix()+rel))
				o.slots = d.limits.downloads
				j.in = o
			}
			if dst.bucket == nil {
				j.dst = filepath.Join(dst.path, filepath.FromSlash(rel))
			} else {
				j.dst = dst.prefix() + slash
			}
			// With the input inside the output, a relative name can still
			// lead back into the input: in a/, out "", a/a/x.jpg would
			// become a/x.jpg; locally, a link in the output tree can too.
			switch {
			case local && inTree.inside(j.dst):
				j.err = fmt.Errorf("output %s would be inside input %s: %w", PrintableName(j.dst), PrintableName(src.raw), ErrSourceOverwrite)
			case sameBucket(src, dst) && strings.HasPrefix(j.dst, src.prefix()):
				j.err = fmt.Errorf("output %s would be inside input %s: %w", PrintableName(dst.object(j.dst).String()), PrintableName(src.raw), ErrSourceOverwrite)
			}
			if local {
				j.sink = guardSink{outSink: sink, in: string(j.in.(localInput))}
			}
			if !yield(j, nil) {
				return
			}
		}
	}, nil
}

// unguarded is the sink a guardSink guards, or s.
func unguarded(s outSink) outSink {
	if g, ok := s.(guardSink); ok {
		return g.outSink
	}
	return s
}

// base is the name of a single input, for an output directory or prefix.
func (p *place) base() string {
	if p.bucket == nil {
		return filepath.Base(p.path)
	}
	return path.Base(p.loc.Key)
}

// fileTarget is where a single input called base goes: p itself, or base
// inside p when p is a directory or prefix.
func (p *place) fileTarget(base string) string {
	if p.bucket != nil {
		if p.isPrefix() {
			return p.loc.Key + base
		}
		return p.loc.Key
	}
	if strings.HasSuffix(p.path, "/") {
		return filepath.Join(p.path, base)
	}
	if st, err := os.Stat(p.path); err == nil && st.IsDir() {
		return filepath.Join(p.path, base)
	}
	return p.path
}

// refuseSame refuses output name in dst (as processTo will name it) when
// it is the single input p, by any name.
func (p *place) refuseSame(dst *place, name string) error {
	name = outputName(p.raw, name)
	switch {
	case p.bucket == nil && dst.bucket == nil:
		same, err := sameLocalFile(p.path, name)
		if err != nil {
			return fmt.Errorf("output %s: %w", PrintableName(name), err)
		}
		if same {
			return sourceIsOutput(name, p.raw)
		}
	case sameBucket(p, dst) && p.loc.Key == name:
		return sourceIsOutput(dst.object(name).String(), p.raw)
	}
	return nil
}

// outputName is the name an output of input in gets: videos become MP4.
func outputName(in, dst string) string {
	if k, err := KindOf(in); err == nil && k == KindVideo && path.Ext(dst) != ".mp4" {
		return dst[:len(dst)-len(path.Ext(dst))] + ".mp4"
	}
	return dst
}

// objectLister is the part of a bucket that listObjects uses.
type objectLister interface {
	List(ctx context.Context, prefix string, opts *storage.ListOptions) iter.Seq2[storage.ObjectInfo, error]
}

// listObjects yields the objects under a prefix, relative to it, as
// listMedia does, page by page as the caller ranges over them.
func listObjects(ctx context.Context, p *place) iter.Seq2[listed, error] {
	return listUnder(ctx, p.bucket, p.loc.Key)
}

func listUnder(ctx context.Context, b objectLister, prefix string) iter.Seq2[listed, error] {
	return func(yield func(listed, error) bool) {
		for o, err := range b.List(ctx, prefix, nil) {
			if err != nil {
				yield(listed{}, err)
				return
			}
			rel := strings.TrimPrefix(o.Key, prefix)
			if strings.HasPrefix(path.Base(rel), ".") {
				continue
			}
			if !yield(listed{rel: rel, mod: o.ModTime}, nil) {
				return
			}
		}
	}
}

// prefixHint adds to a missing-object error when the key is in fact a
// prefix, the way people often name a "folder".
func prefixHint(ctx context.Context, p *place, err error) error {
	if !errors.Is(err, storage.ErrNotExist) {
		return err
	}
	for _, lerr := range p.bucket.List(ctx, p.loc.Key+"/", &storage.ListOptions{PageSize: 1}) {
		if lerr == nil {
			return fmt.Errorf("%w (objects exist under it: end the URL with '/' to take them all)", err)
		}
		break
	}
	return err
}

func isWithin(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (rel == "." || len(rel) < 2 || rel[:2] != "..")
}

// listed is one file of a tree: its name relative to the tree, when it
// was last modified (when asked for), and why it is left out unread, if
// the listing already knows.
type listed struct {
	rel  string
	mod  time.Time
	skip string
}

// Reasons a tree's file is skipped for what it is rather than what it
// holds.
const (
	skipDirLink    = "symbolic link to a directory (not followed)"
	skipBrokenLink = "symbolic link that leads nowhere"
	skipNotFile    = "not a regular file"
)

// listMedia yields dir's files as it walks it, each directory in name
// order; plan marks those desens does not handle as skipped (reported,
// never copied: they may hold sensitive data desens does not understand).
// Hidden files are left out. With byTime, each file's modification time
// is read too (that of the file a link leads to).
//
// Symbolic links to regular files are followed, as the file:// bucket's
// listing does, and the file is read through the link; links to
// directories are not followed (a link to a directory above it would loop
// for ever) and are listed as skipped, as are links that lead nowhere or
// into a loop, and other things that are not regular files (pipes,
// sockets, devices). dir itself may be a link to a directory.
func listMedia(dir string, byTime bool) (iter.Seq2[listed, error], error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	return func(yield func(listed, error) bool) {
		err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() || e.Name()[0] == '.' {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			f := listed{rel: rel}
			switch t := e.Type(); {
			case t.IsRegular():
				if byTime {
					if st, err := e.Info(); err == nil {
						f.mod = st.ModTime()
					}
				}
			case t&fs.ModeSymlink != 0:
				st, err := os.Stat(path)
				switch {
				case err != nil:
					f.skip = skipBrokenLink
				case st.IsDir():
					f.skip = skipDirLink
				case !st.Mode().IsRegular():
					f.skip = skipNotFile
				default:
					f.mod = st.ModTime()
				}
			default:
				f.skip = skipNotFile
			}
			if !yield(f, nil) {
				return filepath.SkipAll
			}
			return nil
		})
		if err != nil {
			yield(listed{}, err)
		}
	}, nil
}
