package desens

import (
	"context"
	"errors"
	"io"
	"time"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/video"
)

// decodeStage reads frames from the decoder and numbers them.
func (p *pipeline) decodeStage(ctx context.Context, r *video.Reader, out chan<- *frame) error {
	defer close(out)
	for seq := 0; ; seq++ {
		t := time.Now()
		img := gocv.NewMat()
		err := r.Read(&img)
		p.clock.add("decode", time.Since(t))
		if errors.Is(err, io.EOF) {
			img.Close()
			return nil
		}
		if err != nil {
			img.Close()
			return fileErr(p.name, "decode", err)
		}
		if err := send(ctx, out, &frame{seq: seq, img: img}); err != nil {
			img.Close()
			return err
		}
	}
}
