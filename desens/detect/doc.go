// Package detect holds desens's detectors: each turns BGR frames into boxes of
// one class (face, plate, overlay) in frame pixel coordinates.
//
// # Scales and tiles
//
// The face and plate models are fully convolutional: they take a whole
// frame, at the scales that bring small faces and plates to a size the
// model knows (faces: the frame enlarged 3× and 2×, cut into overlapping tiles
// when that grows too large, and the frame shrunk to 640 px; plates: 1,
// 1/2, 1/4), and merge what the runs report by non-maximum suppression.
// BlazeFace, which looks again at uncertain faces, takes a fixed 256×256
// input: a crop round each face, scaled to fit. Text runs within a pixel
// budget, overlay bands at full resolution.
//
// # Failure
//
// A detector never guesses on error: Result.Err is set and the caller must
// treat the frame as unexamined (desens masks it whole).
package detect
