package trajectory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Format is a trajectory file format.
type Format string

const (
	GPX  Format = "gpx"
	NMEA Format = "nmea"
	KML  Format = "kml"
	CSV  Format = "csv"
	JSON Format = "json" // GeoJSON, or any JSON with lat/lon keys
	SRT  Format = "srt"  // SubRip with positions, as DJI drones write
)

var (
	// ErrUnknownFormat means a file is not a trajectory format this package
	// reads (or does not hold positions at all). Such files must be
	// reported, never passed on.
	ErrUnknownFormat = errors.New("unknown trajectory format")
	// ErrMalformed means a file claims a format but does not parse as it.
	ErrMalformed = errors.New("malformed trajectory")
	// ErrUnsupported means a file holds positions in a form this package
	// cannot rewrite (a position column or key it does not know how to
	// pair, times it cannot round), so it refuses the whole file.
	ErrUnsupported = errors.New("positions that cannot be desensitized")
	// ErrOutOfRange means the policy would move a position off the globe.
	ErrOutOfRange = errors.New("position out of range")
	// ErrTooLarge means a file is over MaxBytes.
	ErrTooLarge = errors.New("trajectory file too large")
)

// MaxBytes bounds the size of one trajectory file: each is read whole
// (trimming needs each track's end before its start can be written), and
// rewriting one takes many times its size in memory (the README gives
// figures).
const MaxBytes = 128 << 20

// Stats says what happened to one file.
type Stats struct {
	Format Format `json:"format"`
	Tracks int    `json:"tracks"`
	// Points is how many positions were read, Kept how many were written
	// (in NMEA, each position sentence counts: a GGA and an RMC of one fix
	// are two).
	Points int `json:"points_in"`
	Kept   int `json:"points_out"`
	// Discarded counts records removed because they held positions that
	// could not be rewritten: NMEA sentences of unknown types or with bad
	// checksums, CSV rows with unreadable coordinates.
	Discarded int `json:"records_discarded,omitempty"`
}

// candidates maps extensions to the format they may hold. Some are only
// candidates: a .log is NMEA only if its lines are NMEA sentences, a CSV
// or JSON file is a trajectory only if it has lat/lon columns or keys.
var candidates = map[string]Format{
	".gpx": GPX, ".kml": KML, ".nmea": NMEA, ".nma": NMEA, ".log": NMEA, ".txt": NMEA,
	".csv": CSV, ".tsv": CSV, ".json": JSON, ".geojson": JSON, ".srt": SRT,
}

// IsCandidate reports whether a file name may be a trajectory, so that its
// content is worth a look (FormatOf decides).
func IsCandidate(name string) bool {
	_, ok := candidates[strings.ToLower(filepath.Ext(name))]
	return ok
}

// SniffLen is how many first bytes FormatOf wants to see.
const SniffLen = 64 << 10

// FormatOf decides a file's format from its name and first bytes (up to
// SniffLen). It returns an error wrapping ErrUnknownFormat when the file is
// not a trajectory this package handles.
func FormatOf(name string, head []byte) (Format, error) {
	ext := strings.ToLower(filepath.Ext(name))
	f, ok := candidates[ext]
	if !ok {
		return "", fmt.Errorf("%w: %q files are not read as trajectories", ErrUnknownFormat, ext)
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	switch f {
	case GPX:
		if !xmlRoot(head, "gpx") {
			return "", fmt.Errorf("%w: %s has no <gpx> root", ErrUnknownFormat, ext)
		}
	case KML:
		if !xmlRoot(head, "kml") {
			return "", fmt.Errorf("%w: %s has no <kml> root", ErrUnknownFormat, ext)
		}
	case NMEA:
		if !looksNMEA(head) {
			return "", fmt.Errorf("%w: lines are not NMEA 0183 sentences", ErrUnknownFormat)
		}
	case CSV:
		if _, _, err := csvColumns(head, ext); err != nil {
			return "", err
		}
	case JSON:
		if !jsonHasPositions.Match(head) {
			return "", fmt.Errorf("%w: no lat/lon keys or GeoJSON coordinates", ErrUnknownFormat)
		}
	case SRT:
		if !looksDJI(head) {
			return "", fmt.Errorf("%w: subtitles without positions", ErrUnknownFormat)
		}
	}
	return f, nil
}

var xmlRootRe = regexp.MustCompile(`<([A-Za-z_][\w.-]*:)?(gpx|kml)[\s>/]`)

// xmlRoot reports whether an XML head opens an element called root (with
// any prefix).
func xmlRoot(head []byte, root string) bool {
	for _, m := range xmlRootRe.FindAllSubmatch(head, -1) {
		if string(m[2]) == root {
			return true
		}
	}
	return false
}

var jsonHasPositions = regexp.MustCompile(`(?i)"(coordinates|lat|latitude)"\s*:`)

// Desensitize reads a trajectory of the given format from r and writes it
// to w as the policy says, keeping every other part of the file. With Drop
// it writes nothing. Errors wrap ErrMalformed, ErrUnsupported,
// ErrOutOfRange or ErrTooLarge; w may then hold part of an output, which
// the caller must discard.
func Desensitize(r io.Reader, w io.Writer, format Format, p Policy) (Stats, error) {
	st := Stats{Format: format}
	if err := p.Validate(); err != nil {
		return st, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return st, err
	}
	if len(data) > MaxBytes {
		return st, fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxBytes)
	}
	var out []byte
	switch format {
	case GPX:
		out, err = gpx(data, p, &st)
	case KML:
		out, err = kml(data, p, &st)
	case NMEA:
		out, err = nmea(data, p, &st)
	case CSV:
		out, err = csvFile(data, p, &st)
	case JSON:
		out, err = jsonFile(data, p, &st)
	case SRT:
		out, err = srt(data, p, &st)
	default:
		return st, fmt.Errorf("%w: %q", ErrUnknownFormat, format)
	}
	if err != nil {
		return st, err
	}
	if p.mode() == Drop {
		st.Kept = 0
		return st, nil
	}
	_, err = w.Write(out)
	return st, err
}

// track gathers the points of one track as a format finds them, with
// whatever the format needs to rewrite each (ref).
type track[R any] struct {
	pts  []point
	refs []R
}

func (t *track[R]) add(pt point, ref R) {
	t.pts = append(t.pts, pt)
	t.refs = append(t.refs, ref)
}

// run applies the policy to every track, in order, and calls fn for each
// point with its new position and whether it is kept.
func run[R any](p Policy, st *Stats, tracks []*track[R], fn func(ref R, pt point, keep bool) error) error {
	for _, t := range tracks {
		if len(t.pts) == 0 {
			continue
		}
		st.Tracks++
		st.Points += len(t.pts)
		keep, err := p.apply(t.pts)
		if err != nil {
			return err
		}
		for i, ref := range t.refs {
			if keep[i] {
				st.Kept++
			}
			if err := fn(ref, t.pts[i], keep[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// fmtDeg writes degrees to 1e-7 (about a centimetre), without trailing
// zeros.
func fmtDeg(v float64) string {
	s := strconv.FormatFloat(v, 'f', 7, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// parseDeg reads a decimal degree value and checks its range.
func parseDeg(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || v < -limit || v > limit {
		return 0, false
	}
	return v, true
}

// timeLayouts are the written forms of times that are rounded, tried in
// order; the output keeps the form it was read in.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// roundTimeText rounds a written time and writes it back in its own form.
// ok is false when the text is not a time this package reads.
func (p Policy) roundTimeText(s string) (string, bool) {
	txt := strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, txt)
		if err != nil {
			continue
		}
		return strings.Replace(s, txt, p.roundTime(t).Format(layout), 1), true
	}
	return s, false
}

// dateOnly matches the bare dates and year-months that KML and some CSVs
// write: coarser than any time rounding, so they are left as written.
var dateOnly = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)
