package detect

import (
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/testenv"
)

// TestPlateStreamTiles checks that a stream's full-size regions cover the
// frame, are dealt evenly over Every frames, and overlap by more than the
// widest plate the half-size search might miss.
func TestPlateStreamTiles(t *testing.T) {
	d := newPlate(t)
	for _, size := range []image.Point{{1920, 1080}, {1280, 720}, {640, 360}} {
		for _, every := range []int{2, 6} {
			t.Run(fmt.Sprintf("%dx%d every %d", size.X, size.Y, every), func(t *testing.T) {
				s := &PlateStream{d: d, every: every}
				frame := gocv.NewMatWithSize(size.Y, size.X, gocv.MatTypeCV8UC3)
				defer frame.Close()
				if r := s.Detect(t.Context(), []gocv.Mat{frame}); r[0].Err != nil {
					t.Fatal(r[0].Err)
				}
				if len(s.fine) != every {
					t.Fatalf("%d slots, want %d", len(s.fine), every)
				}
				least, most := 1<<30, 0
				var all []image.Rectangle
				for _, slot := range s.fine {
					least, most = min(least, len(slot)), max(most, len(slot))
					all = append(all, slot...)
				}
				if most-least > 1 {
					t.Errorf("slots hold %d to %d regions: not evenly spread", least, most)
				}
				// Every plate-sized box in the frame lies whole in a region.
				for y := 0; y+plateOverlap <= size.Y; y += 37 {
					for x := 0; x+plateOverlap <= size.X; x += 41 {
						box := image.Rect(x, y, x+plateOverlap-2, y+plateOverlap/3)
						inside := false
						for _, r := range all {
							inside = inside || box.In(r)
						}
						if !inside {
							t.Fatalf("box %v lies whole in no region of %v", box, all)
						}
					}
				}
			})
		}
	}
}

// TestPlateStreamFinds puts a synthetic plate, shrunk to about 40 px
// wide, into a still 720p video: the stream must find it within Every
// frames and then at least once in every Every frames (the tracker's hold
// covers the frames between), and find nothing else with confidence.
func TestPlateStreamFinds(t *testing.T) {
	d := newPlate(t)
	frame, want := plateFrame(t)
	defer frame.Close()

	s := d.Stream()
	s.every = 4
	last := -1
	for i := 0; i < 3*s.every; i++ {
		res := s.Detect(t.Context(), []gocv.Mat{frame})
		if res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		for _, det := range res[0].Detections {
			switch {
			case IoU(det.Box, want) >= 0.4:
				last = i
			case det.Score >= 0.6:
				t.Errorf("frame %d: unexpected detection %v (%.2f)", i, det.Box, det.Score)
			}
		}
		if i-last >= s.every {
			t.Fatalf("frame %d: the plate at %v not found in the last %d frames", i, want, s.every)
		}
	}
}

// plateFrame is a still grey 720p frame holding a synthetic plate shrunk to
// about 40 px wide, and where the plate is.
func plateFrame(t *testing.T) (gocv.Mat, image.Rectangle) {
	t.Helper()
	var label plateLabel
	for _, l := range loadPlateLabels(t, "plates") {
		if l.File == "cn-blue_0.jpg" {
			label = l
		}
	}
	crop := gocv.IMRead(filepath.Join(testenv.Root(), "testdata", "plates", label.File), gocv.IMReadColor)
	defer crop.Close()
	const scale = 0.4
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(crop, &small, image.Pt(0, 0), scale, scale, gocv.InterpolationArea)
	frame := gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
	frame.SetTo(gocv.NewScalar(100, 100, 100, 0))
	at := image.Pt(900, 500)
	roi := frame.Region(image.Rectangle{Min: at, Max: at.Add(image.Pt(small.Cols(), small.Rows()))})
	small.CopyTo(&roi)
	roi.Close()
	b := label.Objects[0].Box
	return frame, scaleRect(image.Rect(b[0], b[1], b[0]+b[2], b[1]+b[3]), scale).Add(at)
}

// TestPlateStreamFinish shows the plate only in the last frame of a video,
// after 0 to Every-1 frames without it: whichever regions the last frame
// gets, Detect and then Finish on that frame find the plate.
func TestPlateStreamFinish(t *testing.T) {
	d := newPlate(t)
	frame, want := plateFrame(t)
	defer frame.Close()
	blank := gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
	defer blank.Close()
	blank.SetTo(gocv.NewScalar(100, 100, 100, 0))
	const every = 4
	for before := range every {
		t.Run(fmt.Sprintf("%d frames before", before), func(t *testing.T) {
			s := d.Stream()
			s.every = every
			for range before {
				if res := s.Detect(t.Context(), []gocv.Mat{blank}); res[0].Err != nil {
					t.Fatal(res[0].Err)
				}
			}
			res := s.Detect(t.Context(), []gocv.Mat{frame})
			if res[0].Err != nil {
				t.Fatal(res[0].Err)
			}
			fin := s.Finish(t.Context(), frame)
			if fin.Err != nil {
				t.Fatal(fin.Err)
			}
			found := slices.ContainsFunc(append(res[0].Detections, fin.Detections...), func(det Detection) bool {
				return IoU(det.Box, want) >= 0.4
			})
			if !found {
				t.Errorf("plate at %v not found in the last frame: Detect %v, Finish %v", want, res[0].Detections, fin.Detections)
			}
		})
	}
}
