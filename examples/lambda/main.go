// Command lambda is an AWS Lambda function that desensitizes each object
// an S3 notification (direct, or through SQS or SNS) reports, into the
// destination $DESENS_MAP names, e.g. s3://sensitive/=s3://desensitized/.
// The models load once per warm instance.
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/desens/event"
	"github.com/desens/desens/desens/storage"
)

func main() {
	m, err := event.ParseMapping(os.Getenv("DESENS_MAP"))
	if err != nil {
		log.Fatal(err)
	}
	buckets, _ := event.ShareBuckets(storage.NewMux(storage.S3Config{})) // one client per bucket, for every event
	d, err := desens.New(desens.Options{Storage: buckets, Overwrite: true})
	if err != nil {
		log.Fatal(err)
	}
	h, err := event.NewHandler(d, buckets, m)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (event.Result, error) {
		objs, err := event.Parse(raw)
		if err != nil {
			return event.Result{}, err // kept by the function's on-failure destination
		}
		res := h.Handle(ctx, objs)
		return res, res.Err() // an error makes Lambda retry, then use the on-failure destination
	})
}
