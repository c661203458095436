package desens

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// A batch run (BatchOptions.MinSuccess set) into a directory or prefix
// delivers, beside the outputs and in this order:
//
//  1. _report.json, the run's report, whether it passes or not;
//  2. only when it passes: _manifest.json, every output of the run (made
//     now or already done) with its size and, where known, its ETag;
//  3. then _SUCCESS, empty.
//
// A shard i of N names them _report-i-of-N.json, _manifest-i-of-N.json and
// _SUCCESS-i-of-N, so N shards never write the same object; the whole is
// done when all N markers exist. With Filter.Partition P they go into P/
// within the output, the partition's own directory in a layout
// partitioned at the top (P/cam1/...), so the runs of different days into
// one output each have their own. Each is written whole or not at all (temp
// and rename, or one upload). The run first removes its own marker and
// manifest from an earlier run, so a reader that finds a marker finds the
// outputs it vouches for complete. The manifest is spooled to a temporary
// file as the run goes, so memory stays flat however many files there are.

// Names of what a batch run delivers; see above.
const (
	successName  = "_SUCCESS"
	manifestName = "_manifest"
	reportName   = "_report"
)

// ErrDelivery wraps a failure to write a batch run's report, manifest or
// marker.
var ErrDelivery = errors.New("could not deliver the batch")

// delivery is one batch run's report, manifest and marker. A nil delivery
// does nothing.
type delivery struct {
	dst   *place
	sink  outSink
	shard string
	dir   string // "" or the partition, with a '/'

	spool *os.File
	w     *bufio.Writer
	n     int
	err   error
}

// startDelivery removes dst's marker and manifest of an earlier run and
// starts the spool, when the run is a batch into a directory or prefix.
func (d *Desensitizer) startDelivery(ctx context.Context, src, dst *place) (*delivery, error) {
	if d.opts.Batch.MinSuccess <= 0 || !src.isTree() {
		return nil, nil
	}
	del := &delivery{dst: dst, sink: dst.sink(true), shard: d.opts.Batch.Shard.String()}
	if p := d.opts.Batch.Filter.Partition; p != "" {
		del.dir = p + "/"
	}
	for _, n := range []string{del.name(successName, ""), del.name(manifestName, ".json")} {
		if err := dst.remove(ctx, n); err != nil {
			return nil, fmt.Errorf("%w: removing %s of an earlier run: %w", ErrDelivery, n, err)
		}
	}
	f, err := os.CreateTemp("", "desens-manifest-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDelivery, err)
	}
	os.Remove(f.Name()) // the open file is all the spool needs
	del.spool, del.w = f, bufio.NewWriter(f)
	return del, nil
}

// isTree reports whether p is a directory or a key prefix.
func (p *place) isTree() bool {
	if p.bucket != nil {
		return p.isPrefix()
	}
	st, err := os.Stat(p.path)
	return err == nil && st.IsDir()
}

// name is what the delivery calls base within the output, for its shard
// and partition.
func (del *delivery) name(base, ext string) string {
	if del.shard != "" {
		base += "-" + del.shard
	}
	return del.dir + base + ext
}

// add spools a file's output, made or already done, for the manifest.
func (del *delivery) add(fr FileReport) {
	if del == nil || fr.done == nil || del.err != nil || (!fr.OK && fr.skip == "") {
		return
	}
	line, err := json.Marshal(fr.done)
	if err == nil {
		_, err = del.w.Write(append(line, '\n'))
	}
	del.n++
	del.err = err
}

// discard drops the spool of a run that did not finish.
func (del *delivery) discard() {
	if del != nil {
		del.spool.Close()
	}
}

// finish writes the report, and when the run passed, the manifest and the
// marker, last.
func (del *delivery) finish(ctx context.Context, rep *Report) error {
	if del == nil {
		return nil
	}
	defer del.spool.Close()
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return err
	}
	if err := del.write(ctx, del.name(reportName, ".json"), "application/json", &buf); err != nil {
		return err
	}
	if !rep.Done() {
		return nil
	}
	if del.err == nil {
		del.err = del.w.Flush()
	}
	if del.err == nil {
		_, del.err = del.spool.Seek(0, io.SeekStart)
	}
	if del.err != nil {
		return fmt.Errorf("%w: manifest spool: %w", ErrDelivery, del.err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(del.manifest(pw, rep)) }()
	err := del.write(ctx, del.name(manifestName, ".json"), "application/json", pr)
	pr.CloseWithError(err) // stops the writer if the output failed first
	if err != nil {
		return err
	}
	return del.write(ctx, del.name(successName, ""), "text/plain", bytes.NewReader(nil))
}

// manifest writes {"shard": ..., "outputs": [...]} from the spool.
func (del *delivery) manifest(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	head, _ := json.Marshal(struct {
		Shard       string  `json:"shard,omitempty"`
		Count       int     `json:"count"`
		SuccessRate float64 `json:"success_rate"`
	}{del.shard, del.n, rep.Summary.SuccessRate})
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"outputs":[`)
	sc := bufio.NewScanner(del.spool)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for i := 0; sc.Scan(); i++ {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		bw.Write(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// write puts r at name within the output, whole or not at all.
func (del *delivery) write(ctx context.Context, name, contentType string, r io.Reader) error {
	out, err := del.sink.Create(ctx, del.dst.within(name), outputMeta{ContentType: contentType})
	if err == nil {
		if _, err = io.Copy(out, r); err != nil {
			out.Abort()
		} else {
			err = out.Commit()
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDelivery, name, err)
	}
	return nil
}

// within is name inside the directory or prefix p.
func (p *place) within(name string) string {
	if p.bucket != nil {
		return p.prefix() + name
	}
	return filepath.Join(p.path, name)
}

// remove deletes name inside the directory or prefix p, if it is there.
func (p *place) remove(ctx context.Context, name string) error {
	if p.bucket != nil {
		return p.bucket.Delete(ctx, p.within(name))
	}
	if err := os.Remove(p.within(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
