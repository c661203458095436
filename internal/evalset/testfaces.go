package evalset

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// TestCrop describes one small face image committed under testdata/faces:
// Region of photo PhotoID, scaled by Scale, saved as a JPEG.
type TestCrop struct {
	File    string
	PhotoID string
	Region  Box
	Scale   float64
	Quality int
}

// TestFaceCrops are the images of testdata/faces (regenerate with
// mkevalset -write-test-faces testdata/faces -fetch).
var TestFaceCrops = []TestCrop{
	{File: "astronaut.jpg", PhotoID: "sk_astronaut", Region: Box{125, 15, 200, 210}, Scale: 1, Quality: 90},
	{File: "portrait_goatee.jpg", PhotoID: "ocv_portrait_goatee", Region: Box{90, 110, 494, 560}, Scale: 0.5, Quality: 90},
	{File: "portrait_smile.jpg", PhotoID: "ocv_portrait_smile", Region: Box{68, 40, 318, 330}, Scale: 0.75, Quality: 90},
	{File: "messi_small_face.jpg", PhotoID: "ocv_messi5", Region: Box{160, 30, 160, 170}, Scale: 1, Quality: 92},
	{File: "glider_two_small_faces.jpg", PhotoID: "ocv_glider", Region: Box{70, 45, 170, 130}, Scale: 1, Quality: 92},
}

func photoByID(id string) *Photo {
	for i := range Photos {
		if Photos[i].ID == id {
			return &Photos[i]
		}
	}
	return nil
}

// WriteTestFaces writes the TestFaceCrops and their labels.json into dir.
func WriteTestFaces(dir string, res *Resolver) (*Set, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	set := &Set{Version: LabelVersion}
	for _, tc := range TestFaceCrops {
		p := photoByID(tc.PhotoID)
		if p == nil {
			return nil, fmt.Errorf("test crop %s: unknown photo %s", tc.File, tc.PhotoID)
		}
		path := res.Resolve(p)
		if path == "" {
			return nil, fmt.Errorf("test crop %s: source %s (%s) not available; try -fetch", tc.File, p.ID, p.Path)
		}
		im, err := loadImage(path)
		if err != nil {
			return nil, err
		}
		region := tc.Region.Intersect(Box{0, 0, im.W, im.H})
		dw := int(math.Round(float64(region[2]) * tc.Scale))
		dh := int(math.Round(float64(region[3]) * tc.Scale))
		out := im.crop(region).resize(dw, dh)
		if err := out.writeJPEG(filepath.Join(dir, tc.File), tc.Quality); err != nil {
			return nil, err
		}
		sx, sy := float64(dw)/float64(region[2]), float64(dh)/float64(region[3])
		conv := func(b Box) Box {
			x0 := int(math.Round(float64(b[0]-region[0]) * sx))
			y0 := int(math.Round(float64(b[1]-region[1]) * sy))
			x1 := int(math.Round(float64(b.X1()-region[0]) * sx))
			y1 := int(math.Round(float64(b.Y1()-region[1]) * sy))
			return Box{x0, y0, x1 - x0, y1 - y0}.Intersect(Box{0, 0, dw, dh})
		}
		real := RealImage(p)
		img := Image{
			File: tc.File, Width: dw, Height: dh,
			Objects: []Object{}, Ignore: []Box{},
			Origin: p.Path, Package: real.Package, License: real.License,
			Note: fmt.Sprintf("crop %v of %s scaled by %g", tc.Region, p.ID, tc.Scale),
		}
		for _, f := range p.Faces {
			in := f.Box.Intersect(region)
			switch {
			case in == f.Box:
				img.Objects = append(img.Objects, Object{Class: "face", Box: conv(f.Box)})
			case !in.Empty():
				img.Ignore = append(img.Ignore, conv(in))
			}
		}
		for _, b := range p.Ignore {
			if in := b.Intersect(region); !in.Empty() {
				img.Ignore = append(img.Ignore, conv(in))
			}
		}
		set.Images = append(set.Images, img)
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	return set, set.WriteFile(filepath.Join(dir, "labels.json"))
}
