// Command revoke revokes a certificate and shows that its public verification
// URL still answers: the certificate stays, marked revoked, with the time and
// the reason, so that anyone holding the link learns it is no longer valid.
//
//	go run ./examples/revoke                                        # embedded server: issues one first
//	go run ./examples/revoke -certificate <uuid> -reason "Issued with a misspelled name"
//
// Revocation is permanent: a revoked certificate cannot be issued again (issue
// a new one instead). Only an issued certificate can be revoked.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/examples/internal/exampleenv"
	"github.com/dokstamp/dokstamp-go/examples/internal/samplepdf"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "revoke:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	certUUID := fs.String("certificate", "", "uuid of the certificate to revoke (required against the real API)")
	reason := fs.String("reason", "", "why it is revoked; shown on the verification page (required against the real API)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil
		}
		return fmt.Errorf("%w (see -h)", err)
	}

	env, err := exampleenv.Start(stdout, "revoke")
	if err != nil {
		return err
	}
	defer env.Close()
	c := env.Client

	if env.Embedded() {
		if *reason == "" {
			*reason = "Issued with a misspelled name"
		}
		if *certUUID == "" {
			cert, err := issueOne(ctx, env)
			if err != nil {
				return fmt.Errorf("issue a certificate to revoke: %w", err)
			}
			*certUUID = cert.UUID
			fmt.Fprintf(stdout, "Issued certificate %s to %s, to revoke it\n", cert.UUID, cert.Student.Name)
		}
	}
	if *certUUID == "" || *reason == "" {
		return errors.New(`-certificate and -reason are required against the real API (a revocation is public and permanent: say why)`)
	}

	before, err := c.Certificates.Get(ctx, *certUUID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Before: %s, verification URL %s\n", before.Status, before.PublicVerificationURL)

	if _, err := c.Certificates.Revoke(ctx, *certUUID, *reason); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Revoked certificate %s\n", *certUUID)

	// Read it back as a verifier would: the record and its URL are still there.
	after, err := c.Certificates.Get(ctx, *certUUID)
	if err != nil {
		return fmt.Errorf("get the revoked certificate: %w", err)
	}
	revokedAt := "-"
	if after.RevokedAt != nil {
		revokedAt = after.RevokedAt.Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "After (fetched again):\n")
	fmt.Fprintf(stdout, "  status:           %s\n", after.Status)
	fmt.Fprintf(stdout, "  verification URL: %s (unchanged: %t)\n", after.PublicVerificationURL,
		after.PublicVerificationURL != "" && after.PublicVerificationURL == before.PublicVerificationURL)
	fmt.Fprintf(stdout, "  revoked at:       %s\n", revokedAt)
	fmt.Fprintf(stdout, "  reason:           %s\n", after.RevocationReason)
	if after.Status != dokstamp.StatusRevoked {
		return fmt.Errorf("certificate %s is %s after revocation, not revoked", after.UUID, after.Status)
	}
	return nil
}

// issueOne issues a certificate to the embedded server's first student.
func issueOne(ctx context.Context, env *exampleenv.Env) (*dokstamp.Certificate, error) {
	srv := env.Fake
	files, err := env.Client.Files.Upload(ctx, dokstamp.UploadBytes("diploma.pdf",
		samplepdf.New("Acme University", "Diploma awarded to Student 1")))
	if err != nil {
		return nil, err
	}
	return env.Client.Certificates.Create(ctx, &dokstamp.CertificateCreateParams{
		InstitutionUUID: srv.InstitutionUUID,
		CourseUUID:      srv.CourseUUID,
		StudentUUID:     srv.StudentUUIDs[0],
		FileUUID:        files[0].UUID,
		Status:          dokstamp.StatusIssued,
	})
}
