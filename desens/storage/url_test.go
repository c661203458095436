package storage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desens/desens/desens/storage"
)

func TestParseURL(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel := strings.TrimPrefix(filepath.ToSlash(wd), "/")
	for _, tc := range []struct {
		url  string
		want storage.Location
	}{
		{"s3://bucket/key.mp4", storage.Location{Scheme: "s3", Bucket: "bucket", Key: "key.mp4"}},
		{"s3://bucket/prefix/", storage.Location{Scheme: "s3", Bucket: "bucket", Key: "prefix/"}},
		{"s3://bucket", storage.Location{Scheme: "s3", Bucket: "bucket"}},
		{"s3://bucket/", storage.Location{Scheme: "s3", Bucket: "bucket"}},
		// Keys are taken byte for byte, as the AWS CLI does: no unescaping,
		// no query string.
		{"s3://b/a%20b+c?d#e", storage.Location{Scheme: "s3", Bucket: "b", Key: "a%20b+c?d#e"}},
		{"S3://b/k", storage.Location{Scheme: "s3", Bucket: "b", Key: "k"}},
		{"cos://videos-1250000000/2024/a.mp4", storage.Location{Scheme: "cos", Bucket: "videos-1250000000", Key: "2024/a.mp4"}},
		{"file:///data/in/a.mp4", storage.Location{Scheme: "file", Bucket: "/", Key: "data/in/a.mp4"}},
		{"file://localhost/data/in/", storage.Location{Scheme: "file", Bucket: "/", Key: "data/in/"}},
		{"file:///data/with%20space.mp4", storage.Location{Scheme: "file", Bucket: "/", Key: "data/with space.mp4"}},
		{"/data/in/a.mp4", storage.Location{Scheme: "file", Bucket: "/", Key: "data/in/a.mp4"}},
		{"/data/../data/./in/", storage.Location{Scheme: "file", Bucket: "/", Key: "data/in/"}},
		{"clip.mp4", storage.Location{Scheme: "file", Bucket: "/", Key: rel + "/clip.mp4"}},
		{"weird://name.mp4", storage.Location{Scheme: "weird", Bucket: "name.mp4"}},
		{"dir with ://colon", storage.Location{Scheme: "file", Bucket: "/", Key: rel + "/dir with :/colon"}},
	} {
		got, err := storage.ParseURL(tc.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
		}
	}
	for _, bad := range []string{"", "s3:///key", "file://host/path"} {
		if loc, err := storage.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", bad, loc)
		}
	}
}

func TestMuxOpensFilesAndRejectsUnknownSchemes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.mp4"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := storage.NewMux(storage.S3Config{})
	for _, u := range []string{dir + "/a.mp4", "file://" + dir + "/a.mp4"} {
		b, key, err := m.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		if _, err := b.Stat(t.Context(), key); err != nil {
			t.Errorf("Stat via %q: %v", u, err)
		}
		b.Close()
	}
	if _, _, err := m.Open(t.Context(), "gs://bucket/key"); err == nil || !strings.Contains(err.Error(), "cos, file, s3") {
		t.Errorf("Open(gs://) = %v, want an error listing the known schemes", err)
	}

	var empty storage.Mux
	empty.Register("mem", storage.OpenerFunc(func(context.Context, storage.Location) (storage.Bucket, error) {
		return nil, errors.New("opened mem")
	}))
	if _, _, err := empty.Open(t.Context(), "mem://b/k"); err == nil || err.Error() != "opened mem" {
		t.Errorf("custom opener: %v", err)
	}
}

func TestProviders(t *testing.T) {
	ctx := t.Context()
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	for _, tc := range []struct {
		name    string
		cfg     storage.S3Config
		wantErr string
	}{
		{"COS needs a region", storage.S3Config{Provider: "cos", Bucket: "videos-1250000000"}, "needs a region"},
		{"COS bucket names carry the APPID", storage.S3Config{Provider: "cos", Bucket: "videos", Region: "ap-guangzhou"}, "APPID"},
		{"COS with region and APPID", storage.S3Config{Provider: "cos", Bucket: "videos-1250000000", Region: "ap-guangzhou"}, ""},
		{"unknown provider", storage.S3Config{Provider: "dropbox", Bucket: "b"}, "unknown provider"},
		{"part size below the S3 minimum", storage.S3Config{Bucket: "b", PartSize: 1 << 20}, "minimum"},
		{"AWS defaults", storage.S3Config{Bucket: "b"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := storage.NewS3(ctx, tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				b.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, storage.ErrInvalidArgument) {
				t.Fatalf("NewS3 = %v, want ErrInvalidArgument mentioning %q", err, tc.wantErr)
			}
		})
	}
	if p, ok := storage.LookupProvider("cos"); !ok || p.PathStyle || !strings.Contains(p.Endpoint, "myqcloud.com") {
		t.Errorf("LookupProvider(cos) = %+v", p)
	}
}

// The URL a COS bucket gets signed for must be the virtual-host one.
func TestCOSPresignedURLIsVirtualHosted(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	b, err := storage.NewS3(t.Context(), storage.S3Config{Provider: "cos", Bucket: "videos-1250000000", Region: "ap-guangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.PresignGet(t.Context(), "in/a b.mp4", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "https://videos-1250000000.cos.ap-guangzhou.myqcloud.com/in/a%20b.mp4?") {
		t.Errorf("presigned URL = %s", u)
	}
}
