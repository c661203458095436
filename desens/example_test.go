package desens_test

import (
	"context"
	"errors"
	"io"
	"log"
	"os"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
	"github.com/desens/desens/desens/storage"
)

// The README's Library section is this file's desensitize, line for line
// (TestReadmeLibrary checks it).

func desensitize(ctx context.Context, r io.Reader, w io.Writer) error {
	d, err := desens.New(desens.Options{
		Targets: []detect.Class{detect.Face, detect.Plate}, // default: faces alone
		Face:    desens.FaceOptions{Threshold: 0.7},        // 0 keeps the tuned bar
		Redact:  desens.RedactOptions{Style: desens.StylePixelate},
	})
	if errors.Is(err, desens.ErrOptions) {
		return err // a value out of range, named in the message
	}
	if err != nil {
		return err // onnxruntime or a model could not be loaded
	}
	defer d.Close()

	// One file to another: the output appears only if everything succeeded.
	rep := d.ProcessFile(ctx, "in/dashcam.mp4", "out/dashcam.mp4")
	if !rep.OK {
		log.Printf("%s failed at %s: %s", rep.Input, rep.Stage, rep.Error)
	}

	// A stream: the name's extension says what it holds.
	if _, err := d.Process(ctx, "upload.jpg", r, w); err != nil {
		return err
	}

	// A directory tree; failed files are in the report, never skipped silently.
	report, err := d.Run(ctx, "raw/", "desensitized/", func(f desens.FileReport) { /* progress */ })
	if err != nil {
		return err
	}
	if err := report.WriteJSON(os.Stdout); err != nil {
		return err
	}

	// Buckets: give the Desensitizer a scheme registry, then use URLs on
	// either side (a URL ending in '/' is a key prefix).
	b, err := desens.New(desens.Options{
		Storage: storage.NewMux(storage.S3Config{Region: "eu-west-1"}),
		Runtime: desens.RuntimeOptions{Device: "cuda"},
	})
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = b.Run(ctx, "s3://sensitive/cam1/", "s3://desensitized/cam1/", nil)
	return err
}

// Example is the README's Library section. It is compiled, not run: it
// needs media, models and a bucket.
func Example() {
	if err := desensitize(context.Background(), os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
