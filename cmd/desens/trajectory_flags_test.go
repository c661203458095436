package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// TestTrajectoryFlags runs desens run over a folder holding a GPX, an NMEA
// log and a file that is neither, with each policy's flags.
func TestTrajectoryFlags(t *testing.T) {
	testenv.ORT(t) // the run loads the face model
	in := t.TempDir()
	for _, f := range []string{"two_tracks.gpx", "drive.nmea"} {
		b, err := os.ReadFile(filepath.Join(testenv.Root(), "testdata", "trajectory", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(in, "notes.md"), []byte("parked at home\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
		"DESENS_ORT_LIB=" + os.Getenv("DESENS_ORT_LIB")}
	for _, tc := range []struct {
		name    string
		env     []string
		args    []string
		code    int
		stderr  string
		outputs int
		policy  string
	}{
		{"drop is the default: nothing written, the other file listed as skipped", nil, nil, 0, "notes.md: not an image", 0, "drop"},
		{"each dropped file says so", nil, nil, 0, "drop " + filepath.Join(in, "drive.nmea") + " (nmea trajectory: not written)", 0, "drop"},
		{"coarsen with its grid and rounding", nil, []string{"--trajectory", "coarsen", "--trajectory-grid", "250", "--trajectory-time-round", "5m"}, 0, "", 2, "coarsen 250m 5m0s"},
		{"offset from the command line", nil, []string{"--trajectory", "offset", "--trajectory-offset", "1200,-800"}, 0, "", 2, "offset"},
		{"offset from the environment, out of process lists", []string{"DESENS_TRAJECTORY_OFFSET=-300, 450"}, []string{"--trajectory", "offset"}, 0, "", 2, "offset"},
		{"trim", nil, []string{"--trajectory", "trim", "--trajectory-trim", "100"}, 0, "(gpx trajectory, trim 100m: 13 of 22 points kept)", 2, "trim 100m"},
		{"offset without the offset is a usage error", nil, []string{"--trajectory", "offset"}, 2, "--trajectory-offset EAST,NORTH", 0, ""},
		{"a flag of another policy is a usage error", nil, []string{"--trajectory", "trim", "--trajectory-grid", "100"}, 2, "--trajectory-grid applies to --trajectory coarsen", 0, ""},
		{"an unknown policy is a usage error", nil, []string{"--trajectory", "blur"}, 2, "unknown trajectory policy", 0, ""},
		{"a grid of 0 is a usage error", nil, []string{"--trajectory", "coarsen", "--trajectory-grid", "0"}, 2, "grid 0 m", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			report := filepath.Join(t.TempDir(), "report.json")
			args := append(append([]string{"run", "--report", report}, tc.args...), in, out)
			code, stderr := runDesens(t, append(env, tc.env...), args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if code != 0 {
				return
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != tc.outputs {
				t.Errorf("%d outputs, want %d", len(entries), tc.outputs)
			}
			var rep struct {
				Files []struct {
					Trajectory struct{ Policy string } `json:"trajectory"`
				} `json:"files"`
				Skipped []struct{ Input string } `json:"skipped"`
			}
			b, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Files) != 2 || rep.Files[0].Trajectory.Policy != tc.policy || len(rep.Skipped) != 1 {
				t.Errorf("report %s", b)
			}
			if strings.Contains(string(b), "1200m") || strings.Contains(string(b), "-800") || strings.Contains(string(b), "450m") {
				t.Errorf("the report gives the secret offset away: %s", b)
			}
		})
	}
}
