package fakecmd

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
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
	req, _ := http.NewRequest(http.MethodGet, f.vals["base URL"]+path, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.vals["token"])
	req.Header.Set("X-Tenant", f.vals["tenant"])
	resp, err := f.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
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
