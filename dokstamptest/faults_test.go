package dokstamptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRouteFaults("GET /students", Faults{Latency: 80 * time.Millisecond, Jitter: 20 * time.Millisecond}))
	a := newAPI(t, srv)
	start := time.Now()
	a.call(http.MethodGet, "/students", nil, http.StatusOK)
	assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)

	// Other routes are not slowed (no upper-bound timing assertion: just it works).
	a.call(http.MethodGet, "/courses", nil, http.StatusOK)
}

func TestFaultLatencyEndsOnClientCancelAndClose(t *testing.T) {
	t.Parallel()
	srv, err := New(WithFaults(Faults{Latency: time.Hour}))
	require.NoError(t, err)
	a := newAPI(t, srv)

	// The client gives up: the handler stops waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/students", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("X-Tenant", srv.Tenant)
	_, err = a.hc.Do(req)
	require.Error(t, err)

	// The server closes while a request sleeps: the client gets an error and
	// Close returns promptly.
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/students", nil)
		req.Header.Set("Authorization", "Bearer "+srv.Token)
		req.Header.Set("X-Tenant", srv.Tenant)
		resp, err := a.hc.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("got an answer: %d", resp.StatusCode)
		}
		done <- err
	}()
	require.Eventually(t, func() bool { return srv.inflightCount() > 0 }, 5*time.Second, time.Millisecond)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the latency")
	}
	assert.Error(t, <-done)
	srv.Close() // idempotent
}

func TestFaultServerErrorsDoNotApply(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRouteFaults("POST /certificates", Faults{ErrorRate: 1}))
	a := newAPI(t, srv)
	f := a.file("5xx")
	for i := 0; i < 10; i++ {
		resp, body := a.do(http.MethodPost, "/certificates", a.certBody(0, f, nil))
		assert.Contains(t, []int{500, 502, 503}, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Server Error"}`, string(body))
	}
	assert.Empty(t, srv.Certificates())
	assert.Nil(t, a.data(http.MethodGet, "/files/"+f, nil, http.StatusOK)["used_at"])

	srv.SetRouteFaults("POST /certificates", Faults{})
	a.call(http.MethodPost, "/certificates", a.certBody(0, f, nil), http.StatusCreated)
}

func TestFaultRandom429(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{{0, "1"}, {2500 * time.Millisecond, "3"}, {-1, "0"}, {time.Second, "1"}} {
		srv.SetFaults(Faults{RateLimitRate: 1, RetryAfter: tc.after})
		resp, body := a.do(http.MethodPost, "/certificates", a.certBody(0, newUUID(), nil))
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, tc.want, resp.Header.Get("Retry-After"), "RetryAfter %v", tc.after)
		assert.Contains(t, string(body), "message")
	}
	// Server-wide faults leave the auth routes alone...
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}}
	a.call(http.MethodPost, "/oauth/token", form, http.StatusOK)
	// ...unless a route fault names them.
	srv.SetRouteFaults("POST /oauth/token", Faults{RateLimitRate: 1})
	a.call(http.MethodPost, "/oauth/token", form, http.StatusTooManyRequests)
	assert.Empty(t, srv.Certificates())
	assert.Panics(t, func() { srv.SetRouteFaults("POST /nowhere", Faults{}) })
	assert.Panics(t, func() { srv.SetRouteFaults("nonsense", Faults{}) })

	// Several methods at once; placeholder names do not matter.
	srv.SetFaults(Faults{})
	srv.SetRouteFaults("PATCH|PUT /students/{student_uuid}", Faults{RateLimitRate: 1})
	a.call(http.MethodPatch, "/students/"+srv.StudentUUIDs[0], map[string]any{"name": "x"}, http.StatusTooManyRequests)
	a.call(http.MethodPut, "/students/"+srv.StudentUUIDs[0], map[string]any{"name": "x"}, http.StatusTooManyRequests)
	assert.Equal(t, 2, srv.RequestCount("PATCH|PUT /students/{uuid}"))
	_, err := New(WithRouteFaults("GET /nowhere", Faults{ErrorRate: 1}))
	assert.Error(t, err)
}

func TestFaultTokenBucket(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithFaults(Faults{RateLimit: 2, Burst: 3}))
	a := newAPI(t, srv)
	var ok, limited int
	for i := 0; i < 10; i++ {
		resp, _ := a.do(http.MethodGet, "/students", nil)
		switch resp.StatusCode {
		case http.StatusOK:
			ok++
			assert.Equal(t, limited, 0, "a 200 after a 429 within the same burst")
		case http.StatusTooManyRequests:
			limited++
			assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	assert.GreaterOrEqual(t, ok, 3)
	assert.LessOrEqual(t, ok, 4) // at most one token refilled meanwhile
	assert.Equal(t, limited, srv.Requests()["GET /students"][429])

	// A slow bucket says how long to wait.
	srv.SetFaults(Faults{RateLimit: 0.2, Burst: 1})
	a.call(http.MethodGet, "/students", nil, http.StatusOK)
	resp, _ := a.do(http.MethodGet, "/students", nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
}

func TestFaultDropAfterCommit(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRouteFaults("POST /certificates", Faults{DropAfterCommitRate: 1}))
	a := newAPI(t, srv)
	f := a.file("drop")

	js, _ := json.Marshal(a.certBody(0, f, map[string]any{"status": "issued"}))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/certificates", bytes.NewReader(js))
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("X-Tenant", srv.Tenant)
	resp, err := a.hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the client must not get an answer")

	// The write happened.
	certs := srv.Certificates()
	require.Len(t, certs, 1)
	assert.Equal(t, f, certs[0].FileUUID)
	assert.Equal(t, 1, srv.Requests()["POST /certificates"][0])

	// Refused writes are answered normally (nothing was committed).
	m := a.call(http.MethodPost, "/certificates", a.certBody(1, f, nil), http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "file_uuid")
	// The SDK's reconciliation lookup finds it.
	m = a.call(http.MethodGet, "/certificates?where[student_uuid]="+srv.StudentUUIDs[0]+"&where[course_uuid]="+srv.CourseUUID, nil, http.StatusOK)
	require.Len(t, m["data"], 1)
	assert.Equal(t, f, m["data"].([]any)[0].(map[string]any)["files"].([]any)[0].(map[string]any)["uuid"])
}

// statuses records the statuses of sequential requests under faults f for
// one seed; an answer whose body was cut counts as minus its status.
func statuses(t *testing.T, seed int64, f Faults) []int {
	srv := NewServer(t, WithSeed(seed), WithFaults(f))
	a := newAPI(t, srv)
	var out []int
	for i := 0; i < 60; i++ {
		resp, _, err := a.send(http.MethodGet, "/students", nil, map[string]string{"Accept": "application/json"})
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			out = append(out, -resp.StatusCode)
		case err != nil:
			t.Fatal(err)
		default:
			out = append(out, resp.StatusCode)
		}
	}
	return out
}

func TestFaultSeedReproducible(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f    Faults
		want []int
	}{
		{Faults{ErrorRate: 0.3, RateLimitRate: 0.2, RetryAfter: -1}, []int{200, 429}},
		{Faults{ForbiddenRate: 0.3, CutBodyRate: 0.3}, []int{200, 403, -200}},
	} {
		s1, s2, s3 := statuses(t, 42, tc.f), statuses(t, 42, tc.f), statuses(t, 7, tc.f)
		assert.Equal(t, s1, s2)
		assert.NotEqual(t, s1, s3)
		for _, st := range tc.want {
			assert.Contains(t, s1, st)
		}
	}
}

func TestRequestCounters(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	a.call(http.MethodGet, "/students", nil, http.StatusOK)
	a.call(http.MethodGet, "/students/"+srv.StudentUUIDs[0], nil, http.StatusOK)
	a.call(http.MethodGet, "/students/"+newUUID(), nil, http.StatusNotFound)
	a.with("", "").call(http.MethodGet, "/students", nil, http.StatusUnauthorized)
	assert.Equal(t, map[int]int{200: 1, 401: 1}, srv.Requests()["GET /students"])
	assert.Equal(t, map[int]int{200: 1, 404: 1}, srv.Requests()["GET /students/{uuid}"])
	assert.Equal(t, 2, srv.RequestCount("GET /students/{student}"))
	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
	assert.Zero(t, srv.RequestCount("GET /students"))
	assert.Contains(t, srv.Routes(), "POST /certificates")
}

func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	const n = 300
	srv := NewServer(t, WithStudents(n), WithFaults(Faults{Jitter: time.Millisecond}))
	a := newAPI(t, srv)
	var g errgroup.Group
	var mu sync.Mutex
	urls := map[string]bool{}
	for i := 0; i < n; i++ {
		g.Go(func() error {
			_, list := a.upload(http.StatusCreated, [2]string{fmt.Sprintf("%d.pdf", i), string(pdf(fmt.Sprint(i)))})
			f := list[0].(map[string]any)["uuid"].(string)
			resp, body := a.do(http.MethodPost, "/certificates", a.certBody(i, f, map[string]any{"status": "issued"}))
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("create %d: %d %s", i, resp.StatusCode, body)
			}
			var m struct {
				Data struct {
					URL string `json:"public_verification_url"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &m); err != nil {
				return err
			}
			mu.Lock()
			urls[m.Data.URL] = true
			mu.Unlock()
			resp, _ = a.do(http.MethodGet, "/certificates?per_page=10", nil)
			if resp.StatusCode != http.StatusOK {
				return errors.New("list failed")
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	assert.Len(t, srv.Certificates(), n)
	assert.Len(t, urls, n)
	assert.Empty(t, srv.Duplicates())
	assert.Equal(t, n, srv.Requests()["POST /certificates"][201])
}

func TestFaultForbidden(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRouteFaults("POST /certificates", Faults{ForbiddenRate: 1}))
	a := newAPI(t, srv)
	m := a.call(http.MethodPost, "/certificates", a.certBody(0, a.file("403"), nil), http.StatusForbidden)
	assert.Equal(t, map[string]any{"message": "This action is unauthorized."}, m)
	assert.Empty(t, srv.Certificates())
	a.call(http.MethodGet, "/certificates", nil, http.StatusOK)
}

func TestFaultCutBody(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRouteFaults("POST /certificates", Faults{CutBodyRate: 1}))
	a := newAPI(t, srv)
	resp, body, err := a.send(http.MethodPost, "/certificates", a.certBody(0, a.file("cut"), nil), map[string]string{"Accept": "application/json"})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Greater(t, resp.ContentLength, int64(len(body)))
	assert.NotEmpty(t, body)
	// The write took effect, and it is counted as a 201.
	assert.Len(t, srv.Certificates(), 1)
	assert.Equal(t, map[int]int{201: 1}, srv.Requests()["POST /certificates"])

	// Reads too, set at run time; errors and empty answers are never cut.
	srv.SetFaults(Faults{CutBodyRate: 1})
	_, _, err = a.send(http.MethodGet, "/students", nil, nil)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	a.call(http.MethodGet, "/students/"+newUUID(), nil, http.StatusNotFound)
	a.call(http.MethodDelete, "/certificates/"+srv.Certificates()[0].UUID, nil, http.StatusNoContent)
}

func TestFaultRedirect(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRouteFaults("GET /students", Faults{RedirectStatus: http.StatusTemporaryRedirect}))
	a := newAPI(t, srv)
	resp, _, err := a.send(http.MethodGet, "/students?per_page=2", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	other := srv.OtherOrigin()
	require.NotEqual(t, srv.URL, other)
	assert.Equal(t, other+"/students?per_page=2", resp.Header.Get("Location"))

	// The other origin serves the same API without faults and records what
	// reached it: here, a client that forwarded its credentials.
	a.at(other).call(http.MethodGet, "/students?per_page=2", nil, http.StatusOK)
	seen := srv.OtherOriginRequests()
	require.Len(t, seen, 1)
	assert.Equal(t, "/students?per_page=2", seen[0].Path)
	assert.Equal(t, "Bearer "+srv.Token, seen[0].Header.Get("Authorization"))

	// To an origin of the caller's choice, with 308, on a write: not applied.
	target := httptest.NewServer(http.NotFoundHandler())
	defer target.Close()
	srv.SetRouteFaults("POST /certificates", Faults{RedirectStatus: http.StatusPermanentRedirect, RedirectTo: target.URL + "/"})
	resp, _, err = a.send(http.MethodPost, "/certificates", a.certBody(0, a.file("r"), nil), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusPermanentRedirect, resp.StatusCode)
	assert.Equal(t, target.URL+"/certificates", resp.Header.Get("Location"))
	assert.Empty(t, srv.Certificates())

	// Only redirect statuses.
	assert.Panics(t, func() { srv.SetFaults(Faults{RedirectStatus: 200}) })
	assert.Panics(t, func() { srv.SetRouteFaults("GET /students", Faults{RedirectStatus: 404}) })
	_, err = New(WithFaults(Faults{RedirectStatus: 1}))
	assert.ErrorContains(t, err, "not a redirect")
	_, err = New(WithRouteFaults("GET /students", Faults{RedirectStatus: 500}))
	assert.ErrorContains(t, err, "not a redirect")
}

func TestFaultFixedWindow(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithFaults(Faults{WindowLimit: 3}))
	a := newAPI(t, srv)
	for i, path := range []string{"/students", "/courses", "/students"} {
		resp, _ := a.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "3", resp.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(2-i), resp.Header.Get("X-RateLimit-Remaining"))
		assert.Empty(t, resp.Header.Get("Retry-After"))
	}
	before := time.Now()
	resp, body := a.do(http.MethodPost, "/certificates", a.certBody(0, newUUID(), nil))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", body)
	assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, ra >= 1 && ra <= 60, "Retry-After %d", ra)
	reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	require.NoError(t, err)
	assert.InDelta(t, before.Add(time.Minute).Unix(), reset, 2)
	assert.Equal(t, 1, srv.RequestCount("POST /certificates"))
	assert.Empty(t, srv.Certificates())

	// A route's own window, set at run time, replaces the shared one there.
	srv.SetRouteFaults("GET /courses", Faults{WindowLimit: 10})
	resp, _ = a.do(http.MethodGet, "/courses", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "10", resp.Header.Get("X-RateLimit-Limit"))
	assert.Equal(t, "9", resp.Header.Get("X-RateLimit-Remaining"))
	resp, _ = a.do(http.MethodGet, "/students", nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	// Beside the token bucket: the window counts, the empty bucket refuses.
	srv.SetRouteFaults("GET /courses", Faults{WindowLimit: 10, RateLimit: 0.001, Burst: 1})
	resp, _ = a.do(http.MethodGet, "/courses", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = a.do(http.MethodGet, "/courses", nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "8", resp.Header.Get("X-RateLimit-Remaining"))
	assert.Empty(t, resp.Header.Get("X-RateLimit-Reset"), "the bucket, not the window, refused it")

	// The window itself, beside a token bucket: a new window starts once the
	// last is over.
	fs := newFaultState(Faults{WindowLimit: 1, Window: time.Second, RateLimit: 1000})
	now := time.Now()
	left, _, ok := fs.hit(now)
	assert.True(t, ok)
	assert.Zero(t, left)
	_, end, ok := fs.hit(now.Add(999 * time.Millisecond))
	assert.False(t, ok)
	assert.Equal(t, now.Add(time.Second), end)
	_, _, ok = fs.hit(now.Add(time.Second))
	assert.True(t, ok)
}
