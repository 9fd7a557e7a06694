package dokstamp

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// headerRecorder is a transport that notes, per route, the value of one header on every request.
type headerRecorder struct {
	rt  http.RoundTripper
	key string

	mu   sync.Mutex
	seen map[string][]string // "METHOD /path" -> the header's value on each request
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen[r.Method+" "+r.URL.Path] = append(h.seen[r.Method+" "+r.URL.Path], r.Header.Get(h.key))
	h.mu.Unlock()
	return h.rt.RoundTrip(r)
}

// missing lists the requests sent without want, and counts them all.
func (h *headerRecorder) missing(want string) (bad []string, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for route, vals := range h.seen {
		for _, v := range vals {
			total++
			if v != want {
				bad = append(bad, fmt.Sprintf("%s: %q", route, v))
			}
		}
	}
	return bad, total
}

func (h *headerRecorder) reset() {
	h.mu.Lock()
	h.seen = map[string][]string{}
	h.mu.Unlock()
}

// TestBatchCallsCarryTheirRequestOptions gives each of c.Batch's methods a per-call header and
// checks that every request of the run carried it: the plan's reads, the uploads, the creates,
// the look-ups and the batch routes. A second run without the option sends none.
func TestBatchCallsCarryTheirRequestOptions(t *testing.T) {
	t.Parallel()
	const key, want = "X-Correlation-Id", "grad-2026"
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(6))
	rec := &headerRecorder{rt: &http.Transport{}, key: key, seen: map[string][]string{}}
	c, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL),
		WithHTTPClient(&http.Client{Transport: rec}), WithRetry(batchRetry))
	require.NoError(t, err)
	ctx := context.Background()
	opt := WithHeader(key, want)

	// IssueCertificates over items whose files were uploaded beforehand.
	items := batchItems(t, srv, c, 3, 0)
	rec.reset()
	rep, err := c.Batch.IssueCertificates(ctx, items, &BatchOptions{Concurrency: 2}, opt)
	require.NoError(t, err)
	require.Equal(t, 3, rep.Succeeded)

	// Plan, then Issue, for three more graduates.
	dir := t.TempDir()
	job := IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Status: StatusIssued}
	for i := 3; i < 6; i++ {
		job.Graduates = append(job.Graduates, Graduate{StudentUUID: srv.StudentUUIDs[i],
			File: UploadBytes(fmt.Sprintf("%s/g%d.pdf", dir, i), diplomaPDF(100+i))})
	}
	pl, err := c.Batch.Plan(ctx, job, nil, opt)
	require.NoError(t, err)
	require.Equal(t, 3, pl.ToIssue)
	rep, err = c.Batch.Issue(ctx, job, &BatchOptions{Concurrency: 2}, opt)
	require.NoError(t, err)
	require.Equal(t, 3, rep.Succeeded)

	// The chunked batch routes.
	uuids := make([]string, len(rep.Results))
	for i, r := range rep.Results {
		uuids[i] = r.Certificate.UUID
	}
	_, err = c.Batch.Destroy(ctx, "certificates", uuids, opt)
	require.NoError(t, err)
	bad, total := rec.missing(want)
	assert.Empty(t, bad, "requests of the bulk runs sent without the header")
	assert.Greater(t, total, 10, "the runs' requests were recorded")
	for _, route := range []string{"GET /courses/" + srv.CourseUUID, "GET /certificates", "POST /files", "POST /certificates", "DELETE /certificates/batch/destroy"} {
		assert.NotEmpty(t, rec.seen[route], route)
	}

	dt, err := c.Documents.CreateType(ctx, &DocumentTypeCreateParams{Description: "Diploma"}, opt)
	require.NoError(t, err)
	files, err := c.Files.Upload(ctx, UploadBytes("doc.pdf", diplomaPDF(999)))
	require.NoError(t, err)
	doc, err := c.Documents.Create(ctx, &DocumentCreateParams{Description: "Diploma", DocumentTypeID: dt.ID, FileUUID: files[0].UUID}, opt)
	require.NoError(t, err)
	rec.reset() // the upload above went without the option on purpose
	_, err = c.Batch.ResendSignatures(ctx, []int{doc.ID}, opt)
	require.NoError(t, err)
	_, err = c.Batch.SignDocuments(ctx, srv.SigningCertID, []int{doc.ID}, srv.SigningPIN, opt)
	require.NoError(t, err)
	bad, total = rec.missing(want)
	assert.Empty(t, bad, "requests of the document batch calls sent without the header")
	assert.Equal(t, 2, total)

	// Without the option no request carries it: the option is the call's, not the client's.
	rec.reset()
	more := batchItems(t, srv, c, 1, 50)
	more[0].StudentUUID = srv.StudentUUIDs[0]
	_, err = c.Batch.IssueCertificates(ctx, more, &BatchOptions{AllowSeveralPerStudent: true})
	require.NoError(t, err)
	bad, total = rec.missing("")
	assert.Empty(t, bad)
	assert.Positive(t, total)
}
