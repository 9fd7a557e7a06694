package dokstamp

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requestTotals counts srv's requests and the 429s among them.
func requestTotals(srv *dokstamptest.Server) (total, limited int) {
	for _, byStatus := range srv.Requests() {
		for status, k := range byStatus {
			total += k
			if status == http.StatusTooManyRequests {
				limited += k
			}
		}
	}
	return total, limited
}

// TestIssueCertificatesTokenBucket: a server limiting the rate with a token bucket and no
// rate-limit headers, whatever its burst (down to a handful of requests: a server smoothing its
// limit), gets at least 95% of its rate over the run and at most 2% of the requests are 429s.
func TestIssueCertificatesTokenBucket(t *testing.T) {
	// Not parallel: a load test measures rates, so it runs alone, before the parallel tests start.
	for _, burst := range []int{5, 20} {
		t.Run(fmt.Sprintf("200/s burst %d", burst), func(t *testing.T) {
			const n, perSecond = 1200, 200.0
			srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
			c, _ := batchClient(t, srv, RetryPolicy{MaxRetries: 4, MinWait: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond})
			items := batchItems(t, srv, c, n, 0)
			srv.ResetRequests()
			srv.SetFaults(dokstamptest.Faults{RateLimit: perSecond, Burst: burst})

			// The rate over the long run: from the 250th item settled to the last, past the
			// start (the burst the server grants, the first 429s that tell the client its rate).
			var from, to time.Time
			rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 8,
				OnProgress: func(p Progress) {
					switch p.Done {
					case 250:
						from = time.Now()
					case n:
						to = time.Now()
					}
				}})
			require.NoError(t, err)
			assertExactlyIssued(t, srv, items, rep)
			total, limited := requestTotals(srv)
			achieved := float64(n-250) / to.Sub(from).Seconds()
			t.Logf("items 250 to %d in %v = %.1f/s (%.1f%% of %.0f/s); %d of %d requests answered 429 (%.1f%%)",
				n, to.Sub(from).Round(time.Millisecond), achieved, 100*achieved/perSecond, perSecond, limited, total, 100*float64(limited)/float64(total))
			assert.GreaterOrEqual(t, achieved, loadMargin*0.95*perSecond, "throughput")
			assert.LessOrEqual(t, float64(limited), 0.02*load429Slack*float64(total), "429 share")
			assert.Equal(t, limited, rep.RateLimited)
		})
	}
}
