package dokstamp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy says how often and how patiently a request is retried.
//
// GET, PUT, PATCH and DELETE are retried on connection errors, 429, 500, 502, 503 and 504.
// POST is retried only when the server provably did not act: on 429 and on failures before the
// request was written. POST /files is retried like a GET, since uploads are de-duplicated by
// content. Waits grow exponentially with full jitter between MinWait and MaxWait; a Retry-After
// answer is honoured (capped by MaxWait). Waits end when the context is done, and a wait that would
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
	// retryIdempotent: connection errors, 429 and 5xx (GET, PUT, PATCH, DELETE, POST /files).
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

// attemptState follows one call through its attempts. It carries everything a call needs in one
// allocation: go-retryablehttp's per-call client, the single-layer *http.Client it sends
// through, and the trace hooks. It is also the request's context (the caller's, through the
// embedded Context), so that the hooks, which go-retryablehttp shares nothing but the request
// with, find it again without closures.
type attemptState struct {
	context.Context // the caller's; set by withTrace

	c        *Client
	r        *request
	attempts int
	wrote    atomic.Bool // some of the current attempt's request reached the wire
	traced   atomic.Bool // the transport reports through httptrace (Go's http.Transport does)
	inDoubt  bool        // the last attempt was written and got no answer
	wait     time.Duration
	started  time.Time
	token    string // the Bearer token of the current attempt, scrubbed from errors
	// reauthenticated: a 401 already made this call drop its token and fetch a new one
	reauthenticated bool

	rc    retryablehttp.Client
	hc    http.Client
	rt    keepIdle
	trace httptrace.ClientTrace
	hv    [6]string // the request's header values (setHeader)
	nhv   int
}

// setHeader sets a canonical header key to one value held in st, which spares an allocation
// per header; it falls back to Header.Set when st's values are used up.
func (st *attemptState) setHeader(h http.Header, key, value string) {
	if st.nhv == len(st.hv) {
		h.Set(key, value)
		return
	}
	st.hv[st.nhv] = value
	h[key] = st.hv[st.nhv : st.nhv+1 : st.nhv+1]
	st.nhv++
}

func newAttemptState(c *Client, r *request) *attemptState {
	return &attemptState{c: c, r: r}
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
// it" from "the server may have acted".
func (st *attemptState) withTrace(ctx context.Context) context.Context {
	st.Context = ctx
	if st.r.class != retryUnsafe {
		return st
	}
	// WroteHeaders comes once the whole header block is buffered (a server cannot act on less);
	// WroteHeaderField would cost an allocation per header and prove no more.
	st.trace.GetConn = st.gotConn
	st.trace.WroteHeaders = st.wroteHeaders
	return httptrace.WithClientTrace(st, &st.trace)
}

func (st *attemptState) gotConn(string) { st.traced.Store(true) }

func (st *attemptState) wroteHeaders() { st.wrote.Store(true) }

// mayHaveWritten reports whether a failed attempt may have reached the server. A transport that
// reports through httptrace proves it did not when no header was written; for any other
// transport (a test double, a recording wrapper) only a dial or DNS failure proves it.
func (st *attemptState) mayHaveWritten(err error) bool {
	if st.wrote.Load() {
		return true
	}
	if st.traced.Load() {
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
// reusing. The hooks are functions, not closures: they find st in the request's context.
func (st *attemptState) client() *retryablehttp.Client {
	user := st.c.hc
	st.rt = keepIdle{user.Transport}
	st.hc = http.Client{
		Transport:     &st.rt,
		CheckRedirect: user.CheckRedirect,
		Jar:           user.Jar,
		Timeout:       user.Timeout,
	}
	st.rc = retryablehttp.Client{
		HTTPClient:     &st.hc,
		RetryMax:       st.c.retry.MaxRetries,
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

// keepIdle sends through a RoundTripper (nil: http.DefaultTransport) and hides its
// CloseIdleConnections.
type keepIdle struct{ rt http.RoundTripper }

func (k *keepIdle) RoundTrip(r *http.Request) (*http.Response, error) {
	if k.rt == nil {
		return http.DefaultTransport.RoundTrip(r)
	}
	return k.rt.RoundTrip(r)
}

func beforeAttempt(_ retryablehttp.Logger, hr *http.Request, i int) {
	if st := attemptOf(hr.Context()); st != nil {
		st.beforeAttempt(i)
	}
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := attemptOf(ctx)
	if st == nil {
		return false, err
	}
	return st.checkRetry(ctx, resp, err)
}

func prepareRetry(hr *http.Request) error {
	st := attemptOf(hr.Context())
	if st == nil {
		return nil
	}
	return st.prepareRetry(hr)
}

// chosenWait is go-retryablehttp's Backoff: checkRetry has chosen the wait and handed it over
// as RetryWaitMin, the only per-call value go-retryablehttp passes to Backoff.
func chosenWait(wait, _ time.Duration, _ int, _ *http.Response) time.Duration { return wait }

func (st *attemptState) beforeAttempt(i int) {
	st.attempts = i + 1
	st.wrote.Store(false)
	st.traced.Store(false)
	st.started = time.Now()
}

// prepareRetry refreshes the Authorization header, which may have been renewed meanwhile.
func (st *attemptState) prepareRetry(hr *http.Request) error {
	hr.Header = hr.Header.Clone()
	if st.r.public || st.r.noAuth {
		return nil
	}
	tok, err := st.c.authorize(hr.Context(), hr)
	st.token = tok
	return err
}

// checkRetry decides whether the attempt that just ended is tried again, and how long to wait.
func (st *attemptState) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st.inDoubt = st.r.class == retryUnsafe && err != nil && st.mayHaveWritten(err)
	st.log(ctx, resp, err)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	retry := false
	switch {
	case err != nil:
		ok, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err) // false for TLS, scheme, redirect errors
		retry = ok && (st.r.class == retryIdempotent || !st.mayHaveWritten(err))
	case resp.StatusCode == http.StatusTooManyRequests:
		retry = !callOptionsFrom(ctx).noRateLimitRetry
	case resp.StatusCode == 500, resp.StatusCode == 502, resp.StatusCode == 503, resp.StatusCode == 504:
		retry = st.r.class == retryIdempotent
	case resp.StatusCode == http.StatusUnauthorized && st.canReauthenticate():
		// A renewable token was refused (revoked, or expired early by the server's clock): the
		// server did not act, so fetch a new token and send once more, whatever the method.
		st.reauthenticated = true
		if f, ok := st.c.auth.(tokenDropper); ok {
			f.drop(st.token)
		}
		if st.attempts > st.c.retry.MaxRetries {
			return false, nil
		}
		st.wait = 0
		st.rc.RetryWaitMin = 0
		return true, nil
	}
	if !retry || st.attempts > st.c.retry.MaxRetries {
		return false, nil
	}
	st.wait = st.computeWait(resp)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < st.wait {
		return false, nil // the wait would outlive the caller's deadline: give the answer now
	}
	st.rc.RetryWaitMin = st.wait // for chosenWait
	if st.c.logger != nil {
		st.c.logger.LogAttrs(ctx, levelRetry, "dokstamp: retrying",
			attrMethod(st.r.method), attrPath(st.r.path), attrAttempt(st.attempts), attrWait(st.wait))
	}
	return true, nil
}

// canReauthenticate: the call carried a token its source can renew, and has not been
// re-authenticated yet.
func (st *attemptState) canReauthenticate() bool {
	if st.reauthenticated || st.token == "" || st.r.public || st.r.noAuth {
		return false
	}
	_, ok := st.c.auth.(tokenDropper)
	return ok
}

// computeWait is full-jitter exponential backoff, or the server's Retry-After when it gave one.
func (st *attemptState) computeWait(resp *http.Response) time.Duration {
	var ra time.Duration
	if resp != nil {
		ra = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return st.c.retry.wait(st.attempts, ra)
}

// wait is how long to wait after the given attempt (from 1): the server's Retry-After when it
// gave one, capped by MaxWait; otherwise a random wait up to MinWait<<(attempt-1), capped by
// MaxWait (full jitter).
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

// transportError turns a failure without an HTTP answer into the caller's error.
func (st *attemptState) transportError(err error) error {
	if st.inDoubt {
		return fmt.Errorf("dokstamp: %s %s: %w after %d attempt(s): %w", st.r.method, st.r.path, ErrOutcomeUnknown, st.attempts, err)
	}
	return fmt.Errorf("dokstamp: %s %s: after %d attempt(s): %w", st.r.method, st.r.path, st.attempts, err)
}

// answerError decodes a non-2xx answer. The server's words are scrubbed of every secret this
// call carried, in case it echoes one.
func (st *attemptState) answerError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	// scrub the raw body too, before an excerpt of it could cut a secret in two
	for _, list := range [][]string{st.c.secrets, st.r.secrets, {st.token}} {
		for _, sec := range list {
			if sec != "" {
				body = bytes.ReplaceAll(body, []byte(sec), []byte(redacted))
			}
		}
	}
	e := decodeError(resp.StatusCode, resp.Header, body)
	e.Method, e.Path, e.Attempts = st.r.method, st.r.path, st.attempts
	e.outcomeUnknown = st.r.class == retryUnsafe && resp.StatusCode >= 500
	e.redact(st.c.secrets...)
	e.redact(st.r.secrets...)
	e.redact(st.token)
	return e
}

// viaClient is a RoundTripper that sends through an *http.Client (its transport, redirects,
// cookies and timeout), and nothing else; the token requests of WithClientCredentials use it.
type viaClient struct{ hc *http.Client }

func (v viaClient) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := v.hc.Do(r)
	var ue *url.Error
	if err != nil && errors.As(err, &ue) {
		err = ue.Err // the outer client names the method and URL again
	}
	return resp, err
}

// isOutcomeUnknown is errors.Is(err, ErrOutcomeUnknown) for readability at call sites.
func isOutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

// callOptions adjust the retry rules for the calls made with a context; the bulk engine uses
// them to handle 429s itself, for the whole batch at once.
type callOptions struct {
	noRateLimitRetry bool // return 429 answers at once instead of waiting and retrying
}

type callOptionsKey struct{}

func withCallOptions(ctx context.Context, o callOptions) context.Context {
	return context.WithValue(ctx, callOptionsKey{}, o)
}

func callOptionsFrom(ctx context.Context) callOptions {
	o, _ := ctx.Value(callOptionsKey{}).(callOptions)
	return o
}
