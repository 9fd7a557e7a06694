package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go/examples/internal/exampleenv"
)

func TestRun(t *testing.T) {
	for _, k := range exampleenv.Vars {
		t.Setenv(k, "")
	}
	// A small page size makes both listings take several pages.
	for _, perPage := range []string{"2", "100"} {
		t.Run("per-page="+perPage, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run(context.Background(), []string{"-per-page", perPage}, &out))
			s := out.String()
			assert.True(t, strings.HasPrefix(s, "Using the embedded DokStamp test server"), s)
			assert.Contains(t, s, "Course: Computer Science (")
			assert.Contains(t, s, "Certificates on the course: 2 valid, 1 revoked\n")
			assert.Contains(t, s, "Completed enrollments: 8 (2 with a certificate, 6 without)\n")
			assert.NotContains(t, s, "Still Studying", "an enrollment not completed is not listed")

			with, without, ok := strings.Cut(s, "Without a certificate (6), to issue:\n")
			require.True(t, ok, s)
			assert.Equal(t, 2, strings.Count(with, "  certificate "), with)
			assert.Regexp(t, regexp.MustCompile(`Student 1 +[0-9a-f-]{36}  certificate [0-9a-f-]{36} \(issued\)`), with)
			assert.Regexp(t, regexp.MustCompile(`Student 3 +[0-9a-f-]{36}  certificate [0-9a-f-]{36} \(issued\)`), with)
			lines := strings.Split(strings.TrimSpace(without), "\n")
			require.Len(t, lines, 6)
			for i, name := range []string{"Student 2", "Student 4", "Student 5", "Student 6", "Student 7", "Student 8"} {
				assert.True(t, strings.HasPrefix(strings.TrimSpace(lines[i]), name+" "), lines[i])
				assert.Contains(t, lines[i], " enrollment ")
			}
			assert.Contains(t, lines[3], "(its certificate was revoked)")
		})
	}
}

func TestBadFlags(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorContains(t, run(context.Background(), []string{"-per-page", "0"}, &out), "-per-page must be at least 1")
	assert.ErrorContains(t, run(context.Background(), []string{"-x"}, &out), "not defined: -x")
}
