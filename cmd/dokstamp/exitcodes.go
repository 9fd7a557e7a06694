package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

// The exit codes, documented by `dokstamp help exit-codes`.
const (
	exitOK          = 0   // all done
	exitError       = 1   // an error
	exitUsage       = 2   // bad flags, arguments or input
	exitSomeFailed  = 3   // some items failed (fix them and rerun)
	exitAuth        = 4   // no credentials, or the server refused them
	exitSomeInDoubt = 5   // some items in doubt: rerun with the same journal
	exitInterrupted = 130 // stopped by Ctrl-C (or SIGTERM)
)

const exitCodesHelp = `dokstamp exits with one of these codes, so that scripts can tell what happened:

  0    all done
  1    an error (network, server, a file that cannot be read or written)
  2    usage: unknown command or flag, missing argument, bad value, malformed manifest
  3    some items failed: the others were done; the failed rows are in the report and in
       --failed, fix them and run again
  4    authentication: no credentials, or the server refused them (401/403)
  5    some items are in doubt: a request was sent and no answer said whether it took
       effect; run the same command again (same journal) and they are looked up before
       anything is sent twice
  130  interrupted (Ctrl-C or SIGTERM): what was done is kept in the journal; run the same
       command again to resume

When items both failed and are in doubt, the code is 5: run again first.
'issue --dry-run' exits 3 when some rows are blocked, 0 when every row can go.`

func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "What dokstamp's exit codes mean",
		Long:  exitCodesHelp,
	}
}

// exitError carries an exit code with its error.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitCodeError{code: code, err: err}
}

// usageErrorf is a usage error: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitCodeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// quietError ends the command with a code, its message already printed.
type quietError struct{ code int }

func (e *quietError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCodeOf maps an error to the process exit code.
func exitCodeOf(ctx context.Context, err error) int {
	var q *quietError
	if errors.As(err, &q) {
		return q.code
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	switch {
	case strings.HasPrefix(err.Error(), "unknown command "):
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, dokstamp.ErrUnauthorized), errors.Is(err, dokstamp.ErrForbidden), errors.Is(err, errNoCredentials):
		return exitAuth
	}
	return exitError
}
