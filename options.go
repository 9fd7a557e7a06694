package dokstamp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RequestOption adjusts one call: pass it last to any service method or to Client.Do. Option
// configures the whole Client; a RequestOption only the call it is given to (for All, every page
// request of the iteration). A nil RequestOption is ignored.
type RequestOption func(*callOptions)

// callOptions is what the RequestOptions of one call add up to.
type callOptions struct {
	header     http.Header
	timeout    time.Duration // per attempt; 0: none
	maxRetries int           // this call's retries, when maxRetriesSet
	maxSet     bool
	into       *Response
	intoMu     *sync.Mutex // guards into: All's pages may answer concurrently
	err        error       // the first invalid option, reported before anything is sent

	// Set by the bulk engine (see withoutRateLimitRetry and withoutServerRetry).
	noRateLimitRetry bool // hand a 429 back at once instead of waiting and retrying
	noServerRetry    bool // hand a 5xx back at once, whatever the method
}

// reservedHeaders are set by the request path and cannot be overridden per call: they carry the
// credentials, the tenant and the body's framing.
var reservedHeaders = map[string]bool{
	"Authorization": true, "X-Tenant": true, "Content-Type": true, "Content-Length": true,
	"Host": true, "Transfer-Encoding": true, "Cookie": true, "Proxy-Authorization": true,
}

// WithHeader sends the header key: value on this call only, for example a correlation id. It
// cannot set Authorization, X-Tenant, Cookie or the body's framing headers (Content-Type,
// Content-Length, Transfer-Encoding, Host): the call fails before anything is sent. Given twice
// for the same key, both values are sent.
func WithHeader(key, value string) RequestOption {
	return func(o *callOptions) {
		ck := http.CanonicalHeaderKey(strings.TrimSpace(key))
		switch {
		case ck == "" || strings.ContainsFunc(ck, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' }):
			o.fail(fmt.Errorf("WithHeader: %q is not a header name", key))
		case reservedHeaders[ck]:
			o.fail(fmt.Errorf("WithHeader: %s is set by the client and cannot be set per call", ck))
		case hasControl(value):
			o.fail(fmt.Errorf("WithHeader: the value of %s holds a control character", ck))
		default:
			if o.header == nil {
				o.header = make(http.Header, 1)
			}
			o.header[ck] = append(o.header[ck], value)
		}
	}
}

// WithRequestTimeout bounds each attempt of this call (connecting, sending and reading the whole
// answer) by d; a timed-out attempt is retried by the call's retry rules, while the context
// bounds the call as a whole. d must be positive.
func WithRequestTimeout(d time.Duration) RequestOption {
	return func(o *callOptions) {
		if d <= 0 {
			o.fail(fmt.Errorf("WithRequestTimeout: %v is not a positive duration", d))
			return
		}
		o.timeout = d
	}
}

// WithMaxRetries sets this call's retries after the first attempt, in place of the Client's
// RetryPolicy.MaxRetries; 0 sends the request once. Which failures may be retried does not
// change (see the package doc: a POST is never re-sent once the server may have acted).
func WithMaxRetries(n int) RequestOption {
	return func(o *callOptions) {
		if n < 0 {
			o.fail(fmt.Errorf("WithMaxRetries: %d is negative", n))
			return
		}
		o.maxRetries, o.maxSet = n, true
	}
}

// WithResponseInto fills *r with the final answer of this call (its last attempt), whether the
// call succeeds or fails with an *Error; r is left zero when no answer came. For All, r holds
// the answer of one of the last pages fetched. A nil r is ignored.
func WithResponseInto(r *Response) RequestOption {
	if r == nil {
		return nil
	}
	mu := new(sync.Mutex)
	return func(o *callOptions) { o.into, o.intoMu = r, mu }
}

// withoutRateLimitRetry makes a call hand a 429 answer back at once: the bulk engine paces the
// whole run itself.
func withoutRateLimitRetry() RequestOption {
	return func(o *callOptions) { o.noRateLimitRetry = true }
}

// withoutServerRetry makes a call hand a 5xx answer back at once, whatever its method: the bulk
// engine decides itself whether and when to send again.
func withoutServerRetry() RequestOption {
	return func(o *callOptions) { o.noServerRetry = true }
}

func (o *callOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// apply adds opts to o, skipping nil ones.
func (o *callOptions) apply(opts []RequestOption) {
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
}

// record fills the caller's Response from the final answer.
func (o *callOptions) record(resp *http.Response) {
	if o.into == nil || resp == nil {
		return
	}
	o.intoMu.Lock()
	defer o.intoMu.Unlock()
	*o.into = Response{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RateLimit:  parseRateLimit(resp.StatusCode, resp.Header, time.Now()),
	}
}

// Response is the final HTTP answer of a call, filled by WithResponseInto.
type Response struct {
	StatusCode int
	Header     http.Header
	// RequestID is the server's X-Request-Id, when it sent one.
	RequestID string
	// RateLimit is the allowance the server announced; zero when it announced none.
	RateLimit RateLimit
}

// RateLimit is the request allowance a server announces in its answer's headers. The DokStamp
// docs do not document these headers: they are inferred from the framework the API runs on
// (Laravel sends X-RateLimit-Limit and X-RateLimit-Remaining, and on a 429 X-RateLimit-Reset and
// Retry-After) and from the IETF RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset
// headers. The zero value means the answer announced nothing.
type RateLimit struct {
	Limit     int       // requests allowed in the window
	Remaining int       // requests left in the window
	Reset     time.Time // when the window resets; zero when not announced
}

// parseRateLimit reads the rate-limit headers of an answer. X-RateLimit-Reset is Laravel's Unix
// time in seconds (a small value is taken as seconds from now, as some gateways send it);
// RateLimit-Reset is the IETF delta in seconds. On a 429 without a reset header, Retry-After
// tells when the window resets.
func parseRateLimit(status int, h http.Header, now time.Time) RateLimit {
	var rl RateLimit
	rl.Limit, _ = headerInt(h, "X-Ratelimit-Limit", "Ratelimit-Limit")
	rl.Remaining, _ = headerInt(h, "X-Ratelimit-Remaining", "Ratelimit-Remaining")
	if n, ok := headerInt(h, "X-Ratelimit-Reset"); ok {
		if n > 1e9 {
			rl.Reset = time.Unix(int64(n), 0).In(now.Location())
		} else {
			rl.Reset = now.Add(time.Duration(n) * time.Second)
		}
	} else if n, ok := headerInt(h, "Ratelimit-Reset"); ok {
		rl.Reset = now.Add(time.Duration(n) * time.Second)
	} else if status == http.StatusTooManyRequests {
		if ra := parseRetryAfter(h.Get("Retry-After"), now); ra > 0 {
			rl.Reset = now.Add(ra)
		}
	}
	return rl
}

// headerInt is the first of the keys holding a non-negative integer.
func headerInt(h http.Header, keys ...string) (int, bool) {
	for _, k := range keys {
		v := h.Get(k)
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return n, true
		}
	}
	return 0, false
}

// attemptTimeout is the error of an attempt cut by WithRequestTimeout.
type attemptTimeout struct{ d time.Duration }

func (e attemptTimeout) Error() string {
	return fmt.Sprintf("attempt timed out after %v (WithRequestTimeout)", e.d)
}

// Is makes errors.Is(err, context.DeadlineExceeded) hold, as for any other timeout.
func (e attemptTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout reports true, as net.Error timeouts do.
func (e attemptTimeout) Timeout() bool { return true }

// timedBody ends an attempt's timeout once its answer has been read and closed.
type timedBody struct {
	io.ReadCloser
	ctx, parent context.Context
	cancel      context.CancelFunc
	d           time.Duration
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil && b.parent.Err() == nil {
		err = attemptTimeout{b.d}
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
