package event

import (
	"fmt"
	"strings"
)

// cosEntity is the "cos" part of a COS trigger event record.
type cosEntity struct {
	Bucket struct {
		Name  string `json:"name"`
		AppID string `json:"appid"`
	} `json:"cosBucket"`
	Object struct {
		Key  string            `json:"key"`
		Size int64             `json:"size"`
		Meta map[string]string `json:"meta"`
	} `json:"cosObject"`
}

// cosEvent is the "event" part of a COS trigger event record.
type cosEvent struct {
	EventName string `json:"eventName"`
}

// cosObject reads a COS record. COS names a bucket "name" with an "appid"
// beside it, while URLs (and the S3 API) join them as name-appid; its key
// is spelt /appid/name/key.
func (r record) cosObject() ([]Object, error) {
	c := r.COS
	if c.Bucket.Name == "" {
		return nil, fmt.Errorf("%w: cos.cosBucket.name is missing", ErrMalformed)
	}
	if r.Event == nil || r.Event.EventName == "" {
		return nil, fmt.Errorf("%w: event.eventName is missing", ErrMalformed)
	}
	short, bucket := c.Bucket.Name, c.Bucket.Name
	if id := c.Bucket.AppID; id != "" {
		short = strings.TrimSuffix(short, "-"+id)
		bucket = short + "-" + id
	}
	key := c.Object.Key
	for _, p := range []string{"/" + c.Bucket.AppID + "/" + short + "/", "/" + bucket + "/"} {
		if k, ok := strings.CutPrefix(key, p); ok {
			key = k
			break
		}
	}
	key = strings.TrimPrefix(key, "/")
	if key == "" {
		return nil, fmt.Errorf("%w: cos.cosObject.key %q names no object", ErrMalformed, c.Object.Key)
	}
	var etag string
	for k, v := range c.Object.Meta {
		if strings.EqualFold(k, "etag") {
			etag = v
		}
	}
	return []Object{{Bucket: bucket, Key: key, ETag: etag, Size: c.Object.Size,
		Event: r.Event.EventName, Created: isCreated(r.Event.EventName)}}, nil
}
