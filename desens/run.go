package desens

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

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
// as it finishes. The error is non-nil only when the run could not start
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

	var mu sync.Mutex
	results := make([]FileReport, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.opts.Workers)
	for i, j := range jobs {
		g.Go(func() error {
			var fr FileReport
			switch {
			case j.skip != "": // neither read nor written, whatever else holds
				fr = newFileReport(j.in.String(), "", "")
				fr.skip = j.skip
			case gctx.Err() != nil:
				fr = newFileReport(j.in.String(), "", "")
				fr.cancel(gctx.Err()) // not started: neither done nor failed
			case j.err != nil:
				fr = newFileReport(j.in.String(), "", "")
				fr.finish(fileErr(j.in.String(), "sink", j.err))
			default:
				fr = d.processJob(gctx, j) // sidecar.go
			}
			results[i] = fr
			if onFile != nil && fr.skip == "" {
				mu.Lock()
				onFile(fr)
				mu.Unlock()
			}
			return nil // a failed file never stops the others
		})
	}
	_ = g.Wait()
	for _, fr := range results {
		rep.add(fr)
	}
	return rep, ctx.Err()
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

// check makes a missing output bucket or wrong credentials stop the run
// before any work, rather than fail every file. It needs permission to
// list the output bucket.
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
	skip string // why the file is left out, unread (sidecar.go)
}

// plan lists what to do.
func (d *Desensitizer) plan(ctx context.Context, src, dst *place) ([]job, error) {
	var one input // a single file or object, else a tree
	var files []listed
	var err error
	switch {
	case src.bucket == nil:
		st, err := os.Stat(src.path)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if st.IsDir() {
			if files, err = listMedia(src.path); err != nil {
				return nil, err
			}
		} else {
			one = localInput(src.path)
		}
	case src.isPrefix():
		if files, err = listObjects(ctx, src); err != nil {
			return nil, err
		}
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
		return []job{j}, nil
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
	jobs := make([]job, len(files))
	for i, f := range files {
		rel := f.rel
		j := job{sink: sink, tree: true, skip: f.skip}
		if j.skip == "" {
			j.skip = skipReason(rel)
		}
		if src.bucket == nil {
			j.in = localInput(filepath.Join(src.path, rel))
		} else {
			j.in = newObjectInput(src.bucket, src.object(src.prefix()+rel))
		}
		if dst.bucket == nil {
			j.dst = filepath.Join(dst.path, filepath.FromSlash(rel))
		} else {
			j.dst = dst.prefix() + filepath.ToSlash(rel)
		}
		// With the input inside the output, a relative name can still
		// lead back into the input: in a/, out "", a/a/x.jpg would become
		// a/x.jpg; locally, a link in the output tree can too.
		switch {
		case local && inTree.inside(j.dst):
			j.err = fmt.Errorf("output %s would be inside input %s: %w", PrintableName(j.dst), PrintableName(src.raw), ErrSourceOverwrite)
		case sameBucket(src, dst) && strings.HasPrefix(j.dst, src.prefix()):
			j.err = fmt.Errorf("output %s would be inside input %s: %w", PrintableName(dst.object(j.dst).String()), PrintableName(src.raw), ErrSourceOverwrite)
		}
		if local {
			j.sink = guardSink{outSink: sink, in: string(j.in.(localInput))}
		}
		jobs[i] = j
	}
	return jobs, nil
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

// listObjects lists the objects under a prefix, relative to it, as
// listMedia does.
func listObjects(ctx context.Context, p *place) ([]listed, error) {
	var out []listed
	for o, err := range p.bucket.List(ctx, p.loc.Key, nil) {
		if err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(o.Key, p.loc.Key)
		if strings.HasPrefix(path.Base(rel), ".") {
			continue
		}
		out = append(out, listed{rel: rel})
	}
	return out, nil
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

// listed is one file of a tree: its name relative to the tree, and why it
// is left out unread, if the listing already knows.
type listed struct {
	rel  string
	skip string
}

// Reasons a tree's file is skipped for what it is rather than what it
// holds.
const (
	skipDirLink    = "symbolic link to a directory (not followed)"
	skipBrokenLink = "symbolic link that leads nowhere"
	skipNotFile    = "not a regular file"
)

// listMedia walks dir for files, sorted; plan marks those desens does not
// handle as skipped (reported, never copied: they may hold sensitive data
// desens does not understand). Hidden files are left out.
//
// Symbolic links to regular files are followed, as the file:// bucket's
// listing does, and the file is read through the link; links to
// directories are not followed (a link to a directory above it would loop
// for ever) and are listed as skipped, as are links that lead nowhere or
// into a loop, and other things that are not regular files (pipes,
// sockets, devices). dir itself may be a link to a directory.
func listMedia(dir string) ([]listed, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	var out []listed
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
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
		case t&fs.ModeSymlink != 0:
			st, err := os.Stat(path)
			switch {
			case err != nil:
				f.skip = skipBrokenLink
			case st.IsDir():
				f.skip = skipDirLink
			case !st.Mode().IsRegular():
				f.skip = skipNotFile
			}
		default:
			f.skip = skipNotFile
		}
		out = append(out, f)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, err
}
