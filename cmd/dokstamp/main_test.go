package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// TestInterruptExitsWith130 stops an issue run mid-way, as Ctrl-C does (the context is
// cancelled), and checks the exit code and the message: the scripts can only see that a
// background command failed, not its code.
func TestInterruptExitsWith130(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(4))
	g := newGate(srv.URL)
	front := httptest.NewServer(g)
	t.Cleanup(func() { g.release(0); front.Close() })
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	require.NoError(t, saveConfig(cfg, &config{Profiles: map[string]*profile{
		"t": {BaseURL: front.URL, Tenant: srv.Tenant, Token: srv.Token}}}))
	manifest := "student,pdf\n"
	for i := 1; i <= 4; i++ {
		name := fmt.Sprintf("p%d.pdf", i)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "%%PDF-1.4\n%% %d\n%%%%EOF\n", i), 0o644))
		manifest += fmt.Sprintf("student%d@acme-university.test,%s\n", i, name)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "grads.csv"), []byte(manifest), 0o644))

	g.hold(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--config", cfg, "--profile", "t", "issue", "--manifest", filepath.Join(dir, "grads.csv"),
			"--course", "CS", "--concurrency", "1"}, stdio{in: strings.NewReader(""), out: &out, err: &errOut}, func(string) string { return "" })
	}()
	select {
	case <-g.heldN(1):
	case <-time.After(20 * time.Second):
		t.Fatal("no creation held")
	}
	cancel()
	select {
	case c := <-code:
		assert.Equal(t, exitInterrupted, c, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not stop")
	}
	assert.Contains(t, errOut.String(), "Interrupted: 1 of 4 rows done")
	assert.Contains(t, errOut.String(), "run the same command again")
}

func TestExitCodeOf(t *testing.T) {
	t.Parallel()
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{live, fmt.Errorf("x"), exitError},
		{live, usageErrorf("bad"), exitUsage},
		{live, fmt.Errorf("unknown command %q for %q", "x", "dokstamp"), exitUsage},
		{live, fmt.Errorf("list: %w", &dokstamp.Error{StatusCode: 401}), exitAuth},
		{live, fmt.Errorf("list: %w", &dokstamp.Error{StatusCode: 403}), exitAuth},
		{live, errNoCredentials, exitAuth},
		{live, &quietError{code: exitSomeInDoubt}, exitSomeInDoubt},
		{live, withExit(exitSomeFailed, fmt.Errorf("x")), exitSomeFailed},
		{stopped, fmt.Errorf("get: %w", context.Canceled), exitInterrupted},
		{live, fmt.Errorf("get: %w", context.Canceled), exitError},
	} {
		assert.Equal(t, tc.want, exitCodeOf(tc.ctx, tc.err), "%v", tc.err)
	}
}

func TestParseManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pdf := filepath.Join(dir, "a.pdf")
	require.NoError(t, os.WriteFile(pdf, []byte("%PDF-1.4\n%%EOF\n"), 0o644))
	for _, tc := range []struct {
		name, in string
		comma    rune
		student  string
	}{
		{"comma", "student,pdf\nana@x.example,a.pdf\n", ',', "ana@x.example"},
		{"semicolon with BOM and CRLF", "\ufeffPDF;Nome;E-mail\r\na.pdf;Ana, Maria;ana@x.example\r\n", ';', "ana@x.example"},
		{"tab", "email\tfile\nana@x.example\ta.pdf\n", '\t', "ana@x.example"},
		{"uuid column", "Student UUID,Diploma\n0f8fad5b-d9cb-469f-a165-70867728950e,a.pdf\n", ',', "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{"spreadsheet's blank trailing lines", "student;pdf\nana@x.example;a.pdf\n;\n ; \n", ';', "ana@x.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseManifest(filepath.Join(dir, "m.csv"), []byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.comma, m.comma)
			require.Len(t, m.rows, 1)
			assert.Equal(t, tc.student, m.rows[0].student)
			assert.Equal(t, pdf, m.rows[0].pdf)
			assert.Empty(t, m.rows[0].problem)
			assert.Equal(t, 2, m.rows[0].line)
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"name,pdf\nAna,a.pdf\n", "no student column"},
		{"student\nana@x.example\n", "no pdf column"},
		{"student,email,pdf\na@x.example,b@x.example,a.pdf\n", `columns "student" and "email" both give the student`},
		{"student,pdf\n", "no graduates"},
		{"student,pdf\n\"ana@x.example,a.pdf\n", "m.csv:2: "},
	} {
		_, err := parseManifest(filepath.Join(dir, "m.csv"), []byte(tc.in))
		assert.ErrorContains(t, err, tc.want, "%q", tc.in)
	}
}

// TestPrintFormats checks that -o json and -o ndjson give back the values and csv the cells.
func TestPrintFormats(t *testing.T) {
	t.Parallel()
	l := &listing{headers: []string{"uuid", "name"}}
	l.add(map[string]string{"uuid": "u1", "name": "Ana"}, "u1", "Ana")
	l.add(map[string]string{"uuid": "u2", "name": "Bo, Jr"}, "u2", "Bo, Jr")
	var b bytes.Buffer
	a := &app{output: "json"}
	require.NoError(t, a.printTo(&b, l, false))
	var got []map[string]string
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "Bo, Jr", got[1]["name"])

	b.Reset()
	a.output = "ndjson"
	require.NoError(t, a.printTo(&b, l, false))
	assert.Equal(t, "{\"name\":\"Ana\",\"uuid\":\"u1\"}\n{\"name\":\"Bo, Jr\",\"uuid\":\"u2\"}\n", b.String())

	b.Reset()
	a.output, a.noHeader = "csv", true
	require.NoError(t, a.printTo(&b, l, false))
	assert.Equal(t, "u1,Ana\nu2,\"Bo, Jr\"\n", b.String())

	b.Reset()
	a.output, a.noHeader = "table", false
	require.NoError(t, a.printTo(&b, &listing{headers: []string{"A", "B"}, rows: [][]string{{"x\ty", ""}}}, false))
	assert.Equal(t, "A    B\nx y  -\n", b.String())
}
