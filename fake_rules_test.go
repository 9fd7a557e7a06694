package dokstamp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests hold the SDK to the rules dokstamptest enforces beyond the basics: each rule and
// each fault of the fake, seen through the client.

// fakeCert is a valid create for seeded student i with a fresh file.
func fakeCert(t *testing.T, c *Client, srv *dokstamptest.Server, i int, tag string) *CertificateCreateParams {
	t.Helper()
	files, err := c.Files.Upload(context.Background(), UploadBytes(tag+".pdf", []byte("%PDF-1.4\n% "+tag+"\n%%EOF\n")))
	require.NoError(t, err)
	return &CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		StudentUUID: srv.StudentUUIDs[i], FileUUID: files[0].UUID}
}

// stripAccept is a transport that drops the Accept header, as a client that forgot it would.
type stripAccept struct{ rt http.RoundTripper }

func (s stripAccept) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Accept")
	return s.rt.RoundTrip(r)
}

func TestFakeErrorsAreJSONOnlyForAcceptJSON(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	c, tr := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()
	_, err := c.Students.Create(ctx, &StudentCreateParams{Name: "A", Email: srv.Email, DateOfBirth: "2000-01-01"})
	require.NoError(t, err)
	_, err = c.Students.Create(ctx, &StudentCreateParams{Name: "B", Email: srv.Email, DateOfBirth: "2000-01-01"})
	var e *Error
	require.ErrorAs(t, err, &e, "the SDK sends Accept: application/json, so the 422 is JSON")
	assert.Equal(t, http.StatusUnprocessableEntity, e.StatusCode)
	assert.Contains(t, e.Errors, "email")

	// Without Accept the same failure is a redirect, and no validation error can be read.
	blind, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL),
		WithHTTPClient(&http.Client{Transport: stripAccept{tr}}), WithRetry(RetryPolicy{}))
	require.NoError(t, err)
	list, err := blind.Students.List(ctx, nil)
	require.NoError(t, err, "successes stay JSON")
	assert.NotEmpty(t, list.Data)
	_, err = blind.Students.Create(ctx, &StudentCreateParams{Name: "B", Email: srv.Email, DateOfBirth: "2000-01-01"})
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrValidation), "%v", err)
}

func TestFakeDefaultTemplateThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	c, _ := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()
	tp, err := c.Templates.Create(ctx, &TemplateCreateParams{Name: "Diploma", Version: "1", InstitutionUUID: srv.InstitutionUUID,
		Path: "t/diploma", IsDefault: Ptr(true)})
	require.NoError(t, err)
	cert, err := c.Certificates.Create(ctx, fakeCert(t, c, srv, 0, "default"))
	require.NoError(t, err)
	require.NotNil(t, cert.Template)
	assert.Equal(t, tp.UUID, cert.Template.UUID)

	tp2, err := c.Templates.Create(ctx, &TemplateCreateParams{Name: "Diploma 2", Version: "2", InstitutionUUID: srv.InstitutionUUID,
		Path: "t/diploma2", IsDefault: Ptr(true)})
	require.NoError(t, err)
	old, err := c.Templates.Get(ctx, tp.UUID)
	require.NoError(t, err)
	assert.False(t, old.IsDefault, "one default per institution")
	cert, err = c.Certificates.Create(ctx, fakeCert(t, c, srv, 1, "default2"))
	require.NoError(t, err)
	assert.Equal(t, tp2.UUID, cert.Template.UUID)
}

func TestFakeCrossInstitutionThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	c, _ := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()
	other, err := c.Institutions.Create(ctx, &InstitutionCreateParams{Name: "Other", Country: "BR"})
	require.NoError(t, err)
	course, err := c.Courses.Create(ctx, &CourseCreateParams{Name: "Law", InstitutionUUID: other.UUID})
	require.NoError(t, err)
	p := fakeCert(t, c, srv, 0, "cross")
	p.CourseUUID = course.UUID
	_, err = c.Certificates.Create(ctx, p)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, e.Errors, "course_uuid")
	assert.Empty(t, srv.Certificates())
}

func TestFakeSnapshotProtectsStudentThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	c, _ := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()
	st, err := c.Students.Create(ctx, &StudentCreateParams{Name: "Ana", Email: "ana@x.test", DateOfBirth: "2001-01-01"})
	require.NoError(t, err)
	p := fakeCert(t, c, srv, 0, "snap")
	p.StudentUUID, p.Status = st.UUID, StatusIssued
	cert, err := c.Certificates.Create(ctx, p)
	require.NoError(t, err)
	require.NoError(t, c.Certificates.Delete(ctx, cert.UUID))
	err = c.Students.Delete(ctx, st.UUID)
	assert.ErrorIs(t, err, ErrValidation)
	assert.ErrorContains(t, err, "snapshot")
	_, err = c.Students.Get(ctx, st.UUID)
	assert.NoError(t, err)
}

func TestFakeIssuanceFlagThroughSDK(t *testing.T) {
	t.Parallel()
	for flag, want := range map[dokstamptest.IssuanceFlag][2]CertificateStatus{
		dokstamptest.IssueByStatus: {StatusIssued, StatusDraft},
		dokstamptest.IssueByFinish: {StatusDraft, StatusIssued},
		dokstamptest.IssueByEither: {StatusIssued, StatusIssued},
	} {
		srv := dokstamptest.NewServer(t, dokstamptest.WithIssuanceFlag(flag))
		c, _ := batchClient(t, srv, RetryPolicy{})
		p := fakeCert(t, c, srv, 0, "status")
		p.Status = StatusIssued
		byStatus, err := c.Certificates.Create(context.Background(), p)
		require.NoError(t, err)
		p = fakeCert(t, c, srv, 1, "finish")
		p.Finish = Ptr(true)
		byFinish, err := c.Certificates.Create(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, want, [2]CertificateStatus{byStatus.Status, byFinish.Status}, "flag %s", flag)
	}
}

func TestFakeErrorShapesThroughSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	missing := "00000000-0000-4000-8000-00000000abcd"
	for _, tc := range []struct {
		opt  dokstamptest.Option
		want string
	}{
		{dokstamptest.WithSuccessFalse(), "Resource not found."},
		{dokstamptest.WithModelNotFoundMessage(), `No query results for model [App\Certificate] ` + missing},
	} {
		srv := dokstamptest.NewServer(t, tc.opt)
		c, _ := batchClient(t, srv, RetryPolicy{})
		_, err := c.Certificates.Get(ctx, missing)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, tc.want, e.Message)
	}
	srv := dokstamptest.NewServer(t, dokstamptest.WithSuccessFalse())
	c, tr := batchClient(t, srv, RetryPolicy{})
	// The condition under test: the server does send success:false.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/students", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.JSONEq(t, `{"success":false,"message":"Unauthenticated."}`, string(raw))

	_, err = c.Students.Create(ctx, &StudentCreateParams{Name: "x", Email: srv.Email, DateOfBirth: "2000-01-01"})
	require.NoError(t, err)
	_, err = c.Students.Create(ctx, &StudentCreateParams{Name: "x", Email: srv.Email, DateOfBirth: "2000-01-01"})
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Contains(t, e.Errors, "email", "a success:false body still yields its errors")
}

func TestFakeExpiredCertificateThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	c, _ := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()
	p := fakeCert(t, c, srv, 0, "expired")
	p.Status = StatusIssued
	cert, err := c.Certificates.Create(ctx, p)
	require.NoError(t, err)
	require.NoError(t, srv.ExpireCertificate(cert.UUID))
	got, err := c.Certificates.Get(ctx, cert.UUID)
	require.NoError(t, err)
	assert.Equal(t, StatusExpired, got.Status)
	_, err = c.Certificates.Revoke(ctx, cert.UUID, "too late")
	assert.ErrorIs(t, err, ErrValidation)
}

func TestFakeForbiddenThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithRouteFaults("GET /students/{uuid}", dokstamptest.Faults{ForbiddenRate: 1}))
	c, _ := batchClient(t, srv, batchRetry)
	_, err := c.Students.Get(context.Background(), srv.StudentUUIDs[0])
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, 1, srv.RequestCount("GET /students/{uuid}"), "a 403 is not retried")
}

func TestFakeFixedWindowThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithFaults(dokstamptest.Faults{WindowLimit: 2}))
	c, _ := batchClient(t, srv, RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		_, err := c.Students.Get(ctx, srv.StudentUUIDs[0])
		require.NoError(t, err)
	}
	_, err := c.Students.Get(ctx, srv.StudentUUIDs[0])
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Greater(t, e.RetryAfter, time.Duration(0), "Retry-After read from the window's 429")
	assert.Equal(t, map[int]int{200: 2, 429: 2}, srv.Requests()["GET /students/{uuid}"])
}

func TestFakePortfolioPagesThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	c, _ := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()
	st := srv.StudentUUIDs[0]
	pg, err := c.Students.CreatePage(ctx, st, &PortfolioPageCreateParams{Slug: "student-one", IsPublic: Ptr(true)})
	require.NoError(t, err)
	up, err := c.Students.UpdatePage(ctx, st, pg.UUID, &PortfolioPageUpdateParams{IsPublic: Ptr(false)})
	require.NoError(t, err)
	assert.False(t, up.IsPublic)
	got, err := c.Students.GetPage(ctx, st, pg.UUID)
	require.NoError(t, err)
	assert.Equal(t, "student-one", got.Slug)
	assert.False(t, got.IsPublic)
	require.NoError(t, c.Students.DeletePage(ctx, st, pg.UUID))
	_, err = c.Students.GetPage(ctx, st, pg.UUID)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestFakeRedirectThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t,
		dokstamptest.WithRouteFaults("GET /students/{uuid}", dokstamptest.Faults{RedirectStatus: http.StatusTemporaryRedirect}),
		dokstamptest.WithRouteFaults("POST /students", dokstamptest.Faults{RedirectStatus: http.StatusPermanentRedirect}))
	c, _ := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()

	// A read follows the redirect to the other origin, without credentials or tenant.
	_, err := c.Students.Get(ctx, srv.StudentUUIDs[0])
	assert.ErrorIs(t, err, ErrUnauthorized)
	seen := srv.OtherOriginRequests()
	require.Len(t, seen, 1)
	assert.Equal(t, http.MethodGet, seen[0].Method)
	assert.Empty(t, seen[0].Header.Get("Authorization"))
	assert.Empty(t, seen[0].Header.Get("X-Tenant"))

	// A write with a body is not sent there at all.
	_, err = c.Students.Create(ctx, &StudentCreateParams{Name: "x", Email: "x@y.test", DateOfBirth: "2000-01-01"})
	assert.ErrorContains(t, err, "another origin")
	assert.Len(t, srv.OtherOriginRequests(), 1)
	_, err = c.Students.FindByEmail(ctx, "x@y.test")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestFakeCutBodyThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithRouteFaults("POST /certificates", dokstamptest.Faults{CutBodyRate: 1}))
	c, _ := batchClient(t, srv, RetryPolicy{})
	_, err := c.Certificates.Create(context.Background(), fakeCert(t, c, srv, 0, "cut"))
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "a 201 whose body is cut leaves the outcome unknown")
	assert.Len(t, srv.Certificates(), 1, "although the write took effect")
	assert.Equal(t, 1, srv.RequestCount("POST /certificates"), "and it is not sent again")
}

func TestFakeRateLimitHeadersThroughSDK(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithRouteFaults("GET /students/{uuid}", dokstamptest.Faults{WindowLimit: 2}))
	c, _ := batchClient(t, srv, RetryPolicy{})
	ctx := context.Background()
	var resp Response
	_, err := c.Students.Get(ctx, srv.StudentUUIDs[0], WithResponseInto(&resp))
	require.NoError(t, err)
	assert.Equal(t, 2, resp.RateLimit.Limit)
	assert.Equal(t, 1, resp.RateLimit.Remaining)
	_, err = c.Students.Get(ctx, srv.StudentUUIDs[0])
	require.NoError(t, err)
	_, err = c.Students.Get(ctx, srv.StudentUUIDs[0], WithResponseInto(&resp))
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Zero(t, resp.RateLimit.Remaining)
	assert.WithinDuration(t, time.Now().Add(time.Minute), resp.RateLimit.Reset, 2*time.Second)
}

func TestFakeCutBodiesDuringABulkRun(t *testing.T) {
	t.Parallel()
	const n = 30
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n), dokstamptest.WithSeed(3),
		dokstamptest.WithRouteFaults("POST /certificates", dokstamptest.Faults{CutBodyRate: 0.3}))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, n, 0)
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 4})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	assert.Equal(t, n, srv.Requests()["POST /certificates"][201], "every create was sent once: the cut answers were settled by look-up")
	assert.Positive(t, srv.RequestCount("GET /certificates"), "some answers were cut, and looked up")
}

// TestFakeUploadChunksFollowTheServersLimit: the upload chunking of Issue is BatchOptions'
// UploadChunkFiles, not a constant: against a server that takes 4 files per upload, the default
// chunk (DefaultUploadChunkFiles) is refused and a chunk of 4 goes through.
func TestFakeUploadChunksFollowTheServersLimit(t *testing.T) {
	t.Parallel()
	const n = 10
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n), dokstamptest.WithMaxUploadFiles(4))
	c, _ := batchClient(t, srv, batchRetry)
	job := IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		Graduates: batchGraduates(t, srv, t.TempDir(), n, 0), Status: StatusIssued}
	rep, err := c.Batch.Issue(context.Background(), job, nil)
	require.NoError(t, err)
	assert.Equal(t, n, rep.Failed, "no chunk of the default size fits")
	assert.ErrorIs(t, rep.Results[0].Err, ErrValidation)
	assert.Empty(t, srv.Files())

	rep, err = c.Batch.Issue(context.Background(), job, &BatchOptions{UploadChunkFiles: 4})
	require.NoError(t, err)
	assert.Equal(t, n, rep.Succeeded)
	assert.Equal(t, 3, srv.Requests()["POST /files"][201], "10 files in chunks of 4")
	assert.Len(t, srv.Certificates(), n)
}
