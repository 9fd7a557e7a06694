package dokstamp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// garbleCreates replaces the body of the first n successful POST /certificates answers with an
// HTML page, keeping the status: the server acted, the client cannot read what it made.
type garbleCreates struct {
	left atomic.Int32
	rt   http.RoundTripper
}

func (g *garbleCreates) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := g.rt.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && r.URL.Path == "/certificates" && resp.StatusCode == http.StatusCreated && g.left.Add(-1) >= 0 {
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader("<html>upstream hiccup</html>"))
		resp.Header.Set("Content-Type", "text/html")
		resp.ContentLength = -1
	}
	return resp, err
}

func TestIssueCertificatesAdoptsAfterGarbledSuccess(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(6))
	g := &garbleCreates{rt: http.DefaultTransport}
	g.left.Store(3)
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken(srv.Token), dokstamp.WithTenant(srv.Tenant),
		dokstamp.WithHTTPClient(&http.Client{Transport: g}))
	require.NoError(t, err)
	ctx := context.Background()

	var items []dokstamp.CertificateCreateParams
	for i, st := range srv.StudentUUIDs {
		files, err := c.Files.Upload(ctx, dokstamp.UploadBytes("d.pdf", []byte("%PDF-1.4\n"+strings.Repeat("x", i+1)+"\n%%EOF\n")))
		require.NoError(t, err)
		items = append(items, dokstamp.CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
			StudentUUID: st, FileUUID: files[0].UUID, Status: dokstamp.StatusIssued})
	}
	rep, err := c.Batch.IssueCertificates(ctx, items, &dokstamp.BatchOptions{Concurrency: 2})
	require.NoError(t, err)
	assert.Equal(t, 6, rep.Succeeded)
	assert.Equal(t, 3, rep.Adopted, "the three garbled answers are settled by look-up")
	assert.Len(t, srv.Certificates(), 6)
	assert.Empty(t, srv.Duplicates())
	assert.Equal(t, 6, srv.RequestCount("POST /certificates"), "nothing was sent twice")
}
