// Package eval measures how well desens finds what it must hide, on images
// whose faces (and later plates and overlays) a person has labelled.
//
// # Labels
//
// Each evaluation directory holds a labels.json (format version 1, see
// testdata/README.md):
//
//	{"version": 1, "images": [{"file": "a.jpg", "width": 1920, "height": 1080,
//	  "objects": [{"class": "face", "box": [x, y, w, h]}],
//	  "ignore": [[x, y, w, h]]}]}
//
// Boxes are [x, y, w, h] in pixels of the decoded image. "ignore" marks
// regions (crowds, posters, reflections) where detections count neither way.
// An image's optional "source", when it is an absolute path that exists, is
// read instead of DIR/file, so sets can refer to photos installed elsewhere
// without copying them.
//
// # Matching
//
// Detections are taken in descending score order. A detection that lies at
// least half inside an ignore region is set aside first. Otherwise it is a
// hit on the unmatched labelled box of its class it overlaps most, where
// "overlaps" means IoU >= 0.3 or each box holding the other's centre:
// labellers draw tight boxes round the face, detectors often draw looser
// squares, and IoU alone would call many good detections misses. A detection
// that matches nothing but touches an ignore region (or a labelled box below
// the minimum size) is set aside too; the rest are false positives. A second
// detection on an already matched face is a false positive: the redactor
// would blur the same face twice, which costs nothing, but a detector that
// splits faces needs to be seen.
//
// # Metrics
//
// Recall (hits / labelled boxes) is the figure that matters for
// desensitization: a missed face is a privacy failure, a false positive is
// only a needless blur. Precision and false positives per image show the
// cost. Recall is also split by face height, because small faces far from
// the camera are where detectors fail, and by class. A threshold sweep
// re-scores one low-threshold detection pass at thresholds 0.30 to 0.90 so
// one run shows the trade-off.
//
// # Output
//
// Result.WriteText prints tables for people, Result.WriteJSON the whole
// result for machines, and WriteHTML a page with every image drawn over:
// labelled boxes green, hits blue, false positives red, misses yellow.
//
// # Video
//
// A directory may hold a videos.json instead: clips whose faces and
// licence plates are labelled frame by frame as tracks (format in
// testdata/README.md). VideoEvaluator runs each clip through a
// Desensitizer as desens run does, tracking and Expand included, and hears
// through Options.OnFrame what each output frame hides. It scores the
// output, not the detector, for each class of Options.Targets: a labelled
// face or plate counts as hidden in a frame when the hidden regions (each
// its rectangle, or the ellipse drawn in it) cover at least CoverBar of
// its box (HiddenShare), and is a leak otherwise, since an object visible
// in a single frame of a video is exposed. Boxes marked ignore (objects
// more than half hidden in the scene, faces in background photos) count
// neither way.
//
// The figures, per class, per clip and in total: per-frame recall
// (objects hidden over objects labelled, counted once per frame), the same
// within the class's band (faces SmallMin to SmallMax px high, plates at
// least PlateMinWidth px wide) and by size (face height, plate width);
// frames that left a labelled object of the class visible; the longest run
// of consecutive frames one track stayed visible; and false hidden regions
// per frame, regions of the class that touch no labelled or ignore box of
// any class. Over the classes together: frames that left any labelled
// object visible.
package eval
