package dokstamp

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// diplomaPDF is a small PDF whose content is unique to i.
func diplomaPDF(i int) []byte {
	return []byte(fmt.Sprintf("%%PDF-1.4\n%% diploma %d\n%%%%EOF\n", i))
}

// batchClient is a client of srv on its own transport, closed when the test ends.
func batchClient(t testing.TB, srv *dokstamptest.Server, p RetryPolicy) (*Client, *http.Transport) {
	t.Helper()
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL),
		WithHTTPClient(&http.Client{Transport: tr}), WithRetry(p))
	require.NoError(t, err)
	return c, tr
}

// batchRetry keeps the core's own retries quick in tests.
var batchRetry = RetryPolicy{MaxRetries: 4, MinWait: 2 * time.Millisecond, MaxWait: 50 * time.Millisecond}

// batchUpload uploads n distinct PDFs (from offset on) and returns their records.
func batchUpload(t testing.TB, c *Client, n, offset int) []File {
	t.Helper()
	var out []File
	for start := 0; start < n; start += MaxBatchIDs {
		var ups []Upload
		for i := start; i < min(n, start+MaxBatchIDs); i++ {
			ups = append(ups, UploadBytes(fmt.Sprintf("diploma-%d.pdf", offset+i), diplomaPDF(offset+i)))
		}
		files, err := c.Files.Upload(context.Background(), ups...)
		require.NoError(t, err)
		out = append(out, files...)
	}
	return out
}

// batchItems builds one item per seeded student, each with its own freshly uploaded file.
func batchItems(t testing.TB, srv *dokstamptest.Server, c *Client, n, offset int) []CertificateCreateParams {
	t.Helper()
	require.GreaterOrEqual(t, len(srv.StudentUUIDs), n)
	files := batchUpload(t, c, n, offset)
	items := make([]CertificateCreateParams, n)
	for i := range items {
		items[i] = CertificateCreateParams{
			InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
			StudentUUID: srv.StudentUUIDs[i], FileUUID: files[i].UUID, Status: StatusIssued,
		}
	}
	return items
}

// assertExactlyIssued checks that the server holds exactly one certificate per item, bound to
// the item's file, and that the report agrees.
func assertExactlyIssued(t *testing.T, srv *dokstamptest.Server, items []CertificateCreateParams, rep *BatchReport) {
	t.Helper()
	certs := srv.Certificates()
	assert.Len(t, certs, len(items), "certificates on the server")
	assert.Empty(t, srv.Duplicates(), "duplicates")
	byFile := map[string]dokstamptest.Certificate{}
	for _, c := range certs {
		byFile[c.FileUUID] = c
	}
	require.Len(t, rep.Results, len(items))
	for i, it := range items {
		sc, ok := byFile[it.FileUUID]
		if !assert.True(t, ok, "item %d has no certificate", i) {
			continue
		}
		assert.Equal(t, it.StudentUUID, sc.StudentUUID, "item %d", i)
		r := rep.Results[i]
		if assert.NoError(t, r.Err, "item %d", i) && assert.NotNil(t, r.Certificate, "item %d", i) {
			assert.Equal(t, sc.UUID, r.Certificate.UUID, "item %d", i)
			assert.True(t, r.Certificate.HasFile(it.FileUUID), "item %d", i)
		}
	}
	assert.Equal(t, len(items), rep.Succeeded)
	assert.Zero(t, rep.Failed)
	assert.Zero(t, rep.NotSettled)
}

// progressChecker asserts that OnProgress is never called concurrently and always advances.
type progressChecker struct {
	t     *testing.T
	busy  atomic.Bool
	calls atomic.Int64
	last  Progress
}

func (pc *progressChecker) on(p Progress) {
	if !pc.busy.CompareAndSwap(false, true) {
		pc.t.Error("OnProgress called concurrently")
	}
	defer pc.busy.Store(false)
	pc.calls.Add(1)
	if p.Done != pc.last.Done+1 || p.Done != p.Succeeded+p.Failed || p.InFlight < 0 || p.Total == 0 {
		pc.t.Errorf("progress %+v after %+v", p, pc.last)
	}
	pc.last = p
}

func TestIssueCertificates(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(40))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 40, 0)
	pc := &progressChecker{t: t}
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 5, OnProgress: pc.on})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	assert.EqualValues(t, 40, pc.calls.Load())
	assert.Equal(t, Progress{Total: 40, Done: 40, Succeeded: 40}, pc.last)
	assert.Equal(t, 40, srv.RequestCount("POST /certificates"), "one POST per item, no look-up needed")
	for _, r := range rep.Results {
		assert.Equal(t, StatusIssued, r.Certificate.Status)
		assert.False(t, r.Adopted)
		assert.Equal(t, 1, r.Attempts)
	}
	assert.NoError(t, rep.Err())
}

func TestIssueCertificatesRefusesInvalidItems(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(4))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 4, 0)
	items = append(items, items[1]) // 4: same file and same student as 1
	items[0].StudentUUID = "not-a-uuid"
	items[2].Status = StatusRevoked
	items[3].FileUUID = ""
	srv.ResetRequests()

	rep, err := c.Batch.IssueCertificates(context.Background(), items, nil)
	assert.Nil(t, rep)
	var ve *BatchValidationError
	require.ErrorAs(t, err, &ve)
	var idx []int
	for _, p := range ve.Problems {
		idx = append(idx, p.Index)
	}
	assert.Equal(t, []int{0, 2, 3, 4, 4}, idx, "%v", err)
	assert.Contains(t, err.Error(), "item 0: ")
	assert.Contains(t, err.Error(), "item 4: ")
	assert.Contains(t, err.Error(), "is item 1's too")
	assert.Empty(t, srv.Requests(), "nothing sent")

	_, err = c.Batch.IssueCertificates(context.Background(), nil, nil)
	assert.ErrorContains(t, err, "no items")
	_, err = c.Batch.IssueCertificates(context.Background(), items[1:2], &BatchOptions{Concurrency: -1})
	assert.Error(t, err)
	assert.Empty(t, srv.Requests(), "nothing sent")
}

func TestBatchDestroyChunks(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(101))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 101, 0)
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 10})
	require.NoError(t, err)
	uuids := make([]string, len(rep.Results))
	for i, r := range rep.Results {
		uuids[i] = r.Certificate.UUID
	}
	results, err := c.Batch.Destroy(context.Background(), "certificates", uuids)
	require.NoError(t, err)
	require.Len(t, results, 2)
	assert.Len(t, results[0].IDs, 100)
	assert.Equal(t, uuids[100:], results[1].IDs)
	assert.NoError(t, results[0].Err)
	assert.NoError(t, results[1].Err)
	assert.Equal(t, 2, srv.RequestCount("DELETE /certificates/batch/destroy"))
	assert.Empty(t, srv.Certificates())

	_, err = c.Batch.Destroy(context.Background(), "../files", uuids)
	assert.Error(t, err)
	_, err = c.Batch.Destroy(context.Background(), "cohorts", []string{"nope"})
	assert.Error(t, err)
}

func TestBatchDocumentChunks(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	c, _ := batchClient(t, srv, batchRetry)
	ctx := context.Background()
	dt, err := c.Documents.CreateType(ctx, &DocumentTypeCreateParams{Description: "Diploma"})
	require.NoError(t, err)
	files := batchUpload(t, c, 1, 0)
	ids := make([]int, 101)
	for i := range ids {
		d, err := c.Documents.Create(ctx, &DocumentCreateParams{Description: fmt.Sprintf("doc %d", i), DocumentTypeID: dt.ID, FileUUID: files[0].UUID})
		require.NoError(t, err)
		ids[i] = d.ID
	}

	res, err := c.Batch.ResendSignatures(ctx, ids)
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Len(t, res[0].IDs, 100)
	assert.Equal(t, ids[100:], res[1].IDs)
	assert.Equal(t, 2, srv.RequestCount("POST /documents/signatures/batch/resend"))
	for _, id := range ids {
		assert.Equal(t, 1, srv.Resends(id))
	}

	res, err = c.Batch.SignDocuments(ctx, srv.SigningCertID, ids, srv.SigningPIN)
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, 2, srv.RequestCount("POST /documents/batch/sign/{cert_id}"))
	for _, d := range srv.Documents() {
		assert.Equal(t, "signed", d.Status)
	}

	res, err = c.Batch.SignDocuments(ctx, srv.SigningCertID, ids, "000000-wrong")
	var ce *ChunkError[int]
	require.ErrorAs(t, err, &ce)
	assert.Len(t, res, 2)
	assert.Len(t, ce.Failed, 2)
	assert.NotContains(t, err.Error(), "000000-wrong")
}
