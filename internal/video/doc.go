// Package video decodes and encodes video through the ffmpeg and ffprobe
// programs: frames travel as raw BGR over pipes, so any container and codec
// FFmpeg reads can be desensitized, and the output is H.264 MP4 with the
// source's audio copied across and only chosen metadata kept.
//
// # Why subprocesses
//
// OpenCV's VideoWriter writes no audio and its VideoCapture hides decode
// errors. Running ffmpeg directly gives exact frame counts (no frame is
// duplicated or dropped: -fps_mode passthrough), auto-rotation, audio and
// metadata control in one pass, and decode errors as exit codes.
//
// # Failure
//
// A Reader reports truncated or corrupt streams as ErrCorrupt; a Writer's
// output must be discarded unless Close returns nil.
package video
