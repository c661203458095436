package event

import (
	"strings"
	"testing"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		in       string
		from, to string
		err      string
	}{
		{"s3://raw/=s3://clean/", "s3://raw/", "s3://clean/", ""},
		{"cos://raw-1250000000/cam/=cos://clean-1250000000/", "cos://raw-1250000000/cam/", "cos://clean-1250000000/", ""},
		{"s3://shared/raw/=s3://shared/clean/", "s3://shared/raw/", "s3://shared/clean/", ""},
		{"s3://shared/=s3://shared/clean/", "s3://shared/", "s3://shared/clean/", ""},
		{"s3://raw/", "", "", "want SRC=DST"},
		{"raw/=s3://clean/", "", "", "not a bucket URL"},
		{"s3://raw/=file:///tmp/out/", "", "", "not local files"},
		{"s3://b/clean/raw/=s3://b/clean/", "", "", "inside the destination"},
		{"s3://b/=s3://b/", "", "", "inside the destination"},
	}
	for _, tt := range tests {
		m, err := ParseMapping(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseMapping(%q) = %v, %v; want an error saying %q", tt.in, m, err, tt.err)
			}
			continue
		}
		if err != nil || m.From.String() != tt.from || m.To.String() != tt.to {
			t.Errorf("ParseMapping(%q) = %v, %v; want %s=%s", tt.in, m, err, tt.from, tt.to)
		}
	}
}

func TestMatchTakesTheLongestPrefix(t *testing.T) {
	h, err := NewHandler(nil, nil, mappings(t, "s3://raw/=s3://clean/all/", "s3://raw/cam1/=s3://clean/cam1/")...)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"cam1/a.jpg": "s3://clean/cam1/", "cam2/a.jpg": "s3://clean/all/"} {
		m, ok := h.match(Object{Bucket: "raw", Key: key})
		if !ok || m.To.String() != want {
			t.Errorf("%s goes to %v (%v), want %s", key, m.To, ok, want)
		}
	}
}

func TestSameETag(t *testing.T) {
	tests := []struct {
		recorded, etag string
		want           bool
	}{
		{`"abc"`, `"abc"`, true},
		{"abc", `"abc"`, true},
		{`%22abc%22`, `"abc"`, true},
		{"", `""`, false},
		{`"abc"`, `"abd"`, false},
	}
	for _, tt := range tests {
		if got := sameETag(tt.recorded, tt.etag); got != tt.want {
			t.Errorf("sameETag(%q, %q) = %v", tt.recorded, tt.etag, got)
		}
	}
}
