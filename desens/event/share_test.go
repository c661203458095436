package event

import (
	"context"
	"iter"
	"testing"

	"github.com/desens/desens/desens/storage"
)

// TestShareBuckets: one client per bucket for the whole process, lent
// with every method desens looks for, and closed only by closeAll.
func TestShareBuckets(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	shared, closeAll := ShareBuckets(storage.NewMux(storage.S3Config{Provider: "versitygw",
		Endpoint: "http://127.0.0.1:9", Region: "us-east-1"}))
	ctx := context.Background()
	open := func(url string) storage.Bucket {
		t.Helper()
		b, _, err := shared.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, other := open("s3://one/x.jpg"), open("s3://one/y/"), open("s3://two/")
	if a.(lentS3).S3Bucket != b.(lentS3).S3Bucket {
		t.Error("two opens of one bucket made two clients")
	}
	if a.(lentS3).S3Bucket == other.(lentS3).S3Bucket {
		t.Error("two buckets share a client")
	}
	if _, ok := a.(interface {
		Uploads(context.Context, string) iter.Seq2[storage.Upload, error]
		AbortUpload(context.Context, string, string) error
	}); !ok {
		t.Error("a lent bucket hides the multipart upload methods")
	}
	a.Close()
	if again := open("s3://one/"); again.(lentS3).S3Bucket != b.(lentS3).S3Bucket {
		t.Error("closing a lent bucket dropped it from the registry")
	}
	if f := open("file:///tmp/"); f == nil {
		t.Error("file:// not opened")
	} else if _, lent := f.(lentS3); lent {
		t.Error("a file bucket was shared")
	}
	if err := closeAll(); err != nil {
		t.Fatal(err)
	}
	if fresh := open("s3://one/"); fresh.(lentS3).S3Bucket == b.(lentS3).S3Bucket {
		t.Error("closeAll kept a closed client")
	}
	closeAll()
}
