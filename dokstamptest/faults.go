package dokstamptest

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults describes misbehaviour injected into requests. The zero value
// injects nothing. Rates are fractions between 0 and 1.
type Faults struct {
	// Latency is added to every request, plus a random extra in [0, Jitter).
	// The wait ends early when the client goes away or the server closes;
	// the connection is then closed without an answer.
	Latency, Jitter time.Duration
	// ErrorRate is the fraction of requests answered 500, 502 or 503
	// {"message":"Server Error"} without applying them.
	ErrorRate float64
	// RateLimitRate is the fraction of requests answered 429 with a
	// Retry-After header, without applying them.
	RateLimitRate float64
	// RetryAfter is the Retry-After of RateLimitRate's 429s, written in whole
	// seconds rounded up. Zero means the default, 1 s; a negative value
	// writes "0".
	RetryAfter time.Duration
	// RateLimit is a token bucket in requests per second shared by every
	// route these faults apply to (0 = off). When it is empty the answer is
	// 429 with Retry-After set to the seconds until a token is free, rounded
	// up, at least 1.
	RateLimit float64
	// Burst is the bucket size; the default is max(1, RateLimit/10).
	Burst int
	// DropAfterCommitRate is the fraction of successful writes (POST, PUT,
	// PATCH, DELETE) that are applied and then answered by closing the
	// connection without a word: the client cannot know the outcome.
	DropAfterCommitRate float64
}

func (f Faults) zero() bool { return f == Faults{} }

// faultState is a Faults with its token bucket.
type faultState struct {
	f Faults

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newFaultState(f Faults) *faultState {
	if f.zero() {
		return nil
	}
	fs := &faultState{f: f}
	fs.tokens = float64(fs.burst())
	return fs
}

func (fs *faultState) burst() int {
	if fs.f.Burst > 0 {
		return fs.f.Burst
	}
	return max(1, int(fs.f.RateLimit/10))
}

// take removes one token from the bucket, or says how long until one is free.
func (fs *faultState) take(now time.Time) (bool, time.Duration) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	rate := fs.f.RateLimit
	if !fs.last.IsZero() {
		fs.tokens = math.Min(float64(fs.burst()), fs.tokens+now.Sub(fs.last).Seconds()*rate)
	}
	fs.last = now
	if fs.tokens >= 1 {
		fs.tokens--
		return true, 0
	}
	return false, time.Duration((1 - fs.tokens) / rate * float64(time.Second))
}

// SetFaults replaces the server-wide faults; it is safe while requests run.
// The rate-limit bucket starts full again.
func (s *Server) SetFaults(f Faults) {
	s.global.Store(newFaultState(f))
}

// SetRouteFaults replaces the faults of one route (see WithRouteFaults); the
// zero Faults makes the route follow the server-wide faults again. It panics
// on a route the server does not have, as that is a mistake in the test.
func (s *Server) SetRouteFaults(route string, f Faults) {
	rts := s.lookupRoutes(route)
	if rts == nil {
		panic("dokstamptest: SetRouteFaults: unknown route " + strconv.Quote(route))
	}
	for _, rt := range rts {
		rt.setFaults(f)
	}
}

func (s *Server) faultsFor(rt *route) *faultState {
	if fs := rt.faults.Load(); fs != nil {
		return fs
	}
	if rt.scope != scopeTenant {
		return nil
	}
	return s.global.Load()
}

var serverErrors = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// applyFaults runs the fault sequence before a request is handled. It
// returns false when the request must not be handled (c holds the answer,
// or no status when the connection must be dropped), and whether a
// successful write must be dropped after it is applied.
func (s *Server) applyFaults(fs *faultState, rt *route, c *call) (ok, drop bool) {
	f := fs.f
	if f.RateLimit > 0 {
		if ok, wait := fs.take(time.Now()); !ok {
			c.w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			c.fail(http.StatusTooManyRequests, "Too Many Attempts.")
			return false, false
		}
	}
	var limited, failed bool
	var code int
	var sleep time.Duration
	s.faultMu.Lock()
	if f.RateLimitRate > 0 && s.rng.Float64() < f.RateLimitRate {
		limited = true
	}
	if !limited && f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		failed = true
		code = serverErrors[s.rng.IntN(len(serverErrors))]
	}
	if !limited && !failed {
		sleep = f.Latency
		if f.Jitter > 0 {
			sleep += time.Duration(s.rng.Int64N(int64(f.Jitter)))
		}
		if rt.write && f.DropAfterCommitRate > 0 && s.rng.Float64() < f.DropAfterCommitRate {
			drop = true
		}
	}
	s.faultMu.Unlock()

	switch {
	case limited:
		ra := f.RetryAfter
		if ra == 0 {
			ra = time.Second
		}
		secs := 0
		if ra > 0 {
			secs = int(math.Ceil(ra.Seconds()))
		}
		c.w.Header().Set("Retry-After", strconv.Itoa(secs))
		c.fail(http.StatusTooManyRequests, "Too Many Attempts.")
		return false, false
	case failed:
		c.fail(code, "Server Error")
		return false, false
	}
	if sleep > 0 {
		t := time.NewTimer(sleep)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			return false, false
		case <-s.closing:
			return false, false
		}
	}
	return true, drop
}
