package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
)

// Exit codes: the only place errors turn into them.
const (
	exitOK       = 0 // every file done
	exitFailures = 1 // the run finished but some files failed (or could not start)
	exitUsage    = 2 // bad flags or arguments
	exitGate     = 3 // a batch (--min-success) finished below its success gate
	exitCanceled = 130
)

// gateError reports a batch below its success gate.
type gateError struct {
	rate, gate float64
}

func (e gateError) Error() string {
	return fmt.Sprintf("batch below its success gate: %.1f%% of files succeeded, --min-success wants %.1f%%", 100*e.rate, 100*e.gate)
}

// usageError marks a mistake in how desens was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(msg string) error { return usageError{msg} }

// failedFilesError reports files that failed; their details are in the report.
type failedFilesError struct{ failed, total int }

func (e failedFilesError) Error() string {
	return strings.TrimSpace(plural(e.failed, "file") + " of " + plural(e.total, "file") + " failed")
}

func exitCode(err error) int {
	var u usageError
	var ff failedFilesError
	var ge gateError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u), errors.Is(err, desens.ErrOptions):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitCanceled
	case errors.As(err, &ge):
		return exitGate
	case errors.As(err, &ff):
		return exitFailures
	case isFlagError(err):
		return exitUsage
	}
	return exitFailures
}

// isFlagError spots urfave/cli's own parse errors, which are plain errors.
func isFlagError(err error) bool {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return false
	}
	s := err.Error()
	for _, p := range []string{"flag provided but not defined", "invalid value", "Required flag", "flag needs an argument"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func plural(n int, w string) string {
	if n == 1 {
		return "1 " + w
	}
	return itoa(n) + " " + w + "s"
}
