package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/desens/desens/desens"
)

// metrics are a run's Prometheus metrics (--metrics-addr), in a registry
// of their own.
type metrics struct {
	reg     *prometheus.Registry
	files   *prometheus.CounterVec
	bytes   *prometheus.CounterVec
	found   *prometheus.CounterVec
	seconds prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "desens_files_total",
			Help: "Files finished, by outcome: ok, failed, canceled, already_done."}, []string{"outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "desens_bytes_total",
			Help: "Bytes of sources read (in) and outputs written (out)."}, []string{"direction"}),
		found: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "desens_detections_total",
			Help: "Regions found, by class."}, []string{"class"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "desens_file_seconds",
			Help: "Time to desensitize one file.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 16)}),
	}
	m.reg.MustRegister(m.files, m.bytes, m.found, m.seconds)
	return m
}

// observe counts one file's outcome.
func (m *metrics) observe(f desens.FileReport) {
	if m == nil {
		return
	}
	_, done := f.Skip()
	switch {
	case done:
		m.files.WithLabelValues("already_done").Inc()
		return
	case f.Canceled:
		m.files.WithLabelValues("canceled").Inc()
		return
	case f.OK:
		m.files.WithLabelValues("ok").Inc()
	default:
		m.files.WithLabelValues("failed").Inc()
	}
	m.bytes.WithLabelValues("in").Add(float64(f.BytesIn))
	m.bytes.WithLabelValues("out").Add(float64(f.BytesOut))
	for c, n := range f.Detections {
		m.found.WithLabelValues(string(c)).Add(float64(n))
	}
	m.seconds.Observe(float64(f.Elapsed) / 1000)
}

// serve serves /metrics on addr until the returned stop is called, and
// returns the address it listens on (addr may name port 0).
func (m *metrics) serve(addr string) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// A server that fails leaves the run to go on without metrics.
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, ln.Addr().String(), nil
}
