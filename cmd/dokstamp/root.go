package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dokstamp/dokstamp-go"
)

// stdio is the command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// app is what every command shares: the streams, the environment, the global flags and the
// client, made on first use.
type app struct {
	ctx    context.Context
	io     stdio
	getenv func(string) string

	profile  string
	output   string
	noHeader bool
	config   string // --config: the profiles file

	warnedMode bool // the profiles file's permissions were warned about

	client     *dokstamp.Client
	clientFrom string // where the credentials came from, for auth status
}

// isTerminal reports whether w (or r) is a terminal.
func isTerminal(f any) bool {
	if fd, ok := f.(interface{ Fd() uintptr }); ok {
		return term.IsTerminal(int(fd.Fd()))
	}
	return false
}

func (a *app) stdinIsTerminal() bool  { return isTerminal(a.io.in) }
func (a *app) stderrIsTerminal() bool { return isTerminal(a.io.err) }

// warnf prints a note on stderr.
func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.io.err, format+"\n", args...)
}

// run runs the command line args and returns the process exit code.
func run(ctx context.Context, args []string, std stdio, getenv func(string) string) int {
	a := &app{ctx: ctx, io: std, getenv: getenv}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(std.in)
	root.SetOut(std.out)
	root.SetErr(std.err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCodeOf(ctx, err)
	var quiet *quietError
	if !errors.As(err, &quiet) {
		msg := err.Error()
		if !strings.HasPrefix(msg, "dokstamp") {
			msg = "dokstamp: " + msg
		}
		fmt.Fprintln(std.err, msg)
		if code == exitUsage && !strings.Contains(msg, "--help") {
			fmt.Fprintf(std.err, "Run '%s --help' for usage.\n", commandPath(root, args))
		}
	}
	return code
}

// commandPath is the path of the command args names ("dokstamp certificates revoke").
func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != nil {
		return c.CommandPath()
	}
	return root.CommandPath()
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "dokstamp",
		Short: "Issue and manage DokStamp certificates from the command line",
		Long: `dokstamp issues a cohort's diplomas from a CSV manifest, finds the graduates still
without a certificate, revokes and downloads certificates, and calls any route of the
DokStamp API, on top of the dokstamp-go SDK.

Credentials: DOKSTAMP_TOKEN (or DOKSTAMP_CLIENT_ID and DOKSTAMP_CLIENT_SECRET), DOKSTAMP_TENANT
and DOKSTAMP_BASE_URL in the environment, or a profile saved by 'dokstamp auth login'
(chosen with --profile or DOKSTAMP_PROFILE). To try it without an account, run 'dokstamp fake'
in another terminal and follow what it prints.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
		CompletionOptions: cobra.CompletionOptions{
			HiddenDefaultCmd: false,
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v", err)
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.profile, "profile", "", "credentials profile to use (default: $DOKSTAMP_PROFILE, the environment, then the default profile)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table, json, ndjson or csv")
	pf.BoolVar(&a.noHeader, "no-header", false, "leave out the header line of table and csv output")
	pf.StringVar(&a.config, "config", "", "profiles file (default: $DOKSTAMP_CONFIG, else dokstamp/config.json in the user's config directory)")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		switch a.output {
		case "table", "json", "ndjson", "csv":
		default:
			return usageErrorf("-o %q: use table, json, ndjson or csv", a.output)
		}
		if a.profile == "" {
			a.profile = a.getenv("DOKSTAMP_PROFILE")
		}
		return nil
	}

	root.AddCommand(
		newIssueCmd(a),
		newReconcileCmd(a),
		newCertificatesCmd(a),
		newStudentsCmd(a),
		newDocumentsCmd(a),
		newAuthCmd(a),
		newAPICmd(a),
		newFakeCmd(a),
		newVersionCmd(a),
		newExitCodesTopic(),
	)
	return root
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %d argument(s) (%s), got %d", c.CommandPath(), n, what, len(args))
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs with a usage error.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("%s needs at least %d argument(s) (%s)", c.CommandPath(), n, what)
		}
		return nil
	}
}

// noArgs refuses positional arguments.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", c.CommandPath(), args[0])
	}
	return nil
}

// requireFlag fails with a usage error when a required flag is empty.
func requireFlag(c *cobra.Command, name, value string) error {
	if strings.TrimSpace(value) == "" {
		return usageErrorf("%s needs --%s", c.CommandPath(), name)
	}
	return nil
}
