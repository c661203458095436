package detect

import (
	"context"
	"image"
	"image/color"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

func TestNotPlate(t *testing.T) {
	for _, tc := range []struct {
		text string
		conf float64
		want bool
	}{
		{"便利店", 0.97, true},           // a shop sign
		{"加油站", 0.79, false},          // not sure enough
		{"PHARMACY", 0.98, true},      // a word
		{"ONE WAY", 0.96, true},       // words with a space
		{"OMRBVG", 0.92, false},       // letters alone, but not sure enough: a tilted plate
		{"BUS", 0.99, false},          // too short to tell from a plate's letters
		{"粤B·12345", 0.99, false},     // a Chinese plate
		{"京B·D3J0警", 0.99, false},     // one with a suffix
		{"粤之·MOT7港", 0.95, false},     // a misread one: digits keep it
		{"MAX 5 KM", 0.99, false},     // a sign with a digit is the verifier's to judge
		{"", 0, false},                // read nothing (a blurred plate)
		{"京X", 0.94, false},           // province and letter, the rest unread
		{"ＰＨＡＲＭＡＣＹ", 0.99, false},     // full-width letters are not counted as ASCII
		{"24小时营业", 0.95, true},        // a sign line: three Chinese characters side by side
		{"营业时间8:00", 0.9, true},       // the same, with a time
		{"196-3219-0751", 0.95, true}, // a phone number: more digits than a plate holds
		{"苏E·D51712", 0.97, false},    // a green new-energy plate: six digits
		{"粤粤B·12345", 0.9, false},     // the province read twice: digits keep it
		{"24小时营业", 0.7, false},        // not sure enough
		{"特价8579", 0.95, true},        // a price board: two Chinese characters and no letter
		{"电话9·9", 0.9, true},          // the same
	} {
		if got := notPlate(reading{text: tc.text, conf: tc.conf}); got != tc.want {
			t.Errorf("notPlate(%q, %.2f) = %v, want %v", tc.text, tc.conf, got, tc.want)
		}
	}
}

func TestCTCGreedy(t *testing.T) {
	keys := []string{"A", "1"}
	// Steps: A, A (merged), blank, A (new), 1, blank.
	p := []float32{
		0.1, 0.8, 0.1,
		0.2, 0.7, 0.1,
		0.9, 0.05, 0.05,
		0.3, 0.6, 0.1,
		0.1, 0.1, 0.8,
		0.6, 0.2, 0.2,
	}
	got := ctcGreedy(p, 6, 3, keys)
	if got.text != "AA1" {
		t.Errorf("text %q, want AA1", got.text)
	}
	if want := (0.8 + 0.6 + 0.8) / 3; got.conf < want-1e-6 || got.conf > want+1e-6 {
		t.Errorf("conf %.4f, want %.4f", got.conf, want)
	}
	if r := ctcGreedy(p[6:9], 1, 3, keys); r.text != "" || r.conf != 0 {
		t.Errorf("all blank: got %+v", r)
	}
}

// TestPlateReaderReads runs the embedded recogniser on printed text: a
// word it must read confidently (and rule out), and a plate-style string
// with digits it must not rule out.
func TestPlateReaderReads(t *testing.T) {
	rt := testenv.ORT(t)
	r, err := newPlateReader(rt, models.TextRec().Data, models.TextRecKeys(), onnx.SessionOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(200, 200, 200, 0), 240, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.PutText(&img, "PHARMACY", image.Pt(40, 80), gocv.FontHersheySimplex, 2, color.RGBA{20, 20, 20, 0}, 4)
	gocv.PutText(&img, "AB 1234", image.Pt(40, 200), gocv.FontHersheySimplex, 2, color.RGBA{20, 20, 20, 0}, 4)
	rs, err := r.read(context.Background(), img, []image.Rectangle{image.Rect(30, 30, 420, 95), image.Rect(30, 150, 340, 215)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d readings for 2 boxes", len(rs))
	}
	t.Logf("read %q (%.3f) and %q (%.3f)", rs[0].text, rs[0].conf, rs[1].text, rs[1].conf)
	if !strings.Contains(rs[0].text, "PHARMACY") || !notPlate(rs[0]) {
		t.Errorf("sign read as %q (%.2f), ruled out %v; want PHARMACY, ruled out", rs[0].text, rs[0].conf, notPlate(rs[0]))
	}
	if !strings.Contains(strings.ReplaceAll(rs[1].text, " ", ""), "1234") || notPlate(rs[1]) {
		t.Errorf("plate-like text read as %q (%.2f), ruled out %v; want its digits, kept", rs[1].text, rs[1].conf, notPlate(rs[1]))
	}
}

// TestPlateReadOutSparesSureBoxes: a box read as a word is dropped, unless
// the detector and the verifier are both sure of it and the word is short
// (a double-row plate read in one line comes out as a few letters); a long
// word is dropped all the same, and a large box still needs its digits.
func TestPlateReadOutSparesSureBoxes(t *testing.T) {
	rt := testenv.ORT(t)
	r, err := newPlateReader(rt, models.TextRec().Data, models.TextRecKeys(), onnx.SessionOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := &PlateDetector{cfg: DefaultPlateConfig(), verify: &plateVerifier{}, read: r}
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(200, 200, 200, 0), 240, 480, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.PutText(&img, "PHARMACY", image.Pt(40, 80), gocv.FontHersheySimplex, 2, color.RGBA{20, 20, 20, 0}, 4)
	gocv.PutText(&img, "HOTEL", image.Pt(40, 200), gocv.FontHersheySimplex, 2, color.RGBA{20, 20, 20, 0}, 4)
	hotel := gocv.GetTextSize("HOTEL", gocv.FontHersheySimplex, 2, 4)
	long, short := image.Rect(30, 30, 420, 95), image.Rect(30, 150, 50+hotel.X, 215)
	rs, err := r.read(t.Context(), img, []image.Rectangle{long, short})
	if err != nil {
		t.Fatal(err)
	}
	if !notPlate(rs[0]) || !notPlate(rs[1]) {
		t.Fatalf("read %q (%.2f) and %q (%.2f): both must be words the reader rules out", rs[0].text, rs[0].conf, rs[1].text, rs[1].conf)
	}
	sure, unsure := candidate{peak: 0.5, ver: 0.99}, candidate{peak: 0.45, ver: 0.999}
	for _, tc := range []struct {
		name        string
		box         image.Rectangle
		c           candidate
		large, keep bool
	}{
		{"short word, unsure", short, unsure, false, false},
		{"short word, verifier unsure", short, candidate{peak: 0.8, ver: 0.98}, false, false},
		{"short word, both sure", short, sure, false, true},
		{"long word, both sure", long, sure, false, false},
		{"short word, both sure, but large and no digits", short, candidate{peak: 0.8, ver: 1}, true, false},
	} {
		dets, err := d.readOut(t.Context(), img, []Detection{{Box: tc.box, Class: Plate}}, []bool{tc.large}, []bool{d.readSure(tc.c)}, true)
		if err != nil {
			t.Fatal(err)
		}
		if keep := len(dets) == 1; keep != tc.keep {
			t.Errorf("%s: kept %v, want %v", tc.name, keep, tc.keep)
		}
	}
	if d.cfg.ReadSurePeak = 0; d.readSure(candidate{peak: 1, ver: 1}) {
		t.Error("ReadSurePeak 0 still spares boxes from the reader")
	}
}

// The green plate of testdata/eval/plates-cn's street photo, seen from
// the side (苏E D51712): straightened by its corners it reads as a plate,
// with its digits; read as its box, with fewer.
func TestReadQuad(t *testing.T) {
	d := newPlate(t)
	img := readPhoto(t, "eval/plates-cn", "hyperlpr_test_img.jpg")
	quad := []image.Point{{1761, 792}, {1864, 754}, {1865, 813}, {1760, 851}}
	r, err := d.read.readQuad(t.Context(), img, quad)
	if err != nil {
		t.Fatal(err)
	}
	box, err := d.read.read(t.Context(), img, []image.Rectangle{image.Rect(1760, 754, 1865, 851)})
	if err != nil {
		t.Fatal(err)
	}
	if !readsAsPlate(r) || digits(r.text) < 4 || digits(box[0].text) >= digits(r.text) {
		t.Errorf("straightened: read %q (%.2f), as its box %q (%.2f); want the plate's digits straightened", r.text, r.conf, box[0].text, box[0].conf)
	}
	// Corners in any order round the plate, or starting elsewhere, read
	// the same.
	rev := []image.Point{quad[2], quad[1], quad[0], quad[3]}
	if r2, err := d.read.readQuad(t.Context(), img, rev); err != nil || r2.text != r.text {
		t.Errorf("corners reordered: read %q, %v; want %q", r2.text, err, r.text)
	}
	if _, err := d.read.readQuad(t.Context(), img, quad[:3]); err == nil {
		t.Error("three corners: no error")
	}
	line := []image.Point{{10, 10}, {20, 20}, {30, 30}, {40, 40}}
	if r, err := d.read.readQuad(t.Context(), img, line); err != nil || r.text != "" {
		t.Errorf("corners in a line: read %q, %v; want nothing, no error", r.text, err)
	}
}
