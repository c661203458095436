package detect

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/testenv"
)

// TestFaceStreamSchedule checks that a stream makes every run of a full
// search once in Every frames: the coarsest on every frame, down to the
// band's least box; at each finer scale, tiles that cover the frame and
// overlap by more than the largest face they keep, which reaches past the
// smallest the coarsest run keeps, each tile in exactly one slot, the
// slots evenly loaded.
func TestFaceStreamSchedule(t *testing.T) {
	d := newYuNetFace(t, false)
	for _, size := range []image.Point{{1920, 1080}, {1280, 720}, {640, 480}, {3840, 2160}} {
		for _, every := range []int{2, 3, 6, 11} {
			t.Run(fmt.Sprintf("%dx%d every %d", size.X, size.Y, every), func(t *testing.T) {
				s := &FaceStream{d: d, every: every}
				cfg, band := s.scanning()
				coarse, fine := s.schedule(size.X, size.Y)
				if len(fine) != every {
					t.Fatalf("%d slots, want %d", len(fine), every)
				}
				scales := cfg.runScales(size.X, size.Y)
				// Frames under 1080p get a run finer than 2×.
				if size.X*size.Y < 1920*1080 && scales[0] <= 2 || size.X*size.Y >= 1920*1080 && scales[0] > 2 {
					t.Errorf("finest scale %v at %v", scales[0], size)
				}
				last := scales[len(scales)-1]
				if len(coarse) == 0 {
					t.Fatal("no coarse run")
				}
				for _, r := range coarse {
					if r.s != last || r.min != band.least {
						t.Errorf("coarse run at scale %v from %v px, want %v from %v", r.s, r.min, last, band.least)
					}
				}
				got := map[float64][]scanRun{}
				least, most := len(fine[0]), 0
				seen := map[scanRun]bool{}
				for _, slot := range fine {
					least, most = min(least, len(slot)), max(most, len(slot))
					for _, r := range slot {
						if seen[r] {
							t.Errorf("run %v made twice in %d frames", r, every)
						}
						seen[r] = true
						got[r.s] = append(got[r.s], r)
					}
				}
				if most-least > 1 {
					t.Errorf("slots hold %d to %d runs: not evenly spread", least, most)
				}
				for _, sc := range scales[:len(scales)-1] {
					runs := got[sc]
					if len(runs) == 0 {
						t.Fatalf("no fine run at scale %v", sc)
					}
					var cover image.Rectangle
					for _, r := range runs {
						cover = cover.Union(r.src)
						if handed := band.min * sc / last; r.max < handed || r.max > band.max {
							t.Errorf("run %v keeps faces to %.0f px, want %.0f-%.0f", r, r.max, handed, band.max)
						}
						for _, o := range runs {
							if in := r.src.Intersect(o.src); in != r.src && !in.Empty() && float64(min(in.Dx(), in.Dy())) <= r.max/sc {
								t.Errorf("runs %v and %v overlap by %v: a face of %.0f px may lie whole in neither", r.src, o.src, in.Size(), r.max/sc)
							}
						}
					}
					if cover != image.Rect(0, 0, size.X, size.Y) {
						t.Errorf("runs at scale %v cover %v", sc, cover)
					}
				}
				// Keeping only the faces the coarsest run does not find,
				// the tiles overlap less than an image's: at 1080p, four
				// tiles at 2× instead of six.
				area := func(runs []scanRun) (a int) {
					for _, r := range runs {
						if r.s != last {
							a += r.src.Dx() * r.src.Dy()
						}
					}
					return a
				}
				var all []scanRun
				for _, slot := range fine {
					all = append(all, slot...)
				}
				full := cfg.plan(size.X, size.Y, band)
				if a, b := area(all), area(full); a > b || (size == image.Pt(1920, 1080) && a >= b) {
					t.Errorf("fine runs cover %d px, an image's full search %d", a, b)
				}
			})
		}
	}
}

// TestFaceStreamFindsAndFollows feeds a video of one still picture with a
// distant face (messi5.jpg shrunk so the face is 20 px high, which only the
// enlarged search finds): the stream must find it within Every frames and
// then keep finding it in every frame it searches (with a stride of 2,
// every other frame, and nothing in the frames between), and find nothing
// away from it.
func TestFaceStreamFindsAndFollows(t *testing.T) {
	for _, tc := range []struct {
		yunet  bool
		stride int
	}{{true, 1}, {false, 1}, {true, 2}} {
		t.Run(fmt.Sprintf("yunet %v stride %d", tc.yunet, tc.stride), func(t *testing.T) {
			d := newFace(t)
			if tc.yunet {
				d = newYuNetFace(t, true)
			}
			_, frame, want := smallFaceFrame(t)
			near := toF(want).scale(2).rect()
			crowd := scaleRect(messiCrowd, smallFaceScale).Add(smallFaceAt)
			// A spectator's blurred face in the stands, which the stream's
			// persistence rule may find.
			stands := scaleRect(image.Rect(190, 5, 230, 45), smallFaceScale).Add(smallFaceAt)

			s := d.Stream()
			s.every, s.stride.n = 4, tc.stride
			first := -1
			for i := 0; i < 3*s.every*s.stride.n; i++ {
				res := s.Detect(t.Context(), []gocv.Mat{frame})
				if res[0].Err != nil {
					t.Fatal(res[0].Err)
				}
				found := false
				for _, det := range res[0].Detections {
					switch {
					case IoU(det.Box, want) > 0.3:
						found = true
					case !det.Box.In(near) && !det.Box.In(crowd) && !det.Box.In(stands):
						t.Errorf("frame %d: unexpected detection %v (%.2f)", i, det.Box, det.Score)
					}
				}
				searched := i%s.stride.n == 0
				switch {
				case !searched && len(res[0].Detections) > 0:
					t.Errorf("frame %d, not to be searched: found %v", i, res[0].Detections)
				case found && first < 0:
					first = i
				case searched && !found && first >= 0:
					t.Errorf("frame %d: the face found in frame %d is lost", i, first)
				}
			}
			if first < 0 || first >= s.every*s.stride.n {
				t.Fatalf("face at %v first found in frame %d, want within %d frames", want, first, s.every*s.stride.n)
			}
		})
	}
}

// TestFaceStreamEveryOneIsDetect checks that a stream with Every 1 finds
// what DetectFrame finds.
func TestFaceStreamEveryOneIsDetect(t *testing.T) {
	d := newYuNetFace(t, true)
	img := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer img.Close()
	want, err := d.DetectFrame(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Stream()
	s.every = 1
	for i := range 2 {
		res := s.Detect(t.Context(), []gocv.Mat{img})
		if res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		if fmt.Sprint(res[0].Detections) != fmt.Sprint(want) {
			t.Errorf("frame %d: stream found %v, DetectFrame %v", i, res[0].Detections, want)
		}
	}
}

func TestFaceStreamNothingInBlankOrNoise(t *testing.T) {
	d := newYuNetFace(t, true)
	checkNothingInBlankOrNoise(t, func(ctx context.Context, img gocv.Mat) ([]Detection, error) {
		s := d.Stream()
		var all []Detection
		for range s.every {
			res := s.Detect(ctx, []gocv.Mat{img})
			if res[0].Err != nil {
				return nil, res[0].Err
			}
			all = append(all, res[0].Detections...)
		}
		return all, nil
	})
}

// TestFaceStreamFinish puts a distant face (20 px high, which only the
// enlarged search finds) into the last frame of a video, after 0 to
// Every×Stride-1 frames without it: whichever share of the enlarged
// search the last frame gets, or none, Detect and then Finish on that
// frame find the face.
func TestFaceStreamFinish(t *testing.T) {
	d := newYuNetFace(t, true)
	blank, frame, want := smallFaceFrame(t)
	const every = 4
	// With a stride of 2, a last frame that is not searched is searched
	// in full when the video ends there.
	for _, stride := range []int{1, 2} {
		for before := range every * stride {
			t.Run(fmt.Sprintf("stride %d, %d frames before", stride, before), func(t *testing.T) {
				s := d.Stream()
				s.every, s.stride.n = every, stride
				found := slices.ContainsFunc(detectLast(t, s, before, blank, frame), func(det Detection) bool {
					return IoU(det.Box, want) > 0.3
				})
				if !found {
					t.Errorf("face at %v not found in the last frame", want)
				}
			})
		}
	}
	t.Run("every 1", func(t *testing.T) {
		s := d.Stream()
		s.every = 1
		s.Detect(t.Context(), []gocv.Mat{frame})
		if fin := s.Finish(t.Context(), frame); fin.Err != nil || len(fin.Detections) > 0 {
			t.Errorf("a stream that searches every frame in full found %v (%v) when finishing", fin.Detections, fin.Err)
		}
	})
}

// TestFaceStreamFirstFrame: a video's first frame is searched in full,
// so a small face there is found at once, before any share comes round.
func TestFaceStreamFirstFrame(t *testing.T) {
	d := newYuNetFace(t, true)
	_, frame, want := smallFaceFrame(t)
	s := d.Stream()
	s.every = 4
	res := s.Detect(t.Context(), []gocv.Mat{frame})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if !slices.ContainsFunc(res[0].Detections, func(det Detection) bool { return IoU(det.Box, want) > 0.3 }) {
		t.Errorf("face at %v not found in the first frame: %v", want, res[0].Detections)
	}
}

// smallFaceScale and smallFaceAt: smallFaceFrame shrinks messi5.jpg by
// smallFaceScale and puts its top-left corner at smallFaceAt.
const smallFaceScale = 0.6

var smallFaceAt = image.Pt(700, 300)

// smallFaceFrame returns a blank 1280×720 frame and the same frame with
// messi5.jpg shrunk so its face is about 20 px high (one only the enlarged
// search finds; 720p, so that search takes several tiles), and where that
// face is.
func smallFaceFrame(t *testing.T) (blank, frame gocv.Mat, want image.Rectangle) {
	t.Helper()
	img := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer img.Close()
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(img, &small, image.Pt(0, 0), smallFaceScale, smallFaceScale, gocv.InterpolationArea)
	blank = gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { blank.Close() })
	blank.SetTo(gocv.NewScalar(90, 110, 120, 0))
	frame = blank.Clone()
	t.Cleanup(func() { frame.Close() })
	roi := frame.Region(image.Rectangle{Min: smallFaceAt, Max: smallFaceAt.Add(image.Pt(small.Cols(), small.Rows()))})
	small.CopyTo(&roi)
	roi.Close()
	return blank, frame, scaleRect(messiFace, smallFaceScale).Add(smallFaceAt)
}

func TestContinues(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b rectF
		want bool
	}{
		{"same box", rectF{100, 100, 112, 114}, rectF{100, 100, 112, 114}, true},
		{"small face moved 5 px", rectF{100, 100, 110, 114}, rectF{105, 98, 115, 112}, true},
		{"small face moved a side", rectF{100, 100, 110, 114}, rectF{114, 100, 124, 114}, false},
		{"large face moved 20 px", rectF{100, 100, 200, 220}, rectF{120, 100, 220, 220}, true},
		{"twice the size, same centre", rectF{100, 100, 110, 110}, rectF{95, 95, 115, 115}, false},
		{"far apart", rectF{0, 0, 20, 20}, rectF{300, 300, 320, 320}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := continues(tc.a, tc.b, 1); got != tc.want {
				t.Errorf("continues(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// TestRecallVouchHeight: a check stands for a box that continues its
// face at the bar of the box it was made on, where that is lower, so a
// box a few pixels taller keeps the verdict; a check made on a box as
// tall does not pass a weak score.
func TestRecallVouchHeight(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checkH float64
		ok     bool
	}{
		{"checked on a smaller box", 30, true},
		{"checked on a box as tall", 34, false},
		{"height unknown", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &FaceStream{d: &FaceDetector{cfg: DefaultFaceConfig()}, every: 6, frame: 10}
			s.tracks = []faceTrack{{box: rectF{500, 100, 526, 130}, score: 0.5, seen: 9, checked: 9, checkH: tc.checkH}}
			score, ok := s.recall(candidate{box: rectF{501, 100, 529, 134}, score: 0.3})
			if ok != tc.ok || ok && score != 0.5 {
				t.Errorf("recall = %.2f, %v; want the check's 0.50: %v", score, ok, tc.ok)
			}
		})
	}
}

// TestUpright: a face box wider than tall grows upwards until it is as
// tall as wide, and no further than the frame's top; others stay.
func TestUpright(t *testing.T) {
	for _, tc := range []struct {
		name      string
		box, want image.Rectangle
	}{
		{"taller than wide", image.Rect(100, 100, 130, 140), image.Rect(100, 100, 130, 140)},
		{"square", image.Rect(100, 100, 140, 140), image.Rect(100, 100, 140, 140)},
		{"tilted face, lower part boxed", image.Rect(931, 481, 1048, 575), image.Rect(931, 458, 1048, 575)},
		{"at the frame's top", image.Rect(10, 5, 60, 30), image.Rect(10, 0, 60, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := upright(tc.box); got != tc.want {
				t.Errorf("upright(%v) = %v, want %v", tc.box, got, tc.want)
			}
		})
	}
}

// videoStream is a detector for one video that searches its last frame
// again when told the video ends there.
type videoStream interface {
	Detect(ctx context.Context, frames []gocv.Mat) []Result
	Finish(ctx context.Context, last gocv.Mat) Result
}

// detectLast gives s a video of before blank frames and then last, and
// returns what Detect and then Finish found in last.
func detectLast(t *testing.T, s videoStream, before int, blank, last gocv.Mat) []Detection {
	t.Helper()
	for range before {
		if res := s.Detect(t.Context(), []gocv.Mat{blank}); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
	}
	res := s.Detect(t.Context(), []gocv.Mat{last})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	fin := s.Finish(t.Context(), last)
	if fin.Err != nil {
		t.Fatal(fin.Err)
	}
	return append(res[0].Detections, fin.Detections...)
}

// TestFollowLost: a face not found for a few frames is still looked for,
// where its motion would have taken it, in a region that widens with each
// frame it is missing.
func TestFollowLost(t *testing.T) {
	d := newYuNetFace(t, true)
	s := d.Stream()
	s.every = 4
	last := rectF{100, 300, 120, 325}
	s.update(5, nil)
	s.tracks = []faceTrack{{box: last, seen: 5, checked: 5, vx: 6}}
	for _, tc := range []struct {
		frame int
		want  image.Rectangle // where the face would be
		kept  bool
	}{
		{6, image.Rect(106, 300, 126, 325), true},
		{10, image.Rect(130, 300, 150, 325), true},
		{5 + lostFor*4, image.Rect(148, 300, 168, 325), true},
		{5 + lostFor*4 + 1, image.Rectangle{}, false},
	} {
		s.frame = tc.frame
		s.update(tc.frame-1, nil) // keeps or drops the track as frame tc.frame-1 ends
		runs := s.follow(image.Pt(1280, 720))
		if !tc.kept {
			if len(runs) != 0 {
				t.Errorf("frame %d: %d runs for a face lost %d frames ago, want none", tc.frame, len(runs), tc.frame-5)
			}
			continue
		}
		if len(runs) != 1 {
			t.Fatalf("frame %d: %d runs, want 1", tc.frame, len(runs))
		}
		// The region holds the predicted box with room for a face's own
		// span round it.
		if src := runs[0].src; !tc.want.Inset(-10).In(src) {
			t.Errorf("frame %d: follow run over %v, want it round %v", tc.frame, src, tc.want)
		}
	}
}

// TestRecallWeakLarge: a weak box of a face's size is turned down
// without a second look unless it continues a face found of late; weak
// small boxes, which far faces make, still get the look.
func TestRecallWeakLarge(t *testing.T) {
	s := &FaceStream{d: &FaceDetector{cfg: DefaultFaceConfig()}, every: 12, frame: 10}
	track := rectF{500, 100, 540, 150}
	s.tracks = []faceTrack{{box: track, score: 0.8, seen: 9, checked: 9}}
	for _, tc := range []struct {
		name   string
		c      candidate
		ok     bool
		passes bool
	}{
		{"weak, 40 px, alone", candidate{box: rectF{100, 100, 132, 140}, score: 0.15}, true, false},
		{"weak, 40 px, continuing a face", candidate{box: rectF{502, 101, 542, 151}, score: 0.15}, true, true},
		{"weak, 20 px", candidate{box: rectF{100, 100, 116, 120}, score: 0.15}, false, false},
		{"at followScore, 40 px", candidate{box: rectF{100, 100, 132, 140}, score: followScore}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			score, ok := s.recall(tc.c)
			if ok != tc.ok {
				t.Fatalf("recall(%v) ok = %v, want %v", tc.c, ok, tc.ok)
			}
			if passes := ok && s.d.cfg.Passes(tc.c.box.h(), score); passes != tc.passes {
				t.Errorf("recall(%v) = %.2f: passes %v, want %v", tc.c, score, passes, tc.passes)
			}
		})
	}
}

// TestRecallRest: a box of a face's size that looks have turned down in
// restAfter frames running is looked at in every other frame after; a
// small box is looked at in every frame, and a box the proposer is sure
// of in sureFor frames running passes whatever the looks said.
func TestRecallRest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     candidate
		looks string // per frame: l looked at, r rested, p passed without a look
	}{
		{"40 px", candidate{box: rectF{100, 100, 132, 140}, score: 0.3}, "llrlrlr"},
		{"20 px", candidate{box: rectF{100, 100, 116, 120}, score: 0.3}, "lllllll"},
		{"40 px, proposer sure", candidate{box: rectF{100, 100, 132, 140}, score: sureScore}, "llppppp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &FaceStream{d: &FaceDetector{cfg: DefaultFaceConfig()}, every: 12, stride: frameStride{n: 1}}
			var got strings.Builder
			for n := range len(tc.looks) {
				s.frame = n
				score, ok := s.recall(tc.c)
				switch {
				case !ok:
					got.WriteByte('l')
					s.note(tc.c, 0.1)
				case s.d.cfg.Passes(tc.c.box.h(), score):
					got.WriteByte('p')
					s.update(n, []Detection{{Box: tc.c.box.rect(), Class: Face, Score: float32(score)}})
					continue
				default:
					got.WriteByte('r')
				}
				s.update(n, nil)
			}
			if got.String() != tc.looks {
				t.Errorf("frames went %q, want %q", got.String(), tc.looks)
			}
		})
	}
}

// TestFaceStreamEdgeFaces: a small face the frame's left or right edge
// cuts (messi5.jpg shrunk, as in smallFaceFrame, and shifted so) is
// proposed by the search of the mirrored edge strips, its box cut back to
// the frame and covering the part in view across its width; a blank frame
// proposes nothing there. A face across a strip's inner side is seen by
// the strip only in part, and a box of that part could win the merge over
// the whole face's box, so no box of it may cover less than half the face.
func TestFaceStreamEdgeFaces(t *testing.T) {
	d := newYuNetFace(t, true)
	img := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer img.Close()
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(img, &small, image.Pt(0, 0), smallFaceScale, smallFaceScale, gocv.InterpolationArea)
	face := scaleRect(messiFace, smallFaceScale)
	mid := (face.Min.X + face.Max.X) / 2
	const w, h = 1280, 720
	at := image.Pt(0, 300)
	for _, tc := range []struct {
		name   string
		blank  bool
		left   bool
		across bool
		inView float64 // the share of the face's width in the frame
	}{
		{"left edge", false, true, false, 0.5},
		{"right edge", false, false, false, 0.5},
		{"left edge, a third in view", false, true, false, 0.35},
		{"right edge, a third in view", false, false, false, 0.35},
		{"blank", true, false, false, 0},
		{"left strip's inner side", true, true, true, 1},
		{"right strip's inner side", true, false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
			defer frame.Close()
			frame.SetTo(gocv.NewScalar(90, 110, 120, 0))
			// The part of the picture that lands in the frame, and where.
			cut := face.Min.X + int(float64(face.Dx())*(1-tc.inView))
			if !tc.left {
				cut = face.Min.X + int(float64(face.Dx())*tc.inView)
			}
			part, dst := image.Rect(cut, 0, small.Cols(), small.Rows()), at
			switch {
			case tc.across && tc.left:
				part = image.Rect(mid-edgeStrip, 0, small.Cols(), small.Rows())
			case tc.across:
				part, dst = image.Rect(0, 0, mid+edgeStrip, small.Rows()), image.Pt(w-edgeStrip-mid, at.Y)
			case !tc.left:
				part, dst = image.Rect(0, 0, cut, small.Rows()), image.Pt(w-cut, at.Y)
			}
			want := face.Add(dst.Sub(part.Min)).Intersect(image.Rect(0, 0, w, h))
			if !tc.blank || tc.across {
				src := small.Region(part)
				roi := frame.Region(image.Rectangle{Min: dst, Max: dst.Add(part.Size())})
				src.CopyTo(&roi)
				roi.Close()
				src.Close()
			}
			cands, err := d.Stream().edgeFaces(t.Context(), frame)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range cands {
				b := c.box.rect()
				if !b.In(image.Rect(0, 0, w, h)) {
					t.Errorf("box %v reaches out of the frame", b)
				}
				in := b.Intersect(want)
				if tc.across {
					// A box mostly inside the face that covers less than
					// half of it: a part.
					a := in.Dx() * in.Dy()
					found = found || 2*a > b.Dx()*b.Dy() && 2*a < want.Dx()*want.Dy()
				} else {
					// The part in view, covered across its width.
					found = found || IoU(b, want) > 0.3 && in.Dx() >= want.Dx()*4/5
				}
			}
			if found == tc.blank {
				t.Errorf("proposals %v: found the face (or, across the inner side, a part of it) at %v %v, want %v", cands, want, found, !tc.blank)
			}
		})
	}
}

// TestFaceStreamCoarseMidFace checks that the run a stream makes on every
// frame finds a face of 55-75 px at 1080p, which the enlarged search,
// dealt over Every frames, reaches only once in that many: a face seen
// for fewer frames between two passers-by would otherwise go unfound.
func TestFaceStreamCoarseMidFace(t *testing.T) {
	d := newYuNetFace(t, false)
	img := gocv.IMRead(testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")), gocv.IMReadColor)
	defer img.Close()
	for _, scale := range []float64{1.5, 1.8} {
		t.Run(fmt.Sprintf("%.0f px", float64(messiFace.Dy())*scale), func(t *testing.T) {
			pic := gocv.NewMat()
			defer pic.Close()
			gocv.Resize(img, &pic, image.Pt(0, 0), scale, scale, gocv.InterpolationArea)
			frame := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
			defer frame.Close()
			frame.SetTo(gocv.NewScalar(90, 110, 120, 0))
			at := image.Pt(700, 400)
			roi := frame.Region(image.Rectangle{Min: at, Max: at.Add(image.Pt(pic.Cols(), pic.Rows()))})
			pic.CopyTo(&roi)
			roi.Close()
			want := scaleRect(messiFace, scale).Add(at)
			s := d.Stream()
			coarse, _ := s.schedule(frame.Cols(), frame.Rows())
			cands, err := doRuns(t.Context(), frame, coarse, d.proposer.run, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cands {
				if IoU(c.box.rect(), want) > 0.5 {
					return
				}
			}
			t.Errorf("the every-frame run did not find the face at %v: %v", want, cands)
		})
	}
}

// TestStripBox checks how a box from an edge strip of a 1280 px frame is
// kept: cut back to the frame, dropped when mostly in the mirror, and
// made as wide as it is high inwards when the frame's edge or the
// strip's inner side cuts it.
func TestStripBox(t *testing.T) {
	const w, margin = 1280, 2
	for _, tc := range []struct {
		name string
		box  rectF
		left bool
		want rectF
		ok   bool
	}{
		{"whole face in the left strip", rectF{10, 100, 30, 125}, true, rectF{10, 100, 30, 125}, true},
		{"whole face in the right strip", rectF{1250, 100, 1270, 125}, false, rectF{1250, 100, 1270, 125}, true},
		{"cut by the left edge, boxed narrow", rectF{-4, 100, 8, 120}, true, rectF{0, 100, 20, 120}, true},
		{"cut by the right edge, boxed narrow", rectF{1271, 326, 1284, 345}, false, rectF{1261, 326, 1280, 345}, true},
		{"cut by the left edge, wide already", rectF{-10, 100, 30, 120}, true, rectF{0, 100, 30, 120}, true},
		{"cut by the left strip's inner side", rectF{40, 356, 49, 375}, true, rectF{40, 356, 59, 375}, true},
		{"cut by the right strip's inner side", rectF{1231, 355, 1243, 378}, false, rectF{1220, 355, 1243, 378}, true},
		{"mostly in the mirror", rectF{-20, 100, 4, 120}, true, rectF{}, false},
		{"wholly in the mirror", rectF{1282, 100, 1300, 120}, false, rectF{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := stripBox(tc.box, tc.left, w, margin)
			if ok != tc.ok || got != tc.want {
				t.Errorf("stripBox(%v) = %v, %v, want %v, %v", tc.box, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestVouchSpan: a passing second look stands for two rounds of the
// enlarged search, and for 24 frames at least, counted in searched frames.
func TestVouchSpan(t *testing.T) {
	for _, tc := range []struct {
		every, stride, want int
	}{
		{6, 1, 24},
		{12, 1, 24},
		{15, 1, 30},
		{12, 2, 12},
		{3, 2, 12},
	} {
		shares, stride := newFrameStride(tc.every, tc.stride)
		s := &FaceStream{every: shares, stride: stride}
		if got := s.vouchSpan(); got != tc.want {
			t.Errorf("every %d stride %d: %d searched frames, want %d", tc.every, tc.stride, got, tc.want)
		}
	}
}
