package main

import (
	"errors"
	"flag"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go/internal/fakecmd"
)

func newFakeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "fake [-addr HOST:PORT] [-token TOKEN] [-students N] [flags]",
		Short: "Run the embedded DokStamp server, to try dokstamp without an account",
		Long: `Run an in-memory DokStamp API on a local port (default 127.0.0.1:8080), seeded with an
institution, a course (code CS) and students, until Ctrl-C. It prints its URL, token and tenant;
point dokstamp at it from another terminal:

  dokstamp fake -token demo-token
  export DOKSTAMP_BASE_URL=http://127.0.0.1:8080 DOKSTAMP_TOKEN=demo-token DOKSTAMP_TENANT=acme-university

Nothing is kept when it stops. Run 'dokstamp fake -h' for its flags (latency, faults, rate limit).`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := fakecmd.Run(a.ctx, "dokstamp fake", args, a.io.out, a.io.err)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			if err != nil && !errors.Is(err, a.ctx.Err()) {
				return withExit(exitUsage, err)
			}
			return nil
		},
	}
}
