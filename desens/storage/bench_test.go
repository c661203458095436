package storage_test

import (
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/internal/s3test"
)

// BenchmarkS3Stream streams one object (64 MiB; DESENS_BENCH_MB to change)
// through this package and through the plain SDK, against versitygw on
// loopback. "read" downloads to io.Discard; "copy" downloads and uploads
// to a new key, as desens does with a video. The SDK baseline is what a
// caller would write by hand without the transfer manager: one GetObject,
// and a sequential multipart upload with Content-MD5.
//
//	DESENS_S3TEST_DIR=/dev/shm go test ./desens/storage -run '^$' -bench S3Stream -benchtime 5x
//
// On loopback the server, not the client, is the bottleneck for uploads
// (versitygw hashes and copies every part); compare the two rows, not the
// absolute figures.
func BenchmarkS3Stream(b *testing.B) {
	size := int64(64)
	if v := envInt("DESENS_BENCH_MB"); v > 0 {
		size = v
	}
	size <<= 20
	srv := s3test.Start(b)
	bkt := newS3Bucket(b, srv, "", nil)
	putRandom(b, bkt, "src.bin", size, 0)
	client := srv.Client()
	name := bkt.Name()
	ctx := context.Background()

	b.Run("read/storage", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			r, err := bkt.Open(ctx, "src.bin")
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, r); err != nil || n != size {
				b.Fatal(n, err)
			}
			r.Close()
		}
	})
	b.Run("read/sdk", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &name, Key: aws.String("src.bin")})
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, out.Body); err != nil || n != size {
				b.Fatal(n, err)
			}
			out.Body.Close()
		}
	})
	b.Run("copy/storage", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			r, err := bkt.Open(ctx, "src.bin")
			if err != nil {
				b.Fatal(err)
			}
			w, err := bkt.Create(ctx, "dst.bin", nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(w, r); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
	b.Run("copy/sdk", func(b *testing.B) {
		b.SetBytes(size)
		buf := make([]byte, storage.DefaultPartSize)
		for b.Loop() {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &name, Key: aws.String("src.bin")})
			if err != nil {
				b.Fatal(err)
			}
			if err := s3test.SDKMultipartUpload(ctx, client, name, "dst-sdk.bin", out.Body, buf); err != nil {
				b.Fatal(err)
			}
			out.Body.Close()
		}
	})
}
