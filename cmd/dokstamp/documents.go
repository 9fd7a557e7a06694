package main

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dokstamp/dokstamp-go"
)

func newDocumentsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "documents",
		Aliases: []string{"document", "docs"},
		Short:   "Resend signature requests and sign documents",
	}
	cmd.AddCommand(newDocResendCmd(a), newDocSignCmd(a))
	return cmd
}

func parseDocIDs(args []string) ([]int, error) {
	ids := make([]int, 0, len(args))
	for _, s := range args {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, usageErrorf("document id %q is not a positive number", s)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

func newDocResendCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "resend ID...",
		Short: "Send the signature request e-mails of documents again",
		Long:  "Send the signature request e-mails of documents again. E-mail is not idempotent: a request whose answer is lost is not sent twice, it is reported as in doubt (exit 5).",
		Args:  minArgs(1, "document ids"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseDocIDs(args)
			if err != nil {
				return err
			}
			c, err := a.Client()
			if err != nil {
				return err
			}
			if err := c.Documents.ResendSignatures(a.ctx, ids); err != nil {
				return docExit(err)
			}
			fmt.Fprintf(a.io.out, "Signature requests sent again for %d document(s).\n", len(ids))
			return nil
		},
	}
}

func newDocSignCmd(a *app) *cobra.Command {
	var certID int
	cmd := &cobra.Command{
		Use:   "sign --cert-id N ID...",
		Short: "Sign documents with the institution's stored digital certificate",
		Long: `Sign documents with the institution's stored digital certificate (--cert-id).

The certificate's PIN is read from the DOKSTAMP_PIN environment variable, or from standard
input (a prompt without echo on a terminal, else its first line). It is never a flag: the
command line of a process is visible to every user of the machine.`,
		Args: minArgs(1, "document ids"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if certID < 1 {
				return usageErrorf("%s needs --cert-id, the stored digital certificate's id", cmd.CommandPath())
			}
			ids, err := parseDocIDs(args)
			if err != nil {
				return err
			}
			pin, err := readSecret(a, "DOKSTAMP_PIN", "PIN of the signing certificate: ")
			if err != nil {
				return err
			}
			c, err := a.Client()
			if err != nil {
				return err
			}
			if err := c.Documents.SignBatch(a.ctx, certID, ids, pin); err != nil {
				return docExit(err)
			}
			fmt.Fprintf(a.io.out, "Signed %d document(s).\n", len(ids))
			return nil
		},
	}
	cmd.Flags().IntVar(&certID, "cert-id", 0, "id of the stored digital certificate to sign with (required)")
	return cmd
}

// docExit gives a batch call's unknown outcome its exit code.
func docExit(err error) error {
	if isOutcomeUnknown(err) {
		return withExit(exitSomeInDoubt, fmt.Errorf("%w\n(not sent again: check the documents before running it again)", err))
	}
	return err
}

// readSecret reads a secret from the environment variable env, else from stdin: a prompt
// without echo on a terminal, the first line otherwise. It is never echoed or printed.
func readSecret(a *app, env, prompt string) (string, error) {
	if env != "" {
		if v := a.getenv(env); v != "" {
			return v, nil
		}
	}
	if f, ok := a.io.in.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.io.err, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.io.err)
		if err != nil {
			return "", fmt.Errorf("read the secret: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", usageErrorf("empty secret")
		}
		return s, nil
	}
	line, err := bufio.NewReader(a.io.in).ReadString('\n')
	if err != nil && line == "" {
		where := "standard input"
		if env != "" {
			where = env + " or standard input"
		}
		return "", usageErrorf("no secret: give it on %s", where)
	}
	s := strings.TrimSpace(line)
	if s == "" {
		return "", usageErrorf("empty secret on standard input")
	}
	return s, nil
}

func isOutcomeUnknown(err error) bool {
	return errors.Is(err, dokstamp.ErrOutcomeUnknown)
}
