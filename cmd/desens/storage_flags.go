package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens/storage"
)

// storageFlags configure the buckets that s3:// and cos:// URLs name.
// Credentials have no flags, so that secrets never appear in a process
// list: they come from the AWS chain (see bucketsHelp).
func storageFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "s3-endpoint", EnvVars: []string{"DESENS_S3_ENDPOINT"},
			Usage: "S3 service URL, e.g. http://10.0.0.5:9000 (default: the provider's, else $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL, else AWS)"},
		&cli.StringFlag{Name: "s3-region", EnvVars: []string{"DESENS_S3_REGION"},
			Usage: "region (default: $AWS_REGION, else the profile's, else the provider's; COS needs one, e.g. ap-guangzhou)"},
		&cli.BoolFlag{Name: "s3-path-style", EnvVars: []string{"DESENS_S3_PATH_STYLE"},
			Usage: "path-style addressing (http://host/bucket/key), which self-hosted servers need"},
		&cli.StringFlag{Name: "s3-provider", Value: "aws", EnvVars: []string{"DESENS_S3_PROVIDER"},
			Usage: "the service's quirks: " + strings.Join(storage.ProviderNames(), ", ") + " (cos:// URLs always use cos)"},
		&cli.StringFlag{Name: "s3-profile",
			Usage: "profile of the shared AWS config and credentials files (default: $AWS_PROFILE)"},
		&cli.IntFlag{Name: "s3-part-size", Value: storage.DefaultPartSize >> 20,
			Usage: "upload part size in MiB, at least 5; objects up to 10000 parts"},
		&cli.IntFlag{Name: "s3-concurrency", Value: storage.DefaultConcurrency,
			Usage: "parts uploaded at once per output; an output holds about (concurrency+1) x part size of memory"},
	}
}

// bucketsHelp is the part of the run help about buckets.
const bucketsHelp = `BUCKETS:
   INPUT and OUTPUT may be s3://bucket/key, cos://bucket-appid/key or
   file:///path as well as plain paths; a URL ending in '/' is a key prefix
   ("folder"). Videos stream from and to buckets without a local copy;
   an output object appears only when complete, with user metadata
   desens-source, desens-source-etag and desens-version. An output inside
   the input prefix of the same bucket is refused.

   Credentials come from the AWS chain: $AWS_ACCESS_KEY_ID,
   $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN, else the shared files
   (~/.aws/credentials and ~/.aws/config, $AWS_PROFILE or --s3-profile),
   web identity, SSO, or the instance role. For COS, use the SecretId and
   SecretKey as the access key ID and secret. Other variables the SDK
   reads: $AWS_REGION, $AWS_ENDPOINT_URL_S3, $AWS_CA_BUNDLE.`

// storageFrom builds the scheme registry for run: plain paths and file://,
// s3:// and cos://, all sharing the flags' settings.
func storageFrom(c *cli.Context) (*storage.Mux, error) {
	cfg := storage.S3Config{
		Endpoint:    c.String("s3-endpoint"),
		Region:      c.String("s3-region"),
		PathStyle:   c.Bool("s3-path-style"),
		Provider:    c.String("s3-provider"),
		Profile:     c.String("s3-profile"),
		PartSize:    int64(c.Int("s3-part-size")) << 20,
		Concurrency: c.Int("s3-concurrency"),
	}
	if _, ok := storage.LookupProvider(cfg.Provider); !ok {
		return nil, usagef(fmt.Sprintf("--s3-provider %q: want one of %s", cfg.Provider, strings.Join(storage.ProviderNames(), ", ")))
	}
	if cfg.PartSize < storage.MinPartSize {
		return nil, usagef(fmt.Sprintf("--s3-part-size %d: S3 parts are at least 5 MiB", c.Int("s3-part-size")))
	}
	if cfg.Concurrency < 1 {
		return nil, usagef(fmt.Sprintf("--s3-concurrency %d: want 1 or more", cfg.Concurrency))
	}
	return storage.NewMux(cfg), nil
}

// startError words an error that stopped a run before it started as one
// line a person can act on. A storage error's SDK cause ("operation error
// S3: HeadObject, https response error StatusCode: 403, RequestID: …,
// HostID: …, api error Forbidden: Forbidden") is cut down to its API error
// code and message, and refused credentials get a hint on where they come
// from. The error chain is kept for errors.Is and exit codes.
func startError(err error) error {
	msg := err.Error()
	var se *storage.Error
	var ae smithy.APIError
	if errors.As(err, &se) && se.Err != nil && errors.As(se.Err, &ae) {
		short := ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" && m != short {
			short += ": " + m
		}
		msg = strings.Replace(msg, strings.Join(strings.Fields(se.Err.Error()), " "), short, 1)
	}
	if errors.Is(err, storage.ErrPermission) {
		msg += " (check the credentials: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, $AWS_PROFILE or --s3-profile)"
	}
	if msg == err.Error() {
		return err
	}
	return lineError{msg: msg, err: err}
}

// lineError replaces an error's text, keeping the error for errors.Is.
type lineError struct {
	msg string
	err error
}

func (e lineError) Error() string { return e.msg }
func (e lineError) Unwrap() error { return e.err }
