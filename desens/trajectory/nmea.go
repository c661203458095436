package trajectory

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// NMEA 0183 logs are one sentence a line: $TTSSS,f1,f2,...*hh. The whole
// log is one track. Sentences are handled by type:
//
//   - GGA, RMC, GLL, GNS carry a position: it is rewritten (or the
//     sentence removed) and the checksum computed again;
//   - GSA, GSV, VTG, ZDA, TXT carry none and are kept (times rounded);
//   - every other sentence, proprietary ($P...) and encapsulated (!AIVDM)
//     ones included, may carry a position this package cannot rewrite, and
//     is removed, as is any line that is not a sentence with a good
//     checksum. Stats.Discarded counts them.

// nmeaFields says where a sentence type keeps its position and time.
type nmeaFields struct{ lat, time, date int } // lat, N/S, lon, E/W from lat on; -1: none

var nmeaTypes = map[string]nmeaFields{
	"GGA": {lat: 2, time: 1, date: -1},
	"RMC": {lat: 3, time: 1, date: 9},
	"GLL": {lat: 1, time: 5, date: -1},
	"GNS": {lat: 2, time: 1, date: -1},
	"GSA": {lat: -1, time: -1, date: -1},
	"GSV": {lat: -1, time: -1, date: -1},
	"VTG": {lat: -1, time: -1, date: -1},
	"TXT": {lat: -1, time: -1, date: -1},
	"ZDA": {lat: -1, time: 1, date: -1}, // day, month, year in 2, 3, 4
}

// looksNMEA reports whether the complete lines of head are all NMEA
// sentences (at least one).
func looksNMEA(head []byte) bool {
	lines := bytes.Split(head, []byte("\n"))
	if len(head) == SniffLen && len(lines) > 1 {
		lines = lines[:len(lines)-1] // cut short
	}
	n := 0
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if !nmeaShape.Match(l) {
			return false
		}
		n++
	}
	return n > 0
}

// nmeaShape is what a sentence looks like, checksum aside: a log with a
// damaged sentence is still a log (the damaged one is removed).
var nmeaShape = regexp.MustCompile(`^[$!][A-Z0-9]{3,}[,*]`)

// parseSentence splits a sentence into fields (the address first) and
// checks its checksum.
func parseSentence(line string) ([]string, string, bool) {
	if len(line) < 9 || (line[0] != '$' && line[0] != '!') {
		return nil, "", false
	}
	star := strings.LastIndexByte(line, '*')
	if star < 0 || len(line) < star+3 {
		return nil, "", false
	}
	want, err := strconv.ParseUint(line[star+1:star+3], 16, 8)
	if err != nil || uint64(nmeaChecksum(line[1:star])) != want {
		return nil, "", false
	}
	if strings.TrimSpace(line[star+3:]) != "" {
		return nil, "", false // something after the checksum rides along unchecked
	}
	f := strings.Split(line[1:star], ",")
	if len(f[0]) < 3 {
		return nil, "", false
	}
	for _, c := range f[0] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return nil, "", false
		}
	}
	return f, line[star+3:], true
}

func nmeaChecksum(body string) byte {
	var x byte
	for i := 0; i < len(body); i++ {
		x ^= body[i]
	}
	return x
}

type nmeaLine struct {
	text, eol string
	fields    []string // nil: kept as it is
	kind      nmeaFields
	drop      bool
	pt        point
	keep      bool
	hasPos    bool
}

func nmea(data []byte, p Policy, st *Stats) ([]byte, error) {
	var lines []*nmeaLine
	t := &track[*nmeaLine]{}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		raw := data
		if i >= 0 {
			raw, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		text := strings.TrimRight(string(raw), "\r\n")
		l := &nmeaLine{text: text, eol: string(raw[len(text):])}
		lines = append(lines, l)
		if strings.TrimSpace(text) == "" {
			continue
		}
		f, _, ok := parseSentence(strings.TrimSpace(text))
		if !ok || f[0][0] == 'P' || text[0] == '!' || len(f[0]) != 5 {
			l.drop = true
			continue
		}
		kind, ok := nmeaTypes[f[0][2:]]
		if !ok {
			l.drop = true
			continue
		}
		l.fields, l.kind = f, kind
		if kind.lat < 0 {
			continue
		}
		if len(f) <= kind.lat+3 {
			l.drop = true
			continue
		}
		if f[kind.lat] == "" && f[kind.lat+2] == "" {
			continue // no fix
		}
		lat, ok1 := nmeaDeg(f[kind.lat], f[kind.lat+1], "N", "S", 90)
		lon, ok2 := nmeaDeg(f[kind.lat+2], f[kind.lat+3], "E", "W", 180)
		if !ok1 || !ok2 {
			l.drop = true
			continue
		}
		l.hasPos = true
		t.add(point{Lat: lat, Lon: lon}, l)
	}
	err := run(p, st, []*track[*nmeaLine]{t}, func(l *nmeaLine, pt point, keep bool) error {
		l.pt, l.keep = pt, keep
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, l := range lines {
		if l.drop {
			st.Discarded++
			continue
		}
		if l.fields == nil {
			out.WriteString(l.text + l.eol)
			continue
		}
		if l.hasPos && !l.keep {
			continue
		}
		changed := false
		f := l.fields
		if l.hasPos && p.moves() {
			k := l.kind.lat
			f[k], f[k+1] = nmeaFormat(l.pt.Lat, 2, decimals(f[k]), "N", "S")
			f[k+2], f[k+3] = nmeaFormat(l.pt.Lon, 3, decimals(f[k+2]), "E", "W")
			changed = true
		}
		if p.roundsTimes() && l.kind.time >= 0 && len(f) > l.kind.time && f[l.kind.time] != "" {
			if !p.roundNMEATime(f, l.kind) {
				st.Discarded++ // an exact time that cannot be rounded
				continue
			}
			changed = true
		}
		if !changed {
			out.WriteString(l.text + l.eol)
			continue
		}
		body := strings.Join(f, ",")
		fmt.Fprintf(&out, "$%s*%02X%s", body, nmeaChecksum(body), l.eol)
	}
	return out.Bytes(), nil
}

// nmeaDeg reads ddmm.mmmm (or dddmm.mmmm) and a hemisphere letter.
func nmeaDeg(v, hemi, pos, neg string, limit float64) (float64, bool) {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 {
		return 0, false
	}
	deg := math.Floor(x / 100)
	min := x - deg*100
	if min >= 60 {
		return 0, false
	}
	d := deg + min/60
	switch hemi {
	case pos:
	case neg:
		d = -d
	default:
		return 0, false
	}
	if d < -limit || d > limit {
		return 0, false
	}
	return d, true
}

func decimals(v string) int {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		return len(v) - i - 1
	}
	return 0
}

// nmeaFormat writes degrees as d..dmm.mmmm with at least 4 decimals of a
// minute (0.2 m), more if the input had more.
func nmeaFormat(v float64, degDigits, dec int, pos, neg string) (string, string) {
	dec = min(max(dec, 4), 8)
	hemi := pos
	if v < 0 {
		hemi, v = neg, -v
	}
	scale := math.Pow(10, float64(dec))
	total := math.Round(v * 60 * scale) // in units of 10^-dec minutes
	deg := math.Floor(total / (60 * scale))
	min := (total - deg*60*scale) / scale
	return fmt.Sprintf("%0*d%0*.*f", degDigits, int(deg), dec+3, dec, min), hemi
}

// roundNMEATime rounds a sentence's hhmmss.ss time, with its date when it
// has one (RMC ddmmyy, ZDA dd,mm,yyyy) so that rounding past midnight
// turns the date too. It reports false when the time cannot be read.
func (p Policy) roundNMEATime(f []string, k nmeaFields) bool {
	ts := f[k.time]
	if len(ts) < 6 {
		return false
	}
	h, err1 := strconv.Atoi(ts[0:2])
	m, err2 := strconv.Atoi(ts[2:4])
	s, err3 := strconv.ParseFloat(ts[4:], 64)
	if err1 != nil || err2 != nil || err3 != nil || h > 23 || m > 59 || s >= 61 {
		return false
	}
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	hasDate := false
	typ := f[0][2:]
	switch {
	case typ == "RMC" && len(f) > k.date && len(f[k.date]) == 6:
		d, err := time.Parse("020106", f[k.date])
		if err != nil {
			return false
		}
		day, hasDate = d, true
	case typ == "ZDA" && len(f) > 4 && f[2] != "":
		d, err := time.Parse("02 01 2006", f[2]+" "+f[3]+" "+f[4])
		if err != nil {
			return false
		}
		day, hasDate = d, true
	}
	t := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s*float64(time.Second)+0.5))
	t = p.roundTime(t)
	dec := decimals(ts)
	clock := t.Format("150405")
	if dec > 0 {
		clock += fmt.Sprintf(".%0*d", dec, t.Nanosecond()/int(math.Pow10(9-min(dec, 9))))
	}
	f[k.time] = clock
	if hasDate {
		if typ == "RMC" {
			f[k.date] = t.Format("020106")
		} else {
			f[2], f[3], f[4] = t.Format("02"), t.Format("01"), t.Format("2006")
		}
	}
	return true
}
