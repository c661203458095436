package trajectory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// JSON files are a trajectory in two shapes, which may mix:
//
//   - GeoJSON geometries ({"type": "LineString", "coordinates": [...]}):
//     each LineString, MultiPoint and ring or line of the Multi* and
//     Polygon types is a track, a Point a track of one; a Feature's
//     properties.coordTimes (as written by GPS converters) go with the
//     points. Every "bbox" is removed.
//   - objects with a latitude and a longitude key (lat/lon, latitude/lng,
//     ...), numbers or numeric strings: the objects of one array form a
//     track, any other such object is a track of one.
//
// Keys whose names speak of time are rounded with Coarsen. A key that
// sounds like a position but is neither (a lone latitude, "geohash",
// "position": [..]) makes the file refused. Key order and values are kept;
// the layout is compact, or indented when the input was.

// jnode is a JSON value that keeps its object keys in order.
type jnode struct {
	kind  byte // '{', '[', 's', 'n', 'b', '0' (null)
	keys  []string
	vals  []*jnode // object members or array elements
	str   string   // a string, number literal or "true"/"false"
	gone  bool     // removed by the policy
	taken bool     // a key this package handled (for the refusal check)
}

func parseJSON(data []byte) (*jnode, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	n, err := parseValue(d, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return n, nil
}

const maxJSONDepth = 1000

func parseValue(d *json.Decoder, depth int) (*jnode, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &jnode{kind: byte(t)}
		if t != '{' && t != '[' {
			return nil, fmt.Errorf("unexpected delimiter at byte %d", d.InputOffset())
		}
		for d.More() {
			if t == '{' {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := parseValue(d, depth+1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		if _, err := d.Token(); err != nil {
			return nil, err
		}
		return n, nil
	case string:
		return &jnode{kind: 's', str: t}, nil
	case json.Number:
		return &jnode{kind: 'n', str: t.String()}, nil
	case bool:
		return &jnode{kind: 'b', str: strconv.FormatBool(t)}, nil
	case nil:
		return &jnode{kind: '0'}, nil
	}
	return nil, fmt.Errorf("unexpected token at byte %d", d.InputOffset())
}

func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *jnode) write(b *bytes.Buffer) {
	switch n.kind {
	case '{', '[':
		b.WriteByte(n.kind)
		first := true
		for i, v := range n.vals {
			if v.gone {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			if n.kind == '{' {
				writeJSONString(b, n.keys[i])
				b.WriteByte(':')
			}
			v.write(b)
		}
		if n.kind == '{' {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
	case 's':
		writeJSONString(b, n.str)
	case '0':
		b.WriteString("null")
	default:
		b.WriteString(n.str)
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	var sb bytes.Buffer
	e := json.NewEncoder(&sb)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	b.Write(bytes.TrimSuffix(sb.Bytes(), []byte("\n")))
}

// number reads a number or numeric string.
func (n *jnode) number(limit float64) (float64, bool) {
	if n == nil || (n.kind != 'n' && n.kind != 's') {
		return 0, false
	}
	return parseDeg(n.str, limit)
}

// setNumber writes v where n was, as a number or a string like n.
func (n *jnode) setNumber(s string) { n.str = s }

// jref is where a JSON point lives.
type jref struct {
	lat, lon *jnode // the values to rewrite
	node     *jnode // what trimming removes
	time     *jnode // a parallel time (coordTimes), removed with it
	// nullify: removing the point makes node (a Point geometry) null, as
	// GeoJSON writes a Feature without a place.
	nullify bool
}

var geoTypes = map[string]int{ // depth of position nesting in "coordinates"
	"Point": 0, "LineString": 1, "MultiPoint": 1, "Polygon": 2, "MultiLineString": 2, "MultiPolygon": 3,
}

func jsonFile(data []byte, p Policy, st *Stats) ([]byte, error) {
	root, err := parseJSON(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if err != nil {
		return nil, err
	}
	var tracks []*track[jref]
	other := "" // a key that may hold positions in another form
	// walk finds points under n. Objects of one array form a track; a
	// point nested in such an object ({"gps": {"lat": ..}, "t": ..}) is in
	// it too, and trimming removes the array element (elem) whole.
	var walk func(n *jnode, arrayTrack *track[jref], elem *jnode) error
	walk = func(n *jnode, arrayTrack *track[jref], elem *jnode) error {
		switch n.kind {
		case '[':
			var t *track[jref]
			for _, v := range n.vals {
				if v.kind == '{' {
					if t == nil {
						t = &track[jref]{}
						tracks = append(tracks, t)
					}
					if err := walk(v, t, v); err != nil {
						return err
					}
				} else if err := walk(v, nil, nil); err != nil {
					return err
				}
			}
			return nil
		case '{':
		default:
			return nil
		}
		if typ := n.get("type"); typ != nil && typ.kind == 's' {
			if depth, ok := geoTypes[typ.str]; ok {
				if err := geometry(n, depth, &tracks); err != nil {
					return err
				}
			}
			if g := n.get("geometry"); typ.str == "Feature" && g != nil && g.kind == '{' {
				before := len(tracks)
				if err := walk(g, nil, nil); err != nil {
					return err
				}
				g.taken = true
				if err := featureTimes(p, n, tracks[before:]); err != nil {
					return err
				}
			}
		}
		var lat, lon *jnode
		for i, k := range n.keys {
			v := n.vals[i]
			switch {
			case k == "bbox" && v.kind == '[':
				v.gone, v.taken = true, true
				continue
			case v.taken:
				continue
			}
			switch fieldRole(k) {
			case 'a':
				if lat != nil {
					return fmt.Errorf("%w: two latitude keys in one object", ErrUnsupported)
				}
				lat = v
			case 'o':
				if lon != nil {
					return fmt.Errorf("%w: two longitude keys in one object", ErrUnsupported)
				}
				lon = v
			case 't':
				if p.roundsTimes() && (v.kind == 's' || v.kind == 'n') {
					s, ok := p.roundTimeValue(v.str)
					if !ok {
						return fmt.Errorf("%w: %q: %q is not a time that can be rounded", ErrUnsupported, k, v.str)
					}
					v.str = s
				}
			case 'p':
				if k == "geometry" || k == "geometries" {
					break // walked below (a geometry's coordinates are taken)
				}
				if other == "" {
					other = k
				}
			}
			at, el := arrayTrack, elem
			if v.kind != '{' {
				at, el = nil, nil // an array below starts tracks of its own
			}
			if err := walk(v, at, el); err != nil {
				return err
			}
		}
		if lat == nil && lon == nil {
			return nil
		}
		la, ok1 := lat.number(90)
		lo, ok2 := lon.number(180)
		if !ok1 || !ok2 {
			if lat == nil || lon == nil || !(lat.kind == '0' && lon.kind == '0') {
				return fmt.Errorf("%w: an object whose latitude and longitude are not a pair of numbers", ErrUnsupported)
			}
			return nil // null, null: no fix
		}
		t := arrayTrack
		if t == nil {
			t = &track[jref]{}
			tracks = append(tracks, t)
		}
		node := n
		if elem != nil {
			node = elem
		}
		t.add(point{Lat: la, Lon: lo}, jref{lat: lat, lon: lon, node: node})
		return nil
	}
	if err := walk(root, nil, nil); err != nil {
		return nil, err
	}
	if len(tracks) == 0 {
		return nil, fmt.Errorf("%w: no positions found", ErrUnknownFormat)
	}
	if k := unnamedPairs(root, false, ""); k != "" && other == "" {
		other = k
	}
	if other != "" {
		return nil, fmt.Errorf("%w: key %q may hold positions this format cannot rewrite", ErrUnsupported, other)
	}
	err = run(p, st, tracks, func(r jref, pt point, keep bool) error {
		switch {
		case !keep && r.nullify:
			r.node.kind = '0'
		case !keep:
			r.node.gone = true
			if r.time != nil {
				r.time.gone = true
			}
		case p.moves():
			r.lat.setNumber(fmtDeg(pt.Lat))
			r.lon.setNumber(fmtDeg(pt.Lon))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	root.write(&out)
	if bytes.Contains(bytes.TrimSpace(data), []byte("\n")) {
		var ind bytes.Buffer
		if err := json.Indent(&ind, out.Bytes(), "", indentOf(data)); err != nil {
			return nil, err
		}
		ind.WriteByte('\n')
		return ind.Bytes(), nil
	}
	return out.Bytes(), nil
}

// indentOf guesses the indent of a pretty-printed document from its second
// line.
func indentOf(data []byte) string {
	_, rest, _ := bytes.Cut(data, []byte("\n"))
	i := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
		i++
	}
	if i == 0 {
		return "  "
	}
	return string(rest[:i])
}

// geometry collects the tracks of a GeoJSON geometry.
func geometry(g *jnode, depth int, tracks *[]*track[jref]) error {
	c := g.get("coordinates")
	if c == nil {
		return fmt.Errorf("%w: GeoJSON geometry without coordinates", ErrMalformed)
	}
	c.taken = true
	var lines []*jnode // arrays of positions
	var collect func(n *jnode, d int) error
	collect = func(n *jnode, d int) error {
		if n.kind != '[' {
			return fmt.Errorf("%w: GeoJSON coordinates nested wrongly", ErrMalformed)
		}
		if d == 1 {
			lines = append(lines, n)
			return nil
		}
		for _, v := range n.vals {
			if err := collect(v, d-1); err != nil {
				return err
			}
		}
		return nil
	}
	if depth == 0 {
		lines = []*jnode{{kind: '[', vals: []*jnode{c}}}
	} else if err := collect(c, depth); err != nil {
		return err
	}
	for _, l := range lines {
		t := &track[jref]{}
		for _, pos := range l.vals {
			if pos.kind != '[' || len(pos.vals) < 2 {
				return fmt.Errorf("%w: GeoJSON position is not [lon, lat]", ErrMalformed)
			}
			lon, ok1 := pos.vals[0].number(180)
			lat, ok2 := pos.vals[1].number(90)
			if !ok1 || !ok2 || pos.vals[0].kind != 'n' || pos.vals[1].kind != 'n' {
				return fmt.Errorf("%w: a GeoJSON position out of range or not numbers", ErrMalformed)
			}
			r := jref{lat: pos.vals[1], lon: pos.vals[0], node: pos}
			if depth == 0 {
				r.node, r.nullify = g, true
			}
			t.add(point{Lat: lat, Lon: lon}, r)
		}
		*tracks = append(*tracks, t)
	}
	return nil
}

// featureTimes pairs a Feature's properties.coordTimes (or times) with the
// points of its geometry, so that trimming removes both and Coarsen rounds
// them: one list for a single line, a list of lists for several.
func featureTimes(p Policy, f *jnode, tracks []*track[jref]) error {
	props := f.get("properties")
	if props == nil || props.kind != '{' {
		return nil
	}
	for i, k := range props.keys {
		if k != "coordTimes" && k != "times" {
			continue
		}
		v := props.vals[i]
		v.taken = true
		lists := []*jnode{v}
		if v.kind == '[' && len(v.vals) > 0 && v.vals[0].kind == '[' {
			lists = v.vals
		}
		if v.kind != '[' || len(lists) != len(tracks) {
			return fmt.Errorf("%w: properties.%s does not match the geometry's lines", ErrUnsupported, k)
		}
		for j, l := range lists {
			t := tracks[j]
			if l.kind != '[' || len(l.vals) != len(t.refs) {
				return fmt.Errorf("%w: properties.%s has %d times for %d points", ErrUnsupported, k, len(l.vals), len(t.refs))
			}
			for n, tv := range l.vals {
				t.refs[n].time = tv
				if p.roundsTimes() && (tv.kind == 's' || tv.kind == 'n') {
					s, ok := p.roundTimeValue(tv.str)
					if !ok {
						return fmt.Errorf("%w: %s: %q is not a time that can be rounded", ErrUnsupported, k, tv.str)
					}
					tv.str = s
				}
			}
		}
	}
	return nil
}

// unnamedPairs looks for arrays of two or more numbers that nothing took
// as positions, under a key that speaks of paths or routes ("route":
// [[121.47, 31.23], ...]): such a file is refused rather than passed on
// half desensitized. It returns the key.
func unnamedPairs(n *jnode, underPath bool, key string) string {
	if n.taken || n.gone {
		return ""
	}
	if n.kind == '[' && underPath && len(n.vals) >= 2 && n.vals[0].kind == 'n' && n.vals[1].kind == 'n' {
		return key
	}
	for i, v := range n.vals {
		k, under := key, underPath
		if n.kind == '{' {
			k = n.keys[i]
			for _, w := range nameWords(k) {
				under = under || pathWords[w]
			}
		}
		if found := unnamedPairs(v, under, k); found != "" {
			return found
		}
	}
	return ""
}
