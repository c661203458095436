package main

import "github.com/urfave/cli/v2"

func consumeCommand() *cli.Command {
	return &cli.Command{Name: "consume", Hidden: true, Action: func(*cli.Context) error { return usagef("consume: not built yet") }}
}
