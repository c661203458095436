package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

var (
	// ErrMalformed means the body is not JSON, or is an event that lacks
	// what its kind must carry.
	ErrMalformed = errors.New("malformed event")
	// ErrUnknown means the body is JSON but no kind of event desens reads.
	ErrUnknown = errors.New("unknown event")
)

// Object is one object an event reports.
type Object struct {
	// Bucket is the bucket name as URLs spell it: for COS, name-appid.
	Bucket string `json:"bucket"`
	// Key is the object key, decoded.
	Key string `json:"key"`
	// ETag is the ETag the event reports, if any; it may be stale by the
	// time the event is handled.
	ETag string `json:"etag,omitempty"`
	Size int64  `json:"size"`
	// Event is the event's own name for what happened, e.g.
	// "ObjectCreated:Put" or "cos:ObjectCreated:Post".
	Event string `json:"event"`
	// Created reports that the event says the object was created (put,
	// posted, copied, completed); other events are reported, not acted on.
	Created bool `json:"created"`
	// maybeEncoded: the key may be URL-encoded as S3 notifications encode
	// them; whether EventBridge encodes its keys is not settled, so the
	// Handler tries the decoded key when the key as given names nothing.
	maybeEncoded bool
}

// maxDepth bounds envelopes inside envelopes (SNS in SQS, a batch in a
// CloudEvent), so a hostile body cannot recurse deeply.
const maxDepth = 4

// Parse reads one event body of any kind the package knows (see the
// package documentation). An event that reports nothing to act on (S3's
// s3:TestEvent) gives no objects and no error.
func Parse(body []byte) ([]Object, error) { return parse(body, 0) }

func parse(body []byte, depth int) ([]Object, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: envelopes nested more than %d deep", ErrMalformed, maxDepth)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if body[0] == '[' {
		return parseCloudEventBatch(body, depth)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %w", ErrMalformed, jsonErr(err))
	}
	switch {
	case has(probe, "Records"):
		return parseRecords(probe["Records"], depth)
	case has(probe, "specversion"):
		return parseStructured(body, depth)
	case has(probe, "detail-type"):
		return parseEventBridge(body)
	case has(probe, "Event") && has(probe, "Service"):
		return parseTestEvent(body)
	}
	return nil, fmt.Errorf("%w: a JSON object with none of Records, specversion or detail-type", ErrUnknown)
}

func has(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

// jsonErr keeps a decoding error short: a Go type name means nothing to
// whoever sent the event.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: JSON %s where %s was expected", te.Field, te.Value, kindOf(te.Type.Kind().String()))
	}
	return err
}

func kindOf(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "slice":
		return "an array"
	}
	return "an object"
}

// record is one element of a "Records" batch, of any of the kinds that
// send batches: S3 (s3), COS (cos), SQS (body), SNS (Sns.Message).
type record struct {
	EventSource  string     `json:"eventSource"`
	EventSource2 string     `json:"EventSource"` // SNS spells it so
	EventName    string     `json:"eventName"`
	S3           *s3Entity  `json:"s3"`
	COS          *cosEntity `json:"cos"`
	Event        *cosEvent  `json:"event"`
	Body         *string    `json:"body"`
	Sns          *snsEntity `json:"Sns"`
}

type snsEntity struct {
	Message string `json:"Message"`
}

func parseRecords(raw json.RawMessage, depth int) ([]Object, error) {
	var recs []record
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, fmt.Errorf("%w: Records: %w", ErrMalformed, jsonErr(err))
	}
	var objs []Object
	for i, r := range recs {
		var got []Object
		var err error
		switch {
		case r.S3 != nil:
			got, err = r.s3Object()
		case r.COS != nil:
			got, err = r.cosObject()
		case r.Body != nil:
			got, err = parse([]byte(*r.Body), depth+1)
		case r.Sns != nil:
			got, err = parse([]byte(r.Sns.Message), depth+1)
		default:
			src := r.EventSource + r.EventSource2
			if src == "" {
				src = "no eventSource"
			}
			err = fmt.Errorf("%w: a record with none of s3, cos, body or Sns (%s)", ErrUnknown, src)
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		objs = append(objs, got...)
	}
	return objs, nil
}

// s3Entity is the "s3" part of an S3 event notification record.
type s3Entity struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
		ETag string `json:"eTag"`
	} `json:"object"`
}

func (r record) s3Object() ([]Object, error) {
	if r.S3.Bucket.Name == "" {
		return nil, fmt.Errorf("%w: s3.bucket.name is missing", ErrMalformed)
	}
	if r.S3.Object.Key == "" {
		return nil, fmt.Errorf("%w: s3.object.key is missing", ErrMalformed)
	}
	// S3 encodes keys as HTML forms do: '+' for a space, %XX for the rest.
	key, err := url.QueryUnescape(r.S3.Object.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: s3.object.key %q: %w", ErrMalformed, r.S3.Object.Key, err)
	}
	if r.EventName == "" {
		return nil, fmt.Errorf("%w: eventName is missing", ErrMalformed)
	}
	return []Object{{Bucket: r.S3.Bucket.Name, Key: key, ETag: r.S3.Object.ETag, Size: r.S3.Object.Size,
		Event: r.EventName, Created: isCreated(r.EventName)}}, nil
}

// isCreated reports whether an event name or type says an object was
// created, however the service spells it: "ObjectCreated:Put",
// "s3:ObjectCreated:CompleteMultipartUpload", "cos:ObjectCreated:Post",
// "Object Created", "com.amazonaws.s3.ObjectCreated".
func isCreated(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	return strings.Contains(n, "objectcreated")
}

// testEvent is the message S3 sends once when a notification is set up.
type testEvent struct {
	Service string `json:"Service"`
	Event   string `json:"Event"`
}

func parseTestEvent(body []byte) ([]Object, error) {
	var t testEvent
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, jsonErr(err))
	}
	if t.Event != "s3:TestEvent" {
		return nil, fmt.Errorf("%w: Event %q", ErrUnknown, t.Event)
	}
	return nil, nil
}
