package desens

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

// TestImageEXIF: a phone photo stored sideways, with an EXIF orientation
// and a GPS position, comes out upright, at the photo's size, with no EXIF
// left, its face hidden and nothing else. The input's EXIF is built by hand
// (withEXIF) and both input and output are read by readers that share no
// code with it or with desens: ffmpeg's JPEG decoder (ffprobe frame tags)
// and a walk over the JPEG's segments here.
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

	// The input carries what the test is about, as others read it.
	tags := ffprobeEXIF(t, in)
	for k, want := range map[string]string{"Orientation": "6",
		"GPSLatitudeRef": "N", "GPSLatitude": "31:1,13:1,49:1",
		"GPSLongitudeRef": "E", "GPSLongitude": "121:1,28:1,25:1"} {
		if tags[k] != want {
			t.Errorf("input EXIF as ffprobe reads it: %s = %q, want %q (all: %v)", k, tags[k], want, tags)
		}
	}
	exifIn := exifIFD0s(t, jpegSegments(t, mustRead(t, in)))
	if len(exifIn) != 1 || !exifIn[0][0x0112] || !exifIn[0][0x8825] {
		t.Fatalf("input: EXIF IFD0 tags %v, want one EXIF segment with orientation (0x0112) and a GPS IFD (0x8825)", exifIn)
	}
	upright := gocv.IMRead(in, gocv.IMReadColor) // OpenCV applies the orientation
	defer upright.Close()
	if upright.Cols() != 548 || upright.Rows() != 342 {
		t.Fatalf("input reads as %dx%d upright, want 548x342", upright.Cols(), upright.Rows())
	}
	if t.Failed() {
		t.FailNow()
	}

	d := newTestDesensitizer(t, Options{})
	out := filepath.Join(dir, "out", "phone.jpg")
	rep := d.ProcessFile(t.Context(), in, out)
	if !rep.OK {
		t.Fatal(rep.Error)
	}
	data := mustRead(t, out)
	if tags := ffprobeEXIF(t, out); len(tags) != 0 {
		t.Errorf("output carries metadata, as ffprobe reads it: %v", tags)
	}
	segs := jpegSegments(t, data)
	for _, tags := range exifIFD0s(t, segs) {
		t.Errorf("output carries EXIF: IFD0 tags %#x, a GPS IFD (0x8825): %v", slices.Sorted(maps.Keys(tags)), tags[0x8825])
	}
	for _, seg := range segs {
		if seg.marker == 0xE1 && !bytes.HasPrefix(seg.payload, []byte("Exif\x00\x00")) { // APP1: XMP and others
			t.Errorf("output carries an APP1 segment: %q", seg.payload[:min(32, len(seg.payload))])
		}
	}
	if bytes.Contains(data, []byte("Exif")) {
		t.Error(`output holds "Exif"`)
	}
	img, err := gocv.IMDecode(data, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Cols() != 548 || img.Rows() != 342 {
		t.Fatalf("output is %dx%d, want 548x342 (EXIF orientation applied)", img.Cols(), img.Rows())
	}
	checkOnlyFacesHidden(t, upright, img, rep)
}

// ffprobeEXIF returns the EXIF tags ffmpeg's JPEG decoder finds in a file
// (its frame tags), values with their padding removed ("31:1,13:1,49:1").
func ffprobeEXIF(t *testing.T, path string) map[string]string {
	t.Helper()
	testenv.FFmpeg(t)
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_frames", "-show_entries", "frame_tags", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p struct {
		Frames []struct {
			Tags map[string]string `json:"tags"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Frames) != 1 {
		t.Fatalf("ffprobe %s: %d frames", path, len(p.Frames))
	}
	tags := map[string]string{}
	for k, v := range p.Frames[0].Tags {
		tags[k] = strings.Join(strings.Fields(v), "")
	}
	return tags
}

// jpegSegment is one marker segment of a JPEG, its payload without the
// marker and length.
type jpegSegment struct {
	marker  byte
	payload []byte
}

// jpegSegments walks a JPEG's marker segments, across every scan to the
// end-of-image marker.
func jpegSegments(t *testing.T, data []byte) []jpegSegment {
	t.Helper()
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		t.Fatal("not a JPEG: no start-of-image marker")
	}
	var segs []jpegSegment
	for i := 2; ; {
		if i+2 > len(data) || data[i] != 0xFF {
			t.Fatalf("JPEG: no marker at byte %d", i)
		}
		m := data[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD9: // end of image
			return segs
		case m == 0x01 || m >= 0xD0 && m <= 0xD7: // no length
			i += 2
			continue
		}
		if i+4 > len(data) {
			t.Fatalf("JPEG: segment %02X cut short at byte %d", m, i)
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			t.Fatalf("JPEG: segment %02X at byte %d has length %d", m, i, n)
		}
		segs = append(segs, jpegSegment{m, data[i+4 : i+2+n]})
		i += 2 + n
		if m == 0xDA { // a scan: entropy-coded data up to the next marker that is not a stuffed 0xFF or a restart
			for i+1 < len(data) && (data[i] != 0xFF || data[i+1] == 0x00 || data[i+1] >= 0xD0 && data[i+1] <= 0xD7) {
				i++
			}
		}
	}
}

// exifIFD0s returns the IFD0 tags of each APP1 segment that holds EXIF
// ("Exif\0\0" and a TIFF block).
func exifIFD0s(t *testing.T, segs []jpegSegment) []map[uint16]bool {
	t.Helper()
	var found []map[uint16]bool
	for _, s := range segs {
		if s.marker == 0xE1 && bytes.HasPrefix(s.payload, []byte("Exif\x00\x00")) {
			found = append(found, ifd0Tags(t, s.payload[6:]))
		}
	}
	return found
}

// ifd0Tags lists the tags of a TIFF block's first IFD.
func ifd0Tags(t *testing.T, tiff []byte) map[uint16]bool {
	t.Helper()
	var bo binary.ByteOrder
	switch {
	case bytes.HasPrefix(tiff, []byte("II*\x00")):
		bo = binary.LittleEndian
	case bytes.HasPrefix(tiff, []byte("MM\x00*")):
		bo = binary.BigEndian
	default:
		t.Fatalf("EXIF without a TIFF header: % x", tiff[:min(8, len(tiff))])
	}
	if len(tiff) < 8 {
		t.Fatal("EXIF TIFF header cut short")
	}
	off := int(bo.Uint32(tiff[4:]))
	if off+2 > len(tiff) {
		t.Fatalf("EXIF IFD0 at %d, past the block's %d bytes", off, len(tiff))
	}
	n := int(bo.Uint16(tiff[off:]))
	if off+2+12*n > len(tiff) {
		t.Fatalf("EXIF IFD0: %d entries past the block's end", n)
	}
	tags := map[uint16]bool{}
	for e := range n {
		tags[bo.Uint16(tiff[off+2+12*e:])] = true
	}
	return tags
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
