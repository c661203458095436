package desens

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
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
	w, h, err := imageHeader(data)
	if w > 0 && h > 0 && overLimit(w, h) {
		return fileErr(name, "decode", fmt.Errorf("%w: image header says %dx%d (limit %d pixels)", ErrUnsupported, w, h, maxImagePixels))
	}
	if err != nil {
		return fileErr(name, "decode", err)
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
	p := &pipeline{name: name, detectors: d.limits.limitInference(d.dets.all), redactor: d.redactor, strict: d.opts.Strict,
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

// imageHeader reads an image's declared size from its header, without
// decoding it, and checks that the file holds all the data its header and
// structure promise: OpenCV decodes many truncated files without an error,
// filling what is missing with grey. err wraps ErrCorruptMedia for a file
// cut short or damaged; w and h are set whenever the header was read, even
// with err, so that a bomb is refused for its size first.
func imageHeader(data []byte) (w, h int, err error) {
	w, h, err = formatHeader(data)
	if err == nil && (w <= 0 || h <= 0) {
		err = fmt.Errorf("%w: image header says %dx%d", ErrCorruptMedia, w, h)
	}
	return w, h, err
}

func formatHeader(data []byte) (w, h int, err error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		return jpegHeader(data)
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return pngHeader(data)
	case bytes.HasPrefix(data, []byte("BM")):
		return bmpHeader(data)
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return webpHeader(data)
	case bytes.HasPrefix(data, []byte("II*\x00")):
		return tiffHeader(data, binary.LittleEndian)
	case bytes.HasPrefix(data, []byte("MM\x00*")):
		return tiffHeader(data, binary.BigEndian)
	case bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cjP  ")):
		return jp2Header(data)
	case bytes.HasPrefix(data, []byte("P5")), bytes.HasPrefix(data, []byte("P6")):
		return pnmHeader(data)
	}
	return 0, 0, fmt.Errorf("%w: unknown image format", ErrCorruptMedia)
}

func truncated(format string) error {
	return fmt.Errorf("%w: truncated %s", ErrCorruptMedia, format)
}

func damaged(format, why string) error {
	return fmt.Errorf("%w: damaged %s (%s)", ErrCorruptMedia, format, why)
}

// overLimit says whether w×h is beyond maxImagePixels, where the caller
// refuses the image whatever else is wrong with it.
func overLimit(w, h int) bool { return int64(w)*int64(h) > maxImagePixels }

// jpegHeader reads the frame header (SOFn) and requires an end-of-image
// marker after the last scan.
func jpegHeader(d []byte) (w, h int, err error) {
	for i := 2; ; {
		if i+4 > len(d) {
			return 0, 0, truncated("JPEG (no frame header)")
		}
		if d[i] != 0xFF {
			return 0, 0, damaged("JPEG", "no marker where one belongs")
		}
		m := d[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || m >= 0xD0 && m <= 0xD8: // markers without a length
			i += 2
			continue
		case m == 0xDA || m == 0xD9:
			return 0, 0, damaged("JPEG", "no frame header before the scan")
		}
		n := int(binary.BigEndian.Uint16(d[i+2:]))
		if n < 2 {
			return 0, 0, damaged("JPEG", "marker segment length")
		}
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC { // SOFn
			if n < 8 || i+9 > len(d) {
				return 0, 0, truncated("JPEG (frame header)")
			}
			h, w = int(binary.BigEndian.Uint16(d[i+5:])), int(binary.BigEndian.Uint16(d[i+7:]))
			break
		}
		i += 2 + n
	}
	sos := bytes.LastIndex(d, []byte{0xFF, 0xDA})
	if sos < 0 || bytes.LastIndex(d, []byte{0xFF, 0xD9}) < sos {
		return w, h, truncated("JPEG (no end-of-image marker)")
	}
	return w, h, nil
}

// pngHeader reads IHDR, which comes first, and walks the chunks to a
// whole IEND.
func pngHeader(d []byte) (w, h int, err error) {
	if len(d) < 24 {
		return 0, 0, truncated("PNG (no header)")
	}
	if string(d[12:16]) != "IHDR" {
		return 0, 0, damaged("PNG", "IHDR is not the first chunk")
	}
	w, h = int(binary.BigEndian.Uint32(d[16:])), int(binary.BigEndian.Uint32(d[20:]))
	for i := 8; ; {
		if i+12 > len(d) {
			return w, h, truncated("PNG (no IEND chunk)")
		}
		n := int64(binary.BigEndian.Uint32(d[i:]))
		end := int64(i) + 12 + n
		if end > int64(len(d)) {
			return w, h, truncated("PNG (a chunk runs past the end)")
		}
		if string(d[i+4:i+8]) == "IEND" {
			return w, h, nil
		}
		i = int(end)
	}
}

// bmpHeader reads the info header and requires the pixel array, but for
// the last row's padding, which some writers leave out.
func bmpHeader(d []byte) (w, h int, err error) {
	if len(d) < 26 {
		return 0, 0, truncated("BMP (no header)")
	}
	off := int64(binary.LittleEndian.Uint32(d[10:]))
	var bpp, compression, sizeImage int64
	if binary.LittleEndian.Uint32(d[14:]) == 12 { // OS/2 BITMAPCOREHEADER
		w, h = int(binary.LittleEndian.Uint16(d[18:])), int(binary.LittleEndian.Uint16(d[20:]))
		bpp = int64(binary.LittleEndian.Uint16(d[24:]))
	} else {
		if len(d) < 38 {
			return 0, 0, truncated("BMP (no header)")
		}
		w = int(int32(binary.LittleEndian.Uint32(d[18:])))
		h = int(int32(binary.LittleEndian.Uint32(d[22:])))
		if h < 0 {
			h = -h // top-down bitmap
		}
		bpp = int64(binary.LittleEndian.Uint16(d[28:]))
		compression = int64(binary.LittleEndian.Uint32(d[30:]))
		sizeImage = int64(binary.LittleEndian.Uint32(d[34:]))
	}
	if w <= 0 || h <= 0 || overLimit(w, h) {
		return w, h, nil
	}
	need := off + 1
	switch compression {
	case 0, 3, 6: // uncompressed, with or without bit fields
		row := (int64(w)*bpp + 31) / 32 * 4
		need = off + row*int64(h-1) + (int64(w)*bpp+7)/8
	default: // run-length or embedded JPEG/PNG: the header's own size
		if sizeImage > 0 {
			need = off + sizeImage
		}
	}
	if need > int64(len(d)) {
		return w, h, truncated(fmt.Sprintf("BMP (%d of %d bytes)", len(d), need))
	}
	return w, h, nil
}

// webpHeader reads the canvas size from the VP8X, VP8L or VP8 chunk and
// requires every chunk the RIFF header counts.
func webpHeader(d []byte) (w, h int, err error) {
	if len(d) < 30 {
		return 0, 0, truncated("WebP (no header)")
	}
	switch string(d[12:16]) {
	case "VP8X":
		w = 1 + (int(d[24]) | int(d[25])<<8 | int(d[26])<<16)
		h = 1 + (int(d[27]) | int(d[28])<<8 | int(d[29])<<16)
	case "VP8L":
		if d[20] != 0x2F {
			return 0, 0, damaged("WebP", "lossless signature")
		}
		b := binary.LittleEndian.Uint32(d[21:])
		w, h = 1+int(b&0x3FFF), 1+int((b>>14)&0x3FFF)
	case "VP8 ":
		if !bytes.Equal(d[23:26], []byte{0x9D, 0x01, 0x2A}) {
			return 0, 0, damaged("WebP", "key frame start code")
		}
		w = int(binary.LittleEndian.Uint16(d[26:]) & 0x3FFF)
		h = int(binary.LittleEndian.Uint16(d[28:]) & 0x3FFF)
	default:
		return 0, 0, damaged("WebP", fmt.Sprintf("first chunk %q", d[12:16]))
	}
	end := 8 + int64(binary.LittleEndian.Uint32(d[4:]))
	if end > int64(len(d)) {
		return w, h, truncated(fmt.Sprintf("WebP (%d of %d bytes)", len(d), end))
	}
	for i := int64(12); i < end; {
		if i+8 > end {
			return w, h, damaged("WebP", "chunk header past the RIFF end")
		}
		n := int64(binary.LittleEndian.Uint32(d[i+4:]))
		if i += 8 + n; i > end {
			return w, h, truncated("WebP (a chunk runs past the end)")
		}
		i += n & 1 // chunks are padded to an even size
	}
	return w, h, nil
}

// maxTIFFValues bounds how many strips or tiles one TIFF image may have,
// and so the memory their offsets take to check.
const maxTIFFValues = 1 << 20

// tiffTypeSizes are the sizes of the TIFF field types, by type number;
// readers skip the fields of types they do not know.
var tiffTypeSizes = map[uint16]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}

// tiffHeader reads ImageWidth and ImageLength from the first directory,
// the one OpenCV decodes, and requires every strip or tile it points at.
func tiffHeader(d []byte, bo binary.ByteOrder) (w, h int, err error) {
	if len(d) < 8 {
		return 0, 0, truncated("TIFF (no header)")
	}
	ifd := int64(bo.Uint32(d[4:]))
	if ifd+2 > int64(len(d)) {
		return 0, 0, truncated("TIFF (no directory)")
	}
	n := int64(bo.Uint16(d[ifd:]))
	if ifd+2+12*n+4 > int64(len(d)) { // entries, then the next directory's offset
		return 0, 0, truncated("TIFF (directory)")
	}
	// values returns an entry's SHORT or LONG values, or nil if they lie
	// past the end of the file.
	values := func(e []byte) ([]int64, error) {
		typ, count := bo.Uint16(e[2:]), int64(bo.Uint32(e[4:]))
		size := int64(4)
		switch typ {
		case 3:
			size = 2
		case 4:
		default:
			return nil, damaged("TIFF", fmt.Sprintf("tag %d of type %d", bo.Uint16(e), typ))
		}
		if count > maxTIFFValues {
			return nil, damaged("TIFF", fmt.Sprintf("tag %d has %d values", bo.Uint16(e), count))
		}
		at := e[8:12]
		if count*size > 4 {
			off := int64(bo.Uint32(e[8:]))
			if off+count*size > int64(len(d)) {
				return nil, truncated(fmt.Sprintf("TIFF (tag %d)", bo.Uint16(e)))
			}
			at = d[off : off+count*size]
		}
		vs := make([]int64, count)
		for i := range vs {
			if size == 2 {
				vs[i] = int64(bo.Uint16(at[2*i:]))
			} else {
				vs[i] = int64(bo.Uint32(at[4*i:]))
			}
		}
		return vs, nil
	}
	tags := map[uint16][]int64{}
	for i := range n {
		e := d[ifd+2+12*i : ifd+14+12*i]
		switch tag := bo.Uint16(e); tag {
		case 256, 257, 273, 279, 324, 325: // width, length, strip and tile offsets and byte counts
			vs, err := values(e)
			if err != nil {
				return 0, 0, err
			}
			tags[tag] = vs
		default:
			// Any other tag's values, when they do not fit in the entry,
			// lie elsewhere in the file and must be there too.
			size := int64(tiffTypeSizes[bo.Uint16(e[2:])])
			if count := int64(bo.Uint32(e[4:])); size*count > 4 && int64(bo.Uint32(e[8:]))+size*count > int64(len(d)) {
				return 0, 0, truncated(fmt.Sprintf("TIFF (tag %d)", tag))
			}
		}
	}
	if len(tags[256]) != 1 || len(tags[257]) != 1 {
		return 0, 0, damaged("TIFF", "no image width or length")
	}
	w, h = int(tags[256][0]), int(tags[257][0])
	offs, counts := tags[273], tags[279]
	if offs == nil {
		offs, counts = tags[324], tags[325]
	}
	if len(offs) == 0 {
		return w, h, damaged("TIFF", "no strips or tiles")
	}
	for i, off := range offs {
		end := off + 1
		if i < len(counts) {
			end = off + counts[i]
		}
		if end > int64(len(d)) {
			return w, h, truncated(fmt.Sprintf("TIFF (strip or tile %d of %d)", i+1, len(offs)))
		}
	}
	return w, h, nil
}

// jp2Header walks a JPEG 2000 file's boxes, reads the size and component
// count the codestream's SIZ marker declares (what OpenJPEG allocates),
// and requires the codestream to end with its EOC marker.
func jp2Header(d []byte) (w, h int, err error) {
	for i := int64(0); i < int64(len(d)); {
		if i+8 > int64(len(d)) {
			return w, h, truncated("JPEG 2000 (box header)")
		}
		size, hdr := int64(binary.BigEndian.Uint32(d[i:])), int64(8)
		typ := string(d[i+4 : i+8])
		switch size {
		case 0: // the last box runs to the end of the file
			size = int64(len(d)) - i
		case 1:
			if i+16 > int64(len(d)) {
				return w, h, truncated("JPEG 2000 (box header)")
			}
			size, hdr = int64(binary.BigEndian.Uint64(d[i+8:])), 16
		}
		if size < hdr {
			return w, h, damaged("JPEG 2000", "box size")
		}
		if size > int64(len(d))-i {
			return w, h, truncated(fmt.Sprintf("JPEG 2000 (%q box)", typ))
		}
		if typ == "jp2c" {
			cs := d[i+hdr : i+size]
			if len(cs) < 42 || !bytes.HasPrefix(cs, []byte{0xFF, 0x4F, 0xFF, 0x51}) {
				return 0, 0, damaged("JPEG 2000", "codestream header")
			}
			x, y := binary.BigEndian.Uint32(cs[8:]), binary.BigEndian.Uint32(cs[12:])
			x0, y0 := binary.BigEndian.Uint32(cs[16:]), binary.BigEndian.Uint32(cs[20:])
			if x0 >= x || y0 >= y {
				return 0, 0, damaged("JPEG 2000", "image area")
			}
			w, h = int(x-x0), int(y-y0)
			if c := binary.BigEndian.Uint16(cs[40:]); c > 4 {
				return w, h, fmt.Errorf("%w: JPEG 2000 with %d components", ErrUnsupported, c)
			}
			if !bytes.HasSuffix(cs, []byte{0xFF, 0xD9}) {
				return w, h, truncated("JPEG 2000 (no end-of-codestream marker)")
			}
			return w, h, nil
		}
		i += size
	}
	return 0, 0, truncated("JPEG 2000 (no codestream)")
}

// pnmHeader reads a binary PGM or PPM header ("P5 width height maxval",
// with comments) and requires every sample it declares.
func pnmHeader(d []byte) (w, h int, err error) {
	var nums [3]int64
	i := 2
	for k := range nums {
		for i < len(d) && (d[i] == '#' || d[i] == ' ' || d[i] >= '\t' && d[i] <= '\r') {
			if d[i] == '#' {
				for i < len(d) && d[i] != '\n' && d[i] != '\r' {
					i++
				}
				continue
			}
			i++
		}
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' && i-start < 10 {
			nums[k] = nums[k]*10 + int64(d[i]-'0')
			i++
		}
		if i == start {
			if i >= len(d) {
				return 0, 0, truncated("PNM (header)")
			}
			return 0, 0, damaged("PNM", "header")
		}
	}
	if i >= len(d) {
		return 0, 0, truncated("PNM (header)")
	}
	i++ // the one whitespace byte before the samples
	w, h = int(nums[0]), int(nums[1])
	if w <= 0 || h <= 0 || overLimit(w, h) {
		return w, h, nil
	}
	if nums[2] <= 0 || nums[2] > 65535 {
		return w, h, damaged("PNM", fmt.Sprintf("maximum value %d", nums[2]))
	}
	need := int64(w) * int64(h)
	if d[1] == '6' {
		need *= 3
	}
	if nums[2] > 255 {
		need *= 2
	}
	if int64(i)+need > int64(len(d)) {
		return w, h, truncated(fmt.Sprintf("PNM (%d of %d bytes)", len(d), int64(i)+need))
	}
	return w, h, nil
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
