package eval

import (
	"fmt"
	"html/template"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gocv.io/x/gocv"
)

// Colours of the HTML page's drawings.
var (
	colTruth   = color.RGBA{0, 200, 0, 255}     // labelled box that was found
	colHit     = color.RGBA{40, 90, 255, 255}   // detection that found a labelled box
	colFP      = color.RGBA{255, 0, 0, 255}     // detection of nothing
	colMiss    = color.RGBA{255, 230, 0, 255}   // labelled box nothing found
	colIgnored = color.RGBA{160, 160, 160, 255} // ignore regions, excluded boxes, ignored detections
)

// WriteHTML writes dir/index.html and one JPEG per examined image with the
// labelled boxes and detections drawn on it, for a person to look through.
// Images are read again from their files.
func WriteHTML(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("html: %w", err)
	}
	page := htmlPage{R: r}
	for i, im := range r.Images {
		e := htmlImage{ImageResult: im, Anchor: fmt.Sprintf("img%d", i+1)}
		if im.Error == "" {
			e.JPEG = fmt.Sprintf("%04d-%s.jpg", i+1, safeName(im.Name))
			if err := drawImage(filepath.Join(dir, e.JPEG), im); err != nil {
				return fmt.Errorf("html: %w", err)
			}
		}
		if im.Error != "" || im.Counts.Misses > 0 || im.Counts.FP > 0 {
			page.Attention = append(page.Attention, e)
		}
		page.Images = append(page.Images, e)
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return fmt.Errorf("html: %w", err)
	}
	if err := pageTmpl.Execute(f, page); err != nil {
		f.Close()
		return fmt.Errorf("html: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("html: %w", err)
	}
	return nil
}

// safeName turns a path into a file name part: letters, digits, - and _.
func safeName(s string) string {
	s = strings.TrimSuffix(s, filepath.Ext(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), "_")
	if len(out) > 60 {
		out = out[len(out)-60:]
	}
	return out
}

// drawImage writes the image at im.Path with its boxes drawn to dst.
func drawImage(dst string, im ImageResult) error {
	img, err := readImage(im.Path)
	if err != nil {
		return err
	}
	defer img.Close()
	long := max(img.Cols(), img.Rows())
	thick := max(1, long/600)
	scale := max(0.4, float64(long)/1600)

	for _, b := range im.Ignore {
		gocv.Rectangle(&img, b.Rect(), colIgnored, thick)
		label(&img, b.Rect().Min, "ignore", colIgnored, scale)
	}
	for _, t := range im.Truths {
		switch t.Outcome {
		case Hit:
			gocv.Rectangle(&img, t.Box.Rect(), colTruth, thick)
		case Miss:
			gocv.Rectangle(&img, t.Box.Rect(), colMiss, thick+1)
			label(&img, image.Pt(t.Box.Rect().Min.X, t.Box.Rect().Max.Y+textHeight(scale)+2), "miss", colMiss, scale)
		default:
			gocv.Rectangle(&img, t.Box.Rect(), colIgnored, thick)
		}
	}
	for _, f := range im.Found {
		c := colFP
		switch f.Outcome {
		case Hit:
			c = colHit
		case Ignored:
			c = colIgnored
		}
		gocv.Rectangle(&img, f.Box.Rect(), c, thick)
		label(&img, f.Box.Rect().Min, fmt.Sprintf("%.2f", f.Score), c, scale)
	}
	if img.Empty() { // never hand OpenCV an empty Mat to encode: it aborts
		return fmt.Errorf("%s: nothing to draw on", im.Path)
	}
	if !gocv.IMWriteWithParams(dst, img, []int{gocv.IMWriteJpegQuality, 90}) {
		return fmt.Errorf("%s: cannot write JPEG", dst)
	}
	return nil
}

func textHeight(scale float64) int {
	return gocv.GetTextSize("0", gocv.FontHersheySimplex, scale, 1).Y
}

// label writes text on a filled background just above p (below the top
// edge when there is no room).
func label(img *gocv.Mat, p image.Point, text string, c color.RGBA, scale float64) {
	sz := gocv.GetTextSize(text, gocv.FontHersheySimplex, scale, 1)
	y := p.Y - 3
	if y-sz.Y < 0 {
		y = p.Y + sz.Y + 3
	}
	bg := image.Rect(p.X, y-sz.Y-2, p.X+sz.X+2, y+3)
	gocv.Rectangle(img, bg, c, -1)
	gocv.PutText(img, text, image.Pt(p.X+1, y), gocv.FontHersheySimplex, scale, color.RGBA{0, 0, 0, 255}, 1)
}

type htmlImage struct {
	ImageResult
	Anchor string
	JPEG   string
}

type htmlPage struct {
	R         *Result
	Images    []htmlImage
	Attention []htmlImage
}

var pageTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"pct": pct,
	"pctOf": func(v float64, n int) string {
		return pctOf(v, n)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>desens eval</title>
<style>
body{font-family:sans-serif;margin:1em 2em;background:#fafafa}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #888}.key span{padding:0 6px;margin-right:6px;color:#000}
.fail{color:#c00}section{margin:2em 0}
</style></head><body>
<h1>desens eval</h1>
<p>{{range .R.Dirs}}<code>{{.}}</code> {{end}}— threshold {{printf "%.2f" .R.Threshold}}, min size {{.R.Match.MinSize}} px</p>
<p><b>recall {{pct .R.Recall}}</b>, precision {{pct .R.Precision}}, {{printf "%.2f" .R.FPPerImage}} false positives per image;
{{.R.Evaluated}} images, {{.R.Total.Truths}} labelled, {{.R.Total.Hits}} found, {{.R.Total.Misses}} missed, {{.R.Total.FP}} false positives, {{.R.Total.Ignored}} ignored{{if .R.Failed}}; <span class="fail">{{.R.Failed}} images failed</span>{{end}}.</p>
<p class="key"><span style="background:#00c800">labelled, found</span><span style="background:#285aff">detection, hit</span><span style="background:#ff0000">false positive</span><span style="background:#ffe600">missed</span><span style="background:#a0a0a0">ignored / excluded</span> Numbers are detection scores.</p>
<h2>By face height</h2>
<table><tr><th>height px</th><th>labelled</th><th>found</th><th>recall</th></tr>
{{range .R.Sizes}}<tr><td>{{.Name}}</td><td>{{.Truths}}</td><td>{{.Hits}}</td><td>{{pctOf .Recall .Truths}}</td></tr>
{{end}}</table>
{{if .R.Classes}}<h2>By class</h2>
<table><tr><th>class</th><th>labelled</th><th>found</th><th>missed</th><th>false positives</th><th>recall</th><th>precision</th></tr>
{{range .R.Classes}}<tr><td>{{.Class}}</td><td>{{.Counts.Truths}}</td><td>{{.Counts.Hits}}</td><td>{{.Counts.Misses}}</td><td>{{.Counts.FP}}</td><td>{{pctOf .Recall .Counts.Truths}}</td><td>{{pct .Precision}}</td></tr>
{{end}}</table>{{end}}
{{if .R.Sweep}}<h2>Threshold sweep</h2>
<table><tr><th>threshold</th><th>found</th><th>false positives</th><th>recall</th><th>precision</th><th>FP/image</th></tr>
{{range .R.Sweep}}<tr><td>{{printf "%.2f" .Threshold}}</td><td>{{.Counts.Hits}}</td><td>{{.Counts.FP}}</td><td>{{pct .Recall}}</td><td>{{pct .Precision}}</td><td>{{printf "%.2f" .FPPerImage}}</td></tr>
{{end}}</table>{{end}}
{{if .Attention}}<h2>Images to look at</h2><ul>
{{range .Attention}}<li><a href="#{{.Anchor}}">{{.Name}}</a>{{if .Error}} <span class="fail">failed</span>{{else}}: {{.Counts.Misses}} missed, {{.Counts.FP}} false positives{{end}}</li>
{{end}}</ul>{{end}}
<h2>Images</h2>
{{range .Images}}<section id="{{.Anchor}}"><h3>{{.Name}}</h3>
{{if .Error}}<p class="fail">{{.Error}}</p>{{else}}<p>{{.Width}}×{{.Height}}: {{.Counts.Truths}} labelled, {{.Counts.Hits}} found, {{.Counts.Misses}} missed, {{.Counts.FP}} false positives, {{.Counts.Ignored}} ignored; detection {{printf "%.0f" .DetectMillis}} ms</p>
<img src="{{.JPEG}}" loading="lazy" alt="{{.Name}}">{{end}}</section>
{{end}}</body></html>
`))
