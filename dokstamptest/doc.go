// Package dokstamptest runs an in-memory DokStamp API on loopback for tests,
// built on net/http/httptest.
//
//	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(5))
//	// point your client at srv.URL with srv.Token and srv.Tenant
//	certs := srv.Certificates()
//
// The server is seeded with one tenant holding an institution ("Acme
// University", PT, active), an active course on it and WithStudents(n)
// students, each with a completed enrollment on that course. It speaks the
// JSON of the public DokStamp documentation and enforces its rules: the
// Bearer token and X-Tenant headers (401), tenant isolation (404 on access,
// 422 on reference), required fields and foreign uuids (422), references
// across institutions (a certificate's course or template, a course's
// organization: 422), single-use files, content-hash de-duplication of
// uploads, the institution's default template (is_default) applied when a
// certificate omits template_uuid, with one default per institution, soft
// deletes with deletion protection (a student is also protected by the
// credential snapshot any issued certificate took, even once that
// certificate is deleted), pagination with meta.last_page and where/sort
// filters.
//
// Like the Laravel application behind the API, it answers JSON errors only
// to a client that asks for them with Accept: application/json (or another
// JSON type first, or an XMLHttpRequest): without it a validation failure is
// a 302 redirect back (to the Referer, else the site root), a missing login
// a 302 to /login, and any other error an HTML page with its status.
// Successes are JSON either way, and OAuth errors always are.
//
// Where the docs disagree, options choose: WithIssuanceFlag (does
// "status": "issued" or "finish": true issue a certificate?),
// WithSuccessFalse (the newer {"success":false,"message":...} error body) and
// WithModelNotFoundMessage (the older 404 text "No query results for model
// [...]"). Server.ExpireCertificate turns a certificate "expired".
//
// The package never imports the SDK: it models the wire format on its own, so
// that a mistake in the client's types is caught by the fake instead of being
// mirrored by it.
//
// # Faults
//
// Faults (latency, 5xx, 403 and 429 answers, a Laravel-style fixed-window
// rate limit with its X-RateLimit-* headers, a token-bucket rate limit, a
// redirect to another origin, "apply the write, then drop the connection"
// and "apply, then cut the body after the headers") are set with WithFaults
// or WithRouteFaults when the server is created, or SetFaults and
// SetRouteFaults while it runs. Each request goes through, in order: the
// redirect, the fixed window, the token bucket, a random 429, 403 or 5xx,
// the latency, and then the handler; the drop or the cut come after it. A
// redirect, 403, 429 or 5xx produced by a fault never applies the request.
// Server-wide faults apply to every tenant-scoped resource route (everything
// that needs X-Tenant, including POST /files and every list); they do not
// apply to the authentication routes (/oauth/token, /auth/*) nor to the public
// GET /files/{uuid}/download. Route faults apply to the route they name,
// whatever it is, and replace the server-wide faults for that route. Random
// draws come from one generator seeded by WithSeed, so sequential requests
// see the same fault sequence for the same seed.
//
// # Choices where the documentation is silent
//
// The limits below are the fake's choices, not documented facts: the docs
// give no maximum for any of them. Each has an option, so a test can check
// that a client follows the server's limit rather than a constant of its
// own.
//
//   - 100 uuids or document ids per batch request (WithMaxBatch).
//   - 100 files per upload (WithMaxUploadFiles).
//   - per_page 500 (WithMaxPerPage): a larger per_page is clamped to it and
//     meta.per_page reports the clamped value; a missing, non-numeric or
//     non-positive page is page 1, and per_page likewise defaults to 15.
//   - 50 MiB per file (WithMaxFileSize).
//
// Other choices:
//
//   - Only an active default template is applied; marking a template the
//     default unmarks the institution's previous one.
//   - Redirect faults point by default to the server's other origin
//     (Server.OtherOrigin), which serves the same data without faults.
//   - An expired certificate (Server.ExpireCertificate) can be neither
//     revoked nor changed (422).
//   - A deleted portfolio page keeps its slug taken; a renamed one frees its
//     old slug.
//   - where[...] equality ignores case, as MySQL's default collations do.
//   - An unknown where[...] field or sort[column] is a 422 with the error
//     under "where.<field>" or "sort.column". Certificates have no file_uuid
//     column (the file is only named in files[]), so where[file_uuid] is a 422.
//   - PUT and PATCH both update only the fields present in the body.
//   - Deleting an entity that others still reference (the table in the docs'
//     deletion rules) answers 422 {"message":"..."} and deletes nothing.
//   - DELETE /{resource}/batch/destroy {"uuids":[...]} answers 204. Uuids that
//     are unknown, already deleted or in another tenant are skipped, so a
//     repeated batch is harmless. More than WithMaxBatch uuids, an empty list
//     or a malformed uuid is a 422; if any listed entity is protected, the
//     answer is 422 and nothing is deleted.
//   - Revoking a certificate that is not issued answers 422
//     {"message":"Only issued certificates can be revoked."}.
//   - The fake, like the real API, does not refuse a second certificate for
//     the same student and course; Server.Duplicates reports them.
//   - Logging out revokes issued access tokens; the static Server.Token is
//     never revoked, so parallel users of one server are not disturbed.
//   - POST /files accepts at most WithMaxUploadFiles parts per request, each
//     at most WithMaxFileSize bytes (422 above).
//   - A file attached to a certificate cannot be deleted (422).
package dokstamptest
