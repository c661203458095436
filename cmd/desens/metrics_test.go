package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/detect"
)

// TestMetrics counts files by outcome, bytes and detections, and serves
// them in the Prometheus text format.
func TestMetrics(t *testing.T) {
	m := newMetrics()
	stop, addr, err := m.serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	m.observe(desens.FileReport{OK: true, BytesIn: 100, BytesOut: 80, Detections: map[detect.Class]int{detect.Face: 2}, Elapsed: 1500})
	m.observe(desens.FileReport{Error: "truncated", BytesIn: 10})
	m.observe(desens.FileReport{Canceled: true})
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`desens_files_total{outcome="ok"} 1`,
		`desens_files_total{outcome="failed"} 1`,
		`desens_files_total{outcome="canceled"} 1`,
		`desens_bytes_total{direction="in"} 110`,
		`desens_bytes_total{direction="out"} 80`,
		`desens_detections_total{class="face"} 2`,
		`desens_file_seconds_count 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}
