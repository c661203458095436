// Package evalset builds a labelled evaluation set for the face detector
// from photos shipped in Debian and npm packages (nothing is downloaded
// from the web).
//
// The source table (sources.go) lists every package with its licence and
// every photo with its role: real photos with hand-labelled faces,
// face-free background scenes, and hard-negative patches. Generate
// composites real face crops (with context and a soft elliptical alpha
// mask) at heights of 14-200 px onto tiled background photos, adds hard
// negatives and photometric variation, and writes JPEG frames plus a
// labels.json in the project's label format (see testdata/README.md). The
// real photos are copied as-is into real/ with their hand labels so one
// evaluation run covers both.
//
// GenerateVideo builds a labelled video set from the same sources: H.264
// clips of a camera panning and zooming over a background photo, with
// faces moving through it and occluders crossing in front, and a
// videos.json labelling every face in every frame (see
// testdata/README.md).
//
// Output is deterministic: the same seed and the same available sources
// give byte-identical files (for videos, a byte-identical videos.json).
// The command is
//
//	go run ./internal/evalset/cmd/mkevalset -out out/evalset -seed 1 -n 60
//	go run ./internal/evalset/cmd/mkevalset -video -out out/evalset-video -seed 11
package evalset
