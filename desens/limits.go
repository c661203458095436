package desens

import (
	"context"
	"sync"

	"gocv.io/x/gocv"
	"golang.org/x/sync/semaphore"

	"github.com/desens/desens/desens/detect"
)

// limits bound, across all the files a Desensitizer works on at once,
// the three resources a file uses in turn; Options.Workers bounds the
// files themselves. A nil semaphore sets no bound beyond Workers.
//
//   - downloads: whole-object reads from a bucket (images, sidecars),
//     whose bytes are held in memory; a video streams at its decoder's
//     pace and is not counted;
//   - inference: detector calls, which share the loaded sessions (and a
//     GPU's memory);
//   - uploads: outputs being written to a bucket, from Create to Commit
//     or Abort, each holding up to (concurrency+1) parts in memory.
type limits struct {
	downloads, inference, uploads *semaphore.Weighted
}

func newLimits(b BatchOptions) limits {
	sem := func(n int) *semaphore.Weighted {
		if n <= 0 {
			return nil
		}
		return semaphore.NewWeighted(int64(n))
	}
	return limits{downloads: sem(b.Downloads), inference: sem(b.Inference), uploads: sem(b.Uploads)}
}

// acquire takes a slot of s (none when s is nil) and returns its release.
func acquire(ctx context.Context, s *semaphore.Weighted) (func(), error) {
	if s == nil {
		return func() {}, nil
	}
	if err := s.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { s.Release(1) }) }, nil
}

// limitInference wraps dets so that each call takes an inference slot.
func (l limits) limitInference(dets []Detector) []Detector {
	if l.inference == nil {
		return dets
	}
	out := make([]Detector, len(dets))
	for i, d := range dets {
		out[i] = limitedDetector{Detector: d, sem: l.inference}
	}
	return out
}

type limitedDetector struct {
	Detector
	sem *semaphore.Weighted
}

// Detect waits for a slot; a run cancelled meanwhile fails every frame,
// which the pipeline then masks or drops with the file.
func (d limitedDetector) Detect(ctx context.Context, frames []gocv.Mat) []detect.Result {
	release, err := acquire(ctx, d.sem)
	if err != nil {
		res := make([]detect.Result, len(frames))
		for i := range res {
			res[i].Err = err
		}
		return res
	}
	defer release()
	return d.Detector.Detect(ctx, frames)
}
