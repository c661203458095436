package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
)

// ErrCorrupt marks media that FFmpeg cannot read: truncated, corrupt or not
// video at all.
var ErrCorrupt = errors.New("corrupt or unreadable media")

// Info describes a video as desens needs it.
type Info struct {
	Width, Height int    // of decoded (already rotated) frames
	FrameRate     string // rational, e.g. "30000/1001"
	FPS           float64
	Frames        int     // from the container; 0 when unknown
	Duration      float64 // of the whole file, in seconds; 0 when unknown
	VideoDuration float64 // of the video stream, in seconds; 0 when unknown
	Rotation      int     // degrees the player rotates by; frames come out upright
	Codec         string
	AudioCodecs   []string
	Tags          map[string]string // container-level tags
	Format        string
}

type probeJSON struct {
	Streams []struct {
		CodecType    string            `json:"codec_type"`
		CodecName    string            `json:"codec_name"`
		Width        int               `json:"width"`
		Height       int               `json:"height"`
		RFrameRate   string            `json:"r_frame_rate"`
		AvgFrameRate string            `json:"avg_frame_rate"`
		NbFrames     string            `json:"nb_frames"`
		Duration     string            `json:"duration"`
		Tags         map[string]string `json:"tags"`
		Disposition  map[string]int    `json:"disposition"`
		SideData     []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		FormatName string            `json:"format_name"`
		Duration   string            `json:"duration"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
}

// Probe reads a video's geometry, rate, rotation, audio and tags.
func Probe(ctx context.Context, src string) (Info, error) {
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-of", "json",
		"-show_streams", "-show_format", "--", src)
	cmd.Env = ChildEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Info{}, ctx.Err()
		}
		if errors.Is(err, exec.ErrNotFound) {
			return Info{}, fmt.Errorf("ffprobe not installed: %w", err)
		}
		return Info{}, fmt.Errorf("%w: %s", ErrCorrupt, firstLine(stderr.String(), err.Error()))
	}
	var p probeJSON
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		return Info{}, fmt.Errorf("%w: ffprobe output: %v", ErrCorrupt, err)
	}
	info := Info{Tags: p.Format.Tags, Format: p.Format.FormatName}
	info.Duration, _ = strconv.ParseFloat(p.Format.Duration, 64)
	found := false
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			if found || s.Disposition["attached_pic"] == 1 {
				continue
			}
			found = true
			info.Width, info.Height, info.Codec = s.Width, s.Height, s.CodecName
			info.FrameRate = s.AvgFrameRate
			if rate(info.FrameRate) <= 0 {
				info.FrameRate = s.RFrameRate
			}
			info.FPS = rate(info.FrameRate)
			info.Frames, _ = strconv.Atoi(s.NbFrames)
			info.VideoDuration = streamDuration(s.Duration, s.Tags["DURATION"])
			if r, ok := s.Tags["rotate"]; ok {
				info.Rotation, _ = strconv.Atoi(r)
			}
			for _, sd := range s.SideData {
				if sd.Rotation != 0 {
					info.Rotation = int(sd.Rotation)
				}
			}
		case "audio":
			info.AudioCodecs = append(info.AudioCodecs, s.CodecName)
		}
	}
	if !found || info.Width <= 0 || info.Height <= 0 {
		return Info{}, fmt.Errorf("%w: no video stream", ErrCorrupt)
	}
	if info.FPS <= 0 || info.FPS > 1000 {
		info.FrameRate, info.FPS = "25/1", 25
	}
	if info.VideoDuration == 0 && len(info.AudioCodecs) == 0 {
		info.VideoDuration = info.Duration // the video is all the file holds
	}
	if r := ((info.Rotation % 360) + 360) % 360; r == 90 || r == 270 {
		info.Width, info.Height = info.Height, info.Width
	}
	return info, nil
}

// streamDuration reads a stream's duration in seconds from ffprobe's
// duration field, or from the "HH:MM:SS.nnnnnnnnn" DURATION tag Matroska
// keeps instead; 0 when neither says.
func streamDuration(field, tag string) float64 {
	if d, err := strconv.ParseFloat(field, 64); err == nil && d > 0 {
		return d
	}
	parts := strings.Split(tag, ":")
	if len(parts) != 3 {
		return 0
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	s, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil || h < 0 || m < 0 || s < 0 {
		return 0
	}
	return float64(h)*3600 + float64(m)*60 + s
}

// Promised says how many frames the container promises and how many of
// them may be missing before the video counts as cut short; frames is 0
// when the container says neither its frame count nor its video's
// duration (a raw bitstream, a stream whose duration FFmpeg reads off its
// last timestamps and so promises only what is there). A frame count is
// exact but counts frames an edit list hides, so a shorter duration wins;
// a count derived from duration and rate is an estimate, since the rate of
// a variable-rate stream is read from its first packets, and gets more room.
func (i Info) Promised() (frames, slack int) {
	byTime := 0
	if !durationFromTimestamps(i.Format) {
		byTime = int(math.Round(i.VideoDuration * i.FPS))
	}
	switch {
	case i.Frames > 0 && (byTime <= 0 || i.Frames <= byTime):
		return i.Frames, 2
	case byTime > 0:
		return byTime, 2 + byTime/50
	}
	return 0, 0
}

// durationFromTimestamps reports the MPEG transport and program streams,
// which declare no duration: FFmpeg takes it from the first and last
// timestamps in the file, which in a file with a timestamp jump can be far
// from the frames it holds.
func durationFromTimestamps(format string) bool {
	return format == "mpegts" || format == "mpeg"
}

func rate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0
	}
	if !ok {
		return n
	}
	d, err := strconv.ParseFloat(den, 64)
	if err != nil || d == 0 {
		return 0
	}
	return n / d
}

// firstLine returns the first non-empty line of s without FFmpeg's
// "[demuxer @ 0x...]" prefix, or fallback.
func firstLine(s, fallback string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			if i := strings.Index(l, "] "); i > 0 && strings.Contains(l[:i], " @ ") {
				l = strings.TrimSpace(l[i+2:])
			}
		}
		if l != "" {
			return l
		}
	}
	return fallback
}
