package dokstamp

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	pdfBytes = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
	pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
)

const file2UUID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"

func fileJSON(uuid, name, mimeType string, size int, usedAt string) string {
	used := "null"
	if usedAt != "" {
		used = `"` + usedAt + `"`
	}
	return `{"uuid":"` + uuid + `","original_name":"` + name + `","mime_type":"` + mimeType + `","extension":"` +
		strings.TrimPrefix(filepath.Ext(name), ".") + `","size":` + strconv.Itoa(size) + `,"used_at":` + used +
		`,"file":"https://storage.dokstamp.eu/files/` + uuid + `.pdf","created_at":"2024-11-30T09:15:00.000000Z"}`
}

type uploadedPart struct {
	field, name, contentType string
	content                  []byte
}

// expectUpload registers POST /files: it reads the multipart parts and answers reply.
func expectUpload(t *testing.T, mt *httpmock.MockTransport, status int, replyBody string) func() []uploadedPart {
	var parts []uploadedPart
	mt.RegisterResponder("POST", testBase+"/files", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		assert.Equal(t, "acme", r.Header.Get("X-Tenant"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "dokstamp-go/"))
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		assert.NoError(t, err)
		assert.Equal(t, "multipart/form-data", mt)
		assert.NotEmpty(t, params["boundary"])
		mr, err := r.MultipartReader()
		if !assert.NoError(t, err) {
			return reply(400, `{"message":"bad body"}`), nil
		}
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if !assert.NoError(t, err) {
				break
			}
			b, err := io.ReadAll(p)
			assert.NoError(t, err)
			parts = append(parts, uploadedPart{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), b})
		}
		return reply(status, replyBody), nil
	})
	return func() []uploadedPart { return parts }
}

func TestFilesUpload(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	parts := expectUpload(t, mt, 201, `{"data":[`+
		`{"uuid":"`+fileUUID+`","original_name":"maria-silva.pdf","mime_type":"application/pdf","size":62,"used_at":null},`+
		`{"uuid":"`+file2UUID+`","original_name":"badge.png","mime_type":"image/png","size":25,"used_at":"2024-12-01T00:00:00.000000Z"}]}`)
	files, err := c.Files.Upload(context.Background(), UploadBytes("maria-silva.pdf", pdfBytes), UploadBytes("badge.png", pngBytes))
	require.NoError(t, err)

	got := parts()
	require.Len(t, got, 2)
	assert.Equal(t, uploadedPart{"files[]", "maria-silva.pdf", "application/pdf", pdfBytes}, got[0])
	assert.Equal(t, uploadedPart{"files[]", "badge.png", "image/png", pngBytes}, got[1])

	require.Len(t, files, 2)
	assert.Equal(t, fileUUID, files[0].UUID)
	assert.Equal(t, "maria-silva.pdf", files[0].OriginalName)
	assert.Equal(t, int64(62), files[0].Size)
	assert.False(t, files[0].Used())
	assert.Equal(t, "image/png", files[1].MimeType)
	assert.True(t, files[1].Used())
	assert.Equal(t, time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), files[1].UsedAt.UTC())
}

func TestFilesUploadFile(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	path := filepath.Join(t.TempDir(), "diploma 2024.pdf")
	require.NoError(t, os.WriteFile(path, pdfBytes, 0o600))
	parts := expectUpload(t, mt, 201, `{"data":[`+fileJSON(fileUUID, "diploma 2024.pdf", "application/pdf", len(pdfBytes), "")+`]}`)
	files, err := c.Files.Upload(context.Background(), UploadFile(path))
	require.NoError(t, err)
	require.Len(t, parts(), 1)
	assert.Equal(t, "diploma 2024.pdf", parts()[0].name)
	assert.Equal(t, pdfBytes, parts()[0].content)
	require.Len(t, files, 1)
	assert.Equal(t, "https://storage.dokstamp.eu/files/"+fileUUID+".pdf", files[0].URL)
	assert.Equal(t, "pdf", files[0].Extension)
}

func TestFilesUploadRefusesBadUploads(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()

	_, err := c.Files.Upload(ctx)
	assert.ErrorContains(t, err, "no files")

	_, err = c.Files.Upload(ctx, UploadBytes("a.pdf", pdfBytes), UploadBytes("notes.txt", []byte("just some text, not a PDF")))
	assert.ErrorContains(t, err, "notes.txt")
	assert.ErrorContains(t, err, "text/plain")

	openErr := errors.New("permission denied")
	_, err = c.Files.Upload(ctx, Upload{Name: "locked.pdf", Open: func() (io.ReadCloser, error) { return nil, openErr }})
	assert.ErrorIs(t, err, openErr)
	assert.ErrorContains(t, err, "locked.pdf")

	_, err = c.Files.Upload(ctx, UploadFile(filepath.Join(t.TempDir(), "missing.pdf")))
	assert.ErrorIs(t, err, os.ErrNotExist)

	_, err = c.Files.Upload(ctx, UploadBytes("empty.pdf", nil))
	assert.ErrorContains(t, err, "empty")

	_, err = c.Files.Upload(ctx, Upload{Name: "x.pdf"})
	assert.ErrorContains(t, err, "nil Open")

	_, err = c.Files.Upload(ctx, UploadBytes("", pdfBytes))
	assert.ErrorContains(t, err, "empty name")

	assert.Zero(t, mt.GetTotalCallCount())
}

func TestFilesUploadRecordCountMismatch(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectUpload(t, mt, 201, `{"data":[`+fileJSON(fileUUID, "a.pdf", "application/pdf", 10, "")+`]}`)
	files, err := c.Files.Upload(context.Background(), UploadBytes("a.pdf", pdfBytes), UploadBytes("b.pdf", append([]byte{}, pdfBytes...)))
	assert.ErrorContains(t, err, "sent 2 files")
	assert.Len(t, files, 1)
}

func TestFilesUploadGarbledAnswer(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectUpload(t, mt, 201, `<html>oops</html>`)
	_, err := c.Files.Upload(context.Background(), UploadBytes("a.pdf", pdfBytes))
	var de *DecodeError
	assert.ErrorAs(t, err, &de)
}

func TestFilesGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/files/" + fileUUID,
		Reply: dataReply(fileJSON(fileUUID, "maria-silva.pdf", "application/pdf", 48213, "2024-12-01T00:00:00.000000Z"))})
	f, err := c.Files.Get(context.Background(), fileUUID)
	require.NoError(t, err)
	assert.Equal(t, "maria-silva.pdf", f.OriginalName)
	assert.Equal(t, "application/pdf", f.MimeType)
	assert.Equal(t, int64(48213), f.Size)
	assert.True(t, f.Used())
	assert.Equal(t, time.Date(2024, 11, 30, 9, 15, 0, 0, time.UTC), f.CreatedAt.UTC())
}

func TestFilesUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/files/" + fileUUID, Body: `{"original_name":"renamed.pdf"}`,
		Reply: dataReply(fileJSON(fileUUID, "renamed.pdf", "application/pdf", 10, ""))})
	f, err := c.Files.Update(context.Background(), fileUUID, &FileUpdateParams{OriginalName: "renamed.pdf"})
	require.NoError(t, err)
	assert.Equal(t, "renamed.pdf", f.OriginalName)
	assert.False(t, f.Used())
}

func TestFilesList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/files", Query: q("per_page", "2"),
		Reply: listReply(1, 5, 10, fileJSON(fileUUID, "a.pdf", "application/pdf", 1, ""),
			fileJSON(file2UUID, "b.pdf", "application/pdf", 2, "2024-12-01T00:00:00.000000Z"))})
	page, err := c.Files.List(context.Background(), &ListOptions{PerPage: 2})
	require.NoError(t, err)
	assert.Equal(t, 5, page.Meta.LastPage)
	require.Len(t, page.Data, 2)
	assert.Equal(t, "b.pdf", page.Data[1].OriginalName)
	assert.True(t, page.Data[1].Used())
}

func TestFilesAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/files", nil,
		listReply(1, 2, 2, fileJSON(fileUUID, "a.pdf", "application/pdf", 1, "")),
		listReply(2, 2, 2, fileJSON(file2UUID, "b.pdf", "application/pdf", 2, "")))
	var names []string
	for f, err := range c.Files.All(context.Background(), nil) {
		require.NoError(t, err)
		names = append(names, f.OriginalName)
	}
	assert.Equal(t, []string{"a.pdf", "b.pdf"}, names)
}

func TestFilesUnused(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/files", q("where[used_at]", "null", "where[mime_type]", "application/pdf", "per_page", "200"),
		listReply(1, 1, 1, fileJSON(fileUUID, "a.pdf", "application/pdf", 1, "")))
	var got []string
	// A caller's own used_at filter cannot turn Unused into something else.
	opts := &ListOptions{PerPage: 200, Where: map[string]string{"used_at": "2024-01-01", "mime_type": "application/pdf"}}
	for f, err := range c.Files.Unused(context.Background(), opts) {
		require.NoError(t, err)
		got = append(got, f.UUID)
	}
	assert.Equal(t, []string{fileUUID}, got)
	assert.Equal(t, "2024-01-01", opts.Where["used_at"], "the caller's options are not modified")
}

func TestFilesDownload(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/files/"+fileUUID+"/download", func(r *http.Request) (*http.Response, error) {
		assert.Empty(t, r.Header.Get("Authorization"))
		assert.Empty(t, r.Header.Get("X-Tenant"))
		assert.Equal(t, "*/*", r.Header.Get("Accept"))
		assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "dokstamp-go/"))
		resp := httpmock.NewBytesResponse(200, pdfBytes)
		resp.Header.Set("Content-Type", "application/pdf")
		return resp, nil
	})
	rc, err := c.Files.Download(context.Background(), fileUUID)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, pdfBytes, b)
}

func TestFilesDownloadNotFound(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/files/" + fileUUID + "/download", Public: true, Status: 404,
		Reply: `{"success":false,"message":"Resource not found."}`})
	rc, err := c.Files.Download(context.Background(), fileUUID)
	assert.Nil(t, rc)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestFilesRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get":      func(id string) error { _, err := c.Files.Get(ctx, id); return err },
		"Update":   func(id string) error { _, err := c.Files.Update(ctx, id, &FileUpdateParams{}); return err },
		"Delete":   func(id string) error { return c.Files.Delete(ctx, id) },
		"Download": func(id string) error { _, err := c.Files.Download(ctx, id); return err },
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
	_, err := c.Files.Update(ctx, fileUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestFilesGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/files/" + fileUUID, Reply: body})
			f, err := c.Files.Get(context.Background(), fileUUID)
			assert.Nil(t, f)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
