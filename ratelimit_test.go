package dokstamp

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sporadic429s are shares of requests answered 429 at random, with their Retry-After (-1: "0").
var sporadic429s = []struct {
	share      float64
	retryAfter time.Duration
}{{0.02, time.Second}, {0.05, 2 * time.Second}, {0.10, -1}}

// TestSporadic429sDoNotSlowTheRun: a proxy answering a share of requests 429 at random (not a
// rate limit: the share does not track the send rate) costs the run at most twice its time
// without them, whatever the share and the Retry-After, with a small MaxWait.
func TestSporadic429sDoNotSlowTheRun(t *testing.T) {
	// Not parallel: a load test measures rates, so it runs alone, before the parallel tests start.
	for _, tc := range sporadic429s {
		t.Run(fmt.Sprintf("%.0f%% Retry-After %v", 100*tc.share, tc.retryAfter), func(t *testing.T) {
			// The two runs go at once, on two servers, so that whatever else the machine does
			// slows both alike.
			const n = 600
			run := func(f dokstamptest.Faults) (*BatchReport, *dokstamptest.Server) {
				srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
				c, _ := batchClient(t, srv, RetryPolicy{MaxRetries: 4, MinWait: 2 * time.Millisecond, MaxWait: 20 * time.Millisecond})
				items := batchItems(t, srv, c, n, 0)
				srv.SetFaults(f)
				rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 16})
				assert.NoError(t, err)
				return rep, srv
			}
			var clean *BatchReport
			done := make(chan struct{})
			go func() {
				defer close(done)
				clean, _ = run(dokstamptest.Faults{Latency: 2 * time.Millisecond})
			}()
			noisy, srv := run(dokstamptest.Faults{Latency: 2 * time.Millisecond, RateLimitRate: tc.share, RetryAfter: tc.retryAfter})
			<-done
			require.NotNil(t, clean)
			require.NotNil(t, noisy)
			require.Equal(t, n, clean.Succeeded)
			require.Equal(t, n, noisy.Succeeded)
			t.Logf("clean %v, with %d sporadic 429s %v (%.2fx)", clean.Duration.Round(time.Millisecond), noisy.RateLimited,
				noisy.Duration.Round(time.Millisecond), noisy.Duration.Seconds()/clean.Duration.Seconds())
			assert.Positive(t, noisy.RateLimited)
			assert.LessOrEqual(t, noisy.Duration.Seconds(), 2/loadMargin*clean.Duration.Seconds())
			assert.Empty(t, srv.Duplicates())
		})
	}
}

// TestLaravelWindow: a server sending Laravel's throttle headers over a fixed window gets at most
// one 429 per window and at least 90% of its limit.
func TestLaravelWindow(t *testing.T) {
	// Not parallel: a load test measures rates, so it runs alone, before the parallel tests start.
	const limit, window, n = 40, time.Second, 200
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, RetryPolicy{MaxRetries: 4, MinWait: 2 * time.Millisecond, MaxWait: 2 * time.Second})
	items := batchItems(t, srv, c, n, 0)
	srv.ResetRequests()
	srv.SetFaults(dokstamptest.Faults{WindowLimit: limit, Window: window})

	var first429 time.Time // OnProgress is never called concurrently
	doneThen := 0
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 8,
		OnProgress: func(p Progress) {
			if first429.IsZero() && gateLimited(c.gate) > 0 {
				first429, doneThen = time.Now(), p.Done
			}
		}})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	end := time.Now()
	total, limited := requestTotals(srv)
	require.False(t, first429.IsZero(), "the first window was spent")
	// The items left after the first 429 need k windows of the limit: at 90% of the limit or
	// better, they are done within k windows, a tenth more.
	elapsed := end.Sub(first429)
	k := math.Ceil(float64(n-doneThen) / limit)
	t.Logf("%d requests, %d answered 429; the %d items left at the first took %v (%.0f windows' worth of the limit)",
		total, limited, n-doneThen, elapsed.Round(time.Millisecond), k)
	assert.LessOrEqual(t, float64(limited), k+1, "at most one 429 a window")
	assert.LessOrEqual(t, elapsed.Seconds(), k*window.Seconds()/(loadMargin*0.9), "throughput")
}

// TestGateHoldsEveryCall: once a 429 told the Client its allowance is spent until the window ends,
// a call made meanwhile by another goroutine waits for the window too, and nothing more is sent
// that the server would refuse.
func TestGateHoldsEveryCall(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithFaults(dokstamptest.Faults{WindowLimit: 3, Window: time.Second}))
	c, _ := batchClient(t, srv, RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 3 * time.Second})
	ctx := context.Background()
	for range 3 {
		_, err := c.Students.Get(ctx, srv.StudentUUIDs[0])
		require.NoError(t, err)
	}
	// The allowance is spent and its end unknown: this call's one request asks, gets the 429
	// that says when the window ends, and waits for it.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 3) // the next window's allowance
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Students.Get(ctx, srv.StudentUUIDs[0])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, map[int]int{200: 6, 429: 1}, srv.Requests()["GET /students/{uuid}"], "one 429 for all the Client's calls")
	assert.Greater(t, time.Since(start), 200*time.Millisecond, "the calls waited for the window")
}

// gateLimited is how many 429 answers g has seen.
func gateLimited(g *rateGate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limited
}

func TestWithRateLimit(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL),
		WithHTTPClient(&http.Client{Transport: tr}), WithRateLimit(50))
	require.NoError(t, err)
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				_, err := c.Students.Get(context.Background(), srv.StudentUUIDs[0])
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	// 20 calls at 50/s from 4 goroutines: the first goes at once, the others 20 ms apart
	assert.GreaterOrEqual(t, time.Since(start), 19*20*time.Millisecond-5*time.Millisecond)

	for _, bad := range []float64{0, -1} {
		_, err := NewClient(WithTenant("t"), WithToken("x"), WithRateLimit(bad))
		assert.ErrorContains(t, err, "WithRateLimit")
	}
}

func TestAllowanceHeaders(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "60")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", "1800000030")
	h.Set("Retry-After", "30")
	limit, remaining, reset, ok := allowanceOf(http.StatusTooManyRequests, h, now)
	require.True(t, ok)
	assert.Equal(t, 60, limit)
	assert.Equal(t, 0, remaining)
	assert.Equal(t, now.Add(30*time.Second), reset)

	h = http.Header{}
	h.Set("RateLimit-Limit", "100")
	h.Set("RateLimit-Remaining", "7")
	h.Set("RateLimit-Reset", "12")
	limit, remaining, reset, ok = allowanceOf(http.StatusOK, h, now)
	require.True(t, ok)
	assert.Equal(t, 100, limit)
	assert.Equal(t, 7, remaining)
	assert.Equal(t, now.Add(12*time.Second), reset)

	h = http.Header{}
	h.Set("RateLimit", `"default";r=3;t=10`)
	_, remaining, reset, ok = allowanceOf(http.StatusOK, h, now)
	require.True(t, ok)
	assert.Equal(t, 3, remaining)
	assert.Equal(t, now.Add(10*time.Second), reset)

	_, _, _, ok = allowanceOf(http.StatusOK, http.Header{"Retry-After": {"5"}}, now)
	assert.False(t, ok, "no allowance announced")
}

// TestFloodAmongSteady429s feeds the gate answers directly, on its own clock: a bunch of 429s
// that would be a flood on its own is none when 429s came all along at a steady share (random
// refusals: pacing on them only slowed the Client down), but is one after a run of successes
// (a bucket's burst spent), and so are refusals that go on, on top of the steady ones.
func TestFloodAmongSteady429s(t *testing.T) {
	t.Parallel()
	type answers struct {
		n       int
		limitAt func(i int) bool
	}
	every := func(k int) func(int) bool { return func(i int) bool { return i%k == k-1 } }
	bunch := func(i int) bool { return i != 3 && i != 6 } // 8 429s in 10 answers
	steady := answers{100, every(10)}                     // 10% refused
	cases := []struct {
		name  string
		feed  []answers
		paced bool
	}{
		{"bunch among steady 429s", []answers{steady, {10, bunch}}, false},
		{"steady 429s alone", []answers{{300, every(10)}}, false},
		{"bunch after successes", []answers{{100, func(int) bool { return false }}, {10, bunch}}, true},
		{"bunch at the start", []answers{{10, bunch}}, true},
		{"refusals going on among steady 429s", []answers{steady, {100, every(1)}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRateGate(0, 20*time.Millisecond)
			clock := time.Unix(1_000_000_000, 0)
			g.now = func() time.Time { return clock }
			for _, a := range tc.feed {
				for i := range a.n {
					status := http.StatusOK
					if a.limitAt(i) {
						status = http.StatusTooManyRequests
					}
					clock = clock.Add(time.Millisecond)
					g.mu.Lock()
					g.inflight++
					g.mu.Unlock()
					g.release(clock.Add(-2*time.Millisecond), &http.Response{StatusCode: status, Header: http.Header{}})
				}
			}
			g.mu.Lock()
			pace := g.pace
			g.mu.Unlock()
			if tc.paced {
				assert.Positive(t, pace, "a flood: the Client is paced")
			} else {
				assert.Zero(t, pace, "random 429s: the Client is not paced")
			}
		})
	}
}
