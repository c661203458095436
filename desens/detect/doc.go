// Package detect holds desens's detectors: each turns BGR frames into boxes of
// one class (face, plate, overlay) in frame pixel coordinates.
//
// # Tiling
//
// The models take small fixed-size inputs (BlazeFace: 256×256). A 1080p
// frame squeezed into one input loses every face smaller than about 100 px,
// so detectors cut frames into a Pyramid of overlapping tiles at several
// scales and merge what the tiles report with weighted non-maximum
// suppression.
//
// # Failure
//
// A detector never guesses on error: Result.Err is set and the caller must
// treat the frame as unexamined (desens masks it whole).
package detect
