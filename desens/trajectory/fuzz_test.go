package trajectory

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/desens/desens/internal/testenv"
)

// FuzzDesensitize feeds every format hostile input: no panic, and whatever
// is accepted and written is accepted again, and coarsening it again
// changes nothing (the grid is stable).
func FuzzDesensitize(f *testing.F) {
	for _, s := range samples {
		f.Add(string(s.format), readSampleF(f, s.file))
	}
	f.Add("nmea", []byte("$GPGGA,,,,,,0,,,,,,,,*66\n$GPRMC,235959.999,A,9000.0000,N,18000.0000,W,,,311299,,,A*7C\n"))
	f.Add("json", []byte(`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`))
	policies := []Policy{
		{Mode: Coarsen, GridMetres: 300, TimeRound: time.Minute},
		{Mode: Offset, OffsetEast: 123.4, OffsetNorth: -56.7},
		{Mode: Trim, TrimMetres: 75},
	}
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		ft := Format(format)
		for _, p := range policies {
			var out bytes.Buffer
			st, err := Desensitize(bytes.NewReader(data), &out, ft, p)
			if err != nil || st.Kept == 0 {
				continue // refused, or nothing left to read back
			}
			var again bytes.Buffer
			if _, err := Desensitize(bytes.NewReader(out.Bytes()), &again, ft, p); err != nil {
				t.Fatalf("%s: own output refused: %v\nin:  %q\nout: %q", p, err, data, out.Bytes())
			}
			if p.Mode == Coarsen && !bytes.Equal(again.Bytes(), out.Bytes()) {
				t.Fatalf("coarsening twice differs from once\nonce:  %q\ntwice: %q", out.Bytes(), again.Bytes())
			}
		}
	})
}

func readSampleF(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "trajectory", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}
