// step-ca for the integration tests: Debian's golang-github-smallstep-certificates-dev
// ships the library and its `commands.AppCommand` (the action that runs a CA from a
// ca.json) but no main package. This is that main; step-ca-ctl builds it in GOPATH mode.
package main

import (
	"fmt"
	"os"

	"github.com/smallstep/certificates/commands"
	"github.com/urfave/cli"
)

func main() {
	app := cli.NewApp()
	app.Name = "step-ca"
	app.Usage = "an online certificate authority (test build from Debian's sources)"
	app.Flags = commands.AppCommand.Flags
	app.Action = commands.AppCommand.Action
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
