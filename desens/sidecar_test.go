package desens

import (
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desens/desens/desens/trajectory"
	"github.com/desens/desens/internal/testenv"
)

func trajectorySample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "trajectory", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sidecarTree is a camera folder with position logs beside (here instead
// of) its media, and files that are neither.
func sidecarTree(t *testing.T) (dir string, skipped []string) {
	t.Helper()
	dir = t.TempDir()
	files := map[string][]byte{
		"cam1/drive.gpx":       trajectorySample(t, "two_tracks.gpx"),
		"cam1/gps/drive.log":   trajectorySample(t, "drive.nmea"), // NMEA by content
		"cam1/drive.kml":       trajectorySample(t, "drive.kml"),
		"cam1/track.csv":       trajectorySample(t, "drive.csv"),
		"cam1/drive.geojson":   trajectorySample(t, "drive.geojson"),
		"cam1/app.log":         []byte("2026-03-14 08:01:07 recorder started\n"),
		"cam1/notes.txt":       []byte("gps: 31.23,121.47"),
		"cam1/settings.csv":    []byte("key,value\nfps,30\n"),
		"cam1/DJI_0001.SRT":    trajectorySample(t, "dji_gps.srt"),
		"cam1/film.srt":        []byte("1\n00:00:01,000 --> 00:00:04,000\nWhere are we going?\n"),
		"cam1/broken/cut.gpx":  []byte(`<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="31.2" lon="121.4">`),
		"cam1/.hidden.gpx":     trajectorySample(t, "two_tracks.gpx"),
		"cam1/firmware.bin":    {0, 1, 2},
		"cam1/more/points.kmz": []byte("PK\x03\x04"),
	}
	for name, data := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), data)
	}
	skipped = []string{"cam1/app.log", "cam1/film.srt", "cam1/firmware.bin", "cam1/more/points.kmz", "cam1/notes.txt", "cam1/settings.csv"}
	return dir, skipped
}

func newSidecarDesensitizer(t *testing.T, p trajectory.Policy) *Desensitizer {
	t.Helper()
	// No media in these trees: no model is needed.
	d, err := newDesensitizer(Options{Trajectory: p, Workers: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestRunSidecars(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  trajectory.Policy
		outputs []string // besides the skipped files, which never appear
		failed  []string
	}{
		{"the default drops every trajectory and writes nothing", trajectory.Policy{}, nil, nil},
		{"coarsen writes each trajectory coarsened; a broken one fails",
			trajectory.Policy{Mode: trajectory.Coarsen, GridMetres: 500, TimeRound: time.Minute},
			[]string{"cam1/DJI_0001.SRT", "cam1/drive.geojson", "cam1/drive.gpx", "cam1/drive.kml", "cam1/gps/drive.log", "cam1/track.csv"},
			[]string{"cam1/broken/cut.gpx"}},
		{"trim writes each trajectory trimmed",
			trajectory.Policy{Mode: trajectory.Trim, TrimMetres: 100},
			[]string{"cam1/DJI_0001.SRT", "cam1/drive.geojson", "cam1/drive.gpx", "cam1/drive.kml", "cam1/gps/drive.log", "cam1/track.csv"},
			[]string{"cam1/broken/cut.gpx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, wantSkipped := sidecarTree(t)
			out := filepath.Join(t.TempDir(), "out")
			d := newSidecarDesensitizer(t, tc.policy)
			var heard int
			rep, err := d.Run(t.Context(), in, out, func(FileReport) { heard++ })
			if err != nil {
				t.Fatal(err)
			}
			var skipped []string
			for _, s := range rep.Skipped {
				rel, _ := filepath.Rel(in, s.Input)
				skipped = append(skipped, filepath.ToSlash(rel))
				if s.Reason == "" {
					t.Errorf("%s skipped without a reason", rel)
				}
			}
			if !slices.Equal(skipped, wantSkipped) {
				t.Errorf("skipped %q, want %q", skipped, wantSkipped)
			}
			if rep.Summary.Skipped != len(wantSkipped) || rep.Summary.Files != 7 || heard != 7 {
				t.Errorf("summary %+v, heard %d; want 7 files and %d skipped", rep.Summary, heard, len(wantSkipped))
			}
			var failed []string
			for _, f := range rep.Files {
				rel, _ := filepath.Rel(in, f.Input)
				rel = filepath.ToSlash(rel)
				tr := f.Trajectory
				if f.Kind != string(KindTrajectory) || tr == nil || tr.Policy != tc.policy.String() {
					t.Errorf("%s: kind %q, trajectory %+v", rel, f.Kind, tr)
					continue
				}
				if !f.OK {
					failed = append(failed, rel)
					if !errors.Is(f.Err(), ErrCorruptMedia) || !strings.Contains(f.Error, f.Input) {
						t.Errorf("%s: error %q does not name the file or is not ErrCorruptMedia", rel, f.Error)
					}
					continue
				}
				if tc.outputs == nil && (!tr.Dropped || f.Output != "") {
					t.Errorf("%s: dropped %v, output %q", rel, tr.Dropped, f.Output)
				}
				if tc.outputs != nil && (tr.Dropped || tr.PointsIn == 0 || f.Output == "") {
					t.Errorf("%s: %+v, output %q", rel, tr, f.Output)
				}
			}
			if !slices.Equal(failed, tc.failed) {
				t.Errorf("failed %q, want %q", failed, tc.failed)
			}
			var got []string
			_ = filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					rel, _ := filepath.Rel(out, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return nil
			})
			if !slices.Equal(got, tc.outputs) {
				t.Errorf("outputs %q, want %q", got, tc.outputs)
			}
			for _, o := range got {
				data, _ := os.ReadFile(filepath.Join(out, o))
				for _, exact := range []string{"31.2304", "121.4737", "3113.8240"} { // the start, "home"
					if strings.Contains(string(data), exact) {
						t.Errorf("%s still holds %s", o, exact)
					}
				}
				if strings.HasSuffix(o, ".gpx") || strings.HasSuffix(o, ".kml") {
					var v struct{}
					if err := xml.Unmarshal(data, &v); err != nil {
						t.Errorf("%s is not XML: %v", o, err)
					}
				}
			}
			noTemps(t, out)
		})
	}
}

// TestRunSingleSidecar gives one trajectory as the input, and a file that
// only looks like one: asked for by name, it fails rather than being
// skipped.
func TestRunSingleSidecar(t *testing.T) {
	dir := t.TempDir()
	gpx := writeFile(t, filepath.Join(dir, "drive.gpx"), trajectorySample(t, "two_tracks.gpx"))
	applog := writeFile(t, filepath.Join(dir, "app.log"), []byte("recorder started\n"))
	d := newSidecarDesensitizer(t, trajectory.Policy{Mode: trajectory.Offset, OffsetEast: 1000, OffsetNorth: -2000})

	out := filepath.Join(dir, "out") + "/"
	rep, err := d.Run(t.Context(), gpx, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || !rep.Files[0].OK || rep.Files[0].Trajectory.PointsOut != 22 {
		t.Fatalf("report %+v", rep.Files)
	}
	if _, err := os.Stat(filepath.Join(out, "drive.gpx")); err != nil {
		t.Error(err)
	}

	rep, err = d.Run(t.Context(), applog, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || rep.Files[0].OK || !errors.Is(rep.Files[0].Err(), ErrUnsupported) {
		t.Fatalf("a .log that is not NMEA, given as the input: %+v", rep.Files)
	}

	// The library call for one file.
	r := d.ProcessTrajectory(t.Context(), gpx, filepath.Join(dir, "lib", "drive.gpx"))
	if !r.OK || r.Trajectory.PointsIn != 22 {
		t.Errorf("ProcessTrajectory: %+v", r)
	}
	r = d.ProcessFile(t.Context(), gpx, filepath.Join(dir, "lib2", "drive.gpx"))
	if !r.OK || r.Kind != string(KindTrajectory) || r.Trajectory.PointsIn != 22 {
		t.Errorf("ProcessFile on a GPX: %+v", r)
	}
}

func TestTrajectoryPolicyValidated(t *testing.T) {
	for _, p := range []trajectory.Policy{
		{Mode: trajectory.Coarsen},
		{Mode: trajectory.Offset},
		{Mode: trajectory.Trim, TrimMetres: -5},
		{Mode: "scramble"},
	} {
		if _, err := newDesensitizer(Options{Trajectory: p}, false); err == nil {
			t.Errorf("policy %+v accepted", p)
		}
	}
}

// TestBucketSidecars runs a prefix with sidecars to another bucket.
func TestBucketSidecars(t *testing.T) {
	e := newS3Env(t, false, nil)
	e.put(t, e.in, "cam1/drive.gpx", trajectorySample(t, "two_tracks.gpx"))
	e.put(t, e.in, "cam1/gps.log", trajectorySample(t, "drive.nmea"))
	e.put(t, e.in, "cam1/app.log", []byte("recorder started\n"))
	e.put(t, e.in, "cam1/readme.md", []byte("# notes\n"))
	d := newBareDesensitizer(t, e, Options{Trajectory: trajectory.Policy{Mode: trajectory.Trim, TrimMetres: 100}})
	rep, err := d.Run(t.Context(), s3url(e.in, "cam1/"), s3url(e.out, "cam1/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Summary; s.Files != 2 || s.OK != 2 || s.Skipped != 2 {
		t.Fatalf("summary %+v, files %+v", s, rep.Files)
	}
	e.nothingLeft(t, "cam1/drive.gpx", "cam1/gps.log")
	if ct := e.head(t, e.out, "cam1/drive.gpx").ContentType; ct == nil || *ct != "application/gpx+xml" {
		t.Errorf("content type %v", ct)
	}
	if data := mustGet(t, e, e.out, "cam1/gps.log"); strings.Contains(string(data), "3113.8240") {
		t.Error("the trimmed NMEA log still holds its first fix")
	}
}
