package dokstamp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

func TestCertificatesPublishSendsTheIssueFields(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/certificates/" + certUUID,
		Body: `{"status":"issued","finish":true}`, Reply: dataReply(certJSON(certUUID))})
	cert, err := c.Certificates.Publish(context.Background(), certUUID)
	require.NoError(t, err)
	assert.Equal(t, StatusIssued, cert.Status)

	_, err = c.Certificates.Publish(context.Background(), "draft-1")
	assert.ErrorContains(t, err, "not a UUID")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCertificatesPublishRefusesAnotherStatus(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/certificates/" + certUUID,
		Body: `{"status":"issued","finish":true}`, Reply: dataReply(strings.Replace(certJSON(certUUID), `"status":"issued"`, `"status":"draft"`, 1))})
	cert, err := c.Certificates.Publish(context.Background(), certUUID)
	assert.ErrorContains(t, err, `answered status "draft", not "issued"`)
	require.NotNil(t, cert, "the certificate as answered is returned with the error")
}

// TestCertificatesPublishDraft issues a draft on the fake in one call; a second call changes
// nothing, and IssuedAt through Update sets the date.
func TestCertificatesPublishDraft(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(1))
	c, _ := batchClient(t, srv, batchRetry)
	ctx := context.Background()
	item := batchItems(t, srv, c, 1, 0)[0]
	item.Status = "" // a draft
	draft, err := c.Certificates.Create(ctx, &item)
	require.NoError(t, err)
	require.Equal(t, StatusDraft, draft.Status)
	require.Empty(t, draft.PublicVerificationURL)

	cert, err := c.Certificates.Publish(ctx, draft.UUID)
	require.NoError(t, err)
	assert.Equal(t, StatusIssued, cert.Status)
	assert.NotEmpty(t, cert.PublicVerificationURL)
	assert.False(t, cert.IssuedAt.IsZero())

	again, err := c.Certificates.Publish(ctx, draft.UUID)
	require.NoError(t, err)
	assert.Equal(t, cert.IssuedAt, again.IssuedAt, "publishing an issued certificate changes nothing")
	assert.Equal(t, cert.PublicVerificationURL, again.PublicVerificationURL)

	when := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	dated, err := c.Certificates.Update(ctx, draft.UUID, &CertificateUpdateParams{IssuedAt: &when})
	require.NoError(t, err)
	assert.True(t, when.Equal(dated.IssuedAt), "issued_at %v", dated.IssuedAt)
	require.Len(t, srv.Certificates(), 1)
	assert.Equal(t, "issued", srv.Certificates()[0].Status)
}
