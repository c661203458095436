package main

import (
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens/event/kafka"
)

func consumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "consume",
		Usage: "desensitize the objects that bucket events on a Kafka topic report",
		Description: `Reads bucket events (the kinds desens handle reads, one per record) from
--topic in consumer group --group, loads the models once, and desensitizes
each event's objects into their --map destinations, one record at a time.
A record's offset is committed only after its objects are done, skipped or
ignored, or after the record is copied on:

   TOPIC.retry  a record whose object failed; tried again --retry-delay
                after it was copied there
   TOPIC.dlq    a record that failed again from TOPIC.retry, or that is no
                event at all (malformed or of an unknown kind)

The copies carry the headers desens-reason (why) and desens-topic (the
topic/partition/offset it was read at). Delivery is at least once: after a
crash between an output and its commit, the record is read again and its
objects are skipped, their outputs recording the source's ETag already.
SIGTERM or SIGINT stops it after the record in hand is finished and
committed.

EXAMPLES:
   1. MinIO or S3 (through a bridge) notifications on a Kafka topic:
        desens consume --brokers kafka-1:9092,kafka-2:9092 --topic uploads \
          --map s3://sensitive/=s3://desensitized/
   2. A COS bucket, faces and plates, its own group:
        desens consume --brokers 10.0.0.7:9092 --topic cos-uploads --group desens-cos \
          --targets face,plate --s3-region ap-guangzhou \
          --map cos://raw-1250000000/=cos://clean-1250000000/

` + eventsHelp + `

` + bucketsHelp + `

EXIT STATUS:
   0  stopped by a signal, the record in hand finished
   1  the models could not load, or a record could be neither committed
      nor copied to TOPIC.retry or TOPIC.dlq (it is read again on restart)
   2  usage error`,
		Flags: append(eventFlags(),
			&cli.StringFlag{Name: "brokers", EnvVars: []string{"DESENS_KAFKA_BROKERS"}, Usage: "Kafka brokers, host:port, comma-separated"},
			&cli.StringFlag{Name: "topic", EnvVars: []string{"DESENS_KAFKA_TOPIC"}, Usage: "the topic of bucket events; TOPIC.retry and TOPIC.dlq are used too"},
			&cli.StringFlag{Name: "group", Value: kafka.DefaultGroup, EnvVars: []string{"DESENS_KAFKA_GROUP"}, Usage: "the consumer group"},
			&cli.DurationFlag{Name: "retry-delay", Value: kafka.DefaultRetryDelay, Usage: "how long a failed record waits in TOPIC.retry before it is tried again"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "log nothing but failures"},
		),
		Action: func(c *cli.Context) error { return runConsume(c) },
	}
}

func runConsume(c *cli.Context) error {
	if c.NArg() != 0 {
		return usagef("consume takes no arguments (see desens consume --help)")
	}
	var brokers []string
	for _, b := range strings.Split(c.String("brokers"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 || c.String("topic") == "" {
		return usagef("consume needs --brokers and --topic (see desens consume --help)")
	}
	if c.Duration("retry-delay") < 0 {
		return usagef("--retry-delay must not be negative")
	}
	h, _, closeAll, err := eventHandler(c)
	if err != nil {
		return err
	}
	defer closeAll()
	level := slog.LevelInfo
	if c.Bool("quiet") {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	k, err := kafka.New(h, kafka.Options{Brokers: brokers, Topic: c.String("topic"), Group: c.String("group"),
		RetryDelay: c.Duration("retry-delay"), Log: log})
	if err != nil {
		return err
	}
	defer k.Close()
	log.Info("consuming", "topic", c.String("topic"), "group", c.String("group"))
	if err := k.Run(c.Context); err != nil {
		return err
	}
	if c.Context.Err() != nil {
		log.Info("stopped")
	}
	return nil // a signal is a clean stop
}
