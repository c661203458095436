package event

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	put := Object{Bucket: "sensitive", Key: "cam1/2026-01-02/front door (1).jpg", ETag: "d41d8cd98f00b204e9800998ecf8427e",
		Size: 16412, Event: "ObjectCreated:Put", Created: true}
	tests := []struct {
		file string
		want []Object
	}{
		{"aws-s3-put.json", []Object{put}},
		{"aws-s3-batch.json", []Object{
			{Bucket: "sensitive", Key: "cam2/车辆 1.mp4", ETag: "9b2cf535f27731c974343645a3985328-2", Size: 168274,
				Event: "ObjectCreated:CompleteMultipartUpload", Created: true},
			{Bucket: "sensitive", Key: "cam2/old.jpg", Event: "ObjectRemoved:Delete"},
		}},
		{"aws-s3-test-event.json", nil},
		{"aws-sqs-s3.json", []Object{put}},
		{"aws-sns-s3.json", []Object{put}},
		{"cos-put.json", []Object{{Bucket: "examplebucket-1250000000", Key: "cam1/front.jpg",
			ETag: `"d41d8cd98f00b204e9800998ecf8427e"`, Size: 16412, Event: "cos:ObjectCreated:Put", Created: true}}},
		{"eventbridge-object-created.json", []Object{{Bucket: "sensitive", Key: "cam1/eb.jpg",
			ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 16412, Event: "Object Created", Created: true}}},
		{"cloudevent-structured.json", []Object{{Bucket: "sensitive", Key: "cam1/ce.jpg",
			ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 16412, Event: "Object Created", Created: true}}},
		{"cloudevent-batch.json", []Object{
			{Bucket: "sensitive", Key: "cam1/b1.jpg", ETag: "e1", Size: 1, Event: "com.amazonaws.s3.ObjectCreated", Created: true},
			{Bucket: "sensitive", Key: "cam1/b0.jpg", Event: "com.amazonaws.s3.ObjectRemoved"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseRequestBinaryCloudEvent(t *testing.T) {
	detail := `{"bucket":{"name":"sensitive"},"object":{"key":"cam1/bin.jpg","size":7,"etag":"abc"}}`
	tests := []struct {
		name    string
		header  map[string]string
		body    string
		want    []Object
		wantErr error
	}{
		{"an S3 object in binary mode",
			map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "aws.s3", "ce-type": "com.amazonaws.s3.ObjectCreated", "Content-Type": "application/json"},
			detail, []Object{{Bucket: "sensitive", Key: "cam1/bin.jpg", ETag: "abc", Size: 7, Event: "com.amazonaws.s3.ObjectCreated", Created: true}}, nil},
		{"an S3 notification batch as binary data, whatever the type",
			map[string]string{"ce-specversion": "1.0", "ce-id": "2", "ce-source": "sqs", "ce-type": "aws.sqs.message"},
			string(readFixture(t, "aws-s3-put.json")), []Object{{Bucket: "sensitive", Key: "cam1/2026-01-02/front door (1).jpg",
				ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 16412, Event: "ObjectCreated:Put", Created: true}}, nil},
		{"structured mode, whatever the ce-* headers say",
			map[string]string{"ce-specversion": "0.3", "Content-Type": "application/cloudevents+json; charset=utf-8"},
			string(readFixture(t, "cloudevent-structured.json")), []Object{{Bucket: "sensitive", Key: "cam1/ce.jpg",
				ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 16412, Event: "Object Created", Created: true}}, nil},
		{"no ce-id", map[string]string{"ce-specversion": "1.0", "ce-source": "s", "ce-type": "Object Created"}, detail, nil, ErrMalformed},
		{"specversion 0.3", map[string]string{"ce-specversion": "0.3", "ce-id": "1", "ce-source": "s", "ce-type": "Object Created"}, detail, nil, ErrUnknown},
		{"a type that is no object event", map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "com.example.order.placed"}, detail, nil, ErrUnknown},
		{"XML data", map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "Object Created", "Content-Type": "application/xml"}, "<a/>", nil, ErrUnknown},
		{"no data", map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "Object Created"}, "", nil, ErrMalformed},
		{"data without an object", map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "Object Created"}, `{"bucket":{}}`, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, err := ParseRequest(h, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, body string
		want       error
	}{
		{"an empty body", "  ", ErrMalformed},
		{"not JSON", "hello", ErrMalformed},
		{"truncated JSON", `{"Records":[{"s3":`, ErrMalformed},
		{"a JSON object of no known kind", `{"hello":"world"}`, ErrUnknown},
		{"Records that is not an array", `{"Records":{}}`, ErrMalformed},
		{"a record of no known kind", `{"Records":[{"eventSource":"aws:dynamodb"}]}`, ErrUnknown},
		{"an S3 record without a key", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`, ErrMalformed},
		{"an S3 record without a bucket", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{},"object":{"key":"k"}}}]}`, ErrMalformed},
		{"an S3 key with a bad escape", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz"}}}]}`, ErrMalformed},
		{"an S3 record without eventName", `{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, ErrMalformed},
		{"a size that is a string", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"1"}}}]}`, ErrMalformed},
		{"a COS record whose key names no object", `{"Records":[{"cos":{"cosBucket":{"name":"b","appid":"1"},"cosObject":{"key":"/1/b/"}},"event":{"eventName":"cos:ObjectCreated:Put"}}]}`, ErrMalformed},
		{"a COS record without event", `{"Records":[{"cos":{"cosBucket":{"name":"b","appid":"1"},"cosObject":{"key":"/1/b/k.jpg"}}}]}`, ErrMalformed},
		{"an SQS body that is not JSON", `{"Records":[{"eventSource":"aws:sqs","body":"hi"}]}`, ErrMalformed},
		{"EventBridge from another service", `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`, ErrUnknown},
		{"a test event of another kind", `{"Service":"Amazon S3","Event":"s3:Other"}`, ErrUnknown},
		{"a structured CloudEvent with bad base64", `{"specversion":"1.0","id":"1","source":"s","type":"Object Created","data_base64":"!!"}`, ErrMalformed},
		{"a batch holding a non-event", `[1]`, ErrMalformed},
		{"SQS nested too deep", nest(maxDepth + 2), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Parse([]byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, %v; want an error matching %v", objs, err, tt.want)
			}
		})
	}
}

// nest wraps an S3 put in n SQS envelopes.
func nest(n int) string {
	s := `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k.jpg"}}}]}`
	for range n {
		s = `{"Records":[{"eventSource":"aws:sqs","body":` + quote(s) + `}]}`
	}
	return s
}

func quote(s string) string {
	b := []byte{'"'}
	for _, c := range []byte(s) {
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return string(append(b, '"'))
}

func TestParseCOSBucketAlreadyNamedWithAppID(t *testing.T) {
	body := `{"Records":[{"cos":{"cosBucket":{"name":"raw-1250000000","appid":"1250000000"},"cosObject":{"key":"/1250000000/raw/a/b.jpg","size":3}},"event":{"eventName":"cos:ObjectCreated:Post"}}]}`
	got, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Object{{Bucket: "raw-1250000000", Key: "a/b.jpg", Size: 3, Event: "cos:ObjectCreated:Post", Created: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
