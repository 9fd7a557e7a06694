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

func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Run(ctx, "dokstamp-fake", []string{"-addr", "127.0.0.1:0", "-students", "2", "-seed", "9", "-no-last-page"}, pw, io.Discard)
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
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, vals["base URL"]+"/students", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+vals["token"])
	req.Header.Set("X-Tenant", vals["tenant"])
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	var body struct {
		Data []struct {
			UUID string `json:"uuid"`
		} `json:"data"`
		Meta map[string]any `json:"meta"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	resp.Body.Close()
	require.Len(t, body.Data, 2)
	assert.Equal(t, vals["student uuid"], body.Data[0].UUID)
	assert.NotContains(t, body.Meta, "last_page")

	cancel()
	require.NoError(t, <-done)
}

func TestRunBadFlags(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), "dokstamp-fake", []string{"-help"}, io.Discard, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
	err = Run(context.Background(), "dokstamp-fake", []string{"-students", "x"}, io.Discard, io.Discard)
	assert.Error(t, err)
	err = Run(context.Background(), "dokstamp-fake", []string{"extra"}, io.Discard, io.Discard)
	assert.Error(t, err)
}
