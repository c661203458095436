package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ServerOptions tune a Server. The zero value is valid.
type ServerOptions struct {
	// MaxBody is the largest event body accepted, in bytes; larger ones
	// get 413. 0 means DefaultMaxBody.
	MaxBody int64
	// MaxInFlight is how many events are handled at once; one more gets
	// 429. 0 means 1.
	MaxInFlight int
	// Log, if set, gets a line for each event: at Info when it went well,
	// at Warn for a refused event or a failed object.
	Log *slog.Logger
}

// DefaultMaxBody is the default limit on an event body: S3 and COS send a
// few kilobytes a record, and SQS messages are at most 256 KiB.
const DefaultMaxBody = 1 << 20

// Server is the HTTP face of a Handler:
//
//	POST /events   an event (any kind Parse or ParseRequest reads); the
//	               reply is the Result as JSON
//	GET  /healthz  200 while the process runs
//	GET  /readyz   200 once the models are loaded (Start) and until shutdown
//	GET  /metrics  Prometheus metrics
//
// POST /events answers 200 when every object was done, skipped or ignored;
// 400 for a malformed event, 422 for an unknown one, 413 for one over
// MaxBody, 429 when MaxInFlight events are in hand, 503 before Start or
// when an object failed in a way that may pass (storage unreachable), and
// 500 when one failed for good (corrupt media). Errors are JSON:
// {"error": "...", "status": N}.
type Server struct {
	opts    ServerOptions
	h       atomic.Pointer[Handler]
	closing atomic.Bool
	slots   chan struct{}
	mux     *http.ServeMux
	reg     *prometheus.Registry

	events   *prometheus.CounterVec
	objects  *prometheus.CounterVec
	duration prometheus.Histogram
	inFlight prometheus.Gauge
	ready    prometheus.Gauge
}

// NewServer returns a Server that is alive but not ready: POST /events
// answers 503 until Start hands it a Handler.
func NewServer(opts ServerOptions) *Server {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1
	}
	s := &Server{opts: opts, slots: make(chan struct{}, opts.MaxInFlight), mux: http.NewServeMux(), reg: prometheus.NewRegistry()}
	s.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "desens_events_total",
		Help: "Events received, by outcome: ok, failed, malformed, unknown, too_large, busy, not_ready."}, []string{"outcome"})
	s.objects = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "desens_objects_total",
		Help: "Objects reported by events, by status: done, skipped, ignored, failed."}, []string{"status"})
	s.duration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "desens_event_duration_seconds",
		Help: "Time to handle an event that was parsed.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)})
	s.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "desens_events_in_flight", Help: "Events being handled."})
	s.ready = prometheus.NewGauge(prometheus.GaugeOpts{Name: "desens_ready", Help: "1 when the models are loaded and events are taken."})
	s.reg.MustRegister(s.events, s.objects, s.duration, s.inFlight, s.ready,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.mux.HandleFunc("POST /events", s.serveEvent)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.mux.HandleFunc("GET /readyz", s.serveReady)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	return s
}

// Start makes the Server ready, handling events with h.
func (s *Server) Start(h *Handler) {
	s.h.Store(h)
	s.ready.Set(1)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.closing.Load():
		httpError(w, http.StatusServiceUnavailable, "shutting down")
	case s.h.Load() == nil:
		httpError(w, http.StatusServiceUnavailable, "loading models")
	default:
		io.WriteString(w, "ok\n")
	}
}

func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request) {
	h := s.h.Load()
	if h == nil {
		s.events.WithLabelValues("not_ready").Inc()
		w.Header().Set("Retry-After", "5")
		httpError(w, http.StatusServiceUnavailable, "not ready: loading models")
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		s.events.WithLabelValues("busy").Inc()
		s.logf(slog.LevelWarn, "event refused", "status", http.StatusTooManyRequests, "reason", "busy")
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusTooManyRequests, fmt.Sprintf("busy: %d events in hand already", s.opts.MaxInFlight))
		return
	}
	s.inFlight.Inc()
	defer s.inFlight.Dec()

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		s.events.WithLabelValues("too_large").Inc()
		s.logf(slog.LevelWarn, "event refused", "status", http.StatusRequestEntityTooLarge, "reason", "body too large")
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("event body over %d bytes", s.opts.MaxBody))
		return
	case err != nil:
		s.events.WithLabelValues("malformed").Inc()
		httpError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	objs, err := ParseRequest(r.Header, body)
	if err != nil {
		code, outcome := http.StatusBadRequest, "malformed"
		if errors.Is(err, ErrUnknown) {
			code, outcome = http.StatusUnprocessableEntity, "unknown"
		}
		s.events.WithLabelValues(outcome).Inc()
		s.logf(slog.LevelWarn, "event refused", "status", code, "reason", err.Error())
		httpError(w, code, err.Error())
		return
	}
	s.logf(slog.LevelInfo, "event received", "objects", len(objs), "bytes", len(body))
	start := time.Now()
	res := h.Handle(r.Context(), objs)
	s.duration.Observe(time.Since(start).Seconds())
	for _, o := range res.Objects {
		s.objects.WithLabelValues(string(o.Status)).Inc()
	}
	code := http.StatusOK
	switch {
	case res.Failed == 0:
		s.events.WithLabelValues("ok").Inc()
	case res.Retry():
		s.events.WithLabelValues("failed").Inc()
		w.Header().Set("Retry-After", "30")
		code = http.StatusServiceUnavailable
	default:
		s.events.WithLabelValues("failed").Inc()
		code = http.StatusInternalServerError
	}
	level := slog.LevelInfo
	if res.Failed > 0 {
		level = slog.LevelWarn
	}
	s.logf(level, "event", "status", code, "done", res.Done, "skipped", res.Skipped, "ignored", res.Ignored,
		"failed", res.Failed, "seconds", time.Since(start).Seconds())
	for _, o := range res.Objects {
		if o.Status == Failed {
			s.logf(slog.LevelWarn, "object failed", "input", o.Input, "reason", o.Reason, "retry", o.Retry)
		}
	}
	writeJSON(w, code, res)
}

func (s *Server) logf(level slog.Level, msg string, args ...any) {
	if s.opts.Log != nil {
		s.opts.Log.Log(context.Background(), level, msg, args...)
	}
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}{msg, code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client may have gone; nothing to tell it
}

// Serve serves HTTP on l until ctx is done, then shuts down gracefully:
// it stops accepting connections, answers /readyz with 503, and lets the
// events in hand finish. After drain (0: no limit) their work is
// cancelled, and Serve returns once they have answered.
func (s *Server) Serve(ctx context.Context, l net.Listener, drain time.Duration) error {
	// Requests' contexts do not derive from ctx: a shutdown lets them
	// finish rather than cancel them. work is cancelled only once the
	// drain time is over.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return work }}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Go(func() { errc <- hs.Serve(l) })
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.closing.Store(true)
	s.ready.Set(0)
	sctx := context.Background()
	if drain > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(sctx, drain)
		defer cancel()
	}
	err := hs.Shutdown(sctx)
	if err != nil {
		cancelWork() // past the drain time: stop the work, then wait for the replies
		err = errors.Join(err, hs.Shutdown(context.Background()))
	}
	wg.Wait()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return err
}
