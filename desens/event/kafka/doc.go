// Package kafka feeds bucket events from a Kafka topic to an event
// Handler, committing each record's offset only once its objects are done
// or the record is parked in a retry or dead-letter topic.
//
// # Topics
//
// A Consumer of topic T reads T and T.retry in a consumer group. A record
// whose objects fail (or any one of them) is copied to T.retry, to be tried
// again after Options.RetryDelay; one that fails there is copied to T.dlq.
// A record that is no event at all (malformed or unknown) goes straight to
// T.dlq, since it would fail again. Copies keep the value, key and headers
// and add:
//
//	desens-reason       why it failed
//	desens-topic        the topic, partition and offset it was read at
//
// # Delivery
//
// At least once: an object done but whose offset was not committed (the
// process died in between) is read again after a restart, and then
// skipped, since its destination records the source's ETag.
package kafka
