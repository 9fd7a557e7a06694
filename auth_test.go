package dokstamp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// coreTokenServer answers POST /oauth/token with access tokens "at-1", "at-2", ... and the
// resources with 200 when they carry the latest token.
type coreTokenServer struct {
	grants    atomic.Int32
	expiresIn int
	gate      chan struct{} // when set, each grant waits for it
	arrived   chan struct{} // when set, each grant signals it
	mu        sync.Mutex
	bearers   []string
}

func (s *coreTokenServer) client(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "s3cr3t"), opts...)
	mt.RegisterResponder("POST", coreBase+"/oauth/token", func(r *http.Request) (*http.Response, error) {
		if s.arrived != nil {
			s.arrived <- struct{}{}
		}
		if s.gate != nil {
			select {
			case <-s.gate:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
		n := s.grants.Add(1)
		return httpmock.NewJsonResponse(200, map[string]any{
			"token_type": "Bearer", "expires_in": s.expiresIn, "access_token": "at-" + strconv.Itoa(int(n))})
	})
	mt.RegisterResponder("GET", coreBase+"/things", func(r *http.Request) (*http.Response, error) {
		s.mu.Lock()
		s.bearers = append(s.bearers, r.Header.Get("Authorization"))
		s.mu.Unlock()
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	return c, mt
}

func TestClientCredentialsGrant(t *testing.T) {
	t.Parallel()
	c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "s3cr3t"), WithUserAgent("sync/2"))
	mt.RegisterResponder("POST", coreBase+"/oauth/token", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.Equal(t, "dokstamp-go/"+Version+" sync/2", r.Header.Get("User-Agent"))
		assert.Empty(t, r.Header.Values("X-Tenant"))
		assert.Empty(t, r.Header.Values("Authorization"), "credentials in the body, not Basic auth")
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		form, err := parseQuery(string(body))
		require.NoError(t, err)
		assert.Equal(t, map[string][]string{
			"grant_type": {"client_credentials"}, "client_id": {"client-1"}, "client_secret": {"s3cr3t"},
		}, form)
		assert.Empty(t, r.URL.RawQuery)
		return httpmock.NewStringResponse(200, `{"token_type":"Bearer","expires_in":43200,"access_token":"eyJ.abc"}`), nil
	})
	mt.RegisterResponder("GET", coreBase+"/things", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer eyJ.abc", r.Header.Get("Authorization"))
		assert.Equal(t, coreTenant, r.Header.Get("X-Tenant"))
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	for range 10 {
		require.NoError(t, c.call(context.Background(), &request{method: "GET", path: "/things"}, nil))
	}
	info := mt.GetCallCountInfo()
	assert.Equal(t, 1, info["POST "+coreBase+"/oauth/token"], "one grant for many calls")
	assert.Equal(t, 10, info["GET "+coreBase+"/things"])
}

func TestClientCredentialsRenewal(t *testing.T) {
	t.Parallel()
	t.Run("expires within 60s", func(t *testing.T) {
		t.Parallel()
		s := &coreTokenServer{expiresIn: 30}
		c, _ := s.client(t)
		for range 3 {
			require.NoError(t, c.call(context.Background(), &request{method: "GET", path: "/things"}, nil))
		}
		assert.EqualValues(t, 3, s.grants.Load(), "a token 30 s from expiry is renewed before use")
		assert.Equal(t, []string{"Bearer at-1", "Bearer at-2", "Bearer at-3"}, s.bearers)
	})
	t.Run("long-lived", func(t *testing.T) {
		t.Parallel()
		s := &coreTokenServer{expiresIn: 3600}
		c, _ := s.client(t)
		for range 3 {
			require.NoError(t, c.call(context.Background(), &request{method: "GET", path: "/things"}, nil))
		}
		assert.EqualValues(t, 1, s.grants.Load())
		assert.Equal(t, []string{"Bearer at-1", "Bearer at-1", "Bearer at-1"}, s.bearers)
	})
}

func TestClientCredentialsSingleFlight(t *testing.T) {
	t.Parallel()
	s := &coreTokenServer{expiresIn: 3600, gate: make(chan struct{}), arrived: make(chan struct{}, 100)}
	c, _ := s.client(t)
	const n = 50
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(n)
	errs := make(chan error, n)
	for range n {
		go func() {
			defer done.Done()
			ready.Done()
			errs <- c.call(context.Background(), &request{method: "GET", path: "/things"}, nil)
		}()
	}
	ready.Wait()
	<-s.arrived // one grant is in progress; the others queue behind it
	close(s.gate)
	done.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, s.grants.Load(), "exactly one token request")
	assert.Len(t, s.bearers, n)
	for _, b := range s.bearers {
		assert.Equal(t, "Bearer at-1", b)
	}
}

func TestTokenWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	s := &coreTokenServer{expiresIn: 3600, gate: make(chan struct{}), arrived: make(chan struct{}, 10)}
	c, _ := s.client(t)

	fetcherCtx, cancelFetcher := context.WithCancel(context.Background())
	fetcherErr := make(chan error, 1)
	go func() {
		fetcherErr <- c.call(fetcherCtx, &request{method: "GET", path: "/things"}, nil)
	}()
	<-s.arrived // the first caller is fetching; its grant hangs

	// a waiter whose ctx ends stops waiting at once
	ctx, cancel := context.WithCancel(context.Background())
	waiterErr := make(chan error, 1)
	go func() { waiterErr <- c.call(ctx, &request{method: "GET", path: "/things"}, nil) }()
	cancel()
	assert.ErrorIs(t, <-waiterErr, context.Canceled)

	// a patient waiter takes over when the fetcher gives up
	patientErr := make(chan error, 1)
	go func() { patientErr <- c.call(context.Background(), &request{method: "GET", path: "/things"}, nil) }()
	cancelFetcher()
	assert.ErrorIs(t, <-fetcherErr, context.Canceled)
	<-s.arrived // the patient caller's own grant
	close(s.gate)
	require.NoError(t, <-patientErr)
	assert.EqualValues(t, 1, s.grants.Load())
}

func TestClientCredentialsRejected(t *testing.T) {
	t.Parallel()
	c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "wrong"))
	mt.RegisterResponder("POST", coreBase+"/oauth/token", func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(401, `{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}`)
		resp.Header.Set("Content-Type", "application/json")
		resp.Header.Set("X-Request-Id", "r-9")
		return resp, nil
	})
	err := c.call(context.Background(), &request{method: "GET", path: "/things"}, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 401, e.StatusCode)
	assert.Equal(t, "invalid_client", e.Code)
	assert.Equal(t, "Client authentication failed", e.Message)
	assert.Equal(t, "/oauth/token", e.Path)
	assert.Equal(t, "r-9", e.RequestID)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, "dokstamp: POST /oauth/token: 401 Unauthorized: invalid_client: Client authentication failed (check the client id and secret given to WithClientCredentials)", err.Error())
	assert.Equal(t, 0, mt.GetCallCountInfo()["GET "+coreBase+"/things"], "no resource call without a token")

	// a failure is not cached: the next call asks again
	_ = c.call(context.Background(), &request{method: "GET", path: "/things"}, nil)
	assert.Equal(t, 2, mt.GetCallCountInfo()["POST "+coreBase+"/oauth/token"])
}

func TestClientCredentialsHTMLFailure(t *testing.T) {
	t.Parallel()
	c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "s3cr3t"))
	mt.RegisterResponder("POST", coreBase+"/oauth/token", httpmock.NewStringResponder(502, `<html>Bad Gateway s3cr3t</html>`))
	err := c.call(context.Background(), &request{method: "GET", path: "/things"}, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 502, e.StatusCode)
	assert.ErrorIs(t, err, ErrServer)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestAuthLoginRefreshLogoutMe(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	jsonBody := func(r *http.Request) map[string]string {
		var m map[string]string
		require.NoError(t, json.NewDecoder(r.Body).Decode(&m))
		return m
	}
	mt.RegisterResponder("POST", coreBase+"/auth/login", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Empty(t, r.Header.Values("Authorization"))
		assert.Empty(t, r.Header.Values("X-Tenant"))
		assert.Equal(t, map[string]string{"email": "ana@uni.eu", "password": "pw"}, jsonBody(r))
		return httpmock.NewStringResponse(200, `{"access_token":"a1","refresh_token":"r1","token_type":"Bearer","expires_in":31536000}`), nil
	})
	mt.RegisterResponder("POST", coreBase+"/auth/refresh", func(r *http.Request) (*http.Response, error) {
		assert.Empty(t, r.Header.Values("Authorization"))
		assert.Empty(t, r.Header.Values("X-Tenant"))
		if jsonBody(r)["refresh_token"] != "r1" {
			return httpmock.NewStringResponse(401, `{"message":"The refresh token is invalid."}`), nil
		}
		return httpmock.NewStringResponse(200, `{"access_token":"a2","refresh_token":"r2","token_type":"Bearer","expires_in":31536000}`), nil
	})
	mt.RegisterResponder("POST", coreBase+"/auth/logout", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer "+coreToken, r.Header.Get("Authorization"))
		assert.Empty(t, r.Header.Values("X-Tenant"))
		return httpmock.NewStringResponse(200, `{"message":"Successfully logged out"}`), nil
	})
	mt.RegisterResponder("GET", coreBase+"/auth/me", httpmock.NewStringResponder(200,
		`{"data":{"id":3,"uuid":"u-1","name":"Ana","email":"ana@uni.eu","tenant":{"id":9,"uuid":"t-1","name":"Uni","domain":"uni-example"}}}`))

	ctx := context.Background()
	tok, err := c.Auth.Login(ctx, "ana@uni.eu", "pw")
	require.NoError(t, err)
	assert.Equal(t, AuthToken{AccessToken: "a1", RefreshToken: "r1", TokenType: "Bearer", ExpiresIn: 31536000}, *tok)

	tok, err = c.Auth.Refresh(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, "a2", tok.AccessToken)
	assert.Equal(t, "r2", tok.RefreshToken)

	_, err = c.Auth.Refresh(ctx, "r0")
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.ErrorContains(t, err, "The refresh token is invalid.")

	require.NoError(t, c.Auth.Logout(ctx))

	me, err := c.Auth.Me(ctx)
	require.NoError(t, err)
	assert.Equal(t, &User{ID: 3, UUID: "u-1", Name: "Ana", Email: "ana@uni.eu",
		Tenant: Tenant{ID: 9, UUID: "t-1", Name: "Uni", Domain: "uni-example"}}, me)

	_, err = c.Auth.Login(ctx, "", "pw")
	assert.Error(t, err)
	_, err = c.Auth.Login(ctx, "a@b.c", "")
	assert.Error(t, err)
	_, err = c.Auth.Refresh(ctx, "")
	assert.Error(t, err)
	assert.Equal(t, 1, mt.GetCallCountInfo()["POST "+coreBase+"/auth/login"], "nothing sent for empty arguments")
}

func TestAuthLoginAnswerWithoutToken(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("POST", coreBase+"/auth/login", httpmock.NewStringResponder(200, `{"message":"ok"}`))
	_, err := c.Auth.Login(context.Background(), "a@b.c", "pw")
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "no access_token")

	mt.RegisterResponder("POST", coreBase+"/auth/login", httpmock.NewStringResponder(422,
		`{"message":"The given data was invalid.","errors":{"email":["The email must be a valid email address."]}}`))
	_, err = c.Auth.Login(context.Background(), "nope", "pw")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, []string{"The email must be a valid email address."}, e.Errors["email"])
}

func TestWithLoginSource(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(WithTenant(coreTenant), WithLogin("ana@uni.eu", "pw"), WithBaseURL(coreBase),
		WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	var logins, refreshes atomic.Int32
	expiresIn := 30 // within renewBefore: the next call renews
	var mu sync.Mutex
	var bearers []string
	mt.RegisterResponder("POST", coreBase+"/auth/login", func(r *http.Request) (*http.Response, error) {
		n := logins.Add(1)
		return httpmock.NewJsonResponse(200, map[string]any{"access_token": fmt.Sprintf("login-%d", n),
			"refresh_token": fmt.Sprintf("refresh-%d", n), "token_type": "Bearer", "expires_in": expiresIn})
	})
	mt.RegisterResponder("POST", coreBase+"/auth/refresh", func(r *http.Request) (*http.Response, error) {
		var body map[string]string
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		n := refreshes.Add(1)
		if body["refresh_token"] == "revoked" {
			return httpmock.NewStringResponse(401, `{"message":"The refresh token is invalid."}`), nil
		}
		return httpmock.NewJsonResponse(200, map[string]any{"access_token": fmt.Sprintf("refreshed-%d-from-%s", n, body["refresh_token"]),
			"refresh_token": "revoked", "token_type": "Bearer", "expires_in": 31536000})
	})
	mt.RegisterResponder("GET", coreBase+"/things", func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		bearers = append(bearers, r.Header.Get("Authorization"))
		mu.Unlock()
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	mt.RegisterResponder("POST", coreBase+"/auth/logout", httpmock.NewStringResponder(200, `{"message":"Successfully logged out"}`))

	ctx := context.Background()
	get := func() { require.NoError(t, c.call(ctx, &request{method: "GET", path: "/things"}, nil)) }
	get() // login-1 (expires in 30 s)
	get() // refreshed with refresh-1, a year long
	get() // cached
	require.NoError(t, c.Auth.Logout(ctx))
	get() // logged out: log in again, login-2
	assert.Equal(t, []string{"Bearer login-1", "Bearer refreshed-1-from-refresh-1", "Bearer refreshed-1-from-refresh-1", "Bearer login-2"}, bearers)
	assert.EqualValues(t, 2, logins.Load())
	assert.EqualValues(t, 1, refreshes.Load())
}

func TestWithLoginFallsBackToLogin(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(WithTenant(coreTenant), WithLogin("ana@uni.eu", "pw"), WithBaseURL(coreBase),
		WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	var logins atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/auth/login", func(*http.Request) (*http.Response, error) {
		n := logins.Add(1)
		return httpmock.NewJsonResponse(200, map[string]any{"access_token": fmt.Sprintf("login-%d", n),
			"refresh_token": "stale", "token_type": "Bearer", "expires_in": 10})
	})
	mt.RegisterResponder("POST", coreBase+"/auth/refresh", httpmock.NewStringResponder(401, `{"message":"The refresh token is invalid."}`))
	mt.RegisterResponder("GET", coreBase+"/things", httpmock.NewStringResponder(200, `{}`))
	for range 3 {
		require.NoError(t, c.call(context.Background(), &request{method: "GET", path: "/things"}, nil))
	}
	assert.EqualValues(t, 3, logins.Load(), "a refused refresh falls back to a login")
	assert.Equal(t, 2, mt.GetCallCountInfo()["POST "+coreBase+"/auth/refresh"])
}

func TestLoginFailureReachesCaller(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(WithTenant(coreTenant), WithLogin("ana@uni.eu", "pw"), WithBaseURL(coreBase),
		WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	mt.RegisterResponder("POST", coreBase+"/auth/login", httpmock.NewStringResponder(401, `{"message":"These credentials do not match our records."}`))
	err = c.call(context.Background(), &request{method: "GET", path: "/things"}, nil)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.ErrorContains(t, err, "These credentials do not match our records.")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestAuthTokenRedacted(t *testing.T) {
	t.Parallel()
	tok := AuthToken{AccessToken: "eyJ-access-7f", RefreshToken: "def-refresh-3a", TokenType: "Bearer", ExpiresIn: 60}
	for _, s := range []string{tok.String(), tok.GoString(), fmt.Sprint(tok), fmt.Sprintf("%v|%+v|%#v|%s", tok, tok, tok, tok),
		fmt.Sprintf("%v|%+v|%#v", &tok, &tok, &tok), fmt.Sprint([]AuthToken{tok}), fmt.Sprintf("%+v", struct{ T AuthToken }{tok})} {
		assert.NotContains(t, s, "eyJ-access-7f")
		assert.NotContains(t, s, "def-refresh-3a")
	}
	assert.Contains(t, tok.String(), "Bearer")
	assert.Contains(t, tok.String(), "60")
}

// parseQuery is url.ParseQuery as a map, for readable assertions.
func parseQuery(s string) (map[string][]string, error) {
	v, err := url.ParseQuery(s)
	return map[string][]string(v), err
}

// A refresh spends the refresh token it sends: once sent it is never sent again, whatever
// happens to the answer.
func TestRefreshIsNotResentOnceSent(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]httpmock.Responder{
		"503":            httpmock.NewStringResponder(503, `{"message":"Service Unavailable"}`),
		"502":            httpmock.NewStringResponder(502, `<html>Bad Gateway</html>`),
		"reset":          httpmock.NewErrorResponder(syscall.ECONNRESET),
		"cut 2xx answer": cutAnswer(200, `{"access_token":"a2","refresh_tok`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t)
			mt.RegisterResponder("POST", coreBase+"/auth/refresh", answer)
			_, err := c.Auth.Refresh(context.Background(), "refresh-1")
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.Equal(t, 1, mt.GetCallCountInfo()["POST "+coreBase+"/auth/refresh"])
		})
	}
}

func TestRefreshIsRetriedWhenNeverSent(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var calls atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/auth/refresh", func(*http.Request) (*http.Response, error) {
		switch calls.Add(1) {
		case 1:
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		case 2:
			return httpmock.NewStringResponse(429, `{"message":"Too Many Attempts."}`), nil
		}
		return httpmock.NewStringResponse(200, `{"access_token":"a2","refresh_token":"r2","expires_in":60}`), nil
	})
	tok, err := c.Auth.Refresh(context.Background(), "refresh-1")
	require.NoError(t, err)
	assert.Equal(t, "a2", tok.AccessToken)
	assert.EqualValues(t, 3, calls.Load(), "a refused dial and a 429 prove the server did not act")
}

// WithLogin's source recovers from a refresh whose answer was lost by logging in again.
func TestWithLoginRecoversFromALostRefresh(t *testing.T) {
	t.Parallel()
	c, mt := coreMockCredClient(t, WithLogin("ana@uni.eu", "pw"))
	var logins atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/auth/login", func(*http.Request) (*http.Response, error) {
		n := logins.Add(1)
		if n == 2 {
			return httpmock.NewStringResponse(401, `{"message":"Locked for a moment."}`), nil
		}
		// expires within renewBefore: the next call refreshes
		return httpmock.NewJsonResponse(200, map[string]any{"access_token": fmt.Sprintf("login-%d", n),
			"refresh_token": fmt.Sprintf("refresh-%d", n), "expires_in": 30})
	})
	mt.RegisterResponder("POST", coreBase+"/auth/refresh", httpmock.NewErrorResponder(syscall.ECONNRESET))
	var bearers []string
	mt.RegisterResponder("GET", coreBase+"/things", func(r *http.Request) (*http.Response, error) {
		bearers = append(bearers, r.Header.Get("Authorization"))
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	require.NoError(t, c.Do(context.Background(), "GET", "/things", nil, nil))
	// the refresh is lost, and the login after it refused: the call fails...
	require.ErrorIs(t, c.Do(context.Background(), "GET", "/things", nil, nil), ErrUnauthorized)
	// ...and the next one logs in, without sending the spent refresh token again
	require.NoError(t, c.Do(context.Background(), "GET", "/things", nil, nil))
	assert.Equal(t, []string{"Bearer login-1", "Bearer login-3"}, bearers)
	assert.Equal(t, 1, mt.GetCallCountInfo()["POST "+coreBase+"/auth/refresh"], "the lost refresh is not re-sent")
	assert.EqualValues(t, 3, logins.Load())
}

// The token request of WithClientCredentials goes through the client's request path: its
// headers, its retries and its log lines.
func TestTokenRequestGoesThroughTheRequestPath(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "secret-1"),
		WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var grants atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/oauth/token", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "dokstamp-go/"), r.Header.Get("User-Agent"))
		assert.Empty(t, r.Header.Values("X-Tenant"))
		assert.Empty(t, r.Header.Values("Authorization"))
		assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		require.NoError(t, r.ParseForm())
		assert.Equal(t, "client_credentials", r.PostForm.Get("grant_type"))
		assert.Equal(t, "secret-1", r.PostForm.Get("client_secret"))
		if grants.Add(1) == 1 {
			return httpmock.NewStringResponse(503, `{"message":"down"}`), nil
		}
		return httpmock.NewStringResponse(200, `{"access_token":"at-1","expires_in":3600}`), nil
	})
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, httpmock.NewStringResponder(200, `{"data":{"uuid":"`+coreUUID+`"}}`))
	_, err := c.Files.Get(context.Background(), coreUUID)
	require.NoError(t, err)
	assert.EqualValues(t, 2, grants.Load())
	out := log.String()
	assert.Contains(t, out, `msg="dokstamp: request" method=POST path=/oauth/token attempt=1`)
	assert.Contains(t, out, `msg="dokstamp: retrying" method=POST path=/oauth/token attempt=1`)
	assert.Contains(t, out, `msg="dokstamp: request" method=POST path=/oauth/token attempt=2`)
	assert.NotContains(t, out, "secret-1")
}

func TestTokenAnswerGarbled(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{"empty object": `{}`, "HTML": `<html>login</html>`, "null": `null`} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "secret-1"))
			mt.RegisterResponder("POST", coreBase+"/oauth/token", httpmock.NewStringResponder(200, body))
			_, err := c.Files.Get(context.Background(), coreUUID)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "/oauth/token", de.Path)
			assert.Equal(t, 1, countPrefix(err), err.Error())
		})
	}
	c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "secret-1"))
	mt.RegisterResponder("POST", coreBase+"/oauth/token", httpmock.NewStringResponder(200, `{"error":"invalid_client","error_description":"bad secret-1"}`))
	_, err := c.Files.Get(context.Background(), coreUUID)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "invalid_client", e.Code)
	assert.Equal(t, "bad [redacted]", e.Message)
}
