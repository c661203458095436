package detect

import (
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

// TestBatchedDetectorsMatchOneAtATime: the face detector (YuNet proposing,
// BlazeFace's second look) and the plate detector (every model it runs),
// built with a Batch of 8, find in each image what the same detectors
// built with a Batch of 1 find there, while three goroutines search the
// images at once, as three files would share the models, and so do two
// plate streams (videos) at once: the same boxes, with scores equal within
// float tolerance.
func TestBatchedDetectorsMatchOneAtATime(t *testing.T) {
	rt := testenv.ORT(t)
	type job struct {
		name  string
		img   gocv.Mat
		plate bool
	}
	var jobs []job
	for _, f := range []string{
		filepath.Join(testenv.OpenCVData, "messi5.jpg"),
		filepath.Join(testenv.Root(), "testdata", "plates", "cn-blue_0.jpg"),
		filepath.Join(testenv.Root(), "testdata", "plates", "eu_3.jpg"),
	} {
		img := gocv.IMRead(testenv.File(t, f), gocv.IMReadColor)
		if img.Empty() {
			t.Fatalf("cannot read %s", f)
		}
		defer img.Close()
		jobs = append(jobs, job{name: filepath.Base(f), img: img, plate: len(jobs) > 0})
	}
	type detectors struct {
		face  *FaceDetector
		plate *PlateDetector
	}
	build := func(batch int) detectors {
		so := onnx.SessionOptions{Threads: 1, Batch: batch, BatchWait: 5 * time.Millisecond}
		fc := DefaultFaceConfig()
		fc.Proposer = ProposerYuNet
		fc.MaxVerify = 8 // enough second looks to batch, few enough to be quick
		fd, err := NewFace(rt, FaceModels{Detector: models.FaceYuNet().Data, Verifier: models.FaceVerify().Data}, fc, so)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fd.Close() })
		pd, err := NewPlate(rt, defaultPlateModels(), DefaultPlateConfig(), so)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pd.Close() })
		return detectors{fd, pd}
	}
	alone, batched := build(1), build(8)
	run := func(ds detectors, j job) ([]Detection, error) {
		if j.plate {
			return ds.plate.DetectFrame(t.Context(), j.img)
		}
		return ds.face.DetectFrame(t.Context(), j.img)
	}

	want := make([][]Detection, len(jobs))
	for i, j := range jobs {
		var err error
		if want[i], err = run(alone, j); err != nil {
			t.Fatal(err)
		}
	}
	const files = 3
	var wg sync.WaitGroup
	for f := range files {
		wg.Go(func() {
			for k := range jobs {
				i := (k + f) % len(jobs) // each file in its own order
				got, err := run(batched, jobs[i])
				if err != nil {
					t.Errorf("file %d, %s: %v", f, jobs[i].name, err)
					return
				}
				if msg := sameDetections(got, want[i]); msg != "" {
					t.Errorf("file %d, %s: batched %s", f, jobs[i].name, msg)
				}
			}
		})
	}
	wg.Wait()

	// A video's plate stream searches a frame's parts at once when
	// batching: three frames of each plate image, as two files.
	streamed := func(ds detectors, img gocv.Mat) ([][]Detection, error) {
		s := ds.plate.Stream()
		var out [][]Detection
		for range 3 {
			r := s.Detect(t.Context(), []gocv.Mat{img})
			if r[0].Err != nil {
				return nil, r[0].Err
			}
			out = append(out, r[0].Detections)
		}
		return out, nil
	}
	for _, j := range jobs[1:] {
		want, err := streamed(alone, j.img)
		if err != nil {
			t.Fatal(err)
		}
		for f := range 2 {
			wg.Go(func() {
				got, err := streamed(batched, j.img)
				if err != nil {
					t.Errorf("stream %d, %s: %v", f, j.name, err)
					return
				}
				for i := range got {
					if msg := sameDetections(got[i], want[i]); msg != "" {
						t.Errorf("stream %d, %s, frame %d: batched %s", f, j.name, i, msg)
					}
				}
			})
		}
		wg.Wait()
	}
	for _, s := range rt.BatchStats() {
		t.Logf("%s: %d runs, %d inputs, %.2f a run, at most %d", s.Model, s.Runs, s.Items, s.MeanItems(), s.MaxItems)
	}
}

// sameDetections says how got differs from want, or "" when each box is
// the same within a pixel and each score within 1e-3.
func sameDetections(got, want []Detection) string {
	if len(got) != len(want) {
		return fmt.Sprintf("found %d, alone %d: %v vs %v", len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		d := g.Box.Min.Sub(w.Box.Min).Add(g.Box.Max.Sub(w.Box.Max))
		if g.Class != w.Class || abs(d.X) > 2 || abs(d.Y) > 2 || math.Abs(float64(g.Score-w.Score)) > 1e-3 {
			return fmt.Sprintf("detection %d is %v, alone %v", i, g, w)
		}
	}
	return ""
}
