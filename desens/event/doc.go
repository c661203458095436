// Package event turns bucket event notifications into desensitized
// objects: each new object in a source bucket is run through a
// desens.Desensitizer into its destination, once.
//
// # Events
//
// Parse and ParseRequest read the notifications that object stores send
// when an object lands:
//
//   - AWS S3 event notifications: a "Records" batch whose keys are
//     URL-encoded ('+' for a space), as S3 sends them to Lambda, SQS or
//     SNS; the SQS and SNS envelopes around them are opened too. MinIO and
//     other S3-compatible servers send the same shape.
//   - Tencent COS trigger events (SCF): "Records" with cos.cosBucket and
//     cos.cosObject, the key spelt /appid/bucket/key.
//   - Amazon EventBridge events for S3 ("detail-type": "Object Created").
//   - CloudEvents 1.0 over HTTP, structured (application/cloudevents+json,
//     and batches) or binary (ce-* headers), whose data is one of the
//     above or an S3-shaped object ({"bucket":{"name"},"object":{"key"}}).
//
// Each gives a list of Object references. Keys of S3 notifications are
// decoded; EventBridge and S3-shaped CloudEvent keys are taken as they
// come, and the Handler tries them decoded only when they name nothing. An event that is not JSON, or
// lacks what its kind must carry, is ErrMalformed; well-formed JSON that
// is no known kind of event is ErrUnknown.
//
// # Routing
//
// A Handler maps each object by bucket and key prefix (Mapping, written
// "s3://raw/=s3://clean/") to a destination and desensitizes it there.
// It is idempotent: an object whose destination already records the
// source's ETag (desens.MetaSourceETag) is skipped. It does not loop: an
// object that desens wrote (it carries desens.MetaVersion or
// desens.MetaSource) or that lies under a destination is ignored, so a
// source and a destination may share a bucket.
//
// # Service
//
// Server is an http.Handler for POST /events, GET /healthz, /readyz and
// /metrics, with a concurrency limit (429 when full) and a body size limit
// (413); package event/kafka reads events from Kafka. Both share one
// Handler, and so one Desensitizer and one set of loaded models, for the
// whole process; ShareBuckets lets them share each bucket's client too.
package event
