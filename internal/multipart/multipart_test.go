package multipart

import (
	"bytes"
	"errors"
	"io"
	"mime"
	stdmultipart "mime/multipart"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func bytesPart(field, name, ct, content string) Part {
	return Part{Field: field, FileName: name, ContentType: ct,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
}

type parsedPart struct {
	field, name, ct, content string
}

func parse(t *testing.T, contentType string, body []byte) []parsedPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", mt)
	r := stdmultipart.NewReader(bytes.NewReader(body), params["boundary"])
	var out []parsedPart
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		out = append(out, parsedPart{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(b)})
	}
}

func TestBodyParsesBack(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 20000) // several copy buffers
	b := New([]Part{
		bytesPart("files[]", "a.pdf", "application/pdf", "%PDF-1.7\nA"),
		bytesPart("files[]", `we"ird\name.pdf`, "", big),
		bytesPart("files[]", "line\r\nbreak.png", "image/png", ""),
	})
	body, err := io.ReadAll(must(b.Open()))
	require.NoError(t, err)
	got := parse(t, b.ContentType(), body)
	require.Len(t, got, 3)
	assert.Equal(t, parsedPart{"files[]", "a.pdf", "application/pdf", "%PDF-1.7\nA"}, got[0])
	assert.Equal(t, "application/octet-stream", got[1].ct)
	assert.Equal(t, big, got[1].content)
	assert.Equal(t, `we"ird\name.pdf`, got[1].name)
	assert.Equal(t, "linebreak.png", got[2].name, "no header injection through a file name")
	assert.Empty(t, got[2].content)
}

func must(rc io.ReadCloser, err error) io.ReadCloser {
	if err != nil {
		panic(err)
	}
	return rc
}

func TestOpenTwiceSameBody(t *testing.T) {
	t.Parallel()
	opens := 0
	b := New([]Part{{Field: "files[]", FileName: "x.pdf", ContentType: "application/pdf", Open: func() (io.ReadCloser, error) {
		opens++
		return io.NopCloser(strings.NewReader("%PDF-1.4 body")), nil
	}}})
	first, err := io.ReadAll(must(b.Open()))
	require.NoError(t, err)
	second, err := io.ReadAll(must(b.Open()))
	require.NoError(t, err)
	assert.Equal(t, first, second, "a retry sends the same bytes, boundary included")
	assert.Equal(t, 2, opens, "each attempt reads the part anew")
	assert.Contains(t, b.ContentType(), "boundary=dokstamp-")
	assert.NotEqual(t, b.ContentType(), New(nil).ContentType(), "each body has its own boundary")
}

// endless is a part that never ends, and notes when it is closed.
type endless struct {
	closed atomic.Bool
	reads  atomic.Int32
}

func (e *endless) Read(p []byte) (int, error) {
	e.reads.Add(1)
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func (e *endless) Close() error { e.closed.Store(true); return nil }

func TestCloseEarlyStopsWriter(t *testing.T) {
	t.Parallel()
	src := &endless{}
	var wg sync.WaitGroup
	wg.Add(1)
	b := New([]Part{{Field: "files[]", FileName: "big.pdf", Open: func() (io.ReadCloser, error) {
		return closeNotifier{src, wg.Done}, nil
	}}})
	rc := must(b.Open())
	buf := make([]byte, 1000)
	_, err := io.ReadFull(rc, buf)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	wg.Wait() // the writer closed the part: it has stopped (goleak checks the goroutine is gone)
	assert.True(t, src.closed.Load())
}

type closeNotifier struct {
	*endless
	done func()
}

func (c closeNotifier) Close() error {
	err := c.endless.Close()
	c.done()
	return err
}

func TestOpenErrorSurfaces(t *testing.T) {
	t.Parallel()
	boom := errors.New("permission denied")
	b := New([]Part{
		bytesPart("files[]", "ok.pdf", "application/pdf", "%PDF-1.7"),
		{Field: "files[]", FileName: "locked.pdf", Open: func() (io.ReadCloser, error) { return nil, boom }},
	})
	_, err := io.ReadAll(must(b.Open()))
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), `open "locked.pdf"`)
}

type failingReader struct{ closed bool }

func (f *failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }
func (f *failingReader) Close() error             { f.closed = true; return nil }

func TestReadErrorSurfaces(t *testing.T) {
	t.Parallel()
	fr := &failingReader{}
	b := New([]Part{{Field: "files[]", FileName: "bad.pdf", Open: func() (io.ReadCloser, error) { return fr, nil }}})
	_, err := io.ReadAll(must(b.Open()))
	require.ErrorContains(t, err, `read "bad.pdf": disk gone`)
	assert.True(t, fr.closed)
}

func TestBrokenPartsDoNotPanic(t *testing.T) {
	t.Parallel()
	for _, p := range []Part{
		{Field: "files[]", FileName: "nil-open.pdf"},
		{Field: "files[]", FileName: "nil-reader.pdf", Open: func() (io.ReadCloser, error) { return nil, nil }},
	} {
		_, err := io.ReadAll(must(New([]Part{p}).Open()))
		assert.ErrorContains(t, err, p.FileName)
	}
}

func TestEmptyBody(t *testing.T) {
	t.Parallel()
	b := New(nil)
	body, err := io.ReadAll(must(b.Open()))
	require.NoError(t, err)
	assert.Empty(t, parse(t, b.ContentType(), body))
}
