package evalset

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

func genTinyVideo(t *testing.T, seed uint64) (string, *VideoStats, []byte) {
	t.Helper()
	requireOpenCVDoc(t)
	testenv.FFmpeg(t)
	dir := t.TempDir()
	st, err := GenerateVideo(VideoConfig{
		Out: dir, Clips: 2, Frames: 10, Width: 320, Height: 240, Seed: seed,
		// installed files only: the result must not depend on a local cache
		Resolver: &Resolver{},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, VideoLabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, st, b
}

func TestGenerateVideoTiny(t *testing.T) {
	dir, st, labels := genTinyVideo(t, 1)
	set, err := ReadVideoSet(filepath.Join(dir, VideoLabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Videos) != 2 || st.Clips != 2 || st.Frames != 20 {
		t.Fatalf("%d clips (stats %d, %d frames), want 2 of 10 frames", len(set.Videos), st.Clips, st.Frames)
	}

	t.Run("files-match-labels", func(t *testing.T) {
		for _, v := range set.Videos {
			out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
				"-show_entries", "stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate", "-of", "json",
				filepath.Join(dir, v.File)).Output()
			if err != nil {
				t.Fatalf("%s: ffprobe: %v", v.File, err)
			}
			var probe struct {
				Streams []struct {
					Codec  string `json:"codec_name"`
					PixFmt string `json:"pix_fmt"`
					Width  int    `json:"width"`
					Height int    `json:"height"`
					Frames string `json:"nb_read_frames"`
					Rate   string `json:"r_frame_rate"`
				} `json:"streams"`
			}
			if err := json.Unmarshal(out, &probe); err != nil || len(probe.Streams) != 1 {
				t.Fatalf("%s: ffprobe said %s (%v)", v.File, out, err)
			}
			s := probe.Streams[0]
			if s.Codec != "h264" || s.PixFmt != "yuv420p" || s.Width != v.Width || s.Height != v.Height || s.Frames != "10" || s.Rate != "25/1" {
				t.Errorf("%s: %+v, want h264 yuv420p %dx%d, 10 frames at 25/1", v.File, s, v.Width, v.Height)
			}
		}
	})

	t.Run("tracks", func(t *testing.T) {
		faces, plates, text := 0, 0, 0
		for _, v := range set.Videos {
			for _, tr := range v.Tracks {
				for _, b := range tr.Boxes {
					if b.Ignore {
						continue
					}
					switch tr.Class {
					case "face":
						faces++
						// a 240-line frame scales the largest face to 44 px
						if b.Box[3] > 45 {
							t.Errorf("%s: track %d frame %d: face %v higher than 45 px", v.File, tr.ID, b.Frame, b.Box)
						}
					case "plate":
						plates++
						// and the widest plate to 44 px
						if b.Box[2] > 45 {
							t.Errorf("%s: track %d frame %d: plate %v wider than 45 px", v.File, tr.ID, b.Frame, b.Box)
						}
					case TextClass:
						text++
						if b.Box[3] < minTextHeight {
							t.Errorf("%s: track %d frame %d: text %v under %d px high not marked ignore", v.File, tr.ID, b.Frame, b.Box, minTextHeight)
						}
					default:
						t.Errorf("%s: track %d class %q", v.File, tr.ID, tr.Class)
					}
				}
			}
		}
		if faces == 0 || faces != st.Boxes {
			t.Errorf("%d labelled face boxes (stats %d), want some", faces, st.Boxes)
		}
		if plates == 0 || plates != st.PlateBoxes {
			t.Errorf("%d labelled plate boxes (stats %d), want some", plates, st.PlateBoxes)
		}
		if text != st.TextBoxes || st.Signs == 0 {
			t.Errorf("%d labelled text boxes (stats %d), %d signs; want the stats' count and some signs", text, st.TextBoxes, st.Signs)
		}
	})

	t.Run("determinism", func(t *testing.T) {
		_, _, again := genTinyVideo(t, 1)
		if !bytes.Equal(labels, again) {
			t.Error("same seed gave different videos.json")
		}
		_, _, other := genTinyVideo(t, 2)
		if bytes.Equal(labels, other) {
			t.Error("different seeds gave identical videos.json")
		}
	})
}

// TestCarPose: a plate's width goes from w0 at the car's first frame to
// w1 at the clip's last, smoothly, and its centre moves in a line.
func TestCarPose(t *testing.T) {
	plate := newFimg(100, 30)
	for _, tc := range []struct {
		name   string
		t0     int
		w0, w1 float64
		v      [2]float64
	}{
		{"passing", 0, 60, 66, [2]float64{12, 0}},
		{"approaching", 5, 25, 70, [2]float64{1, 1.5}},
		{"receding", 0, 150, 50, [2]float64{-1, -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clip{w: 1920, h: 1080, n: 30}
			car, pb := drawCar(rand.New(rand.NewPCG(1, 2)), plate)
			tr := &carTrack{car: car, plate: pb, t0: tc.t0, p0: [2]float64{900, 600}, v: tc.v, w0: tc.w0, w1: tc.w1}
			prev := c.carPose(tr, tc.t0).plate
			if math.Abs(float64(prev[2])-tc.w0) > 2.5 {
				t.Errorf("frame %d: plate %v, want %.0f px wide", tc.t0, prev, tc.w0)
			}
			for f := tc.t0 + 1; f < c.n; f++ {
				p := c.carPose(tr, f).plate
				cx, pcx := float64(p[0])+float64(p[2])/2, float64(prev[0])+float64(prev[2])/2
				if math.Abs(cx-pcx-tc.v[0]) > 1.5 || math.Abs(float64(p[2]-prev[2])) > 1+0.06*float64(prev[2]) {
					t.Errorf("frame %d: plate %v after %v: not a smooth step", f, p, prev)
				}
				prev = p
			}
			if math.Abs(float64(prev[2])-tc.w1) > 2.5 {
				t.Errorf("last frame: plate %v, want %.0f px wide", prev, tc.w1)
			}
			if !c.carPose(tr, c.n-1).rect().Overlaps(Box{prev[0], prev[1], prev[2], prev[3]}) {
				t.Error("the car is not where its plate is")
			}
		})
	}
}

// TestPlates: every kind of plate draws its characters: dark and light
// ink both show, in the plate's millimetre size.
func TestPlates(t *testing.T) {
	a, _, err := newPlateArtist()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 60 {
		p, kind := a.plate(rng)
		seen[kind] = true
		lo, hi := float32(255), float32(0)
		for i := 0; i < len(p.Pix); i += 4 {
			l := (p.Pix[i] + p.Pix[i+1] + p.Pix[i+2]) / 3
			lo, hi = min(lo, l), max(hi, l)
		}
		if hi-lo < 120 {
			t.Errorf("%s plate %dx%d: luma %v to %v, no contrast", kind, p.W, p.H, lo, hi)
		}
	}
	for _, k := range plateKinds {
		if !seen[k.name] {
			t.Errorf("no %s plate in 60", k.name)
		}
	}
}

func TestVisible(t *testing.T) {
	c := &clip{w: 100, h: 80}
	for _, tc := range []struct {
		name string
		box  Box
		over []Box
		want Box
		frac float64
	}{
		{"in the open", Box{10, 10, 20, 20}, nil, Box{10, 10, 20, 20}, 1},
		{"half past the left edge", Box{-10, 10, 20, 20}, nil, Box{0, 10, 10, 20}, 0.5},
		{"wholly outside", Box{100, 10, 20, 20}, nil, Box{}, 0},
		{"right quarter behind an occluder", Box{10, 10, 20, 20}, []Box{{25, 0, 50, 80}}, Box{10, 10, 15, 20}, 0.75},
		{"a corner behind one: the box stays whole", Box{10, 10, 20, 20}, []Box{{20, 20, 50, 50}}, Box{10, 10, 20, 20}, 0.75},
		{"two occluders from both sides", Box{10, 10, 20, 20}, []Box{{0, 0, 15, 80}, {25, 0, 10, 80}}, Box{15, 10, 10, 20}, 0.5},
		{"wholly behind one", Box{10, 10, 20, 20}, []Box{{0, 0, 50, 50}}, Box{}, 0},
		{"empty box", Box{10, 10, 0, 20}, nil, Box{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, frac := c.visible(tc.box, tc.over)
			if got != tc.want || frac != tc.frac {
				t.Errorf("visible(%v, %v) = %v, %v; want %v, %v", tc.box, tc.over, got, frac, tc.want, tc.frac)
			}
		})
	}
}

func TestVideoSetFormat(t *testing.T) {
	set := &VideoSet{Version: LabelVersion, Videos: []Video{{File: "clip_000.mp4", Width: 64, Height: 48, FPS: 25, Frames: 3,
		Tracks: []Track{{ID: 1, Class: "face", Boxes: []TrackBox{{Frame: 0, Box: Box{1, 2, 10, 12}}, {Frame: 2, Box: Box{3, 2, 10, 12}, Ignore: true}}}}}}}
	b, err := set.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`{"frame": 0, "box": [1, 2, 10, 12], "ignore": false},`,
		`{"frame": 2, "box": [3, 2, 10, 12], "ignore": true}`,
	} {
		if !bytes.Contains(b, []byte(line)) {
			t.Errorf("no line %s in\n%s", line, b)
		}
	}
	path := filepath.Join(t.TempDir(), VideoLabelsFile)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := ReadVideoSet(path)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := back.Marshal(); !bytes.Equal(again, b) {
		t.Errorf("read back and written again:\n%s\nwant\n%s", again, b)
	}

	for _, tc := range []struct {
		name   string
		breaks func(v *Video)
	}{
		{"box past the frame", func(v *Video) { v.Tracks[0].Boxes[0].Box = Box{60, 2, 10, 12} }},
		{"frame past the clip", func(v *Video) { v.Tracks[0].Boxes[1].Frame = 3 }},
		{"frames out of order", func(v *Video) { v.Tracks[0].Boxes[1].Frame = 0 }},
		{"duplicate track id", func(v *Video) { v.Tracks = append(v.Tracks, v.Tracks[0]) }},
		{"no frame rate", func(v *Video) { v.FPS = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := *back
			bad.Videos = slices.Clone(back.Videos)
			v := &bad.Videos[0]
			v.Tracks = slices.Clone(v.Tracks)
			v.Tracks[0].Boxes = slices.Clone(v.Tracks[0].Boxes)
			tc.breaks(v)
			if err := bad.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}

func TestClipArgs(t *testing.T) {
	want := []string{"-v", "error", "-nostdin", "-y",
		"-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "1280x720", "-framerate", "25", "-i", "pipe:0",
		"-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", "out/clip_000.mp4"}
	if got := clipArgs("out/clip_000.mp4", 1280, 720, 25); !slices.Equal(got, want) {
		t.Errorf("clipArgs:\n got %q\nwant %q", got, want)
	}
	env := childEnv([]string{"PATH=/usr/bin", "HOME=/root", "AWS_SECRET_ACCESS_KEY=x", "LC_ALL=C.UTF-8", "TMPDIR=/tmp"})
	if want := []string{"PATH=/usr/bin", "LC_ALL=C.UTF-8", "TMPDIR=/tmp"}; !slices.Equal(env, want) {
		t.Errorf("childEnv = %q, want %q", env, want)
	}
	if env := childEnv(nil); env == nil {
		t.Error("childEnv(nil) is nil, which exec.Cmd takes as the whole environment")
	}
}

// TestPlateLabelsBlurred: a background photo's plate that no one can read
// is an ignore box in every frame it shows in, and a readable one is a
// plate to find.
func TestPlateLabelsBlurred(t *testing.T) {
	c := &clip{w: 640, h: 360, n: 5, st: &VideoStats{},
		cam:         camera{w: 640, h: 360, n: 5, c0: [2]float64{320, 180}, c1: [2]float64{340, 180}, z0: 1, z1: 1},
		worldPlates: []fbox{{100, 100, 200, 140}},
		worldUnread: []fbox{{400, 200, 520, 250}},
	}
	tracks := c.plateLabels(1)
	if len(tracks) != 2 {
		t.Fatalf("%d tracks, want 2: %+v", len(tracks), tracks)
	}
	for k, wantIgnore := range []bool{false, true} {
		tr := tracks[k]
		if len(tr.Boxes) != c.n {
			t.Errorf("track %d: %d boxes, want one in each of %d frames", k, len(tr.Boxes), c.n)
		}
		for _, b := range tr.Boxes {
			if b.Ignore != wantIgnore {
				t.Errorf("track %d frame %d: ignore %v, want %v", k, b.Frame, b.Ignore, wantIgnore)
			}
		}
	}
	if c.st.PlateBoxes != c.n {
		t.Errorf("%d plate boxes counted, want %d (the readable plate's)", c.st.PlateBoxes, c.n)
	}
}
