package desens

import (
	"bytes"
	"encoding/binary"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/internal/testenv"
)

// withEXIF inserts an EXIF block after a JPEG's SOI marker, with the given
// orientation and a GPS position (31°13'49"N 121°28'25"E), the way a phone
// or dashcam writes them.
func withEXIF(jpeg []byte, orientation uint16) []byte {
	le := binary.LittleEndian
	var t bytes.Buffer
	t.WriteString("II*\x00")
	_ = binary.Write(&t, le, uint32(8))
	entry := func(tag, typ uint16, count, value uint32) {
		_ = binary.Write(&t, le, tag)
		_ = binary.Write(&t, le, typ)
		_ = binary.Write(&t, le, count)
		_ = binary.Write(&t, le, value)
	}
	// IFD0 at 8: 2 entries -> 2+24+4 = 30 bytes; GPS IFD at 38.
	_ = binary.Write(&t, le, uint16(2))
	entry(0x0112, 3, 1, uint32(orientation)) // Orientation
	entry(0x8825, 4, 1, 38)                  // GPS IFD pointer
	_ = binary.Write(&t, le, uint32(0))
	// GPS IFD at 38: 4 entries -> 2+48+4 = 54 bytes; rationals at 92 and 116.
	_ = binary.Write(&t, le, uint16(4))
	entry(0x0001, 2, 2, uint32('N'))
	entry(0x0002, 5, 3, 92)
	entry(0x0003, 2, 2, uint32('E'))
	entry(0x0004, 5, 3, 116)
	_ = binary.Write(&t, le, uint32(0))
	for _, v := range []uint32{31, 1, 13, 1, 49, 1, 121, 1, 28, 1, 25, 1} {
		_ = binary.Write(&t, le, v)
	}
	app1 := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}
	out := append([]byte{}, jpeg[:2]...)
	out = append(out, seg...)
	out = append(out, app1...)
	return append(out, jpeg[2:]...)
}

func TestImageEXIF(t *testing.T) {
	dir := t.TempDir()
	src := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")) // 548x342
	sideways := filepath.Join(dir, "sideways.jpg")
	// Stored turned 90° anticlockwise; orientation 6 tells viewers to turn it back.
	ffmpeg(t, "-i", src, "-vf", "transpose=2", "-q:v", "2", sideways)
	plain, err := os.ReadFile(sideways)
	if err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, filepath.Join(dir, "phone.jpg"), withEXIF(plain, 6))
	if !bytes.Contains(withEXIF(plain, 6), []byte("Exif")) {
		t.Fatal("test image has no EXIF")
	}

	d := newTestDesensitizer(t, Options{})
	out := filepath.Join(dir, "out", "phone.jpg")
	rep := d.ProcessFile(t.Context(), in, out)
	if !rep.OK {
		t.Fatal(rep.Error)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range [][]byte{[]byte("Exif"), {0xFF, 0xE1}} {
		if bytes.Contains(data, marker) {
			t.Errorf("output still carries EXIF (%q)", marker)
		}
	}
	img, err := gocv.IMDecode(data, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Cols() != 548 || img.Rows() != 342 {
		t.Fatalf("output is %dx%d, want 548x342 (EXIF orientation applied)", img.Cols(), img.Rows())
	}
	upright := gocv.IMRead(in, gocv.IMReadColor) // OpenCV applies the orientation
	defer upright.Close()
	checkOnlyFacesHidden(t, upright, img, rep)
}

// messiCrowdBox holds a spectator in the blurred stands behind the player
// in messi5.jpg (detect/face_test.go's messiCrowd): a real face, which a
// detector may find but need not.
var messiCrowdBox = image.Rect(70, 125, 145, 220)

// checkOnlyFacesHidden compares a desensitized messi5.jpg with its input,
// both upright at 548x342. The known face must be hidden (under a tenth of
// its detail left), and away from the photo's two faces every 16 px block
// must keep its colours and its detail up to the output's re-encoding
// noise: hiding anything there fails. The report must count one face or
// both, whichever the detector finds.
func checkOnlyFacesHidden(t *testing.T, in, out gocv.Mat, rep FileReport) {
	t.Helper()
	if n := rep.Detections[detect.Face]; n < 1 || n > 2 {
		t.Errorf("%d faces reported; the photo holds the player's and, maybe found, a spectator's", n)
	}
	if after, before := detail(out, messiFaceBox), detail(in, messiFaceBox); after > before/10 {
		t.Errorf("face at %v keeps %.0f%% of its detail", messiFaceBox, 100*after/before)
	}
	// The faces' redactions grow their boxes (Expand, the ellipse's slack):
	// blocks this near them are theirs.
	faces := []image.Rectangle{messiFaceBox.Inset(-messiFaceBox.Dx()), messiCrowdBox.Inset(-messiCrowdBox.Dx() / 2)}
	const block = 16
	for y := 0; y+block <= out.Rows(); y += block {
		for x := 0; x+block <= out.Cols(); x += block {
			b := image.Rect(x, y, x+block, y+block)
			if b.Overlaps(faces[0]) || b.Overlaps(faces[1]) {
				continue
			}
			if diff := meanDiff(in, out, b); diff > maxNoiseDiff {
				t.Errorf("block %v away from the faces changed by %.1f grey levels on average", b, diff)
			}
			if before, after := detail(in, b), detail(out, b); before > minBlockDetail && after < before*minKeptBlockDetail {
				t.Errorf("block %v away from the faces keeps %.0f%% of its detail", b, 100*after/before)
			}
		}
	}
}

// Thresholds of checkOnlyFacesHidden. Re-encoding changes a block of the
// photo by a few grey levels and keeps well over half its detail; a hidden
// block keeps a few percent. Blocks with almost no detail have none to lose.
const (
	maxNoiseDiff       = 12.0
	minKeptBlockDetail = 0.3
	minBlockDetail     = 50.0
)

func TestImageFormatsKeepTheirFormat(t *testing.T) {
	dir := t.TempDir()
	src := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg"))
	d := newTestDesensitizer(t, Options{})
	for _, ext := range []string{".png", ".bmp", ".webp", ".tiff"} {
		t.Run(ext, func(t *testing.T) {
			in := filepath.Join(dir, "in"+ext)
			ffmpeg(t, "-i", src, in)
			out := filepath.Join(dir, "out", "in"+ext)
			rep := d.ProcessFile(t.Context(), in, out)
			if !rep.OK {
				t.Fatal(rep.Error)
			}
			before, after := gocv.IMRead(in, gocv.IMReadColor), gocv.IMRead(out, gocv.IMReadColor)
			defer before.Close()
			defer after.Close()
			if after.Cols() != 548 || after.Rows() != 342 {
				t.Fatalf("output reads as %dx%d, want 548x342", after.Cols(), after.Rows())
			}
			checkOnlyFacesHidden(t, before, after, rep)
			head := make([]byte, 12)
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, _ = f.Read(head)
			if !imageMagic(head) {
				t.Errorf("output does not start like an image: % x", head)
			}
			if k, _ := KindOf(out); k != KindImage {
				t.Errorf("output kind %q", k)
			}
		})
	}
}
