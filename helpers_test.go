package dokstamp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Shared by the service tests: a client on a per-test mock transport, and responders that
// assert the exact request before answering.

const testBase = "https://api.test"

// Realistic v4 UUIDs for the fixtures.
const (
	instUUID     = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
	orgUUID      = "c9bf9e57-1685-4c89-bafb-ff5af830be8a"
	moduleUUID   = "3f333df6-90a4-4fda-8dd3-9485d27cee36"
	module2UUID  = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	courseUUID   = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
	groupUUID    = "a8098c1a-f86e-41f1-a4c8-0b5a3d2c6e11"
	cohortUUID   = "16fd2706-8baf-433b-82eb-8c7fada847da"
	studentUUID  = "6fa459ea-ee8a-4ca4-894e-db77e160355e"
	enrollUUID   = "886313e1-3b8a-4372-9b90-0c9aee199e5d"
	fileUUID     = "e4eaaaf2-d142-41c6-b2ad-4b3c4b5e1f0a"
	badgeUUID    = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	templateUUID = "d7a1f3c2-6b5e-4c8d-9a0b-1c2d3e4f5a6b"
	certUUID     = "0f8fad5b-d9cb-469f-a165-70867728950e"
	pageUUID     = "b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	itemUUID     = "c4a2d3e5-6f70-4b8c-9dae-1f2a3b4c5d6e"
)

// newMockClient returns a client whose requests go to a fresh mock transport. Retries are off,
// and a request no responder expects fails the test.
func newMockClient(t *testing.T) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		return nil, fmt.Errorf("unexpected request %s %s", r.Method, r.URL)
	})
	c, err := NewClient(WithTenant("acme"), WithToken("tok"), WithBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: mt}), WithRetry(RetryPolicy{MaxRetries: 0}))
	require.NoError(t, err)
	return c, mt
}

// call is one request a test expects and the answer it gets.
type call struct {
	Method string
	Path   string     // escaped path
	Query  url.Values // the exact query; nil: none
	Body   string     // the exact JSON body; "": none
	Status int        // default 200
	Reply  string     // answer body
	Public bool       // no Authorization, no X-Tenant
}

// expect registers c's responder on mt: it asserts the request and answers with c's reply.
func expect(t *testing.T, mt *httpmock.MockTransport, c call) {
	t.Helper()
	mt.RegisterResponder(c.Method, testBase+c.Path, func(r *http.Request) (*http.Response, error) {
		checkRequest(t, r, c)
		return reply(c.Status, c.Reply), nil
	})
}

// checkRequest asserts the method, path, query, headers and JSON body of r.
func checkRequest(t *testing.T, r *http.Request, c call) {
	t.Helper()
	assert.Equal(t, c.Method, r.Method)
	assert.Equal(t, c.Path, r.URL.EscapedPath())
	want := c.Query
	if want == nil {
		want = url.Values{}
	}
	assert.Equal(t, want, r.URL.Query(), "query of %s %s", r.Method, r.URL.Path)
	assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "dokstamp-go/"), "User-Agent %q", r.Header.Get("User-Agent"))
	if c.Public {
		assert.Empty(t, r.Header.Get("Authorization"), "public route sent Authorization")
		assert.Empty(t, r.Header.Get("X-Tenant"), "public route sent X-Tenant")
	} else {
		assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		assert.Equal(t, "acme", r.Header.Get("X-Tenant"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		assert.NoError(t, err)
	}
	if c.Body == "" {
		assert.Empty(t, string(body), "unexpected body")
		assert.Empty(t, r.Header.Get("Content-Type"))
		return
	}
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.JSONEq(t, c.Body, string(body))
}

// reply is a JSON answer.
func reply(status int, body string) *http.Response {
	if status == 0 {
		status = http.StatusOK
	}
	resp := httpmock.NewStringResponse(status, body)
	resp.Header.Set("Content-Type", "application/json")
	return resp
}

// expectPages registers a list route answering pages[i] to page=i+1, asserting the other query
// parameters are base's. It returns a function reporting the pages asked for.
func expectPages(t *testing.T, mt *httpmock.MockTransport, path string, base url.Values, pages ...string) func() []int {
	t.Helper()
	var mu sync.Mutex
	var asked []int
	mt.RegisterResponder("GET", testBase+path, func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		n, err := strconv.Atoi(q.Get("page"))
		if !assert.NoError(t, err, "page parameter") || n < 1 || n > len(pages) {
			return reply(404, `{"message":"no such page"}`), nil
		}
		want := url.Values{}
		for k, v := range base {
			want[k] = v
		}
		want.Set("page", strconv.Itoa(n))
		checkRequest(t, r, call{Method: "GET", Path: path, Query: want})
		mu.Lock()
		asked = append(asked, n)
		mu.Unlock()
		return reply(200, pages[n-1]), nil
	})
	return func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), asked...)
	}
}

// listReply wraps items (JSON objects) in a list answer.
func listReply(page, lastPage, total int, items ...string) string {
	return fmt.Sprintf(`{"data":[%s],"meta":{"current_page":%d,"per_page":15,"total":%d,"last_page":%d}}`,
		strings.Join(items, ","), page, total, lastPage)
}

// dataReply wraps an object in {"data": ...}.
func dataReply(obj string) string { return `{"data":` + obj + `}` }

// q builds url.Values from key, value pairs.
func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// uuidsN returns n distinct UUIDs.
func uuidsN(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	return out
}

// expectBatchDestroy registers DELETE {path} and returns a function giving the uuid lists sent.
func expectBatchDestroy(t *testing.T, mt *httpmock.MockTransport, path string) func() [][]string {
	t.Helper()
	var mu sync.Mutex
	var sent [][]string
	mt.RegisterResponder("DELETE", testBase+path, func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		assert.Equal(t, "acme", r.Header.Get("X-Tenant"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		var body struct {
			UUIDs []string `json:"uuids"`
		}
		b, _ := io.ReadAll(r.Body)
		assert.NoError(t, jsonUnmarshalStrict(b, &body), "body %s", b)
		mu.Lock()
		sent = append(sent, body.UUIDs)
		mu.Unlock()
		return reply(http.StatusNoContent, ""), nil
	})
	return func() [][]string {
		mu.Lock()
		defer mu.Unlock()
		return append([][]string(nil), sent...)
	}
}

// jsonUnmarshalStrict decodes b into v, failing on fields v does not have.
func jsonUnmarshalStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// badIDs are ids every method must refuse before sending anything.
var badIDs = []string{"", "../files", instUUID + "/../x", "not-a-uuid", "9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d"}

// assertRefusedIDs calls fn with each bad id and asserts it fails without a request.
func assertRefusedIDs(t *testing.T, mt *httpmock.MockTransport, fn func(id string) error) {
	t.Helper()
	for _, id := range badIDs {
		assert.Error(t, fn(id), "id %q", id)
	}
	assert.Zero(t, mt.GetTotalCallCount(), "a request was sent")
}

// garbledAnswers are 200 answers that are not the JSON the SDK expects.
var garbledAnswers = map[string]string{
	"html":         "<!DOCTYPE html><html><body>Bad Gateway</body></html>",
	"truncated":    `{"data":{"uuid":"9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d","name":"Univ`,
	"empty":        "",
	"no data":      `{"message":"ok"}`,
	"null":         `null`,
	"empty object": `{}`,
	"null data":    `{"data":null}`,
	"wrong type":   `{"data":"9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}`,
}
