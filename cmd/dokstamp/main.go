// Command dokstamp is the DokStamp command-line tool for registrars and IT staff: issue a
// cohort's diplomas from a CSV manifest (resumable), find the graduates still without a
// certificate, revoke, download, and call any route of the API, without writing Go.
//
//	go install github.com/dokstamp/dokstamp-go/cmd/dokstamp@latest
//	dokstamp fake                                  # a local DokStamp to try it on
//	dokstamp issue --manifest grads.csv --course CS
//	dokstamp reconcile --course CS
//
// Credentials come from the SDK's environment (DOKSTAMP_TOKEN or DOKSTAMP_CLIENT_ID and
// DOKSTAMP_CLIENT_SECRET, DOKSTAMP_TENANT, DOKSTAMP_BASE_URL) or from a named profile saved by
// `dokstamp auth login`. Exit codes are listed by `dokstamp help exit-codes`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
