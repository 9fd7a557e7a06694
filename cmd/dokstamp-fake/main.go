// Command dokstamp-fake serves the in-memory DokStamp API of package
// dokstamptest on a port, for curl and for clients in other languages.
//
//	go run ./cmd/dokstamp-fake -addr 127.0.0.1:8080 -students 5 -error-rate 0.05
//
// It prints the URL, credentials and seeded uuids, then serves until SIGINT
// or SIGTERM. Faults given by flags apply to every tenant-scoped route; run
// it with -h for the list. Exit status: 0 after a signal or -h, 2 on bad
// flags or a server that cannot start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dokstamp/dokstamp-go/internal/fakecmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves the fake until ctx is done and returns the exit status.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	err := fakecmd.Run(ctx, "dokstamp-fake", args, out, errOut)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintln(errOut, "dokstamp-fake:", err)
		return 2
	}
}
