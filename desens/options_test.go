package desens

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/trajectory"
)

// TestOptionsBadValues: every option out of range or unknown stops New
// with an ErrOptions error that names the value, before any model loads.
func TestOptionsBadValues(t *testing.T) {
	overlay := []detect.Class{detect.Overlay}
	for _, tc := range []struct {
		name   string
		opts   Options
		saying string
	}{
		{"unknown target", Options{Targets: []detect.Class{"car"}}, `"car"`},
		{"negative workers", Options{Workers: -1}, "workers -1"},
		{"face threshold at 1", Options{Face: FaceOptions{Threshold: 1}}, "face threshold 1.00"},
		{"negative face threshold", Options{Face: FaceOptions{Threshold: -0.1}}, "face threshold -0.10"},
		{"face scale over 4", Options{Face: FaceOptions{Scale: 5}}, "face scale 5.00"},
		{"negative face scale", Options{Face: FaceOptions{Scale: -1}}, "face scale -1.00"},
		{"face verifier given and off", Options{Face: FaceOptions{VerifyModel: "v.onnx", NoVerify: true}}, "face verifier v.onnx"},
		{"unknown face proposer", Options{Face: FaceOptions{Proposer: "haar"}}, `"haar"`},
		{"plate threshold at 1", Options{Plate: PlateOptions{Threshold: 1}}, "plate threshold 1.00"},
		{"plate verifier given and off", Options{Plate: PlateOptions{VerifyModel: "v.onnx", NoVerify: true}}, "plate verifier v.onnx"},
		{"plate reader given and off", Options{Plate: PlateOptions{ReadModel: "r.onnx", NoRead: true}}, "plate reader r.onnx"},
		{"unknown overlay mode", Options{Targets: overlay, Overlay: OverlayOptions{Mode: "gps"}}, `"gps"`},
		{"roi mode without a file", Options{Targets: overlay, Overlay: OverlayOptions{Mode: detect.OverlayROI}}, "ROI file"},
		{"negative overlay interval", Options{Targets: overlay, Overlay: OverlayOptions{Every: -2}}, "overlay every -2"},
		{"negative face stride", Options{Face: FaceOptions{Stride: -1}}, "face stride -1"},
		{"negative face lead", Options{Face: FaceOptions{Lead: -1}}, "face lead -1"},
		{"negative plate stride", Options{Plate: PlateOptions{Stride: -1}}, "plate stride -1"},
		{"unknown style", Options{Redact: RedactOptions{Style: "smudge"}}, `"smudge"`},
		{"unknown shape", Options{Redact: RedactOptions{Shape: "star"}}, `"star"`},
		{"expand under 1", Options{Redact: RedactOptions{Expand: 0.5}}, "expand 0.5"},
		{"unknown preset", Options{Encode: EncodeOptions{Preset: "quick"}}, `"quick"`},
		{"crf over 51", Options{Encode: EncodeOptions{CRF: 52}}, "crf 52"},
		{"negative crf", Options{Encode: EncodeOptions{CRF: -1}}, "crf -1"},
		{"unknown device", Options{Runtime: RuntimeOptions{Device: "tpu"}}, `"tpu"`},
		{"negative threads", Options{Runtime: RuntimeOptions{Threads: -2}}, "threads -2"},
		{"negative batch size", Options{Runtime: RuntimeOptions{BatchSize: -1}}, "batch size -1"},
		{"negative batch", Options{Runtime: RuntimeOptions{Batch: -1}}, "batch -1"},
		{"negative batch wait", Options{Runtime: RuntimeOptions{BatchWait: -time.Millisecond}}, "batch wait -1ms"},
		{"trajectory grid of 0", Options{Trajectory: trajectory.Policy{Mode: trajectory.Coarsen}}, "grid"},
		{"unknown archive policy", Options{Archive: ArchiveOptions{Other: "keep"}}, `"keep"`},
		{"negative archive nesting", Options{Archive: ArchiveOptions{MaxNesting: -1}}, "archive max nesting -1"},
		{"negative archive ratio", Options{Archive: ArchiveOptions{MaxRatio: -3}}, "archive max ratio -3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.opts)
			if err == nil {
				d.Close()
				t.Fatal("New accepted it")
			}
			if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tc.saying) {
				t.Fatalf("err %q; want ErrOptions naming %s", err, tc.saying)
			}
		})
	}
}

// TestOptionsDefaults: the zero value and zero fields get the documented
// defaults.
func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"targets", len(o.Targets) == 1 && o.Targets[0] == detect.Face, true},
		{"hold", o.Hold, 14},
		{"style", o.Redact.Style, StyleBlur},
		{"shape", o.Redact.Shape, ShapeEllipse},
		{"expand", o.Redact.Expand, 1.3},
		{"preset", o.Encode.Preset, "veryfast"},
		{"crf", o.Encode.CRF, 20},
		{"device", o.Runtime.Device, "cpu"},
		{"batch size", o.Runtime.BatchSize, 4},
		{"batch on the cpu", o.Runtime.Batch, 1},
		{"batch wait", o.Runtime.BatchWait, 2 * time.Millisecond},
		{"workers at least 1", o.Workers >= 1, true},
		{"archive other", o.Archive.Other, ArchiveDrop},
		{"archive nesting", o.Archive.MaxNesting, 2},
		{"archive member bytes", o.Archive.MaxMemberBytes, int64(16 << 30)},
		{"archive total bytes", o.Archive.MaxTotalBytes, int64(64 << 30)},
		{"archive ratio", o.Archive.MaxRatio, 200.0},
		{"archive members", o.Archive.MaxMembers, 100_000},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if o, err = (Options{Runtime: RuntimeOptions{Device: "CUDA"}}).withDefaults(); err != nil || o.Runtime.Device != "cuda" || o.Runtime.Batch != 8 {
		t.Errorf("device CUDA: %q batch %d, %v; want cuda batch 8", o.Runtime.Device, o.Runtime.Batch, err)
	}
}

// TestStreamOptionsSchedule: faces' Every and Stride default to 6 and
// 1, plates' to 6 and 2, and neither reaches past Hold+1 frames (plates:
// nor past plateReach+1), so the tracker's lead-in covers an object found
// late and its carried boxes every frame between two searches.
func TestStreamOptionsSchedule(t *testing.T) {
	face := func(o FaceOptions) func(int) (int, int, error) {
		return func(hold int) (int, int, error) {
			got, err := o.withDefaults(hold)
			return got.Every, got.Stride, err
		}
	}
	plate := func(o PlateOptions) func(int) (int, int, error) {
		return func(hold int) (int, int, error) {
			got, err := o.withDefaults(hold)
			return got.Every, got.Stride, err
		}
	}
	for _, tc := range []struct {
		name          string
		schedule      func(hold int) (every, stride int, err error)
		hold          int
		every, stride int
	}{
		{"face defaults", face(FaceOptions{}), 14, 6, 1},
		{"face given", face(FaceOptions{Every: 8, Stride: 3}), 14, 8, 3},
		{"face short hold", face(FaceOptions{Every: 12, Stride: 4}), 2, 3, 3},
		{"face no tracker", face(FaceOptions{Stride: 2}), 0, 1, 1},
		{"plate defaults", plate(PlateOptions{}), 14, 6, 2},
		{"plate every frame", plate(PlateOptions{Stride: 1}), 14, 6, 1},
		{"plate past the reach", plate(PlateOptions{Every: 9, Stride: 9}), 14, plateReach + 1, plateReach + 1},
		{"plate no tracker", plate(PlateOptions{}), 0, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			every, stride, err := tc.schedule(tc.hold)
			if err != nil {
				t.Fatal(err)
			}
			if every != tc.every || stride != tc.stride {
				t.Errorf("every %d stride %d, want %d and %d", every, stride, tc.every, tc.stride)
			}
		})
	}
}

// TestFaceLead: a face's lead reaches two rounds of the enlarged search
// back by default, at least 24 frames, and never less than Hold.
func TestFaceLead(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       FaceOptions
		hold, want int
	}{
		{"default", FaceOptions{}, 14, 24},
		{"every small", FaceOptions{Every: 4}, 14, 24},
		{"every small, long hold", FaceOptions{Every: 4}, 30, 30},
		{"every capped by hold", FaceOptions{Every: 20}, 14, 30},
		{"given", FaceOptions{Lead: 40}, 14, 40},
		{"under hold", FaceOptions{Lead: 5}, 14, 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.opts.withDefaults(tc.hold)
			if err != nil {
				t.Fatal(err)
			}
			if got.Lead != tc.want {
				t.Errorf("lead %d, want %d", got.Lead, tc.want)
			}
		})
	}
}

func TestParseTargets(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []detect.Class
		ok   bool
	}{
		{"face", []detect.Class{detect.Face}, true},
		{" Face, plate ,overlay", []detect.Class{detect.Face, detect.Plate, detect.Overlay}, true},
		{"face,,plate", []detect.Class{detect.Face, detect.Plate}, true},
		{"", nil, false},
		{"face,car", nil, false},
	} {
		got, err := ParseTargets(tc.in)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrOptions)) {
			t.Errorf("ParseTargets(%q): %v", tc.in, err)
			continue
		}
		if strings.Join(classes(got), ",") != strings.Join(classes(tc.want), ",") {
			t.Errorf("ParseTargets(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func classes(cs []detect.Class) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}
