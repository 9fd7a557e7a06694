package dokstamp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writes counts the requests of srv that are not GETs.
func writes(srv *dokstamptest.Server) int {
	n := 0
	for route, byStatus := range srv.Requests() {
		if !strings.HasPrefix(route, "GET ") {
			for _, k := range byStatus {
				n += k
			}
		}
	}
	return n
}

func TestPlan(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(8))
	c, _ := batchClient(t, srv, batchRetry)
	ctx := context.Background()
	dir := t.TempDir()
	gs := batchGraduates(t, srv, dir, 8, 0)

	// Graduate 0 holds an issued certificate, graduate 1 a revoked one (which blocks nothing).
	pre := batchUpload(t, c, 2, 100)
	held, err := c.Certificates.Create(ctx, &CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		StudentUUID: srv.StudentUUIDs[0], FileUUID: pre[0].UUID, Status: StatusIssued})
	require.NoError(t, err)
	old, err := c.Certificates.Create(ctx, &CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		StudentUUID: srv.StudentUUIDs[1], FileUUID: pre[1].UUID, Status: StatusIssued})
	require.NoError(t, err)
	_, err = c.Certificates.Revoke(ctx, old.UUID, "typo")
	require.NoError(t, err)

	gs[2].StudentUUID = "7d0c2a8e-3b1f-4c5d-9e6f-0a1b2c3d4e5f" // no such student
	notPDF := filepath.Join(dir, "photo.pdf")
	require.NoError(t, os.WriteFile(notPDF, []byte("\x89PNG\r\n\x1a\n not a pdf"), 0o600))
	gs[3].File = UploadFile(notPDF)
	gs[4].File = UploadFile(filepath.Join(dir, "missing.pdf"))
	same := filepath.Join(dir, "copy-of-5.pdf")
	require.NoError(t, os.WriteFile(same, diplomaPDF(5), 0o600))
	gs[6].File = UploadFile(same) // byte-identical to graduate 5's
	srv.ResetRequests()

	plan, err := c.Batch.Plan(ctx, IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Graduates: gs, Status: StatusIssued}, nil)
	require.NoError(t, err)
	require.Len(t, plan.Items, 8)
	want := []PlanAction{PlanAlreadyIssued, PlanIssue, PlanBlocked, PlanBlocked, PlanBlocked, PlanBlocked, PlanBlocked, PlanIssue}
	for i, it := range plan.Items {
		assert.Equal(t, i, it.Index)
		assert.Equal(t, want[i], it.Action, "graduate %d: %s", i, it.Reason)
	}
	require.NotNil(t, plan.Items[0].Existing)
	assert.Equal(t, held.UUID, plan.Items[0].Existing.UUID)
	assert.Nil(t, plan.Items[1].Existing, "a revoked certificate is not held")
	assert.Contains(t, plan.Items[2].Reason, "student "+gs[2].StudentUUID+" is unknown")
	assert.Contains(t, plan.Items[3].Reason, "not a PDF")
	assert.Contains(t, plan.Items[4].Reason, "unreadable")
	assert.Contains(t, plan.Items[5].Reason, "byte-identical to graduate 6's")
	assert.Contains(t, plan.Items[6].Reason, "byte-identical to graduate 5's")
	assert.Equal(t, 2, plan.ToIssue)
	assert.Equal(t, 1, plan.AlreadyIssued)
	assert.Equal(t, 5, plan.Blocked)
	assert.Zero(t, writes(srv), "a plan sends no write")
	assert.Zero(t, srv.RequestCount("POST /files"))

	// Issue runs the same plan: the blocked graduates fail with ErrBlocked, nothing is uploaded for
	// them, and the already issued one is reported so.
	srv.ResetRequests()
	rep, err := c.Batch.Issue(ctx, IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Graduates: gs, Status: StatusIssued}, nil)
	require.NoError(t, err)
	assert.True(t, rep.Results[0].AlreadyIssued)
	assert.Equal(t, held.UUID, rep.Results[0].Certificate.UUID)
	for _, i := range []int{2, 3, 4, 5, 6} {
		assert.ErrorIs(t, rep.Results[i].Err, ErrBlocked, "graduate %d", i)
	}
	assert.NoError(t, rep.Results[1].Err)
	assert.NoError(t, rep.Results[7].Err)
	assert.Equal(t, 3, rep.Succeeded)
	assert.Equal(t, 1, rep.AlreadyIssued)
	assert.Equal(t, 5, rep.Failed)
	assert.Equal(t, 2, srv.RequestCount("POST /certificates"))
	assert.Empty(t, srv.Duplicates())
}

func TestPlanUnknownCourse(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(2))
	c, _ := batchClient(t, srv, batchRetry)
	gs := batchGraduates(t, srv, t.TempDir(), 2, 0)
	plan, err := c.Batch.Plan(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: "7d0c2a8e-3b1f-4c5d-9e6f-0a1b2c3d4e5f", Graduates: gs}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, plan.Blocked)
	assert.Contains(t, plan.Items[0].Reason, "course 7d0c2a8e-3b1f-4c5d-9e6f-0a1b2c3d4e5f is unknown")
}

// TestPlanRequestsScaleWithPages: learning the students and the course's certificates of a run
// of n graduates takes a few paged listings, not one look-up per graduate.
func TestPlanRequestsScaleWithPages(t *testing.T) {
	t.Parallel()
	const n = 450
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, n, 0)
	_, err := c.Batch.IssueCertificates(context.Background(), items[:300], nil)
	require.NoError(t, err)
	gs := batchGraduates(t, srv, t.TempDir(), n, 1000)
	srv.ResetRequests()
	plan, err := c.Batch.Plan(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Graduates: gs}, nil)
	require.NoError(t, err)
	assert.Equal(t, 300, plan.AlreadyIssued)
	assert.Equal(t, 150, plan.ToIssue)
	pages := (300+planPerPage-1)/planPerPage + (n+planPerPage-1)/planPerPage
	total := 0
	for _, byStatus := range srv.Requests() {
		for _, k := range byStatus {
			total += k
		}
	}
	assert.LessOrEqual(t, total, pages+2, "requests: %v", srv.Requests())
	assert.LessOrEqual(t, srv.RequestCount("GET /students/{uuid}"), 0)
}

// TestIssueRerunWithoutJournalOverRegeneratedPDFs: the journal is lost and the PDFs regenerated
// (new bytes, so new file records): the rerun finds every graduate holding their certificate and
// creates none.
func TestIssueRerunWithoutJournalOverRegeneratedPDFs(t *testing.T) {
	t.Parallel()
	const n = 30
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, batchRetry)
	job := IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Status: StatusIssued,
		Graduates: batchGraduates(t, srv, t.TempDir(), n, 0)}
	rep, err := c.Batch.Issue(context.Background(), job, nil)
	require.NoError(t, err)
	require.Equal(t, n, rep.Succeeded)

	job.Graduates = batchGraduates(t, srv, t.TempDir(), n, 500) // regenerated: other bytes
	srv.ResetRequests()
	rep, err = c.Batch.Issue(context.Background(), job, nil)
	require.NoError(t, err)
	assert.Equal(t, n, rep.AlreadyIssued)
	assert.Equal(t, n, rep.Succeeded)
	assert.Len(t, srv.Certificates(), n, "no second certificate for anyone")
	assert.Empty(t, srv.Duplicates())
	assert.Zero(t, writes(srv), "nothing uploaded, nothing created")
}

// TestIssueCertificatesServerRecords: an active certificate on the course blocks a second one, a
// revoked one does not; AllowSeveralPerStudent turns the rule off.
func TestIssueCertificatesServerRecords(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(3))
	c, _ := batchClient(t, srv, batchRetry)
	ctx := context.Background()
	first := batchItems(t, srv, c, 2, 0)
	held, err := c.Certificates.Create(ctx, &first[0])
	require.NoError(t, err)
	old, err := c.Certificates.Create(ctx, &first[1])
	require.NoError(t, err)
	_, err = c.Certificates.Revoke(ctx, old.UUID, "")
	require.NoError(t, err)

	items := batchItems(t, srv, c, 3, 10)
	rep, err := c.Batch.IssueCertificates(ctx, items, nil)
	require.NoError(t, err)
	assert.True(t, rep.Results[0].AlreadyIssued)
	assert.Equal(t, held.UUID, rep.Results[0].Certificate.UUID)
	assert.False(t, rep.Results[1].AlreadyIssued, "revoked blocks nothing")
	assert.NotEqual(t, old.UUID, rep.Results[1].Certificate.UUID)
	assert.Equal(t, StatusIssued, rep.Results[1].Certificate.Status)
	assert.Equal(t, 3, rep.Succeeded)
	assert.Equal(t, 1, rep.AlreadyIssued)
	assert.Len(t, srv.Certificates(), 4, "held, revoked, and two new")

	// Turned off, a second certificate is issued to student 0.
	again := batchItems(t, srv, c, 1, 20)
	rep, err = c.Batch.IssueCertificates(ctx, again, &BatchOptions{AllowSeveralPerStudent: true})
	require.NoError(t, err)
	assert.False(t, rep.Results[0].AlreadyIssued)
	assert.NotEqual(t, held.UUID, rep.Results[0].Certificate.UUID)
	assert.Len(t, srv.Certificates(), 5)
}

// honourOnly rewrites every POST /certificates body before it reaches srv, dropping what a
// server honouring only one of the docs' two ways to issue would ignore: "finish" (it honours
// status) or "status" and "issued_at" (it honours finish).
type honourOnly struct {
	field string // "status" or "finish"
	next  http.RoundTripper
}

func (h *honourOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/certificates" {
		return h.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if h.field == "status" {
		delete(m, "finish")
	} else {
		delete(m, "status")
		delete(m, "issued_at")
	}
	body, _ = json.Marshal(m)
	r2 := r.Clone(r.Context())
	r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return h.next.RoundTrip(r2)
}

func TestIssuedMeansIssued(t *testing.T) {
	t.Parallel()
	for _, honoured := range []string{"status", "finish"} {
		t.Run("honours only "+honoured, func(t *testing.T) {
			t.Parallel()
			srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(6))
			_, tr := batchClient(t, srv, batchRetry)
			c, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithRetry(batchRetry),
				WithHTTPClient(&http.Client{Transport: &honourOnly{field: honoured, next: tr}}))
			require.NoError(t, err)

			// Issue asks both ways: issued whichever the server honours.
			gs := batchGraduates(t, srv, t.TempDir(), 3, 0)
			rep, err := c.Batch.Issue(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Graduates: gs, Status: StatusIssued}, nil)
			require.NoError(t, err)
			assert.Equal(t, 3, rep.Succeeded)
			for _, sc := range srv.Certificates() {
				assert.Equal(t, "issued", sc.Status)
			}

			// Items asking one way only, the way this server ignores: drafts, reported as failures
			// naming the status.
			items := batchItems(t, srv, c, 6, 100)[3:]
			for i := range items {
				items[i].Status, items[i].Finish = "", nil
				if honoured == "status" {
					items[i].Finish = &finishTrue
				} else {
					items[i].Status = StatusIssued
				}
			}
			rep, err = c.Batch.IssueCertificates(context.Background(), items, nil)
			require.NoError(t, err)
			assert.Equal(t, 3, rep.Failed)
			assert.Zero(t, rep.Succeeded)
			for _, r := range rep.Results {
				assert.ErrorContains(t, r.Err, "is draft, not issued")
				require.NotNil(t, r.Certificate, "the draft is named in the result")
			}
			assert.False(t, errors.Is(rep.Err(), ErrBlocked))
		})
	}
}
