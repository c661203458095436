package eval

import (
	"bytes"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
)

func plateDet(x, y, w, h int, score float32) detect.Detection {
	return detect.Detection{Box: image.Rect(x, y, x+w, y+h), Class: detect.Plate, Score: score}
}

func TestPlateBreakdown(t *testing.T) {
	blue := func(x, w int) Object {
		return Object{Class: detect.Plate, Type: "cn-blue", Box: Box{float64(x), 100, float64(w), float64(w) / 3}}
	}
	eu := Object{Class: detect.Plate, Type: "eu", Box: Box{500, 100, 80, 20}}
	face := Object{Class: detect.Face, Box: Box{700, 100, 40, 40}}
	images := []struct {
		objs []Object
		dets []detect.Detection
	}{
		// One type per image: a hit at 100 px, a miss at 20 px, and a false
		// positive (45 px) charged to cn-blue.
		{[]Object{blue(10, 100), blue(300, 20), face}, []detect.Detection{plateDet(10, 100, 100, 33, 0.9), plateDet(800, 500, 45, 15, 0.5)}},
		// Two types: the false positive (130 px) is "mixed".
		{[]Object{blue(10, 40), eu}, []detect.Detection{plateDet(10, 100, 40, 13, 0.8), plateDet(500, 100, 80, 20, 0.8), plateDet(900, 500, 130, 40, 0.4)}},
		// No plate: its false positive (25 px) goes to "no plate".
		{nil, []detect.Detection{plateDet(0, 0, 25, 8, 0.6)}},
	}
	var res []ImageResult
	for _, im := range images {
		res = append(res, ImageResult{Width: 1920, Height: 1080, Matched: Match(im.objs, nil, im.dets, image.Rect(0, 0, 1920, 1080), MatchConfig{})})
	}
	got := plateBreakdown(res)
	if got == nil {
		t.Fatal("no breakdown")
	}
	wantTypes := []PlateGroup{
		{Name: "cn-blue", Truths: 3, Hits: 2, FP: 1, Recall: 2.0 / 3, Precision: 2.0 / 3},
		{Name: "eu", Truths: 1, Hits: 1, Recall: 1, Precision: 1},
		{Name: "mixed", FP: 1, Recall: 1, Precision: 0},
		{Name: "no plate", FP: 1, Recall: 1, Precision: 0},
	}
	wantWidths := []PlateGroup{
		{Name: "<30", Truths: 1, FP: 1, Recall: 0, Precision: 0},
		{Name: "30-60", Truths: 1, Hits: 1, FP: 1, Recall: 1, Precision: 0.5},
		{Name: "60-120", Truths: 2, Hits: 2, Recall: 1, Precision: 1},
		{Name: ">=120", FP: 1, Recall: 1, Precision: 0},
		{Name: "all >=30", Truths: 3, Hits: 3, FP: 2, Recall: 1, Precision: 0.6},
	}
	if want := 130.0 * 40 / (1920 * 1080); got.LargestFalse != want {
		t.Errorf("largest false box %v of the frame, want %v (130×40 in 1920×1080)", got.LargestFalse, want)
	}
	for _, tc := range []struct {
		name      string
		got, want []PlateGroup
	}{{"types", got.Types, wantTypes}, {"widths", got.Widths, wantWidths}} {
		if len(tc.got) != len(tc.want) {
			t.Fatalf("%s: %+v, want %+v", tc.name, tc.got, tc.want)
		}
		for i := range tc.want {
			if tc.got[i] != tc.want[i] {
				t.Errorf("%s[%d] = %+v, want %+v", tc.name, i, tc.got[i], tc.want[i])
			}
		}
	}
	if b := plateBreakdown(res[:0]); b != nil {
		t.Errorf("breakdown without plates: %+v", b)
	}
}

// desens eval --targets plate on the real photos with plates: the labels
// load, every photo is read from its installed source, the plate tables are
// printed, and the detector finds at least as many plates, with no more
// false positives, as models/README.md reports for these photos.
func TestEvalRealPlates(t *testing.T) {
	testenv.File(t, "/usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg")
	d := newDesensitizer(t, desens.Options{Targets: []detect.Class{detect.Plate}})
	ev := &Evaluator{Detector: d, Threshold: detect.DefaultPlateConfig().Threshold}
	res, err := ev.Run(t.Context(), filepath.Join(testenv.Root(), "testdata", "eval", "plates-real"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || res.Evaluated != 3 || res.Total.Truths != 4 {
		t.Fatalf("evaluated %d, failed %d, %d plates; want 3, 0, 4", res.Evaluated, res.Failed, res.Total.Truths)
	}
	if res.Total.Hits < 2 || res.Total.FP > 4 {
		t.Errorf("%d of %d plates found, %d false positives; want at least 2 found and at most 4 false positives",
			res.Total.Hits, res.Total.Truths, res.Total.FP)
	}
	if res.Plates == nil {
		t.Fatal("no plate breakdown")
	}
	var out bytes.Buffer
	if err := res.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PLATE TYPE", "PLATE WIDTH px", "all >=30"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
