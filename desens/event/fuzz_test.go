package event

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// seedFixtures adds every fixture in testdata as a seed.
func seedFixtures(f *testing.F, add func([]byte)) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzParse feeds arbitrary bodies to Parse: whatever they hold, it
// returns objects or an error matching ErrMalformed or ErrUnknown, never
// panics, and every object it returns names a bucket and a key.
func FuzzParse(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add(b) })
	for _, s := range []string{"", "{}", "[]", "null", `{"Records":null}`, `{"Records":[{}]}`, nest(3), nest(9),
		`{"specversion":"1.0","id":"1","source":"s","type":"Object Created","data":{"bucket":{"name":"b"},"object":{"key":"k"}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := Parse(body)
		checkParsed(t, objs, err)
	})
}

// FuzzParseRequest does the same for binary-mode CloudEvents: arbitrary
// attributes and data.
func FuzzParseRequest(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add("1.0", "Object Created", "application/json", b) })
	f.Add("1.0", "com.amazonaws.s3.ObjectCreated", "", []byte(`{"bucket":{"name":"b"},"object":{"key":"k"}}`))
	f.Add("", "", "", []byte(`{}`))
	f.Fuzz(func(t *testing.T, spec, typ, ct string, body []byte) {
		h := http.Header{}
		if utf8.ValidString(spec) && utf8.ValidString(typ) && utf8.ValidString(ct) {
			h.Set("ce-specversion", spec)
			h.Set("ce-type", typ)
			h.Set("ce-id", "1")
			h.Set("ce-source", "fuzz")
			h.Set("Content-Type", ct)
		}
		objs, err := ParseRequest(h, body)
		checkParsed(t, objs, err)
	})
}

func checkParsed(t *testing.T, objs []Object, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknown) {
			t.Fatalf("error matches neither ErrMalformed nor ErrUnknown: %v", err)
		}
		if objs != nil {
			t.Fatalf("objects %v beside error %v", objs, err)
		}
		return
	}
	for _, o := range objs {
		if o.Bucket == "" || o.Key == "" {
			t.Fatalf("object without bucket or key: %+v", o)
		}
	}
}
