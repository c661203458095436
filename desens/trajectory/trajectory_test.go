package trajectory

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/desens/desens/internal/testenv"
)

// sample is a committed test file, with what an independent reader (written
// here, not the package's own parser) finds in it.
type sample struct {
	file   string
	format Format
	tracks int // as the package counts them
	points int
}

var samples = []sample{
	{"two_tracks.gpx", GPX, 3, 22}, // a waypoint, a track of two segments, a track
	{"drive.nmea", NMEA, 1, 24},    // GGA and RMC of 12 fixes
	{"drive.kml", KML, 4, 23},      // LookAt, a Point, a LineString, a gx:Track
	{"drive.csv", CSV, 1, 12},
	{"drive.geojson", JSON, 2, 13},
	{"points.json", JSON, 1, 9},
	{"dji_gps.srt", SRT, 2, 13},   // GPS(...) per cue, and the HOME point
	{"dji_latlon.srt", SRT, 1, 9}, // [latitude] [longitude] per cue
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "trajectory", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pt is a point as the test's own readers see it.
type pt struct {
	lat, lon float64
	time     string // "" if none
}

// readPoints reads the tracks of a file with readers independent of the
// package: encoding/xml, encoding/csv, encoding/json and a checksum-checking
// NMEA reader.
func readPoints(t *testing.T, f Format, data []byte, lenient bool) [][]pt {
	t.Helper()
	switch f {
	case GPX:
		var doc struct {
			Wpt []gpxPt `xml:"wpt"`
			Trk []struct {
				Seg []struct {
					Pt []gpxPt `xml:"trkpt"`
				} `xml:"trkseg"`
			} `xml:"trk"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("output is not GPX: %v", err)
		}
		var out [][]pt
		for _, w := range doc.Wpt {
			out = append(out, []pt{w.pt()})
		}
		for _, tr := range doc.Trk {
			var ps []pt
			for _, s := range tr.Seg {
				for _, p := range s.Pt {
					ps = append(ps, p.pt())
				}
			}
			out = append(out, ps)
		}
		return out
	case KML:
		return readKML(t, data)
	case NMEA:
		var ps []pt
		for i, l := range strings.Split(strings.TrimRight(string(data), "\r\n"), "\n") {
			l = strings.TrimRight(l, "\r")
			star := strings.LastIndexByte(l, '*')
			if !strings.HasPrefix(l, "$") || star < 0 {
				t.Fatalf("line %d is not a sentence: %q", i+1, l)
			}
			var x byte
			for _, c := range []byte(l[1:star]) {
				x ^= c
			}
			if got, want := strings.ToUpper(l[star+1:]), fmt.Sprintf("%02X", x); got != want {
				if !lenient {
					t.Errorf("line %d: checksum %s, want %s: %q", i+1, got, want, l)
				}
				continue // a reader skips it
			}
			f := strings.Split(l[1:star], ",")
			k := map[string]int{"GGA": 2, "RMC": 3}[f[0][2:]]
			if k == 0 || f[k] == "" {
				continue
			}
			deg := func(v, h string, dd int) float64 {
				d, _ := strconv.Atoi(v[:dd])
				m, _ := strconv.ParseFloat(v[dd:], 64)
				x := float64(d) + m/60
				if h == "S" || h == "W" {
					x = -x
				}
				return x
			}
			ps = append(ps, pt{deg(f[k], f[k+1], 2), deg(f[k+2], f[k+3], 3), f[1]})
		}
		return [][]pt{ps}
	case CSV:
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("output is not CSV: %v", err)
		}
		var ps []pt
		for _, r := range rows[1:] {
			if r[1] == "" {
				continue
			}
			ps = append(ps, pt{atof(t, r[1]), atof(t, r[2]), r[0]})
		}
		return [][]pt{ps}
	case JSON:
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		var out [][]pt
		if fs, ok := doc["features"].([]any); ok {
			for _, f := range fs {
				f := f.(map[string]any)
				g, _ := f["geometry"].(map[string]any)
				if g == nil {
					out = append(out, nil) // a Point trimmed away
					continue
				}
				props := f["properties"].(map[string]any)
				switch g["type"] {
				case "Point":
					c := g["coordinates"].([]any)
					out = append(out, []pt{{c[1].(float64), c[0].(float64), props["time"].(string)}})
				case "LineString":
					times := props["coordTimes"].([]any)
					var ps []pt
					for i, c := range g["coordinates"].([]any) {
						c := c.([]any)
						ps = append(ps, pt{c[1].(float64), c[0].(float64), times[i].(string)})
					}
					out = append(out, ps)
				}
			}
			return out
		}
		var ps []pt
		for _, s := range doc["samples"].([]any) {
			s := s.(map[string]any)
			ps = append(ps, pt{s["lat"].(float64), s["lng"].(float64), s["ts"].(string)})
		}
		return [][]pt{ps}
	case SRT:
		return readSRT(t, data)
	}
	t.Fatalf("no reader for %s", f)
	return nil
}

var (
	testSRTTime = regexp.MustCompile(`(\d{4})[.-](\d\d)[.-](\d\d) (\d\d:\d\d:\d\d(\.\d+)?)`)
	testSRTGPS  = regexp.MustCompile(`GPS\(([^,]+),([^,]+),`)
	testSRTHome = regexp.MustCompile(`HOME\(([^,]+),([^)]+)\)`)
	testSRTLL   = regexp.MustCompile(`\[latitude: ([^\]]+)\] \[longitude: ([^\]]+)\]`)
)

// readSRT reads cues (number, timing, text) and their positions: the
// drone's track, and the HOME point as a track of its own.
func readSRT(t *testing.T, data []byte) [][]pt {
	t.Helper()
	var ps, home []pt
	for i, b := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(b) == "" {
			continue
		}
		lines := strings.Split(strings.Trim(b, "\n"), "\n")
		if _, err := strconv.Atoi(lines[0]); err != nil || len(lines) < 3 || !strings.Contains(lines[1], " --> ") {
			t.Fatalf("cue %d is not SubRip: %q", i+1, b)
		}
		when := ""
		if m := testSRTTime.FindStringSubmatch(b); m != nil {
			when = m[1] + "-" + m[2] + "-" + m[3] + "T" + m[4] + "Z"
		}
		if m := testSRTGPS.FindStringSubmatch(b); m != nil {
			ps = append(ps, pt{atof(t, m[2]), atof(t, m[1]), when})
		}
		if m := testSRTLL.FindStringSubmatch(b); m != nil {
			ps = append(ps, pt{atof(t, m[1]), atof(t, m[2]), when})
		}
		if m := testSRTHome.FindStringSubmatch(b); m != nil && home == nil {
			home = []pt{{atof(t, m[2]), atof(t, m[1]), ""}}
		}
	}
	if home != nil {
		return [][]pt{ps, home}
	}
	return [][]pt{ps}
}

type gpxPt struct {
	Lat  float64 `xml:"lat,attr"`
	Lon  float64 `xml:"lon,attr"`
	Time string  `xml:"time"`
}

func (p gpxPt) pt() pt { return pt{p.Lat, p.Lon, p.Time} }

func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readKML reads coordinates lists, gx:Tracks and LookAt positions with a
// namespace-aware decoder.
func readKML(t *testing.T, data []byte) [][]pt {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var out [][]pt
	var text strings.Builder
	var gx []pt
	var whens []string
	var look pt
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("output is not KML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			text.Reset()
			if e.Name.Local == "Track" {
				gx, whens = nil, nil
			}
		case xml.CharData:
			text.Write(e)
		case xml.EndElement:
			s := strings.TrimSpace(text.String())
			switch e.Name.Local {
			case "coordinates":
				var ps []pt
				for _, tup := range strings.Fields(s) {
					f := strings.Split(tup, ",")
					ps = append(ps, pt{lat: atof(t, f[1]), lon: atof(t, f[0])})
				}
				out = append(out, ps)
			case "coord":
				f := strings.Fields(s)
				gx = append(gx, pt{lat: atof(t, f[1]), lon: atof(t, f[0])})
			case "when":
				whens = append(whens, s)
			case "Track":
				if len(whens) != len(gx) {
					t.Fatalf("gx:Track with %d when for %d coords", len(whens), len(gx))
				}
				for i := range gx {
					gx[i].time = whens[i]
				}
				out = append(out, gx)
			case "longitude":
				look.lon = atof(t, s)
			case "latitude":
				look.lat = atof(t, s)
			case "LookAt":
				out = append(out, []pt{look})
			}
		}
	}
}

func flatten(tr [][]pt) []pt {
	var out []pt
	for _, ps := range tr {
		out = append(out, ps...)
	}
	return out
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		head       string
		want       Format
		err        error
	}{
		{"GPX by name and root", "a.GPX", `<?xml version="1.0"?><gpx version="1.1">`, GPX, nil},
		{"a .gpx that is not GPX is unknown", "a.gpx", `<html>`, "", ErrUnknownFormat},
		{"KML with a prefix", "a.kml", `<kml:kml xmlns:kml="http://www.opengis.net/kml/2.2">`, KML, nil},
		{"a .log of NMEA sentences", "gps.log", "$GPGGA,080107.00,3113.8240,N,12128.4220,E,1,08,0.9,4.0,M,8.4,M,,*59\r\n", NMEA, nil},
		{"a .log of anything else is unknown", "app.log", "2026-01-01 started\n", "", ErrUnknownFormat},
		{"a .log with one bad line is unknown", "gps.log", "$GPGGA,080107.00,3113.8240,N,12128.4220,E,1,08,0.9,4.0,M,8.4,M,,*59\nboot ok\n", "", ErrUnknownFormat},
		{"CSV with lat/lon columns", "t.csv", "Time;GPS_Latitude;GPS_Longitude\n", CSV, nil},
		{"CSV without them is unknown", "t.csv", "a,b,c\n1,2,3\n", "", ErrUnknownFormat},
		{"CSV with a position column it cannot pair is refused", "t.csv", "time,lat,lon,home_location\n", "", ErrUnsupported},
		{"longitudinal acceleration is not a longitude", "t.csv", "t,lat,lon,longitudinal_accel\n", CSV, nil},
		{"a position column without lat/lon is no trajectory", "t.csv", "t,throttle_position,home_location\n", "", ErrUnknownFormat},
		{"throttle position is not a place", "t.csv", "t,lat,lon,throttle_position\n", CSV, nil},
		{"JSON with lat keys", "p.json", `[{"lat": 31.2, "lon": 121.4}]`, JSON, nil},
		{"JSON without positions is unknown", "cfg.json", `{"fps": 30}`, "", ErrUnknownFormat},
		{"a KMZ (zipped) is unknown", "a.kmz", "PK\x03\x04", "", ErrUnknownFormat},
		{"a DJI SRT with positions", "DJI_0001.SRT", "1\n00:00:00,000 --> 00:00:01,000\nGPS (121.4, 31.2, 18)\n", SRT, nil},
		{"film subtitles are unknown", "film.srt", "1\n00:00:01,000 --> 00:00:04,000\nWhere are we going?\n", "", ErrUnknownFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FormatOf(tc.file, []byte(tc.head))
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Errorf("FormatOf(%q) = %q, %v; want %q, %v", tc.file, got, err, tc.want, tc.err)
			}
		})
	}
	for _, s := range samples {
		if got, err := FormatOf(s.file, readSample(t, s.file)); got != s.format || err != nil {
			t.Errorf("FormatOf(%s) = %q, %v", s.file, got, err)
		}
	}
}

func TestDrop(t *testing.T) {
	for _, s := range samples {
		var out bytes.Buffer
		st, err := Desensitize(bytes.NewReader(readSample(t, s.file)), &out, s.format, Policy{})
		if err != nil || out.Len() != 0 || st.Kept != 0 {
			t.Errorf("%s: drop wrote %d bytes, kept %d, err %v", s.file, out.Len(), st.Kept, err)
		}
	}
}

// desensitize runs a policy on a sample and checks what every policy
// promises: the stats add up, the output parses with a reader of its own,
// and nothing outside positions and times was lost.
func desensitize(t *testing.T, s sample, p Policy) (in, out [][]pt, data []byte, st Stats) {
	t.Helper()
	src := readSample(t, s.file)
	var buf bytes.Buffer
	st, err := Desensitize(bytes.NewReader(src), &buf, s.format, p)
	if err != nil {
		t.Fatal(err)
	}
	in, out = readPoints(t, s.format, src, true), readPoints(t, s.format, buf.Bytes(), false)
	if got := len(flatten(in)); got != s.points {
		t.Fatalf("the test's reader finds %d points in the sample, want %d", got, s.points)
	}
	if s.format != NMEA && (st.Points != s.points || st.Tracks != s.tracks) {
		t.Errorf("stats %+v, want %d points in %d tracks", st, s.points, s.tracks)
	}
	if s.format != NMEA && st.Kept != len(flatten(out)) {
		t.Errorf("stats say %d points kept, the output has %d", st.Kept, len(flatten(out)))
	}
	if p.mode() != Trim && len(flatten(out)) != len(flatten(in)) {
		t.Errorf("%s changed the number of points: %d -> %d", p, len(flatten(in)), len(flatten(out)))
	}
	if s.format == NMEA && st.Discarded != 2 {
		t.Errorf("NMEA: %d sentences discarded, want 2 ($PUBX and one with a bad checksum)", st.Discarded)
	}
	return in, out, buf.Bytes(), st
}

// tolerance is how far a written position may be from the exact one: 1e-7
// degrees in decimal formats, 1e-4 minutes in NMEA.
const tolerance = 0.25 // metres

func TestCoarsen(t *testing.T) {
	for _, grid := range []float64{100, 1000} {
		p := Policy{Mode: Coarsen, GridMetres: grid, TimeRound: time.Minute}
		for _, s := range samples {
			t.Run(s.file+"/"+strconv.Itoa(int(grid)), func(t *testing.T) {
				in, out, _, _ := desensitize(t, s, p)
				fi, fo := flatten(in), flatten(out)
				for i, o := range fo {
					latStep, lonStep := GridSteps(grid, o.lat)
					if d := math.Abs(o.lat-math.Round(o.lat/latStep)*latStep) * MetresPerDegree; d > tolerance {
						t.Errorf("point %d: latitude %.7f is %.2f m off the grid", i, o.lat, d)
					}
					if d := math.Abs(o.lon-math.Round(o.lon/lonStep)*lonStep) * MetresPerDegree * math.Cos(o.lat*math.Pi/180); d > tolerance {
						t.Errorf("point %d: longitude %.7f is %.2f m off the grid", i, o.lon, d)
					}
					// A snapped point stays in its cell: at most half a
					// diagonal away.
					if d := Distance(fi[i].lat, fi[i].lon, o.lat, o.lon); d > grid*math.Sqrt2/2+tolerance {
						t.Errorf("point %d moved %.0f m on a %g m grid", i, d, grid)
					}
					if o.time != "" && !wholeMinute(o.time) {
						t.Errorf("point %d: time %q not rounded to the minute", i, o.time)
					}
				}
				distinct := map[[2]float64]bool{}
				for _, o := range fo {
					distinct[[2]float64{math.Round(o.lat * 1e5), math.Round(o.lon * 1e5)}] = true
				}
				if grid == 1000 && len(distinct) > 3 {
					t.Errorf("%d distinct places on a 1 km grid for a 1 km drive", len(distinct))
				}
			})
		}
	}
}

// wholeMinute reports whether a written time is on a whole minute: RFC
// 3339 or NMEA hhmmss.ss.
func wholeMinute(s string) bool {
	if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return tm.Equal(tm.Truncate(time.Minute))
	}
	if len(s) >= 6 && !strings.Contains(s, "-") {
		sec, err := strconv.ParseFloat(s[4:], 64)
		return err == nil && sec == 0
	}
	return false
}

func TestOffset(t *testing.T) {
	for _, vec := range [][2]float64{{250, -1200}, {-3000, 40}} {
		p := Policy{Mode: Offset, OffsetEast: vec[0], OffsetNorth: vec[1]}
		for _, s := range samples {
			t.Run(fmt.Sprintf("%s/%v", s.file, vec), func(t *testing.T) {
				in, out, _, _ := desensitize(t, s, p)
				fi, fo := flatten(in), flatten(out)
				want := math.Hypot(vec[0], vec[1])
				for i, o := range fo {
					north := (o.lat - fi[i].lat) * MetresPerDegree
					east := (o.lon - fi[i].lon) * MetresPerDegree * math.Cos(fi[i].lat*math.Pi/180)
					if math.Abs(north-vec[1]) > tolerance || math.Abs(east-vec[0]) > tolerance {
						t.Errorf("point %d moved %.2f m east, %.2f m north; want %v", i, east, north, vec)
					}
					if d := Distance(fi[i].lat, fi[i].lon, o.lat, o.lon); math.Abs(d-want) > want*0.001+tolerance {
						t.Errorf("point %d moved %.1f m, want %.1f", i, d, want)
					}
					if o.time != fi[i].time {
						t.Errorf("point %d: time %q changed to %q", i, fi[i].time, o.time)
					}
				}
			})
		}
	}
}

func TestTrim(t *testing.T) {
	for _, metres := range []float64{100, 250} {
		p := Policy{Mode: Trim, TrimMetres: metres}
		for _, s := range samples {
			t.Run(s.file+"/"+p.String(), func(t *testing.T) {
				in, out, _, _ := desensitize(t, s, p)
				// Exactly the points at least metres from both ends along
				// the path remain, untouched; tracks keep their order.
				var want []pt
				for _, tr := range in {
					along := make([]float64, len(tr))
					for i := 1; i < len(tr); i++ {
						along[i] = along[i-1] + Distance(tr[i-1].lat, tr[i-1].lon, tr[i].lat, tr[i].lon)
					}
					for i, q := range tr {
						if along[i] >= metres && along[len(tr)-1]-along[i] >= metres {
							want = append(want, q)
						}
					}
				}
				got := flatten(out)
				if len(got) != len(want) {
					t.Fatalf("%d points left, want %d", len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("point %d is %+v, want %+v", i, got[i], want[i])
					}
				}
				if len(want) == 0 || len(want) == len(flatten(in)) {
					t.Errorf("the sample does not exercise trimming: %d of %d points left", len(want), len(flatten(in)))
				}
			})
		}
	}
}

// TestKeepsTheRest checks the parts that are not positions: namespaces,
// extensions, comments and layout survive; bounding boxes and sentences
// that could not be rewritten do not.
func TestKeepsTheRest(t *testing.T) {
	p := Policy{Mode: Offset, OffsetEast: 500, OffsetNorth: 500}
	for _, tc := range []struct {
		file    string
		keep    []string
		dropped []string
	}{
		{"two_tracks.gpx", []string{`xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"`,
			`creator="DashCam X2 &amp; friends"`, "<gpxtpx:speed>12.5</gpxtpx:speed>", "<!-- signal lost in the tunnel -->",
			"<name>Home</name>", "<ele>4.5</ele>", "<time>2026-03-14T08:01:14.40Z</time>"},
			[]string{"<bounds", "31.2304", "121.4737"}},
		{"drive.kml", []string{`xmlns:gx="http://www.google.com/kml/ext/2.2"`, "<range>1200</range>", "<when>2026-03-14T17:31:07.00Z</when>"},
			[]string{"<Region>", "LatLonAltBox", "31.2304", "121.4737"}},
		{"drive.nmea", []string{"$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39\r\n", "$GPVTG,054.2,T,034.4,M,024.3,N,045.0,K,A*27\r\n"},
			[]string{"$PUBX", "*00", "3113.8240"}},
		{"drive.geojson", []string{`"name": "Drive 1"`, `"coordTimes": [`}, []string{"bbox", "31.2304", "121.4737"}},
		{"drive.csv", []string{"timestamp,latitude,longitude,speed_kmh,longitudinal_accel\n", ",,45,0.5\n"}, []string{"31.2304", "121.4737"}},
		{"dji_gps.srt", []string{"00:00:01,000 --> 00:00:02,000\r\n", " 2026.03.14 08:01:14\r\n", ",18) BAROMETER:4.5\r\n", "ISO:100 Shutter:500 EV:0 Fnum:2.8\r\n"}, []string{"31.2304", "121.4737"}},
		{"dji_latlon.srt", []string{`<font size="28">FrameCnt: 2, DiffTime: 33ms`, "[focal_len: 240] [latitude: ", "] [rel_alt: 1.200 abs_alt: 25.123] </font>"}, []string{"31.2381", "121.4799"}},
		{"points.json", []string{`{"device":"cam-7","samples":[{"ts":"2026-03-14T17:31:07.00Z","lat":`}, []string{"31.2381,"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, _ := FormatOf(tc.file, readSample(t, tc.file))
			var out bytes.Buffer
			if _, err := Desensitize(bytes.NewReader(readSample(t, tc.file)), &out, f, p); err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.keep {
				if !bytes.Contains(out.Bytes(), []byte(k)) {
					t.Errorf("lost %q", k)
				}
			}
			for _, d := range tc.dropped {
				if bytes.Contains(out.Bytes(), []byte(d)) {
					t.Errorf("still holds %q", d)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		in     string
		p      Policy
		err    error
	}{
		{"a policy that moves nothing", GPX, `<gpx/>`, Policy{Mode: Offset}, nil},
		{"coarsen without a grid", GPX, `<gpx/>`, Policy{Mode: Coarsen}, nil},
		{"trim without metres", GPX, `<gpx/>`, Policy{Mode: Trim}, nil},
		{"an unknown mode", GPX, `<gpx/>`, Policy{Mode: "blur"}, nil},
		{"unclosed GPX", GPX, `<gpx><trk><trkseg><trkpt lat="1" lon="2">`, Policy{Mode: Trim, TrimMetres: 10}, ErrMalformed},
		{"mismatched tags", GPX, `<gpx><trk></gpx></trk>`, Policy{Mode: Trim, TrimMetres: 10}, ErrMalformed},
		{"latitude out of range", GPX, `<gpx><wpt lat="91" lon="2"/></gpx>`, Policy{Mode: Trim, TrimMetres: 10}, ErrMalformed},
		{"lat without lon", GPX, `<gpx><wpt lat="31"/></gpx>`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"a time that cannot be rounded", GPX, `<gpx><wpt lat="31" lon="121"><time>yesterday</time></wpt></gpx>`, Policy{Mode: Coarsen, GridMetres: 100, TimeRound: time.Minute}, ErrUnsupported},
		{"an offset past the pole", GPX, `<gpx><wpt lat="89.99" lon="2"/></gpx>`, Policy{Mode: Offset, OffsetNorth: 5000}, ErrOutOfRange},
		{"a gx:Track with more coords than times", KML, `<kml><gx:Track><when>2026-01-01T00:00:00Z</when><gx:coord>1 2 3</gx:coord><gx:coord>1 2 3</gx:coord></gx:Track></kml>`, Policy{Mode: Trim, TrimMetres: 10}, ErrMalformed},
		{"a KML tuple with a space after the comma", KML, `<kml><Point><coordinates>121.4, 31.2</coordinates></Point></kml>`, Policy{Mode: Trim, TrimMetres: 10}, ErrMalformed},
		{"CSV with two latitude columns", CSV, "lat,lon,gps_lat\n1,2,3\n", Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"JSON with a geohash", JSON, `[{"lat":1,"lon":2,"geohash":"wtw3sj"}]`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"JSON with a lone latitude", JSON, `{"home":{"latitude":31.2}}`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"JSON coordinates of a type that is no geometry", JSON, `{"lat":1,"lon":2,"car":{"type":"sedan","coordinates":[[1,2]]}}`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"JSON coordinates outside GeoJSON", JSON, `{"lat":1,"lon":2,"route":{"coordinates":[[1,2]]}}`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"JSON with an unnamed [lon, lat] route beside named points", JSON, `{"start":{"lat":31.2,"lon":121.4},"route":[[121.4,31.2],[121.5,31.3]]}`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"JSON with an encoded polyline", JSON, `{"lat":31.2,"lon":121.4,"overview_polyline":"_p~iF~ps|U_ulLnnqC"}`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnsupported},
		{"JSON with no positions at all", JSON, `{"fps": 30}`, Policy{Mode: Trim, TrimMetres: 10}, ErrUnknownFormat},
		{"JSON with a trailing second value", JSON, `[{"lat":1,"lon":2}] []`, Policy{Mode: Trim, TrimMetres: 10}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Desensitize(strings.NewReader(tc.in), &out, tc.format, tc.p)
			if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Errorf("err %v, want %v", err, tc.err)
			}
		})
	}
}

func TestNMEATimeRoundsThroughMidnight(t *testing.T) {
	body := "GPRMC,235959.60,A,3113.8240,N,12128.4220,E,24.3,54.2,311226,,,A"
	in := "$" + body + "*" + strings.ToUpper(strconv.FormatUint(uint64(nmeaChecksum(body))|0x100, 16)[1:]) + "\n"
	var out bytes.Buffer
	if _, err := Desensitize(strings.NewReader(in), &out, NMEA, Policy{Mode: Coarsen, GridMetres: 10, TimeRound: time.Second}); err != nil {
		t.Fatal(err)
	}
	f, _, ok := parseSentence(strings.TrimSpace(out.String()))
	if !ok {
		t.Fatalf("bad sentence %q", out.String())
	}
	if f[1] != "000000.00" || f[9] != "010127" {
		t.Errorf("time %s date %s, want 000000.00 on 010127", f[1], f[9])
	}
}

// TestRealReaders has gpsbabel, the usual converter for these formats,
// read every output back.
func TestRealReaders(t *testing.T) {
	if _, err := exec.LookPath("gpsbabel"); err != nil {
		testenv.Missing(t, "gpsbabel", err)
	}
	policies := []Policy{
		{Mode: Coarsen, GridMetres: 250, TimeRound: time.Minute},
		{Mode: Offset, OffsetEast: 700, OffsetNorth: -300},
		{Mode: Trim, TrimMetres: 150},
	}
	for _, s := range samples {
		in := map[Format]string{GPX: "gpx", NMEA: "nmea", KML: "kml"}[s.format]
		if in == "" {
			continue
		}
		for _, p := range policies {
			t.Run(s.file+"/"+p.String(), func(t *testing.T) {
				_, out, data, _ := desensitize(t, s, p)
				f := filepath.Join(t.TempDir(), s.file)
				if err := os.WriteFile(f, data, 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command("gpsbabel", "-t", "-i", in, "-f", f, "-o", "unicsv", "-F", "-")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				res, err := cmd.Output()
				if err != nil || stderr.Len() > 0 {
					t.Fatalf("gpsbabel: %v: %s", err, stderr.String())
				}
				rows, err := csv.NewReader(bytes.NewReader(res)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				want := len(flatten(out))
				switch s.format {
				case GPX: // a waypoint is not a track point
					want -= bytes.Count(data, []byte("<wpt "))
				case NMEA: // GGA and RMC of one time are one point
					times := map[string]bool{}
					for _, q := range flatten(out) {
						times[q.time] = true
					}
					want = len(times)
				case KML: // gpsbabel reads lines and tracks, not a Point or a LookAt
					want -= bytes.Count(data, []byte("<Point>")) + bytes.Count(data, []byte("<LookAt>"))
				}
				if len(rows)-1 != want {
					t.Errorf("gpsbabel reads %d track points, want %d", len(rows)-1, want)
				}
			})
		}
	}
}

// TestKMLParallelLists trims a gx:Track whose points carry angles and
// extended data: each list loses the same points as the coords.
func TestKMLParallelLists(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Placemark><gx:Track>`)
	const n = 10
	for i := range n {
		fmt.Fprintf(&b, "<when>2026-03-14T08:00:%02dZ</when>", i)
	}
	for i := range n {
		fmt.Fprintf(&b, "<gx:coord>121.%04d 31.2304 0</gx:coord><gx:angles>%d 0 0</gx:angles>", 4737+i*10, i)
	}
	b.WriteString(`<ExtendedData><SchemaData schemaUrl="#s"><gx:SimpleArrayData name="hr">`)
	for i := range n {
		fmt.Fprintf(&b, "<gx:value>%d</gx:value>", 100+i)
	}
	b.WriteString(`</gx:SimpleArrayData></SchemaData></ExtendedData></gx:Track></Placemark></kml>`)
	var out bytes.Buffer
	st, err := Desensitize(strings.NewReader(b.String()), &out, KML, Policy{Mode: Trim, TrimMetres: 250})
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	counts := []int{strings.Count(s, "<when>"), strings.Count(s, "<gx:coord>"), strings.Count(s, "<gx:angles>"), strings.Count(s, "<gx:value>")}
	for _, c := range counts {
		if c != st.Kept || st.Kept == 0 || st.Kept == n {
			t.Fatalf("when, coord, angles, value counts %v; %d of %d points kept", counts, st.Kept, n)
		}
	}
	if strings.Contains(s, "<gx:value>100</gx:value>") || strings.Contains(s, ">0 0 0<") {
		t.Error("the first point's values survived its trimming")
	}
	// A list that does not match the points cannot be trimmed with them.
	bad := strings.Replace(b.String(), "<gx:value>100</gx:value>", "", 1)
	if _, err := Desensitize(strings.NewReader(bad), io.Discard, KML, Policy{Mode: Trim, TrimMetres: 250}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("mismatched gx:SimpleArrayData: %v, want ErrUnsupported", err)
	}
}

// TestErrorsHoldNoPositions: errors end up in reports next to the
// outputs, so they name bytes, rows and keys, never coordinates.
func TestErrorsHoldNoPositions(t *testing.T) {
	trim := Policy{Mode: Trim, TrimMetres: 10}
	for _, tc := range []struct {
		format Format
		in     string
		p      Policy
	}{
		{GPX, `<gpx><wpt lat="31.2304x" lon="121.4737"/></gpx>`, trim},
		{KML, `<kml><Point><coordinates>121.4737,31.2304,0,7</coordinates></Point></kml>`, trim},
		{KML, `<kml><gx:Track><gx:coord>121.4737</gx:coord></gx:Track></kml>`, trim},
		{KML, `<kml><LookAt><longitude>121.4737</longitude><latitude>91.2304</latitude></LookAt></kml>`, trim},
		{JSON, `{"lat":"31.2304","lon":"121.4737x"}`, trim},
		{JSON, `{"type":"Point","coordinates":[121.4737,"31.2304"]}`, trim},
		{GPX, `<gpx><wpt lat="89.99999" lon="121.4737"/></gpx>`, Policy{Mode: Offset, OffsetNorth: 31230}},
	} {
		_, err := Desensitize(strings.NewReader(tc.in), io.Discard, tc.format, tc.p)
		if err == nil {
			t.Errorf("%s accepted", tc.in)
			continue
		}
		for _, c := range []string{"121.47", "31.23", "89.99"} {
			if strings.Contains(err.Error(), c) {
				t.Errorf("error %q gives %s away", err, c)
			}
		}
	}
}

// TestNMEATrailingData: text after a sentence's checksum is not part of the
// sentence, so no reader checks it; the line goes.
func TestNMEATrailingData(t *testing.T) {
	in := "$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39 31.2304,121.4737\r\n$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39\r\n"
	var out bytes.Buffer
	st, err := Desensitize(strings.NewReader(in), &out, NMEA, Policy{Mode: Trim, TrimMetres: 10})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "31.2304") || st.Discarded != 1 || strings.Count(out.String(), "$GPGSA") != 1 {
		t.Errorf("out %q, %d discarded", out.String(), st.Discarded)
	}
}

// TestJSONNestedPoints: samples whose position sits in a sub-object form
// one track with their array, and trimming removes whole samples.
func TestJSONNestedPoints(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"samples":[`)
	for i := range 10 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"t":%d,"gps":{"latitude":31.2304,"longitude":%.4f},"speed":12}`, 1773475200+i, 121.4737+float64(i)*0.001)
	}
	b.WriteString(`]}`)
	var out bytes.Buffer
	st, err := Desensitize(strings.NewReader(b.String()), &out, JSON, Policy{Mode: Trim, TrimMetres: 250})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Samples []map[string]any }
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if st.Tracks != 1 || st.Kept == 0 || st.Kept == 10 || len(doc.Samples) != st.Kept {
		t.Fatalf("stats %+v, %d samples left: %s", st, len(doc.Samples), out.String())
	}
	for _, s := range doc.Samples {
		if s["gps"] == nil || s["t"] == nil {
			t.Errorf("sample cut in part: %v", s)
		}
	}
}

// TestSRTReadBack has ffprobe, which reads SubRip as players do, count the
// cues of each output.
func TestSRTReadBack(t *testing.T) {
	testenv.FFmpeg(t)
	for _, s := range samples {
		if s.format != SRT {
			continue
		}
		for _, p := range []Policy{{Mode: Coarsen, GridMetres: 250, TimeRound: time.Minute}, {Mode: Offset, OffsetEast: 700}, {Mode: Trim, TrimMetres: 150}} {
			t.Run(s.file+"/"+p.String(), func(t *testing.T) {
				_, out, data, _ := desensitize(t, s, p)
				f := filepath.Join(t.TempDir(), "out.srt")
				if err := os.WriteFile(f, data, 0o644); err != nil {
					t.Fatal(err)
				}
				res, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0", f).Output()
				if err != nil {
					t.Fatalf("ffprobe: %v", err)
				}
				if n := len(strings.Fields(string(res))); n != len(out[0]) {
					t.Errorf("ffprobe reads %d cues, want %d", n, len(out[0]))
				}
			})
		}
	}
}

func TestSRTTimes(t *testing.T) {
	p := Policy{Mode: Coarsen, GridMetres: 100, TimeRound: time.Minute}
	for in, want := range map[string]string{
		"2017.08.05 14:11:51":         "2017.08.05 14:12:00",
		"2021-06-12 10:31:24.467":     "2021-06-12 10:31:00",
		"2021-05-09 14:59:41,035,487": "2021-05-09 15:00:00",
		"2021-05-09 23:59:31,035":     "2021-05-10 00:00:00",
	} {
		if got := srtTime.ReplaceAllStringFunc("x "+in+" y", p.roundSRTTime); got != "x "+want+" y" {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}
