package trajectory

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Mode says what a Policy does to positions.
type Mode string

const (
	// Drop writes nothing: the sidecar does not reach the output at all.
	Drop Mode = "drop"
	// Coarsen snaps every position to a grid of GridMetres and rounds
	// times to TimeRound.
	Coarsen Mode = "coarsen"
	// Offset moves every position by the same vector (OffsetEast,
	// OffsetNorth metres). Anyone who learns the vector can undo it.
	Offset Mode = "offset"
	// Trim removes the points within TrimMetres of each track's start and
	// end, measured along the path: where trips begin and end (home, work).
	Trim Mode = "trim"
)

// Modes lists the modes, for help texts.
var Modes = []Mode{Drop, Coarsen, Offset, Trim}

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Modes {
		if m == k {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown trajectory policy %q (want drop, coarsen, offset or trim)", s)
}

// Policy says how trajectories are desensitized. The zero value drops them,
// the only mode that needs no parameter and leaks nothing.
type Policy struct {
	Mode Mode
	// GridMetres is the grid that Coarsen snaps to (> 0).
	GridMetres float64
	// TimeRound is the interval Coarsen rounds times to; 0 leaves times as
	// they are.
	TimeRound time.Duration
	// OffsetEast and OffsetNorth are the vector Offset moves every position
	// by, in metres. A secret offset protects only while it stays secret:
	// one known place on the track gives it away.
	OffsetEast, OffsetNorth float64
	// TrimMetres is how much of each track's start and end Trim removes,
	// along the path (> 0).
	TrimMetres float64
}

// Validate checks that the policy's mode has the parameters it needs: a
// policy that would leave positions untouched is refused.
func (p Policy) Validate() error {
	switch p.mode() {
	case Drop:
	case Coarsen:
		if !(p.GridMetres > 0) || math.IsInf(p.GridMetres, 0) {
			return fmt.Errorf("trajectory coarsen: grid %v m: want more than 0", p.GridMetres)
		}
		if p.TimeRound < 0 {
			return fmt.Errorf("trajectory coarsen: time rounding %v: want 0 or more", p.TimeRound)
		}
	case Offset:
		if p.OffsetEast == 0 && p.OffsetNorth == 0 {
			return fmt.Errorf("trajectory offset: the offset is 0,0, which would leave positions as they are")
		}
		if math.IsNaN(p.OffsetEast) || math.IsNaN(p.OffsetNorth) || math.Abs(p.OffsetEast) > maxOffset || math.Abs(p.OffsetNorth) > maxOffset {
			return fmt.Errorf("trajectory offset %v,%v m: each part must be within ±%g m", p.OffsetEast, p.OffsetNorth, float64(maxOffset))
		}
	case Trim:
		if !(p.TrimMetres > 0) || math.IsInf(p.TrimMetres, 0) {
			return fmt.Errorf("trajectory trim: %v m: want more than 0", p.TrimMetres)
		}
	default:
		_, err := ParseMode(string(p.Mode))
		return err
	}
	return nil
}

// maxOffset keeps offsets to where the flat-earth step below holds well.
const maxOffset = 1_000_000

func (p Policy) mode() Mode {
	if p.Mode == "" {
		return Drop
	}
	return p.Mode
}

// String describes the policy for reports, e.g. "coarsen 500m 1m0s" or
// "trim 500m"; an offset is only "offset".
func (p Policy) String() string {
	switch p.mode() {
	case Coarsen:
		s := fmt.Sprintf("coarsen %gm", p.GridMetres)
		if p.TimeRound > 0 {
			s += " " + p.TimeRound.String()
		}
		return s
	case Offset:
		// Never the vector: reports travel with the outputs, and the vector
		// undoes the offset.
		return "offset"
	case Trim:
		return fmt.Sprintf("trim %gm", p.TrimMetres)
	}
	return string(p.mode())
}

// Geometry. Positions are on a sphere of the Earth's mean radius, so one
// degree of latitude is MetresPerDegree everywhere and one degree of
// longitude is MetresPerDegree·cos(latitude). The same figures serve the
// grid, the offset and path lengths, so each is exact against the others.
const (
	earthRadius = 6371008.8 // metres, IUGG mean radius
	// MetresPerDegree is the length of one degree of latitude.
	MetresPerDegree = earthRadius * math.Pi / 180
)

// point is one position of a track, in degrees.
type point struct {
	Lat, Lon float64
}

// Distance is the great-circle (haversine) distance in metres.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

// GridSteps returns the grid that Coarsen snaps to near latitude lat, in
// degrees: latitude steps of grid/MetresPerDegree, and longitude steps of
// grid/(MetresPerDegree·cos) of the snapped latitude, so that cells stay
// about grid metres wide in each latitude band.
func GridSteps(grid, lat float64) (latStep, lonStep float64) {
	latStep = grid / MetresPerDegree
	snapped := math.Round(lat/latStep) * latStep
	c := math.Cos(snapped * math.Pi / 180)
	if c < 1e-9 {
		return latStep, 360 // at a pole every longitude is one place
	}
	return latStep, grid / (MetresPerDegree * c)
}

// snap puts a position on the coarsen grid.
func snap(grid float64, pt point) point {
	latStep, lonStep := GridSteps(grid, pt.Lat)
	lat := math.Max(-90, math.Min(90, math.Round(pt.Lat/latStep)*latStep))
	lon := 0.0
	if lonStep < 360 {
		// 360° is rarely a whole number of steps: the cells touching the
		// antimeridian end there (narrower), so every result stays on the
		// grid and snapping twice changes nothing.
		kmax := math.Floor(180 / lonStep)
		lon = math.Max(-kmax, math.Min(kmax, math.Round(pt.Lon/lonStep))) * lonStep
	}
	return point{Lat: lat, Lon: lon}
}

// shift moves a position by east and north metres in its own local plane.
func shift(east, north float64, pt point) (point, error) {
	lat := pt.Lat + north/MetresPerDegree
	c := math.Cos(pt.Lat * math.Pi / 180)
	if lat < -90 || lat > 90 || c < 1e-9 {
		return pt, fmt.Errorf("%w: the offset moves a point past a pole", ErrOutOfRange)
	}
	return point{Lat: lat, Lon: wrapLon(pt.Lon + east/(MetresPerDegree*c))}, nil
}

func wrapLon(lon float64) float64 {
	if lon > 180 || lon < -180 {
		lon = math.Mod(lon+180, 360)
		if lon < 0 {
			lon += 360
		}
		lon -= 180
	}
	return lon
}

// apply desensitizes one track in place (positions are replaced) and says
// which of its points to keep. Every format calls it once per track.
func (p Policy) apply(pts []point) ([]bool, error) {
	keep := make([]bool, len(pts))
	for i := range keep {
		keep[i] = true
	}
	switch p.mode() {
	case Coarsen:
		for i := range pts {
			pts[i] = snap(p.GridMetres, pts[i])
		}
	case Offset:
		for i := range pts {
			var err error
			if pts[i], err = shift(p.OffsetEast, p.OffsetNorth, pts[i]); err != nil {
				return nil, err
			}
		}
	case Trim:
		// 0,0 is where loggers put a fix they do not have. Such points
		// are not on the path: a jump from there to the first real fix
		// would count thousands of kilometres and keep the start. They go.
		along := make([]float64, len(pts)) // path length from the start
		prev := -1
		for i, pt := range pts {
			if pt == (point{}) {
				continue
			}
			if prev >= 0 {
				along[i] = along[prev] + Distance(pts[prev].Lat, pts[prev].Lon, pt.Lat, pt.Lon)
			}
			prev = i
		}
		total := 0.0
		if prev >= 0 {
			total = along[prev]
		}
		for i, pt := range pts {
			keep[i] = pt != (point{}) && along[i] >= p.TrimMetres && total-along[i] >= p.TrimMetres
		}
	case Drop:
		for i := range keep {
			keep[i] = false
		}
	}
	return keep, nil
}

// roundTime rounds t to the policy's interval (Coarsen only).
func (p Policy) roundTime(t time.Time) time.Time {
	if p.mode() != Coarsen || p.TimeRound <= 0 {
		return t
	}
	// Round counts from the zero time, so whole minutes and hours of UTC
	// stay whole; the zone is kept as written.
	return t.Round(p.TimeRound)
}

func (p Policy) roundsTimes() bool { return p.mode() == Coarsen && p.TimeRound > 0 }

// moves reports whether the policy rewrites positions (the ones Trim keeps
// stay exactly as written).
func (p Policy) moves() bool { return p.mode() == Coarsen || p.mode() == Offset }
