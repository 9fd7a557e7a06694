package dokstamp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	coreBase   = "https://api.test"
	coreTenant = "acme-university"
	coreToken  = "tok-3f9a1c7e5b2d4f60"
	coreUUID   = "6f1d2c3b-4a59-4e7f-9b8a-0c1d2e3f4a5b"
)

// coreMockClient is a Client on a per-test httpmock transport, with a static token and fast
// retries; extra options come last and win.
func coreMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	return coreMockCredClient(t, WithToken(coreToken), opts...)
}

// coreMockCredClient is coreMockClient with other credentials than the static token.
func coreMockCredClient(t *testing.T, cred Option, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	base := []Option{
		WithTenant(coreTenant),
		cred,
		WithBaseURL(coreBase),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithRetry(RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}),
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c, mt
}

// coreServerClient is a Client talking to a real loopback server.
func coreServerClient(t *testing.T, h http.Handler, opts ...Option) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		srv.Close()
	})
	base := []Option{
		WithTenant(coreTenant),
		WithToken(coreToken),
		WithBaseURL(srv.URL),
		WithHTTPClient(hc),
		WithRetry(RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}),
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c, srv
}

func TestNewClientErrors(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"no tenant", []Option{WithToken("t")}, "no tenant"},
		{"blank tenant", []Option{WithTenant("  "), WithToken("t")}, "empty tenant"},
		{"no credentials", []Option{WithTenant("x")}, "no credentials"},
		{"token and client credentials", []Option{WithTenant("x"), WithToken("t"), WithClientCredentials("id", "s")}, "more than one kind"},
		{"token and login", []Option{WithTenant("x"), WithToken("t"), WithLogin("a@b.c", "pw")}, "more than one kind"},
		{"empty token", []Option{WithTenant("x"), WithToken("")}, "empty token"},
		{"half client credentials", []Option{WithTenant("x"), WithClientCredentials("id", "")}, "empty client id or secret"},
		{"relative base URL", []Option{WithTenant("x"), WithToken("t"), WithBaseURL("/api")}, "not an absolute http(s) URL"},
		{"host only", []Option{WithTenant("x"), WithToken("t"), WithBaseURL("api.dokstamp.eu")}, "not an absolute http(s) URL"},
		{"ftp base URL", []Option{WithTenant("x"), WithToken("t"), WithBaseURL("ftp://api.dokstamp.eu")}, "not an absolute http(s) URL"},
		{"credentials in base URL", []Option{WithTenant("x"), WithToken("t"), WithBaseURL("https://u:hunter2@api.dokstamp.eu")}, "must not hold credentials"},
		{"nil HTTP client", []Option{WithTenant("x"), WithToken("t"), WithHTTPClient(nil)}, "nil client"},
		{"negative retry", []Option{WithTenant("x"), WithToken("t"), WithRetry(RetryPolicy{MaxRetries: -1})}, "negative"},
		{"newline in tenant", []Option{WithTenant("x\r\nX-Evil: 1"), WithToken("t")}, "control character"},
		{"newline in token", []Option{WithTenant("x"), WithToken("t\nX-Evil: 1")}, "control character"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(append(tc.opts, WithHTTPClient(hc))...)
			if tc.name == "nil HTTP client" {
				c, err = NewClient(tc.opts...)
			}
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestNewClientNilOptionIgnored(t *testing.T) {
	t.Parallel()
	c, err := NewClient(nil, WithTenant("x"), nil, WithToken("t"))
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, c.base.String())
	assert.Equal(t, DefaultRetryPolicy(), c.retry)
}

func TestClientStringHidesCredentials(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithToken(coreToken), WithClientCredentials("id", "cs-secret-9"), WithLogin("a@b.c", "pw-secret-9")} {
		c, err := NewClient(WithTenant("x"), opt)
		require.NoError(t, err)
		for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", struct{ A tokenSource }{c.auth})} {
			assert.NotContains(t, s, coreToken)
			assert.NotContains(t, s, "cs-secret-9")
			assert.NotContains(t, s, "pw-secret-9")
		}
	}
}

// NewClientFromEnv changes the process environment: not parallel.
func TestNewClientFromEnv(t *testing.T) {
	t.Run("token", func(t *testing.T) {
		t.Setenv("DOKSTAMP_TENANT", "env-tenant")
		t.Setenv("DOKSTAMP_TOKEN", "env-token")
		t.Setenv("DOKSTAMP_CLIENT_ID", "")
		t.Setenv("DOKSTAMP_CLIENT_SECRET", "")
		t.Setenv("DOKSTAMP_BASE_URL", "https://api.dokstamp.com/")
		c, err := NewClientFromEnv()
		require.NoError(t, err)
		assert.Equal(t, "env-tenant", c.tenant)
		assert.Equal(t, "https://api.dokstamp.com", c.base.String())
		tok, err := c.auth.token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "env-token", tok)
	})
	t.Run("client credentials", func(t *testing.T) {
		t.Setenv("DOKSTAMP_TENANT", "env-tenant")
		t.Setenv("DOKSTAMP_TOKEN", "")
		t.Setenv("DOKSTAMP_CLIENT_ID", "id")
		t.Setenv("DOKSTAMP_CLIENT_SECRET", "secret")
		t.Setenv("DOKSTAMP_BASE_URL", "")
		c, err := NewClientFromEnv(WithUserAgent("x/1"))
		require.NoError(t, err)
		require.IsType(t, &clientCredentials{}, c.auth)
		assert.Equal(t, DefaultBaseURL, c.base.String())
		assert.Equal(t, "dokstamp-go/"+Version+" x/1", c.userAgent)
	})
	t.Run("missing tenant", func(t *testing.T) {
		t.Setenv("DOKSTAMP_TENANT", "")
		t.Setenv("DOKSTAMP_TOKEN", "env-token")
		_, err := NewClientFromEnv()
		require.ErrorContains(t, err, "DOKSTAMP_TENANT")
	})
	t.Run("secret without id", func(t *testing.T) {
		t.Setenv("DOKSTAMP_TENANT", "t")
		t.Setenv("DOKSTAMP_TOKEN", "")
		t.Setenv("DOKSTAMP_CLIENT_ID", "")
		t.Setenv("DOKSTAMP_CLIENT_SECRET", "secret-only")
		_, err := NewClientFromEnv()
		require.ErrorContains(t, err, "empty client id or secret")
		assert.NotContains(t, err.Error(), "secret-only")
	})
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithUserAgent("my-app/1.0"))
	var got http.Header
	mt.RegisterResponder("GET", coreBase+"/institutions/"+coreUUID, func(r *http.Request) (*http.Response, error) {
		got = r.Header.Clone()
		return httpmock.NewStringResponse(200, `{"data":{"uuid":"`+coreUUID+`"}}`), nil
	})
	_, err := doData[struct{ UUID string }](context.Background(), c, &request{method: "GET", path: pathOf("institutions", coreUUID)})
	require.NoError(t, err)
	assert.Equal(t, "Bearer "+coreToken, got.Get("Authorization"))
	assert.Equal(t, "application/json", got.Get("Accept"))
	assert.Equal(t, coreTenant, got.Get("X-Tenant"))
	assert.Equal(t, "dokstamp-go/"+Version+" my-app/1.0", got.Get("User-Agent"))
	assert.Empty(t, got.Get("Content-Type"), "no body, no Content-Type")
}

func TestJSONBodyHeaders(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("PATCH", coreBase+"/courses/"+coreUUID, func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		assert.JSONEq(t, `{"name":"x"}`, string(body))
		return httpmock.NewStringResponse(200, `{"data":{}}`), nil
	})
	err := c.call(context.Background(), &request{method: "PATCH", path: pathOf("courses", coreUUID), body: map[string]string{"name": "x"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestNoTenantOnAuthRoutes(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/auth/me", func(r *http.Request) (*http.Response, error) {
		assert.Empty(t, r.Header.Values("X-Tenant"))
		assert.Equal(t, "Bearer "+coreToken, r.Header.Get("Authorization"))
		return httpmock.NewStringResponse(200, `{"data":{"id":7,"name":"Ana","email":"ana@x.eu","tenant":{"domain":"acme"}}}`), nil
	})
	mt.RegisterResponder("POST", coreBase+"/auth/login", func(r *http.Request) (*http.Response, error) {
		assert.Empty(t, r.Header.Values("X-Tenant"))
		assert.Empty(t, r.Header.Values("Authorization"))
		return httpmock.NewStringResponse(200, `{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":60}`), nil
	})
	u, err := c.Auth.Me(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "acme", u.Tenant.Domain)
	_, err = c.Auth.Login(context.Background(), "ana@x.eu", "pw")
	require.NoError(t, err)
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithBaseURL("https://gw.example.org/dokstamp/v1/?x=1#frag"))
	mt.RegisterResponder("GET", "https://gw.example.org/dokstamp/v1/files/"+coreUUID, httpmock.NewStringResponder(200, `{"data":{"uuid":"`+coreUUID+`"}}`))
	f, err := c.Files.Get(context.Background(), coreUUID)
	require.NoError(t, err)
	assert.Equal(t, coreUUID, f.UUID)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestPathOfKeepsOneSegment(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "/files/..%2Ffiles", pathOf("files", "../files"))
	assert.Equal(t, "/files/%2E%2E", pathOf("files", ".."))
	assert.Equal(t, "/files/%2E", pathOf("files", "."))
	assert.Equal(t, "/files/a%20b%3Fc=d%23e", pathOf("files", "a b?c=d#e"))

	c, mt := coreMockClient(t, WithBaseURL("https://api.test/base"))
	var rawPaths []string
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		rawPaths = append(rawPaths, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		return httpmock.NewStringResponse(404, `{"message":"Resource not found."}`), nil
	})
	for _, id := range []string{"../files", "..", "a b?c=d#e", "%2e%2e", "x/../../auth/me"} {
		err := c.call(context.Background(), &request{method: "GET", path: pathOf("files", id)}, nil)
		require.ErrorIs(t, err, ErrNotFound)
	}
	assert.Equal(t, []string{
		"/base/files/..%2Ffiles?",
		"/base/files/%2E%2E?",
		"/base/files/a%20b%3Fc=d%23e?",
		"/base/files/%252e%252e?",
		"/base/files/x%2F..%2F..%2Fauth%2Fme?",
	}, rawPaths)
}

// A real server sees the escaped id as one segment of /files/.
func TestPathEscapingOnTheWire(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	c, _ := coreServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.RequestURI)
		w.WriteHeader(404)
	}))
	for _, id := range []string{"../auth/me", ".."} {
		err := c.call(context.Background(), &request{method: "GET", path: pathOf("files", id)}, nil)
		require.ErrorIs(t, err, ErrNotFound)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"/files/..%2Fauth%2Fme", "/files/%2E%2E"}, seen)
}

func TestCallDecodeError(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, httpmock.NewStringResponder(200, `<html>oops</html>`))
	_, err := c.Files.Get(context.Background(), coreUUID)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 200, de.StatusCode)
	assert.Contains(t, err.Error(), "GET /files/"+coreUUID)

	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, httpmock.NewStringResponder(200, `{"nodata":1}`))
	_, err = c.Files.Get(context.Background(), coreUUID)
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), `no "data" object`)
}

func TestNilContext(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	//lint:ignore SA1012 the nil context is the point of the test
	err := c.call(nil, &request{method: "GET", path: "/files"}, nil) //nolint:staticcheck
	require.ErrorContains(t, err, "nil context")
	assert.Zero(t, mt.GetTotalCallCount())
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

func TestDo(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/document-types", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "page=2&where%5Bname%5D=Diploma", r.URL.RawQuery)
		assert.Equal(t, "Bearer "+coreToken, r.Header.Get("Authorization"))
		assert.Equal(t, coreTenant, r.Header.Get("X-Tenant"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		return httpmock.NewStringResponse(200, `{"data":[{"id":1,"description":"Diploma"}],"meta":{"last_page":3}}`), nil
	})
	var types []struct {
		ID          int    `json:"id"`
		Description string `json:"description"`
	}
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/document-types?page=2&where%5Bname%5D=Diploma", nil, &types))
	require.Len(t, types, 1, "out gets data")
	assert.Equal(t, "Diploma", types[0].Description)

	mt.RegisterResponder("GET", coreBase+"/badges/issuers/x", httpmock.NewStringResponder(200, `{"@context":"https://w3id.org/openbadges/v2","name":"Acme"}`))
	var whole map[string]any
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/badges/issuers/x", nil, &whole))
	assert.Equal(t, "Acme", whole["name"], "no envelope: out gets the whole body")

	mt.RegisterResponder("POST", coreBase+"/document-types", func(r *http.Request) (*http.Response, error) {
		var body map[string]string
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		assert.Equal(t, map[string]string{"description": "Transcript"}, body)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		return httpmock.NewStringResponse(201, `{"data":{"id":7}}`), nil
	})
	var created struct{ ID int }
	require.NoError(t, c.Do(context.Background(), http.MethodPost, "/document-types", map[string]string{"description": "Transcript"}, &created))
	assert.Equal(t, 7, created.ID)
}

func TestDoFollowsTheRequestPath(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var posts, gets atomic.Int32
	mt.RegisterResponder("POST", coreBase+"/things", coreSequence(&posts, "", 503))
	mt.RegisterResponder("GET", coreBase+"/things", coreSequence(&gets, `{"data":{}}`, 503, 200))
	err := c.Do(context.Background(), "post", "/things", map[string]int{"n": 1}, nil)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.EqualValues(t, 1, posts.Load(), "POST rule, whatever the method's case")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 503, e.StatusCode)
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/things", nil, nil))
	assert.EqualValues(t, 2, gets.Load(), "a GET is retried")

	mt.RegisterResponder("GET", coreBase+"/html", httpmock.NewStringResponder(200, `<html>maintenance</html>`))
	var out map[string]any
	var de *DecodeError
	require.ErrorAs(t, c.Do(context.Background(), http.MethodGet, "/html", nil, &out), &de)
}

func TestDoRefusesWhatIsNotAPathOnTheBaseURL(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	for _, p := range []string{"https://evil.test/steal", "//evil.test/steal", "students", "", "/a/../admin", "/./x", "http:/x"} {
		err := c.Do(context.Background(), http.MethodGet, p, nil, nil)
		require.Error(t, err, p)
		assert.Contains(t, err.Error(), "dokstamp: Do", p)
	}
	for _, m := range []string{"", "GE T", "GET\n"} {
		require.Error(t, c.Do(context.Background(), m, "/x", nil, nil))
	}
	require.Error(t, c.Do(context.Background(), http.MethodPost, "/files", &stallingBody{}, nil), "a reader body")
	assert.Zero(t, mt.GetTotalCallCount())
}
