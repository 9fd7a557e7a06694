package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go/examples/internal/exampleenv"
)

func embedded(t *testing.T) {
	for _, k := range exampleenv.Vars {
		t.Setenv(k, "")
	}
}

func TestRun(t *testing.T) {
	embedded(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	s := out.String()
	assert.True(t, strings.HasPrefix(s, "Using the embedded DokStamp test server"), s)
	assert.Regexp(t, `Document type \d+ "Diploma supplement" created\n`, s)
	assert.Contains(t, s, "Uploaded 3 PDFs\n")
	assert.Len(t, regexp.MustCompile(`  document \d+ "supplement-\d.pdf": pending\n`).FindAllString(s, -1), 3)
	assert.Contains(t, s, "Signature requests re-sent for 3 documents\n")
	assert.Regexp(t, `Signed 3 documents with certificate \d+ \(PIN not shown\)\n`, s)
	assert.Len(t, regexp.MustCompile(`  document \d+: signed\n`).FindAllString(s, -1), 3)
	// The seeded PIN is six digits; nothing printed is.
	assert.NotRegexp(t, `\b\d{6}\b`, s)
}

func TestOwnFiles(t *testing.T) {
	embedded(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pdf"), filepath.Join(dir, "b.pdf")
	require.NoError(t, os.WriteFile(a, []byte("%PDF-1.4\n% a\n%%EOF\n"), 0o644))
	require.NoError(t, os.WriteFile(b, []byte("%PDF-1.4\n% b\n%%EOF\n"), 0o644))
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-type", "Transcript", a, b}, &out))
	assert.Contains(t, out.String(), `"Transcript" created`)
	assert.Contains(t, out.String(), `"a.pdf": pending`)
	assert.Contains(t, out.String(), "Signed 2 documents")

	err := run(context.Background(), []string{filepath.Join(dir, "missing.pdf")}, &out)
	assert.ErrorContains(t, err, "missing.pdf")
}

func TestWrongPINIsNotShown(t *testing.T) {
	embedded(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-pin", "917364"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "The PIN is invalid.")
	assert.NotContains(t, err.Error(), "917364")
	assert.NotContains(t, out.String(), "917364")
	assert.NotContains(t, out.String(), "Signed")
}
