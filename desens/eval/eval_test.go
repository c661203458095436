package eval

import (
	"context"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
)

// messi is a photo every machine with opencv-doc has; it shows one face at
// about (223,98) 33x33.
const messi = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"

// newDesensitizer loads the face model, skipping when onnxruntime is not
// installed, except in CI, where a skipped evaluation would hide a failure.
func newDesensitizer(t *testing.T, opts desens.Options) *desens.Desensitizer {
	t.Helper()
	testenv.ORT(t)
	d, err := desens.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// labelledDir builds an evaluation directory: messi5.jpg copied in with its
// face labelled, the same photo read through "source" with the face under
// an ignore region, and a flat grey picture with nothing in it.
func labelledDir(t *testing.T) string {
	t.Helper()
	testenv.File(t, messi)
	dir := t.TempDir()
	data, err := os.ReadFile(messi)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "messi.jpg"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	grey := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), 240, 320, gocv.MatTypeCV8UC3)
	defer grey.Close()
	if !gocv.IMWrite(filepath.Join(dir, "grey.png"), grey) {
		t.Fatal("cannot write grey.png")
	}
	labels := `{"version": 1, "images": [
  {"file": "messi.jpg", "width": 548, "height": 342, "objects": [{"class": "face", "box": [223, 98, 33, 33]}]},
  {"file": "messi-crowd.jpg", "source": "` + messi + `", "width": 548, "height": 342, "objects": [], "ignore": [[200, 70, 90, 90]]},
  {"file": "grey.png", "width": 320, "height": 240, "objects": []}
]}`
	if err := os.WriteFile(filepath.Join(dir, LabelsFile), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEvaluateEndToEnd(t *testing.T) {
	dir := labelledDir(t)
	d := newDesensitizer(t, desens.Options{Targets: []detect.Class{detect.Face}, Runtime: desens.RuntimeOptions{Threads: 2}})
	sweep := newDesensitizer(t, desens.Options{Targets: []detect.Class{detect.Face}, Runtime: desens.RuntimeOptions{Threads: 2}, Face: desens.FaceOptions{Threshold: 0.3}})
	before := liveMats() // after loading: each detector keeps a scratch Mat until Close
	var seen []string
	ev := &Evaluator{Detector: d, Threshold: detect.DefaultFaceConfig().Threshold, SweepDetector: sweep, SweepFrom: 0.3,
		OnImage: func(ir ImageResult) { seen = append(seen, filepath.Base(ir.Name)) }}
	res, err := ev.Run(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())

	if strings.Join(seen, ",") != "messi.jpg,messi-crowd.jpg,grey.png" {
		t.Errorf("OnImage heard of %v", seen)
	}
	if res.Evaluated != 3 || res.Failed != 0 {
		t.Fatalf("%d images evaluated, %d failed; want 3 and 0", res.Evaluated, res.Failed)
	}
	if m := res.Images[0]; m.Counts.Hits != 1 || m.Truths[0].Outcome != Hit {
		t.Errorf("messi's face was not found: %+v", m.Matched)
	}
	if c := res.Images[1].Counts; c.Ignored < 1 || c.Truths != 0 {
		t.Errorf("the face under the ignore region: %+v, want it ignored", c)
	}
	if res.Recall != 1 || res.Total.Truths != 1 {
		t.Errorf("recall %v over %d faces, want 1 over 1", res.Recall, res.Total.Truths)
	}
	if b := res.Sizes[bucketOf(res.Sizes, 33)]; b.Name != "32-64" || b.Truths != 1 || b.Hits != 1 {
		t.Errorf("size bucket %+v, want the 33 px face found in 32-64", b)
	}
	if len(res.Classes) != 1 || res.Classes[0].Class != detect.Face {
		t.Errorf("classes %+v, want face alone", res.Classes)
	}
	if len(res.Sweep) != 13 {
		t.Fatalf("%d sweep points, want 13", len(res.Sweep))
	}
	for i := 1; i < len(res.Sweep); i++ {
		a, b := res.Sweep[i-1].Counts, res.Sweep[i].Counts
		if b.Hits > a.Hits || b.FP > a.FP {
			t.Errorf("raising the threshold to %.2f gained hits or false positives: %+v after %+v", res.Sweep[i].Threshold, b, a)
		}
	}

	var js strings.Builder
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal([]byte(js.String()), &back); err != nil {
		t.Fatalf("JSON does not read back: %v", err)
	}
	if back.Recall != res.Recall || len(back.Images) != 3 || back.Images[0].Truths[0].Outcome != Hit {
		t.Errorf("JSON read back differs: recall %v, %d images", back.Recall, len(back.Images))
	}

	html := filepath.Join(t.TempDir(), "html")
	if err := WriteHTML(html, res); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(html, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	jpegs, _ := filepath.Glob(filepath.Join(html, "*.jpg"))
	if len(jpegs) != 3 {
		t.Errorf("%d JPEGs written, want 3", len(jpegs))
	}
	for _, j := range jpegs {
		if !strings.Contains(string(page), filepath.Base(j)) {
			t.Errorf("index.html does not show %s", filepath.Base(j))
		}
		img := gocv.IMRead(j, gocv.IMReadColor)
		if img.Empty() {
			t.Errorf("%s does not decode", j)
		}
		img.Close()
	}
	if before >= 0 {
		if after := liveMats(); after != before {
			t.Errorf("%d gocv Mats leaked", after-before)
		}
	}
}

func TestEvaluateReportsUnreadableImages(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	labels := `{"version": 1, "images": [{"file": "broken.jpg", "objects": [{"class": "face", "box": [1, 1, 10, 10]}]},
  {"file": "missing.jpg", "objects": []}]}`
	if err := os.WriteFile(filepath.Join(dir, LabelsFile), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := &Evaluator{Detector: fixedDetector{}, Threshold: 0.6}
	res, err := ev.Run(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 2 || res.Evaluated != 0 || res.Total.Truths != 0 {
		t.Errorf("failed %d, evaluated %d, labelled %d; want 2, 0, 0", res.Failed, res.Evaluated, res.Total.Truths)
	}
	for _, im := range res.Images {
		if !strings.Contains(im.Error, im.Path) {
			t.Errorf("error %q does not name %s", im.Error, im.Path)
		}
	}
}

func TestEvaluateWithoutSweepDetector(t *testing.T) {
	dir := t.TempDir()
	img := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8UC3)
	defer img.Close()
	if !gocv.IMWrite(filepath.Join(dir, "a.png"), img) {
		t.Fatal("cannot write a.png")
	}
	labels := `{"version": 1, "images": [{"file": "a.png", "objects": [{"class": "face", "box": [10, 10, 20, 20]}, {"class": "face", "box": [60, 60, 20, 20]}]}]}`
	if err := os.WriteFile(filepath.Join(dir, LabelsFile), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := &Evaluator{Detector: fixedDetector{
		{Box: image.Rect(10, 10, 30, 30), Class: detect.Face, Score: 0.9},
		{Box: image.Rect(60, 60, 80, 80), Class: detect.Face, Score: 0.7},
		{Box: image.Rect(40, 0, 50, 10), Class: detect.Face, Score: 0.65},
	}, Threshold: 0.6}
	res, err := ev.Run(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		threshold float64
		hits, fp  int
	}{{0.6, 2, 1}, {0.65, 2, 1}, {0.7, 2, 0}, {0.75, 1, 0}, {0.9, 1, 0}}
	if len(res.Sweep) != 7 || res.Sweep[0].Threshold != 0.6 {
		t.Fatalf("sweep from %v with %d points, want 7 from the detector's own 0.6", res.Sweep[0].Threshold, len(res.Sweep))
	}
	for _, tc := range tests {
		for _, p := range res.Sweep {
			if p.Threshold == tc.threshold && (p.Counts.Hits != tc.hits || p.Counts.FP != tc.fp) {
				t.Errorf("at %.2f: %d hits %d FP, want %d and %d", tc.threshold, p.Counts.Hits, p.Counts.FP, tc.hits, tc.fp)
			}
		}
	}
	if res.Recall != 1 || res.FPPerImage != 1 {
		t.Errorf("recall %v, FP/image %v; want 1 and 1", res.Recall, res.FPPerImage)
	}
}

// fixedDetector finds the same boxes in every image.
type fixedDetector []detect.Detection

func (f fixedDetector) Detect(_ context.Context, _ gocv.Mat) ([]detect.Detection, error) {
	return f, nil
}

// liveMats counts open gocv Mats (-1 without -tags matprofile).
func liveMats() int { n, _ := testenv.LiveMats(); return n }
