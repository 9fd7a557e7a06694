// Command sign-documents runs the document-signing workflow: it creates a
// document type, uploads PDFs, creates a document for each, re-sends the
// signature requests to their signers, and signs them all in one batch with
// the institution's stored digital certificate.
//
//	go run ./examples/sign-documents                      # 3 sample PDFs, embedded server
//	DOKSTAMP_SIGN_CERT_ID=12 DOKSTAMP_SIGN_PIN=... go run ./examples/sign-documents a.pdf b.pdf
//
// Against the real API the certificate id and its PIN come from -cert-id and
// -pin or, better for the PIN (a flag shows in the process list), from
// DOKSTAMP_SIGN_CERT_ID and DOKSTAMP_SIGN_PIN. The PIN is never printed; the
// SDK keeps it out of its errors too. On the embedded server they are the
// seeded ones.
//
// Re-sending e-mails and signing are never retried by the SDK once a request
// was written: when the outcome is unknown, check the documents before
// signing again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
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
		fmt.Fprintln(os.Stderr, "sign-documents:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sign-documents", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	certID := fs.Int("cert-id", 0, "id of the institution's stored signing certificate (or DOKSTAMP_SIGN_CERT_ID)")
	pin := fs.String("pin", "", "PIN of that certificate (prefer DOKSTAMP_SIGN_PIN: flags show in the process list)")
	typeName := fs.String("type", "Diploma supplement", "description of the document type to create")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: sign-documents [flags] [file.pdf ...]   (no files: 3 sample PDFs)")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("%w (see -h)", err)
	}

	env, err := exampleenv.Start(stdout, "sign-documents")
	if err != nil {
		return err
	}
	defer env.Close()
	c := env.Client

	if *certID == 0 {
		switch v := os.Getenv("DOKSTAMP_SIGN_CERT_ID"); {
		case env.Embedded():
			*certID = env.Fake.SigningCertID
		case v != "":
			if *certID, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("DOKSTAMP_SIGN_CERT_ID %q is not a number", v)
			}
		default:
			return errors.New("-cert-id (or DOKSTAMP_SIGN_CERT_ID) is required against the real API")
		}
	}
	if *pin == "" {
		if env.Embedded() {
			*pin = env.Fake.SigningPIN
		} else if *pin = os.Getenv("DOKSTAMP_SIGN_PIN"); *pin == "" {
			return errors.New("DOKSTAMP_SIGN_PIN (or -pin) is required against the real API")
		}
	}

	uploads, err := pdfs(fs.Args(), env.Embedded())
	if err != nil {
		return err
	}

	dt, err := c.Documents.CreateType(ctx, &dokstamp.DocumentTypeCreateParams{
		Description: *typeName,
		Indexers:    []dokstamp.DocumentIndexer{{Indexer: "Student e-mail", Rule: dokstamp.RuleEmail}},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Document type %d %q created\n", dt.ID, dt.Description)

	files, err := c.Files.Upload(ctx, uploads...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Uploaded %d PDFs\n", len(files))

	ids := make([]int, len(files))
	for i, f := range files {
		doc, err := c.Documents.Create(ctx, &dokstamp.DocumentCreateParams{
			Description:    f.OriginalName,
			DocumentTypeID: dt.ID,
			FileUUID:       f.UUID,
		})
		if err != nil {
			return err
		}
		ids[i] = doc.ID
		fmt.Fprintf(stdout, "  document %d %q: %s\n", doc.ID, doc.Description, doc.Status)
	}

	if err := c.Documents.ResendSignatures(ctx, ids); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Signature requests re-sent for %d documents\n", len(ids))

	if err := c.Documents.SignBatch(ctx, *certID, ids, *pin); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Signed %d documents with certificate %d (PIN not shown)\n", len(ids), *certID)

	for _, id := range ids {
		doc, err := c.Documents.Get(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  document %d: %s\n", doc.ID, doc.Status)
	}
	return nil
}

// pdfs returns the uploads of the files named, or three sample PDFs. The
// server de-duplicates uploads by content, so against the real API the
// samples carry the time, to make each run's documents new.
func pdfs(paths []string, embedded bool) ([]dokstamp.Upload, error) {
	if len(paths) > 0 {
		ups := make([]dokstamp.Upload, len(paths))
		for i, p := range paths {
			if _, err := os.Stat(p); err != nil {
				return nil, err
			}
			ups[i] = dokstamp.UploadFile(p)
		}
		return ups, nil
	}
	stamp := ""
	if !embedded {
		stamp = "Generated " + time.Now().UTC().Format(time.RFC3339Nano)
	}
	ups := make([]dokstamp.Upload, 3)
	for i := range ups {
		name := fmt.Sprintf("supplement-%d.pdf", i+1)
		ups[i] = dokstamp.UploadBytes(name, samplepdf.New("Acme University",
			fmt.Sprintf("Diploma supplement no. %d", i+1), stamp))
	}
	return ups, nil
}
