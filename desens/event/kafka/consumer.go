package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/desens/desens/desens/event"
)

// Handler desensitizes the objects of an event; *event.Handler is one.
type Handler interface {
	Handle(ctx context.Context, objs []event.Object) event.Result
}

// Options configure a Consumer.
type Options struct {
	Brokers []string // host:port of at least one broker
	Topic   string   // the topic of bucket events
	Group   string   // the consumer group; "" means DefaultGroup
	// RetryDelay is how long after a record was copied to the retry topic
	// it is tried again.
	RetryDelay time.Duration
	Log        *slog.Logger // may be nil
	// Client adds options to the Kafka client (TLS, SASL).
	Client []kgo.Opt
}

// Defaults for the CLI's flags; DefaultGroup is also the group when
// Options.Group is empty.
const (
	DefaultGroup = "desens"
	// DefaultRetryDelay stays under Kafka's default rebalance timeout
	// (one minute): a rebalance waits while a retry record waits.
	DefaultRetryDelay = 30 * time.Second
)

// Headers added to the records copied to the retry and dead-letter topics.
const (
	HeaderReason = "desens-reason"
	HeaderFrom   = "desens-topic"
)

// Consumer reads events from Kafka and hands them to a Handler.
type Consumer struct {
	cl    *kgo.Client
	h     Handler
	opts  Options
	retry string
	dlq   string
	// commit commits a record's offset; a test makes it fail, as a process
	// dying before the commit would.
	commit func(ctx context.Context, r *kgo.Record) error
}

// New connects a Consumer. Close it when done.
func New(h Handler, opts Options) (*Consumer, error) {
	if len(opts.Brokers) == 0 || opts.Topic == "" {
		return nil, errors.New("kafka: brokers and a topic are needed")
	}
	if opts.Group == "" {
		opts.Group = DefaultGroup
	}
	c := &Consumer{h: h, opts: opts, retry: opts.Topic + ".retry", dlq: opts.Topic + ".dlq"}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(opts.Brokers...),
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(opts.Topic, c.retry),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AllowAutoTopicCreation(),
	}, opts.Client...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	c.cl = cl
	c.commit = func(ctx context.Context, r *kgo.Record) error { return cl.CommitRecords(ctx, r) }
	return c, nil
}

// Close leaves the group and closes the connections.
func (c *Consumer) Close() { c.cl.CloseAllowingRebalance() }

// Run handles records one at a time until ctx is done, and then returns
// nil once the record in hand is finished and committed. It returns an
// error when a record could be neither committed nor parked: that record
// is read again by whoever consumes the partition next.
func (c *Consumer) Run(ctx context.Context) error {
	// The record in hand finishes even when ctx is cancelled: its work
	// and commit use work.
	work := context.WithoutCancel(ctx)
	for {
		fs := c.cl.PollRecords(ctx, 1)
		if ctx.Err() != nil {
			c.cl.AllowRebalance()
			return nil
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, kgo.ErrClientClosed) {
				return nil
			}
			c.logf(slog.LevelWarn, "fetch failed", "topic", fe.Topic, "partition", fe.Partition, "error", fe.Err)
		}
		for _, r := range fs.Records() {
			if err := c.handle(ctx, work, r); err != nil {
				c.cl.AllowRebalance()
				return err
			}
		}
		c.cl.AllowRebalance()
	}
}

func (c *Consumer) handle(ctx, work context.Context, r *kgo.Record) error {
	from := r.Topic + "/" + strconv.Itoa(int(r.Partition)) + "/" + strconv.FormatInt(r.Offset, 10)
	objs, err := event.Parse(r.Value)
	var park, reason string
	switch {
	case err != nil:
		park, reason = c.dlq, err.Error()
	default:
		if r.Topic == c.retry {
			select {
			case <-time.After(time.Until(r.Timestamp.Add(c.opts.RetryDelay))):
			case <-ctx.Done():
				return nil // not committed: read again after a restart
			}
		}
		res := c.h.Handle(work, objs)
		c.logf(slog.LevelInfo, "event", "from", from, "done", res.Done, "skipped", res.Skipped,
			"ignored", res.Ignored, "failed", res.Failed)
		if res.Failed > 0 {
			park, reason = c.retry, res.Err().Error()
			if r.Topic == c.retry {
				park = c.dlq
			}
		}
	}
	if park != "" {
		c.logf(slog.LevelWarn, "event parked", "from", from, "to", park, "reason", reason)
		cp := &kgo.Record{Topic: park, Key: r.Key, Value: r.Value,
			Headers: append(withoutOurs(r.Headers), kgo.RecordHeader{Key: HeaderReason, Value: []byte(reason)},
				kgo.RecordHeader{Key: HeaderFrom, Value: []byte(from)})}
		if err := c.cl.ProduceSync(work, cp).FirstErr(); err != nil {
			return fmt.Errorf("kafka: %s: copying to %s: %w", from, park, err)
		}
	}
	if err := c.commit(work, r); err != nil {
		return fmt.Errorf("kafka: %s: commit: %w", from, err)
	}
	return nil
}

// withoutOurs drops the headers an earlier failure added, so a record
// carries one reason: the latest.
func withoutOurs(hs []kgo.RecordHeader) []kgo.RecordHeader {
	var out []kgo.RecordHeader
	for _, h := range hs {
		if h.Key != HeaderReason && h.Key != HeaderFrom {
			out = append(out, h)
		}
	}
	return out
}

func (c *Consumer) logf(level slog.Level, msg string, args ...any) {
	if c.opts.Log != nil {
		c.opts.Log.Log(context.Background(), level, msg, args...)
	}
}
