// Package desens finds faces, licence plates and burned-in text overlays
// (GPS, time, IDs) in images and videos and hides them, failing closed: no
// frame that was not examined is ever written unmasked. Location metadata
// never reaches an output, and trajectory sidecars (GPX, NMEA, KML, CSV,
// JSON) are dropped, coarsened, offset or trimmed by a policy
// (desens/trajectory, sidecar.go). Tar, tar.gz and zip archives are
// repacked member by member, each member desensitized by its kind
// (archive.go, internal/archive).
//
// # Use
//
//	d, err := desens.New(desens.Options{
//		Targets: []detect.Class{detect.Face, detect.Plate},
//		Redact:  desens.RedactOptions{Style: desens.StylePixelate},
//	})
//	if err != nil { ... } // errors.Is(err, desens.ErrOptions) for a bad value
//	defer d.Close()
//	rep := d.ProcessFile(ctx, "in.mp4", "out.mp4")
//	if !rep.OK { log.Print(rep.Error) }
//
// Run processes a whole directory tree; Process works on streams. Options
// group the settings by concern (Face, Plate, Overlay, Redact, Encode,
// Runtime); their zero values are the defaults.
//
// # Buckets
//
// With Options.Storage (storage.NewMux), Run also takes s3://, cos:// and
// file:// URLs on either side; a URL ending in '/' is a key prefix. A
// bucket video streams to FFmpeg through a loopback server (objserve.go)
// that reads it with storage.Reader, and streams back as fragmented MP4
// into a multipart upload completed only on success (object.go). Outputs
// carry desens-source, desens-source-etag and desens-version metadata.
// Nothing is spooled to disk; sources are only read.
//
// # Pipeline
//
// Each stage lives in a file named after it: source.go (what a file is),
// decode.go, detectstage.go (the Detector seam), track.go (temporal
// consistency), redact.go (blur, pixelate, solid), encode.go and sink.go
// (atomic outputs). A detector that must follow a video from frame to
// frame (overlays stand still; scene text moves) is a Streamer and gets a
// fresh instance per video. pipeline.go joins them with bounded channels; run.go
// turns a run's input and output into files, streamed to the workers as
// the listing goes. detectors.go loads
// the models and builds the built-in detectors; each detector's tuning is
// its own, in package detect.
//
// # Bulk runs
//
// Options.Batch makes a directory or prefix run a job that can be left
// running on many machines (batch.go): a filter and a shard select the
// files, each file is retried on transient storage errors and bounded in
// time, and downloads, inference and uploads are bounded on their own
// (limits.go). A rerun resumes without a database: every output records
// the version of its source, and one already made from the source as it
// is now is skipped (resume.go). A batch with a success gate writes its
// report, then, when it passes, a manifest and a _SUCCESS marker last
// (deliver.go).
//
// # Failure
//
// A detector error on a frame masks that frame whole (or fails the file with
// Options.Strict); a decode or encode error fails the file and removes its
// partial output. Errors are *FileError values naming the file and stage and
// wrapping sentinels such as ErrCorruptMedia.
package desens
