package trajectory

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// CSV (and TSV) files are a trajectory when their header names one
// latitude and one longitude column (lat, latitude, gps_lat, lon, lng,
// long, longitude, ...). All rows form one track. Columns whose names
// speak of time (time, timestamp, gps_time, ...) are rounded with
// Coarsen. A file with any other column that sounds like a position
// (coordinates, geohash, easting, a second latitude...) is refused: it
// cannot be desensitized and must not pass as if it were.

var (
	latNames = words("lat latitude gpslat gpslatitude latdeg latitudedeg latitudedegrees")
	lonNames = words("lon lng long longitude gpslon gpslng gpslong gpslongitude londeg longitudedeg longitudedegrees")
	// positionWords in a column or key name mean it may hold a position.
	// ("position" is left out: in vehicle logs it is throttle, pedal or
	// steering position far more often than a place.)
	positionWords = words("lat latitude lon lng longitude coord coords coordinate coordinates geohash wkt geom geometry easting northing location polyline")
	// pathWords in a JSON key mean that arrays of numbers under it may be
	// [lon, lat] pairs without names.
	pathWords = words("path route track trajectory trace waypoint waypoints gps points")
	timeWords = words("time timestamp datetime ts")
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// nameWords splits a column or key name into lower-case words:
// "GPS_Latitude" and "gpsLatitude" both give gps, latitude.
func nameWords(name string) []string {
	var ws []string
	var cur []rune
	prevLower := false
	for _, r := range name {
		switch {
		case unicode.IsUpper(r) && prevLower:
			ws = append(ws, string(cur))
			cur = []rune{unicode.ToLower(r)}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, unicode.ToLower(r))
		default:
			if len(cur) > 0 {
				ws = append(ws, string(cur))
			}
			cur = nil
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	if len(cur) > 0 {
		ws = append(ws, string(cur))
	}
	return ws
}

// fieldRole says what a column or key holds: 'a' latitude, 'o' longitude,
// 't' a time, 'p' a position of a kind not handled, 0 nothing of note.
func fieldRole(name string) byte {
	ws := nameWords(name)
	joined := strings.Join(ws, "")
	switch {
	case latNames[joined]:
		return 'a'
	case lonNames[joined]:
		return 'o'
	}
	for _, w := range ws {
		if positionWords[w] {
			return 'p'
		}
	}
	for _, w := range ws {
		if timeWords[w] {
			return 't'
		}
	}
	return 0
}

// csvComma picks the delimiter from the header line.
func csvComma(head []byte, ext string) rune {
	if ext == ".tsv" {
		return '\t'
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	best, comma := -1, ','
	for _, c := range []rune{',', ';', '\t'} {
		if n := bytes.Count(line, []byte(string(c))); n > best {
			best, comma = n, c
		}
	}
	return comma
}

type csvCols struct {
	lat, lon int
	times    []int
}

// csvColumns finds the position columns in a header.
func csvColumns(head []byte, ext string) (csvCols, rune, error) {
	comma := csvComma(head, ext)
	line, _, _ := bytes.Cut(head, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(line))
	r.Comma = comma
	header, err := r.Read()
	if err != nil {
		return csvCols{}, comma, fmt.Errorf("%w: no CSV header: %v", ErrUnknownFormat, err)
	}
	return csvHeader(header, comma)
}

func csvHeader(header []string, comma rune) (csvCols, rune, error) {
	c := csvCols{lat: -1, lon: -1}
	other := "" // a column that may hold positions in another form
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		switch fieldRole(h) {
		case 'a':
			if c.lat >= 0 {
				return c, comma, fmt.Errorf("%w: two latitude columns (%q, %q)", ErrUnsupported, header[c.lat], h)
			}
			c.lat = i
		case 'o':
			if c.lon >= 0 {
				return c, comma, fmt.Errorf("%w: two longitude columns (%q, %q)", ErrUnsupported, header[c.lon], h)
			}
			c.lon = i
		case 'p':
			if other == "" {
				other = h
			}
		case 't':
			c.times = append(c.times, i)
		}
	}
	if c.lat < 0 || c.lon < 0 {
		if c.lat >= 0 || c.lon >= 0 {
			return c, comma, fmt.Errorf("%w: a latitude or a longitude column without the other", ErrUnsupported)
		}
		return c, comma, fmt.Errorf("%w: no latitude and longitude columns in the CSV header", ErrUnknownFormat)
	}
	if other != "" {
		return c, comma, fmt.Errorf("%w: column %q may hold positions this format cannot rewrite", ErrUnsupported, other)
	}
	return c, comma, nil
}

func csvFile(data []byte, p Policy, st *Stats) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	comma := csvComma(data, "")
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: empty CSV", ErrMalformed)
	}
	cols, _, err := csvHeader(rows[0], comma)
	if err != nil {
		return nil, err
	}
	t := &track[int]{}
	dropRow := make([]bool, len(rows))
	for i, row := range rows[1:] {
		i++
		if len(row) <= max(cols.lat, cols.lon) {
			dropRow[i] = true
			continue
		}
		la, lo := strings.TrimSpace(row[cols.lat]), strings.TrimSpace(row[cols.lon])
		if la == "" && lo == "" {
			continue // no fix
		}
		lat, ok1 := parseDeg(la, 90)
		lon, ok2 := parseDeg(lo, 180)
		if !ok1 || !ok2 {
			dropRow[i] = true
			continue
		}
		t.add(point{Lat: lat, Lon: lon}, i)
	}
	keepRow := make([]bool, len(rows))
	for i := range keepRow {
		keepRow[i] = !dropRow[i]
	}
	err = run(p, st, []*track[int]{t}, func(i int, pt point, keep bool) error {
		keepRow[i] = keep
		if keep && p.moves() {
			rows[i][cols.lat], rows[i][cols.lon] = fmtDeg(pt.Lat), fmtDeg(pt.Lon)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	w.Comma = comma
	w.UseCRLF = bytes.Contains(firstLine(data), []byte("\r"))
	for i, row := range rows {
		if dropRow[i] {
			st.Discarded++
			continue
		}
		if !keepRow[i] {
			continue
		}
		if i > 0 && p.roundsTimes() {
			for _, c := range cols.times {
				if c >= len(row) {
					continue
				}
				v, ok := p.roundTimeValue(row[c])
				if !ok {
					return nil, fmt.Errorf("%w: row %d: %s %q is not a time that can be rounded", ErrUnsupported, i+1, rows[0][c], row[c])
				}
				row[c] = v
			}
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return out.Bytes(), w.Error()
}

func firstLine(data []byte) []byte {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return append(line, '\n')
}

// roundTimeValue rounds a time written as text (RFC 3339 and the like) or
// as Unix seconds or milliseconds; empty values and bare dates are left.
func (p Policy) roundTimeValue(s string) (string, bool) {
	txt := strings.TrimSpace(s)
	if txt == "" || dateOnly.MatchString(txt) {
		return s, true
	}
	if v, ok := p.roundTimeText(s); ok {
		return v, true
	}
	x, err := strconv.ParseFloat(txt, 64)
	if err != nil || x < 1e8 || math.IsInf(x, 0) {
		return s, false
	}
	unit := time.Second
	if x >= 1e11 {
		unit = time.Millisecond
	}
	t := time.Unix(0, 0).Add(time.Duration(x * float64(unit)))
	r := float64(p.roundTime(t).UnixNano()) / float64(unit)
	if !strings.ContainsAny(txt, ".eE") {
		return strconv.FormatInt(int64(math.Round(r)), 10), true
	}
	return strconv.FormatFloat(r, 'f', -1, 64), true
}
