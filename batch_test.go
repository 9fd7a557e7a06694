package dokstamp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
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
	assert.Zero(t, rep.Unsettled)
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

// TestIssueCertificatesChaos: 10% 5xx, 5% 429 (Retry-After: 0, so the shared pause is the short
// backoff), 3% of creates applied and then answered by a dropped connection, 5 ms latency.
func TestIssueCertificatesChaos(t *testing.T) {
	t.Parallel()
	const n = 2000
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n), dokstamptest.WithSeed(42))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, n, 0)
	srv.ResetRequests()
	srv.SetFaults(dokstamptest.Faults{Latency: 5 * time.Millisecond, ErrorRate: 0.10, RateLimitRate: 0.05,
		RetryAfter: -1, DropAfterCommitRate: 0.03})

	pc := &progressChecker{t: t}
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 50, OnProgress: pc.on})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	reqs := srv.Requests()
	t.Logf("chaos: %v, adopted %d, 429s %d, requests %v", rep.Duration, rep.Adopted, rep.RateLimited, reqs)
	assert.Positive(t, rep.Adopted, "some creates were applied without an answer and adopted")
	assert.Positive(t, reqs["POST /certificates"][0], "connections were dropped after commit")
	assert.Positive(t, rep.RateLimited)
	assert.EqualValues(t, n, pc.calls.Load())
}

func TestIssueCertificatesUnauthorizedStopsRun(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(20))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 20, 0)
	bad, err := NewClient(WithTenant(srv.Tenant), WithToken("wrong"), WithBaseURL(srv.URL), WithRetry(batchRetry))
	require.NoError(t, err)

	rep, err := bad.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 4})
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), "batch stopped")
	require.NotNil(t, rep)
	assert.Len(t, rep.Results, 20)
	assert.Equal(t, 20, rep.Unsettled)
	for _, r := range rep.Results {
		assert.ErrorIs(t, r.Err, ErrNotSettled)
	}
	assert.Empty(t, srv.Certificates())
	assert.LessOrEqual(t, srv.RequestCount("POST /certificates"), 4, "the run stopped at the first 401s")
}

// TestIssueCertificatesForbiddenStopsRun: a 403 on one item stops the run; what settled before
// it is reported, and nothing more is sent.
func TestIssueCertificatesForbiddenStopsRun(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(30))
	c, tr := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 30, 0)
	var posts atomic.Int64
	forbidding := &http.Client{Transport: batchRoundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && posts.Add(1) == 11 {
			return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"message":"This action is unauthorized."}`)), Request: r}, nil
		}
		return tr.RoundTrip(r)
	})}
	c2, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(forbidding), WithRetry(batchRetry))
	require.NoError(t, err)

	rep, err := c2.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 1})
	require.ErrorIs(t, err, ErrForbidden)
	require.NotNil(t, rep)
	assert.Equal(t, 10, rep.Succeeded)
	assert.Equal(t, 20, rep.Unsettled)
	assert.Zero(t, rep.Failed)
	assert.ErrorIs(t, rep.Results[10].Err, ErrForbidden)
	assert.ErrorIs(t, rep.Results[10].Err, ErrNotSettled)
	assert.Len(t, srv.Certificates(), 10)
	assert.EqualValues(t, 11, posts.Load(), "nothing sent after the 403")
}

type batchRoundTrip func(*http.Request) (*http.Response, error)

func (f batchRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestIssueCertificatesCancelLeavesNothingBehind(t *testing.T) {
	// Not parallel: goleak compares with the goroutines alive when the test starts.
	ignore := goleak.IgnoreCurrent()
	srv, err := dokstamptest.New(dokstamptest.WithStudents(300))
	require.NoError(t, err)
	c, tr := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 300, 0)
	srv.SetFaults(dokstamptest.Faults{Latency: 20 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	rep, err := c.Batch.IssueCertificates(ctx, items, &BatchOptions{Concurrency: 8, OnProgress: func(p Progress) {
		if p.Done == 40 {
			cancelled = time.Now()
			cancel()
		}
	}})
	took := time.Since(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rep)
	t.Logf("returned %v after cancel: %d succeeded, %d failed, %d unsettled", took, rep.Succeeded, rep.Failed, rep.Unsettled)
	assert.Less(t, took, time.Second, "returns promptly")
	assert.GreaterOrEqual(t, rep.Succeeded, 40)
	assert.Positive(t, rep.Unsettled)
	assert.Equal(t, 300, rep.Succeeded+rep.Failed+rep.Unsettled)
	for i, r := range rep.Results {
		if r.Err != nil {
			assert.ErrorIs(t, r.Err, ErrNotSettled, "item %d", i)
		}
	}
	// A certificate the server created is in the report or was in flight: never more than
	// the settled successes plus those in flight at the cancel.
	assert.LessOrEqual(t, len(srv.Certificates()), rep.Succeeded+8)

	srv.Close()
	tr.CloseIdleConnections()
	goleak.VerifyNone(t, ignore)
}

// TestIssueCertificatesRateLimit runs 2,000 items against a token bucket of 200 requests/s with
// a burst of 200 (one second's worth, so a 1 s Retry-After pause wastes no capacity).
func TestIssueCertificatesRateLimit(t *testing.T) {
	t.Parallel()
	const n, rate = 2000, 200.0
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, DefaultRetryPolicy())
	items := batchItems(t, srv, c, n, 0)
	srv.ResetRequests()
	srv.SetFaults(dokstamptest.Faults{RateLimit: rate, Burst: 200})

	start := time.Now()
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 50})
	wall := time.Since(start)
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)

	total, limited := 0, 0
	for _, byStatus := range srv.Requests() {
		for status, k := range byStatus {
			total += k
			if status == http.StatusTooManyRequests {
				limited += k
			}
		}
	}
	achieved := float64(rep.Succeeded) / wall.Seconds()
	t.Logf("rate limit: %d in %v = %.1f/s (%.0f%% of %.0f/s); %d of %d requests answered 429 (%.1f%%)",
		rep.Succeeded, wall.Round(time.Millisecond), achieved, 100*achieved/rate, rate, limited, total, 100*float64(limited)/float64(total))
	assert.GreaterOrEqual(t, achieved, 0.85*rate, "throughput")
	assert.LessOrEqual(t, float64(limited), 0.05*float64(total), "429 share")
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

// --- the shared gate ---

func TestPaceInFlight429sCloseTheGateOnce(t *testing.T) {
	t.Parallel()
	p := newPace(8, 10*time.Second)
	ctx := context.Background()
	for range 20 {
		tk, err := p.acquire(ctx)
		require.NoError(t, err)
		p.release(tk, true, false, 0)
	}
	var ts []ticket
	for range 8 {
		tk, err := p.acquire(ctx)
		require.NoError(t, err)
		ts = append(ts, tk)
	}
	p.release(ts[0], false, true, 200*time.Millisecond)
	p.mu.Lock()
	until, limit := p.closedUntil, p.limit
	p.mu.Unlock()
	assert.Equal(t, 4.0, limit, "halved")
	for _, tk := range ts[1:] {
		p.release(tk, false, true, 200*time.Millisecond)
	}
	p.mu.Lock()
	assert.Equal(t, until, p.closedUntil, "429s of requests in flight when the gate closed do not extend it")
	assert.Equal(t, 4.0, p.limit, "nor cut the window again")
	assert.Equal(t, 8, p.limited)
	assert.Positive(t, p.rate, "a named pause sets a pacing rate")
	p.mu.Unlock()

	// The gate holds everyone until it opens; a context ending meanwhile ends the wait.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := p.acquire(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestPaceWindowRecovers(t *testing.T) {
	t.Parallel()
	p := newPace(10, time.Second)
	tk, err := p.acquire(context.Background())
	require.NoError(t, err)
	p.release(tk, false, true, 0) // no Retry-After: a short pause, no pacing rate
	p.mu.Lock()
	assert.Equal(t, 5.0, p.limit)
	assert.Zero(t, p.rate)
	assert.WithinDuration(t, time.Now().Add(minGatePause), p.closedUntil, minGatePause)
	p.mu.Unlock()
	for range 60 {
		tk, err := p.acquire(context.Background())
		require.NoError(t, err)
		p.release(tk, true, false, 0)
	}
	p.mu.Lock()
	assert.Equal(t, 10.0, p.limit, "grown back, never above Concurrency")
	p.mu.Unlock()
}

func TestMapUploads(t *testing.T) {
	t.Parallel()
	ups := []Upload{UploadBytes("a.pdf", diplomaPDF(1)), UploadBytes("b.pdf", diplomaPDF(2)), UploadBytes("c.pdf", diplomaPDF(3))}
	used := time.Now()
	rec := func(uuid, name string, size int64, usedAt *time.Time) File {
		return File{UUID: uuid, OriginalName: name, Size: size, UsedAt: usedAt}
	}
	size := int64(len(diplomaPDF(1)))

	m, err := mapUploads(ups, []File{rec("1", "a.pdf", size, nil), rec("2", "b.pdf", size, nil), rec("3", "c.pdf", size, nil)})
	require.NoError(t, err)
	for _, x := range m {
		assert.NoError(t, x.err)
	}
	_, err = mapUploads(ups, []File{rec("2", "b.pdf", size, nil), rec("1", "a.pdf", size, nil), rec("3", "c.pdf", size, nil)})
	assert.ErrorContains(t, err, "out of order")
	m, err = mapUploads(ups, []File{rec("1", "a.pdf", size, nil), rec("1", "a.pdf", size, nil), rec("3", "old.pdf", size, &used)})
	require.NoError(t, err, "b is byte-identical to a: not out of order")
	assert.NoError(t, m[1].err)
	assert.ErrorContains(t, m[2].err, "already backs a certificate")
	m, err = mapUploads(ups, []File{rec("1", "a.pdf", size, nil), rec("2", "b.pdf", size, nil), rec("3", "old.pdf", size, nil)})
	require.NoError(t, err)
	assert.NoError(t, m[2].err, "unused de-duplication hit of the same size is accepted")
	m, err = mapUploads(ups, []File{rec("1", "a.pdf", size, nil), rec("2", "b.pdf", size, nil), rec("3", "old.pdf", size+1, nil)})
	require.NoError(t, err)
	assert.Error(t, m[2].err)
	_, err = mapUploads(ups, []File{rec("1", "a.pdf", size, nil)})
	assert.Error(t, err)
}

// --- the Issue pipeline ---

// batchGraduates writes n PDFs in dir and returns one graduate per seeded student.
func batchGraduates(t *testing.T, srv *dokstamptest.Server, dir string, n, offset int) []Graduate {
	t.Helper()
	gs := make([]Graduate, n)
	for i := range gs {
		path := filepath.Join(dir, fmt.Sprintf("graduate-%04d.pdf", offset+i))
		require.NoError(t, os.WriteFile(path, diplomaPDF(offset+i), 0o600))
		gs[i] = Graduate{StudentUUID: srv.StudentUUIDs[i], File: UploadFile(path)}
	}
	return gs
}

func TestIssuePipeline(t *testing.T) {
	t.Parallel()
	const n = 30
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, batchRetry)
	dir := t.TempDir()
	job := IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		Graduates: batchGraduates(t, srv, dir, n, 0), Status: StatusIssued, IssuedAt: Ptr(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))}
	j, err := OpenJournal(filepath.Join(dir, "journal.jsonl"))
	require.NoError(t, err)
	defer j.Close()
	pc := &progressChecker{t: t}
	rep, err := c.Batch.Issue(context.Background(), job, &BatchOptions{UploadChunkFiles: 8, Concurrency: 6, Journal: j, OnProgress: pc.on})
	require.NoError(t, err)
	assert.Equal(t, n, rep.Succeeded)
	assert.Equal(t, 4, srv.RequestCount("POST /files"), "30 files in chunks of 8")

	names := map[string]string{}
	for _, f := range srv.Files() {
		names[f.UUID] = f.OriginalName
	}
	certs := srv.Certificates()
	require.Len(t, certs, n)
	assert.Empty(t, srv.Duplicates())
	for _, sc := range certs {
		i := batchIndexOf(srv.StudentUUIDs, sc.StudentUUID)
		assert.Equal(t, job.Graduates[i].File.Name, names[sc.FileUUID], "graduate %d got its own PDF", i)
		assert.Equal(t, "issued", sc.Status)
		assert.Equal(t, rep.Results[i].Certificate.UUID, sc.UUID)
	}

	// Resumed with the same journal: everything is done, nothing is sent.
	srv.ResetRequests()
	rep, err = c.Batch.Issue(context.Background(), job, &BatchOptions{UploadChunkFiles: 8, Journal: j})
	require.NoError(t, err)
	assert.Equal(t, n, rep.Skipped)
	assert.Equal(t, n, rep.Succeeded)
	assert.Empty(t, srv.Requests())
	assert.True(t, rep.Results[3].Certificate.HasFile(certs[indexOfCertOf(certs, srv.StudentUUIDs[3])].FileUUID))
	for i, r := range rep.Results {
		sc := certs[indexOfCertOf(certs, srv.StudentUUIDs[i])]
		assert.Equal(t, sc.PublicVerificationURL, r.Certificate.PublicVerificationURL, "the journal keeps item %d's verification URL", i)
	}
}

func batchIndexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func indexOfCertOf(certs []dokstamptest.Certificate, student string) int {
	for i, c := range certs {
		if c.StudentUUID == student {
			return i
		}
	}
	return -1
}

func TestIssueChunksByBytes(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(10))
	c, _ := batchClient(t, srv, batchRetry)
	gs := batchGraduates(t, srv, t.TempDir(), 10, 0)
	size := gs[0].File.Size
	require.Positive(t, size)
	rep, err := c.Batch.Issue(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Graduates: gs},
		&BatchOptions{UploadChunkBytes: 3*size + 1, UploadConcurrency: 2})
	require.NoError(t, err)
	assert.Equal(t, 10, rep.Succeeded)
	assert.Equal(t, 4, srv.RequestCount("POST /files"), "3+3+3+1 files by bytes")
	assert.Len(t, srv.Certificates(), 10)
	for _, sc := range srv.Certificates() {
		assert.Equal(t, "draft", sc.Status)
	}
}

// TestIssueAdoptsUsedFile: a run without journal (or a lost one) finds a graduate's PDF already
// bound to that graduate's certificate: it is adopted, never issued twice. A PDF already bound
// to someone else's certificate fails that graduate alone.
func TestIssueAdoptsUsedFile(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(6))
	c, _ := batchClient(t, srv, batchRetry)
	ctx := context.Background()
	gs := batchGraduates(t, srv, t.TempDir(), 5, 0)

	// Graduate 0 was issued before; graduate 1's PDF backs student 5's certificate.
	pre, err := c.Files.Upload(ctx, gs[0].File, gs[1].File)
	require.NoError(t, err)
	earlier, err := c.Certificates.Create(ctx, &CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		StudentUUID: srv.StudentUUIDs[0], FileUUID: pre[0].UUID})
	require.NoError(t, err)
	_, err = c.Certificates.Create(ctx, &CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		StudentUUID: srv.StudentUUIDs[5], FileUUID: pre[1].UUID})
	require.NoError(t, err)
	srv.ResetRequests()

	rep, err := c.Batch.Issue(ctx, IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Graduates: gs}, nil)
	require.NoError(t, err)
	assert.True(t, rep.Results[0].Adopted)
	assert.Equal(t, earlier.UUID, rep.Results[0].Certificate.UUID)
	assert.ErrorContains(t, rep.Results[1].Err, "already used")
	assert.Equal(t, 4, rep.Succeeded)
	assert.Equal(t, 1, rep.Failed)
	assert.Len(t, srv.Certificates(), 5, "2 made before, 3 by the run")
	assert.Empty(t, srv.Duplicates())
	assert.Equal(t, 3, srv.RequestCount("POST /certificates"), "only graduates 2, 3 and 4 were sent")
}

// TestIssueDeduplicatedContent: a PDF uploaded earlier under another name and still unused is
// accepted; two graduates with byte-identical PDFs both fail.
func TestIssueDeduplicatedContent(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(4))
	c, _ := batchClient(t, srv, batchRetry)
	ctx := context.Background()
	old, err := c.Files.Upload(ctx, UploadBytes("old-name.pdf", diplomaPDF(0)))
	require.NoError(t, err)
	gs := []Graduate{
		{StudentUUID: srv.StudentUUIDs[0], File: UploadBytes("new-name.pdf", diplomaPDF(0))},
		{StudentUUID: srv.StudentUUIDs[1], File: UploadBytes("twin-a.pdf", diplomaPDF(7))},
		{StudentUUID: srv.StudentUUIDs[2], File: UploadBytes("twin-b.pdf", diplomaPDF(7))},
		{StudentUUID: srv.StudentUUIDs[3], File: UploadBytes("other.pdf", diplomaPDF(3))},
	}
	rep, err := c.Batch.Issue(ctx, IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Graduates: gs}, nil)
	require.NoError(t, err)
	require.NoError(t, rep.Results[0].Err)
	assert.True(t, rep.Results[0].Certificate.HasFile(old[0].UUID))
	assert.ErrorContains(t, rep.Results[1].Err, "byte-identical")
	assert.ErrorContains(t, rep.Results[2].Err, "byte-identical")
	assert.NoError(t, rep.Results[3].Err)
	assert.Len(t, srv.Certificates(), 2)
	assert.Error(t, rep.Err())
}

func TestIssueRefusesInvalidJob(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(4))
	c, _ := batchClient(t, srv, batchRetry)
	dir := t.TempDir()
	gs := batchGraduates(t, srv, dir, 3, 0)
	gs = append(gs,
		Graduate{StudentUUID: "", File: UploadFile(filepath.Join(dir, "graduate-0001.pdf"))}, // 3: no student, file of 1
		Graduate{StudentUUID: srv.StudentUUIDs[0], File: Upload{Name: "x.pdf"}},              // 4: student of 0, nil Open
	)
	rep, err := c.Batch.Issue(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: "bad", Graduates: gs}, nil)
	assert.Nil(t, rep)
	var ve *BatchValidationError
	require.ErrorAs(t, err, &ve)
	var idx []int
	for _, p := range ve.Problems {
		idx = append(idx, p.Index)
	}
	assert.Equal(t, []int{-1, 3, 3, 4, 4}, idx, "%v", err)
	assert.Contains(t, err.Error(), "graduate 1's too")
	assert.Contains(t, err.Error(), "nil Open")
	_, err = c.Batch.Issue(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID}, nil)
	assert.ErrorContains(t, err, "no graduates")
	assert.Empty(t, srv.Requests())
}

// --- crash and resume ---

const (
	envCrashURL     = "DOKSTAMP_CRASH_URL"
	envCrashToken   = "DOKSTAMP_CRASH_TOKEN"
	envCrashTenant  = "DOKSTAMP_CRASH_TENANT"
	envCrashJournal = "DOKSTAMP_CRASH_JOURNAL"
	envCrashItems   = "DOKSTAMP_CRASH_ITEMS"
)

// TestCrashChild is the process TestIssueCertificatesCrashResume kills: it does nothing unless
// started by it.
func TestCrashChild(t *testing.T) {
	jpath := os.Getenv(envCrashJournal)
	if jpath == "" {
		return
	}
	items, err := readItems(os.Getenv(envCrashItems))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	c, err := NewClient(WithTenant(os.Getenv(envCrashTenant)), WithToken(os.Getenv(envCrashToken)), WithBaseURL(os.Getenv(envCrashURL)))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	j, err := OpenJournal(jpath)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_, err = c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 16, Journal: j,
		OnProgress: func(p Progress) { fmt.Printf("progress %d\n", p.Done) }})
	fmt.Println("finished", err)
	os.Exit(0)
}

func TestIssueCertificatesCrashResume(t *testing.T) {
	t.Parallel()
	const n = 600
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, n, 0)
	srv.SetFaults(dokstamptest.Faults{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond})
	dir := t.TempDir()
	itemsPath, jpath := filepath.Join(dir, "items.json"), filepath.Join(dir, "journal.jsonl")
	require.NoError(t, writeItems(itemsPath, items))

	killedAt := runAndKill(t, []string{envCrashURL + "=" + srv.URL, envCrashToken + "=" + srv.Token, envCrashTenant + "=" + srv.Tenant,
		envCrashJournal + "=" + jpath, envCrashItems + "=" + itemsPath}, n/2)
	before := len(srv.Certificates())
	t.Logf("child killed after %d settled; the server holds %d certificates", killedAt, before)
	require.Less(t, before, n, "killed before the end")
	require.GreaterOrEqual(t, before, n/2)

	srv.ResetRequests()
	j, err := OpenJournal(jpath)
	require.NoError(t, err)
	defer j.Close()
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 16, Journal: j})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	t.Logf("resume: %d skipped, %d adopted, %d POST /certificates", rep.Skipped, rep.Adopted, srv.RequestCount("POST /certificates"))
	assert.GreaterOrEqual(t, rep.Skipped, killedAt, "what the child settled is done in the journal")
	// A create the child had in flight may be applied after the kill: its look-up can miss it, and
	// then its re-send is answered 422 (file used) and resolved by a second look-up. So at most
	// the items the server lacked at the kill are sent.
	assert.LessOrEqual(t, srv.RequestCount("POST /certificates"), n-before, "only the items the server did not have were sent")
}

func TestJournalResumeAfterFailures(t *testing.T) {
	t.Parallel()
	const n = 50
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})
	items := batchItems(t, srv, c, n, 0)
	j, err := OpenJournal(filepath.Join(t.TempDir(), "j.jsonl"))
	require.NoError(t, err)
	defer j.Close()

	// Every create applied then dropped, half the look-ups failing: all in doubt or adopted.
	srv.SetRouteFaults("POST /certificates", dokstamptest.Faults{DropAfterCommitRate: 1})
	srv.SetRouteFaults("GET /certificates", dokstamptest.Faults{ErrorRate: 0.6})
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 8, MaxAttempts: 2, Journal: j})
	require.NoError(t, err)
	t.Logf("first run: %d succeeded (%d adopted), %d failed", rep.Succeeded, rep.Adopted, rep.Failed)
	assert.Equal(t, n, len(srv.Certificates()), "every create was applied")
	assert.Positive(t, rep.Failed)
	for _, r := range rep.Results {
		if r.Err != nil {
			assert.ErrorIs(t, r.Err, ErrOutcomeUnknown)
		}
	}

	srv.SetRouteFaults("POST /certificates", dokstamptest.Faults{})
	srv.SetRouteFaults("GET /certificates", dokstamptest.Faults{})
	srv.ResetRequests()
	rep2, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 8, Journal: j})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep2)
	assert.Equal(t, rep.Succeeded, rep2.Skipped)
	assert.Equal(t, rep.Failed, rep2.Adopted, "the failed ones were in doubt: found by look-up")
	assert.Zero(t, srv.RequestCount("POST /certificates"))
}

func TestJournalRefusesOtherItems(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(6))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 6, 0)
	j, err := OpenJournal(filepath.Join(t.TempDir(), "j.jsonl"))
	require.NoError(t, err)
	defer j.Close()
	_, err = c.Batch.IssueCertificates(context.Background(), items[:3], &BatchOptions{Journal: j})
	require.NoError(t, err)
	srv.ResetRequests()
	rep, err := c.Batch.IssueCertificates(context.Background(), items[3:], &BatchOptions{Journal: j})
	assert.Nil(t, rep)
	require.ErrorIs(t, err, ErrJournalMismatch)
	assert.Contains(t, err.Error(), "use a new journal file")
	_, err = c.Batch.Issue(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
		Graduates: []Graduate{{StudentUUID: srv.StudentUUIDs[5], File: UploadBytes("x.pdf", diplomaPDF(99))}}}, &BatchOptions{Journal: j})
	assert.ErrorIs(t, err, ErrJournalMismatch)
	assert.Empty(t, srv.Requests())

	require.NoError(t, j.Close())
	_, err = c.Batch.IssueCertificates(context.Background(), items[:3], &BatchOptions{Journal: j})
	assert.ErrorIs(t, err, ErrJournalClosed)
}

// --- helpers for the child process ---

func writeItems(path string, items []CertificateCreateParams) error {
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func readItems(path string) ([]CertificateCreateParams, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var items []CertificateCreateParams
	return items, json.Unmarshal(b, &items)
}

// runAndKill starts TestCrashChild with env, reads its progress lines and kills it (SIGKILL) once
// killAt items settled; it returns how many had settled.
func runAndKill(t *testing.T, env []string, killAt int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	done := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if n, err := fmt.Sscanf(line, "progress %d", &done); n == 1 && err == nil {
			if done >= killAt {
				require.NoError(t, cmd.Process.Kill())
				break
			}
			continue
		}
		if strings.HasPrefix(line, "finished") || strings.HasPrefix(line, "error") {
			t.Fatalf("child ended before it was killed: %s", line)
		}
	}
	_, _ = io.Copy(io.Discard, out)
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "killed")
	return done
}

// TestIssueCertificatesLateCommit: the create is applied but answered 502, and the look-up does
// not see it yet (a lagging read): the re-send is refused because the file is used, and the
// second look-up adopts the certificate. Nothing is issued twice.
func TestIssueCertificatesLateCommit(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(1))
	c, tr := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 1, 0)
	var posts, gets atomic.Int64
	lagging := &http.Client{Transport: batchRoundTrip(func(r *http.Request) (*http.Response, error) {
		switch {
		case r.Method == http.MethodPost && posts.Add(1) == 1:
			resp, err := tr.RoundTrip(r)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		case r.Method == http.MethodGet && gets.Add(1) == 1:
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"data":[],"meta":{"current_page":1,"per_page":100,"total":0,"last_page":1}}`))}, nil
		}
		return tr.RoundTrip(r)
	})}
	c2, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(lagging), WithRetry(batchRetry))
	require.NoError(t, err)

	rep, err := c2.Batch.IssueCertificates(context.Background(), items, nil)
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	assert.True(t, rep.Results[0].Adopted)
	assert.Equal(t, 2, rep.Results[0].Attempts)
	assert.Equal(t, map[int]int{201: 1, 422: 1}, srv.Requests()["POST /certificates"])
}
