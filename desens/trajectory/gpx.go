package trajectory

import "fmt"

// gpx desensitizes a GPX 1.0 or 1.1 file. Every element with lat and lon
// attributes is a point (wpt, trkpt, rtept, and the same in extensions);
// the points of one trk (all its segments, in order) or one rte form a
// track, and each waypoint is a track of its own, so Trim removes lone
// waypoints (often "Home") whole. Bounds, which outline where the file
// goes, are removed rather than recomputed; times are rounded wherever
// they appear (the metadata's included).
func gpx(data []byte, p Policy, st *Stats) ([]byte, error) {
	var es edits
	var tracks []*track[*xelem]
	byParent := map[*xelem]*track[*xelem]{}
	err := scanXML(data, func(e *xelem) error {
		latS, hasLat := e.attr("lat")
		lonS, hasLon := e.attr("lon")
		_, hasMinLat := e.attr("minlat")
		switch {
		case hasLat && hasLon:
			lat, ok1 := parseDeg(latS, 90)
			lon, ok2 := parseDeg(lonS, 180)
			if !ok1 || !ok2 {
				return fmt.Errorf("%w: <%s> at byte %d: lat or lon is not a position", ErrMalformed, e.local, e.start)
			}
			owner := e.within("trk")
			if owner == nil {
				owner = e.within("rte")
			}
			t := byParent[owner] // nil for a waypoint: a track of its own
			if t == nil {
				t = &track[*xelem]{}
				tracks = append(tracks, t)
				if owner != nil {
					byParent[owner] = t
				}
			}
			t.add(point{Lat: lat, Lon: lon}, e)
		case hasLat || hasLon:
			return fmt.Errorf("%w: <%s> at byte %d has only one of lat and lon", ErrUnsupported, e.local, e.start)
		case e.local == "bounds" || hasMinLat:
			es.remove(e)
		case e.local == "time":
			return es.roundTimeElem(p, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = run(p, st, tracks, func(e *xelem, pt point, keep bool) error {
		switch {
		case !keep:
			es.remove(e)
		case p.moves():
			es = append(es, edit{start: e.start, end: e.tagEnd,
				repl: startTag(e, map[string]string{"lat": fmtDeg(pt.Lat), "lon": fmtDeg(pt.Lon)})})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return es.apply(data), nil
}
