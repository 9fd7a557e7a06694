package samplepdf

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewIsAWellFormedPDF(t *testing.T) {
	b := New("Acme University", "Diploma awarded to João (Jr.) \\ Ünal", "line 2 ✓")
	assert.Equal(t, "application/pdf", http.DetectContentType(b))
	assert.True(t, bytes.HasSuffix(b, []byte("%%EOF\n")))

	// startxref points at the xref table, and each entry at its object.
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(b)
	require.NotNil(t, m)
	xref, _ := strconv.Atoi(string(m[1]))
	require.True(t, bytes.HasPrefix(b[xref:], []byte("xref\n0 6\n")), "startxref %d", xref)
	entries := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(b[xref:], -1)
	require.Len(t, entries, 5)
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		assert.True(t, bytes.HasPrefix(b[off:], []byte(fmt.Sprintf("%d 0 obj\n", i+1))), "object %d at %d", i+1, off)
	}

	// The stream's /Length is its length.
	s := regexp.MustCompile(`(?s)<< /Length (\d+) >>\nstream\n(.*)endstream`).FindSubmatch(b)
	require.NotNil(t, s)
	n, _ := strconv.Atoi(string(s[1]))
	assert.Len(t, s[2], n)

	// Parentheses and backslashes are escaped, Latin-1 is octal, the rest '?'.
	assert.Contains(t, string(b), `(Diploma awarded to Jo\343o \(Jr.\) \\ \334nal) Tj`)
	assert.Contains(t, string(b), `(line 2 ?) Tj`)
}

func TestNewIsDeterministicAndDistinct(t *testing.T) {
	assert.Equal(t, New("A", "x"), New("A", "x"))
	assert.NotEqual(t, New("A", "x"), New("A", "y"))
}
