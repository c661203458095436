package main

import "github.com/urfave/cli/v2"

func evalCommand() *cli.Command {
	return &cli.Command{Name: "eval", Usage: "measure detection on labelled images", Action: func(c *cli.Context) error { return usagef("eval: not built yet") }}
}
