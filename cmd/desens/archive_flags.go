package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
)

// archiveFlags choose what happens inside tar, tar.gz and zip archives.
func archiveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "archive-other", Value: string(desens.ArchiveDrop), EnvVars: []string{"DESENS_ARCHIVE_OTHER"},
			Usage: "what happens to archive members that are neither images, videos, trajectories nor archives: drop (left out, listed in the report), copy (kept unchanged) or fail (the archive fails)"},
	}
}

// archiveHelp is the part of the run help about archives.
const archiveHelp = `ARCHIVES:
   .tar, .tar.gz/.tgz and .zip files are opened and each member is
   desensitized by its type: images and videos as above (a video member
   becomes MP4 and is renamed .mp4), trajectories by --trajectory, archives
   inside archives the same way (two levels deep at most). Other members,
   hidden ones and macOS's __MACOSX/ files follow --archive-other: drop
   (default: desens never copies what it cannot desensitize), copy, or fail. The output is an archive of the same format
   with the same member names, order, modes and times, written only if
   every member succeeded; the report lists each member and, on failure,
   the member at fault (ARCHIVE!/MEMBER). Refused outright: member names
   that lead outside the archive (../, absolute or drive paths), links,
   devices, duplicate names, encrypted members, archives nested deeper, and
   zip bombs (a member over 16 GiB, 64 GiB in all, 100,000 members, or over
   200 bytes out per compressed byte). Zip names in GBK (from Chinese
   Windows) are written back in UTF-8. Members pass through $TMPDIR.`

// archiveLine prints an archive's outcome: what was done to its members,
// and what its media held.
func archiveLine(ui *reporter, f desens.FileReport) {
	if ui.quiet {
		return
	}
	actions := map[string]int{}
	for _, m := range f.Archive.Members {
		actions[m.Action]++
	}
	var did, found []string
	for _, a := range slices.Sorted(maps.Keys(actions)) {
		did = append(did, fmt.Sprintf("%d %s", actions[a], a))
	}
	for _, k := range slices.Sorted(maps.Keys(f.Detections)) {
		found = append(found, fmt.Sprintf("%d %s", f.Detections[k], k))
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	ui.clear()
	fmt.Fprintf(ui.w, "ok   %s -> %s (%s: %d members, %s; %d frames, %s, %.1fs)\n", desens.PrintableName(f.Input),
		desens.PrintableName(f.Output), f.Archive.Format, len(f.Archive.Members), orNone(strings.Join(did, ", ")),
		f.Frames, orNone(strings.Join(found, ", ")), float64(f.Elapsed)/1000)
}
