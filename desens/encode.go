package desens

import (
	"context"
	"time"

	"github.com/desens/desens/internal/video"
)

// encodeStage writes redacted frames, in order, and closes them.
func (p *pipeline) encodeStage(ctx context.Context, w *video.Writer, in <-chan *frame) error {
	for f := range in {
		t := time.Now()
		err := w.Write(f.img)
		p.clock.add("encode", time.Since(t))
		f.img.Close()
		if err != nil {
			return fileErr(p.name, "encode", err)
		}
		p.report.Frames++
		if p.progress != nil && (p.report.Frames%10 == 0) {
			p.progress(Progress{File: p.name, Frame: p.report.Frames, Frames: p.expected})
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
