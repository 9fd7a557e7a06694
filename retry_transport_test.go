package dokstamp

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingTransport is a RoundTripper that reports nothing through httptrace.
type failingTransport struct {
	calls atomic.Int32
	err   error
}

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, f.err
}

// With a transport that does not report through httptrace, a failed POST may have reached the
// server: it must not be re-sent, and its outcome is unknown.
func TestPostNotResentThroughUntracedTransport(t *testing.T) {
	t.Parallel()
	ft := &failingTransport{err: syscall.ECONNRESET}
	c, err := NewClient(WithTenant("acme"), WithToken("tok"), WithBaseURL("https://api.test"),
		WithHTTPClient(&http.Client{Transport: ft}), WithRetry(RetryPolicy{MaxRetries: 3, MinWait: 1, MaxWait: 1}))
	require.NoError(t, err)
	_, err = c.Certificates.Create(context.Background(), &CertificateCreateParams{
		InstitutionUUID: "11111111-1111-4111-8111-111111111111", CourseUUID: "22222222-2222-4222-8222-222222222222",
		StudentUUID: "33333333-3333-4333-8333-333333333333", FileUUID: "44444444-4444-4444-8444-444444444444"})
	require.Error(t, err)
	assert.EqualValues(t, 1, ft.calls.Load())
	assert.True(t, errors.Is(err, ErrOutcomeUnknown), err.Error())
}

// A GET through the same transport is retried as usual.
func TestGetRetriedThroughUntracedTransport(t *testing.T) {
	t.Parallel()
	ft := &failingTransport{err: syscall.ECONNRESET}
	c, err := NewClient(WithTenant("acme"), WithToken("tok"), WithBaseURL("https://api.test"),
		WithHTTPClient(&http.Client{Transport: ft}), WithRetry(RetryPolicy{MaxRetries: 2, MinWait: 1, MaxWait: 1}))
	require.NoError(t, err)
	_, err = c.Certificates.Get(context.Background(), "11111111-1111-4111-8111-111111111111")
	require.Error(t, err)
	assert.EqualValues(t, 3, ft.calls.Load())
	assert.False(t, errors.Is(err, ErrOutcomeUnknown))
}
