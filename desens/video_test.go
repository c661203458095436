package desens

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
)

type probed struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		NbFrames  string `json:"nb_frames"`
	} `json:"streams"`
	Format struct {
		Tags map[string]string `json:"tags"`
	} `json:"format"`
}

func ffprobe(t *testing.T, path string) probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,nb_read_frames,nb_frames:format_tags", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkDesensitized checks an output video made from makeFaceVideo: every
// frame decodes (perFrame, if set, looks at each too) and holds no face the
// detector is sure of (a washed-out head outline can still score
// around 0.6-0.7; a real face scores 0.9 and more), the frame count is
// kept, the video is H.264 with its audio, and no location tag survived.
func checkDesensitized(t *testing.T, d *Desensitizer, out string, frames int, perFrame func(i int, img gocv.Mat)) probed {
	t.Helper()
	n := eachFrame(t, out, func(i int, img gocv.Mat) {
		if perFrame != nil {
			perFrame(i, img)
		}
		for _, f := range faces(t, d, img) {
			if f.Score > 0.8 {
				t.Errorf("output frame %d: confident face at %v (%.2f)", i, f.Box, f.Score)
			}
		}
	})
	if n != frames {
		t.Errorf("output has %d frames, want %d", n, frames)
	}
	p := ffprobe(t, out)
	audio := false
	for _, s := range p.Streams {
		audio = audio || s.CodecType == "audio"
		if s.CodecType == "video" && s.CodecName != "h264" {
			t.Errorf("video codec %s, want h264", s.CodecName)
		}
	}
	if !audio {
		t.Error("audio track lost")
	}
	for k, v := range p.Format.Tags {
		if strings.Contains(k, "location") || strings.Contains(v, "31.2304") {
			t.Errorf("location tag survived: %s=%s", k, v)
		}
	}
	return p
}

func TestVideoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	const frames = 30
	in := makeFaceVideo(t, dir, frames)
	d := newTestDesensitizer(t, Options{})

	// The input really has a findable face in most frames, or the test
	// below would prove nothing. Remember where, to look there afterwards.
	inFaces := map[int][]detect.Detection{}
	inDetail := map[int][]float64{}
	eachFrame(t, in, func(i int, img gocv.Mat) {
		for _, f := range faces(t, d, img) {
			inFaces[i] = append(inFaces[i], f)
			inDetail[i] = append(inDetail[i], detail(img, f.Box))
		}
	})
	seen := len(inFaces)
	if seen < frames*8/10 {
		t.Fatalf("face found in only %d of %d input frames", seen, frames)
	}

	out := filepath.Join(dir, "out", "faces.mp4")
	rep := d.ProcessFile(t.Context(), in, out)
	if !rep.OK {
		t.Fatalf("process: %s", rep.Error)
	}
	if rep.Frames != frames || rep.Detections[detect.Face] < seen {
		t.Errorf("report: %d frames, %d faces; want %d frames, >= %d faces", rep.Frames, rep.Detections[detect.Face], frames, seen)
	}

	// Every face is gone: its detail is destroyed, and nothing the detector
	// is sure of is left.
	p := checkDesensitized(t, d, out, frames, func(i int, img gocv.Mat) {
		for k, f := range inFaces[i] {
			if after, before := detail(img, f.Box), inDetail[i][k]; after > before/10 {
				t.Errorf("output frame %d: face at %v keeps %.0f%% of its detail", i, f.Box, 100*after/before)
			}
		}
	})
	if p.Format.Tags["creation_time"] == "" {
		t.Error("creation_time dropped; it should be kept by default")
	}
	noTemps(t, filepath.Dir(out))
}

// detail measures fine structure in a box: the variance of the Laplacian of
// its grey levels. Eyes, mouth and skin texture are what it sees in a face.
func detail(img gocv.Mat, box image.Rectangle) float64 {
	box = box.Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	roi := img.Region(box)
	defer roi.Close()
	gray, lap, mean, std := gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer gray.Close()
	defer lap.Close()
	defer mean.Close()
	defer std.Close()
	gocv.CvtColor(roi, &gray, gocv.ColorBGRToGray)
	gocv.Laplacian(gray, &lap, gocv.MatTypeCV64F, 3, 1, 0, gocv.BorderReflect101)
	gocv.MeanStdDev(lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s
}

// failAt is a detector that fails on chosen frames (counted across calls),
// to check what happens to frames nobody could examine.
type failAt struct {
	frames map[int]bool
	seen   int
}

func (f *failAt) Detect(_ context.Context, frames []gocv.Mat) []detect.Result {
	res := make([]detect.Result, len(frames))
	for i := range frames {
		if f.frames[f.seen] {
			res[i].Err = errors.New("injected failure")
		}
		f.seen++
	}
	return res
}

func TestDetectorFailureMasksFrame(t *testing.T) {
	dir := t.TempDir()
	in := makeFaceVideo(t, dir, 12)
	for _, tc := range []struct {
		name   string
		strict bool
	}{
		{"masks the frame whole", false},
		{"fails the file when strict", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDesensitizer(t, Options{Strict: tc.strict})
			d.AddDetector(&failAt{frames: map[int]bool{3: true, 7: true}})
			out := filepath.Join(dir, tc.name, "out.mp4")
			rep := d.ProcessFile(t.Context(), in, out)
			if tc.strict {
				if rep.OK || !errors.Is(rep.Err(), ErrDetection) {
					t.Fatalf("strict run: ok=%v err=%v, want ErrDetection", rep.OK, rep.Err())
				}
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("output exists after a failed strict run: %v", err)
				}
				noTemps(t, filepath.Dir(out))
				return
			}
			if !rep.OK {
				t.Fatal(rep.Error)
			}
			if got := rep.MaskedFrames; len(got) != 2 || got[0] != 3 || got[1] != 7 {
				t.Errorf("masked frames %v, want [3 7]", got)
			}
			eachFrame(t, out, func(i int, img gocv.Mat) {
				mean, std := gocv.NewMat(), gocv.NewMat()
				defer mean.Close()
				defer std.Close()
				gocv.MeanStdDev(img, &mean, &std)
				flat := std.GetDoubleAt(0, 0) < 2 && std.GetDoubleAt(1, 0) < 2 && std.GetDoubleAt(2, 0) < 2
				if (i == 3 || i == 7) != flat {
					t.Errorf("frame %d: flat=%v (std %.1f)", i, flat, std.GetDoubleAt(0, 0))
				}
			})
		})
	}
}
