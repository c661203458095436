package desens

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Local outputs are checked against local inputs by where they lead, not
// by how they are spelled: a symbolic link, a relative path, a file:// URL,
// a path with ".." after a link, a bind mount or a hard link can all name
// a source. resolvePath gives the place a name leads to, and file identity
// (os.SameFile) catches the names that links cannot explain.

// resolvePath returns p absolute with every symbolic link in it resolved
// the way the kernel resolves them: the longest prefix of p that exists
// goes through filepath.EvalSymlinks, and the rest, which does not exist
// yet, is appended. It also returns that resolved existing prefix. p is
// not cleaned before the links are resolved, since "link/.." is the
// directory above the link's target, not the current one.
func resolvePath(p string) (resolved, existing string, err error) {
	if !filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		p = wd + string(filepath.Separator) + p
	}
	var rest []string // missing components, innermost first
	for cur := p; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			parts := []string{r}
			for i := len(rest) - 1; i >= 0; i-- {
				parts = append(parts, rest[i])
			}
			return filepath.Join(parts...), r, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", "", err
		}
		cur = strings.TrimRight(cur, string(filepath.Separator))
		i := strings.LastIndexByte(cur, filepath.Separator)
		if i < 0 {
			return "", "", err
		}
		rest = append(rest, cur[i+1:])
		cur = cur[:i+1]
	}
}

// sameLocalFile reports whether the local paths a and b name one file:
// they resolve to one place, or both exist and are one file.
func sameLocalFile(a, b string) (bool, error) {
	ra, _, err := resolvePath(a)
	if err != nil {
		return false, err
	}
	rb, _, err := resolvePath(b)
	if err != nil {
		return false, err
	}
	if ra == rb {
		return true, nil
	}
	return sameExisting(a, b), nil
}

// sameExisting reports whether a and b both exist and are one file.
func sameExisting(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// insideLocal reports whether the local path p is the directory dir or
// lies inside it: by resolved names, or because dir itself is one of the
// existing directories above p under another name (a bind mount).
func insideLocal(p, dir string) (bool, error) {
	rp, existing, err := resolvePath(p)
	if err != nil {
		return false, err
	}
	rd, _, err := resolvePath(dir)
	if err != nil {
		return false, err
	}
	if isWithin(rp, rd) {
		return true, nil
	}
	sd, err := os.Stat(rd)
	if err != nil {
		return false, nil // a missing dir holds nothing
	}
	for a := existing; ; a = filepath.Dir(a) {
		if sa, err := os.Stat(a); err == nil && os.SameFile(sa, sd) {
			return true, nil
		}
		if filepath.Dir(a) == a {
			return false, nil
		}
	}
}

// sourceIsOutput is the error for an output that is its input.
func sourceIsOutput(out, in string) error {
	return fmt.Errorf("output %s is the input %s: %w", PrintableName(out), PrintableName(in), ErrSourceOverwrite)
}

// sourceHoldsOutput is the error for an output inside an input directory
// or prefix.
func sourceHoldsOutput(out, in string) error {
	return fmt.Errorf("output %s is inside input %s: %w", PrintableName(out), PrintableName(in), ErrSourceOverwrite)
}

// dirResolver resolves the directories of a tree's outputs, each once,
// to find the outputs that a link in the output tree leads into the input.
type dirResolver struct {
	in   string // the input directory, resolved
	dirs map[string]bool
}

func newDirResolver(in string) (*dirResolver, error) {
	r, _, err := resolvePath(in)
	if err != nil {
		return nil, err
	}
	return &dirResolver{in: r, dirs: map[string]bool{}}, nil
}

// inside reports whether the local output file out would land inside the
// input directory.
func (g *dirResolver) inside(out string) bool {
	dir := filepath.Dir(out)
	hit, ok := g.dirs[dir]
	if !ok {
		r, _, err := resolvePath(dir)
		hit = err != nil || isWithin(r, g.in) // an unresolvable name is refused
		g.dirs[dir] = hit
	}
	return hit
}

// guardSink refuses, when an output is created, to write over the local
// input in by any name; plan has already refused the names it could see,
// and this catches the rest (a hard link, a tree's link to a file that is
// also an output, a file that changed since).
type guardSink struct {
	outSink
	in string
}

func (s guardSink) Create(ctx context.Context, name string, info outputMeta) (output, error) {
	if sameExisting(s.in, name) {
		return nil, sourceIsOutput(name, s.in)
	}
	return s.outSink.Create(ctx, name, info)
}
