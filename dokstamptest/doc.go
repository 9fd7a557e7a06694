// Package dokstamptest runs an in-memory DokStamp API on loopback for tests,
// in the spirit of net/http/httptest.
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
// 422 on reference), required fields and foreign uuids (422), single-use files,
// content-hash de-duplication of uploads, soft deletes with deletion
// protection, pagination with meta.last_page and where/sort filters.
//
// The package never imports the SDK: it models the wire format on its own, so
// that a mistake in the client's types is caught by the fake instead of being
// mirrored by it.
//
// # Faults
//
// Faults (latency, 5xx answers, 429 answers with Retry-After, a token-bucket
// rate limit, and "apply the write, then drop the connection") are set with
// WithFaults or WithRouteFaults when the server is created, or SetFaults and
// SetRouteFaults while it runs. Each request goes through, in order: the
// rate-limit bucket, a random 429, a random 5xx, the latency, and then the
// handler. A 429 or 5xx produced by a fault never applies the request.
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
//   - per_page above the maximum (WithMaxPerPage, default 500) is clamped to
//     it and meta.per_page reports the clamped value; a missing, non-numeric
//     or non-positive page is page 1, and per_page likewise defaults to 15.
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
//   - POST /files accepts at most WithMaxBatch parts per request (422 above).
//   - A file attached to a certificate cannot be deleted (422).
package dokstamptest
