package desens

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"
)

// maxImageBytes bounds what is read into memory for one image.
const maxImageBytes = 256 << 20

// processImage desensitizes one image file. OpenCV applies the EXIF
// orientation while decoding and writes no metadata when encoding, so EXIF
// (GPS above all), XMP and comments never reach the output.
func (d *Desensitizer) processImage(ctx context.Context, name, src string, out Output, outExt string, rep *FileReport) error {
	t := time.Now()
	st, err := os.Stat(src)
	if err != nil {
		return fileErr(name, "source", err)
	}
	if st.Size() > maxImageBytes {
		return fileErr(name, "source", fmt.Errorf("%w: image of %d bytes is over the %d byte limit", ErrUnsupported, st.Size(), maxImageBytes))
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fileErr(name, "source", err)
	}
	rep.BytesIn = int64(len(data))
	img, err := gocv.IMDecode(data, gocv.IMReadColor)
	rep.addStage("decode", time.Since(t))
	if err != nil || img.Empty() {
		img.Close()
		return fileErr(name, "decode", fmt.Errorf("%w: cannot decode image", ErrCorruptMedia))
	}
	defer img.Close()
	rep.Width, rep.Height = img.Cols(), img.Rows()

	f := &frame{img: img}
	p := &pipeline{name: name, detectors: d.detectors, redactor: d.redactor, strict: d.opts.Strict,
		regions: d.keepRegions, report: rep}
	t = time.Now()
	detectAll(ctx, d.detectors, []*frame{f})
	rep.addStage("detect", time.Since(t))
	if err := ctx.Err(); err != nil {
		return err
	}
	t = time.Now()
	if err := p.redactFrame(f); err != nil {
		return err
	}
	rep.addStage("redact", time.Since(t))
	rep.Frames = 1

	t = time.Now()
	buf, err := gocv.IMEncode(gocv.FileExt(outExt), f.img)
	if err != nil {
		return fileErr(name, "encode", err)
	}
	defer buf.Close()
	if err := os.WriteFile(out.Path(), buf.GetBytes(), 0o644); err != nil {
		return fileErr(name, "sink", err)
	}
	rep.addStage("encode", time.Since(t))
	return nil
}

// imageExt picks the encoder for an output name: the same format as the
// input, with JPEG for formats OpenCV cannot write.
func imageExt(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm":
		return ext
	}
	return ".jpg"
}
