package desens

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/desens/desens/desens/storage"
)

// Resuming needs no database: every output records the source and the
// version of it that it was made from, and a rerun skips an output that
// records the version the source has now, and redoes one that desens made
// from another version of the same source. An output that records
// neither is not desens's: it is replaced only with Options.Overwrite. Outputs appear only when complete (temp and
// rename, or a multipart upload completed on success), so an output that
// exists is a finished one, and a run killed at any moment loses only the
// files it had not finished; their leftovers are removed when the rerun
// writes them again (cleanTemps, cleanUploads).
//
// The version of an object is its ETag; that of a local file its size and
// modification time to the nanosecond, the quick check rsync and make
// rely on. Objects keep it as metadata. Local files keep it as extended
// attributes (user.desens-source-etag or user.desens-source-stamp, set on
// the temporary file before the rename, so the mark and the bytes appear
// together); where the file system keeps none, in a hidden companion file
// .NAME.desens beside the output, renamed into place before the output
// is, so a mark never outlives a missing output's absence unnoticed: a
// companion without its output is simply rewritten.

// MetaSourceStamp is the metadata key of a local source's version (size
// and modification time); objects' versions are under MetaSourceETag.
const MetaSourceStamp = "desens-source-stamp"

// xattrPrefix puts desens's marks in the user namespace.
const xattrPrefix = "user."

// companionSuffix names a local output's companion mark, .NAME.desens.
const companionSuffix = ".desens"

// version is the metadata key and value that identify the version of the
// source an output is made from.
func (i inputInfo) version() (key, value string) {
	if i.etag != "" {
		return MetaSourceETag, metaValue(i.etag)
	}
	if i.stamp != "" {
		return MetaSourceStamp, metaValue(i.stamp)
	}
	return "", ""
}

// doneOutput is an output that exists, for the manifest.
type doneOutput struct {
	Name string `json:"name"` // relative to the output directory or prefix
	Size int64  `json:"size"`
	ETag string `json:"etag,omitempty"`
}

// outputState is what a rerun finds at a job's output.
type outputState int

const (
	outputAbsent outputState = iota // nothing there, or not desens's own: Create decides
	outputDone                      // made from this version of the source: skip
	outputStale                     // made by desens from another version of this source: redo
)

// marker is implemented by sinks that can read an output's marks: its
// size, its ETag if it has one, and the value of each key ("" if unset).
type marker interface {
	marks(ctx context.Context, name string, keys ...string) (size int64, etag string, values []string, exists bool, err error)
}

// checkOutput says whether j's output is done, stale or neither, and
// names it as the report does. It is asked only when outputs are not
// overwritten anyway.
func checkOutput(ctx context.Context, j job) (state outputState, out string, size int64, etag string) {
	var m marker
	switch s := j.sink.(type) {
	case guardSink:
		m, _ = s.outSink.(marker)
	case marker:
		m = s
	}
	if m == nil {
		return outputAbsent, "", 0, ""
	}
	info, err := j.in.stat(ctx)
	if err != nil {
		return outputAbsent, "", 0, "" // the file fails with the reason when processed
	}
	key, value := info.version()
	if key == "" {
		return outputAbsent, "", 0, ""
	}
	out = outputName(j.in.String(), j.dst)
	size, etag, v, exists, err := m.marks(ctx, out, key, MetaSource)
	switch {
	case err != nil || !exists:
		return outputAbsent, out, 0, ""
	case v[0] == value:
		return outputDone, out, size, etag
	case v[0] != "" && v[1] == metaValue(info.url):
		return outputStale, out, size, etag
	}
	return outputAbsent, out, 0, ""
}

// replacing returns s made to replace an existing output.
func replacing(s outSink) outSink {
	switch s := s.(type) {
	case guardSink:
		s.outSink = replacing(s.outSink)
		return s
	case fileSink:
		s.Overwrite = true
		return s
	case bucketSink:
		s.overwrite = true
		return s
	}
	return s
}

func (s bucketSink) marks(ctx context.Context, key string, keys ...string) (int64, string, []string, bool, error) {
	a, err := s.b.Stat(ctx, key)
	if errors.Is(err, storage.ErrNotExist) {
		return 0, "", nil, false, nil
	}
	if err != nil {
		return 0, "", nil, false, err
	}
	v := make([]string, len(keys))
	for i, k := range keys {
		v[i] = a.Metadata[k]
	}
	return a.Size, a.ETag, v, true, nil
}

func (s fileSink) marks(_ context.Context, name string, keys ...string) (int64, string, []string, bool, error) {
	st, err := os.Stat(name)
	if err != nil || !st.Mode().IsRegular() {
		return 0, "", nil, false, nil
	}
	v := make([]string, len(keys))
	for i, k := range keys {
		v[i] = readMark(name, k)
	}
	return st.Size(), "", v, true, nil
}

// readMark reads the mark key of the local output at p: its extended
// attribute, else its companion file; "" when it has neither.
func readMark(p, key string) string {
	buf := make([]byte, 512)
	if n, err := syscall.Getxattr(p, xattrPrefix+key, buf); err == nil {
		return string(buf[:n])
	}
	data, err := os.ReadFile(companionOf(p))
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\n"), "="); ok && k == key {
			return v
		}
	}
	return ""
}

// companionOf is the companion mark of the local output at p.
func companionOf(p string) string {
	return filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+companionSuffix)
}

// mark records md on the temporary file tmp of the output final: as
// extended attributes, else (none kept here, or noXattr) in final's
// companion file. A mark that cannot be written only costs a rerun the
// redoing of this file, so it never fails the output.
func mark(tmp, final string, md map[string]string, noXattr bool) {
	if len(md) == 0 {
		return
	}
	if !noXattr {
		var err error
		for k, v := range md {
			if err = syscall.Setxattr(tmp, xattrPrefix+k, []byte(v), 0); err != nil {
				break
			}
		}
		if err == nil {
			return
		}
	}
	var b strings.Builder
	for k, v := range md {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	c := companionOf(final)
	ct := c + tmpSuffix
	if err := os.WriteFile(ct, []byte(b.String()), 0o644); err != nil {
		return
	}
	if err := os.Rename(ct, c); err != nil {
		os.Remove(ct)
	}
}
