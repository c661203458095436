package trajectory

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

// bigGPX is a day of driving logged at 1 Hz: n points in one track.
func bigGPX(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>` + "\n")
	t0 := time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "  <trkpt lat=\"%.7f\" lon=\"%.7f\"><ele>4.0</ele><time>%s</time></trkpt>\n",
			31.2+float64(i)*1e-5, 121.4+float64(i)*1e-5, t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	b.WriteString("</trkseg></trk></gpx>\n")
	return b.Bytes()
}

// bigNMEA is the same as GGA and RMC sentences.
func bigNMEA(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		lat, lon := 31.2+float64(i)*1e-5, 121.4+float64(i)*1e-5
		a, _ := nmeaFormat(lat, 2, 4, "N", "S")
		o, _ := nmeaFormat(lon, 3, 4, "E", "W")
		hms := time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format("150405")
		for _, body := range []string{
			fmt.Sprintf("GPGGA,%s.00,%s,N,%s,E,1,08,0.9,4.0,M,8.4,M,,", hms, a, o),
			fmt.Sprintf("GPRMC,%s.00,A,%s,N,%s,E,24.3,54.2,140326,,,A", hms, a, o),
		} {
			fmt.Fprintf(&b, "$%s*%02X\r\n", body, nmeaChecksum(body))
		}
	}
	return b.Bytes()
}

func BenchmarkDesensitize(b *testing.B) {
	const n = 86400 // a day at 1 Hz
	for _, in := range []struct {
		name string
		f    Format
		data []byte
	}{{"gpx", GPX, bigGPX(n)}, {"nmea", NMEA, bigNMEA(n)}} {
		for _, p := range []Policy{{Mode: Coarsen, GridMetres: 500, TimeRound: time.Minute}, {Mode: Trim, TrimMetres: 500}} {
			b.Run(in.name+"/"+string(p.Mode), func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				for b.Loop() {
					if _, err := Desensitize(bytes.NewReader(in.data), io.Discard, in.f, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
