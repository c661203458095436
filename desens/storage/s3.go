package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Transfer defaults. Parts of 16 MiB keep request overhead small while four
// in flight fill a gigabit link; 5 MiB is S3's minimum part size (except the
// last part) and 10000 its maximum part count.
const (
	DefaultPartSize    = 16 << 20
	MinPartSize        = 5 << 20
	DefaultConcurrency = 4
	DefaultChunkSize   = 8 << 20
	DefaultReadAhead   = 2
	DefaultMaxRetries  = 5
	DefaultStallTime   = time.Minute
	maxParts           = 10000
	growLimit          = 1 << 20
	firstChunkSize     = 1 << 20
)

// S3Config configures an S3 bucket. Only Bucket is required; every other
// zero value means "the provider's default, else the AWS SDK's".
type S3Config struct {
	Bucket string
	// Provider names a row of the provider table: "aws" (default), "cos",
	// "minio", "ceph", "versitygw".
	Provider string
	// Endpoint is the service URL, e.g. "http://127.0.0.1:7070". Empty:
	// the provider's endpoint, else the SDK's resolution, which honours
	// AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL.
	Endpoint string
	// Region; empty: AWS_REGION or the profile's, else the provider's.
	Region string
	// PathStyle forces path-style addressing (http://host/bucket/key);
	// false leaves the provider's choice.
	PathStyle bool

	// AccessKeyID and SecretAccessKey (and SessionToken) give static
	// credentials. When empty the SDK's default chain is used: AWS_*
	// environment variables, the shared config and credentials files
	// (Profile, or AWS_PROFILE), web identity, SSO, and the instance role.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Profile         string
	// Anonymous sends unsigned requests, for public buckets.
	Anonymous bool

	// PartSize and Concurrency are defaults for Create (WriteOptions
	// override them per object): 16 MiB and 4.
	PartSize    int64
	Concurrency int
	// ChunkSize caps the size of one ranged GET of a Reader (8 MiB), and
	// ReadAhead is how many chunks are fetched ahead of the one being read
	// (2). A Reader holds at most (ReadAhead+1)×ChunkSize of buffers.
	ChunkSize int64
	ReadAhead int
	// MaxRetries bounds retries of one request (by the SDK) and of one
	// interrupted read (by the Reader, counting consecutive failures that
	// made no progress). 0 means 5; negative means none.
	MaxRetries int
	// StallTimeout cancels and resumes a GET whose body delivers no bytes
	// for this long (1 minute); a hung connection otherwise hangs forever.
	StallTimeout time.Duration
	// HTTPClient replaces the SDK's default HTTP client.
	HTTPClient *http.Client
}

// S3Bucket is a Bucket on any S3-compatible service.
type S3Bucket struct {
	client  *s3.Client
	presign *s3.PresignClient
	http    *http.Client
	bucket  string
	url     string
	cfg     S3Config // defaults filled in
	chunks  *bufPool // ChunkSize buffers for Readers
	parts   *bufPool // PartSize buffers for Writers
}

// bufPool recycles buffers of one size across the Readers or Writers of
// a bucket: a batch job going through thousands of objects would otherwise
// allocate, and have the GC zero, a chunk or part buffer for each.
type bufPool struct {
	size int
	p    sync.Pool
}

func newBufPool(size int64) *bufPool { return &bufPool{size: int(size)} }

// get returns an empty buffer with capacity size.
func (p *bufPool) get() []byte {
	if b, ok := p.p.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, p.size)
}

// put recycles b; buffers of other sizes are left to the GC.
func (p *bufPool) put(b []byte) {
	if cap(b) == p.size {
		b = b[:0]
		p.p.Put(&b)
	}
}

var _ Bucket = (*S3Bucket)(nil)

// NewS3 builds a client from cfg and returns the bucket. It sends no
// request: a wrong bucket or wrong credentials show up at the first call.
func NewS3(ctx context.Context, cfg S3Config) (*S3Bucket, error) {
	prov, ok := LookupProvider(cfg.Provider)
	if !ok {
		return nil, &Error{Op: "open bucket", Bucket: "s3://" + cfg.Bucket, Kind: ErrInvalidArgument,
			Err: fmt.Errorf("unknown provider %q (known: %s)", cfg.Provider, strings.Join(ProviderNames(), ", "))}
	}
	bad := func(err error) error {
		return &Error{Op: "open bucket", Bucket: "s3://" + cfg.Bucket, Kind: ErrInvalidArgument, Err: err}
	}
	if err := prov.checkBucket(cfg.Bucket); err != nil {
		return nil, bad(err)
	}
	cfg = withDefaults(cfg)
	if cfg.PartSize < MinPartSize {
		return nil, bad(fmt.Errorf("part size %d is below the S3 minimum %d", cfg.PartSize, MinPartSize))
	}

	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	switch {
	case cfg.Anonymous:
		opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	case cfg.AccessKeyID != "":
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	} else {
		// A BuildableClient, not an *http.Client, so the SDK can still
		// apply AWS_CA_BUNDLE to it.
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(tuneTransport)))
	}
	opts = append(opts, config.WithRetryer(func() aws.Retryer { return newRetryer(cfg.MaxRetries) }))
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &Error{Op: "open bucket", Bucket: "s3://" + cfg.Bucket, Err: err}
	}
	// Freeze it into a plain *http.Client we keep, so Close can release
	// its idle connections.
	hc := cfg.HTTPClient
	if bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
		if c, ok := bc.Freeze().(*http.Client); ok {
			awsCfg.HTTPClient, hc = c, c
		}
	}
	if awsCfg.Region == "" {
		if prov.RequireRegion {
			return nil, bad(fmt.Errorf("provider %s needs a region (set it, or AWS_REGION)", prov.Name))
		}
		awsCfg.Region = prov.Region
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		if endpoint, err = prov.endpointFor(awsCfg.Region); err != nil {
			return nil, bad(err)
		}
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = cfg.PathStyle || prov.PathStyle
		// Only checksums the API demands: many S3-compatible servers
		// reject the SDK's default aws-chunked CRC trailers, while every
		// one accepts the Content-MD5 this package sends itself.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return newS3Bucket(client, hc, cfg), nil
}

// NewS3FromClient wraps a client the caller configured. Transfer settings
// come from cfg; its connection settings are ignored.
func NewS3FromClient(client *s3.Client, cfg S3Config) *S3Bucket {
	return newS3Bucket(client, nil, withDefaults(cfg))
}

func newS3Bucket(client *s3.Client, hc *http.Client, cfg S3Config) *S3Bucket {
	return &S3Bucket{
		client:  client,
		presign: s3.NewPresignClient(client),
		http:    hc,
		bucket:  cfg.Bucket,
		url:     "s3://" + cfg.Bucket,
		cfg:     cfg,
		chunks:  newBufPool(cfg.ChunkSize),
		parts:   newBufPool(cfg.PartSize),
	}
}

func withDefaults(cfg S3Config) S3Config {
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.ReadAhead <= 0 {
		cfg.ReadAhead = DefaultReadAhead
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTime
	}
	return cfg
}

// tuneTransport allows as many idle connections per host as a Reader and
// a Writer use at once, so parts and chunks do not redial, and bounds the
// wait for response headers (bodies have the stall watchdog instead).
func tuneTransport(t *http.Transport) {
	t.MaxIdleConnsPerHost = 32
	t.ResponseHeaderTimeout = 2 * time.Minute
}

// newRetryer is the SDK's standard retryer plus connection drops in the
// middle of a request (EPIPE, unexpected EOF), which the SDK leaves
// unclassified. Retrying them is safe: every body this package sends is an
// in-memory buffer the SDK rewinds, and PUT of a part is idempotent. The
// client-side retry quota is off: one bad connection must not make a long
// transfer's later, unrelated requests fail fast.
func newRetryer(maxRetries int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxRetries + 1
		o.RateLimiter = ratelimit.None
		o.Retryables = append(slices.Clone(o.Retryables), retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if isConnDrop(err) {
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		}))
	})
}

func isConnDrop(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED)
}

var sdkRetryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// Name is the bucket's name.
func (b *S3Bucket) Name() string { return b.bucket }

// Client returns the underlying SDK client, for what this package does not
// cover (bucket creation, lifecycle rules).
func (b *S3Bucket) Client() *s3.Client { return b.client }

// Close implements Bucket.
func (b *S3Bucket) Close() error {
	if b.http != nil {
		b.http.CloseIdleConnections()
	}
	return nil
}

// error turns an SDK error into an *Error with its kind. Classification
// uses types (smithy.APIError codes, HTTP status, the SDK's own retry
// rules), never the text of messages.
func (b *S3Bucket) error(op, key string, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err // already classified, e.g. by readRange
	}
	e := &Error{Op: op, Bucket: b.url, Key: key, Err: err}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return e
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	switch {
	case credentialCodes[code]:
		// Before the status: versitygw refuses an unknown key with 404.
		e.Kind = ErrCredentials
	case code == "NoSuchBucket":
		e.Kind = ErrBucketNotExist
	case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
		e.Kind = ErrNotExist
	case code == "AccessDenied" || status == http.StatusForbidden || status == http.StatusUnauthorized:
		e.Kind = ErrPermission
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed:
		e.Kind = ErrObjectChanged
	case code == "InvalidArgument" || code == "InvalidBucketName" || code == "KeyTooLongError" ||
		code == "EntityTooSmall" || code == "EntityTooLarge":
		e.Kind = ErrInvalidArgument
	default:
		e.Retryable = sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary || isConnDrop(err)
	}
	return e
}

// credentialCodes are the S3 error codes of refused credentials, as AWS
// and the S3-compatible servers spell them.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"XAdminUserNotFound":    true, // versitygw: no user has the access key
}

func (b *S3Bucket) invalid(op, key string, err error) error {
	return &Error{Op: op, Bucket: b.url, Key: key, Kind: ErrInvalidKey, Err: err}
}

// Stat implements Bucket.
func (b *S3Bucket) Stat(ctx context.Context, key string) (Attrs, error) {
	if err := checkKey(key); err != nil {
		return Attrs{}, b.invalid("stat", key, err)
	}
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		return Attrs{}, b.headError("stat", key, err)
	}
	return Attrs{
		Size:        aws.ToInt64(out.ContentLength),
		ModTime:     aws.ToTime(out.LastModified),
		ContentType: aws.ToString(out.ContentType),
		ETag:        aws.ToString(out.ETag),
		Metadata:    nilIfEmpty(out.Metadata),
	}, nil
}

// headError classifies a failed HEAD. Its response has no body, so a 404
// cannot say whether the key or the bucket is missing (or, on versitygw,
// the access key unknown), nor a 403 whether the credentials were refused
// or lack a right. A GET of the object's first byte, which needs the same
// permission, gets an error body with the code; when that says more (a
// missing bucket, refused credentials), it is the error returned.
func (b *S3Bucket) headError(op, key string, err error) error {
	e := b.error(op, key, err)
	if !errors.Is(e, ErrNotExist) && !errors.Is(e, ErrPermission) {
		return e
	}
	// Bounded on its own: it must work even when the caller's ctx expired.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, gerr := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key, Range: aws.String("bytes=0-0")})
	if gerr == nil {
		out.Body.Close()
		return e
	}
	if ge := b.error(op, key, gerr); errors.Is(ge, ErrBucketNotExist) || errors.Is(ge, ErrCredentials) {
		return ge
	}
	return e
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// Delete implements Bucket.
func (b *S3Bucket) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return b.invalid("delete", key, err)
	}
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		if e := b.error("delete", key, err); !errors.Is(e, ErrNotExist) {
			return e
		}
	}
	return nil
}

// List implements Bucket with ListObjectsV2, one page per request, fetched
// only when the caller has consumed the previous one.
func (b *S3Bucket) List(ctx context.Context, prefix string, opts *ListOptions) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if err := checkPrefix(prefix); err != nil {
			yield(ObjectInfo{}, b.invalid("list", prefix, err))
			return
		}
		in := &s3.ListObjectsV2Input{Bucket: &b.bucket}
		if prefix != "" {
			in.Prefix = &prefix
		}
		if opts != nil && opts.PageSize > 0 {
			in.MaxKeys = aws.Int32(int32(min(opts.PageSize, 1000)))
		}
		pages := s3.NewListObjectsV2Paginator(b.client, in)
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(ObjectInfo{}, b.error("list", prefix, err))
				return
			}
			for _, o := range page.Contents {
				k := aws.ToString(o.Key)
				if strings.HasSuffix(k, "/") {
					continue // "folder" marker made by consoles, not an object
				}
				info := ObjectInfo{Key: k, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified), ETag: aws.ToString(o.ETag)}
				if !yield(info, nil) {
					return
				}
			}
		}
	}
}

// PresignGet returns a URL from which the object can be fetched over plain
// HTTP(S) without credentials, so a decoder such as FFmpeg can stream it
// without a local copy. ttl <= 0 means 15 minutes; S3 caps it at 7 days
// (and at the lifetime of temporary credentials).
func (b *S3Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", b.invalid("presign", key, err)
	}
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", b.error("presign", key, err)
	}
	return req.URL, nil
}

// Upload is a multipart upload that was started and neither completed
// nor aborted: its parts are stored, and billed, with no object to show.
type Upload struct {
	Key       string
	ID        string
	Initiated time.Time // by the server's clock
}

// Uploads yields the multipart uploads in progress whose keys start with
// prefix, in ascending order of keys, fetching pages lazily as List does.
// On failure it yields one non-nil error and stops.
func (b *S3Bucket) Uploads(ctx context.Context, prefix string) iter.Seq2[Upload, error] {
	return func(yield func(Upload, error) bool) {
		if err := checkPrefix(prefix); err != nil {
			yield(Upload{}, b.invalid("list uploads", prefix, err))
			return
		}
		in := &s3.ListMultipartUploadsInput{Bucket: &b.bucket}
		if prefix != "" {
			in.Prefix = &prefix
		}
		for {
			page, err := b.client.ListMultipartUploads(ctx, in)
			if err != nil {
				yield(Upload{}, b.error("list uploads", prefix, err))
				return
			}
			for _, u := range page.Uploads {
				up := Upload{Key: aws.ToString(u.Key), ID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)}
				if !yield(up, nil) {
					return
				}
			}
			if !aws.ToBool(page.IsTruncated) {
				return
			}
			in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
		}
	}
}

// AbortUpload aborts the multipart upload id of key; one already gone is
// no error. A failure is an *Error with Op "abort" naming the upload.
func (b *S3Bucket) AbortUpload(ctx context.Context, key, id string) error {
	_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &b.bucket, Key: &key, UploadId: &id,
	})
	if err == nil {
		return nil
	}
	e := b.error("abort", key, err)
	if errors.Is(e, ErrNotExist) {
		return nil
	}
	if se, ok := e.(*Error); ok {
		se.Upload = id
	}
	return e
}

// rangeBody is one GET response body with a stall watchdog: each read that
// delivers bytes pushes the deadline back; if none arrive in time the
// request's context is cancelled, the read fails, and the caller resumes.
type rangeBody struct {
	body   io.ReadCloser
	timer  *time.Timer
	stall  time.Duration
	cancel context.CancelFunc
}

func (r *rangeBody) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if n > 0 {
		r.timer.Reset(r.stall)
	}
	return n, err
}

func (r *rangeBody) Close() error {
	r.timer.Stop()
	err := r.body.Close()
	r.cancel()
	return err
}

// get sends one GET for bytes [start, end]. With a non-empty etag it sets
// If-Match, so a replaced object fails with 412 instead of splicing two
// versions together. The watchdog runs from the start, so a server that
// accepts the connection and then says nothing is caught too.
func (b *S3Bucket) get(ctx context.Context, key, etag string, start, end int64) (*s3.GetObjectOutput, *rangeBody, error) {
	rctx, cancel := context.WithCancel(ctx)
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=%d-%d", start, end))}
	if etag != "" {
		in.IfMatch = &etag
	}
	timer := time.AfterFunc(b.cfg.StallTimeout, cancel)
	out, err := b.client.GetObject(rctx, in)
	if err != nil {
		timer.Stop()
		cancel()
		return nil, nil, err
	}
	return out, &rangeBody{body: out.Body, timer: timer, stall: b.cfg.StallTimeout, cancel: cancel}, nil
}

// readRange fills buf with the object's bytes from off, resuming after a
// dropped connection from the first byte not yet received. body, when not
// nil, is an already open response positioned at off. Failures that made
// no progress are retried MaxRetries times with backoff.
func (b *S3Bucket) readRange(ctx context.Context, key, etag string, off int64, buf []byte, body io.ReadCloser) (int, error) {
	n, fails := 0, 0
	for n < len(buf) {
		m := 0
		var err error
		if body == nil {
			var rb *rangeBody
			_, rb, err = b.get(ctx, key, etag, off+int64(n), off+int64(len(buf))-1)
			if err != nil && (ctx.Err() != nil || !errors.Is(err, context.Canceled)) {
				// The SDK has already retried what was worth retrying;
				// only our own watchdog's cancellation is left to us.
				return n, b.error("read", key, err)
			}
			if rb != nil {
				body = rb
			}
		}
		if body != nil {
			m, err = io.ReadFull(body, buf[n:])
			body.Close()
			body = nil
			n += m
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return n, b.error("read", key, ctx.Err())
		}
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("no data for %v: %w", b.cfg.StallTimeout, err)
		}
		if m > 0 {
			fails = 0
		}
		fails++
		if fails > b.cfg.MaxRetries {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, &Error{Op: "read", Bucket: b.url, Key: key, Retryable: true,
				Err: fmt.Errorf("body cut short at byte %d, %d attempts: %w", off+int64(n), fails, err)}
		}
		if err := sleep(ctx, backoff(fails)); err != nil {
			return n, b.error("read", key, err)
		}
	}
	return n, nil
}

// backoff is exponential, from 100 ms up to 5 s, with jitter in its upper
// half so that readers cut at the same moment do not retry in lockstep.
func backoff(attempt int) time.Duration {
	d := min(100*time.Millisecond<<min(attempt-1, 6), 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Open implements Bucket. The first request is a ranged GET for the first
// chunk rather than a HEAD: it returns the attributes as well, so the
// object's first bytes cost no extra round trip, and unlike HEAD its error
// body tells a missing key from a missing bucket.
func (b *S3Bucket) Open(ctx context.Context, key string) (Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, b.invalid("open", key, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	first := b.firstChunk()
	out, body, err := b.get(rctx, key, "", 0, first-1)
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable {
			// S3 answers a range on an empty object with 416.
			attrs, serr := b.Stat(ctx, key)
			if serr == nil && attrs.Size == 0 {
				return &s3Reader{ctx: rctx, cancel: cancel, b: b, key: key, attrs: attrs}, nil
			}
		}
		cancel()
		return nil, b.error("open", key, err)
	}
	attrs := Attrs{
		ModTime:     aws.ToTime(out.LastModified),
		ContentType: aws.ToString(out.ContentType),
		ETag:        aws.ToString(out.ETag),
		Metadata:    nilIfEmpty(out.Metadata),
	}
	total, ok := parseContentRange(aws.ToString(out.ContentRange))
	if !ok {
		// The server ignored Range and sent the whole object.
		total = aws.ToInt64(out.ContentLength)
	}
	attrs.Size = total
	r := &s3Reader{ctx: rctx, cancel: cancel, b: b, key: key, attrs: attrs, nextSize: first}
	r.start(0, min(first, total), body)
	return r, nil
}

func (b *S3Bucket) firstChunk() int64 { return min(firstChunkSize, b.cfg.ChunkSize) }

// parseContentRange reads the total size from "bytes 0-99/1234".
func parseContentRange(s string) (int64, bool) {
	_, total, ok := strings.Cut(s, "/")
	if !ok || total == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

// s3Reader reads through a queue of chunks fetched by goroutines. The
// queue holds the chunk being read plus up to ReadAhead more; chunk sizes
// start at 1 MiB after Open or a seek and double up to ChunkSize, so a
// demuxer's small reads at scattered offsets stay cheap while a sequential
// read quickly reaches full-size requests.
type s3Reader struct {
	ctx    context.Context
	cancel context.CancelFunc
	b      *S3Bucket
	key    string
	attrs  Attrs

	pos        int64    // offset of the next byte Read returns
	queue      []*chunk // consecutive chunks; queue[0] is read first
	nextSize   int64    // size of the next chunk to schedule
	sequential bool     // a chunk was read to its end since the last seek
	err        error    // sticky failure
	closed     bool
	wg         sync.WaitGroup
}

type chunk struct {
	off    int64
	buf    []byte
	done   chan struct{} // closed when n and err are set
	n      int
	err    error
	cancel context.CancelFunc
}

func (c *chunk) end() int64 { return c.off + int64(len(c.buf)) }

// start schedules a fetch of [off, off+size); body, if given, is an open
// response positioned at off.
func (r *s3Reader) start(off, size int64, body io.ReadCloser) {
	var buf []byte
	if size == r.b.cfg.ChunkSize {
		buf = r.b.chunks.get()[:size]
	} else {
		buf = make([]byte, size)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	c := &chunk{off: off, buf: buf, done: make(chan struct{}), cancel: cancel}
	r.queue = append(r.queue, c)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(c.done)
		c.n, c.err = r.b.readRange(ctx, r.key, r.attrs.ETag, off, buf, body)
	}()
}

// fill tops the queue up to 1+ReadAhead chunks, doubling chunk sizes.
func (r *s3Reader) fill() {
	for len(r.queue) < 1+r.b.cfg.ReadAhead {
		if !r.sequential && len(r.queue) > 0 {
			return // no read-ahead until the reader shows it reads on
		}
		next := r.pos
		if n := len(r.queue); n > 0 {
			next = r.queue[n-1].end()
		}
		if next >= r.attrs.Size {
			return
		}
		size := min(r.nextSize, r.attrs.Size-next)
		r.nextSize = min(r.nextSize*2, r.b.cfg.ChunkSize)
		r.start(next, size, nil)
	}
}

// drop discards queued chunks. Their goroutines are cancelled but not
// awaited, so their buffers are left to the garbage collector rather than
// reused while a goroutine might still write to them.
func (r *s3Reader) drop(n int) {
	for _, c := range r.queue[:n] {
		c.cancel()
	}
	r.queue = slices.Delete(r.queue, 0, n)
}

// current returns the fetched chunk holding pos, waiting for it if need
// be. It returns io.EOF at the end, and the Reader's sticky error.
func (r *s3Reader) current() (*chunk, error) {
	if r.closed {
		return nil, &Error{Op: "read", Bucket: r.b.url, Key: r.key, Err: errors.New("reader closed")}
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.pos >= r.attrs.Size {
		return nil, io.EOF
	}
	// Discard the chunks before pos; after a seek elsewhere, start afresh
	// with a small chunk.
	i := slices.IndexFunc(r.queue, func(c *chunk) bool { return c.off <= r.pos && r.pos < c.end() })
	if i < 0 {
		r.drop(len(r.queue))
		r.sequential = false
		r.nextSize = r.b.firstChunk()
		r.fill()
	} else if i > 0 {
		r.drop(i)
	}
	c := r.queue[0]
	select {
	case <-c.done:
	case <-r.ctx.Done():
		r.err = r.b.error("read", r.key, r.ctx.Err())
		return nil, r.err
	}
	if c.err != nil {
		r.err = c.err
		return nil, r.err
	}
	return c, nil
}

// advance moves pos past n bytes of c, recycling c once it is used up and
// scheduling read-ahead.
func (r *s3Reader) advance(c *chunk, n int) {
	r.pos += int64(n)
	if r.pos == c.end() {
		r.queue = r.queue[1:]
		c.cancel()
		r.b.chunks.put(c.buf)
		r.sequential = true
	}
	r.fill()
}

func (r *s3Reader) Read(p []byte) (int, error) {
	c, err := r.current()
	if err != nil || len(p) == 0 {
		return 0, err
	}
	n := copy(p, c.buf[r.pos-c.off:])
	r.advance(c, n)
	return n, nil
}

// WriteTo lets io.Copy take bytes straight from the chunk buffers, saving
// a copy per byte.
func (r *s3Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		c, err := r.current()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, err := w.Write(c.buf[r.pos-c.off:])
		total += int64(n)
		r.advance(c, n)
		if err != nil {
			return total, err
		}
	}
}

func (r *s3Reader) Seek(offset int64, whence int) (int64, error) {
	if r.closed {
		return 0, &Error{Op: "seek", Bucket: r.b.url, Key: r.key, Err: errors.New("reader closed")}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.attrs.Size
	default:
		return r.pos, &Error{Op: "seek", Bucket: r.b.url, Key: r.key, Kind: ErrInvalidArgument, Err: fmt.Errorf("whence %d", whence)}
	}
	if offset < 0 {
		return r.pos, &Error{Op: "seek", Bucket: r.b.url, Key: r.key, Kind: ErrInvalidArgument, Err: errors.New("negative offset")}
	}
	r.pos = offset // chunks are reconciled lazily by the next Read
	return offset, nil
}

// ReadAt fetches exactly the requested range, straight into p, without
// touching the read-ahead queue: random access by a demuxer should not
// throw away the sequential reader's prefetched chunks.
func (r *s3Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &Error{Op: "read", Bucket: r.b.url, Key: r.key, Kind: ErrInvalidArgument, Err: errors.New("negative offset")}
	}
	if off >= r.attrs.Size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.attrs.Size-off)
	n, err := r.b.readRange(r.ctx, r.key, r.attrs.ETag, off, p[:want], nil)
	if err == nil && int64(len(p)) > want {
		err = io.EOF
	}
	return n, err
}

func (r *s3Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.wg.Wait() // no goroutine outlives the Reader
	for _, c := range r.queue {
		r.b.chunks.put(c.buf)
	}
	r.queue = nil
	return nil
}

func (r *s3Reader) Size() int64  { return r.attrs.Size }
func (r *s3Reader) Attrs() Attrs { return r.attrs }

// Create implements Bucket. Nothing is sent until a part's worth of data
// has been written: an object that fits in one part is sent by a single
// PutObject at Close, and a larger one by a multipart upload whose
// CompleteMultipartUpload, sent at Close, is the moment it appears.
func (b *S3Bucket) Create(ctx context.Context, key string, opts *WriteOptions) (Writer, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	if err := checkKey(key); err != nil {
		return nil, b.invalid("create", key, err)
	}
	md, err := checkMetadata(opts.Metadata)
	if err != nil {
		return nil, &Error{Op: "create", Bucket: b.url, Key: key, Kind: ErrInvalidArgument, Err: err}
	}
	partSize, conc := b.cfg.PartSize, b.cfg.Concurrency
	if opts.PartSize != 0 {
		partSize = opts.PartSize
	}
	if opts.Concurrency > 0 {
		conc = opts.Concurrency
	}
	if partSize < MinPartSize {
		return nil, &Error{Op: "create", Bucket: b.url, Key: key, Kind: ErrInvalidArgument,
			Err: fmt.Errorf("part size %d is below the S3 minimum %d", partSize, MinPartSize)}
	}
	if err := ctx.Err(); err != nil {
		return nil, b.error("create", key, err)
	}
	pool := b.parts
	if partSize != b.cfg.PartSize {
		pool = newBufPool(partSize)
	}
	gctx, cancel := context.WithCancel(ctx)
	return &s3Writer{
		ctx: ctx, gctx: gctx, cancel: cancel, b: b, key: key,
		contentType: contentTypeFor(key, opts.ContentType), metadata: md,
		partSize: partSize, sem: make(chan struct{}, conc), pool: pool,
	}, nil
}

// s3Writer buffers one part at a time. Full parts are uploaded by
// goroutines, at most Concurrency at once; Write blocks while they are all
// busy, which bounds memory to (Concurrency+1)×PartSize.
type s3Writer struct {
	ctx         context.Context // the caller's
	gctx        context.Context // for uploads; cancelled on the first failure
	cancel      context.CancelFunc
	b           *S3Bucket
	key         string
	contentType string
	metadata    map[string]string
	partSize    int64
	sem         chan struct{}

	buf      []byte // the part being filled
	pool     *bufPool
	uploadID *string
	nparts   int32
	size     int64
	wg       sync.WaitGroup
	state    writerState
	etag     string // of the object Close made

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // first failure
	// cut: a part request failed or was cancelled after it started, so the
	// server may still store that part after an abort (see cleanup).
	cut bool
}

func (w *s3Writer) fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
		w.cancel()
	}
	return w.err
}

func (w *s3Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *s3Writer) stateErr(op string) error {
	if w.state == aborted {
		return &Error{Op: op, Bucket: w.b.url, Key: w.key, Kind: ErrAborted}
	}
	return &Error{Op: op, Bucket: w.b.url, Key: w.key, Err: errors.New("writer already closed")}
}

func (w *s3Writer) Write(p []byte) (int, error) {
	if w.state != writing {
		return 0, w.stateErr("write")
	}
	n := 0
	for len(p) > 0 {
		if err := w.failed(); err != nil {
			return n, err
		}
		if err := w.ctx.Err(); err != nil {
			return n, w.fail(w.b.error("write", w.key, err))
		}
		// A full part is sent only once more data arrives, so an object of
		// exactly one part still goes out as a single PutObject.
		if int64(len(w.buf)) == w.partSize {
			if err := w.flush(); err != nil {
				return n, err
			}
		}
		k := min(int64(len(p)), w.partSize-int64(len(w.buf)))
		// The first buffer grows by append, so small objects never cost a
		// whole part; past growLimit it moves to a full-size buffer, as
		// later parts use, rather than doubling its way up.
		if w.buf == nil && w.uploadID != nil {
			w.buf = w.pool.get()
		} else if int64(len(w.buf))+k > int64(cap(w.buf)) && cap(w.buf) >= growLimit && int64(cap(w.buf)) < w.partSize {
			w.buf = append(w.pool.get(), w.buf...)
		}
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		n += int(k)
		w.size += k
	}
	return n, nil
}

// flush hands the current buffer to an upload goroutine, starting the
// multipart upload first if this is the first part.
func (w *s3Writer) flush() error {
	if w.uploadID == nil {
		// Not cancelled with the caller: a cancel that lands after the
		// server created the upload but before its reply would lose the
		// ID, and with it the abort, leaving the upload behind.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(w.gctx), time.Minute)
		out, err := w.b.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: &w.b.bucket, Key: &w.key, ContentType: &w.contentType, Metadata: w.metadata,
		})
		cancel()
		if err != nil {
			return w.fail(w.b.error("write", w.key, err))
		}
		w.uploadID = out.UploadId
		if err := w.gctx.Err(); err != nil {
			if ferr := w.failed(); ferr != nil {
				return ferr
			}
			return w.fail(w.b.error("write", w.key, w.ctx.Err()))
		}
	}
	if w.nparts == maxParts {
		return w.fail(&Error{Op: "write", Bucket: w.b.url, Key: w.key, Kind: ErrInvalidArgument,
			Err: fmt.Errorf("object exceeds %d parts of %d bytes; use a larger part size", maxParts, w.partSize)})
	}
	select {
	case w.sem <- struct{}{}:
	case <-w.gctx.Done():
		if err := w.failed(); err != nil {
			return err
		}
		return w.fail(w.b.error("write", w.key, w.ctx.Err()))
	}
	w.nparts++
	num, buf := w.nparts, w.buf
	w.buf = nil
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		sum := md5.Sum(buf)
		out, err := w.b.client.UploadPart(w.gctx, &s3.UploadPartInput{
			Bucket: &w.b.bucket, Key: &w.key, UploadId: w.uploadID, PartNumber: &num,
			Body: bytes.NewReader(buf), ContentLength: aws.Int64(int64(len(buf))),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		})
		if err != nil {
			w.mu.Lock()
			w.cut = true
			w.mu.Unlock()
			w.fail(w.b.error("write", w.key, fmt.Errorf("part %d: %w", num, err)))
			return
		}
		w.mu.Lock()
		w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: &num})
		w.mu.Unlock()
		// Only after success: on failure net/http may still be reading
		// the body in its own goroutine.
		w.pool.put(buf)
	}()
	return nil
}

func (w *s3Writer) Close() error {
	if w.state != writing {
		return w.stateErr("close")
	}
	w.state = closed
	defer w.cancel()
	if err := w.ctx.Err(); err != nil {
		w.fail(w.b.error("close", w.key, err))
	}
	if err := w.failed(); err != nil {
		return w.failClose(err)
	}
	if w.uploadID == nil {
		return w.putObject()
	}
	if len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			return w.failClose(err)
		}
	}
	w.wg.Wait()
	if err := w.failed(); err != nil {
		return w.failClose(err)
	}
	if err := w.ctx.Err(); err != nil {
		return w.failClose(w.b.error("close", w.key, err))
	}
	slices.SortFunc(w.parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	out, err := w.b.client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &w.b.bucket, Key: &w.key, UploadId: w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		return w.failClose(w.b.error("close", w.key, err))
	}
	w.etag = aws.ToString(out.ETag)
	return nil
}

// ETag is the ETag of the object a successful Close made, as the server
// spells it; empty before.
func (w *s3Writer) ETag() string { return w.etag }

func (w *s3Writer) putObject() error {
	sum := md5.Sum(w.buf)
	out, err := w.b.client.PutObject(w.ctx, &s3.PutObjectInput{
		Bucket: &w.b.bucket, Key: &w.key, Body: bytes.NewReader(w.buf),
		ContentLength: aws.Int64(int64(len(w.buf))),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		ContentType:   &w.contentType, Metadata: w.metadata,
	})
	if err != nil {
		w.buf = nil
		return w.b.error("close", w.key, err)
	}
	w.etag = aws.ToString(out.ETag)
	w.pool.put(w.buf)
	w.buf = nil
	return nil
}

// cleanup stops the uploads and aborts the multipart upload, so its parts
// neither become an object nor linger as billed storage. It runs even when
// the caller's ctx is cancelled, which is when it matters most.
func (w *s3Writer) cleanup() error {
	w.cancel()
	w.wg.Wait()
	w.buf = nil
	if w.uploadID == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), time.Minute)
	defer cancel()
	err := w.abortUpload(ctx)
	// A part whose request was cut after its body went out may still be
	// stored by the server after the abort, bringing the upload back (S3's
	// documentation says as much; versitygw does it). Such a part lands
	// within moments, so abort again a little later.
	w.mu.Lock()
	cut := w.cut
	w.mu.Unlock()
	for _, wait := range abortRetries {
		if err != nil || !cut {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		err = w.abortUpload(ctx)
	}
	w.uploadID = nil
	return err
}

// abortRetries are the pauses before the extra aborts cleanup sends after
// interrupted part uploads.
var abortRetries = []time.Duration{50 * time.Millisecond, 250 * time.Millisecond}

// abortUpload aborts the writer's multipart upload.
func (w *s3Writer) abortUpload(ctx context.Context) error {
	return w.b.AbortUpload(ctx, w.key, aws.ToString(w.uploadID))
}

// failClose aborts the upload and returns err, wrapping in it the abort's
// failure if there is one (see AbortFailure): the parts then linger until
// something aborts the upload.
func (w *s3Writer) failClose(err error) error {
	aerr := w.cleanup()
	if aerr == nil {
		return err
	}
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%w; also failed to abort the multipart upload: %w", err, aerr)
	}
	if e.Err == nil {
		e.Err = fmt.Errorf("failed to abort the multipart upload too: %w", aerr)
	} else {
		e.Err = fmt.Errorf("%w; also failed to abort the multipart upload: %w", e.Err, aerr)
	}
	return err
}

// Abort implements Writer. When the multipart upload cannot be aborted
// (the server is unreachable), the error names it (Error.Upload): it stays
// pending, its parts stored, until something aborts it.
func (w *s3Writer) Abort() error {
	if w.state != writing {
		return nil
	}
	w.state = aborted
	w.fail(&Error{Op: "write", Bucket: w.b.url, Key: w.key, Kind: ErrAborted})
	return w.cleanup()
}
