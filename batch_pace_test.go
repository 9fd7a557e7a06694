package dokstamp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
