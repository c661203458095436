package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
)

// Detector finds regions in one BGR image. *desens.Desensitizer is one.
type Detector interface {
	Detect(ctx context.Context, img gocv.Mat) ([]detect.Detection, error)
}

// Evaluator runs a detector over labelled directories.
type Evaluator struct {
	// Detector is configured as for production; its detections give the
	// headline figures.
	Detector Detector
	// Threshold is Detector's score threshold, for the report (and as the
	// floor of the sweep when SweepDetector is nil).
	Threshold float64
	// SweepDetector, if set, is the same detector at the low threshold
	// SweepFrom; the sweep re-scores its detections. A separate pass,
	// because lowering the threshold also lowers the detector's candidate
	// threshold, which changes what survives at higher thresholds: the
	// headline figures must be those of the production setting. When nil,
	// the sweep re-scores Detector's detections and leaves out thresholds
	// below Threshold.
	SweepDetector Detector
	SweepFrom     float64
	// Thresholds of the sweep; default SweepThresholds().
	Thresholds []float64
	// Keep, if set, says whether a detection passes at sweep threshold t,
	// for detectors whose bar depends on more than the score (the plate
	// detector's is lower for small boxes); nil: a score of at least t.
	Keep  func(d detect.Detection, t float64) bool
	Match MatchConfig
	// OnImage, if set, hears of each image as it is done.
	OnImage func(ImageResult)
}

// ImageResult is one image's outcome.
type ImageResult struct {
	// Name is the image as the user knows it: DIR/file.
	Name   string `json:"name"`
	Path   string `json:"path"` // the file read
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Matched
	Ignore []Box `json:"ignore,omitempty"`
	// DetectMillis is the time Detect took on this image.
	DetectMillis float64 `json:"detect_ms"`
	Error        string  `json:"error,omitempty"`
}

// Result is an evaluation's outcome.
type Result struct {
	Dirs      []string    `json:"dirs"`
	Threshold float64     `json:"threshold"`
	SweepFrom float64     `json:"sweep_from,omitempty"`
	Match     MatchConfig `json:"match"`
	// Evaluated counts the images that could be read and examined; Failed
	// those that could not (they are left out of every figure).
	Evaluated  int           `json:"evaluated"`
	Failed     int           `json:"failed"`
	Total      Counts        `json:"total"`
	Recall     float64       `json:"recall"`
	Precision  float64       `json:"precision"`
	FPPerImage float64       `json:"fp_per_image"`
	Sizes      []SizeBucket  `json:"sizes"`
	Classes    []ClassResult `json:"classes"`
	// Plates breaks the plate class down by plate type and width; nil when
	// no plate was labelled or found.
	Plates *PlateResult  `json:"plates,omitempty"`
	Sweep  []SweepPoint  `json:"sweep"`
	Images []ImageResult `json:"images"`
}

// Run evaluates every image of every directory. The error is non-nil only
// when a labels file is unusable or ctx ends; images that cannot be read or
// examined are reported in the result (Failed, ImageResult.Error).
func (e *Evaluator) Run(ctx context.Context, dirs ...string) (*Result, error) {
	if e.Detector == nil {
		return nil, errors.New("eval: no detector")
	}
	var sets []*Labels
	for _, dir := range dirs {
		l, err := LoadLabels(dir)
		if err != nil {
			return nil, err
		}
		sets = append(sets, l)
	}
	cfg := e.Match.withDefaults()
	res := &Result{Dirs: dirs, Threshold: e.Threshold, Match: cfg}
	floor := e.Threshold
	if e.SweepDetector != nil {
		floor = e.SweepFrom
		res.SweepFrom = e.SweepFrom
	}
	thresholds := e.Thresholds
	if thresholds == nil {
		thresholds = SweepThresholds()
	}
	for _, t := range thresholds {
		if float32(t) >= float32(floor) {
			res.Sweep = append(res.Sweep, SweepPoint{Threshold: t})
		}
	}
	for _, l := range sets {
		for _, im := range l.Images {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			ir := e.image(ctx, l, im, cfg, res.Sweep)
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if ir.Error != "" {
				res.Failed++
			}
			res.Images = append(res.Images, ir)
			if e.OnImage != nil {
				e.OnImage(ir)
			}
		}
	}
	res.summarize()
	return res, nil
}

// image evaluates one image and adds its sweep counts to sweep.
func (e *Evaluator) image(ctx context.Context, l *Labels, im Image, cfg MatchConfig, sweep []SweepPoint) ImageResult {
	ir := ImageResult{Name: filepath.Join(l.Dir, im.File), Path: l.Path(im), Width: im.Width, Height: im.Height, Ignore: im.Ignore}
	img, err := readImage(ir.Path)
	if err != nil {
		ir.Error = err.Error()
		return ir
	}
	defer img.Close()
	if (im.Width > 0 && img.Cols() != im.Width) || (im.Height > 0 && img.Rows() != im.Height) {
		ir.Error = fmt.Sprintf("%s: decoded %dx%d, labelled %dx%d (EXIF rotation?)", ir.Path, img.Cols(), img.Rows(), im.Width, im.Height)
		return ir
	}
	ir.Width, ir.Height = img.Cols(), img.Rows()
	bounds := image.Rect(0, 0, ir.Width, ir.Height)

	t := time.Now()
	dets, err := e.Detector.Detect(ctx, img)
	ir.DetectMillis = float64(time.Since(t).Microseconds()) / 1000
	if err != nil {
		ir.Error = fmt.Sprintf("%s: detect: %v", ir.Path, err)
		return ir
	}
	ir.Matched = Match(im.Objects, im.Ignore, dets, bounds, cfg)
	if len(sweep) == 0 {
		return ir
	}
	if e.SweepDetector != nil {
		if dets, err = e.SweepDetector.Detect(ctx, img); err != nil {
			ir.Error = fmt.Sprintf("%s: detect (sweep): %v", ir.Path, err)
			return ir
		}
	}
	for i := range sweep {
		sweep[i].Counts.Add(Match(im.Objects, im.Ignore, passing(dets, sweep[i].Threshold, e.Keep), bounds, cfg).Counts)
	}
	return ir
}

// readImage decodes an image as desens does (EXIF orientation applied), so
// the detector sees what it sees in production.
func readImage(path string) (gocv.Mat, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	img, err := gocv.IMDecode(data, gocv.IMReadColor)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("%s: decode: %w", path, err)
	}
	if img.Empty() {
		img.Close()
		return gocv.Mat{}, fmt.Errorf("%s: cannot decode image", path)
	}
	return img, nil
}

// WriteJSON writes the result, indented.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func itoa(n int) string { return strconv.Itoa(n) }
