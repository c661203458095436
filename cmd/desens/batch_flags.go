package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
)

// batchFlags make a directory or prefix run a bulk job: which files, how
// each is tried, and what is delivered.
func batchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "match", Usage: "take only files a GLOB matches (repeatable); a GLOB without '/' matches the base name, one with '/' the name relative to INPUT"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "leave out files a GLOB matches (repeatable), as --match"},
		&cli.StringFlag{Name: "since", Usage: "take only files last modified at or after this time (RFC 3339, or a date: midnight UTC)"},
		&cli.StringFlag{Name: "until", Usage: "take only files last modified before this time (RFC 3339, or a date)"},
		&cli.StringFlag{Name: "partition", Usage: "take only files under a directory of this name at any depth, e.g. dt=2026-12-05"},
		&cli.StringFlag{Name: "shard", Usage: "take share i of N (i/N, e.g. 0/4): the files whose relative name hashes to i; N processes share INPUT without a coordinator"},
		&cli.IntFlag{Name: "shards", Usage: "with no --shard, split into N shards and take the one $JOB_COMPLETION_INDEX names (a Kubernetes Indexed Job)"},
		&cli.Float64Flag{Name: "min-success", Usage: "make the run a batch: pass when at least this share of files succeeds (0.95 for 95%), write _report.json, then, when it passes, _manifest.json and _SUCCESS into OUTPUT; exit 3 below it (default: no gate, any failure exits 1)"},
		&cli.BoolFlag{Name: "report-failures-only", Usage: "list only failed files in the report (the summary counts all), to keep reports of large jobs small"},
		&cli.DurationFlag{Name: "file-timeout", Usage: "fail a file that takes longer than this, retries included, e.g. 30m (0: no limit)"},
		&cli.IntFlag{Name: "retries", Value: 2, Usage: "try a file again this many times after a transient storage error (5xx, throttling, reset connection), with growing random waits; bad media is never retried"},
		&cli.IntFlag{Name: "downloads", Usage: "whole objects (images, sidecars) read from buckets at once, across --workers (0: no bound beyond --workers)"},
		&cli.IntFlag{Name: "inference", Usage: "detector calls at once across --workers, which share the loaded models (0: no bound beyond --workers)"},
		&cli.IntFlag{Name: "uploads", Usage: "outputs being written to buckets at once, each holding up to --s3-concurrency+1 parts of memory (0: no bound beyond --workers)"},
		&cli.StringFlag{Name: "progress", Value: "auto", Usage: "auto (a bar on a terminal; otherwise JSON lines for a batch run, one with --min-success, --shard or --shards, and text lines for others), bar (a bar and a line per file), jsonl (one JSON event per file on stderr, then a summary) or none"},
		&cli.StringFlag{Name: "metrics-addr", Usage: "serve Prometheus metrics at http://ADDR/metrics during the run, e.g. :9090"},
	}
}

// batchHelp is the part of the run help about bulk jobs.
const batchHelp = `BULK JOBS:
   A rerun resumes: an output that an earlier run made from the same version
   of its source (the object's ETag, a local file's size and modification
   time, recorded in the output's metadata or extended attributes) is
   skipped and reported as already done; any other existing output fails
   its file unless --overwrite, which redoes everything. Killing a run at
   any moment loses no finished output and leaves no partial one: the
   rerun removes what the killed one left.

   Files are listed page by page as workers take them. --match, --exclude,
   --since, --until and --partition select files; --shard i/N (or --shards N
   with $JOB_COMPLETION_INDEX) takes one share of them by a hash of the
   name, so N machines split INPUT with no coordinator (deploy/k8s/ holds
   an Indexed Job).

   --min-success 0.95 makes the run a batch gated at 95%: it writes
   _report.json into OUTPUT, and only when the gate passes,
   _manifest.json (every output with its size) and then _SUCCESS, last.
   Shard i of N writes _report-i-of-N.json, _manifest-i-of-N.json and
   _SUCCESS-i-of-N; the partition is complete when all N markers exist.
   With --partition P, all of these go into P/ within OUTPUT.
   Already done files count as succeeded.`

// batchFrom reads the batch flags.
func batchFrom(c *cli.Context) (desens.BatchOptions, error) {
	b := desens.BatchOptions{
		Filter: desens.Filter{
			Match: c.StringSlice("match"), Exclude: c.StringSlice("exclude"), Partition: c.String("partition"),
		},
		MinSuccess:   c.Float64("min-success"),
		FailuresOnly: c.Bool("report-failures-only"),
		FileTimeout:  c.Duration("file-timeout"),
		Retries:      c.Int("retries"),
		Downloads:    c.Int("downloads"),
		Inference:    c.Int("inference"),
		Uploads:      c.Int("uploads"),
	}
	var err error
	for _, t := range []struct {
		flag string
		to   *time.Time
	}{{"since", &b.Filter.Since}, {"until", &b.Filter.Until}} {
		if v := c.String(t.flag); v != "" {
			if *t.to, err = desens.ParseTime(v); err != nil {
				return b, usagef(fmt.Sprintf("--%s %q: want RFC 3339 (2026-12-05T08:00:00Z) or a date (2026-12-05)", t.flag, v))
			}
		}
	}
	if b.Shard, err = shardFrom(c.String("shard"), c.Int("shards"), os.Getenv("JOB_COMPLETION_INDEX")); err != nil {
		return b, err
	}
	return b, nil
}

// shardFrom reads --shard, else --shards with the Kubernetes completion
// index.
func shardFrom(shard string, shards int, index string) (desens.Shard, error) {
	switch {
	case shard != "" && shards != 0:
		return desens.Shard{}, usagef("--shard and --shards: give one")
	case shard != "":
		s, err := desens.ParseShard(shard)
		if err != nil {
			return s, usagef(fmt.Sprintf("--shard %q: want i/N with 0 <= i < N, e.g. 0/4", shard))
		}
		return s, nil
	case shards < 0:
		return desens.Shard{}, usagef(fmt.Sprintf("--shards %d: want 1 or more", shards))
	case shards == 0:
		return desens.Shard{}, nil
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= shards {
		return desens.Shard{}, usagef(fmt.Sprintf("--shards %d needs $JOB_COMPLETION_INDEX in [0,%d) (set by a Kubernetes Indexed Job), got %q", shards, shards, index))
	}
	return desens.Shard{Index: i, Count: shards}, nil
}
