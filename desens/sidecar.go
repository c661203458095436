package desens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/desens/desens/desens/trajectory"
)

// Sidecars are the position logs that travel beside media: GPX, NMEA,
// KML, CSV or JSON with lat/lon, drone SRT. In a run they are desensitized by
// Options.Trajectory (dropped by default) instead of being skipped, and
// each gets a FileReport of kind "trajectory". Files of a directory or
// prefix that are neither media nor sidecars are skipped and listed in
// Report.Skipped; nothing is ever copied as it is.

// KindTrajectory is the kind of a sidecar in reports.
const KindTrajectory Kind = "trajectory"

// TrajectoryReport says what the policy did to one sidecar.
type TrajectoryReport struct {
	Format trajectory.Format `json:"format,omitempty"`
	Policy string            `json:"policy"`
	// Dropped: the policy is drop, and no output was written.
	Dropped   bool `json:"dropped,omitempty"`
	Tracks    int  `json:"tracks,omitempty"`
	PointsIn  int  `json:"points_in,omitempty"`
	PointsOut int  `json:"points_out,omitempty"`
	// Discarded counts records removed because their positions could not
	// be rewritten (NMEA sentences of other types, unreadable rows).
	Discarded int `json:"records_discarded,omitempty"`
}

// trajectoryTypes are the media types of sidecar outputs.
var trajectoryTypes = map[trajectory.Format]string{
	trajectory.GPX: "application/gpx+xml", trajectory.KML: "application/vnd.google-earth.kml+xml",
	trajectory.NMEA: "text/plain", trajectory.CSV: "text/csv", trajectory.JSON: "application/json",
	trajectory.SRT: "application/x-subrip",
}

// skipReason says why a file of a tree is left out, or "" if desens
// handles it (a sidecar candidate is decided by its content later).
func skipReason(name string) string {
	if _, err := KindOf(name); err == nil || trajectory.IsCandidate(name) {
		return ""
	}
	return "not an image, video or trajectory file desens reads"
}

// processJob desensitizes one file of a run: a sidecar by the trajectory
// policy, anything else as media. A candidate sidecar that turns out not to
// be a trajectory (a .log that is not NMEA, a CSV without lat/lon) is
// skipped when it came with a tree, and fails when it was the input.
// What the sink finds and leaves behind goes into the report (leftovers).
func (d *Desensitizer) processJob(ctx context.Context, j job) (fr FileReport) {
	ctx, left := withLeftovers(ctx)
	defer func() { left.addTo(&fr) }()
	name := j.in.String()
	if _, err := KindOf(name); err == nil || !trajectory.IsCandidate(name) {
		return d.processTo(ctx, j.in, j.dst, j.sink)
	}
	fr = d.processSidecar(ctx, j.in, j.dst, j.sink)
	if j.tree && errors.Is(fr.Err(), trajectory.ErrUnknownFormat) {
		fr.skip = strings.TrimPrefix(errors.Unwrap(fr.Err()).Error(), ErrUnsupported.Error()+": ")
	}
	return fr
}

// ProcessTrajectory desensitizes the trajectory file at in into out (a
// file path) by Options.Trajectory. With the drop policy nothing is
// written. The output appears only if the whole file succeeded.
func (d *Desensitizer) ProcessTrajectory(ctx context.Context, in, out string) FileReport {
	sink := guardSink{outSink: fileSink{Overwrite: d.opts.Overwrite}, in: in}
	return d.processSidecar(ctx, localInput(in), out, sink)
}

func (d *Desensitizer) processSidecar(ctx context.Context, in input, dst string, sink outSink) FileReport {
	name := in.String()
	outName := dst
	if n, ok := sink.(namer); ok {
		outName = n.url(dst)
	}
	p := d.opts.Trajectory
	rep := newFileReport(name, outName, string(KindTrajectory))
	tr := &TrajectoryReport{Policy: p.String()}
	rep.Trajectory = tr
	err := func() error {
		info, err := in.stat(ctx)
		if err != nil {
			return fileErr(name, "source", err)
		}
		rep.BytesIn = info.size
		if info.size > trajectory.MaxBytes {
			return fileErr(name, "source", fmt.Errorf("%w: %w", ErrUnsupported, trajectory.ErrTooLarge))
		}
		head, err := in.head(ctx, trajectory.SniffLen)
		if err != nil {
			return fileErr(name, "source", err)
		}
		f, err := trajectory.FormatOf(name, head)
		if err != nil {
			return fileErr(name, "source", sidecarErr(err))
		}
		tr.Format = f
		if p.Mode == "" || p.Mode == trajectory.Drop {
			// Nothing of a dropped sidecar is read further or written.
			tr.Dropped = true
			return nil
		}
		data, err := in.readAll(ctx, trajectory.MaxBytes)
		if err != nil {
			return fileErr(name, "source", err)
		}
		oi := d.outputInfo(KindVideo, dst, info)
		oi.ContentType = trajectoryTypes[f]
		out, err := sink.Create(ctx, dst, oi)
		if err != nil {
			return fileErr(name, "sink", err)
		}
		st, err := trajectory.Desensitize(bytes.NewReader(data), out, f, p)
		if err != nil {
			out.Abort()
			return fileErr(name, "trajectory", sidecarErr(err))
		}
		tr.Tracks, tr.PointsIn, tr.PointsOut, tr.Discarded = st.Tracks, st.Points, st.Kept, st.Discarded
		rep.BytesOut = outputSize(out)
		if err := out.Commit(); err != nil {
			return fileErr(name, "sink", err)
		}
		rep.outETag = outputETag(out)
		return nil
	}()
	rep.finish(err)
	if err == nil && tr.Dropped {
		rep.Output = ""
	}
	return rep
}

// sidecarErr files a trajectory error under the package's sentinels too:
// a malformed file is corrupt media, one that cannot be desensitized is
// unsupported.
func sidecarErr(err error) error {
	switch {
	case errors.Is(err, trajectory.ErrMalformed):
		return fmt.Errorf("%w: %w", ErrCorruptMedia, err)
	case errors.Is(err, trajectory.ErrUnknownFormat), errors.Is(err, trajectory.ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return err
}
