package evalset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // PNG sources
	"math"
	"os"
)

// fimg is a float RGBA image, channels interleaved, each 0..255
// (alpha too), not premultiplied.
type fimg struct {
	W, H int
	Pix  []float32
}

func newFimg(w, h int) *fimg { return &fimg{W: w, H: h, Pix: make([]float32, w*h*4)} }

// loadImage decodes a JPEG or PNG file. JPEGs carrying an EXIF orientation
// other than 1 are refused: labels are defined on the image as displayed.
func loadImage(path string) (*fimg, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if o := jpegOrientation(data); o > 1 {
		return nil, fmt.Errorf("%s: EXIF orientation %d is not supported", path, o)
	}
	im, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fromImage(im), nil
}

// jpegOrientation returns the EXIF orientation tag of a JPEG, 0 if absent.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 0
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 0
		}
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 {
			return 0
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 0
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 14 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 0
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(t[4:]))
	if off+2 > len(t) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			return int(bo.Uint16(t[e+8:]))
		}
	}
	return 0
}

func fromImage(im image.Image) *fimg {
	b := im.Bounds()
	f := newFimg(b.Dx(), b.Dy())
	switch s := im.(type) {
	case *image.YCbCr:
		for y := 0; y < f.H; y++ {
			for x := 0; x < f.W; x++ {
				yi := s.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := s.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
				o := (y*f.W + x) * 4
				f.Pix[o], f.Pix[o+1], f.Pix[o+2], f.Pix[o+3] = float32(r), float32(g), float32(bb), 255
			}
		}
	case *image.Gray:
		for y := 0; y < f.H; y++ {
			for x := 0; x < f.W; x++ {
				v := float32(s.Pix[s.PixOffset(b.Min.X+x, b.Min.Y+y)])
				o := (y*f.W + x) * 4
				f.Pix[o], f.Pix[o+1], f.Pix[o+2], f.Pix[o+3] = v, v, v, 255
			}
		}
	default:
		for y := 0; y < f.H; y++ {
			for x := 0; x < f.W; x++ {
				c := color.NRGBAModel.Convert(im.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				o := (y*f.W + x) * 4
				f.Pix[o], f.Pix[o+1], f.Pix[o+2], f.Pix[o+3] = float32(c.R), float32(c.G), float32(c.B), float32(c.A)
			}
		}
	}
	return f
}

// crop copies the region r (clipped to the image).
func (f *fimg) crop(r Box) *fimg {
	r = r.Intersect(Box{0, 0, f.W, f.H})
	out := newFimg(r[2], r[3])
	for y := 0; y < r[3]; y++ {
		copy(out.Pix[y*out.W*4:(y+1)*out.W*4], f.Pix[((r[1]+y)*f.W+r[0])*4:((r[1]+y)*f.W+r[0]+r[2])*4])
	}
	return out
}

// flipH mirrors the image horizontally in place.
func (f *fimg) flipH() {
	for y := 0; y < f.H; y++ {
		row := f.Pix[y*f.W*4 : (y+1)*f.W*4]
		for a, b := 0, f.W-1; a < b; a, b = a+1, b-1 {
			for c := 0; c < 4; c++ {
				row[a*4+c], row[b*4+c] = row[b*4+c], row[a*4+c]
			}
		}
	}
}

type tap struct {
	i0 int
	w  []float32
}

// taps computes a triangle (bilinear) filter, widened when downscaling so
// that the result is area-averaged rather than aliased.
func taps(src, dst int) []tap {
	scale := float64(dst) / float64(src)
	support := 1.0
	if scale < 1 {
		support = 1 / scale
	}
	out := make([]tap, dst)
	for i := range out {
		center := (float64(i)+0.5)/scale - 0.5
		lo := int(math.Floor(center - support))
		hi := int(math.Ceil(center + support))
		first, last := max(lo, 0), min(hi, src-1)
		if first > last {
			first = min(max(int(math.Round(center)), 0), src-1)
			last = first
		}
		ws := make([]float32, last-first+1)
		var sum float64
		for j := lo; j <= hi; j++ {
			w := 1 - math.Abs(float64(j)-center)/support
			if w <= 0 {
				continue
			}
			jj := min(max(j, first), last)
			ws[jj-first] += float32(w)
			sum += w
		}
		if sum == 0 {
			ws[0], sum = 1, 1
		}
		for k := range ws {
			ws[k] = float32(float64(ws[k]) / sum)
		}
		out[i] = tap{first, ws}
	}
	return out
}

// resize scales the image to dw x dh.
func (f *fimg) resize(dw, dh int) *fimg {
	if dw == f.W && dh == f.H {
		c := newFimg(f.W, f.H)
		copy(c.Pix, f.Pix)
		return c
	}
	// alpha-weighted so transparent pixels do not bleed their colour
	tx := taps(f.W, dw)
	tmp := newFimg(dw, f.H)
	for y := 0; y < f.H; y++ {
		src := f.Pix[y*f.W*4:]
		dst := tmp.Pix[y*dw*4:]
		for x, t := range tx {
			var r, g, b, a float32
			for k, w := range t.w {
				o := (t.i0 + k) * 4
				wa := w * src[o+3]
				r += wa * src[o]
				g += wa * src[o+1]
				b += wa * src[o+2]
				a += wa
			}
			o := x * 4
			if a > 0 {
				dst[o], dst[o+1], dst[o+2] = r/a, g/a, b/a
			}
			dst[o+3] = a
		}
	}
	ty := taps(f.H, dh)
	out := newFimg(dw, dh)
	for y, t := range ty {
		dst := out.Pix[y*dw*4:]
		for x := 0; x < dw; x++ {
			var r, g, b, a float32
			for k, w := range t.w {
				o := ((t.i0+k)*dw + x) * 4
				wa := w * tmp.Pix[o+3]
				r += wa * tmp.Pix[o]
				g += wa * tmp.Pix[o+1]
				b += wa * tmp.Pix[o+2]
				a += wa
			}
			o := x * 4
			if a > 0 {
				dst[o], dst[o+1], dst[o+2] = r/a, g/a, b/a
			}
			dst[o+3] = a
		}
	}
	return out
}

// blur applies a separable Gaussian blur to the colour channels.
func (f *fimg) blur(sigma float64) {
	if sigma <= 0.05 {
		return
	}
	rad := int(math.Ceil(sigma * 2.5))
	k := make([]float32, 2*rad+1)
	var sum float32
	for i := -rad; i <= rad; i++ {
		v := float32(math.Exp(-float64(i*i) / (2 * sigma * sigma)))
		k[i+rad] = v
		sum += v
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, len(f.Pix))
	copy(tmp, f.Pix)
	for y := 0; y < f.H; y++ {
		for x := 0; x < f.W; x++ {
			var r, g, b float32
			for i := -rad; i <= rad; i++ {
				xx := min(max(x+i, 0), f.W-1)
				o := (y*f.W + xx) * 4
				w := k[i+rad]
				r += w * f.Pix[o]
				g += w * f.Pix[o+1]
				b += w * f.Pix[o+2]
			}
			o := (y*f.W + x) * 4
			tmp[o], tmp[o+1], tmp[o+2] = r, g, b
		}
	}
	for y := 0; y < f.H; y++ {
		for x := 0; x < f.W; x++ {
			var r, g, b float32
			for i := -rad; i <= rad; i++ {
				yy := min(max(y+i, 0), f.H-1)
				o := (yy*f.W + x) * 4
				w := k[i+rad]
				r += w * tmp[o]
				g += w * tmp[o+1]
				b += w * tmp[o+2]
			}
			o := (y*f.W + x) * 4
			f.Pix[o], f.Pix[o+1], f.Pix[o+2] = r, g, b
		}
	}
}

// adjust applies contrast (around mid-grey) and brightness to colour
// channels; values are clamped to 0..255.
func (f *fimg) adjust(contrast, brightness float64) {
	c, br := float32(contrast), float32(brightness)
	for i := 0; i < len(f.Pix); i += 4 {
		for j := 0; j < 3; j++ {
			v := (f.Pix[i+j]-128)*c + 128 + br
			f.Pix[i+j] = min(max(v, 0), 255)
		}
	}
}

// tint multiplies colour channels (white balance shift).
func (f *fimg) tint(r, g, b float64) {
	m := [3]float32{float32(r), float32(g), float32(b)}
	for i := 0; i < len(f.Pix); i += 4 {
		for j := 0; j < 3; j++ {
			f.Pix[i+j] = min(f.Pix[i+j]*m[j], 255)
		}
	}
}

// gray converts colour channels to luma.
func (f *fimg) gray() {
	for i := 0; i < len(f.Pix); i += 4 {
		v := 0.299*f.Pix[i] + 0.587*f.Pix[i+1] + 0.114*f.Pix[i+2]
		f.Pix[i], f.Pix[i+1], f.Pix[i+2] = v, v, v
	}
}

// isGray reports whether (nearly) all pixels are achromatic.
func (f *fimg) isGray() bool {
	for i := 0; i < len(f.Pix); i += 4 * 7 {
		if math.Abs(float64(f.Pix[i]-f.Pix[i+1])) > 4 || math.Abs(float64(f.Pix[i+1]-f.Pix[i+2])) > 4 {
			return false
		}
	}
	return true
}

// composite blends src onto f at (x0, y0) with per-pixel mask (0..1, len
// src.W*src.H) times src alpha.
func (f *fimg) composite(src *fimg, mask []float32, x0, y0 int) {
	for y := 0; y < src.H; y++ {
		fy := y0 + y
		if fy < 0 || fy >= f.H {
			continue
		}
		for x := 0; x < src.W; x++ {
			fx := x0 + x
			if fx < 0 || fx >= f.W {
				continue
			}
			so := (y*src.W + x) * 4
			a := src.Pix[so+3] / 255
			if mask != nil {
				a *= mask[y*src.W+x]
			}
			if a <= 0 {
				continue
			}
			do := (fy*f.W + fx) * 4
			for c := 0; c < 3; c++ {
				f.Pix[do+c] = a*src.Pix[so+c] + (1-a)*f.Pix[do+c]
			}
		}
	}
}

// ellipseMask returns a soft elliptical alpha mask for a w x h patch: 1
// inside the ellipse through (cx±ax, cy±ay) scaled by inner, falling
// smoothly to 0 at the ellipse scaled by 1 (ax, ay are the outer radii).
func ellipseMask(w, h int, cx, cy, ax, ay, inner float64) []float32 {
	m := make([]float32, w*h)
	inner = min(max(inner, 0), 0.98)
	for y := 0; y < h; y++ {
		dy := (float64(y) + 0.5 - cy) / ay
		for x := 0; x < w; x++ {
			dx := (float64(x) + 0.5 - cx) / ax
			d := math.Sqrt(dx*dx + dy*dy)
			var a float64
			switch {
			case d <= inner:
				a = 1
			case d >= 1:
				a = 0
			default:
				t := (1 - d) / (1 - inner)
				a = t * t * (3 - 2*t)
			}
			m[y*w+x] = float32(a)
		}
	}
	return m
}

// writeJPEG encodes the colour channels as a JPEG file.
func (f *fimg) writeJPEG(path string, quality int) error {
	rgba := image.NewRGBA(image.Rect(0, 0, f.W, f.H))
	for i := 0; i < len(f.Pix); i += 4 {
		for j := 0; j < 3; j++ {
			rgba.Pix[i+j] = uint8(min(max(f.Pix[i+j]+0.5, 0), 255))
		}
		rgba.Pix[i+3] = 255
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	if err := jpeg.Encode(w, rgba, &jpeg.Options{Quality: quality}); err != nil {
		out.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
