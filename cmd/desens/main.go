// Command desens desensitizes images and videos: it finds faces, licence
// plates and burned-in overlays and hides them, on the CPU or a GPU, one
// file, directory tree or bucket prefix at a time.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	// desens's Go heap is mostly large I/O buffers (upload parts, read-ahead
	// chunks) recycled at the pace of the video; at the default GOGC=100
	// garbage grows to the size of that live set again before a collection.
	// Half keeps the resident size of a multi-gigabyte bucket video close
	// to its live set (the README's bucket section gives figures), for GC
	// time that is small next to decoding and encoding. GOGC in the
	// environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp()
	err := app.RunContext(ctx, flagsFirst(app, os.Args))
	code := exitCode(err)
	if err != nil && code != exitOK {
		fmt.Fprintln(os.Stderr, "desens:", err)
	}
	os.Exit(code)
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "desens",
		Usage: "desensitize vehicle sensor video and images (faces, plates and overlays hidden, locations stripped)",
		Description: `desens finds faces, licence plates and burned-in GPS/time/ID overlays in
images and videos and hides them irreversibly, locally or in S3-compatible
buckets. Outputs appear only when complete; a frame that could not be
examined is masked whole. Location metadata (EXIF GPS, MP4 location tags,
data tracks) never reaches the output, and position logs beside the media
(GPX, NMEA, KML, CSV, JSON) are dropped or coarsened by --trajectory.
Flags may come before or after the arguments.`,
		Commands: []*cli.Command{
			runCommand(),
			evalCommand(),
			benchCommand(),
			handleCommand(),
			serveCommand(),
			consumeCommand(),
			versionCommand(),
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main maps errors to codes
		Suggest:        true,
	}
}
