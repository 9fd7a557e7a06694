package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, io.Discard, &errOut))
	assert.Contains(t, errOut.String(), "-addr")

	errOut.Reset()
	assert.Equal(t, 2, run(context.Background(), []string{"extra"}, io.Discard, &errOut))
	assert.True(t, strings.HasPrefix(errOut.String(), "dokstamp-fake: unexpected arguments"), errOut.String())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	assert.Equal(t, 0, run(ctx, []string{"-addr", "127.0.0.1:0", "-students", "1"}, &out, io.Discard))
	assert.Contains(t, out.String(), "shutting down")
}
