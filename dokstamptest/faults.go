package dokstamptest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
	// CutBodyRate is the fraction of successful answers with a body (any
	// method) that are applied and sent with their status, headers and the
	// Content-Length of the whole body, but only half of the body before
	// the connection is closed: the client holds a 2xx it cannot read, and
	// a write took effect. They are counted under their status.
	CutBodyRate float64
	// ForbiddenRate is the fraction of requests answered 403
	// {"message":"This action is unauthorized."} without applying them.
	ForbiddenRate float64
	// RedirectStatus, a redirect status such as 307 or 308, answers every
	// request with that status and a Location on another origin
	// (RedirectTo, the same path and query), without applying it; 0 is off.
	// Anything but 0 or a 3xx status is refused by New and SetFaults.
	RedirectStatus int
	// RedirectTo is the origin redirects point to, e.g. "http://127.0.0.1:9"
	// or another httptest server's URL. Empty means the server's own other
	// origin (Server.OtherOrigin), which serves the same API without faults
	// and records what it receives.
	RedirectTo string
	// WindowLimit turns on a Laravel-style fixed-window rate limit, shared by
	// every route these faults apply to: at most WindowLimit requests per
	// Window (default one minute), the window starting at its first request.
	// Every answer carries X-RateLimit-Limit and X-RateLimit-Remaining; a
	// request over the limit is answered 429 {"message":"Too Many Attempts."}
	// with Retry-After (seconds left in the window) and X-RateLimit-Reset
	// (its end, Unix seconds), and is neither applied nor counted. It is
	// checked before the token bucket (RateLimit); both may be on.
	WindowLimit int
	// Window is the length of WindowLimit's window; 0 means one minute.
	Window time.Duration
}

func (f Faults) zero() bool { return f == Faults{} }

// check reports faults that cannot be served.
func (f Faults) check() error {
	if f.RedirectStatus != 0 && (f.RedirectStatus < 300 || f.RedirectStatus > 399) {
		return fmt.Errorf("RedirectStatus %d is not a redirect; use 307 or 308", f.RedirectStatus)
	}
	return nil
}

// faultState is a Faults with its token bucket.
type faultState struct {
	f Faults

	mu     sync.Mutex
	tokens float64
	last   time.Time

	winMu    sync.Mutex
	winStart time.Time // zero before the first request of a window
	winHits  int
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

// hit counts one request against the fixed window at now. It returns the
// requests left and, when none was left (the request is refused), when the
// window ends.
func (fs *faultState) hit(now time.Time) (remaining int, resetAt time.Time, ok bool) {
	win := fs.f.Window
	if win <= 0 {
		win = time.Minute
	}
	fs.winMu.Lock()
	defer fs.winMu.Unlock()
	if fs.winStart.IsZero() || !now.Before(fs.winStart.Add(win)) {
		fs.winStart, fs.winHits = now, 0
	}
	end := fs.winStart.Add(win)
	if fs.winHits >= fs.f.WindowLimit {
		return 0, end, false
	}
	fs.winHits++
	return fs.f.WindowLimit - fs.winHits, end, true
}

// SetFaults replaces the server-wide faults; it is safe while requests run.
// The rate-limit bucket starts full again, and the fixed window anew. It
// panics on faults that cannot be served (see Faults.RedirectStatus), as
// that is a mistake in the test.
func (s *Server) SetFaults(f Faults) {
	if err := f.check(); err != nil {
		panic("dokstamptest: " + err.Error())
	}
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
	if err := f.check(); err != nil {
		panic("dokstamptest: " + err.Error())
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

// verdict is what the fault sequence decided before a request is handled.
type verdict struct {
	stop bool // not handled: c holds the answer, or no status to drop the connection
	drop bool // a successful write is applied, then the connection closed
	cut  bool // a successful answer is applied, then its body cut
}

// applyFaults runs the fault sequence before a request is handled: the
// redirect, the fixed window, the token bucket, a random 429, 403 or 5xx,
// the latency.
func (s *Server) applyFaults(fs *faultState, rt *route, c *call) verdict {
	f := fs.f
	h := c.w.Header()
	if f.RedirectStatus != 0 {
		to := f.RedirectTo
		if to == "" {
			to = s.OtherOrigin()
		}
		h.Set("Location", strings.TrimRight(to, "/")+c.r.URL.RequestURI())
		c.status = f.RedirectStatus
		return verdict{stop: true}
	}
	if f.WindowLimit > 0 {
		left, reset, ok := fs.hit(time.Now())
		h.Set("X-RateLimit-Limit", strconv.Itoa(f.WindowLimit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(left))
		if !ok {
			h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(time.Until(reset).Seconds())))))
			h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
			c.fail(http.StatusTooManyRequests, "Too Many Attempts.")
			return verdict{stop: true}
		}
	}
	if f.RateLimit > 0 {
		if ok, wait := fs.take(time.Now()); !ok {
			h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			c.fail(http.StatusTooManyRequests, "Too Many Attempts.")
			return verdict{stop: true}
		}
	}
	var limited, forbidden, failed bool
	var code int
	var sleep time.Duration
	var out verdict
	s.faultMu.Lock()
	if f.RateLimitRate > 0 && s.rng.Float64() < f.RateLimitRate {
		limited = true
	}
	if !limited && f.ForbiddenRate > 0 && s.rng.Float64() < f.ForbiddenRate {
		forbidden = true
	}
	if !limited && !forbidden && f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		failed = true
		code = serverErrors[s.rng.IntN(len(serverErrors))]
	}
	if !limited && !forbidden && !failed {
		sleep = f.Latency
		if f.Jitter > 0 {
			sleep += time.Duration(s.rng.Int64N(int64(f.Jitter)))
		}
		if rt.write && f.DropAfterCommitRate > 0 && s.rng.Float64() < f.DropAfterCommitRate {
			out.drop = true
		}
		if !out.drop && f.CutBodyRate > 0 && s.rng.Float64() < f.CutBodyRate {
			out.cut = true
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
		h.Set("Retry-After", strconv.Itoa(secs))
		c.fail(http.StatusTooManyRequests, "Too Many Attempts.")
		return verdict{stop: true}
	case forbidden:
		c.fail(http.StatusForbidden, "This action is unauthorized.")
		return verdict{stop: true}
	case failed:
		c.fail(code, "Server Error")
		return verdict{stop: true}
	}
	if sleep > 0 {
		t := time.NewTimer(sleep)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			return verdict{stop: true}
		case <-s.closing:
			return verdict{stop: true}
		}
	}
	return out
}

// OriginRequest is a request the other origin received.
type OriginRequest struct {
	Method string
	// Path is the path and query asked for.
	Path string
	// Header holds the request's headers, e.g. whether Authorization or
	// X-Tenant followed a redirect.
	Header http.Header
}

type otherOriginKey struct{}

func fromOtherOrigin(r *http.Request) bool { return r.Context().Value(otherOriginKey{}) != nil }

// OtherOrigin returns the base URL of a second listener, on another port of
// loopback and so another origin, that serves the same API and data
// without faults. It is where redirect faults point when RedirectTo is
// empty; it starts on first use, and "" is returned once the server is
// closed.
func (s *Server) OtherOrigin() string {
	s.otherMu.Lock()
	defer s.otherMu.Unlock()
	if s.otherClosed {
		return ""
	}
	if s.other == nil {
		s.other = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.otherMu.Lock()
			s.otherSeen = append(s.otherSeen, OriginRequest{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone()})
			s.otherMu.Unlock()
			s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), otherOriginKey{}, true)))
		}))
		s.other.Config.ErrorLog = s.ts.Config.ErrorLog
		s.other.Start()
	}
	return s.other.URL
}

// OtherOriginRequests returns the requests the other origin (OtherOrigin)
// has received, in order.
func (s *Server) OtherOriginRequests() []OriginRequest {
	s.otherMu.Lock()
	defer s.otherMu.Unlock()
	return append([]OriginRequest(nil), s.otherSeen...)
}
