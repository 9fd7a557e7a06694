package fakecmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fake runs Run with args until the test ends and returns the printed
// details by label and a client for it.
type fake struct {
	vals map[string]string
	hc   *http.Client
}

func startFake(t *testing.T, args ...string) *fake {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Run(ctx, "dokstamp-fake", append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		_ = pw.Close()
		done <- err
	}()
	vals := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "Try:") {
			break
		}
		for _, k := range []string{"base URL", "token", "tenant", "student uuid"} {
			if v, ok := strings.CutPrefix(line, k+" "); ok && vals[k] == "" {
				vals[k] = strings.Fields(v)[0]
			}
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NotEmpty(t, vals["base URL"])
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		cancel()
		require.NoError(t, <-done)
	})
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &fake{vals: vals, hc: hc}
}

// get sends an authenticated GET and returns the answer with its body read.
func (f *fake) get(t *testing.T, path string) (*http.Response, []byte, error) {
	t.Helper()
	return f.send(t, http.MethodGet, path, "", nil)
}

// send sends an authenticated request with a body of type ctype.
func (f *fake) send(t *testing.T, method, path, ctype string, body io.Reader) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(method, f.vals["base URL"]+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.vals["token"])
	req.Header.Set("X-Tenant", f.vals["tenant"])
	resp, err := f.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp, out, err
}

func TestRun(t *testing.T) {
	t.Parallel()
	f := startFake(t, "-students", "2", "-seed", "9", "-no-last-page")
	resp, raw, err := f.get(t, "/students")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Data []struct {
			UUID string `json:"uuid"`
		} `json:"data"`
		Meta map[string]any `json:"meta"`
	}
	require.NoError(t, json.Unmarshal(raw, &body))
	require.Len(t, body.Data, 2)
	assert.Equal(t, f.vals["student uuid"], body.Data[0].UUID)
	assert.NotContains(t, body.Meta, "last_page")
	assert.Empty(t, resp.Header.Get("X-RateLimit-Limit"))
}

func TestRunFaultAndShapeFlags(t *testing.T) {
	t.Parallel()
	f := startFake(t, "-window-limit", "5", "-window", "1m", "-success-false", "-model-not-found-message")
	resp, body, err := f.get(t, "/students/4a1b2c3d-0000-4000-8000-000000000000")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("X-RateLimit-Limit"))
	assert.Equal(t, "4", resp.Header.Get("X-RateLimit-Remaining"))
	assert.JSONEq(t, `{"success":false,"message":"No query results for model [App\\Student] 4a1b2c3d-0000-4000-8000-000000000000"}`, string(body))

	f = startFake(t, "-redirect-status", "307", "-redirect-to", "http://127.0.0.1:9")
	resp, _, err = f.get(t, "/students?page=2")
	require.NoError(t, err)
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	assert.Equal(t, "http://127.0.0.1:9/students?page=2", resp.Header.Get("Location"))

	f = startFake(t, "-forbidden-rate", "1")
	resp, _, err = f.get(t, "/students")
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	f = startFake(t, "-cut-body-rate", "1")
	_, _, err = f.get(t, "/students")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestRunLimitAndIssuanceFlags(t *testing.T) {
	t.Parallel()
	f := startFake(t, "-max-per-page", "1", "-max-batch", "1", "-max-upload-files", "1", "-max-file-size", "40", "-issuance-flag", "status")
	_, body, err := f.get(t, "/students?per_page=5")
	require.NoError(t, err)
	assert.Contains(t, string(body), `"per_page":1`)
	resp, _, err := f.send(t, http.MethodDelete, "/students/batch/destroy", "application/json",
		strings.NewReader(`{"uuids":["4a1b2c3d-0000-4000-8000-000000000001","4a1b2c3d-0000-4000-8000-000000000002"]}`))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)

	upload := func(parts ...string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for i, p := range parts {
			w, _ := mw.CreateFormFile("files[]", fmt.Sprintf("%d.pdf", i))
			_, _ = io.WriteString(w, p)
		}
		_ = mw.Close()
		resp, body, err := f.send(t, http.MethodPost, "/files", mw.FormDataContentType(), &buf)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	code, body2 := upload("%PDF-1.4 a", "%PDF-1.4 b")
	assert.Equal(t, http.StatusUnprocessableEntity, code, body2)
	code, body2 = upload("%PDF-1.4 " + strings.Repeat("x", 40))
	assert.Equal(t, http.StatusUnprocessableEntity, code, body2)
	code, body2 = upload("%PDF-1.4 one")
	require.Equal(t, http.StatusCreated, code, body2)

	// -issuance-flag status: finish is ignored, the certificate stays a draft.
	var files struct {
		Data []struct {
			UUID string `json:"uuid"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body2), &files))
	_, inst, _ := f.get(t, "/institutions")
	_, course, _ := f.get(t, "/courses")
	cert := fmt.Sprintf(`{"institution_uuid":%q,"course_uuid":%q,"student_uuid":%q,"file_uuid":%q,"finish":true}`,
		firstUUID(t, inst), firstUUID(t, course), f.vals["student uuid"], files.Data[0].UUID)
	resp, body, err = f.send(t, http.MethodPost, "/certificates", "application/json", strings.NewReader(cert))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), `"status":"draft"`)
}

// firstUUID is the uuid of a list answer's first item.
func firstUUID(t *testing.T, list []byte) string {
	t.Helper()
	var l struct {
		Data []struct {
			UUID string `json:"uuid"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(list, &l))
	require.NotEmpty(t, l.Data)
	return l.Data[0].UUID
}

func TestRunBadFlags(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), "dokstamp-fake", []string{"-help"}, io.Discard, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
	err = Run(context.Background(), "dokstamp-fake", []string{"-students", "x"}, io.Discard, io.Discard)
	assert.Error(t, err)
	err = Run(context.Background(), "dokstamp-fake", []string{"extra"}, io.Discard, io.Discard)
	assert.Error(t, err)
	err = Run(context.Background(), "dokstamp-fake", []string{"-redirect-status", "302"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "307 or 308")
	err = Run(context.Background(), "dokstamp-fake", []string{"-issuance-flag", "publish"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "issuance flag")
}
