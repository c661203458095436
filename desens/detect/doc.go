// Package detect holds desens's detectors: each turns BGR frames into boxes of
// one class (face, plate, overlay) in frame pixel coordinates.
//
// # Tiling
//
// BlazeFace takes a fixed 256×256 input. A 1080p frame squeezed into one
// input loses every face smaller than about 100 px, so the face detector
// cuts frames into a Pyramid of overlapping tiles at several scales and
// merges what the tiles report with weighted non-maximum suppression. The
// plate and text models are fully convolutional: they take a whole frame
// (plates at several scales; text within a pixel budget, overlay bands at
// full resolution), which is the same pyramid with one tile per level.
//
// # Failure
//
// A detector never guesses on error: Result.Err is set and the caller must
// treat the frame as unexamined (desens masks it whole).
package detect
