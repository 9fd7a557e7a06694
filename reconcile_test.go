package dokstamp_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// reconcileFixture is a course on dokstamptest with one student in each of Reconcile's cases.
type reconcileFixture struct {
	srv *dokstamptest.Server
	c   *dokstamp.Client
	n   atomic.Int64 // distinct PDF bytes per upload
}

func newReconcileFixture(t testing.TB, students int, opts ...dokstamptest.Option) *reconcileFixture {
	t.Helper()
	srv := dokstamptest.NewServer(t, append([]dokstamptest.Option{dokstamptest.WithStudents(students)}, opts...)...)
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken(srv.Token), dokstamp.WithTenant(srv.Tenant))
	require.NoError(t, err)
	return &reconcileFixture{srv: srv, c: c}
}

// cert creates a certificate for student on the seeded course: status draft, issued, or revoked
// (issued, then revoked).
func (f *reconcileFixture) cert(t testing.TB, student, status, cohort string) *dokstamp.Certificate {
	t.Helper()
	ctx := context.Background()
	pdf := fmt.Sprintf("%%PDF-1.4\n%% reconcile %d\n%%%%EOF\n", f.n.Add(1))
	files, err := f.c.Files.Upload(ctx, dokstamp.UploadBytes("d.pdf", []byte(pdf)))
	require.NoError(t, err)
	p := &dokstamp.CertificateCreateParams{InstitutionUUID: f.srv.InstitutionUUID, CourseUUID: f.srv.CourseUUID,
		StudentUUID: student, FileUUID: files[0].UUID, CohortUUID: cohort, Status: dokstamp.StatusIssued}
	if status == "draft" {
		p.Status = dokstamp.StatusDraft
	}
	cert, err := f.c.Certificates.Create(ctx, p)
	require.NoError(t, err)
	if status == "revoked" {
		cert, err = f.c.Certificates.Revoke(ctx, cert.UUID, "wrong name")
		require.NoError(t, err)
	}
	return cert
}

func studentsOf(entries []dokstamp.ReconcileEntry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Student.UUID)
	}
	sort.Strings(out)
	return out
}

func certsOf(e dokstamp.ReconcileEntry) []string {
	out := []string{}
	for _, c := range e.Certificates {
		out = append(out, c.UUID)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

func TestReconcileFindsEachCategory(t *testing.T) {
	t.Parallel()
	f := newReconcileFixture(t, 8)
	ctx := context.Background()
	s := f.srv.StudentUUIDs // each with a completed enrollment on the course

	f.cert(t, s[0], "issued", "")                                                  // fine
	dup1, dup2 := f.cert(t, s[2], "issued", ""), f.cert(t, s[2], "issued", "")     // duplicate
	rev := f.cert(t, s[3], "revoked", "")                                          // missing + revoked, not replaced
	f.cert(t, s[4], "revoked", "")                                                 // replaced:
	f.cert(t, s[4], "issued", "")                                                  //   fine
	draft := f.cert(t, s[5], "draft", "")                                          // a draft: not missing
	issued6, draft6 := f.cert(t, s[6], "issued", ""), f.cert(t, s[6], "draft", "") // duplicate + draft
	// s[1] and s[7]: completed, nothing issued: missing

	// A student with no enrollment whose certificate was revoked, and one enrolled who has not
	// completed the course.
	other, err := f.c.Students.Create(ctx, &dokstamp.StudentCreateParams{Name: "Transfer Out", Email: "transfer@acme.example", DateOfBirth: "2001-02-03"})
	require.NoError(t, err)
	revOther := f.cert(t, other.UUID, "revoked", "")
	studying, err := f.c.Students.Create(ctx, &dokstamp.StudentCreateParams{Name: "Still Studying", Email: "still@acme.example", DateOfBirth: "2003-05-04"})
	require.NoError(t, err)
	_, err = f.c.Enrollments.Create(ctx, &dokstamp.EnrollmentCreateParams{StudentUUID: studying.UUID, CourseUUID: f.srv.CourseUUID, EnrolledAt: "2024-09-16"})
	require.NoError(t, err)

	for _, perPage := range []int{2, 0} {
		t.Run(fmt.Sprintf("per_page=%d", perPage), func(t *testing.T) {
			r, err := f.c.Certificates.Reconcile(ctx, dokstamp.ReconcileQuery{CourseUUID: f.srv.CourseUUID, PerPage: perPage})
			require.NoError(t, err)
			assert.Equal(t, 8, r.Enrollments, "completed enrollments only")
			assert.Equal(t, 10, r.Certificates)
			assert.False(t, r.Clean())
			assert.Equal(t, map[dokstamp.CertificateStatus]int{"issued": 5, "revoked": 3, "draft": 2}, r.Statuses)
			assert.Equal(t, sorted(s[0], s[2], s[4], s[5], s[6]), studentsOf(r.Certified))

			t.Run("missing", func(t *testing.T) {
				assert.Equal(t, sorted(s[1], s[3], s[7]), studentsOf(r.Missing))
				for _, e := range r.Missing {
					require.NotNil(t, e.Enrollment)
					assert.Equal(t, e.Student.UUID, e.Enrollment.Student.UUID)
					assert.NotEmpty(t, e.Student.Name)
					if e.Student.UUID == s[3] {
						assert.Equal(t, []string{rev.UUID}, certsOf(e), "the revoked certificate is shown beside the missing one")
					} else {
						assert.Empty(t, e.Certificates)
					}
				}
			})
			t.Run("duplicates", func(t *testing.T) {
				require.Equal(t, sorted(s[2], s[6]), studentsOf(r.Duplicates))
				for _, e := range r.Duplicates {
					want := sorted(dup1.UUID, dup2.UUID)
					if e.Student.UUID == s[6] {
						want = sorted(issued6.UUID, draft6.UUID)
					}
					assert.Equal(t, want, certsOf(e))
				}
			})
			t.Run("revoked not replaced", func(t *testing.T) {
				require.Equal(t, sorted(s[3], other.UUID), studentsOf(r.RevokedNotReplaced))
				for _, e := range r.RevokedNotReplaced {
					want := []string{rev.UUID}
					if e.Student.UUID == other.UUID {
						want = []string{revOther.UUID}
						assert.Equal(t, "Transfer Out", e.Student.Name)
					}
					assert.Equal(t, want, certsOf(e))
					assert.Nil(t, e.Enrollment)
				}
			})
			t.Run("drafts", func(t *testing.T) {
				require.Equal(t, sorted(s[5], s[6]), studentsOf(r.Drafts))
				for _, e := range r.Drafts {
					want := []string{draft.UUID}
					if e.Student.UUID == s[6] {
						want = []string{draft6.UUID}
					}
					assert.Equal(t, want, certsOf(e))
				}
			})
			for _, list := range [][]dokstamp.ReconcileEntry{r.Missing, r.Duplicates, r.RevokedNotReplaced, r.Drafts} {
				assert.NotContains(t, studentsOf(list), s[0], "the student with one issued certificate is fine")
				assert.NotContains(t, studentsOf(list), studying.UUID, "an enrollment not completed is not missing")
			}
		})
	}
}

func TestReconcileCohort(t *testing.T) {
	t.Parallel()
	f := newReconcileFixture(t, 2)
	ctx := context.Background()
	cohort, err := f.c.Cohorts.Create(ctx, &dokstamp.CohortCreateParams{CourseUUID: f.srv.CourseUUID, Code: "2026-A"})
	require.NoError(t, err)
	var inCohort []string
	for i := 0; i < 3; i++ {
		st, err := f.c.Students.Create(ctx, &dokstamp.StudentCreateParams{Name: fmt.Sprintf("Cohort %d", i), Email: fmt.Sprintf("c%d@acme.example", i), DateOfBirth: "2002-01-01"})
		require.NoError(t, err)
		_, err = f.c.Enrollments.Create(ctx, &dokstamp.EnrollmentCreateParams{StudentUUID: st.UUID, CourseUUID: f.srv.CourseUUID,
			CohortUUID: cohort.UUID, EnrolledAt: "2024-09-16", CompletionStatus: dokstamp.CompletionCompleted, CompletedAt: "2026-06-30"})
		require.NoError(t, err)
		inCohort = append(inCohort, st.UUID)
	}
	f.cert(t, inCohort[0], "issued", cohort.UUID)
	f.cert(t, inCohort[1], "draft", cohort.UUID)

	f.srv.ResetRequests()
	r, err := f.c.Certificates.Reconcile(ctx, dokstamp.ReconcileQuery{CourseUUID: f.srv.CourseUUID, CohortUUID: cohort.UUID, PerPage: 1})
	require.NoError(t, err)
	assert.Equal(t, 3, f.srv.RequestCount("GET /enrollments"), "the cohort is filtered by the server, a page per enrollment")
	assert.Equal(t, 2, f.srv.RequestCount("GET /certificates"))
	assert.Equal(t, 3, r.Enrollments, "only the cohort's enrollments")
	assert.Equal(t, 2, r.Certificates)
	assert.Equal(t, []string{inCohort[2]}, studentsOf(r.Missing), "the seeded students outside the cohort are not listed")
	assert.Equal(t, []string{inCohort[1]}, studentsOf(r.Drafts))

	whole, err := f.c.Certificates.Reconcile(ctx, dokstamp.ReconcileQuery{CourseUUID: f.srv.CourseUUID})
	require.NoError(t, err)
	assert.Equal(t, sorted(inCohort[2], f.srv.StudentUUIDs[0], f.srv.StudentUUIDs[1]), studentsOf(whole.Missing))
}

func TestReconcileClean(t *testing.T) {
	t.Parallel()
	f := newReconcileFixture(t, 3)
	for _, s := range f.srv.StudentUUIDs {
		f.cert(t, s, "issued", "")
	}
	r, err := f.c.Certificates.Reconcile(context.Background(), dokstamp.ReconcileQuery{CourseUUID: f.srv.CourseUUID})
	require.NoError(t, err)
	assert.True(t, r.Clean(), "%+v", r)
	assert.Equal(t, 3, r.Enrollments)
	assert.Equal(t, 3, r.Certificates)
}

func TestReconcileBadInput(t *testing.T) {
	t.Parallel()
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL("http://127.0.0.1:1"), dokstamp.WithToken("t"), dokstamp.WithTenant("x"))
	require.NoError(t, err)
	ctx := context.Background()
	for _, tc := range []struct {
		q    dokstamp.ReconcileQuery
		want string
	}{
		{dokstamp.ReconcileQuery{}, "course_uuid"},
		{dokstamp.ReconcileQuery{CourseUUID: "CS-101"}, "course_uuid"},
		{dokstamp.ReconcileQuery{CourseUUID: "1b4e28ba-2fa1-41d2-883f-0016d3cca427", CohortUUID: "2026"}, "cohort_uuid"},
		{dokstamp.ReconcileQuery{CourseUUID: "1b4e28ba-2fa1-41d2-883f-0016d3cca427", PerPage: -1}, "per_page"},
	} {
		_, err := c.Certificates.Reconcile(ctx, tc.q)
		assert.ErrorContains(t, err, tc.want, "%+v", tc.q)
	}
	//lint:ignore SA1012 a nil context is the bad input under test
	_, err = c.Certificates.Reconcile(nil, dokstamp.ReconcileQuery{CourseUUID: "1b4e28ba-2fa1-41d2-883f-0016d3cca427"})
	assert.ErrorContains(t, err, "nil context")
}

func TestReconcileListingError(t *testing.T) {
	t.Parallel()
	f := newReconcileFixture(t, 1)
	f.srv.SetRouteFaults("GET /certificates", dokstamptest.Faults{ErrorRate: 1})
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(f.srv.URL), dokstamp.WithToken(f.srv.Token), dokstamp.WithTenant(f.srv.Tenant),
		dokstamp.WithRetry(dokstamp.RetryPolicy{MaxRetries: 0}))
	require.NoError(t, err)
	_, err = c.Certificates.Reconcile(context.Background(), dokstamp.ReconcileQuery{CourseUUID: f.srv.CourseUUID})
	require.Error(t, err)
	assert.ErrorIs(t, err, dokstamp.ErrServer)
	assert.ErrorContains(t, err, "list the course's certificates")
}

// TestReconcileRequestBound checks the request count: one request per page of each listing.
func TestReconcileRequestBound(t *testing.T) {
	t.Parallel()
	const students, perPage = 23, 5
	f := newReconcileFixture(t, students)
	for _, s := range f.srv.StudentUUIDs[:12] {
		f.cert(t, s, "issued", "")
	}
	f.srv.ResetRequests()
	r, err := f.c.Certificates.Reconcile(context.Background(), dokstamp.ReconcileQuery{CourseUUID: f.srv.CourseUUID, PerPage: perPage})
	require.NoError(t, err)
	assert.Len(t, r.Missing, students-12)
	assert.Equal(t, 5, f.srv.RequestCount("GET /enrollments"), "ceil(23/5)")
	assert.Equal(t, 3, f.srv.RequestCount("GET /certificates"), "ceil(12/5)")
}

// BenchmarkReconcile reconciles a course of 2,000 graduates, 1,500 of them certified, at 100 per
// page. bound is E/per_page + C/per_page rounded up; requests_per_bound is the requests the run
// made divided by it (1 is the bound exactly).
func BenchmarkReconcile(b *testing.B) {
	const students, certified, perPage = 2000, 1500, 100
	f := newReconcileFixture(b, students, dokstamptest.WithMaxPerPage(perPage))
	items := make([]dokstamp.CertificateCreateParams, certified)
	uploads := make([]dokstamp.Upload, certified)
	for i := range uploads {
		uploads[i] = dokstamp.UploadBytes(fmt.Sprintf("d%d.pdf", i), []byte(fmt.Sprintf("%%PDF-1.4\n%% bench %d\n%%%%EOF\n", i)))
	}
	ctx := context.Background()
	for i := 0; i < certified; i += 100 {
		files, err := f.c.Files.Upload(ctx, uploads[i:i+100]...)
		require.NoError(b, err)
		for j, file := range files {
			items[i+j] = dokstamp.CertificateCreateParams{InstitutionUUID: f.srv.InstitutionUUID, CourseUUID: f.srv.CourseUUID,
				StudentUUID: f.srv.StudentUUIDs[i+j], FileUUID: file.UUID, Status: dokstamp.StatusIssued}
		}
	}
	rep, err := f.c.Batch.IssueCertificates(ctx, items, &dokstamp.BatchOptions{Concurrency: 16})
	require.NoError(b, err)
	require.Equal(b, certified, rep.Succeeded)

	bound := math.Ceil(float64(students)/perPage) + math.Ceil(float64(certified)/perPage)
	f.srv.ResetRequests()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := f.c.Certificates.Reconcile(ctx, dokstamp.ReconcileQuery{CourseUUID: f.srv.CourseUUID, PerPage: perPage})
		if err != nil || len(r.Missing) != students-certified {
			b.Fatalf("reconcile: %v, %d missing", err, len(r.Missing))
		}
	}
	b.StopTimer()
	requests := float64(f.srv.RequestCount("GET /enrollments")+f.srv.RequestCount("GET /certificates")) / float64(b.N)
	b.ReportMetric(requests, "requests/op")
	b.ReportMetric(bound, "bound")
	b.ReportMetric(requests/bound, "requests_per_bound")
}
