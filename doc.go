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
// This is the POST rule every method's doc points to. GET, PUT, PATCH and DELETE are retried on
// connection errors, 429, 500, 502, 503 and 504, with exponential backoff and full jitter,
// honouring Retry-After (RetryPolicy). The API has no idempotency keys, so a POST is retried only
// where the server provably did not act: on 429, and on failures before the request was written
// (dial, DNS, TLS). A POST whose outcome is unknown (a timeout or a dropped connection after it
// was written, a 5xx answer, or a 2xx answer whose body broke off) returns an error matching
// ErrOutcomeUnknown: look the resource up before sending it again.
// Three POSTs are retried like reads, since sending them twice does nothing twice:
// POST /files (uploads are de-duplicated by content), POST /oauth/token and POST /auth/login
// (they only hand out tokens). POST /auth/refresh, the signature e-mails and batch signing are
// never sent twice. Client.Batch resolves unknown outcomes by looking the certificate up before
// sending again, so that a bulk run never issues a diploma twice, and with a Journal it resumes
// after a crash.
//
// # Per-call options and Client.Do
//
// Every service method takes RequestOptions last: WithHeader, WithRequestTimeout (per attempt),
// WithMaxRetries and WithResponseInto, which fills a Response with the status, the headers, the
// request id and the rate-limit allowance of the answer. Client.Do calls a route the SDK does not
// cover on the same request path:
//
//	var resp dokstamp.Response
//	var types []dokstamp.DocumentType
//	err := c.Do(ctx, http.MethodGet, "/document-types?page=2", nil, &types,
//		dokstamp.WithRequestTimeout(5*time.Second), dokstamp.WithResponseInto(&resp))
//
// # Redirects
//
// A redirect within the API's origin (scheme, host and port) is followed. One to another origin
// is followed without the token, the tenant, the Referer and the call's own headers, and only
// for a request without a body; a request with a body (a password, a client secret, a PIN, a
// certificate) is refused with an error instead. The public file download follows its redirect
// to storage, with no token.
//
// # Errors
//
// Every non-2xx answer is an *Error (read it with errors.As) that matches ErrBadRequest,
// ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation, ErrRateLimited or ErrServer with
// errors.Is. A 2xx answer that is not the JSON expected is a *DecodeError. No error text and no
// log line holds a token, a client secret, a password or a PIN, in any spelling a server could
// echo it in.
//
// # Testing
//
// Package dokstamptest runs an in-memory DokStamp on loopback for your own tests.
package dokstamp
