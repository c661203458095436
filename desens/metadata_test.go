package desens

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/desens/desens/internal/testenv"
)

// Where the test videos say they were: Shanghai, as phones, dashcams,
// drones and action cameras write it.
const (
	isoLocation = "+31.2304+121.4737/"
	appleISO    = "+31.2304+121.4737+004.000/"
)

// leaks are byte strings that must not appear anywhere in an output: the
// coordinates as text, and the boxes, codec tags and keys that carry
// positions in MP4 and MOV.
var leaks = []string{
	"31.2304", "121.4737", "31,13.824", "121,28.422", // text coordinates (ISO 6709, XMP, subtitles)
	"\xa9xyz",      // QuickTime user-data location
	"loci",         // 3GPP location box (MP4 mode, binary coordinates)
	"ISO6709",      // com.apple.quicktime.location.ISO6709 (mdta keys)
	"location",     // any location key
	"gpmd", "GPS5", // GoPro metadata track and its GPS stream
	"GoPro MET",      // its handler
	"GPS",            // subtitle GPS text, XMP GPS properties
	"XMP", "xmpmeta", // XMP packets
	"\xbe\x7a\xcf\xcb", // the XMP uuid box's UUID
}

type probeAll struct {
	Streams []struct {
		Index     int               `json:"index"`
		CodecType string            `json:"codec_type"`
		CodecName string            `json:"codec_name"`
		CodecTag  string            `json:"codec_tag_string"`
		Width     int               `json:"width"`
		Height    int               `json:"height"`
		Tags      map[string]string `json:"tags"`
		SideData  []map[string]any  `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		Tags map[string]string `json:"tags"`
	} `json:"format"`
}

func probeEverything(t *testing.T, path string) probeAll {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probeAll
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// gpmf builds a GoPro GPMF payload as a gpmd track sample holds it: a
// DEVC container with a STRM holding one GPS5 sample (latitude and
// longitude in 1e-7 degrees, altitude, 2D and 3D speed).
func gpmf() []byte {
	klv := func(key string, typ byte, size int, repeat int, data []byte) []byte {
		b := append([]byte(key), typ, byte(size))
		b = binary.BigEndian.AppendUint16(b, uint16(repeat))
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	var gps []byte
	for _, v := range []int32{312304000, 1214737000, 18000, 3100, 3200} {
		gps = binary.BigEndian.AppendUint32(gps, uint32(v))
	}
	strm := klv("GPS5", 'l', 20, 1, gps)
	strm = append(klv("STNM", 'c', 1, 3, []byte("GPS")), strm...)
	dev := klv("STRM", 0, 1, len(strm), strm)
	return klv("DEVC", 0, 1, len(dev), dev)
}

// xmpBox is a top-level MP4 uuid box holding an XMP packet with a GPS
// position, the way cameras and editing tools add one.
func xmpBox() []byte {
	xmp := `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">` +
		`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/"` +
		` exif:GPSLatitude="31,13.824N" exif:GPSLongitude="121,28.422E"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
	uuid := []byte{0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8, 0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac}
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(uuid)+len(xmp)))
	b = append(b, "uuid"...)
	b = append(b, uuid...)
	return append(b, xmp...)
}

// metadataInputs builds, at test time, tiny clips (160x120, 1 s) that
// carry location the ways real devices do. Each names what it carries, so
// the test can check the input really has it.
func metadataInputs(t *testing.T, dir string) []struct{ name, path, has string } {
	t.Helper()
	src := []string{"-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000"}
	enc := []string{"-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"}
	ct := []string{"-metadata", "creation_time=2026-01-02T03:04:05Z"}
	p := func(n string) string { return filepath.Join(dir, n) }
	join := func(parts ...[]string) []string { return slices.Concat(parts...) }

	// A phone MOV: QuickTime ©xyz and Apple's mdta location keys.
	ffmpeg(t, join(src, enc, ct, []string{"-metadata", "location=" + isoLocation,
		"-metadata", "com.apple.quicktime.location.ISO6709=" + appleISO,
		"-metadata", "com.apple.quicktime.make=Apple", "-movflags", "use_metadata_tags", p("phone.mov")})...)
	ffmpeg(t, join(src, enc, ct, []string{"-metadata", "location=" + isoLocation, p("qt.mov")})...)
	// An MP4: ffmpeg writes the location as a 3GPP loci box there.
	ffmpeg(t, join(src, enc, ct, []string{"-metadata", "location=" + isoLocation, p("loci.mp4")})...)
	// The same with an XMP packet (top-level uuid box) appended.
	data, err := os.ReadFile(p("loci.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, p("xmp.mp4"), append(data, xmpBox()...))
	// A GoPro-like MOV: a gpmd data track ("GoPro MET") of GPMF with GPS5.
	writeFile(t, p("gpmf.bin"), gpmf())
	ffmpeg(t, join(src, []string{"-f", "data", "-i", p("gpmf.bin"), "-map", "0:v", "-map", "1:a", "-map", "2"}, enc, ct,
		[]string{"-c:d", "copy", "-tag:d", "gpmd", "-metadata:s:d", "handler_name=GoPro MET",
			"-metadata:s:v", "handler_name=GoPro AVC", p("gopro.mov")})...)
	// A drone MP4: a mov_text subtitle track with DJI-style GPS lines.
	srt := "1\n00:00:00,000 --> 00:00:00,500\nF/2.8, SS 500, ISO 100, EV 0, GPS (121.4737, 31.2304, 18), D 12.5m, H 4.2m\n\n" +
		"2\n00:00:00,500 --> 00:00:01,000\nF/2.8, SS 500, ISO 100, EV 0, GPS (121.4739, 31.2306, 18), D 12.9m, H 4.2m\n"
	writeFile(t, p("gps.srt"), []byte(srt))
	ffmpeg(t, join(src, []string{"-i", p("gps.srt"), "-map", "0:v", "-map", "1:a", "-map", "2"}, enc, ct,
		[]string{"-c:s", "mov_text", "-metadata:s:s", "handler_name=DJI GPS location", "-metadata:s:v", "handler_name=DJI.AVC",
			"-metadata:s:a", "handler_name=location " + isoLocation, p("drone.mp4")})...)
	return []struct{ name, path, has string }{
		{"phone MOV with ©xyz and Apple ISO 6709 keys", p("phone.mov"), "ISO6709"},
		{"QuickTime MOV with ©xyz", p("qt.mov"), "\xa9xyz"},
		{"MP4 with a 3GPP loci box", p("loci.mp4"), "loci"},
		{"MP4 with XMP GPS in a uuid box", p("xmp.mp4"), "GPSLatitude"},
		{"GoPro-style MOV with a gpmd GPMF track", p("gopro.mov"), "GPS5"},
		{"drone MP4 with a GPS subtitle track and telling handler names", p("drone.mp4"), "GPS (121.4737"},
	}
}

// TestVideoMetadataDropped runs clips that carry location every way we know
// of through the same path as the CLI (detection on) and checks with
// ffprobe and a raw byte search that no location survives, while
// creation_time, the video and the audio do.
func TestVideoMetadataDropped(t *testing.T) {
	dir := t.TempDir()
	inputs := metadataInputs(t, dir)
	d := newTestDesensitizer(t, Options{Encode: EncodeOptions{Preset: "ultrafast"}})
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			raw, err := os.ReadFile(in.path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(raw, []byte(in.has)) || !slices.ContainsFunc(leaks, func(l string) bool { return strings.Contains(in.has, l) }) {
				t.Fatalf("the input does not carry %q, or the byte search would miss it: the test would prove nothing", in.has)
			}
			out := filepath.Join(dir, "out", filepath.Base(in.path)+".mp4")
			if rep := d.ProcessFile(t.Context(), in.path, out); !rep.OK {
				t.Fatal(rep.Error)
			}
			checkNoLocation(t, out)
			p := probeEverything(t, out)
			if got := p.Format.Tags["creation_time"]; !strings.HasPrefix(got, "2026-01-02T03:04:05") {
				t.Errorf("creation_time %q, want the source's (kept by default)", got)
			}
		})
	}

	// DropCreationTime drops that too.
	d2 := newTestDesensitizer(t, Options{Encode: EncodeOptions{Preset: "ultrafast", DropCreationTime: true}})
	out := filepath.Join(dir, "out", "no-time.mp4")
	if rep := d2.ProcessFile(t.Context(), inputs[0].path, out); !rep.OK {
		t.Fatal(rep.Error)
	}
	checkNoLocation(t, out)
	p := probeEverything(t, out)
	if ct, ok := p.Format.Tags["creation_time"]; ok {
		t.Errorf("creation_time %q kept with DropCreationTime", ct)
	}
	for _, s := range p.Streams {
		if ct, ok := s.Tags["creation_time"]; ok {
			t.Errorf("stream %d: creation_time %q kept with DropCreationTime", s.Index, ct)
		}
	}
}

// TestBucketVideoMetadataDropped checks the streaming path: an output going
// to a bucket is fragmented MP4 written straight into an upload.
func TestBucketVideoMetadataDropped(t *testing.T) {
	e := newS3Env(t, false, nil)
	dir := t.TempDir()
	for _, in := range metadataInputs(t, dir) {
		e.putFile(t, e.in, "cam/"+filepath.Base(in.path), in.path)
	}
	d := newBareDesensitizer(t, e, Options{})
	rep, err := d.Run(t.Context(), s3url(e.in, "cam/"), s3url(e.out, "cam/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Files != 6 || rep.Summary.OK != 6 {
		t.Fatalf("summary %+v: %+v", rep.Summary, rep.Files)
	}
	for _, f := range rep.Files {
		key := strings.TrimPrefix(f.Output, s3url(e.out, ""))
		t.Run(key, func(t *testing.T) { checkNoLocation(t, e.download(t, e.out, key)) })
	}
}

// checkNoLocation checks an output: one video and one audio stream only,
// container and stream tags from a short list of harmless ones, and none
// of the leaks anywhere in its bytes.
func checkNoLocation(t *testing.T, out string) {
	t.Helper()
	p := probeEverything(t, out)
	var types []string
	for _, s := range p.Streams {
		types = append(types, s.CodecType)
		for k, v := range s.Tags {
			switch k {
			case "language", "vendor_id", "encoder", "creation_time":
			case "handler_name":
				if v != "VideoHandler" && v != "SoundHandler" {
					t.Errorf("stream %d: handler name %q copied from the source", s.Index, v)
				}
			default:
				t.Errorf("stream %d: tag %s=%q", s.Index, k, v)
			}
		}
	}
	if !slices.Equal(types, []string{"video", "audio"}) {
		t.Errorf("streams %v, want video and audio only", types)
	}
	for k, v := range p.Format.Tags {
		switch k {
		case "major_brand", "minor_version", "compatible_brands", "encoder", "creation_time":
		case "comment":
			if !strings.HasPrefix(v, "desensitized by desens") {
				t.Errorf("comment %q", v)
			}
		default:
			t.Errorf("container tag %s=%q", k, v)
		}
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leaks {
		if i := bytes.Index(raw, []byte(l)); i >= 0 {
			t.Errorf("output holds %q at byte %d", l, i)
		}
	}
}

// TestRotationKept checks that a clip stored sideways with a display
// rotation comes out upright, looking the same as players show the
// source.
func TestRotationKept(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast",
		"-metadata", "location="+isoLocation, plain)
	rotated := filepath.Join(dir, "rotated.mp4")
	ffmpeg(t, "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
	in := probeEverything(t, rotated)
	if len(in.Streams) != 1 || len(in.Streams[0].SideData) == 0 {
		t.Fatalf("the input has no display rotation: %+v", in.Streams)
	}

	d := newTestDesensitizer(t, Options{Encode: EncodeOptions{Preset: "ultrafast"}})
	out := filepath.Join(dir, "out.mp4")
	if rep := d.ProcessFile(t.Context(), rotated, out); !rep.OK {
		t.Fatal(rep.Error)
	}
	checkNoLocationNoAudio(t, out)
	// As players show them (ffmpeg applies the rotation by default), the
	// first frames of both are 120x160 and alike.
	want, got := grayFrame(t, rotated), grayFrame(t, out)
	if len(want) != 120*160 || len(got) != len(want) {
		t.Fatalf("frames of %d and %d bytes, want %d", len(want), len(got), 120*160)
	}
	diff := 0
	for i := range want {
		diff += absInt(int(want[i]) - int(got[i]))
	}
	if mean := float64(diff) / float64(len(want)); mean > 6 {
		t.Errorf("the output looks different from the source as displayed: mean difference %.1f grey levels", mean)
	}
	if p := probeEverything(t, out); p.Streams[0].Width != 120 || p.Streams[0].Height != 160 {
		t.Errorf("output stored as %dx%d, want 120x160 upright", p.Streams[0].Width, p.Streams[0].Height)
	}
}

func checkNoLocationNoAudio(t *testing.T, out string) {
	t.Helper()
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"31.2304", "\xa9xyz", "loci", "location"} {
		if bytes.Contains(raw, []byte(l)) {
			t.Errorf("output holds %q", l)
		}
	}
}

// grayFrame decodes a video's first frame as ffmpeg displays it (rotation
// applied) into 8-bit grey.
func grayFrame(t *testing.T, path string) []byte {
	t.Helper()
	testenv.FFmpeg(t)
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-").Output()
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return out
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// gpsTIFF is the TIFF block of an EXIF segment with a GPS position, as
// withEXIF writes it into JPEGs (PNG eXIf and WebP EXIF chunks hold the
// same block without the "Exif\0\0" prefix).
func gpsTIFF() []byte {
	seg := withEXIF([]byte{0xFF, 0xD8}, 1)
	return seg[2+4+6:] // FF D8, FF E1 and a length, "Exif\0\0"
}

// gpsRationals are the GPS IFD's degrees, minutes and seconds of latitude
// as stored: they must not survive anywhere.
var gpsRationals = []byte{31, 0, 0, 0, 1, 0, 0, 0, 13, 0, 0, 0, 1, 0, 0, 0, 49, 0, 0, 0, 1, 0, 0, 0}

const xmpPacket = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
	`<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="31,13.824N" exif:GPSLongitude="121,28.422E"/>` +
	`</rdf:RDF></x:xmpmeta>`

// pngChunk is one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// withPNGMeta adds an eXIf chunk (GPS) and an iTXt XMP chunk after IHDR.
func withPNGMeta(png []byte) []byte {
	ihdrEnd := 8 + 4 + 4 + 13 + 4
	xmp := append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmpPacket...)
	out := append([]byte{}, png[:ihdrEnd]...)
	out = append(out, pngChunk("eXIf", gpsTIFF())...)
	out = append(out, pngChunk("iTXt", xmp)...)
	return append(out, png[ihdrEnd:]...)
}

// withWebPMeta turns a simple lossy WebP into the extended format with
// EXIF (GPS) and XMP chunks, as cameras and editors write them.
func withWebPMeta(webp []byte, w, h int) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
		b = append(b, data...)
		if len(data)%2 == 1 {
			b = append(b, 0)
		}
		return b
	}
	vp8x := []byte{0x08 | 0x04, 0, 0, 0, // EXIF and XMP present
		byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	body := append([]byte("WEBP"), chunk("VP8X", vp8x)...)
	body = append(body, webp[12:]...) // the VP8 chunk
	body = append(body, chunk("EXIF", gpsTIFF())...)
	body = append(body, chunk("XMP ", []byte(xmpPacket))...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// withJPEGXMP adds an XMP APP1 segment after SOI.
func withJPEGXMP(jpeg []byte) []byte {
	app1 := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmpPacket...)
	seg := []byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}
	out := append(append([]byte{}, jpeg[:2]...), seg...)
	out = append(out, app1...)
	return append(out, jpeg[2:]...)
}

// TestImageMetadataDropped checks that EXIF GPS and XMP leave no trace in
// JPEG, PNG (eXIf, iTXt) and WebP (EXIF, XMP chunks) outputs.
func TestImageMetadataDropped(t *testing.T) {
	dir := t.TempDir()
	src := testenv.File(t, filepath.Join(testenv.OpenCVData, "messi5.jpg")) // 548x342
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, ext := range []string{".png", ".webp"} {
		ffmpeg(t, "-i", src, filepath.Join(dir, "plain"+ext))
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"phone.jpg", withJPEGXMP(withEXIF(read(src), 1))},
		{"export.png", withPNGMeta(read(filepath.Join(dir, "plain.png")))},
		{"camera.webp", withWebPMeta(read(filepath.Join(dir, "plain.webp")), 548, 342)},
	}
	d := newTestDesensitizer(t, Options{})
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			if !bytes.Contains(in.data, gpsRationals) || !bytes.Contains(in.data, []byte("GPSLatitude")) {
				t.Fatal("the input carries no GPS: the test would prove nothing")
			}
			path := writeFile(t, filepath.Join(dir, in.name), in.data)
			// The input is a valid image as it stands (players show it).
			img := gocv.IMRead(path, gocv.IMReadColor)
			cols := img.Cols()
			img.Close()
			if cols != 548 {
				t.Fatalf("the test input does not decode (%d columns)", cols)
			}
			out := filepath.Join(dir, "out", in.name)
			rep := d.ProcessFile(t.Context(), path, out)
			if !rep.OK {
				t.Fatal(rep.Error)
			}
			data := read(out)
			for _, l := range [][]byte{gpsRationals, []byte("Exif"), []byte("eXIf"), []byte("EXIF"), []byte("XMP"),
				[]byte("xmpmeta"), []byte("GPS"), []byte("31,13.824")} {
				if i := bytes.Index(data, l); i >= 0 {
					t.Errorf("output holds %q at byte %d", l, i)
				}
			}
			if rep.Width != 548 || rep.Height != 342 {
				t.Errorf("output %dx%d, want 548x342", rep.Width, rep.Height)
			}
		})
	}
}
