package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/trajectory"
)

// trajectoryFlags choose what happens to position logs (GPX, NMEA, KML,
// CSV, JSON) found beside the media.
func trajectoryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "trajectory", Value: "drop", EnvVars: []string{"DESENS_TRAJECTORY"},
			Usage: "what happens to GPX, NMEA, KML, lat/lon CSV/JSON and drone SRT files: drop (nothing written), coarsen, offset or trim"},
		&cli.Float64Flag{Name: "trajectory-grid", Value: 500,
			Usage: "coarsen: snap positions to a grid of this many metres"},
		&cli.DurationFlag{Name: "trajectory-time-round", Value: time.Minute,
			Usage: "coarsen: round times to this interval (0 keeps them)"},
		&cli.StringFlag{Name: "trajectory-offset", EnvVars: []string{"DESENS_TRAJECTORY_OFFSET"},
			Usage: "offset: move every position by EAST,NORTH metres, e.g. 1200,-800; keep it secret (the environment variable keeps it out of process lists)"},
		&cli.Float64Flag{Name: "trajectory-trim", Value: 500,
			Usage: "trim: remove this many metres (along the path) from the start and end of each track"},
	}
}

// trajectoryHelp is the part of the run help about trajectories.
const trajectoryHelp = `TRAJECTORIES:
   GPX, NMEA (.nmea, and .log/.txt whose lines are NMEA sentences), KML,
   CSV or JSON/GeoJSON with latitude and longitude columns or keys, and
   drone .SRT subtitles with positions (DJI) are position logs. --trajectory decides what happens to them:
     drop     (default) nothing is written; the report lists each as dropped
     coarsen  positions snapped to a --trajectory-grid metre grid, times
              rounded to --trajectory-time-round
     offset   every position moved by --trajectory-offset EAST,NORTH metres;
              anyone who learns the offset can undo it
     trim     the first and last --trajectory-trim metres of each track
              (where trips start and end) removed
   Everything else in the file is kept. Files that are neither media nor
   trajectories are skipped, never copied, and listed in the report.`

// trajectoryFrom reads the trajectory flags. A flag of another mode than
// the chosen one is a usage error rather than silently ignored.
func trajectoryFrom(c *cli.Context) (trajectory.Policy, error) {
	mode, err := trajectory.ParseMode(c.String("trajectory"))
	if err != nil {
		return trajectory.Policy{}, usagef("--trajectory: " + err.Error())
	}
	p := trajectory.Policy{Mode: mode}
	for flag, m := range map[string]trajectory.Mode{"trajectory-grid": trajectory.Coarsen,
		"trajectory-time-round": trajectory.Coarsen, "trajectory-offset": trajectory.Offset, "trajectory-trim": trajectory.Trim} {
		if c.IsSet(flag) && m != mode {
			return p, usagef(fmt.Sprintf("--%s applies to --trajectory %s, not %s", flag, m, mode))
		}
	}
	switch mode {
	case trajectory.Coarsen:
		p.GridMetres, p.TimeRound = c.Float64("trajectory-grid"), c.Duration("trajectory-time-round")
	case trajectory.Offset:
		s := c.String("trajectory-offset")
		east, north, ok := strings.Cut(s, ",")
		var e1, e2 error
		p.OffsetEast, e1 = strconv.ParseFloat(strings.TrimSpace(east), 64)
		p.OffsetNorth, e2 = strconv.ParseFloat(strings.TrimSpace(north), 64)
		if !ok || e1 != nil || e2 != nil {
			return p, usagef(fmt.Sprintf("--trajectory offset needs --trajectory-offset EAST,NORTH in metres (got %q)", s))
		}
	case trajectory.Trim:
		p.TrimMetres = c.Float64("trajectory-trim")
	}
	return p, nil // desens.New checks the values
}

// fileLine prints a sidecar's outcome in its own words (frames and faces
// mean nothing for a GPX) and hands every other file to the reporter.
func fileLine(ui *reporter) func(desens.FileReport) {
	return func(f desens.FileReport) {
		if f.Archive != nil && f.OK {
			archiveLine(ui, f) // archive_flags.go
			return
		}
		tr := f.Trajectory
		if tr == nil || !f.OK {
			ui.file(f)
			return
		}
		ui.mu.Lock()
		defer ui.mu.Unlock()
		ui.clear()
		switch {
		case ui.quiet:
		case tr.Dropped:
			fmt.Fprintf(ui.w, "drop %s (%s trajectory: not written)\n", desens.PrintableName(f.Input), tr.Format)
		default:
			extra := ""
			if tr.Discarded > 0 {
				extra = fmt.Sprintf(", %d records removed", tr.Discarded)
			}
			fmt.Fprintf(ui.w, "ok   %s -> %s (%s trajectory, %s: %d of %d points kept%s)\n",
				desens.PrintableName(f.Input), desens.PrintableName(f.Output), tr.Format, tr.Policy, tr.PointsOut, tr.PointsIn, extra)
		}
	}
}

// printSkipped names the files of a run that were neither desensitized nor
// copied, so that nobody takes the output for the whole input; those
// already done by an earlier run are counted in the summary line.
func printSkipped(w io.Writer, rep *desens.Report, quiet bool) {
	if rep == nil || quiet {
		return
	}
	var skipped []desens.Skipped
	for _, s := range rep.Skipped {
		if !s.Done {
			skipped = append(skipped, s)
		}
	}
	if len(skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "%d files skipped (not copied):\n", len(skipped))
	for i, s := range skipped {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more (see --report)\n", len(skipped)-i)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", desens.PrintableName(s.Input), desens.PrintableText(s.Reason))
	}
}
