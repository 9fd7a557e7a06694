package dokstamptest

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUploadDedupAndDownload(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)

	_, list := a.upload(http.StatusCreated,
		[2]string{"diploma-1.pdf", string(pdf("one"))},
		[2]string{"badge.png", string(pngBytes)},
		[2]string{"diploma-2.pdf", string(pdf("two"))},
	)
	require.Len(t, list, 3)
	f0 := list[0].(map[string]any)
	assert.Equal(t, []string{"extension", "file", "mime_type", "original_name", "size", "used_at", "uuid"}, keys(f0))
	assert.Equal(t, "diploma-1.pdf", f0["original_name"])
	assert.Equal(t, "application/pdf", f0["mime_type"])
	assert.Equal(t, "pdf", f0["extension"])
	assert.EqualValues(t, len(pdf("one")), f0["size"])
	assert.Nil(t, f0["used_at"])
	assert.Equal(t, srv.URL+"/files/"+f0["uuid"].(string)+"/download", f0["file"])
	assert.Equal(t, "image/png", list[1].(map[string]any)["mime_type"])
	assert.Equal(t, "diploma-2.pdf", list[2].(map[string]any)["original_name"])

	// Same bytes, another name: the existing record, with its original name.
	_, again := a.upload(http.StatusCreated, [2]string{"renamed.pdf", string(pdf("one"))})
	require.Len(t, again, 1)
	assert.Equal(t, f0, again[0])
	assert.Len(t, srv.Files(), 3)

	// Download is public and returns the bytes.
	resp, body := a.with("", "").do(http.MethodGet, "/files/"+f0["uuid"].(string)+"/download", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, pdf("one"), body)
	assert.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename=diploma-1.pdf`, resp.Header.Get("Content-Disposition"))
	resp, _ = a.with("", "").do(http.MethodGet, "/files/"+newUUID()+"/download", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// where[used_at]=null lists the unused ones.
	a.call(http.MethodPost, "/certificates", a.certBody(0, f0["uuid"].(string), nil), http.StatusCreated)
	unused := a.call(http.MethodGet, "/files?where[used_at]=null", nil, http.StatusOK)
	assert.Len(t, unused["data"], 2)
	for _, f := range unused["data"].([]any) {
		assert.NotEqual(t, f0["uuid"], f.(map[string]any)["uuid"])
	}

	// Used files cannot be deleted; unused ones can.
	a.call(http.MethodDelete, "/files/"+f0["uuid"].(string), nil, http.StatusUnprocessableEntity)
	png := list[1].(map[string]any)["uuid"].(string)
	a.call(http.MethodDelete, "/files/"+png, nil, http.StatusNoContent)
	resp, _ = a.with("", "").do(http.MethodGet, "/files/"+png+"/download", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestUploadRejects(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithMaxUploadFiles(2))
	a := newAPI(t, srv)

	m, _ := a.upload(http.StatusUnprocessableEntity,
		[2]string{"ok.pdf", string(pdf("ok"))},
		[2]string{"notes.txt", "just some text"},
	)
	assert.Equal(t, []any{"The files.1 must be a file of type: pdf, png, jpg."}, errorsOf(t, m)["files.1"])
	assert.Empty(t, srv.Files(), "a refused upload stores nothing")

	m, _ = a.upload(http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "files")

	m, _ = a.upload(http.StatusUnprocessableEntity,
		[2]string{"1.pdf", string(pdf("1"))}, [2]string{"2.pdf", string(pdf("2"))}, [2]string{"3.pdf", string(pdf("3"))})
	assert.Contains(t, errorsOf(t, m), "files")

	// Not multipart at all.
	m = a.call(http.MethodPost, "/files", map[string]any{"files": []string{"x"}}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "files")
}

// TestUploadStreams checks that a large upload streams through: the handler
// reads parts as they come (a pipe would block forever if it buffered the
// whole form before answering... it does not, since it never needs to).
func TestUploadLarge(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	big := append(pdf("big"), bytes.Repeat([]byte("x"), 8<<20)...)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("files[]", "big.pdf")
		for off := 0; off < len(big); off += 64 << 10 {
			_, _ = w.Write(big[off:min(len(big), off+64<<10)])
		}
		_ = pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/files", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("X-Tenant", srv.Tenant)
	resp, err := a.hc.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Len(t, srv.Files(), 1)
	assert.Equal(t, len(big), srv.Files()[0].Size)
}
