// Command cloudevents is a CloudEvents receiver for Knative, Cloud Run or
// any runtime that posts events over HTTP (binary or structured mode) to
// $PORT: each bucket object an event reports is desensitized into the
// destination $DESENS_MAP names, e.g. s3://sensitive/=s3://desensitized/.
// The models load once, before it listens.
package main

import (
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/event"
	"github.com/desens/desens/desens/storage"
)

func main() {
	m, err := event.ParseMapping(os.Getenv("DESENS_MAP"))
	if err != nil {
		log.Fatal(err)
	}
	buckets, _ := event.ShareBuckets(storage.NewMux(storage.S3Config{})) // one client per bucket, for every event
	d, err := desens.New(desens.Options{Storage: buckets, Overwrite: true})
	if err != nil {
		log.Fatal(err)
	}
	h, err := event.NewHandler(d, buckets, m)
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, event.DefaultMaxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		objs, err := event.ParseRequest(r.Header, body)
		if err != nil {
			code := http.StatusBadRequest // not redelivered: the same event would fail again
			if errors.Is(err, event.ErrUnknown) {
				code = http.StatusUnprocessableEntity
			}
			http.Error(w, err.Error(), code)
			return
		}
		res := h.Handle(r.Context(), objs)
		w.Header().Set("Content-Type", "application/json")
		if res.Failed > 0 {
			w.WriteHeader(http.StatusInternalServerError) // redelivered, then dead-lettered
		}
		json.NewEncoder(w).Encode(res)
	})
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
