// Package desens finds faces (and, as models are added, licence plates and
// on-screen overlays) in images and videos and hides them, failing closed:
// no frame that was not examined is ever written unmasked.
//
// # Use
//
//	d, err := desens.New(desens.Options{Targets: []detect.Class{detect.Face}})
//	if err != nil { ... }
//	defer d.Close()
//	rep := d.ProcessFile(ctx, "in.mp4", "out.mp4")
//	if !rep.OK { log.Print(rep.Error) }
//
// Run processes a whole directory tree; Process works on streams.
//
// # Pipeline
//
// Each stage lives in a file named after it: source.go (what a file is),
// decode.go, detect.go (the Detector seam), track.go (temporal
// consistency), redact.go (blur, pixelate, solid), encode.go and sink.go
// (atomic outputs). pipeline.go joins them with bounded channels.
//
// # Failure
//
// A detector error on a frame masks that frame whole (or fails the file with
// Options.Strict); a decode or encode error fails the file and removes its
// partial output. Errors are *FileError values naming the file and stage and
// wrapping sentinels such as ErrCorruptMedia.
package desens
