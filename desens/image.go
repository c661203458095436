package desens

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	_ "image/jpeg" // header sizes only
	_ "image/png"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"
)

// maxImageBytes bounds what is read into memory for one image.
const maxImageBytes = 256 << 20

// maxImagePixels bounds an image's size (120 MP: larger than any camera a
// vehicle carries). A hostile header can claim gigapixels that would take
// gigabytes to decode and minutes to scan.
const maxImagePixels = 120_000_000

// processImage desensitizes one image, read whole into data. OpenCV applies
// the EXIF orientation while decoding and writes no metadata when encoding,
// so EXIF (GPS above all), XMP and comments never reach the output.
func (d *Desensitizer) processImage(ctx context.Context, name string, data []byte, out output, outExt string, rep *FileReport) error {
	t := time.Now()
	rep.BytesIn = int64(len(data))
	if err := complete(data); err != nil {
		return fileErr(name, "decode", err)
	}
	if w, h, ok := headerSize(data); ok && (w <= 0 || h <= 0 || int64(w)*int64(h) > maxImagePixels) {
		return fileErr(name, "decode", fmt.Errorf("%w: image header says %dx%d (limit %d pixels)", ErrUnsupported, w, h, maxImagePixels))
	}
	img, err := gocv.IMDecode(data, gocv.IMReadColor)
	rep.addStage("decode", time.Since(t))
	if err != nil || img.Empty() {
		img.Close()
		return fileErr(name, "decode", fmt.Errorf("%w: cannot decode image", ErrCorruptMedia))
	}
	defer img.Close()
	rep.Width, rep.Height = img.Cols(), img.Rows()
	if int64(img.Cols())*int64(img.Rows()) > maxImagePixels {
		return fileErr(name, "decode", fmt.Errorf("%w: %dx%d image is over the %d pixel limit", ErrUnsupported, img.Cols(), img.Rows(), maxImagePixels))
	}

	f := &frame{img: img}
	p := &pipeline{name: name, detectors: d.detectors(), redactor: d.redactor, strict: d.opts.Strict,
		report: rep}
	t = time.Now()
	detectAll(ctx, p.detectors, []*frame{f})
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
	enc := f.img
	if outExt == ".pgm" {
		// OpenCV's PGM encoder takes one channel only, and throws (aborting
		// the process) on the three the decoder gives.
		enc = gocv.NewMat()
		defer enc.Close()
		gocv.CvtColor(f.img, &enc, gocv.ColorBGRToGray)
	}
	buf, err := gocv.IMEncode(gocv.FileExt(outExt), enc)
	if err != nil {
		return fileErr(name, "encode", err)
	}
	defer buf.Close()
	if _, err := out.Write(buf.GetBytes()); err != nil {
		return fileErr(name, "sink", err)
	}
	rep.addStage("encode", time.Since(t))
	return nil
}

// complete rejects truncated JPEG and PNG files, which OpenCV would decode
// anyway, filling the missing part with grey and giving no error.
func complete(data []byte) error {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		sos := bytes.LastIndex(data, []byte{0xFF, 0xDA})
		if sos < 0 || bytes.LastIndex(data, []byte{0xFF, 0xD9}) < sos {
			return fmt.Errorf("%w: truncated JPEG (no end-of-image marker)", ErrCorruptMedia)
		}
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		if !bytes.Contains(data, []byte("IEND")) {
			return fmt.Errorf("%w: truncated PNG (no IEND chunk)", ErrCorruptMedia)
		}
	}
	return nil
}

// headerSize reads an image's dimensions from its header without decoding
// it, for the formats whose headers are simple to trust; ok is false for
// the others, which OpenCV's own 2^30 pixel limit still bounds.
func headerSize(data []byte) (w, h int, ok bool) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}), bytes.HasPrefix(data, []byte("\x89PNG")):
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return 0, 0, false // OpenCV decides, and fails cleanly
		}
		return cfg.Width, cfg.Height, true
	case bytes.HasPrefix(data, []byte("BM")) && len(data) >= 26:
		w := int(int32(binary.LittleEndian.Uint32(data[18:])))
		h := int(int32(binary.LittleEndian.Uint32(data[22:])))
		if h < 0 {
			h = -h // top-down bitmap
		}
		return w, h, true
	case len(data) >= 30 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		switch string(data[12:16]) {
		case "VP8X":
			w := 1 + int(data[24]) | int(data[25])<<8 | int(data[26])<<16
			h := 1 + int(data[27]) | int(data[28])<<8 | int(data[29])<<16
			return w, h, true
		case "VP8L":
			b := binary.LittleEndian.Uint32(data[21:])
			return 1 + int(b&0x3FFF), 1 + int((b>>14)&0x3FFF), true
		case "VP8 ":
			return int(binary.LittleEndian.Uint16(data[26:]) & 0x3FFF), int(binary.LittleEndian.Uint16(data[28:]) & 0x3FFF), true
		}
	}
	return 0, 0, false
}

// imageTypes are the media types of the formats imageExt picks.
var imageTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".bmp": "image/bmp",
	".tif": "image/tiff", ".tiff": "image/tiff", ".webp": "image/webp", ".jp2": "image/jp2",
	".pgm": "image/x-portable-graymap", ".ppm": "image/x-portable-pixmap",
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
