package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/event"
)

// eventCommands are the commands that desensitize objects as bucket
// events report them.
var eventCommands = []string{"handle", "serve", "consume"}

func isEventCommand(c *cli.Context) bool {
	return slices.ContainsFunc(eventCommands, c.Command.HasName)
}

// eventFlags are run's flags for how objects are desensitized, less those
// of a one-off run (workers, report, overwrite, quiet), plus --map.
func eventFlags() []cli.Flag {
	var fs []cli.Flag
	for _, f := range runFlags() {
		if !slices.ContainsFunc([]string{"workers", "report", "overwrite", "quiet"}, func(n string) bool { return slices.Contains(f.Names(), n) }) {
			fs = append(fs, f)
		}
	}
	return append(fs, &cli.StringSliceFlag{Name: "map", EnvVars: []string{"DESENS_MAP"},
		Usage: "SRC=DST: objects under bucket prefix SRC go under DST, e.g. s3://raw/=s3://clean/ (repeat for more; the longest SRC that matches wins)"})
}

// eventsHelp is the part of the event commands' help about what they do
// with each object.
const eventsHelp = `EVENTS:
   Read: AWS S3 event notifications (also inside SQS and SNS envelopes),
   Tencent COS trigger events, EventBridge "Object Created" events for S3,
   and CloudEvents 1.0 (structured, batched, or binary with ce-* headers)
   whose data is one of these or an S3-shaped object.

   Each created object under a --map source is desensitized to the same
   relative key under its destination (videos become .mp4), replacing an
   older output. An object is skipped when its output already records its
   ETag (metadata desens-source-etag), and ignored when desens wrote it
   (metadata desens-version or desens-source), when it lies under a
   destination, when no --map covers it, or when it is neither media nor
   a position log. The result is JSON: each object with its status (done,
   skipped, ignored, failed) and the reason.`

// eventHandler loads the models once and builds the handler every event
// of the process shares, its buckets opened once too (event.ShareBuckets).
// closeAll frees them all.
func eventHandler(c *cli.Context) (h *event.Handler, models int, closeAll func(), err error) {
	var maps []event.Mapping
	for _, s := range c.StringSlice("map") {
		m, err := event.ParseMapping(s)
		if err != nil {
			return nil, 0, nil, usagef("--map: " + err.Error())
		}
		maps = append(maps, m)
	}
	if len(maps) == 0 {
		return nil, 0, nil, usagef(c.Command.Name + " needs at least one --map SRC=DST (see desens " + c.Command.Name + " --help)")
	}
	opts, err := optionsFrom(c)
	if err != nil {
		return nil, 0, nil, err
	}
	mux, err := storageFrom(c)
	if err != nil {
		return nil, 0, nil, err
	}
	buckets, closeBuckets := event.ShareBuckets(mux)
	opts.Storage = buckets
	opts.Overwrite = true // a new version of a source replaces its output
	d, err := desens.New(opts)
	if err != nil {
		return nil, 0, nil, err
	}
	if h, err = event.NewHandler(d, buckets, maps...); err != nil {
		d.Close()
		return nil, 0, nil, err
	}
	return h, len(d.Models()), func() { h.Close(); d.Close(); closeBuckets() }, nil
}

func handleCommand() *cli.Command {
	return &cli.Command{
		Name:  "handle",
		Usage: "desensitize the objects one bucket event reports (a function's entry point)",
		Description: `Reads one event from --event (a file, or - for standard input), desensitizes
each object it reports into its --map destination, and prints the result
as JSON on standard output. A custom function runtime's bootstrap calls it
once per event; a long-lived process (desens serve, desens consume, or the
examples/ handlers) loads the models once for every event instead.

EXAMPLES:
   1. An S3 notification from standard input:
        desens handle --map s3://sensitive/=s3://desensitized/ < event.json
   2. A COS trigger event from a file, faces and plates:
        desens handle --targets face,plate --s3-region ap-guangzhou \
          --map cos://raw-1250000000/=cos://clean-1250000000/ --event cos-event.json
   3. A shared bucket: raw/ into clean/ (events for clean/ are ignored):
        desens handle --map s3://cam/raw/=s3://cam/clean/ --event -

` + eventsHelp + `

` + bucketsHelp + `

EXIT STATUS:
   0  every object was done, skipped or ignored
   1  some object failed (see the JSON), or the event is malformed or of an
      unknown kind (the message says why), or the models could not load
   2  usage error
   130 interrupted`,
		Flags: append(eventFlags(),
			&cli.StringFlag{Name: "event", Value: "-", Usage: "the event: a JSON file, or - for standard input"}),
		Action: func(c *cli.Context) error { return runHandle(c) },
	}
}

func runHandle(c *cli.Context) error {
	if c.NArg() != 0 {
		return usagef("handle takes no arguments: the event comes from --event (see desens handle --help)")
	}
	name := c.String("event")
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("event: %w", err)
		}
		defer f.Close()
		r = f
	} else {
		name = "standard input"
	}
	body, err := io.ReadAll(io.LimitReader(r, event.DefaultMaxBody+1))
	if err != nil {
		return fmt.Errorf("event %s: %w", name, err)
	}
	if len(body) > event.DefaultMaxBody {
		return fmt.Errorf("event %s: over %d bytes", name, event.DefaultMaxBody)
	}
	objs, err := event.Parse(body) // before the models load: a bad event fails fast
	if err != nil {
		return fmt.Errorf("event %s: %w", name, err)
	}
	h, _, closeAll, err := eventHandler(c)
	if err != nil {
		return err
	}
	defer closeAll()
	res := h.Handle(c.Context, objs)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if c.Context.Err() != nil {
		return c.Context.Err()
	}
	if res.Failed > 0 {
		return failedFilesError{failed: res.Failed, total: len(res.Objects)}
	}
	return nil
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "an HTTP service that desensitizes the objects bucket events report",
		Description: `Listens on --addr for events, loads the models once, and desensitizes each
event's objects into their --map destinations:

   POST /events   an event as JSON, or a binary-mode CloudEvent (ce-* headers);
                  the reply is the result as JSON. 200: every object done,
                  skipped or ignored; 400: malformed event; 422: unknown kind
                  of event; 413: body over --max-body; 429: --max-in-flight
                  events in hand already; 503: not ready yet, or an object
                  failed in a way that may pass (retry later); 500: an object
                  failed for good (corrupt media). Errors are
                  {"error": "...", "status": N}.
   GET /healthz   200 while the process runs
   GET /readyz    200 once the models are loaded, 503 before and while
                  shutting down
   GET /metrics   Prometheus metrics (desens_events_total by outcome,
                  desens_objects_total by status, desens_event_duration_seconds)

SIGTERM or SIGINT stops it gracefully: no new connections, /readyz 503,
and the events in hand finish (for at most --drain, if set) before it
exits 0. Knative, Cloud Run and other CloudEvents runtimes post events to
POST /events.

EXAMPLES:
   1. Behind an S3 notification relay or a Knative trigger:
        desens serve --addr :8080 --map s3://sensitive/=s3://desensitized/
   2. Two events at a time, faces and plates, at most 10 minutes to drain:
        desens serve --addr :8080 --max-in-flight 2 --drain 10m --targets face,plate \
          --map s3://sensitive/cam1/=s3://desensitized/cam1/
   3. Post an event by hand:
        curl -s --data-binary @event.json http://localhost:8080/events

` + eventsHelp + `

` + bucketsHelp + `

EXIT STATUS:
   0  stopped by a signal, every event in hand finished
   1  it could not listen or load the models, or --drain ran out with
      events still in hand (their work was cancelled)
   2  usage error`,
		Flags: append(eventFlags(),
			&cli.StringFlag{Name: "addr", Value: ":8080", EnvVars: []string{"DESENS_ADDR"}, Usage: "address to listen on, host:port"},
			&cli.Int64Flag{Name: "max-body", Value: event.DefaultMaxBody, Usage: "largest event body accepted, in bytes; larger ones get 413"},
			&cli.IntFlag{Name: "max-in-flight", Value: 1, Usage: "events handled at once; one more gets 429 (each uses the inference threads of --threads)"},
			&cli.DurationFlag{Name: "drain", Usage: "on SIGTERM, how long the events in hand may take before their work is cancelled (0: as long as they need)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "log nothing but failures"},
		),
		Action: func(c *cli.Context) error { return runServe(c) },
	}
}

func runServe(c *cli.Context) error {
	if c.NArg() != 0 {
		return usagef("serve takes no arguments (see desens serve --help)")
	}
	if c.Int64("max-body") < 1 || c.Int("max-in-flight") < 1 {
		return usagef("--max-body and --max-in-flight must be 1 or more")
	}
	if len(c.StringSlice("map")) == 0 {
		return usagef("serve needs at least one --map SRC=DST (see desens serve --help)")
	}
	level := slog.LevelInfo
	if c.Bool("quiet") {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	s := event.NewServer(event.ServerOptions{MaxBody: c.Int64("max-body"), MaxInFlight: c.Int("max-in-flight"), Log: log})
	l, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(c.Context)
	defer cancel(nil)
	closeAll := func() {}
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		h, models, ca, err := eventHandler(c)
		if err != nil {
			cancel(err)
			return
		}
		closeAll = ca
		s.Start(h)
		log.Info("ready", "addr", l.Addr().String(), "models", models)
	}()
	log.Info("listening, loading models", "addr", l.Addr().String())
	err = s.Serve(ctx, l, c.Duration("drain"))
	<-loaded
	closeAll()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause // the models did not load
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}
