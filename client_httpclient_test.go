package dokstamp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The user's *http.Client is wrapped, never replaced: its Timeout and its transport still apply.
func TestUserHTTPClientSettingsApply(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	var seen int
	hc := &http.Client{
		Timeout: 30 * time.Millisecond,
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen++
			return http.DefaultTransport.RoundTrip(r)
		}),
	}
	c, err := NewClient(WithTenant("acme"), WithToken("tok"), WithBaseURL(srv.URL), WithHTTPClient(hc),
		WithRetry(RetryPolicy{MaxRetries: 0}))
	require.NoError(t, err)

	start := time.Now()
	_, err = c.Certificates.Get(context.Background(), "11111111-1111-4111-8111-111111111111")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "the client's Timeout ended the call")
	assert.Equal(t, 1, seen, "the user's transport carried the request")
	assert.Equal(t, 30*time.Millisecond, hc.Timeout, "the user's client is not modified")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
