package detect

import (
	"fmt"
	"image"
	"image/color"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"
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
	s.every, s.stride.n = 4, 1
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
	return plateFrameAt(t, 0.4)
}

// plateFrameAt is plateFrame with the plate crop scaled by scale.
func plateFrameAt(t *testing.T, scale float64) (gocv.Mat, image.Rectangle) {
	t.Helper()
	var label plateLabel
	for _, l := range loadPlateLabels(t, "plates") {
		if l.File == "cn-blue_0.jpg" {
			label = l
		}
	}
	crop := readPhoto(t, "plates", label.File)
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
// gets, Detect and then Finish on that frame find the plate. With a
// stride of 2 it shows the plate in every frame: the frames between
// searches get nothing, and Finish finds the plate in the last frame,
// searched or not.
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
			s.every, s.stride.n = every, 1
			found := slices.ContainsFunc(detectLast(t, s, before, blank, frame), func(det Detection) bool {
				return IoU(det.Box, want) >= 0.4
			})
			if !found {
				t.Errorf("plate at %v not found in the last frame", want)
			}
		})
	}
	for before := range 2 * every {
		t.Run(fmt.Sprintf("stride 2, %d frames before", before), func(t *testing.T) {
			s := d.Stream()
			s.every, s.stride.n = every, 2
			for i := range before {
				res := s.Detect(t.Context(), []gocv.Mat{frame})
				if res[0].Err != nil {
					t.Fatal(res[0].Err)
				}
				if i%2 == 1 && len(res[0].Detections) > 0 {
					t.Errorf("frame %d, not to be searched: found %v", i, res[0].Detections)
				}
			}
			found := slices.ContainsFunc(detectLast(t, s, 0, blank, frame), func(det Detection) bool {
				return IoU(det.Box, want) >= 0.4
			})
			if !found {
				t.Errorf("plate at %v not found in the last frame", want)
			}
		})
	}
}

// TestPlateStreamReadsContext: a stream reads each box widened along its
// line, so a part of a phone number that could be a plate ("L 0571" of
// "TEL 0571 8765 4321") is dropped, while a plate below it is kept.
func TestPlateStreamReadsContext(t *testing.T) {
	d := newPlate(t)
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(120, 130, 125, 0), 720, 1280, gocv.MatTypeCV8UC3)
	defer frame.Close()
	// a sign: a white board with a phone number in black
	const text, scale, thick = "TEL 0571 8765 4321", 2.2, 4
	font := gocv.FontHersheyDuplex
	gocv.Rectangle(&frame, image.Rect(60, 100, 1220, 200), color.RGBA{240, 240, 240, 0}, -1)
	org := image.Pt(100, 175)
	gocv.PutText(&frame, text, org, font, scale, color.RGBA{20, 20, 20, 0}, thick)
	x0 := org.X + gocv.GetTextSize("TE", font, scale, thick).X
	x1 := org.X + gocv.GetTextSize("TEL 0571", font, scale, thick).X
	part := image.Rect(x0, 115, x1+6, 190)
	// a plate from the committed crops, pasted below it
	var plate image.Rectangle
	for _, im := range loadPlateLabels(t, "plates") {
		if im.File != "cn-blue_0.jpg" {
			continue
		}
		src := readPhoto(t, "plates", im.File)
		at := image.Pt(400, 400)
		dst := frame.Region(image.Rect(at.X, at.Y, at.X+src.Cols(), at.Y+src.Rows()))
		src.CopyTo(&dst)
		dst.Close()
		b := im.Objects[0].Box
		plate = image.Rect(b[0], b[1], b[0]+b[2], b[1]+b[3]).Add(at)
	}
	if plate.Empty() {
		t.Fatal("no plate crop cn-blue_0.jpg")
	}
	s := d.Stream()
	if r, err := d.read.read(t.Context(), frame, []image.Rectangle{part}); err != nil || signText(r[0]) {
		t.Fatalf("the part alone reads %+v (%v): want a reading that could be a plate", r, err)
	}
	got, err := s.readInContext(t.Context(), frame, []Detection{
		{Box: part, Class: Plate, Score: 0.7},
		{Box: plate, Class: Plate, Score: 0.7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Box != plate {
		t.Errorf("kept %+v, want the plate %v alone", got, plate)
	}
}

// TestPlateStreamReadsTwoLines: a box round a whole sign, a name above a
// phone number, is read half by half and dropped: one that may hold two
// lines by its shape, and a wider one read unsurely whole.
func TestPlateStreamReadsTwoLines(t *testing.T) {
	d := newPlate(t)
	for _, tc := range []struct {
		name string
		sign image.Rectangle
	}{
		{"two lines by shape", image.Rect(400, 300, 700, 440)},
		{"wider, read unsurely whole", image.Rect(400, 300, 760, 440)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(120, 130, 125, 0), 720, 1280, gocv.MatTypeCV8UC3)
			defer frame.Close()
			font := gocv.FontHersheyDuplex
			gocv.Rectangle(&frame, tc.sign, color.RGBA{25, 195, 242, 0}, -1) // yellow (BGR)
			gocv.PutText(&frame, "BAKERY", image.Pt(440, 360), font, 1.6, color.RGBA{20, 20, 20, 0}, 3)
			gocv.PutText(&frame, "0571-8765-4321", image.Pt(420, 415), font, 0.9, color.RGBA{20, 20, 20, 0}, 2)
			if r, err := d.read.read(t.Context(), frame, []image.Rectangle{tc.sign}); err != nil || signText(r[0]) {
				t.Fatalf("the sign read whole gives %+v (%v): want a reading that leaves it to the halves", r, err)
			}
			got, err := d.Stream().readInContext(t.Context(), frame, []Detection{{Box: tc.sign, Class: Plate, Score: 0.7}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("kept the sign %v", tc.sign)
			}
		})
	}
}

// TestSignText: readings a stream takes for sign text, beyond notPlate's.
func TestSignText(t *testing.T) {
	for _, tc := range []struct {
		text string
		conf float64
		want bool
	}{
		{"255 6206", 0.9, true}, // grouped as phone numbers are written
		{"376-2716", 1, true},
		{"0-376-2716", 0.92, true},
		{"2556206", 0.9, false},  // a US plate holds up to seven digits alone
		{"5454297", 1, false},    // as an Ohio plate does
		{"39702l", 0.96, false},  // and its letters may be read as digits
		{"25562060", 0.85, true}, // eight digits: no plate
		{"25562060", 0.7, false}, // not sure enough
		{"56206", 0.87, false},
		{"255-6206", 0.6, false}, // not sure enough
		{"2716", 1, false},       // too few digits without a dash
		{"16-27", 1, true},
		{"D1VZ663", 0.95, false},
		{"陕B21ES0", 0.9, false},
		{"M22189", 0.96, false},
		{"桂E：S2P30", 0.95, false},
		{"a35 6206", 0.81, true}, // a small letter
		{"Open 24h", 0.9, true},
		{"e caS", 0.32, false}, // not sure enough
		{"SOL0", 0.9, false},   // capitals, digits
		{"24小时营业", 0.9, true},  // notPlate's
		{"", 0, false},
		{"TEL 15", 0.93, true},  // a phone number's label
		{"TEL", 0.99, true},     // the label alone
		{"TELI5531", 0.9, true}, // and with digits misread
		{"电话4635", 0.85, true},  // in Chinese
		{"HOTEL", 0.85, false},  // TEL ending a word: not sure enough for a word
		{"HOTEL", 0.9, true},    // a word
		{"BAKERY", 0.93, true},
		{"KEEP CLE", 0.92, true},
		{"AACHAA", 0.85, false}, // a plate read as letters, unsurely
		{"ARIZONA", 0.9, true},  // a word, as a box's reading (halves are not asked)
		{"五金店", 0.68, true},     // a sign's line, read unsurely
		{"中山路", 0.78, true},
		{"便利店572", 0.64, true},
		{"江航028", 0.41, false},    // a plate misread: not sure enough
		{"部了GU0641", 0.84, false}, // two characters, then letters and digits: a plate misread
		{"五金店", 0.5, false},
		{"TEL 15", 0.5, false},     // not sure enough
		{"电话400-603", 0.72, true},  // the label: the digits pull the mean down
		{"L040-9253", 0.7, false},  // grouped digits alone need a sure reading
		{"8001687", 0.95, false},   // a number alone of plate length: a US plate misread
		{"粤B·T3L12", 0.95, false},  // a plate
		{"L040-9253", 0.98, true},  // a phone number cut by an occluder
		{"EL040-92", 0.93, true},   // and cut again
		{"AB 12 345", 0.95, false}, // a Danish plate
		{"1A2 3456", 0.95, false},  // a Czech one
		{"ABC-1234", 0.95, false},  // a US or Brazilian one
		{"SALE 50%", 1, true},      // a sign's symbol
		{"¥15", 0.9, true},
		{"50%", 0.6, false},      // not sure enough
		{"快", 0.96, true},        // a Chinese character no plate holds, alone
		{"快", 0.6, false},        // not sure enough
		{"粤", 0.99, false},       // a province's
		{"京 警", 0.9, false},      // and a police plate's mark
		{"奥B12345", 0.93, false}, // a plate, its province misread
	} {
		if got := signText(reading{text: tc.text, conf: tc.conf}); got != tc.want {
			t.Errorf("signText(%q at %v) = %v, want %v", tc.text, tc.conf, got, tc.want)
		}
	}
}

// A box's halves are judged only by text no row of a plate holds
// (halfSign): what notPlate rules out, more digits than a plate holds,
// a phone number and a sign's symbol.
func TestHalfSign(t *testing.T) {
	for _, tc := range []struct {
		text string
		conf float64
		want bool
	}{
		{"便利店", 0.9, true},          // notPlate's
		{"43：89573818", 0.64, true}, // a van's phone number, read in a box's lower half
		{"15531185293", 0.6, true},
		{"15531185293", 0.55, false}, // not sure enough
		{"400-603-1234", 0.85, true},
		{"电话", 0.7, true},
		{"TEL", 1, true},
		{"SALE 50%", 0.9, true},
		{"2556206", 0.9, false},     // a US plate of digits alone
		{"粤B·12345678", 0.9, false}, // eight digits: a plate may hold them
		{"12345", 1, false},         // the lower row of a two-row plate
		{"ARIZONA", 0.9, false},     // a US plate's upper half
		{"粤B", 0.95, false},
	} {
		if got := halfSign(reading{text: tc.text, conf: tc.conf}); got != tc.want {
			t.Errorf("halfSign(%q at %.2f) = %v, want %v", tc.text, tc.conf, got, tc.want)
		}
	}
}

// TestBare: a box and its widened reading that hold a short word, a
// number or Chinese characters alone, and nothing else, are sign text.
func TestBare(t *testing.T) {
	for _, tc := range []struct {
		box, wide string
		boxConf   float64
		want      bool
	}{
		{"BAR", "BAR", 0.99, true},
		{"BUS", "BUS", 0.98, true},
		{"1400", "1400", 0.97, true},
		{"397021", "397021", 0.97, false}, // a plate's number: longer than bare takes
		{"1400", "14005", 0.97, false},
		{"400-909", "0-909-6096", 0.97, false}, // grouped digits: numberOnly's
		{"BAR", "BAR", 0.93, false},            // not sure enough
		{"ABC", "ABC 1234", 0.99, false},       // a plate's letters, its digits beside them
		{"1234", "ABC 1234", 0.99, false},      // and its digits
		{"AB", "AB", 0.99, false},              // too short
		{"12", "12", 0.99, false},              // too short
		{"410", "410", 1, true},
		{"便", "便", 0.98, true},         // a Chinese character alone
		{"粤", "粤B·12345", 0.99, false}, // a plate's province
		{"便利", "便利店", 0.99, true},
		{"AB12", "AB12", 0.99, false},  // both: a plate
		{"BAR", "", 0.99, false},       // nothing read beside it
		{"粤B", "粤B12345", 0.99, false}, // a plate's province and letter
		{"1234", "1234粤", 0.99, false}, // anything else beside the digits
	} {
		if got := bare(reading{text: tc.box, conf: tc.boxConf}, reading{text: tc.wide, conf: 0.9}); got != tc.want {
			t.Errorf("bare(%q at %v, %q) = %v, want %v", tc.box, tc.boxConf, tc.wide, got, tc.want)
		}
	}
}

// TestPlateStreamConfirms: a plate wide enough for the whole-frame search
// is reported only once a plate near it was found in one of the last
// plateConfirm frames; smaller ones pass at once.
func TestPlateStreamConfirms(t *testing.T) {
	s := &PlateStream{d: &PlateDetector{cfg: DefaultPlateConfig()}}
	big := func(x int) Detection { return Detection{Box: image.Rect(x, 500, x+120, 540), Class: Plate} }
	small := Detection{Box: image.Rect(100, 100, 140, 112), Class: Plate}
	for i, tc := range []struct {
		name string
		dets []Detection
		want int
	}{
		{"a large box seen first is held back, a small one is not", []Detection{big(800), small}, 1},
		{"seen again, moved by 40 px, it is reported", []Detection{big(840)}, 1},
		{"and again", []Detection{big(880)}, 1},
		{"a large box far from any before is held back", []Detection{big(100)}, 0},
		{"nothing for two frames", nil, 0},
		{"nor for the third", nil, 0},
		{"a plate near 880, found three frames after it, is new again", []Detection{big(900)}, 0},
		{"seen in the next frame, it is reported", []Detection{big(920)}, 1},
		{"missed once", nil, 0},
		{"found again after the miss, it is reported", []Detection{big(960)}, 1},
	} {
		got := s.confirmed(slices.Clone(tc.dets), s.d.cfg.StreamCoarse)
		if len(got) != tc.want {
			t.Errorf("frame %d, %s: %d of %d reported, want %d", i, tc.name, len(got), len(tc.dets), tc.want)
		}
	}
}

// TestPlateStreamFinishUnconfirmed shows a plate the whole-frame search
// sees well only in the last frame of a video: the stream leaves it out
// of that frame for want of confirmation, and Finish hides it.
func TestPlateStreamFinishUnconfirmed(t *testing.T) {
	d := newPlate(t)
	frame, want := plateFrameAt(t, 1)
	defer frame.Close()
	if float64(want.Dx()) < 2*d.cfg.MinWidth/d.cfg.StreamCoarse {
		t.Fatalf("plate %v too narrow to need confirmation", want)
	}
	blank := gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
	defer blank.Close()
	blank.SetTo(gocv.NewScalar(100, 100, 100, 0))
	s := d.Stream()
	for range 3 {
		if res := s.Detect(t.Context(), []gocv.Mat{blank}); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
	}
	res := s.Detect(t.Context(), []gocv.Mat{frame})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	hit := func(det Detection) bool { return IoU(det.Box, want) >= 0.4 }
	if slices.ContainsFunc(res[0].Detections, hit) {
		t.Fatalf("a plate seen in one frame only was reported unconfirmed: %v", res[0].Detections)
	}
	fin := s.Finish(t.Context(), frame)
	if fin.Err != nil {
		t.Fatal(fin.Err)
	}
	if !slices.ContainsFunc(fin.Detections, hit) {
		t.Errorf("Finish did not hide the last frame's unconfirmed plate %v: %v", want, fin.Detections)
	}
}

// TestReadInContextRemembers: a box that continues one read in the last
// plateReread frames gets that reading's verdict without a new one (on a
// blank frame a new reading finds nothing and keeps the box); an older
// reading, or one of another place, is not used. A box too far from a
// sign's for its verdict, but about its size with its centre inside it,
// is dropped too when its own reading is unsure (signNear); not so near
// a box dropped as a number alone.
func TestReadInContextRemembers(t *testing.T) {
	d := newPlate(t)
	blank := gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
	defer blank.Close()
	read := image.Rect(400, 300, 480, 324)
	for _, tc := range []struct {
		name  string
		frame int
		box   image.Rectangle
		kept  bool
	}{
		{"the next frame, moved 4 px", 1, read.Add(image.Pt(4, 0)), false},
		{"the last frame it stands for", plateReread - 1, read, false},
		{"too late", plateReread, read, true},
		{"elsewhere", 1, read.Add(image.Pt(200, 0)), true},
		// IoU 0.45: too far for the verdict, near enough for signNear
		{"shifted 30 px, read unsure", 1, read.Add(image.Pt(30, 0)), false},
		{"shifted 30 px, too late", plateReread, read.Add(image.Pt(30, 0)), true},
		{"round it, three times as wide", 1, image.Rect(320, 300, 560, 324), true},
		{"shifted 30 px from a number alone", 1, read.Add(image.Pt(30, 0)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := d.Stream()
			s.n = tc.frame + 1
			// a number alone is a verdict a misread plate could earn
			sign := !strings.Contains(tc.name, "number")
			s.readings = []readVerdict{{box: read, keep: false, sign: sign, at: 0}}
			out, err := s.readInContext(t.Context(), blank, []Detection{{Box: tc.box, Class: Plate, Score: 0.9}})
			if err != nil {
				t.Fatal(err)
			}
			if kept := len(out) == 1; kept != tc.kept {
				t.Errorf("box %v in frame %d: kept %v, want %v", tc.box, tc.frame, kept, tc.kept)
			}
		})
	}
}

// TestReadInContextSureBeatsSignNear: a plate read surely is kept, though
// a sign about its size was dropped where it now is two frames before.
func TestReadInContextSureBeatsSignNear(t *testing.T) {
	d := newPlate(t)
	frame, plate := plateFrameAt(t, 1)
	defer frame.Close()
	if r, err := d.read.read(t.Context(), frame, []image.Rectangle{plate}); err != nil || r[0].conf < plateReadSure {
		t.Fatalf("the plate reads %+v (%v): want a sure reading", r, err)
	}
	s := d.Stream()
	s.n = 3
	shift := plate.Dx() * 2 / 5 // IoU 0.43: too far for the verdict itself
	s.readings = []readVerdict{{box: plate.Add(image.Pt(shift, 0)), keep: false, sign: true, at: 0}}
	if !s.signNear(plate, 1) {
		t.Fatalf("the verdict at %v is not near the plate %v", s.readings[0].box, plate)
	}
	out, err := s.readInContext(t.Context(), frame, []Detection{{Box: plate, Class: Plate, Score: 0.9}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Errorf("dropped the plate %v beside a sign's verdict", plate)
	}
}
