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
// # Batching
//
// Every model runs through a batching session (onnx.SessionOptions.Batch):
// with a Batch over 1, the inputs of one shape that detectors hand a model
// from every frame and file at work go to it in one run. To give it
// several at once, a detector with a Batch over 1 makes a frame's runs
// (proposer scales and tiles, plate scales and regions, a second look's
// zooms) at once and puts their results together in the order it would
// have made them, so it finds what it finds with a Batch of 1. A failed
// run fails the frames whose inputs were in it.
//
// # Failure
//
// A detector never guesses on error: Result.Err is set and the caller must
// treat the frame as unexamined (desens masks it whole).
package detect
