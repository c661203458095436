package trajectory

import (
	"math"
	"testing"
)

func TestNMEACoordinates(t *testing.T) {
	for _, tc := range []struct {
		deg        float64
		digits     int
		value, hem string
	}{
		{31.2304, 2, "3113.8240", "N"},
		{-33.8688, 2, "3352.1280", "S"},
		{-0.5, 2, "0030.0000", "S"},
		{121.4737, 3, "12128.4220", "E"},
		{-74.0060, 3, "07400.3600", "W"},
		{-179.9999999, 3, "18000.0000", "W"}, // 59.999994' rounds up into the next degree
		{12.9999999, 2, "1300.0000", "N"},
	} {
		v, h := nmeaFormat(tc.deg, tc.digits, 4, "N", "S")
		if tc.digits == 3 {
			v, h = nmeaFormat(tc.deg, tc.digits, 4, "E", "W")
		}
		if v != tc.value || h != tc.hem {
			t.Errorf("%v: %s %s, want %s %s", tc.deg, v, h, tc.value, tc.hem)
		}
		back, ok := nmeaDeg(v, h, map[int]string{2: "N", 3: "E"}[tc.digits], map[int]string{2: "S", 3: "W"}[tc.digits], 180)
		if !ok || math.Abs(back-tc.deg) > 1e-6 {
			t.Errorf("%s %s reads back as %v, %v", v, h, back, ok)
		}
	}
}

// TestGrid checks the grid anywhere on the globe: snapped points are on
// the grid, within half a cell diagonal, and snapping again moves nothing.
func TestGrid(t *testing.T) {
	for _, pt := range []point{{31.2304, 121.4737}, {-33.8688, 151.2093}, {0.0001, -0.0001}, {64.1466, -21.9426},
		{-0.00001, 179.99999}, {12.5, -179.99999}, {89.9999, 10}, {-89.99, -45}} {
		for _, grid := range []float64{1, 100, 1000, 25000} {
			s := snap(grid, pt)
			latStep, lonStep := GridSteps(grid, s.Lat)
			if r := s.Lat / latStep; math.Abs(r-math.Round(r)) > 1e-6 && math.Abs(s.Lat) != 90 {
				t.Errorf("%v on %gm: latitude %v off the grid", pt, grid, s.Lat)
			}
			if r := s.Lon / lonStep; lonStep < 360 && math.Abs(r-math.Round(r)) > 1e-6 && math.Abs(s.Lon) < 180-lonStep {
				t.Errorf("%v on %gm: longitude %v off the grid", pt, grid, s.Lon)
			}
			if d := Distance(pt.Lat, pt.Lon, s.Lat, s.Lon); d > grid*math.Sqrt2/2*1.01 && math.Abs(pt.Lat) < 89 {
				t.Errorf("%v on %gm: moved %.1f m", pt, grid, d)
			}
			if again := snap(grid, s); math.Abs(again.Lat-s.Lat) > 1e-9 || math.Abs(again.Lon-s.Lon) > 1e-9 {
				t.Errorf("%v on %gm: snapping %v again gives %v", pt, grid, s, again)
			}
			if s.Lon < -180 || s.Lon > 180 || s.Lat < -90 || s.Lat > 90 {
				t.Errorf("%v on %gm: snapped off the globe to %v", pt, grid, s)
			}
		}
	}
}

func TestShiftAcrossTheAntimeridian(t *testing.T) {
	s, err := shift(1000, 0, point{10, 179.999})
	if err != nil || s.Lon > -179 || s.Lon < -180 {
		t.Errorf("shift east over 180°: %v, %v", s, err)
	}
	if d := Distance(10, 179.999, s.Lat, s.Lon); math.Abs(d-1000) > 1 {
		t.Errorf("moved %.2f m, want 1000", d)
	}
}

// TestTrimNoFix: a track that starts without a fix (0,0) is still trimmed
// at its real start.
func TestTrimNoFix(t *testing.T) {
	pts := []point{{0, 0}, {0, 0}}
	for i := range 10 {
		pts = append(pts, point{31.2304, 121.4737 + float64(i)*0.001}) // ~95 m apart
	}
	pts = append(pts, point{0, 0})
	keep, err := Policy{Mode: Trim, TrimMetres: 200}.apply(pts)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, false, false, false, false, true, true, true, true, false, false, false, false}
	for i := range want {
		if keep[i] != want[i] {
			t.Fatalf("keep %v, want %v", keep, want)
		}
	}
}
