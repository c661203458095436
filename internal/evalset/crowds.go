package evalset

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the crowd photos are JPEGs
	"os"
	"path/filepath"
)

// ErrCrowdPhoto marks a crowd photo that is missing or is not the photo its
// labels describe (another size).
var ErrCrowdPhoto = errors.New("crowd photo does not match its labels")

// CopyCrowds copies the hand-labelled real crowd photos named in
// labelsDir/labels.json (testdata/eval/crowds) from photosDir
// (../shared/photos/crowds) into out, as they are, and writes their labels
// to out/labels.json: a set of its own, evaluated apart from the synthetic
// frames and the other real photos. Each photo must have the size its
// labels give; an error names the file.
func CopyCrowds(labelsDir, photosDir, out string) (*Set, error) {
	set, err := ReadSet(filepath.Join(labelsDir, "labels.json"))
	if err != nil {
		return nil, fmt.Errorf("crowds: %w", err)
	}
	for _, im := range set.Images {
		if err := checkPhotoSize(filepath.Join(photosDir, im.File), im.Width, im.Height); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	for _, im := range set.Images {
		if err := copyFile(filepath.Join(photosDir, im.File), filepath.Join(out, im.File)); err != nil {
			return nil, fmt.Errorf("crowds: %w", err)
		}
	}
	if err := set.WriteFile(filepath.Join(out, "labels.json")); err != nil {
		return nil, err
	}
	return set, nil
}

// checkPhotoSize reports ErrCrowdPhoto, naming path, when the image at path
// cannot be read or is not w×h.
func checkPhotoSize(path string, w, h int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", path, ErrCrowdPhoto, err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", path, ErrCrowdPhoto, err)
	}
	if cfg.Width != w || cfg.Height != h {
		return fmt.Errorf("%s: %w: %dx%d, labelled %dx%d", path, ErrCrowdPhoto, cfg.Width, cfg.Height, w, h)
	}
	return nil
}
