package evalset

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Resolver finds the file of a source photo: the installed path for Debian
// packages, else the package unpacked under CacheDir (see Fetch).
type Resolver struct {
	// CacheDir holds unpacked packages: deb/<name>_<version>/ (dpkg -x root)
	// and npm/<name>@<version>/ (tarball root, files under package/).
	CacheDir string
	// Fetch: download and unpack missing packages (apt-get download +
	// dpkg -x, npm pack) into CacheDir.
	Fetch bool
	Logf  func(format string, args ...any)

	tried map[string]bool
}

func (r *Resolver) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// pkgDir is where a package is unpacked inside the cache.
func (r *Resolver) pkgDir(pkg *Package) string {
	name := strings.ReplaceAll(pkg.Name, "/", "+")
	if pkg.Kind == "npm" {
		return filepath.Join(r.CacheDir, "npm", name+"@"+pkg.Version)
	}
	return filepath.Join(r.CacheDir, "deb", name+"_"+pkg.Version)
}

// Resolve returns the readable path of p's file, or "" if unavailable.
func (r *Resolver) Resolve(p *Photo) string {
	pkg := PackageByKey(p.Pkg)
	if pkg == nil {
		return ""
	}
	var cands []string
	if pkg.Kind == "deb" {
		cands = append(cands, p.Path)
	}
	if r.CacheDir != "" {
		cands = append(cands, filepath.Join(r.pkgDir(pkg), filepath.FromSlash(p.Path)))
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	if r.Fetch && r.CacheDir != "" {
		if r.tried == nil {
			r.tried = map[string]bool{}
		}
		if !r.tried[pkg.Key] {
			r.tried[pkg.Key] = true
			if err := r.fetch(pkg); err != nil {
				r.logf("fetch %s %s: %v", pkg.Name, pkg.Version, err)
			}
		}
		c := cands[len(cands)-1]
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	return ""
}

func (r *Resolver) fetch(pkg *Package) error {
	dest, err := filepath.Abs(r.pkgDir(pkg))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.CacheDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(r.CacheDir, ".fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if tmp, err = filepath.Abs(tmp); err != nil {
		return err
	}
	r.logf("fetching %s package %s %s into %s", pkg.Kind, pkg.Name, pkg.Version, dest)
	switch pkg.Kind {
	case "deb":
		if err := run(tmp, "apt-get", "download", pkg.Name+"="+pkg.Version); err != nil {
			r.logf("exact version not available (%v), trying current %s", err, pkg.Name)
			if err := run(tmp, "apt-get", "download", pkg.Name); err != nil {
				return err
			}
		}
		debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
		if len(debs) != 1 {
			return fmt.Errorf("expected one .deb, got %d", len(debs))
		}
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return err
		}
		return run(tmp, "dpkg", "-x", debs[0], dest)
	case "npm":
		if err := run(tmp, "npm", "pack", "--silent", pkg.Name+"@"+pkg.Version); err != nil {
			return err
		}
		tgzs, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
		if len(tgzs) != 1 {
			return fmt.Errorf("expected one .tgz, got %d", len(tgzs))
		}
		return untgz(tgzs[0], dest)
	}
	return fmt.Errorf("unknown package kind %q", pkg.Kind)
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// untgz extracts regular files of a .tgz into dest, refusing paths that
// escape dest.
func untgz(path, dest string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("unsafe path %q in %s", h.Name, path)
		}
		out := filepath.Join(dest, name)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		w, err := os.Create(out)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, tr); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}
