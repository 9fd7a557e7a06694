package dokstamp

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy says how often and how patiently a request is retried; which requests may be
// retried at all is the package's POST rule (see the package doc, "Retries and duplicates").
// Waits grow exponentially with full jitter between MinWait and MaxWait; a Retry-After answer is
// honoured (capped by MaxWait). Waits end when the context is done, and a wait that would
// outlive the context's deadline is not started.
type RetryPolicy struct {
	MaxRetries int           // retries after the first attempt; 0 turns retries off
	MinWait    time.Duration // base of the exponential backoff; default 200ms
	MaxWait    time.Duration // cap of any single wait; default 10s
}

// DefaultRetryPolicy is the policy of a Client built without WithRetry: 4 retries, 200ms to 10s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 4, MinWait: 200 * time.Millisecond, MaxWait: 10 * time.Second}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MinWait == 0 {
		p.MinWait = d.MinWait
	}
	if p.MaxWait == 0 {
		p.MaxWait = d.MaxWait
	}
	if p.MaxWait < p.MinWait {
		p.MaxWait = p.MinWait
	}
	return p
}

// retryClass says what may be retried for one route.
type retryClass uint8

const (
	// retryByMethod: retryUnsafe for POST, retryIdempotent for the rest.
	retryByMethod retryClass = iota
	// retryIdempotent: connection errors, 429 and 5xx (GET, PUT, PATCH, DELETE, POST /files,
	// POST /oauth/token, POST /auth/login).
	retryIdempotent
	// retryUnsafe: only 429 and failures before the request was written (POST).
	retryUnsafe
)

// classFor is the default class of a method.
func classFor(method string) retryClass {
	if method == http.MethodPost {
		return retryUnsafe
	}
	return retryIdempotent
}

// attempt is what one attempt ended with, as the retry predicate sees it.
type attempt struct {
	status  int   // the answer's status; 0 when there was none
	err     error // the transport's error when there was no answer
	written bool  // the request may have reached the server
}

// worthRetry is the one retry predicate of the SDK: whether a failed attempt of a request of
// the given class is worth sending again. The client's request path, the token endpoint (which
// goes through that path) and the bulk engine all decide with it.
func worthRetry(class retryClass, a attempt, o *callOptions) bool {
	switch {
	case a.err != nil:
		var nr noRetry
		if errors.As(a.err, &nr) {
			return false
		}
		ok, _ := retryablehttp.DefaultRetryPolicy(context.Background(), nil, a.err) // false for TLS, scheme, redirect errors
		return ok && (class == retryIdempotent || !a.written)
	case a.status == http.StatusTooManyRequests:
		return !o.noRateLimitRetry // the server did not act, whatever the method
	case a.status == 500, a.status == 502, a.status == 503, a.status == 504:
		return class == retryIdempotent && !o.noServerRetry
	}
	return false
}

// retryableError applies worthRetry to an error a call returned, for code that retries whole
// calls (the bulk engine): a 429 or 5xx *Error (a 5xx only for the idempotent class), or a
// failure without an answer (for the unsafe class, only one that left nothing in doubt). A
// *DecodeError and the context's own errors are never worth it.
func retryableError(class retryClass, err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return worthRetry(class, attempt{status: ae.StatusCode}, &callOptions{})
	}
	var de *DecodeError
	if err == nil || errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return worthRetry(class, attempt{err: err, written: isOutcomeUnknown(err)}, &callOptions{})
}

// noRetry marks an error that no further attempt can mend (a refused redirect).
type noRetry interface{ noRetry() }

// wait is the one wait function of the SDK: how long to wait after the given attempt (from 1).
// It is the server's Retry-After when it gave one, capped by MaxWait; otherwise a random wait up
// to MinWait<<(attempt-1), capped by MaxWait (full jitter).
func (p RetryPolicy) wait(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.MaxWait)
	}
	// MinWait << (attempt-1), doubled step by step so that it never overflows
	ceiling := p.MinWait
	for i := 1; i < attempt && ceiling < p.MaxWait; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxWait)
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// attemptState follows one call through its attempts: go-retryablehttp's per-call client, the
// single-layer *http.Client it sends through, the trace hooks and the call's options. It is also
// the request's context (the caller's, through the embedded Context), so that go-retryablehttp's
// hooks, which get nothing but the request, find it again.
type attemptState struct {
	context.Context // the caller's; set by withTrace

	c          *Client
	r          *request
	opts       callOptions
	maxRetries int
	attempts   int
	wrote      atomic.Bool // some of the current attempt's request reached the wire
	traced     atomic.Bool // the transport reports through httptrace (Go's http.Transport does)
	inDoubt    bool        // the last attempt was written and got no answer
	started    time.Time
	token      string // the Bearer token of the current attempt, scrubbed from errors
	// reauthenticated: a 401 already made this call drop its token and fetch a new one
	reauthenticated bool

	rc    retryablehttp.Client
	hc    http.Client
	rt    attemptTransport
	trace httptrace.ClientTrace
}

// newAttemptState starts a call of r with the options of ctx (a bulk run's, see withRunOptions)
// and then r's own.
func newAttemptState(ctx context.Context, c *Client, r *request) *attemptState {
	st := &attemptState{c: c, r: r, maxRetries: c.retry.MaxRetries}
	if !r.noAuth {
		st.opts.apply(runOptions(ctx))
	}
	st.opts.apply(r.opts)
	if st.opts.maxSet {
		st.maxRetries = st.opts.maxRetries
	}
	if r.class == retryByMethod {
		r.class = classFor(r.method)
	}
	return st
}

// attemptKey finds the attemptState in a request's context.
type attemptKey struct{}

// Value answers attemptKey with st itself and asks the caller's context for anything else.
func (st *attemptState) Value(key any) any {
	if key == (attemptKey{}) {
		return st
	}
	return st.Context.Value(key)
}

// attemptOf is the attemptState a request was made with.
func attemptOf(ctx context.Context) *attemptState {
	st, _ := ctx.Value(attemptKey{}).(*attemptState)
	return st
}

// withTrace makes st the call's context over ctx and, for a request that may only be re-sent
// when the server never saw it, notes when it is written: that separates "the server never saw
// it" from "the server may have acted". The transport may call the hooks from its own
// goroutines.
func (st *attemptState) withTrace(ctx context.Context) context.Context {
	st.Context = ctx
	if st.r.class != retryUnsafe {
		return st
	}
	// WroteHeaders comes once the whole header block is buffered (a server cannot act on less).
	st.trace.GetConn = func(string) { st.traced.Store(true) }
	st.trace.WroteHeaders = func() { st.wrote.Store(true) }
	return httptrace.WithClientTrace(st, &st.trace)
}

// mayHaveWritten reports whether a failed attempt may have reached the server. A transport that
// reports through httptrace proves it did not when no header was written; for any other
// transport (a test double, a recording wrapper) only a dial or DNS failure proves it.
func (st *attemptState) mayHaveWritten(err error) bool {
	if st.wrote.Load() {
		return true
	}
	if st.traced.Load() || neverSent(err) {
		return false
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	return !(errors.As(err, &dnsErr) || errors.As(err, &opErr) && opErr.Op == "dial")
}

// client wires go-retryablehttp to this call. Its Logger stays nil: go-retryablehttp logs nothing.
// It sends through one *http.Client layer made of the user's client's settings, read now, whose
// transport hides CloseIdleConnections: go-retryablehttp calls that after every failed or
// cancelled call, which would drop the idle connections every other goroutine of a bulk run is
// reusing. Redirects go through checkRedirect first (see redirect.go).
func (st *attemptState) client() *retryablehttp.Client {
	user := st.c.hc
	st.rt = attemptTransport{rt: st.c.gate.transport(user.Transport), timeout: st.opts.timeout}
	st.hc = http.Client{
		Transport:     &st.rt,
		CheckRedirect: checkRedirect,
		Jar:           user.Jar,
		Timeout:       user.Timeout,
	}
	st.rc = retryablehttp.Client{
		HTTPClient:     &st.hc,
		RetryMax:       st.maxRetries,
		RetryWaitMin:   st.c.retry.MinWait,
		RetryWaitMax:   st.c.retry.MaxWait,
		CheckRetry:     checkRetry,
		Backoff:        chosenWait,
		RequestLogHook: beforeAttempt,
		PrepareRetry:   prepareRetry,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
	}
	return &st.rc
}

// attemptTransport sends through a RoundTripper (nil: http.DefaultTransport), hides its
// CloseIdleConnections, and bounds each attempt by WithRequestTimeout.
type attemptTransport struct {
	rt      http.RoundTripper
	timeout time.Duration
}

func (t *attemptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt := t.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t.timeout <= 0 {
		return rt.RoundTrip(r)
	}
	parent := r.Context()
	ctx, cancel := context.WithTimeout(parent, t.timeout)
	resp, err := rt.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		if ctx.Err() != nil && parent.Err() == nil {
			err = attemptTimeout{t.timeout}
		}
		return nil, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, ctx: ctx, parent: parent, cancel: cancel, d: t.timeout}
	return resp, nil
}

// go-retryablehttp's hooks: plain functions that find the call's attemptState in the request.

func beforeAttempt(_ retryablehttp.Logger, hr *http.Request, i int) {
	if st := attemptOf(hr.Context()); st != nil {
		st.attempts = i + 1
		st.wrote.Store(false)
		st.traced.Store(false)
		st.started = time.Now()
	}
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := attemptOf(ctx)
	if st == nil {
		return false, err
	}
	return st.checkRetry(ctx, resp, err)
}

// prepareRetry refreshes the Authorization header, which may have been renewed meanwhile.
func prepareRetry(hr *http.Request) error {
	st := attemptOf(hr.Context())
	if st == nil {
		return nil
	}
	hr.Header = hr.Header.Clone()
	return st.authorize(hr.Header)
}

// chosenWait is go-retryablehttp's Backoff: checkRetry has chosen the wait and handed it over
// as RetryWaitMin, the only per-call value go-retryablehttp passes to Backoff.
func chosenWait(wait, _ time.Duration, _ int, _ *http.Response) time.Duration { return wait }

// checkRetry decides whether the attempt that just ended is tried again, and how long to wait.
func (st *attemptState) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	a := attempt{err: err}
	if err == nil {
		a.status = resp.StatusCode
	} else {
		a.written = st.mayHaveWritten(err)
	}
	st.inDoubt = st.r.class == retryUnsafe && err != nil && a.written && !refusedUnsent(err)
	st.log(ctx, resp, err)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err == nil && resp.StatusCode == http.StatusUnauthorized && st.canReauthenticate() {
		// A renewable token was refused (revoked, or expired early by the server's clock): the
		// server did not act, so fetch a new token and send once more, whatever the method.
		st.reauthenticated = true
		st.c.auth.(tokenDropper).drop(st.token)
		st.rc.RetryWaitMin = 0
		return st.attempts <= st.maxRetries, nil
	}
	if !worthRetry(st.r.class, a, &st.opts) || st.attempts > st.maxRetries {
		return false, nil
	}
	var ra time.Duration
	if resp != nil {
		ra = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	wait := st.c.retry.wait(st.attempts, ra)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return false, nil // the wait would outlive the caller's deadline: give the answer now
	}
	st.rc.RetryWaitMin = wait // for chosenWait
	if st.c.logger != nil {
		st.c.logger.LogAttrs(ctx, levelRetry, "dokstamp: retrying",
			attrMethod(st.r.method), attrPath(st.r.path), attrAttempt(st.attempts), attrWait(wait))
	}
	return true, nil
}

// computeWait is the wait after the current attempt for an answer resp (nil: none).
func (st *attemptState) computeWait(resp *http.Response) time.Duration {
	var ra time.Duration
	if resp != nil {
		ra = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return st.c.retry.wait(st.attempts, ra)
}

// canReauthenticate: the call carried a token its source can renew, and has not been
// re-authenticated yet.
func (st *attemptState) canReauthenticate() bool {
	if st.reauthenticated || st.token == "" {
		return false
	}
	_, ok := st.c.auth.(tokenDropper)
	return ok
}

// transportError turns a failure without an HTTP answer into the caller's error.
func (st *attemptState) transportError(err error) error {
	if st.inDoubt {
		return st.scrubbed(errorf("%s %s: %w after %d attempt(s): %w", st.r.method, st.r.path, ErrOutcomeUnknown, st.attempts, err))
	}
	return st.scrubbed(errorf("%s %s: after %d attempt(s): %w", st.r.method, st.r.path, st.attempts, err))
}

// answerError decodes a non-2xx answer, scrubbed of every secret this call carried in case the
// server echoes one.
func (st *attemptState) answerError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	sc := st.scrubber()
	// scrub the raw body too, before an excerpt of it could cut a secret in two
	body = []byte(sc.scrub(string(body)))
	e := decodeError(resp.StatusCode, resp.Header, body)
	e.Method, e.Path, e.Attempts = st.r.method, st.r.path, st.attempts
	e.outcomeUnknown = st.r.class == retryUnsafe && resp.StatusCode >= 500
	if resp.StatusCode == http.StatusUnauthorized {
		e.hint = st.c.unauthorizedHint(st.r, st.reauthenticated)
	}
	e.scrub(sc)
	return e
}

// scrubber covers every secret this call could leak: the Client's credentials, the request's
// own (a password, a refresh token, a PIN) and the Bearer token it carried.
func (st *attemptState) scrubber() *scrubber {
	return st.c.scrubberFor(st.r.secrets, st.token)
}

// scrubbed is err with every secret of this call removed from its text.
func (st *attemptState) scrubbed(err error) error { return st.scrubber().error(err) }

// isOutcomeUnknown is errors.Is(err, ErrOutcomeUnknown) for readability at call sites.
func isOutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

// runOptionsKey carries the RequestOptions of a bulk run (see withRunOptions).
type runOptionsKey struct{}

// withRunOptions makes every call made with the returned context start from opts, after those
// ctx carries already; a call's own RequestOptions come on top. c.Batch's methods carry their
// caller's options to every call of the run this way, and the bulk engine adds its own (429s
// and 5xx handed back at once: it decides itself, so that one call has one retry layer). Token
// requests ignore them.
func withRunOptions(ctx context.Context, opts ...RequestOption) context.Context {
	if len(opts) == 0 {
		return ctx
	}
	prev := runOptions(ctx)
	all := make([]RequestOption, 0, len(prev)+len(opts))
	return context.WithValue(ctx, runOptionsKey{}, append(append(all, prev...), opts...))
}

// runOptions are the RequestOptions ctx carries for every call (see withRunOptions).
func runOptions(ctx context.Context) []RequestOption {
	opts, _ := ctx.Value(runOptionsKey{}).([]RequestOption)
	return opts
}
