package dokstamp

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redirectTargets are the other origins a hostile or misconfigured API could redirect to:
// another host, and another port of the API's own host (which net/http alone treats as the
// same host and sends the token to).
var redirectTargets = map[string]string{
	"other host": "https://evil.test",
	"other port": "https://api.test:8443",
}

// seenRequest is what a redirect target received.
type seenRequest struct {
	method string
	header http.Header
	body   string
}

// redirectRecorder answers every request to origin with 200 and records it.
func redirectRecorder(mt *httpmock.MockTransport, origin string, answer string) func() []seenRequest {
	var mu sync.Mutex
	var seen []seenRequest
	mt.RegisterRegexpResponder("GET", mustRegexp(origin), record(&mu, &seen, answer))
	mt.RegisterRegexpResponder("POST", mustRegexp(origin), record(&mu, &seen, answer))
	return func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}
}

func record(mu *sync.Mutex, seen *[]seenRequest, answer string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		mu.Lock()
		*seen = append(*seen, seenRequest{r.Method, r.Header.Clone(), string(body)})
		mu.Unlock()
		return httpmock.NewStringResponse(200, answer), nil
	}
}

func mustRegexp(origin string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(origin) + "/")
}

// redirectTo answers with a redirect of the given status to target + the request's path.
func redirectTo(status int, target string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, "")
		resp.Header.Set("Location", target+r.URL.Path)
		return resp, nil
	}
}

func TestCrossOriginRedirectOfAReadDropsCredentials(t *testing.T) {
	t.Parallel()
	for name, target := range redirectTargets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t)
			mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, redirectTo(http.StatusFound, target))
			seen := redirectRecorder(mt, target, `{"data":{"uuid":"`+coreUUID+`"}}`)
			_, err := c.Files.Get(context.Background(), coreUUID, WithHeader("X-Correlation-Id", "c-1"))
			require.NoError(t, err)
			got := seen()
			require.Len(t, got, 1)
			for _, h := range []string{"Authorization", "X-Tenant", "Referer", "Cookie", "X-Correlation-Id"} {
				assert.Empty(t, got[0].header.Get(h), h)
			}
		})
	}
}

func TestSameOriginRedirectKeepsEverything(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("POST", coreBase+"/certificates", func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(http.StatusTemporaryRedirect, "")
		resp.Header.Set("Location", "/v2/certificates")
		return resp, nil
	})
	var body string
	var header http.Header
	mt.RegisterResponder("POST", coreBase+"/v2/certificates", func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		body, header = string(b), r.Header.Clone()
		return httpmock.NewStringResponse(201, coreCertJSON), nil
	})
	_, err := c.Certificates.Create(context.Background(), coreCertParams())
	require.NoError(t, err)
	assert.Contains(t, body, coreCertParams().StudentUUID, "the body is sent again")
	assert.Equal(t, "Bearer "+coreToken, header.Get("Authorization"))
	assert.Equal(t, coreTenant, header.Get("X-Tenant"))
}

// Every kind of request with a body: none follows a redirect to another origin, and none
// reaches it at all.
func TestCrossOriginRedirectOfABodyIsRefused(t *testing.T) {
	t.Parallel()
	kinds := map[string]struct {
		method, path string
		client       func(t *testing.T) (*Client, *httpmock.MockTransport)
		call         func(c *Client) error
	}{
		"POST JSON": {"POST", "/certificates", func(t *testing.T) (*Client, *httpmock.MockTransport) { return coreMockClient(t) },
			func(c *Client) error {
				_, err := c.Certificates.Create(context.Background(), coreCertParams())
				return err
			}},
		"upload": {"POST", "/files", func(t *testing.T) (*Client, *httpmock.MockTransport) { return coreMockClient(t) },
			func(c *Client) error {
				_, err := c.Files.Upload(context.Background(), UploadBytes("maria.pdf", []byte("%PDF-1.7\n%secret diploma\n")))
				return err
			}},
		"token": {"POST", "/oauth/token", func(t *testing.T) (*Client, *httpmock.MockTransport) {
			return coreMockCredClient(t, WithClientCredentials("client-1", "client-secret-1"))
		}, func(c *Client) error {
			_, err := c.Files.Get(context.Background(), coreUUID)
			return err
		}},
		"login": {"POST", "/auth/login", func(t *testing.T) (*Client, *httpmock.MockTransport) {
			return coreMockCredClient(t, WithLogin("ana@uni.eu", "password-1"))
		}, func(c *Client) error {
			_, err := c.Files.Get(context.Background(), coreUUID)
			return err
		}},
		"refresh": {"POST", "/auth/refresh", func(t *testing.T) (*Client, *httpmock.MockTransport) { return coreMockClient(t) },
			func(c *Client) error {
				_, err := c.Auth.Refresh(context.Background(), "refresh-1")
				return err
			}},
		"Do PUT": {"PUT", "/things/1", func(t *testing.T) (*Client, *httpmock.MockTransport) { return coreMockClient(t) },
			func(c *Client) error {
				return c.Do(context.Background(), "PUT", "/things/1", map[string]string{"pin": "1234"}, nil)
			}},
	}
	for kind, k := range kinds {
		for name, target := range redirectTargets {
			for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
				t.Run(kind+"/"+name+"/"+http.StatusText(status), func(t *testing.T) {
					t.Parallel()
					c, mt := k.client(t)
					mt.RegisterResponder(k.method, coreBase+k.path, redirectTo(status, target))
					seen := redirectRecorder(mt, target, `{}`)
					err := k.call(c)
					require.Error(t, err)
					assert.Contains(t, err.Error(), "redirected ("+strconv.Itoa(status)+") this request to another origin, "+target)
					assert.Equal(t, 1, strings.Count(err.Error(), "dokstamp: "), err.Error())
					assert.Empty(t, seen(), "the other origin receives nothing")
					assert.Equal(t, 1, mt.GetCallCountInfo()[k.method+" "+coreBase+k.path], "a refused redirect is not retried")
					assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a redirect answer proves the server did not act")
				})
			}
		}
	}
}

func TestPublicDownloadFollowsItsRedirectWithoutToken(t *testing.T) {
	t.Parallel()
	for name, target := range map[string]string{"storage": "https://storage.test", "other port": "https://api.test:9000"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := coreMockClient(t)
			mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID+"/download", redirectTo(http.StatusFound, target))
			seen := redirectRecorder(mt, target, "%PDF-1.7 diploma")
			rc, err := c.Files.Download(context.Background(), coreUUID)
			require.NoError(t, err)
			b, err := io.ReadAll(rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())
			assert.Equal(t, "%PDF-1.7 diploma", string(b))
			got := seen()
			require.Len(t, got, 1)
			for _, h := range []string{"Authorization", "X-Tenant", "Referer"} {
				assert.Empty(t, got[0].header.Get(h), h)
			}
		})
	}
}

func TestUserCheckRedirectStillApplies(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var asked int
	hc := &http.Client{Transport: mt, CheckRedirect: func(*http.Request, []*http.Request) error {
		asked++
		return http.ErrUseLastResponse
	}}
	c, err := NewClient(WithTenant(coreTenant), WithToken(coreToken), WithBaseURL(coreBase), WithHTTPClient(hc),
		WithRetry(RetryPolicy{}))
	require.NoError(t, err)
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, redirectTo(http.StatusFound, coreBase+"/elsewhere"))
	_, err = c.Files.Get(context.Background(), coreUUID)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusFound, e.StatusCode)
	assert.Equal(t, 1, asked)
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	u := func(s string) *url.URL {
		v, err := url.Parse(s)
		require.NoError(t, err)
		return v
	}
	assert.True(t, sameOrigin(u("https://api.test/x"), u("https://API.TEST:443/y")))
	assert.True(t, sameOrigin(u("http://api.test/x"), u("http://api.test:80/y")))
	assert.False(t, sameOrigin(u("https://api.test/x"), u("https://api.test:8443/x")))
	assert.False(t, sameOrigin(u("https://api.test/x"), u("http://api.test/x")))
	assert.False(t, sameOrigin(u("https://api.test/x"), u("https://api.test.evil/x")))
}
