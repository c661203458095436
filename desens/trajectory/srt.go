package trajectory

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Drones (DJI above all) write a SubRip subtitle file beside each video,
// one cue per frame, with the aircraft's position in the text:
//
//	GPS(121.4737,31.2304,18) or GPS (121.4737, 31.2304, 18)   older models
//	HOME(121.4730,31.2300) 2017.08.05 14:11:51                 the take-off point
//	[latitude: 31.2304] [longitude: 121.4737]                  newer models
//
// The cues' positions form one track. HOME, the same place repeated in
// every cue, is a track of one point per place: Trim takes it out of
// every cue. A cue whose position is trimmed is removed and the rest are
// numbered again. Dates and times in the text are rounded by Coarsen; cue
// timings, relative to the video, are kept. A line that still mentions a
// position once the known forms are taken out makes the file refused.

var (
	srtGPS = regexp.MustCompile(`(?i)\b(GPS|HOME)\s*\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*(,[^)]*)?\)`)
	srtLat = regexp.MustCompile(`(?i)\[\s*latitude\s*:\s*(-?[\d.]+)\s*\]`)
	srtLon = regexp.MustCompile(`(?i)\[\s*longt?itude\s*:\s*(-?[\d.]+)\s*\]`) // some firmware writes "longtitude"
	// Times: "2017.08.05 14:11:51", "2021-06-12 10:31:24.467", and
	// "2021-05-09 14:59:21,035,487" (milliseconds, microseconds).
	srtTime = regexp.MustCompile(`\b\d{4}[.-]\d{2}[.-]\d{2} \d{2}:\d{2}:\d{2}(\.\d+|(,\d{3}){1,2})?\b`)
	srtCue  = regexp.MustCompile(`^\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}`)
	// srtLeft are signs of a position in a form not rewritten.
	srtLeft = regexp.MustCompile(`(?i)lat|lon|gps|home|-?\d+\.\d{4,}\s*,\s*-?\d+\.\d{4,}`)
)

// looksDJI reports whether a subtitle head is SubRip with positions.
func looksDJI(head []byte) bool {
	lines := bytes.SplitN(bytes.TrimLeft(head, "\r\n"), []byte("\n"), 3)
	return len(lines) == 3 && srtCue.Match(bytes.TrimSpace(lines[1])) && (srtGPS.Match(head) || srtLat.Match(head))
}

// srtPos is one position in a cue's text.
type srtPos struct {
	line   int
	olds   []string // the text as written (GPS(...), or [latitude] and [longitude])
	news   func(pt point) []string
	pt     point
	keep   bool
	home   bool
	homeOf *srtPos // the first HOME of the same place, which stands for it
}

type srtCueBlock struct {
	timing string
	text   []string
	pos    []*srtPos
}

func srt(data []byte, p Policy, st *Stats) ([]byte, error) {
	text := string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	eol := "\n"
	if strings.Contains(text, "\r\n") {
		eol = "\r\n"
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var cues []*srtCueBlock
	for _, block := range strings.Split(strings.Trim(text, "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue // more than one blank line between cues
		}
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		if len(lines) < 2 || !srtCue.MatchString(strings.TrimSpace(lines[1])) {
			return nil, fmt.Errorf("%w: SubRip cue %d has no timing", ErrMalformed, len(cues)+1)
		}
		c := &srtCueBlock{timing: lines[1], text: lines[2:]}
		if err := c.parse(); err != nil {
			return nil, fmt.Errorf("cue %d: %w", len(cues)+1, err)
		}
		cues = append(cues, c)
	}

	gps := &track[*srtPos]{}
	var homes []*track[*srtPos]
	firstHome := map[point]*srtPos{}
	for _, c := range cues {
		for _, sp := range c.pos {
			switch {
			case !sp.home:
				gps.add(sp.pt, sp)
			case firstHome[sp.pt] == nil:
				firstHome[sp.pt] = sp
				t := &track[*srtPos]{}
				t.add(sp.pt, sp)
				homes = append(homes, t)
			default:
				sp.homeOf = firstHome[sp.pt]
			}
		}
	}
	err := run(p, st, append([]*track[*srtPos]{gps}, homes...), func(sp *srtPos, pt point, keep bool) error {
		sp.pt, sp.keep = pt, keep
		return nil
	})
	if err != nil {
		return nil, err
	}

	var out strings.Builder
	n := 0
	for _, c := range cues {
		lines := append([]string{}, c.text...)
		dropped := false
		for _, sp := range c.pos {
			if sp.homeOf != nil {
				sp.pt, sp.keep = sp.homeOf.pt, sp.homeOf.keep
			}
			if !sp.home && !sp.keep {
				dropped = true
			}
			lines[sp.line] = p.rewriteSRT(lines[sp.line], sp)
		}
		if dropped {
			continue
		}
		if p.roundsTimes() {
			for i, l := range lines {
				lines[i] = srtTime.ReplaceAllStringFunc(l, p.roundSRTTime)
			}
		}
		n++
		fmt.Fprintf(&out, "%d%s%s%s", n, eol, c.timing, eol)
		for _, l := range lines {
			out.WriteString(l + eol)
		}
		out.WriteString(eol)
	}
	return []byte(out.String()), nil
}

// parse finds the positions in a cue's text, and refuses text that
// mentions positions in any other form.
func (c *srtCueBlock) parse() error {
	var gpsCount int
	for i, l := range c.text {
		rest := l
		for _, m := range srtGPS.FindAllStringSubmatch(l, -1) {
			lon, ok1 := parseDeg(m[2], 180)
			lat, ok2 := parseDeg(m[3], 90)
			if !ok1 || !ok2 {
				return fmt.Errorf("%w: a %s position out of range", ErrMalformed, m[1])
			}
			tag, tail := m[1], m[4]
			sp := &srtPos{line: i, olds: []string{m[0]}, pt: point{Lat: lat, Lon: lon}, keep: true,
				home: strings.EqualFold(tag, "HOME"),
				news: func(pt point) []string {
					return []string{tag + "(" + fmtDeg(pt.Lon) + "," + fmtDeg(pt.Lat) + tail + ")"}
				}}
			c.pos = append(c.pos, sp)
			if !sp.home {
				gpsCount++
			}
			rest = strings.Replace(rest, m[0], "", 1)
		}
		la, lo := srtLat.FindStringSubmatch(l), srtLon.FindStringSubmatch(l)
		if (la == nil) != (lo == nil) {
			return fmt.Errorf("%w: a SubRip line with only one of latitude and longitude", ErrUnsupported)
		}
		if la != nil {
			lat, ok1 := parseDeg(la[1], 90)
			lon, ok2 := parseDeg(lo[1], 180)
			if !ok1 || !ok2 {
				return fmt.Errorf("%w: a [latitude] or [longitude] out of range", ErrMalformed)
			}
			c.pos = append(c.pos, &srtPos{line: i, olds: []string{la[0], lo[0]}, pt: point{Lat: lat, Lon: lon}, keep: true,
				news: func(pt point) []string {
					return []string{"[latitude: " + fmtDeg(pt.Lat) + "]", "[longitude: " + fmtDeg(pt.Lon) + "]"}
				}})
			gpsCount++
			rest = strings.Replace(strings.Replace(rest, la[0], "", 1), lo[0], "", 1)
		}
		if m := srtLeft.FindString(rest); m != "" {
			return fmt.Errorf("%w: SubRip text mentions %q in a form that cannot be rewritten", ErrUnsupported, m)
		}
	}
	if gpsCount > 1 {
		return fmt.Errorf("%w: a SubRip cue with %d positions", ErrUnsupported, gpsCount)
	}
	return nil
}

// rewriteSRT writes one position back into its line: moved, as it was,
// or, for a trimmed HOME, taken out.
func (p Policy) rewriteSRT(line string, sp *srtPos) string {
	switch {
	case !sp.keep && sp.home:
		line = strings.Replace(line, sp.olds[0], "", 1)
		return strings.Join(strings.Fields(line), " ")
	case sp.keep && p.moves():
		for i, s := range sp.news(sp.pt) {
			line = strings.Replace(line, sp.olds[i], s, 1)
		}
	}
	return line
}

// roundSRTTime rounds "2017.08.05 14:11:51" or "2021-06-12 10:31:24.467"
// and writes it back in the same form.
func (p Policy) roundSRTTime(s string) string {
	date, clock := s[:10], s[11:]
	clock, _, _ = strings.Cut(clock, ",") // sub-second parts in commas go
	r, ok := p.roundTimeText(strings.ReplaceAll(date, ".", "-") + "T" + clock)
	if !ok {
		return s
	}
	date, clock, _ = strings.Cut(r, "T")
	if strings.Contains(s[:10], ".") {
		date = strings.ReplaceAll(date, "-", ".")
	}
	return date + " " + clock
}
