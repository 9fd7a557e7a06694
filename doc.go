// Package dokstamp is the Go SDK for the DokStamp API, the multi-tenant platform where
// universities and schools issue verifiable digital credentials: diplomas, course certificates,
// transcripts, badges and signed documents.
//
// # Quick start
//
//	c, err := dokstamp.NewClient(
//		dokstamp.WithTenant("acme-university"),
//		dokstamp.WithClientCredentials(os.Getenv("DOKSTAMP_CLIENT_ID"), os.Getenv("DOKSTAMP_CLIENT_SECRET")),
//	)
//	if err != nil {
//		return err
//	}
//	files, err := c.Files.Upload(ctx, dokstamp.UploadFile("diplomas/maria.pdf"))
//	if err != nil {
//		return err
//	}
//	cert, err := c.Certificates.Create(ctx, &dokstamp.CertificateCreateParams{
//		InstitutionUUID: institution, CourseUUID: course, StudentUUID: student,
//		FileUUID: files[0].UUID, Status: dokstamp.StatusIssued, IssuedAt: dokstamp.Ptr(time.Now()),
//	})
//
// # Services
//
// The Client has one service per resource: Institutions, Organizations, Modules, Courses,
// Cohorts, Students, Enrollments, Files, Templates (certificate templates), Certificates,
// Documents, and Auth. Each method takes a context first and names its route in its doc comment.
// List returns one page; All iterates over every page lazily:
//
//	for e, err := range c.Enrollments.All(ctx, &dokstamp.ListOptions{PerPage: 200,
//		Where: map[string]string{"completion_status": "completed"}}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(e.Student.Name)
//	}
//
// # Retries and duplicates
//
// Reads, updates, deletes and uploads are retried on connection errors, 429 and 5xx with
// exponential backoff and full jitter, honouring Retry-After. A POST is retried only when the
// server provably did not act (429, or a failure before the request was written): the API has no
// idempotency keys, so a POST whose outcome is unknown returns an error matching
// ErrOutcomeUnknown. Client.Batch resolves those by looking the certificate up before sending
// again, so that a bulk run never issues a diploma twice, and with a Journal it resumes after a
// crash.
//
// # Errors
//
// Every non-2xx answer is an *Error (read it with errors.As) that matches ErrUnauthorized,
// ErrForbidden, ErrNotFound, ErrValidation, ErrRateLimited or ErrServer with errors.Is.
//
// # Testing
//
// Package dokstamptest runs an in-memory DokStamp on loopback for your own tests.
package dokstamp
