package dokstamp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeErrorShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		status  int
		body    string
		message string
		code    string
		errs    map[string][]string
	}{
		{"422 old", 422, `{"message":"The given data was invalid.","errors":{"email":["The email has already been taken.","The email must be valid."],"course_uuid":["The selected course uuid is invalid."]}}`,
			"The given data was invalid.", "", map[string][]string{
				"email":       {"The email has already been taken.", "The email must be valid."},
				"course_uuid": {"The selected course uuid is invalid."}}},
		{"422 new", 422, `{"success":false,"message":"The given data was invalid.","errors":{"file_uuid":["The file has already been used."]}}`,
			"The given data was invalid.", "", map[string][]string{"file_uuid": {"The file has already been used."}}},
		{"401 old", 401, `{"message":"Unauthenticated."}`, "Unauthenticated.", "", nil},
		{"401 new", 401, `{"success":false,"message":"Unauthenticated."}`, "Unauthenticated.", "", nil},
		{"404 old", 404, `{"message":"No query results for model [App\\Certificate] 6f1d2c3b-4a59-4e7f-9b8a-0c1d2e3f4a5b"}`,
			`No query results for model [App\Certificate] 6f1d2c3b-4a59-4e7f-9b8a-0c1d2e3f4a5b`, "", nil},
		{"404 new", 404, `{"success":false,"message":"Resource not found."}`, "Resource not found.", "", nil},
		{"500 old", 500, `{"message":"Server Error"}`, "Server Error", "", nil},
		{"500 new", 500, `{"success":false,"message":"Server Error"}`, "Server Error", "", nil},
		{"oauth", 401, `{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}`,
			"Client authentication failed", "invalid_client", nil},
		{"oauth without message", 400, `{"error":"invalid_request","error_description":"The request is missing a required parameter"}`,
			"The request is missing a required parameter", "invalid_request", nil},
		{"nested error object", 400, `{"error":{"message":"bad thing","code":"E42"}}`, "bad thing", "E42", nil},
		{"html", 502, "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "non-JSON answer (HTML)", "", nil},
		{"plain text", 503, "upstream connect error", "non-JSON answer: upstream connect error", "", nil},
		{"truncated json", 500, `{"message":"Server Err`, `non-JSON answer: {"message":"Server Err`, "", nil},
		{"empty", 500, "", "", "", nil},
		{"whitespace", 500, " \n ", "", "", nil},
		{"null", 500, "null", "", "", nil},
		{"json array", 500, `["a","b"]`, `non-JSON answer: ["a","b"]`, "", nil},
		{"errors per field as string", 422, `{"message":"Invalid.","errors":{"email":"The email is invalid.","grade":5}}`,
			"Invalid.", "", map[string][]string{"email": {"The email is invalid."}, "grade": {"5"}}},
		{"errors as list", 422, `{"message":"Invalid.","errors":["first problem","second problem"]}`,
			"Invalid.", "", map[string][]string{"": {"first problem", "second problem"}}},
		{"errors as string", 422, `{"message":"Invalid.","errors":"everything is wrong"}`,
			"Invalid.", "", map[string][]string{"": {"everything is wrong"}}},
		{"errors mixed list", 422, `{"errors":{"ids":[1,"two",null]}}`, "", "", map[string][]string{"ids": {"1", "two", "<nil>"}}},
		{"message not a string", 500, `{"message":{"text":"x"}}`, `{"text":"x"}`, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := decodeError(tc.status, nil, []byte(tc.body))
			require.NotNil(t, e)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.message, e.Message)
			assert.Equal(t, tc.code, e.Code)
			if tc.errs == nil {
				assert.Empty(t, e.Errors)
			} else {
				assert.Equal(t, tc.errs, e.Errors)
			}
			assert.NotEmpty(t, e.Error())
		})
	}
}

func TestDecodeErrorLongBodyExcerpt(t *testing.T) {
	t.Parallel()
	e := decodeError(500, nil, []byte(strings.Repeat("x", 5000)))
	assert.Less(t, len(e.Message), 200)
	assert.True(t, strings.HasSuffix(e.Message, "…"))
	e = decodeError(500, nil, []byte("\xff\xfe bad utf8"))
	assert.True(t, strings.HasPrefix(e.Message, "non-JSON answer: "))
	assert.NotContains(t, e.Message, "\xff")
}

func TestDecodeErrorHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Retry-After", "7")
	h.Set("X-Request-Id", "req-123")
	e := decodeError(429, h, []byte(`{"message":"Too Many Attempts."}`))
	assert.Equal(t, 7*time.Second, e.RetryAfter)
	assert.Equal(t, "req-123", e.RequestID)

	h.Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
	e = decodeError(503, h, nil)
	assert.Greater(t, e.RetryAfter, 80*time.Second)
	assert.LessOrEqual(t, e.RetryAfter, 90*time.Second)

	for _, bad := range []string{"", "soon", "-1", "0", "1e300"} {
		h.Set("Retry-After", bad)
		assert.Zero(t, decodeError(429, h, nil).RetryAfter, bad)
	}
}

func TestErrorSentinels(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation, ErrRateLimited, ErrServer, ErrOutcomeUnknown}
	want := map[int]error{401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 422: ErrValidation, 429: ErrRateLimited,
		500: ErrServer, 501: ErrServer, 502: ErrServer, 503: ErrServer, 504: ErrServer, 599: ErrServer}
	for _, st := range []int{200, 301, 400, 401, 402, 403, 404, 405, 409, 410, 422, 429, 499, 500, 501, 502, 503, 504, 599, 600} {
		e := &Error{StatusCode: st}
		wrapped := fmt.Errorf("dokstamp: create certificate for student x: %w", e)
		for _, s := range sentinels {
			if s == want[st] {
				assert.ErrorIs(t, wrapped, s, "status %d", st)
			} else {
				assert.NotErrorIs(t, wrapped, s, "status %d vs %v", st, s)
			}
		}
		var got *Error
		require.ErrorAs(t, wrapped, &got)
		assert.Same(t, e, got)
	}
	assert.ErrorIs(t, &Error{StatusCode: 500, outcomeUnknown: true}, ErrOutcomeUnknown)
	assert.NotErrorIs(t, &Error{StatusCode: 500}, ErrOutcomeUnknown)
	assert.NotErrorIs(t, &Error{StatusCode: 404}, errors.New("dokstamp: not found"), "identity, not text")
}

func TestErrorStrings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		e    *Error
		want string
	}{
		{&Error{StatusCode: 404, Method: "GET", Path: "/certificates/x", Message: "Resource not found."},
			"dokstamp: GET /certificates/x: 404 Not Found: Resource not found."},
		{&Error{StatusCode: 422, Method: "POST", Path: "/students", Message: "The given data was invalid.",
			Errors: map[string][]string{"email": {"The email has already been taken."}, "birth": {"Bad date.", "Too old."}}},
			"dokstamp: POST /students: 422 Unprocessable Entity: The given data was invalid. (birth: Bad date. Too old.; email: The email has already been taken.)"},
		{&Error{StatusCode: 401, Method: "POST", Path: "/oauth/token", Code: "invalid_client", Message: "Client authentication failed", Attempts: 1},
			"dokstamp: POST /oauth/token: 401 Unauthorized: invalid_client: Client authentication failed"},
		{&Error{StatusCode: 503, Method: "GET", Path: "/files", Attempts: 5},
			"dokstamp: GET /files: 503 Service Unavailable [after 5 attempts]"},
		{&Error{StatusCode: 500, Method: "POST", Path: "/certificates", Message: "Server Error", Attempts: 1, outcomeUnknown: true},
			"dokstamp: POST /certificates: 500 Internal Server Error: Server Error [outcome unknown]"},
		{&Error{StatusCode: 422, Errors: map[string][]string{"": {"one", "two"}}},
			"dokstamp: 422 Unprocessable Entity (one two)"},
		{&Error{StatusCode: 799}, "dokstamp: 799"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.e.Error())
	}
}

func TestAnswerErrorThroughClient(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("POST", coreBase+"/students", func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(422, `{"success":false,"message":"The given data was invalid.","errors":{"email":["taken"]}}`)
		resp.Header.Set("X-Request-Id", "abc-1")
		return resp, nil
	})
	err := c.call(context.Background(), &request{method: "POST", path: "/students", body: map[string]string{"email": "a@b.c"}}, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "POST", e.Method)
	assert.Equal(t, "/students", e.Path)
	assert.Equal(t, 1, e.Attempts)
	assert.Equal(t, "abc-1", e.RequestID)
	assert.Equal(t, map[string][]string{"email": {"taken"}}, e.Errors)
	assert.ErrorIs(t, err, ErrValidation)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
}

// No token, client secret, password, refresh token or PIN reaches an error string or a log
// line, even when the server echoes them back.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		staticTok    = "static-tok-5d1e8a"
		clientSecret = "client-secret-7c2f9b"
		accessTok    = "access-tok-0a4b6c"
		password     = "pass-word-3e8d1f"
		refreshTok   = "refresh-tok-9f7e5d"
		loginTok     = "login-tok-2b4d6f"
		pin          = "86421357"
	)
	secrets := []string{staticTok, clientSecret, accessTok, password, refreshTok, loginTok, pin}
	// echo is what a careless server could repeat: the Authorization header and the body
	echo := func(r *http.Request) string {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		return r.Header.Get("Authorization") + " " + string(body)
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}

	var buf bytes.Buffer
	var bufMu = make(chan struct{}, 1)
	logger := slog.New(slog.NewTextHandler(&coreLockedWriter{w: &buf, mu: bufMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	keep := func(err error) {
		t.Helper()
		if assert.Error(t, err) {
			errs = append(errs, err)
		}
	}

	mt := httpmock.NewMockTransport()
	hc := &http.Client{Transport: mt}
	retry := WithRetry(RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond})
	newClient := func(cred Option) *Client {
		c, err := NewClient(WithTenant(coreTenant), cred, WithBaseURL(coreBase), WithHTTPClient(hc), WithLogger(logger), retry)
		require.NoError(t, err)
		return c
	}
	echoJSON := func(status int) httpmock.Responder {
		return func(r *http.Request) (*http.Response, error) {
			e := quote(echo(r))
			body := fmt.Sprintf(`{"message":%s,"error":%s,"error_description":%s,"errors":{%s:[%s]}}`, e, e, e, e, e)
			resp := httpmock.NewStringResponse(status, body)
			resp.Header.Set("X-Request-Id", r.Header.Get("Authorization"))
			return resp, nil
		}
	}
	var flaky int
	mt.RegisterResponder("GET", coreBase+"/ok", httpmock.NewStringResponder(200, `{"data":{}}`))
	mt.RegisterResponder("GET", coreBase+"/flaky", func(r *http.Request) (*http.Response, error) {
		flaky++
		if flaky < 3 {
			return echoJSON(503)(r)
		}
		return httpmock.NewStringResponse(200, `{"data":{}}`), nil
	})
	mt.RegisterResponder("GET", coreBase+"/unauthorized", echoJSON(401))
	mt.RegisterResponder("POST", coreBase+"/invalid", echoJSON(422))
	mt.RegisterResponder("GET", coreBase+"/html", func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(500, "<html>"+echo(r)+"</html>"), nil
	})
	// an excerpt is cut at 120 bytes: put the token across the cut
	mt.RegisterResponder("GET", coreBase+"/text", func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(500, strings.Repeat("x", 110)+echo(r)), nil
	})
	mt.RegisterResponder("GET", coreBase+"/down", httpmock.NewErrorResponder(errors.New("connection reset by peer")))
	mt.RegisterResponder("POST", coreBase+"/oauth/token", func(r *http.Request) (*http.Response, error) {
		require.NoError(t, r.ParseForm())
		if r.PostForm.Get("client_secret") != clientSecret {
			return httpmock.NewStringResponse(401, fmt.Sprintf(
				`{"error":"invalid_client %s","error_description":"Client authentication failed for %s","message":"bad secret %s"}`,
				r.PostForm.Get("client_secret"), r.PostForm.Get("client_secret"), r.PostForm.Get("client_secret"))), nil
		}
		return httpmock.NewStringResponse(200, `{"token_type":"Bearer","expires_in":43200,"access_token":"`+accessTok+`"}`), nil
	})
	mt.RegisterResponder("POST", coreBase+"/auth/login", func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(200, `{"access_token":"`+loginTok+`","refresh_token":"`+refreshTok+`","token_type":"Bearer","expires_in":31536000}`), nil
	})
	mt.RegisterResponder("POST", coreBase+"/auth/refresh", echoJSON(401))
	mt.RegisterResponder("POST", coreBase+"/documents/batch/sign/7", echoJSON(422))

	ctx := context.Background()
	calls := func(c *Client) {
		require.NoError(t, c.call(ctx, &request{method: "GET", path: "/ok"}, nil))
		flaky = 0
		require.NoError(t, c.call(ctx, &request{method: "GET", path: "/flaky"}, nil))
		keep(c.call(ctx, &request{method: "GET", path: "/unauthorized"}, nil))
		keep(c.call(ctx, &request{method: "POST", path: "/invalid", body: map[string]string{"pin": pin}, secrets: []string{pin}}, nil))
		keep(c.call(ctx, &request{method: "GET", path: "/html"}, nil))
		keep(c.call(ctx, &request{method: "GET", path: "/text"}, nil))
		keep(c.call(ctx, &request{method: "GET", path: "/down"}, nil))
		keep(c.call(ctx, &request{method: "POST", path: "/documents/batch/sign/7",
			body: map[string]any{"document_ids": []int{1}, "pin": pin}, secrets: []string{pin}}, nil))
	}

	calls(newClient(WithToken(staticTok)))
	calls(newClient(WithClientCredentials("client-id", clientSecret)))
	calls(newClient(WithLogin("ana@example.org", password)))

	bad := newClient(WithClientCredentials("client-id", "wrong-"+clientSecret))
	err := bad.call(ctx, &request{method: "GET", path: "/ok"}, nil)
	keep(err)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 401, e.StatusCode)

	lc := newClient(WithLogin("ana@example.org", password))
	_, err = lc.Auth.Refresh(ctx, refreshTok)
	keep(err)
	tok, err := lc.Auth.Login(ctx, "ana@example.org", password)
	require.NoError(t, err)
	for _, s := range []string{tok.String(), fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v", *tok, tok, tok)} {
		assert.NotContains(t, s, loginTok)
		assert.NotContains(t, s, refreshTok)
	}

	require.NotEmpty(t, errs)
	bufMu <- struct{}{}
	logs := buf.String()
	<-bufMu
	require.Contains(t, logs, "dokstamp: retrying", "the log saw the retries")
	for _, sec := range secrets {
		assert.NotContains(t, logs, sec)
		for _, err := range errs {
			assert.NotContains(t, err.Error(), sec)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), sec)
			assert.NotContains(t, err.Error(), sec[:8], "not even a prefix")
		}
	}
}

type coreLockedWriter struct {
	w  *bytes.Buffer
	mu chan struct{}
}

func (l *coreLockedWriter) Write(p []byte) (int, error) {
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.w.Write(p)
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

// A garbled 2xx answer to a list, an upload or a login is a *DecodeError naming the call, never
// an empty result.
func TestGarbledSuccessIsADecodeError(t *testing.T) {
	t.Parallel()
	calls := map[string]struct {
		method, path string
		status       int
		call         func(c *Client) error
	}{
		"List": {"GET", "/students", 200, func(c *Client) error {
			_, err := c.Students.List(context.Background(), nil)
			return err
		}},
		"All": {"GET", "/students", 200, func(c *Client) error {
			for _, err := range c.Students.All(context.Background(), nil) {
				return err
			}
			return errors.New("All yielded nothing")
		}},
		"Upload": {"POST", "/files", 201, func(c *Client) error {
			_, err := c.Files.Upload(context.Background(), UploadBytes("a.pdf", pdfBytes))
			return err
		}},
		"Login": {"POST", "/auth/login", 200, func(c *Client) error {
			_, err := c.Auth.Login(context.Background(), "ana@uni.eu", "pw")
			return err
		}},
		"Create": {"POST", "/certificates", 201, func(c *Client) error {
			_, err := c.Certificates.Create(context.Background(), &CertificateCreateParams{InstitutionUUID: instUUID,
				CourseUUID: courseUUID, StudentUUID: studentUUID, FileUUID: fileUUID})
			return err
		}},
	}
	for name, k := range calls {
		for answer, body := range map[string]string{"null": `null`, "empty object": `{}`, "HTML": `<html>Maintenance</html>`,
			"wrong type": `{"data":"nope","access_token":7}`, "truncated": `{"data":[{"uuid":"`} {
			t.Run(name+"/"+answer, func(t *testing.T) {
				t.Parallel()
				c, mt := newMockClient(t)
				mt.RegisterResponder(k.method, testBase+k.path, func(r *http.Request) (*http.Response, error) {
					if r.Body != nil { // the multipart writer waits for its reader
						_, _ = io.Copy(io.Discard, r.Body)
						r.Body.Close()
					}
					return httpmock.NewStringResponse(k.status, body), nil
				})
				err := k.call(c)
				var de *DecodeError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, k.method, de.Method)
				assert.Equal(t, k.path, de.Path)
				assert.Equal(t, k.status, de.StatusCode)
				assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a 2xx says the server acted")
			})
		}
	}
}
