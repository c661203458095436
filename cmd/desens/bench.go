package main

import "github.com/urfave/cli/v2"

func benchCommand() *cli.Command {
	return &cli.Command{Name: "bench", Usage: "measure speed on a video", Action: func(c *cli.Context) error { return usagef("bench: not built yet") }}
}
