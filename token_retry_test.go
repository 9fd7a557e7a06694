package dokstamp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The token endpoint is retried on 503 and 429 (a grant only returns a token), not on 401.
func TestClientCredentialsGrantRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		statuses []int
		wantErr  bool
		grants   int32
	}{
		{"503 then ok", []int{503, 200}, false, 2},
		{"429 then ok", []int{429, 200}, false, 2},
		{"401 is final", []int{401, 200}, true, 1},
		{"503 until retries run out", []int{503, 503, 503, 503}, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var grants atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/oauth/token" {
					n := grants.Add(1)
					status := tc.statuses[min(int(n), len(tc.statuses))-1]
					if status != 200 {
						w.Header().Set("Retry-After", "0")
						w.WriteHeader(status)
						_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","message":"try later"}`))
						return
					}
					_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3600,"access_token":"granted"}`))
					return
				}
				_, _ = w.Write([]byte(`{"data":{"uuid":"11111111-1111-4111-8111-111111111111","name":"S","email":"s@x.org"}}`))
			}))
			defer srv.Close()
			c, err := NewClient(WithTenant("acme"), WithClientCredentials("id", "secret"), WithBaseURL(srv.URL),
				WithRetry(RetryPolicy{MaxRetries: 2, MinWait: 1, MaxWait: 1}))
			require.NoError(t, err)
			_, err = c.Students.Get(context.Background(), "11111111-1111-4111-8111-111111111111")
			if tc.wantErr {
				require.Error(t, err)
				var apiErr *Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, int(grants.Load()), apiErr.Attempts)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.grants, grants.Load())
		})
	}
}
