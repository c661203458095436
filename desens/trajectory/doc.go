// Package trajectory desensitizes the position logs that travel beside
// sensor media: GPX, NMEA 0183, KML, CSV, JSON/GeoJSON and drones' SubRip
// (.SRT) files.
//
// # Policies
//
// A Policy drops a file (the default), coarsens it (every position
// snapped to a grid, times rounded), offsets it (every position moved by
// one vector) or trims it (the first and last metres of each track,
// where trips start and end, removed). Only the positions and times
// change: every other part of a file is kept as it was, so its usual
// readers still read it.
//
// # Geometry
//
// Positions are taken on a sphere of the Earth's mean radius (6371008.8
// m): a degree of latitude is MetresPerDegree (about 111195 m), a degree
// of longitude that times the cosine of the latitude. The coarsen grid
// has latitude steps of GridMetres/MetresPerDegree and, in each latitude
// band, longitude steps of GridMetres/(MetresPerDegree·cos) of the band's
// latitude (GridSteps), so that cells are about GridMetres wide
// everywhere. Offsets are applied in each point's local east/north plane;
// trims measure the path with the haversine distance.
//
// # Failing closed
//
// A file that is not a format this package reads is ErrUnknownFormat;
// one that holds positions it cannot rewrite (a column or key that looks
// like a position but is not a latitude/longitude pair, a geohash or an
// encoded polyline, unnamed [lon, lat] arrays under a "route" or "path"
// key, a time it cannot round) is ErrUnsupported, never passed on. Errors
// name byte offsets, rows and keys, never coordinates: they end up in
// reports. In NMEA logs, sentences that
// may hold positions of a type this package does not rewrite are removed
// and counted in Stats.Discarded.
//
// # What is not changed
//
// Names and descriptions (a waypoint called "Home"), elevations, speeds
// and headings are kept; a trimmed track keeps its remaining times, and a
// track that comes back near its start later in the trip keeps those
// points (trim measures along the path). Trim removes points at exactly
// 0,0, where loggers put a fix they do not have, and leaves them off the
// path. Offsets protect only while the
// vector stays secret: a single known place on the track gives it away.
package trajectory
