package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	Frames        int // from the container; 0 when unknown
	Duration      float64
	Rotation      int // degrees the player rotates by; frames come out upright
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
	if r := ((info.Rotation % 360) + 360) % 360; r == 90 || r == 270 {
		info.Width, info.Height = info.Height, info.Width
	}
	return info, nil
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
