package trajectory

import (
	"fmt"
	"strings"
)

// kml desensitizes a KML 2.2 file. Each <coordinates> list (Point,
// LineString, LinearRing, gx:LatLonQuad) is a track of lon,lat[,alt]
// tuples; each gx:Track is a track of gx:coord "lon lat alt" points whose
// <when> siblings go with them; the longitude/latitude pair of a LookAt,
// Camera or Location is a one-point track. Region, LatLonBox and
// LatLonAltBox, which box in where the data is, are removed. Times (when,
// begin, end) are rounded.
func kml(data []byte, p Policy, st *Stats) ([]byte, error) {
	var es edits
	var tracks []*track[kmlRef]
	var lists []*kmlList
	gxTracks := map[*xelem]*kmlGxTrack{}
	var gxOrder []*kmlGxTrack
	gxOf := func(tr *xelem) *kmlGxTrack {
		g := gxTracks[tr]
		if g == nil {
			g = &kmlGxTrack{arrays: map[*xelem][]*xelem{}}
			gxTracks[tr] = g
			gxOrder = append(gxOrder, g)
		}
		return g
	}
	err := scanXML(data, func(e *xelem) error {
		switch e.local {
		case "coordinates":
			if !e.simple {
				return fmt.Errorf("%w: <coordinates> at byte %d holds more than text", ErrUnsupported, e.start)
			}
			l, t, err := parseCoordinates(e)
			if err != nil {
				return err
			}
			lists = append(lists, l)
			tracks = append(tracks, t)
		case "coord":
			tr := e.within("Track")
			if tr == nil || !e.simple {
				return fmt.Errorf("%w: <%s> at byte %d outside a gx:Track", ErrUnsupported, e.local, e.start)
			}
			f := strings.Fields(e.text.String())
			if len(f) < 2 {
				return fmt.Errorf("%w: <gx:coord> at byte %d is not lon lat alt", ErrMalformed, e.start)
			}
			lon, ok1 := parseDeg(f[0], 180)
			lat, ok2 := parseDeg(f[1], 90)
			if !ok1 || !ok2 {
				return fmt.Errorf("%w: <gx:coord> at byte %d is not lon lat alt", ErrMalformed, e.start)
			}
			g := gxOf(tr)
			g.t.add(point{Lat: lat, Lon: lon}, kmlRef{elem: e, rest: f[2:], gx: g, i: len(g.coords)})
			g.coords = append(g.coords, e)
		case "angles":
			if tr := e.within("Track"); tr != nil && e.parent == tr {
				g := gxOf(tr)
				g.angles = append(g.angles, e)
			}
		case "value":
			// gx:SimpleArrayData in a gx:Track: one value per point.
			if a := e.parent; a != nil && a.local == "SimpleArrayData" {
				if tr := e.within("Track"); tr != nil {
					g := gxOf(tr)
					if _, ok := g.arrays[a]; !ok {
						g.arrayOrder = append(g.arrayOrder, a)
					}
					g.arrays[a] = append(g.arrays[a], e)
				}
			}
		case "when", "begin", "end":
			if tr := e.within("Track"); tr != nil && e.local == "when" && e.parent == tr {
				g := gxOf(tr)
				g.whens = append(g.whens, e)
			}
			return es.roundTimeElem(p, e)
		case "longitude", "latitude":
			if e.parent == nil {
				return fmt.Errorf("%w: <%s> at the root", ErrMalformed, e.local)
			}
			if e.parent.local == "LatLonBox" || e.parent.local == "LatLonAltBox" {
				return nil
			}
			other := map[string]string{"longitude": "latitude", "latitude": "longitude"}[e.local]
			if _, ok := e.parent.kids[other]; !ok {
				return nil // the parent's end checks the pair
			}
			lonE, latE := e.parent.kids["longitude"], e.parent.kids["latitude"]
			lon, ok1 := parseDeg(lonE.text.String(), 180)
			lat, ok2 := parseDeg(latE.text.String(), 90)
			if !ok1 || !ok2 {
				return fmt.Errorf("%w: <%s> at byte %d: longitude or latitude out of range", ErrMalformed, e.parent.local, e.parent.start)
			}
			t := &track[kmlRef]{}
			t.add(point{Lat: lat, Lon: lon}, kmlRef{elem: e.parent, lonE: lonE, latE: latE})
			tracks = append(tracks, t)
		case "Region", "LatLonBox", "LatLonAltBox":
			es.remove(e)
		default:
			if e.kids != nil && (e.kids["longitude"] != nil) != (e.kids["latitude"] != nil) {
				return fmt.Errorf("%w: <%s> at byte %d has only one of longitude and latitude", ErrUnsupported, e.local, e.start)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, g := range gxOrder {
		if len(g.whens) != 0 && len(g.whens) != len(g.coords) {
			return nil, fmt.Errorf("%w: gx:Track with %d <when> and %d <gx:coord>", ErrMalformed, len(g.whens), len(g.coords))
		}
		for i := range g.t.refs {
			if len(g.whens) > 0 {
				g.t.refs[i].when = g.whens[i]
			}
		}
		tracks = append(tracks, &g.t)
	}
	err = run(p, st, tracks, func(r kmlRef, pt point, keep bool) error {
		switch {
		case r.tuple != nil:
			r.tuple.pt, r.tuple.keep = pt, keep
		case !keep:
			es.remove(r.elem)
			if r.when != nil {
				es.remove(r.when)
			}
			if r.gx != nil {
				r.gx.removed = append(r.gx.removed, r.i)
			}
		case !p.moves():
		case r.lonE != nil:
			es.setText(r.lonE, fmtDeg(pt.Lon))
			es.setText(r.latE, fmtDeg(pt.Lat))
		default:
			es.setText(r.elem, strings.Join(append([]string{fmtDeg(pt.Lon), fmtDeg(pt.Lat)}, r.rest...), " "))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, g := range gxOrder {
		if err := g.removeParallel(&es); err != nil {
			return nil, err
		}
	}
	for _, l := range lists {
		if g := l.elem.parent; l.empty() && g != nil && (g.local == "Point" || g.local == "LineString") {
			es.remove(g) // a Placemark may have no geometry; a Point may not be empty
			continue
		}
		es.setText(l.elem, l.text(p.moves()))
	}
	return es.apply(data), nil
}

// kmlRef is where a KML point lives: a tuple of a coordinates list, a
// gx:coord (with its when), or a longitude/latitude pair.
type kmlRef struct {
	tuple      *kmlTuple
	elem       *xelem
	when       *xelem
	rest       []string // altitude of a gx:coord
	lonE, latE *xelem
	gx         *kmlGxTrack // the gx:Track of a gx:coord, and its index there
	i          int
}

type kmlGxTrack struct {
	coords, whens []*xelem
	t             track[kmlRef]
	// Per-point values beside the coords: gx:angles, and the gx:value
	// lists of each gx:SimpleArrayData (heart rate, speed...).
	angles     []*xelem
	arrays     map[*xelem][]*xelem
	arrayOrder []*xelem
	removed    []int // indexes of points trimmed away
}

// removeParallel removes the angles and array values of trimmed points. A
// list whose length does not match the points cannot be trimmed with
// them, and the file is refused.
func (g *kmlGxTrack) removeParallel(es *edits) error {
	if len(g.removed) == 0 {
		return nil
	}
	lists := [][]*xelem{g.angles}
	for _, a := range g.arrayOrder {
		lists = append(lists, g.arrays[a])
	}
	for _, l := range lists {
		if len(l) == 0 {
			continue
		}
		if len(l) != len(g.coords) {
			return fmt.Errorf("%w: a gx:Track list of %d values for %d points", ErrUnsupported, len(l), len(g.coords))
		}
		for _, i := range g.removed {
			es.remove(l[i])
		}
	}
	return nil
}

// kmlList is a <coordinates> text split into tuples, with the whitespace
// before each, so that it can be written back in the same layout.
type kmlList struct {
	elem   *xelem
	tuples []*kmlTuple
	tail   string
}

type kmlTuple struct {
	sep, text string
	rest      []string // altitude
	pt        point
	keep      bool
}

func parseCoordinates(e *xelem) (*kmlList, *track[kmlRef], error) {
	s := e.text.String()
	l := &kmlList{elem: e}
	t := &track[kmlRef]{}
	for {
		i := strings.IndexFunc(s, func(r rune) bool { return !isKMLSpace(r) })
		if i < 0 {
			l.tail = s
			break
		}
		j := strings.IndexFunc(s[i:], isKMLSpace)
		if j < 0 {
			j = len(s) - i
		}
		tup := &kmlTuple{sep: s[:i], text: s[i : i+j], keep: true}
		s = s[i+j:]
		f := strings.Split(tup.text, ",")
		if len(f) < 2 || len(f) > 3 {
			return nil, nil, fmt.Errorf("%w: <coordinates> at byte %d: tuple %d is not lon,lat[,alt]", ErrMalformed, e.start, len(l.tuples)+1)
		}
		lon, ok1 := parseDeg(f[0], 180)
		lat, ok2 := parseDeg(f[1], 90)
		if !ok1 || !ok2 {
			return nil, nil, fmt.Errorf("%w: <coordinates> at byte %d: tuple %d is out of range", ErrMalformed, e.start, len(l.tuples)+1)
		}
		tup.rest = f[2:]
		l.tuples = append(l.tuples, tup)
		t.add(point{Lat: lat, Lon: lon}, kmlRef{tuple: tup})
	}
	return l, t, nil
}

func isKMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func (l *kmlList) empty() bool {
	for _, t := range l.tuples {
		if t.keep {
			return false
		}
	}
	return true
}

// text writes the list back: kept tuples with their own separators (the
// first kept one takes the list's leading whitespace), moved or not.
func (l *kmlList) text(moved bool) string {
	var b strings.Builder
	first := true
	for _, t := range l.tuples {
		if !t.keep {
			continue
		}
		sep := t.sep
		if first {
			sep = l.tuples[0].sep
			first = false
		}
		b.WriteString(sep)
		if moved {
			b.WriteString(strings.Join(append([]string{fmtDeg(t.pt.Lon), fmtDeg(t.pt.Lat)}, t.rest...), ","))
		} else {
			b.WriteString(t.text)
		}
	}
	b.WriteString(l.tail)
	return b.String()
}
