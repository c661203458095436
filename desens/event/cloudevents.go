package event

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// ParseRequest reads an event delivered over HTTP: a CloudEvent in binary
// mode (its attributes in ce-* headers, its data the body), or any body
// Parse reads (a structured CloudEvent or batch among them).
func ParseRequest(h http.Header, body []byte) ([]Object, error) {
	// A structured CloudEvent's content type says so, whatever ce-*
	// headers come with it.
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if h.Get("ce-specversion") == "" || strings.HasPrefix(mt, "application/cloudevents") {
		return Parse(body)
	}
	ce := cloudEvent{
		SpecVersion: h.Get("ce-specversion"), ID: h.Get("ce-id"), Source: h.Get("ce-source"),
		Type: h.Get("ce-type"), Subject: h.Get("ce-subject"), DataContentType: h.Get("Content-Type"),
		Data: body,
	}
	return ce.objects(0)
}

// cloudEvent holds the CloudEvents 1.0 attributes desens reads.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      string          `json:"data_base64"`
}

func parseStructured(body []byte, depth int) ([]Object, error) {
	var ce cloudEvent
	if err := json.Unmarshal(body, &ce); err != nil {
		return nil, fmt.Errorf("%w: CloudEvent: %w", ErrMalformed, jsonErr(err))
	}
	if ce.DataBase64 != "" {
		data, err := base64.StdEncoding.DecodeString(ce.DataBase64)
		if err != nil {
			return nil, fmt.Errorf("%w: CloudEvent data_base64: %w", ErrMalformed, err)
		}
		ce.Data = data
	}
	return ce.objects(depth)
}

func parseCloudEventBatch(body []byte, depth int) ([]Object, error) {
	var batch []json.RawMessage
	if err := json.Unmarshal(body, &batch); err != nil {
		return nil, fmt.Errorf("%w: CloudEvents batch: %w", ErrMalformed, jsonErr(err))
	}
	var objs []Object
	for i, raw := range batch {
		got, err := parseStructured(raw, depth+1)
		if err != nil {
			return nil, fmt.Errorf("event %d of batch: %w", i, err)
		}
		objs = append(objs, got...)
	}
	return objs, nil
}

// objects checks the required attributes and reads the data: a Records
// batch (whatever the type, since each record names its own event), else
// one object whose type says what happened to it.
func (ce cloudEvent) objects(depth int) ([]Object, error) {
	if ce.SpecVersion != "1.0" {
		return nil, fmt.Errorf("%w: CloudEvents specversion %q (want 1.0)", ErrUnknown, ce.SpecVersion)
	}
	for _, a := range []struct{ name, v string }{{"id", ce.ID}, {"source", ce.Source}, {"type", ce.Type}} {
		if a.v == "" {
			return nil, fmt.Errorf("%w: CloudEvent attribute %s is missing", ErrMalformed, a.name)
		}
	}
	if ct := ce.DataContentType; ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")) {
			return nil, fmt.Errorf("%w: CloudEvent %s of type %q has data of content type %q (want JSON)", ErrUnknown, ce.ID, ce.Type, ct)
		}
	}
	if len(ce.Data) == 0 || string(ce.Data) == "null" {
		return nil, fmt.Errorf("%w: CloudEvent %s of type %q has no data", ErrMalformed, ce.ID, ce.Type)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(ce.Data, &probe); err != nil {
		return nil, fmt.Errorf("%w: CloudEvent %s data: not a JSON object: %w", ErrMalformed, ce.ID, jsonErr(err))
	}
	if has(probe, "Records") || has(probe, "detail-type") {
		return parse(ce.Data, depth+1)
	}
	if !isObjectEvent(ce.Type) {
		return nil, fmt.Errorf("%w: CloudEvent type %q is not a bucket object event", ErrUnknown, ce.Type)
	}
	o, err := detailObject(ce.Data)
	if err != nil {
		return nil, fmt.Errorf("CloudEvent %s: %w", ce.ID, err)
	}
	o.Event, o.Created = ce.Type, isCreated(ce.Type)
	return []Object{o}, nil
}

// isObjectEvent reports whether a type names something that happened to
// an object in a bucket, created or otherwise: "Object Created", "Object
// Deleted", "com.amazonaws.s3.ObjectCreated", "com.amazonaws.s3.ObjectRemoved".
func isObjectEvent(typ string) bool {
	n := strings.ToLower(strings.ReplaceAll(typ, " ", ""))
	return strings.Contains(n, "object") && (strings.Contains(n, "s3") || strings.HasPrefix(n, "object") ||
		strings.Contains(n, "cos") || strings.Contains(n, "storage"))
}

// s3Detail is an S3-shaped object: EventBridge's "detail" for S3, which
// CloudEvents from AWS carry as their data.
type s3Detail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
		ETag string `json:"etag"`
	} `json:"object"`
}

func detailObject(data []byte) (Object, error) {
	var d s3Detail
	if err := json.Unmarshal(data, &d); err != nil {
		return Object{}, fmt.Errorf("%w: %w", ErrMalformed, jsonErr(err))
	}
	if d.Bucket.Name == "" || d.Object.Key == "" {
		return Object{}, fmt.Errorf("%w: data has no bucket.name and object.key", ErrMalformed)
	}
	o := Object{Bucket: d.Bucket.Name, Key: d.Object.Key, ETag: d.Object.ETag, Size: d.Object.Size}
	if k, err := url.QueryUnescape(o.Key); err == nil && k != o.Key {
		o.maybeEncoded = true
	}
	return o, nil
}

// eventBridge is an Amazon EventBridge event.
type eventBridge struct {
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

func parseEventBridge(body []byte) ([]Object, error) {
	var e eventBridge
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("%w: EventBridge event: %w", ErrMalformed, jsonErr(err))
	}
	if e.Source != "aws.s3" {
		return nil, fmt.Errorf("%w: EventBridge event from %q (want aws.s3)", ErrUnknown, e.Source)
	}
	if len(e.Detail) == 0 {
		return nil, fmt.Errorf("%w: EventBridge event has no detail", ErrMalformed)
	}
	o, err := detailObject(e.Detail)
	if err != nil {
		return nil, fmt.Errorf("EventBridge detail: %w", err)
	}
	o.Event, o.Created = e.DetailType, isCreated(e.DetailType)
	return []Object{o}, nil
}
