package dokstamp_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// The examples run against dokstamptest, an in-memory DokStamp; point
// WithBaseURL, WithToken and WithTenant at your own tenant instead (or use
// NewClientFromEnv). Each PDF has its own bytes: the server de-duplicates
// uploads by content.

func ExampleNewClient() {
	srv, err := dokstamptest.New(dokstamptest.WithSeed(1))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// NewClient does no I/O; the first request carries the token and X-Tenant.
	c, err := dokstamp.NewClient(
		dokstamp.WithBaseURL(srv.URL), // default: dokstamp.DefaultBaseURL
		dokstamp.WithToken(srv.Token), // or WithClientCredentials(id, secret)
		dokstamp.WithTenant(srv.Tenant),
		dokstamp.WithUserAgent("registrar-sync/1.0"),
	)
	if err != nil {
		panic(err)
	}
	inst, err := c.Institutions.Get(context.Background(), srv.InstitutionUUID)
	if err != nil {
		panic(err)
	}
	fmt.Println(inst.Name, inst.Country)

	// Errors from the API match the sentinels.
	_, err = c.Institutions.Get(context.Background(), "0b6f2f7e-8d1c-4c3a-9e2b-5a4d3c2b1a00")
	fmt.Println(errors.Is(err, dokstamp.ErrNotFound))
	// Output:
	// Acme University PT
	// true
}

func ExampleEnrollmentsService_All() {
	srv, err := dokstamptest.New(dokstamptest.WithSeed(2), dokstamptest.WithStudents(7))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := dokstamp.NewClient(
		dokstamp.WithBaseURL(srv.URL),
		dokstamp.WithToken(srv.Token),
		dokstamp.WithTenant(srv.Tenant),
	)
	if err != nil {
		panic(err)
	}

	// All fetches page after page (3 items each here) as the loop asks for
	// more; breaking out of the loop stops it.
	opts := &dokstamp.ListOptions{
		PerPage: 3,
		Where:   map[string]string{"completion_status": "completed", "course_uuid": srv.CourseUUID},
	}
	n := 0
	for en, err := range c.Enrollments.All(context.Background(), opts) {
		if err != nil {
			panic(err)
		}
		if n == 0 {
			fmt.Println("first:", en.Student.Name, en.CompletionStatus)
		}
		n++
	}
	fmt.Println("completed enrollments:", n)
	// Output:
	// first: Student 1 completed
	// completed enrollments: 7
}

func ExampleFilesService_Upload() {
	srv, err := dokstamptest.New(dokstamptest.WithSeed(3))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := dokstamp.NewClient(
		dokstamp.WithBaseURL(srv.URL),
		dokstamp.WithToken(srv.Token),
		dokstamp.WithTenant(srv.Tenant),
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// One multipart request, streamed; UploadFile(path) reads from disk.
	files, err := c.Files.Upload(ctx,
		dokstamp.UploadBytes("ana.pdf", []byte("%PDF-1.4\n% Ana\n%%EOF\n")),
		dokstamp.UploadBytes("rui.pdf", []byte("%PDF-1.4\n% Rui\n%%EOF\n")),
	)
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		fmt.Println(f.OriginalName, f.MimeType, f.Used())
	}

	// Identical bytes come back as the same record.
	again, err := c.Files.Upload(ctx, dokstamp.UploadBytes("ana-copy.pdf", []byte("%PDF-1.4\n% Ana\n%%EOF\n")))
	if err != nil {
		panic(err)
	}
	fmt.Println("same record:", again[0].UUID == files[0].UUID)
	// Output:
	// ana.pdf application/pdf false
	// rui.pdf application/pdf false
	// same record: true
}

func ExampleCertificatesService_Create() {
	srv, err := dokstamptest.New(dokstamptest.WithSeed(4), dokstamptest.WithStudents(1))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := dokstamp.NewClient(
		dokstamp.WithBaseURL(srv.URL),
		dokstamp.WithToken(srv.Token),
		dokstamp.WithTenant(srv.Tenant),
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	files, err := c.Files.Upload(ctx, dokstamp.UploadBytes("diploma.pdf", []byte("%PDF-1.4\n% Student 1\n%%EOF\n")))
	if err != nil {
		panic(err)
	}
	cert, err := c.Certificates.Create(ctx, &dokstamp.CertificateCreateParams{
		InstitutionUUID: srv.InstitutionUUID,
		CourseUUID:      srv.CourseUUID,
		StudentUUID:     srv.StudentUUIDs[0],
		FileUUID:        files[0].UUID,
		Status:          dokstamp.StatusIssued, // without it: a draft
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(cert.Status, cert.Student.Name, cert.HasFile(files[0].UUID), cert.PublicVerificationURL != "")

	// A file backs one certificate only.
	_, err = c.Certificates.Create(ctx, &dokstamp.CertificateCreateParams{
		InstitutionUUID: srv.InstitutionUUID,
		CourseUUID:      srv.CourseUUID,
		StudentUUID:     srv.StudentUUIDs[0],
		FileUUID:        files[0].UUID,
		Status:          dokstamp.StatusIssued,
	})
	fmt.Println(errors.Is(err, dokstamp.ErrValidation))
	// Output:
	// issued Student 1 true true
	// true
}

func ExampleBatchService_IssueCertificates() {
	srv, err := dokstamptest.New(dokstamptest.WithSeed(5), dokstamptest.WithStudents(20))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := dokstamp.NewClient(
		dokstamp.WithBaseURL(srv.URL),
		dokstamp.WithToken(srv.Token),
		dokstamp.WithTenant(srv.Tenant),
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	uploads := make([]dokstamp.Upload, len(srv.StudentUUIDs))
	for i := range uploads {
		uploads[i] = dokstamp.UploadBytes(fmt.Sprintf("diploma-%02d.pdf", i), []byte("%PDF-1.4\n% diploma of "+srv.StudentUUIDs[i]+"\n%%EOF\n"))
	}
	files, err := c.Files.Upload(ctx, uploads...)
	if err != nil {
		panic(err)
	}
	items := make([]dokstamp.CertificateCreateParams, len(files))
	for i, f := range files {
		items[i] = dokstamp.CertificateCreateParams{
			InstitutionUUID: srv.InstitutionUUID,
			CourseUUID:      srv.CourseUUID,
			StudentUUID:     srv.StudentUUIDs[i],
			FileUUID:        f.UUID,
			Status:          dokstamp.StatusIssued,
		}
	}

	// At most 5 requests in flight. With Journal: dokstamp.OpenJournal(path),
	// a second run skips what the first one issued.
	last := dokstamp.Progress{}
	report, err := c.Batch.IssueCertificates(ctx, items, &dokstamp.BatchOptions{
		Concurrency: 5,
		OnProgress:  func(p dokstamp.Progress) { last = p },
	})
	if err != nil {
		panic(err) // the run stopped: ctx ended, 401 or 403
	}
	fmt.Println("succeeded:", report.Succeeded, "failed:", report.Failed)
	fmt.Println("progress:", last.Done, "of", last.Total)
	fmt.Println("first result:", report.Results[0].Certificate.Status)
	fmt.Println("on the server:", len(srv.Certificates()), "duplicates:", len(srv.Duplicates()))
	// Output:
	// succeeded: 20 failed: 0
	// progress: 20 of 20
	// first result: issued
	// on the server: 20 duplicates: 0
}
