package event

import (
	"context"
	"errors"
	"sync"

	"github.com/desens/desens/desens/storage"
)

// ShareBuckets returns a registry of m's schemes that opens each
// S3-compatible bucket (s3://, cos://) once and lends it to every later
// caller, so that the events of a process share one client, its
// credentials and its pooled connections, rather than each run opening
// its own (loading the AWS configuration and shaking hands anew). Closing
// a lent bucket does nothing; closeAll closes them all, once no run is
// using them. Give the registry to desens.Options.Storage and NewHandler
// alike. Other buckets (file://) are opened afresh each time, as by m.
func ShareBuckets(m *storage.Mux) (shared *storage.Mux, closeAll func() error) {
	s := &sharedBuckets{next: m, open: map[storage.Location]*storage.S3Bucket{}}
	shared = &storage.Mux{}
	for _, scheme := range m.Schemes() {
		shared.Register(scheme, storage.OpenerFunc(s.openBucket))
	}
	return shared, s.close
}

type sharedBuckets struct {
	next *storage.Mux
	mu   sync.Mutex
	open map[storage.Location]*storage.S3Bucket // by scheme and bucket
}

func (s *sharedBuckets) openBucket(ctx context.Context, loc storage.Location) (storage.Bucket, error) {
	k := storage.Location{Scheme: loc.Scheme, Bucket: loc.Bucket}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.open[k]; ok {
		return lentS3{b}, nil
	}
	b, err := s.next.OpenLocation(ctx, k)
	if err != nil {
		return nil, err
	}
	s3b, ok := b.(*storage.S3Bucket)
	if !ok {
		return b, nil
	}
	s.open[k] = s3b
	return lentS3{s3b}, nil
}

func (s *sharedBuckets) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for k, b := range s.open {
		err = errors.Join(err, b.Close())
		delete(s.open, k)
	}
	return err
}

// lentS3 is a shared bucket with every method of *storage.S3Bucket (the
// multipart clean-up desens does needs Uploads and AbortUpload) but Close,
// which the owner does.
type lentS3 struct{ *storage.S3Bucket }

func (lentS3) Close() error { return nil }
