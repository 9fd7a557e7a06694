package dokstamp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithHeaderIsSentOnThisCallOnly(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var seen []http.Header
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.Header.Clone())
		return httpmock.NewStringResponse(200, `{"data":{"uuid":"`+coreUUID+`"}}`), nil
	})
	_, err := c.Files.Get(context.Background(), coreUUID, WithHeader("x-correlation-id", "grad-2026"), nil,
		WithHeader("X-Correlation-Id", "second"))
	require.NoError(t, err)
	_, err = c.Files.Get(context.Background(), coreUUID)
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.Equal(t, []string{"grad-2026", "second"}, seen[0].Values("X-Correlation-Id"))
	assert.Equal(t, "Bearer "+coreToken, seen[0].Get("Authorization"))
	assert.Equal(t, coreTenant, seen[0].Get("X-Tenant"))
	assert.Empty(t, seen[1].Values("X-Correlation-Id"), "the header is for one call only")
}

func TestWithHeaderRefusesWhatTheClientSets(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	for _, opt := range []RequestOption{
		WithHeader("Authorization", "Bearer other"),
		WithHeader("x-tenant", "other-university"),
		WithHeader("Content-Length", "1"),
		WithHeader("", "v"),
		WithHeader("Bad Name", "v"),
		WithHeader("X-Ok", "line\r\nInjected: 1"),
		WithRequestTimeout(0),
		WithMaxRetries(-1),
	} {
		_, err := c.Files.Get(context.Background(), coreUUID, opt)
		require.Error(t, err)
		assert.Regexp(t, `^dokstamp: GET /files/[^:]+: With(Header|RequestTimeout|MaxRetries): `, err.Error())
	}
	assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent")
}

func TestWithMaxRetriesOverridesThePolicy(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 5} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t) // 3 retries by default
			var calls atomic.Int32
			mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, coreSequence(&calls, "", 503))
			_, err := c.Files.Get(context.Background(), coreUUID, WithMaxRetries(n))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, n+1, e.Attempts)
			assert.EqualValues(t, n+1, calls.Load())
		})
	}
}

func TestWithMaxRetriesKeepsThePOSTRule(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var calls atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/certificates", coreSequence(&calls, "", 503))
	_, err := c.Certificates.Create(context.Background(), coreCertParams(), WithMaxRetries(5))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.EqualValues(t, 1, calls.Load(), "a 5xx to a POST is never re-sent")
}

// blockingTransport holds every request until its context ends, counting them.
type blockingTransport struct{ calls atomic.Int32 }

func (b *blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b.calls.Add(1)
	<-r.Context().Done()
	return nil, r.Context().Err()
}

func TestWithRequestTimeoutBoundsEachAttempt(t *testing.T) {
	t.Parallel()
	bt := &blockingTransport{}
	c, err := NewClient(WithTenant(coreTenant), WithToken(coreToken), WithBaseURL(coreBase),
		WithHTTPClient(&http.Client{Transport: bt}),
		WithRetry(RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond}))
	require.NoError(t, err)
	_, err = c.Files.Get(context.Background(), coreUUID, WithRequestTimeout(20*time.Millisecond))
	require.Error(t, err)
	assert.EqualValues(t, 3, bt.calls.Load(), "each attempt has its own timeout; the call retries")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "attempt timed out after 20ms (WithRequestTimeout)")
	assert.Contains(t, err.Error(), "after 3 attempt(s)")
}

func TestWithRequestTimeoutCoversTheAnswerBody(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithRetry(RetryPolicy{}))
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(200, "")
		resp.Body = &stallingBody{ctx: r.Context(), head: []byte(`{"data":`)}
		return resp, nil
	})
	_, err := c.Files.Get(context.Background(), coreUUID, WithRequestTimeout(20*time.Millisecond))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attempt timed out after 20ms")
	assert.Contains(t, err.Error(), "dokstamp: GET /files/"+coreUUID+": reading answer 200")
}

// stallingBody sends head, then blocks until ctx ends.
type stallingBody struct {
	ctx  context.Context
	head []byte
}

func (s *stallingBody) Read(p []byte) (int, error) {
	if len(s.head) > 0 {
		n := copy(p, s.head)
		s.head = s.head[n:]
		return n, nil
	}
	<-s.ctx.Done()
	return 0, s.ctx.Err()
}

func (s *stallingBody) Close() error { return nil }

func TestWithResponseIntoOnSuccess(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	reset := time.Now().Add(time.Minute).Truncate(time.Second)
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(200, `{"data":{"uuid":"`+coreUUID+`"}}`)
		resp.Header.Set("X-Request-Id", "req-42")
		resp.Header.Set("X-RateLimit-Limit", "60")
		resp.Header.Set("X-RateLimit-Remaining", "59")
		resp.Header.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		resp.Header.Set("X-Custom", "yes")
		return resp, nil
	})
	var resp Response
	_, err := c.Files.Get(context.Background(), coreUUID, WithResponseInto(&resp))
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "req-42", resp.RequestID)
	assert.Equal(t, "yes", resp.Header.Get("X-Custom"))
	assert.Equal(t, RateLimit{Limit: 60, Remaining: 59, Reset: time.Unix(reset.Unix(), 0)}, resp.RateLimit)
}

func TestWithResponseIntoOnErrorAndRetries(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var calls atomic.Int32
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, func(*http.Request) (*http.Response, error) {
		n := calls.Add(1)
		resp := httpmock.NewStringResponse(503, `{"message":"down"}`)
		if n == 2 {
			resp = httpmock.NewStringResponse(404, `{"message":"No query results."}`)
		}
		resp.Header.Set("X-Request-Id", "req-"+strconv.Itoa(int(n)))
		return resp, nil
	})
	var resp Response
	_, err := c.Files.Get(context.Background(), coreUUID, WithResponseInto(&resp))
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, 404, resp.StatusCode, "the final answer")
	assert.Equal(t, "req-2", resp.RequestID)
	assert.Zero(t, resp.RateLimit)

	var none Response
	mt.RegisterResponder("GET", coreBase+"/down", httpmock.NewErrorResponder(errors.New("boom")))
	require.Error(t, c.Do(context.Background(), "GET", "/down", nil, nil, WithMaxRetries(0), WithResponseInto(&none)))
	assert.Zero(t, none, "no answer: left zero")
	assert.Nil(t, WithResponseInto(nil), "a nil *Response is ignored")
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for name, tc := range map[string]struct {
		status int
		h      http.Header
		want   RateLimit
	}{
		"none":    {200, h(), RateLimit{}},
		"laravel": {200, h("X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "12"), RateLimit{Limit: 60, Remaining: 12}},
		"laravel 429": {429, h("X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "0", "Retry-After", "30",
			"X-RateLimit-Reset", strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)),
			RateLimit{Limit: 60, Remaining: 0, Reset: now.Add(30 * time.Second)}},
		"429 retry-after only": {429, h("X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "0", "Retry-After", "7"),
			RateLimit{Limit: 60, Reset: now.Add(7 * time.Second)}},
		"ietf": {200, h("RateLimit-Limit", "100", "RateLimit-Remaining", "40", "RateLimit-Reset", "15"),
			RateLimit{Limit: 100, Remaining: 40, Reset: now.Add(15 * time.Second)}},
		"garbage": {200, h("X-RateLimit-Limit", "many", "X-RateLimit-Remaining", "-3", "RateLimit-Reset", "soon"), RateLimit{}},
	} {
		assert.Equal(t, tc.want, parseRateLimit(tc.status, tc.h, now), name)
	}
}

func TestWithResponseIntoOnAllPages(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/files", func(r *http.Request) (*http.Response, error) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		resp := httpmock.NewStringResponse(200, `{"data":[{"uuid":"f`+strconv.Itoa(page)+`"}],"meta":{"current_page":`+
			strconv.Itoa(page)+`,"last_page":6,"per_page":1,"total":6}}`)
		resp.Header.Set("X-Request-Id", "page-"+strconv.Itoa(page))
		assert.Equal(t, "sync", r.Header.Get("X-Job"))
		return resp, nil
	})
	var resp Response
	n := 0
	for _, err := range c.Files.All(context.Background(), nil, WithHeader("X-Job", "sync"), WithResponseInto(&resp)) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 6, n)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Regexp(t, `^page-\d$`, resp.RequestID)
}

func TestEngineOptions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		opts      []RequestOption
		ctx       func(context.Context) context.Context
		status    int
		wantCalls int32
	}{
		"429 retried by default":   {nil, nil, 429, 4},
		"429 handed back (option)": {[]RequestOption{withoutRateLimitRetry()}, nil, 429, 1},
		"429 handed back (context)": {nil, func(ctx context.Context) context.Context {
			return withRunOptions(ctx, withoutRateLimitRetry())
		}, 429, 1},
		"503 retried by default":   {nil, nil, 503, 4},
		"503 handed back (option)": {[]RequestOption{withoutServerRetry()}, nil, 503, 1},
		"503 handed back (context)": {nil, func(ctx context.Context) context.Context {
			return withRunOptions(ctx, withoutServerRetry())
		}, 503, 1},
		"429 still retried without 5xx": {[]RequestOption{withoutServerRetry()}, nil, 429, 4},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t)
			var calls atomic.Int32
			mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, coreSequence(&calls, "", tc.status))
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			_, err := c.Files.Get(ctx, coreUUID, tc.opts...)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.wantCalls, calls.Load())
		})
	}
}
