package dokstamp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func coreCertParams() *CertificateCreateParams {
	return &CertificateCreateParams{
		InstitutionUUID: "11111111-1111-4111-8111-111111111111",
		CourseUUID:      "22222222-2222-4222-8222-222222222222",
		StudentUUID:     "33333333-3333-4333-8333-333333333333",
		FileUUID:        "44444444-4444-4444-8444-444444444444",
	}
}

const coreCertJSON = `{"data":{"uuid":"55555555-5555-4555-8555-555555555555","status":"issued"}}`

// coreSequence answers with the given statuses in turn (the last one repeats) and counts calls.
func coreSequence(calls *atomic.Int32, body string, statuses ...int) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		n := int(calls.Add(1))
		st := statuses[min(n, len(statuses))-1]
		if st >= 300 {
			return httpmock.NewStringResponse(st, `{"message":"status `+strconv.Itoa(st)+`"}`), nil
		}
		return httpmock.NewStringResponse(st, body), nil
	}
}

func TestRetryGETOnRetryableStatuses(t *testing.T) {
	t.Parallel()
	for _, st := range []int{429, 500, 502, 503, 504} {
		t.Run(strconv.Itoa(st), func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t)
			var calls atomic.Int32
			mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, coreSequence(&calls, `{"data":{"uuid":"`+coreUUID+`"}}`, st, st, 200))
			f, err := c.Files.Get(context.Background(), coreUUID)
			require.NoError(t, err)
			assert.Equal(t, coreUUID, f.UUID)
			assert.EqualValues(t, 3, calls.Load())
		})
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	t.Parallel()
	sentinels := map[int]error{400: nil, 401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 422: ErrValidation}
	for st, sentinel := range sentinels {
		t.Run(strconv.Itoa(st), func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t)
			var calls atomic.Int32
			mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, coreSequence(&calls, "", st, 200))
			_, err := c.Files.Get(context.Background(), coreUUID)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, st, e.StatusCode)
			assert.Equal(t, 1, e.Attempts)
			assert.EqualValues(t, 1, calls.Load())
			if sentinel != nil {
				assert.ErrorIs(t, err, sentinel)
			}
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		})
	}
}

func TestRetryGETOnConnectionReset(t *testing.T) {
	t.Parallel()
	t.Run("mock", func(t *testing.T) {
		t.Parallel()
		c, mt := coreMockClient(t)
		var calls atomic.Int32
		mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, func(r *http.Request) (*http.Response, error) {
			if calls.Add(1) == 1 {
				return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
			}
			return httpmock.NewStringResponse(200, `{"data":{"uuid":"`+coreUUID+`"}}`), nil
		})
		_, err := c.Files.Get(context.Background(), coreUUID)
		require.NoError(t, err)
		assert.EqualValues(t, 2, calls.Load())
	})
	t.Run("server", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		c, _ := coreServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				coreReset(t, w)
				return
			}
			_, _ = io.WriteString(w, `{"data":{"uuid":"`+coreUUID+`"}}`)
		}))
		_, err := c.Files.Get(context.Background(), coreUUID)
		require.NoError(t, err)
		assert.EqualValues(t, 2, calls.Load())
	})
}

// coreReset drops the connection of a request the handler has read, with a TCP reset.
func coreReset(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if !assert.NoError(t, err) {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func TestPOSTCertificateNotRetriedOn500(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var calls atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/certificates", coreSequence(&calls, coreCertJSON, 500, 201))
	_, err := c.Certificates.Create(context.Background(), coreCertParams())
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load())
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, ErrServer)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 500, e.StatusCode)
	assert.Equal(t, 1, e.Attempts)
	assert.Contains(t, err.Error(), "outcome unknown")
}

func TestPOSTCertificateNotRetriedOnResetAfterSending(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c, _ := coreServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.ReadAll(r.Body) // the server has the whole request: it may have acted
		coreReset(t, w)
	}))
	_, err := c.Certificates.Create(context.Background(), coreCertParams())
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load())
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	var e *Error
	assert.False(t, errors.As(err, &e), "no answer, no *Error")
}

func TestPOSTRetriedOn429(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var calls atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/certificates", coreSequence(&calls, coreCertJSON, 429, 429, 201))
	cert, err := c.Certificates.Create(context.Background(), coreCertParams())
	require.NoError(t, err)
	assert.Equal(t, StatusIssued, cert.Status)
	assert.EqualValues(t, 3, calls.Load())
}

func TestPOSTRetriedOnDialFailure(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now: connection refused

	var mu sync.Mutex
	var attempts []int
	h := &coreRecordHandler{on: func(r slog.Record) {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "attempt" && r.Message == "dokstamp: request" {
				mu.Lock()
				attempts = append(attempts, int(a.Value.Int64()))
				mu.Unlock()
			}
			return true
		})
	}}
	c, err := NewClient(WithTenant(coreTenant), WithToken(coreToken), WithBaseURL("http://"+addr),
		WithHTTPClient(&http.Client{Transport: &http.Transport{}}), WithLogger(slog.New(h)),
		WithRetry(RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}))
	require.NoError(t, err)
	_, err = c.Certificates.Create(context.Background(), coreCertParams())
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "the request never left: the outcome is known")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Contains(t, err.Error(), "after 3 attempt(s)")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int{1, 2, 3}, attempts)
}

func TestPOSTFilesRetriedOn503(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var calls atomic.Int32
	var bodies []string
	mt.RegisterResponder("POST", coreBase+"/files", func(r *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, string(b))
		if calls.Add(1) < 3 {
			return httpmock.NewStringResponse(503, `{"message":"Service Unavailable"}`), nil
		}
		return httpmock.NewStringResponse(201, `{"data":[{"uuid":"`+coreUUID+`","original_name":"a.pdf"}]}`), nil
	})
	files, err := c.Files.Upload(context.Background(), UploadBytes("a.pdf", []byte("%PDF-1.7\nhello")))
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.EqualValues(t, 3, calls.Load())
	require.Len(t, bodies, 3)
	assert.Equal(t, bodies[0], bodies[2], "every attempt sends the same body")
	assert.Contains(t, bodies[0], "%PDF-1.7\nhello")
}

func TestRetriesRunOut(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t) // MaxRetries 3
			var calls atomic.Int32
			status := 503
			if method == "POST" {
				status = 429
			}
			mt.RegisterResponder(method, coreBase+"/things", coreSequence(&calls, "", status))
			err := c.call(context.Background(), &request{method: method, path: "/things"}, nil)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, status, e.StatusCode)
			assert.Equal(t, 4, e.Attempts)
			assert.EqualValues(t, 4, calls.Load())
			assert.NotContains(t, err.Error(), "giving up")
			assert.Contains(t, err.Error(), "after 4 attempts")
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		})
	}
}

func TestRetryOffWithZeroRetries(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithRetry(RetryPolicy{}))
	var calls atomic.Int32
	mt.RegisterResponder("GET", coreBase+"/things", coreSequence(&calls, "", 503))
	err := c.call(context.Background(), &request{method: "GET", path: "/things"}, nil)
	require.ErrorIs(t, err, ErrServer)
	assert.EqualValues(t, 1, calls.Load())
}

// coreRecordHandler hands every record to on.
type coreRecordHandler struct{ on func(slog.Record) }

func (h *coreRecordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *coreRecordHandler) Handle(_ context.Context, r slog.Record) error {
	h.on(r)
	return nil
}
func (h *coreRecordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *coreRecordHandler) WithGroup(string) slog.Handler      { return h }

func TestCancelDuringBackoffReturnsAtOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	retrying := make(chan struct{}, 1)
	h := &coreRecordHandler{on: func(r slog.Record) {
		if r.Message == "dokstamp: retrying" {
			retrying <- struct{}{}
		}
	}}
	c, mt := coreMockClient(t, WithLogger(slog.New(h)),
		WithRetry(RetryPolicy{MaxRetries: 3, MinWait: 5 * time.Second, MaxWait: 10 * time.Second}))
	var calls atomic.Int32
	mt.RegisterResponder("GET", coreBase+"/things", func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		resp := httpmock.NewStringResponse(429, `{"message":"Too Many Attempts."}`)
		resp.Header.Set("Retry-After", "5")
		return resp, nil
	})
	errc := make(chan error, 1)
	go func() { errc <- c.call(ctx, &request{method: "GET", path: "/things"}, nil) }()
	<-retrying // the 5 s wait is about to start (or has started)
	start := time.Now()
	cancel()
	err := <-errc
	took := time.Since(start)
	assert.Less(t, took, 50*time.Millisecond)
	assert.ErrorIs(t, err, context.Canceled)
	assert.EqualValues(t, 1, calls.Load())
}

func TestWaitBeyondDeadlineNotStarted(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithRetry(RetryPolicy{MaxRetries: 3, MinWait: time.Second, MaxWait: 10 * time.Second}))
	var calls atomic.Int32
	mt.RegisterResponder("GET", coreBase+"/things", func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		resp := httpmock.NewStringResponse(429, `{"message":"Too Many Attempts."}`)
		resp.Header.Set("Retry-After", "5")
		return resp, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := c.call(ctx, &request{method: "GET", path: "/things"}, nil)
	assert.Less(t, time.Since(start), time.Second)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 429, e.StatusCode)
	assert.Equal(t, 5*time.Second, e.RetryAfter)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.EqualValues(t, 1, calls.Load())
}

// The wait honours Retry-After: capped at MaxWait here, so the call takes at least MaxWait
// although the jittered backoff alone (MinWait 1ms) would be far shorter.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithRetry(RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: 30 * time.Millisecond}))
	var calls atomic.Int32
	mt.RegisterResponder("GET", coreBase+"/things", func(*http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			resp := httpmock.NewStringResponse(429, ``)
			resp.Header.Set("Retry-After", "1")
			return resp, nil
		}
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	start := time.Now()
	require.NoError(t, c.call(context.Background(), &request{method: "GET", path: "/things"}, nil))
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 30*time.Millisecond)
	assert.Less(t, took, 900*time.Millisecond, "Retry-After is capped by MaxWait")
	assert.EqualValues(t, 2, calls.Load())
}

func TestComputeWait(t *testing.T) {
	t.Parallel()
	c, _ := coreMockClient(t, WithRetry(RetryPolicy{MaxRetries: 10, MinWait: 100 * time.Millisecond, MaxWait: 10 * time.Second}))
	st := newAttemptState(context.Background(), c, &request{method: "GET", path: "/x"})
	st.attempts = 1
	resp := func(ra string) *http.Response {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		return &http.Response{StatusCode: 429, Header: h}
	}

	assert.Equal(t, 3*time.Second, st.computeWait(resp("3")))
	assert.Equal(t, 1500*time.Millisecond, st.computeWait(resp("1.5")))
	assert.Equal(t, 10*time.Second, st.computeWait(resp("120")), "capped by MaxWait")

	date := time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)
	w := st.computeWait(resp(date))
	assert.Greater(t, w, 3*time.Second) // the date has whole seconds
	assert.LessOrEqual(t, w, 5*time.Second)
	far := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	assert.Equal(t, 10*time.Second, st.computeWait(resp(far)))

	// absent, past, zero or garbage: the jittered backoff
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	for _, ra := range []string{"", "0", "-3", "soon", past} {
		for range 50 {
			w := st.computeWait(resp(ra))
			assert.GreaterOrEqual(t, w, time.Duration(0), ra)
			assert.LessOrEqual(t, w, 100*time.Millisecond, ra)
		}
	}
}

func TestComputeWaitFullJitter(t *testing.T) {
	t.Parallel()
	for _, p := range []RetryPolicy{
		{MaxRetries: 40, MinWait: 100 * time.Millisecond, MaxWait: 3 * time.Second},
		{MaxRetries: 40, MinWait: 10 * time.Second, MaxWait: time.Minute},
		{MaxRetries: 40, MinWait: time.Hour, MaxWait: time.Hour}, // would overflow a plain shift
	} {
		c, _ := coreMockClient(t, WithRetry(p))
		st := newAttemptState(context.Background(), c, &request{method: "GET", path: "/x"})
		for n := 1; n <= 40; n++ {
			st.attempts = n
			ceiling := p.MinWait // min(MaxWait, MinWait << (n-1)), without overflow
			for i := 1; i < n && ceiling < p.MaxWait; i++ {
				ceiling *= 2
			}
			ceiling = min(ceiling, p.MaxWait)
			var maxSeen time.Duration
			for range 200 {
				w := st.computeWait(nil)
				require.GreaterOrEqual(t, w, time.Duration(0))
				require.LessOrEqual(t, w, ceiling, "attempt %d", n)
				maxSeen = max(maxSeen, w)
			}
			assert.Greater(t, maxSeen, ceiling/2, "attempt %d: the waits spread over [0, ceiling]", n)
		}
	}
}

func TestRetryablehttpLogsNothing(t *testing.T) {
	t.Parallel()
	c, _ := coreMockClient(t)
	rc := newAttemptState(context.Background(), c, &request{method: "GET", path: "/x"}).client()
	assert.Nil(t, rc.Logger, "go-retryablehttp's own logger stays unset")
	assert.Nil(t, rc.ResponseLogHook)
}

// coreCountingTransport counts CloseIdleConnections calls on the user's transport.
type coreCountingTransport struct {
	http.RoundTripper
	closes atomic.Int32
}

func (t *coreCountingTransport) CloseIdleConnections() { t.closes.Add(1) }

// go-retryablehttp closes the idle connections after every failed call; the user's pool, shared
// by all the goroutines of a bulk run, must not be emptied by one call's failure.
func TestFailuresKeepIdleConnections(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	ct := &coreCountingTransport{RoundTripper: mt}
	c, err := NewClient(WithTenant(coreTenant), WithToken(coreToken), WithBaseURL(coreBase),
		WithHTTPClient(&http.Client{Transport: ct}),
		WithRetry(RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: time.Millisecond}))
	require.NoError(t, err)
	mt.RegisterResponder("GET", coreBase+"/down", httpmock.NewErrorResponder(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}))
	mt.RegisterResponder("GET", coreBase+"/missing", httpmock.NewStringResponder(404, `{}`))
	require.Error(t, c.call(context.Background(), &request{method: "GET", path: "/down"}, nil))
	require.ErrorIs(t, c.call(context.Background(), &request{method: "GET", path: "/missing"}, nil), ErrNotFound)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.call(ctx, &request{method: "GET", path: "/missing"}, nil), context.Canceled)
	assert.Zero(t, ct.closes.Load())
}

func TestTransportErrorNamesTheCall(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithRetry(RetryPolicy{}))
	mt.RegisterResponder("GET", coreBase+"/down", httpmock.NewErrorResponder(errors.New("boom")))
	err := c.call(context.Background(), &request{method: "GET", path: "/down"}, nil)
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), `"https://api.test/down"`), err.Error())
	assert.Contains(t, err.Error(), "dokstamp: GET /down: after 1 attempt(s)")
}

func TestRetryableError(t *testing.T) {
	t.Parallel()
	inDoubt := errorf("POST /x: %w after 1 attempt(s): %w", ErrOutcomeUnknown, errors.New("connection reset"))
	unsent := errorf("POST /x: after 1 attempt(s): %w", errors.New("dial tcp: connection refused"))
	for _, tc := range []struct {
		class retryClass
		err   error
		want  bool
	}{
		{retryIdempotent, &Error{StatusCode: 503}, true},
		{retryUnsafe, &Error{StatusCode: 503}, false},
		{retryUnsafe, &Error{StatusCode: 429}, true},
		{retryIdempotent, &Error{StatusCode: 422}, false},
		{retryIdempotent, &DecodeError{StatusCode: 200, Err: errors.New("x")}, false},
		{retryIdempotent, inDoubt, true},
		{retryUnsafe, inDoubt, false},
		{retryUnsafe, unsent, true},
		{retryIdempotent, errorf("GET /x: %w", context.Canceled), false},
		{retryIdempotent, errorf("POST /x: %w", &redirectRefused{status: 307, to: "https://evil.test"}), false},
		{retryIdempotent, nil, false},
	} {
		assert.Equal(t, tc.want, retryableError(tc.class, tc.err), "%v (class %d)", tc.err, tc.class)
	}
}
