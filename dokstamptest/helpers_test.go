package dokstamptest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// pdf returns a small PDF whose bytes differ per tag.
func pdf(tag string) []byte {
	return []byte("%PDF-1.4\n% " + tag + "\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

// api is a plain net/http client for one server and tenant.
type api struct {
	t      testing.TB
	srv    *Server
	hc     *http.Client
	token  string
	tenant string
	base   string // "" means srv.URL
}

func newAPI(t testing.TB, srv *Server) *api {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &api{t: t, srv: srv, hc: &http.Client{Transport: tr}, token: srv.Token, tenant: srv.Tenant}
}

func (a *api) with(token, tenant string) *api {
	b := *a
	b.token, b.tenant = token, tenant
	return &b
}

// at returns a copy of a that sends to another base URL.
func (a *api) at(base string) *api {
	b := *a
	b.base = base
	return &b
}

// do sends a request; body may be nil, []byte, url.Values or any JSON value.
func (a *api) do(method, path string, body any) (*http.Response, []byte) {
	a.t.Helper()
	resp, out, err := a.send(method, path, body, map[string]string{"Accept": "application/json"})
	require.NoError(a.t, err)
	return resp, out
}

// send sends a request with the token, the tenant and hdr (a "" value
// deletes a header), without following redirects, and reads the answer.
func (a *api) send(method, path string, body any, hdr map[string]string) (*http.Response, []byte, error) {
	a.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		js, err := json.Marshal(b)
		require.NoError(a.t, err)
		rd, ctype = bytes.NewReader(js), "application/json"
	}
	base := a.base
	if base == "" {
		base = a.srv.URL
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(a.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.tenant != "" {
		req.Header.Set("X-Tenant", a.tenant)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	hc := *a.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp, out, err
}

// call sends a request, requires the status and decodes the JSON answer.
func (a *api) call(method, path string, body any, want int) map[string]any {
	a.t.Helper()
	resp, out := a.do(method, path, body)
	require.Equal(a.t, want, resp.StatusCode, "%s %s: %s", method, path, out)
	if len(out) == 0 {
		return nil
	}
	var m map[string]any
	require.NoError(a.t, json.Unmarshal(out, &m), "%s", out)
	return m
}

// data returns the "data" object of a single-object answer.
func (a *api) data(method, path string, body any, want int) map[string]any {
	a.t.Helper()
	m := a.call(method, path, body, want)
	d, ok := m["data"].(map[string]any)
	require.True(a.t, ok, "no data object in %v", m)
	return d
}

// upload posts files[] parts and returns the data array.
func (a *api) upload(want int, parts ...[2]string) (map[string]any, []any) {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		w, err := mw.CreateFormFile("files[]", p[0])
		require.NoError(a.t, err)
		_, _ = w.Write([]byte(p[1]))
	}
	require.NoError(a.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/files", &buf)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("X-Tenant", a.tenant)
	resp, err := a.hc.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	require.Equal(a.t, want, resp.StatusCode, "%s", out)
	var m map[string]any
	require.NoError(a.t, json.Unmarshal(out, &m), "%s", out)
	list, _ := m["data"].([]any)
	return m, list
}

// file uploads one PDF and returns its uuid.
func (a *api) file(tag string) string {
	a.t.Helper()
	_, list := a.upload(http.StatusCreated, [2]string{tag + ".pdf", string(pdf(tag))})
	require.Len(a.t, list, 1)
	return list[0].(map[string]any)["uuid"].(string)
}

// certBody is a valid certificate request for student i of the default seed.
func (a *api) certBody(i int, fileUUID string, extra map[string]any) map[string]any {
	b := map[string]any{
		"institution_uuid": a.srv.InstitutionUUID,
		"course_uuid":      a.srv.CourseUUID,
		"student_uuid":     a.srv.StudentUUIDs[i],
		"file_uuid":        fileUUID,
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// issued creates an issued certificate for student i with a fresh file named
// by tag, and returns its data.
func (a *api) issued(i int, tag string) map[string]any {
	a.t.Helper()
	return a.data(http.MethodPost, "/certificates", a.certBody(i, a.file(tag), map[string]any{"status": "issued"}), http.StatusCreated)
}

func errorsOf(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	require.Equal(t, "The given data was invalid.", m["message"])
	e, ok := m["errors"].(map[string]any)
	require.True(t, ok, "no errors in %v", m)
	return e
}
