package dokstamp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

	// Resumed with the same journal: everything is done, nothing is written (the plan reads).
	srv.ResetRequests()
	rep, err = c.Batch.Issue(context.Background(), job, &BatchOptions{UploadChunkFiles: 8, Journal: j})
	require.NoError(t, err)
	assert.Equal(t, n, rep.Skipped)
	assert.Equal(t, n, rep.Succeeded)
	for route := range srv.Requests() {
		assert.True(t, strings.HasPrefix(route, "GET "), "resumed run sent %s", route)
	}
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

// TestIssueAdoptsUsedFile: a run without journal (or a lost one) finds a graduate already holding
// a certificate on the course: it is reported already issued, never issued twice, and their PDF
// is not uploaded. A PDF already bound to someone else's certificate fails that graduate alone.
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
	assert.True(t, rep.Results[0].AlreadyIssued)
	assert.False(t, rep.Results[0].Adopted)
	assert.Equal(t, 1, rep.AlreadyIssued)
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

// TestIssueEditedManifestResumes: between two runs on one journal the manifest is edited (order
// reversed, a graduate removed, three added, a new IssuedAt, a PDF swapped for a graduate whose
// create failed, a PDF replaced for a graduate already issued). The rerun sends only what is new,
// and reports the replaced PDF of the issued graduate, naming the field.
func TestIssueEditedManifestResumes(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(11))
	_, tr := batchClient(t, srv, batchRetry)
	refuse7 := &http.Client{Transport: batchRoundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && r.URL.Path == "/certificates" {
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if bytes.Contains(body, []byte(srv.StudentUUIDs[7])) {
				return &http.Response{StatusCode: http.StatusUnprocessableEntity, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
					Body: io.NopCloser(strings.NewReader(`{"message":"The template is archived.","errors":{"template_uuid":["archived"]}}`))}, nil
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		return tr.RoundTrip(r)
	})}
	c, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(refuse7), WithRetry(batchRetry))
	require.NoError(t, err)
	dir := t.TempDir()
	j, err := OpenJournal(filepath.Join(dir, "journal.jsonl"))
	require.NoError(t, err)
	defer j.Close()
	gs := batchGraduates(t, srv, dir, 8, 0)
	job := IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID, Status: StatusIssued, Graduates: gs,
		IssuedAt: Ptr(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))}
	rep, err := c.Batch.Issue(context.Background(), job, &BatchOptions{Journal: j})
	require.NoError(t, err)
	require.Equal(t, 7, rep.Succeeded)
	require.ErrorContains(t, rep.Results[7].Err, "archived")

	// The edit.
	c2, _ := batchClient(t, srv, batchRetry)
	edited := []Graduate{}
	for i := 7; i >= 1; i-- { // reversed, graduate 0 removed
		edited = append(edited, gs[i])
	}
	swapped := filepath.Join(dir, "graduate-7-fixed.pdf")
	require.NoError(t, os.WriteFile(swapped, diplomaPDF(700), 0o600))
	edited[0].File = UploadFile(swapped) // graduate 7, not issued yet
	replaced := filepath.Join(dir, "graduate-3-new.pdf")
	require.NoError(t, os.WriteFile(replaced, diplomaPDF(300), 0o600))
	edited[4].File = UploadFile(replaced) // graduate 3, issued in the first run
	added := batchGraduates(t, srv, t.TempDir(), 11, 800)[8:]
	edited = append(edited, added...)
	job.Graduates = edited
	job.IssuedAt = Ptr(time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC))
	srv.ResetRequests()

	rep, err = c2.Batch.Issue(context.Background(), job, &BatchOptions{Journal: j})
	require.NoError(t, err)
	assert.Equal(t, 4, srv.RequestCount("POST /certificates"), "graduate 7 and the three added")
	files := 0
	for _, k := range srv.Requests()["POST /files"] {
		files += k
	}
	assert.Equal(t, 1, files, "one upload request")
	assert.Equal(t, 5, rep.Skipped, "graduates 6, 5, 4, 2, 1")
	for _, k := range []int{1, 2, 3, 5, 6} {
		assert.True(t, rep.Results[k].Skipped, "edited item %d", k)
	}
	assert.NoError(t, rep.Results[0].Err)
	assert.False(t, rep.Results[0].Skipped)
	assert.ErrorContains(t, rep.Results[4].Err, "field File changed")
	assert.Equal(t, 1, rep.Failed)
	assert.Equal(t, 9, rep.Succeeded)
	assert.Len(t, srv.Certificates(), 11, "7 + graduate 7 + 3 added")
	assert.Empty(t, srv.Duplicates())
	names := map[string]string{}
	for _, f := range srv.Files() {
		names[f.UUID] = f.OriginalName
	}
	sc := srv.Certificates()[indexOfCertOf(srv.Certificates(), srv.StudentUUIDs[7])]
	assert.Equal(t, "graduate-7-fixed.pdf", names[sc.FileUUID], "graduate 7 is issued from the swapped PDF")
}
