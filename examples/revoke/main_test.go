package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go"
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
	require.NoError(t, run(context.Background(), []string{"-reason", "Grade corrected after an appeal"}, &out))
	s := out.String()
	assert.True(t, strings.HasPrefix(s, "Using the embedded DokStamp test server"), s)
	assert.Regexp(t, `Issued certificate [0-9a-f-]{36} to Student 1, to revoke it\n`, s)

	url := regexp.MustCompile(`Before: issued, verification URL (https://\S+)\n`).FindStringSubmatch(s)
	require.Len(t, url, 2, s)
	assert.Contains(t, s, "  status:           revoked\n")
	assert.Contains(t, s, "  verification URL: "+url[1]+" (unchanged: true)\n")
	assert.Regexp(t, `  revoked at:       \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n`, s)
	assert.Contains(t, s, "  reason:           Grade corrected after an appeal\n")
}

func TestUnknownCertificate(t *testing.T) {
	embedded(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-certificate", "6f1f1d7e-3f0c-4c1a-9d6e-2b8f0e4c1a11"}, &out)
	require.Error(t, err)
	assert.ErrorIs(t, err, dokstamp.ErrNotFound)
	assert.NotContains(t, out.String(), "Revoked")
}
