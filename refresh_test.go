package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// cutAnswer answers status with a body that breaks off after head.
func cutAnswer(status int, head string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, "")
		resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(head), errReader{io.ErrUnexpectedEOF}))
		resp.ContentLength = int64(len(head) + 100)
		return resp, nil
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// A 2xx answer to a POST whose body breaks off is an unknown outcome; to a GET, a plain error.
func TestCutAnswer(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("POST", coreBase+"/certificates", cutAnswer(201, `{"data":{"uuid":"55555555-`))
	_, err := c.Certificates.Create(context.Background(), coreCertParams())
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "POST /certificates: answer 201 cut short: outcome unknown: unexpected EOF")
	assert.Equal(t, 1, mt.GetCallCountInfo()["POST "+coreBase+"/certificates"])

	mt.RegisterResponder("POST", coreBase+routeResendSignatures, cutAnswer(200, `{"message":"Sent`))
	require.ErrorIs(t, c.Documents.ResendSignatures(context.Background(), []int{1}), ErrOutcomeUnknown, "also when the body is discarded")

	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, cutAnswer(200, `{"data":{"uu`))
	_, err = c.Files.Get(context.Background(), coreUUID)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "reading answer 200")
}

func TestUnauthorizedNamesTenantAndTokenKind(t *testing.T) {
	t.Parallel()
	refuse := httpmock.NewStringResponder(401, `{"message":"Unauthenticated."}`)
	t.Run("static", func(t *testing.T) {
		t.Parallel()
		c, mt := coreMockClient(t)
		mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, refuse)
		_, err := c.Files.Get(context.Background(), coreUUID)
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Equal(t, `dokstamp: GET /files/`+coreUUID+`: 401 Unauthorized: Unauthenticated. (tenant "acme-university", `+
			`static token (WithToken), which is not renewed: check that it has not expired or been revoked, and that it belongs `+
			`to this tenant (c.Auth.Me shows its tenant's domain, the value WithTenant takes))`, err.Error())
	})
	t.Run("client credentials", func(t *testing.T) {
		t.Parallel()
		c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "secret-1"))
		var grants atomic.Int32
		mt.RegisterResponder("POST", coreBase+"/oauth/token", func(*http.Request) (*http.Response, error) {
			return httpmock.NewStringResponse(200, `{"access_token":"at-`+strconv.Itoa(int(grants.Add(1)))+`","expires_in":3600}`), nil
		})
		mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, refuse)
		_, err := c.Files.Get(context.Background(), coreUUID)
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Contains(t, err.Error(), `(tenant "acme-university", client-credentials token, renewed once and refused again: check that it has not expired or been revoked, and that it belongs to this tenant (c.Auth.Me`)
		assert.EqualValues(t, 2, grants.Load())
	})
	t.Run("me", func(t *testing.T) {
		t.Parallel()
		c, mt := coreMockClient(t)
		mt.RegisterResponder("GET", coreBase+"/auth/me", refuse)
		_, err := c.Auth.Me(context.Background())
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.NotContains(t, err.Error(), "tenant", "no tenant is sent to /auth/me")
		assert.Contains(t, err.Error(), "static token")
	})
	t.Run("login", func(t *testing.T) {
		t.Parallel()
		c, mt := coreMockClient(t)
		mt.RegisterResponder("POST", coreBase+"/auth/login", httpmock.NewStringResponder(401, `{"message":"These credentials do not match our records."}`))
		_, err := c.Auth.Login(context.Background(), "ana@uni.eu", "pw")
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Contains(t, err.Error(), "(check the e-mail and password given to WithLogin or Login)")
	})
}

func TestBadRequestSentinel(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, httpmock.NewStringResponder(400, `{"message":"Bad filter."}`))
	_, err := c.Files.Get(context.Background(), coreUUID)
	require.ErrorIs(t, err, ErrBadRequest)
	assert.NotErrorIs(t, err, ErrValidation)
}

// Every error in a chain reads with one "dokstamp: " prefix.
func TestOnePrefixPerChain(t *testing.T) {
	t.Parallel()
	c, mt := coreMockCredClient(t, WithClientCredentials("client-1", "secret-1"), WithRetry(RetryPolicy{}))
	mt.RegisterResponder("POST", coreBase+"/oauth/token", httpmock.NewErrorResponder(errors.New("dns down")))
	mt.RegisterResponder("POST", coreBase+"/students", httpmock.NewErrorResponder(syscall.ECONNRESET))
	_, err := c.Files.Get(context.Background(), coreUUID)
	require.Error(t, err)
	assert.Equal(t, 1, countPrefix(err), err.Error())

	c2, mt2 := coreMockClient(t, WithRetry(RetryPolicy{}))
	mt2.RegisterResponder("POST", coreBase+"/students", httpmock.NewErrorResponder(syscall.ECONNRESET))
	mt2.RegisterResponder("GET", coreBase+"/students", httpmock.NewStringResponder(503, `{}`))
	_, err = c2.Students.Create(context.Background(), &StudentCreateParams{Name: "Ana", Email: "ana@uni.eu", DateOfBirth: "2001-02-03"})
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, 1, countPrefix(err), err.Error())
	for _, err := range c2.Students.All(context.Background(), nil) {
		require.ErrorIs(t, err, ErrServer)
		assert.Equal(t, 1, countPrefix(err), err.Error())
	}
}

func countPrefix(err error) int { return strings.Count(err.Error(), "dokstamp: ") }

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
