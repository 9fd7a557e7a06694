package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

func newCertificatesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "certificates",
		Aliases: []string{"certificate", "certs", "cert"},
		Short:   "List, show, revoke and download certificates",
	}
	cmd.AddCommand(newCertListCmd(a), newCertGetCmd(a), newCertRevokeCmd(a), newCertDownloadCmd(a))
	return cmd
}

func certListing(a *app) *listing {
	if a.table() {
		return &listing{headers: []string{"UUID", "STUDENT", "COURSE", "STATUS", "ISSUED", "VERIFICATION URL"}}
	}
	return &listing{headers: []string{"uuid", "student_uuid", "student_name", "course_uuid", "status", "issued_at", "verification_url"}}
}

func addCert(a *app, l *listing, c *dokstamp.Certificate) {
	if a.table() {
		l.add(c, c.UUID, c.Student.Name, c.Course.Name, string(c.Status), day(c.IssuedAt), c.PublicVerificationURL)
		return
	}
	issued := ""
	if !c.IssuedAt.IsZero() {
		issued = c.IssuedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	l.add(c, c.UUID, c.Student.UUID, c.Student.Name, c.Course.UUID, string(c.Status), issued, c.PublicVerificationURL)
}

func newCertListCmd(a *app) *cobra.Command {
	var course, student, status, cohort string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--course CODE|UUID] [--student EMAIL|UUID] [--status STATUS]",
		Short: "List certificates",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Client()
			if err != nil {
				return err
			}
			where := map[string]string{}
			if course != "" {
				crs, err := resolveCourse(a.ctx, c, course)
				if err != nil {
					return err
				}
				where["course_uuid"] = crs.UUID
			}
			if cohort != "" {
				id, err := resolveCohort(a.ctx, c, cohort)
				if err != nil {
					return withExit(exitUsage, fmt.Errorf("--cohort: %w", err))
				}
				where["cohort_uuid"] = id
			}
			if student != "" {
				id, err := resolveStudent(a, c, student)
				if err != nil {
					return err
				}
				where["student_uuid"] = id
			}
			switch dokstamp.CertificateStatus(status) {
			case "":
			case dokstamp.StatusDraft, dokstamp.StatusIssued, dokstamp.StatusRevoked, dokstamp.StatusExpired:
				where["status"] = status
			default:
				return usageErrorf("--status %q: use draft, issued, revoked or expired", status)
			}
			if limit < 0 {
				return usageErrorf("--limit %d: use 0 (no limit) or more", limit)
			}
			l := certListing(a)
			n := 0
			for cert, err := range c.Certificates.All(a.ctx, &dokstamp.ListOptions{PerPage: 100, Where: where}) {
				if err != nil {
					return err
				}
				addCert(a, l, &cert)
				if n++; limit > 0 && n >= limit {
					break
				}
			}
			return a.print(l, false)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&course, "course", "", "only this course (code or uuid)")
	fl.StringVar(&cohort, "cohort", "", "only this cohort (code or uuid)")
	fl.StringVar(&student, "student", "", "only this student (e-mail or uuid)")
	fl.StringVar(&status, "status", "", "only this status: draft, issued, revoked or expired")
	fl.IntVar(&limit, "limit", 0, "stop after this many (0: all)")
	return cmd
}

// resolveStudent turns an e-mail address into a student uuid; a uuid is taken as is.
func resolveStudent(a *app, c *dokstamp.Client, s string) (string, error) {
	if isUUID(s) {
		return s, nil
	}
	st, err := c.Students.FindByEmail(a.ctx, s)
	if errors.Is(err, dokstamp.ErrNotFound) {
		return "", withExit(exitUsage, fmt.Errorf("no student with e-mail %s", s))
	}
	if err != nil {
		return "", err
	}
	return st.UUID, nil
}

func checkUUIDArg(what, s string) error {
	if !isUUID(s) {
		return usageErrorf("%s %q is not a uuid (like 0f8fad5b-d9cb-469f-a165-70867728950e)", what, s)
	}
	return nil
}

// getCertArg reads the certificate a command names by its uuid, with the client it used.
func getCertArg(a *app, arg string) (*dokstamp.Client, *dokstamp.Certificate, error) {
	if err := checkUUIDArg("certificate", arg); err != nil {
		return nil, nil, err
	}
	c, err := a.Client()
	if err != nil {
		return nil, nil, err
	}
	cert, err := c.Certificates.Get(a.ctx, arg)
	return c, cert, err
}

func newCertGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get UUID",
		Short: "Show one certificate",
		Args:  exactArgs(1, "the certificate's uuid"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, cert, err := getCertArg(a, args[0])
			if err != nil {
				return err
			}
			l := certListing(a)
			addCert(a, l, cert)
			return a.print(l, true)
		},
	}
}

func newCertRevokeCmd(a *app) *cobra.Command {
	var reason string
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke UUID... [--reason TEXT] [--yes]",
		Short: "Revoke certificates (cannot be undone)",
		Long: `Revoke one or more certificates. Their verification pages keep answering and show the
revocation. Revocation cannot be undone: on a terminal you are asked to confirm; otherwise
(a script, a pipe) --yes is required.`,
		Args: minArgs(1, "the certificates' uuids"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range args {
				if err := checkUUIDArg("certificate", id); err != nil {
					return err
				}
			}
			if !yes {
				if !a.stdinIsTerminal() {
					return usageErrorf("revoking cannot be undone: not on a terminal, so pass --yes to confirm")
				}
				fmt.Fprintf(a.io.err, "Revoke %d certificate(s)? This cannot be undone. Type yes to confirm: ", len(args))
				line, _ := bufio.NewReader(a.io.in).ReadString('\n')
				if strings.ToLower(strings.TrimSpace(line)) != "yes" {
					return withExit(exitError, errors.New("not confirmed: nothing was revoked"))
				}
			}
			c, err := a.Client()
			if err != nil {
				return err
			}
			l := certListing(a)
			var failed int
			for _, id := range args {
				cert, err := c.Certificates.Revoke(a.ctx, id, reason)
				if err != nil {
					if errors.Is(err, dokstamp.ErrUnauthorized) || errors.Is(err, dokstamp.ErrForbidden) || a.ctx.Err() != nil {
						return err
					}
					a.warnf("revoke %s: %v", id, err)
					failed++
					continue
				}
				addCert(a, l, cert)
			}
			if err := a.print(l, len(args) == 1); err != nil {
				return err
			}
			if failed > 0 {
				return &quietError{code: exitSomeFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "revocation reason, shown on the verification page")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func newCertDownloadCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "download UUID [-O FILE]",
		Short: "Download a certificate's PDF",
		Long:  "Download a certificate's PDF to FILE (default: UUID.pdf in the current directory; - for stdout).",
		Args:  exactArgs(1, "the certificate's uuid"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, cert, err := getCertArg(a, args[0])
			if err != nil {
				return err
			}
			fileUUID := cert.FileUUID()
			if fileUUID == "" {
				return fmt.Errorf("certificate %s has no file to download", cert.UUID)
			}
			body, err := c.Files.Download(a.ctx, fileUUID)
			if err != nil {
				return err
			}
			defer body.Close()
			if out == "-" {
				_, err := io.Copy(a.io.out, body)
				return err
			}
			if out == "" {
				out = cert.UUID + ".pdf"
			}
			tmp, err := os.CreateTemp(filepath.Dir(out), ".download-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			n, err := io.Copy(tmp, body)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("download %s: %w", cert.UUID, err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(a.io.err, "Saved %s (%d bytes)\n", out, n)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output-file", "O", "", "where to save the PDF (- for stdout)")
	return cmd
}
