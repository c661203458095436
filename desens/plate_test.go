package desens

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
)

// testPlate is one fixture of testdata/plates: a synthetic plate made from
// held-out fonts and photos (models/train/plates/mkevalset.py --test-crops).
type testPlate struct {
	path string
	box  image.Rectangle
}

func testPlates(t *testing.T) []testPlate {
	t.Helper()
	dir := filepath.Join(testenv.Root(), "testdata", "plates")
	data, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Images []struct {
			File    string
			Objects []struct{ Box [4]int }
		}
	}
	if err := json.Unmarshal(data, &l); err != nil {
		t.Fatal(err)
	}
	var out []testPlate
	for _, im := range l.Images {
		b := im.Objects[0].Box
		out = append(out, testPlate{filepath.Join(dir, im.File), image.Rect(b[0], b[1], b[0]+b[2], b[1]+b[3])})
	}
	return out
}

// faceAndPlateImage pastes a plate fixture into opencv-doc's messi5.jpg,
// below the known face, and returns the image and the plate's box in it.
func faceAndPlateImage(t *testing.T, p testPlate) (gocv.Mat, image.Rectangle) {
	t.Helper()
	img := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	crop := gocv.IMRead(p.path, gocv.IMReadColor)
	defer crop.Close()
	at := image.Pt(20, 145)
	dst := img.Region(image.Rectangle{Min: at, Max: at.Add(image.Pt(crop.Cols(), crop.Rows()))})
	crop.CopyTo(&dst)
	dst.Close()
	return img, p.box.Add(at)
}

// desens run --targets face,plate on a photo: both are found in one pass,
// the face under its ellipse and the plate under a rectangle that also
// covers its frame and screws.
func TestPlateAndFaceInOneRun(t *testing.T) {
	d := newTestDesensitizer(t, Options{Targets: []detect.Class{detect.Face, detect.Plate}})
	img, plate := faceAndPlateImage(t, testPlates(t)[0])
	defer img.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "street.png")
	if !gocv.IMWrite(in, img) {
		t.Fatal("cannot write test image")
	}
	out := filepath.Join(dir, "out", "street.png")
	rep := d.ProcessFile(t.Context(), in, out)
	if !rep.OK {
		t.Fatalf("process: %s", rep.Error)
	}
	if rep.Detections[detect.Face] < 1 || rep.Detections[detect.Plate] < 1 {
		t.Fatalf("report: %v detections; want a face and a plate", rep.Detections)
	}
	// The plate detector, its verifier, the verifier's first look, the
	// reader and the corner detector are all named, by role.
	var roles []string
	for _, m := range d.Models() {
		if m.Class == detect.Plate {
			roles = append(roles, m.Name+"/"+m.Role)
		}
	}
	if want := []string{"plate-det/", "plate-verify/verifier", "plate-verify-quick/quick-verifier", "ppocr-v4-rec/reader",
		"hyperlpr3-y5fu-640/corners"}; !slices.Equal(roles, want) {
		t.Errorf("plate models %v, want %v", roles, want)
	}
	res := gocv.IMRead(out, gocv.IMReadColor)
	defer res.Close()
	if after, before := detail(res, plate), detail(img, plate); after > before/10 {
		t.Errorf("plate at %v keeps %.0f%% of its detail", plate, 100*after/before)
	}
	// The cover is a rectangle: its corners, where an ellipse would leave
	// the frame and screws, are redacted too.
	cover := detect.PlateCover(plate)
	for _, c := range []image.Rectangle{
		image.Rect(cover.Min.X, cover.Min.Y, cover.Min.X+4, cover.Min.Y+3),
		image.Rect(cover.Max.X-4, cover.Max.Y-3, cover.Max.X, cover.Max.Y),
	} {
		if diff := meanDiff(img, res, c); diff < 1 {
			t.Errorf("cover corner %v unchanged (mean difference %.2f): plates must be hidden as rectangles", c, diff)
		}
	}
	if after, before := detail(res, messiFaceBox), detail(img, messiFaceBox); after > before/10 {
		t.Errorf("face keeps %.0f%% of its detail", 100*after/before)
	}
}

// messiFaceBox is the hand-labelled face in messi5.jpg (see
// internal/evalset/sources.go).
var messiFaceBox = image.Rect(219, 90, 257, 132)

// makePlateVideo builds a short clip at test time: a plate fixture,
// scaled up, drifting across the frame as a car ahead would.
func makePlateVideo(t *testing.T, dir string, p testPlate, frames int) (string, func(i int) image.Rectangle) {
	t.Helper()
	out := filepath.Join(dir, "plate.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "color=c=gray:s=640x360:r=15", "-loop", "1", "-i", p.path,
		"-filter_complex", "[1:v]scale=480:288[p];[0:v][p]overlay=x='n*4':y=36,format=yuv420p[v]",
		"-map", "[v]", "-frames:v", strconv.Itoa(frames), "-c:v", "libx264", "-preset", "ultrafast", out)
	return out, func(i int) image.Rectangle {
		return image.Rect(p.box.Min.X*3/2, p.box.Min.Y*3/2, p.box.Max.X*3/2, p.box.Max.Y*3/2).Add(image.Pt(i*4, 36))
	}
}

// desens run --targets plate on a video: the plate is hidden in every frame.
func TestPlateVideo(t *testing.T) {
	dir := t.TempDir()
	const frames = 12
	in, boxAt := makePlateVideo(t, dir, testPlates(t)[1], frames)
	d := newTestDesensitizer(t, Options{Targets: []detect.Class{detect.Plate}})
	before := map[int]float64{}
	eachFrame(t, in, func(i int, img gocv.Mat) { before[i] = detail(img, boxAt(i)) })

	out := filepath.Join(dir, "out", "plate.mp4")
	rep := d.ProcessFile(t.Context(), in, out)
	if !rep.OK {
		t.Fatalf("process: %s", rep.Error)
	}
	// Plates are searched for in every other frame (the default stride);
	// the tracker hides them in the frames between.
	searched := (frames + 1) / 2
	if rep.Frames != frames || rep.Detections[detect.Plate] < searched*8/10 {
		t.Errorf("report: %d frames, %d plates; want %d frames, a plate in most of the %d searched", rep.Frames, rep.Detections[detect.Plate], frames, searched)
	}
	n := eachFrame(t, out, func(i int, img gocv.Mat) {
		if after := detail(img, boxAt(i)); after > before[i]/10 {
			t.Errorf("output frame %d: plate at %v keeps %.0f%% of its detail", i, boxAt(i), 100*after/before[i])
		}
	})
	if n != frames {
		t.Errorf("output has %d frames, want %d", n, frames)
	}
	noTemps(t, filepath.Dir(out))
}
