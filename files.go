package dokstamp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dokstamp/dokstamp-go/internal/multipart"
)

// FilesService uploads and reads files: the PDFs certificates are bound to, and badge images.
type FilesService service

// File is an uploaded file. Each file can back one certificate; UsedAt is set once it does.
type File struct {
	UUID         string     `json:"uuid"`
	OriginalName string     `json:"original_name"`
	MimeType     string     `json:"mime_type"`
	Extension    string     `json:"extension,omitempty"`
	Size         int64      `json:"size"`
	UsedAt       *time.Time `json:"used_at"`
	// URL is the direct download address (the API's "file" field).
	URL       string    `json:"file,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Used reports whether the file already backs a certificate.
func (f *File) Used() bool { return f.UsedAt != nil }

// Upload is one file to send. Open is called once per attempt (uploads are retried), and once
// more before the request to check the content; every reader it returns is closed.
type Upload struct {
	Name string
	Open func() (io.ReadCloser, error)
	// Size is the content's length in bytes, when known (0: unknown). c.Batch.Issue uses it to
	// bound the bytes of each upload request; UploadFile and UploadBytes set it.
	Size int64

	path string // the local file, for UploadFile: lets c.Batch.Issue spot a file given twice
}

// UploadFile uploads the file at path under its base name. Its size is read now (os.Stat); a
// missing file is reported when the upload opens it.
func UploadFile(path string) Upload {
	u := Upload{Name: filepath.Base(path), Open: func() (io.ReadCloser, error) { return os.Open(path) }, path: path}
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		u.Size = fi.Size()
	}
	if abs, err := filepath.Abs(path); err == nil {
		u.path = abs
	}
	return u
}

// UploadBytes uploads b under name.
func UploadBytes(name string, b []byte) Upload {
	return Upload{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, Size: int64(len(b))}
}

// acceptedTypes are the contents DokStamp takes: PDFs, and PNG or JPEG badge images.
var acceptedTypes = map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true}

// sniff opens u and reads the start of its content to tell its type.
func (u Upload) sniff() (string, error) {
	if u.Name == "" {
		return "", errors.New("empty name")
	}
	if u.Open == nil {
		return "", errors.New("nil Open")
	}
	rc, err := u.Open()
	if err != nil {
		return "", err
	}
	if rc == nil {
		return "", errors.New("open returned no reader")
	}
	defer rc.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	if n == 0 {
		return "", errors.New("empty content")
	}
	ct := http.DetectContentType(head[:n])
	if !acceptedTypes[ct] {
		return "", fmt.Errorf("content is %s; DokStamp accepts PDF, PNG and JPEG", ct)
	}
	return ct, nil
}

// Upload sends the uploads in one multipart request, one files[] part each, streamed from their
// readers (never held in memory whole), and returns the file records in the same order. Each
// upload is opened first to check that it exists and is a PDF, PNG or JPEG; nothing is sent when
// one is not. The server de-duplicates by content: a byte-identical file comes back as the
// existing record, which may already be used. Uploads are retried like reads (package doc,
// "Retries and duplicates").
//
// API: POST /files
func (s *FilesService) Upload(ctx context.Context, uploads ...Upload) ([]File, error) {
	return s.UploadWith(ctx, uploads)
}

// UploadWith is Upload with per-call options (Upload's own list of uploads is variadic, so the
// options come here).
//
// API: POST /files
func (s *FilesService) UploadWith(ctx context.Context, uploads []Upload, opts ...RequestOption) ([]File, error) {
	if len(uploads) == 0 {
		return nil, errors.New("dokstamp: upload: no files")
	}
	parts := make([]multipart.Part, len(uploads))
	for i, u := range uploads {
		ct, err := u.sniff()
		if err != nil {
			return nil, errorf("upload %q: %w", u.Name, err)
		}
		parts[i] = multipart.Part{Field: "files[]", FileName: u.Name, ContentType: ct, Open: u.Open}
	}
	body := multipart.New(parts)
	env := uploadAnswer{sent: len(uploads)}
	r := &request{method: "POST", path: "/files", body: &streamBody{contentType: body.ContentType(), open: body.Open}, class: retryIdempotent, opts: opts}
	if err := s.c.call(ctx, r, &env); err != nil {
		if env.Data != nil && len(env.Data) != len(uploads) {
			return env.Data, err // the records that did come back, with the *DecodeError
		}
		return nil, err
	}
	return env.Data, nil
}

// uploadAnswer is POST /files's answer: one record per file sent, in order.
type uploadAnswer struct {
	Data []File `json:"data"`
	sent int
}

func (a *uploadAnswer) complete() error {
	if len(a.Data) != a.sent {
		return fmt.Errorf("sent %d files, the server answered %d records", a.sent, len(a.Data))
	}
	return nil
}

// Get returns a file's metadata.
//
// API: GET /files/{uuid}
func (s *FilesService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*File, error) {
	return getByUUID[File](ctx, s.c, "file", "files", uuid, opts...)
}

// FileUpdateParams are the file fields that can be changed.
type FileUpdateParams struct {
	OriginalName string `json:"original_name,omitempty"`
}

// Update changes a file's metadata. The route is inferred from the docs' headings.
//
// API: PATCH /files/{uuid}
func (s *FilesService) Update(ctx context.Context, uuid string, p *FileUpdateParams, opts ...RequestOption) (*File, error) {
	return updateByUUID[File](ctx, s.c, "file", "files", uuid, p, opts...)
}

// Delete soft-deletes a file. The route is inferred from the docs' headings.
//
// API: DELETE /files/{uuid}
func (s *FilesService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "file", "files", uuid, opts...)
}

// List returns one page of files.
//
// API: GET /files
func (s *FilesService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[File], error) {
	return listPage[File](ctx, s.c, "/files", list, opts...)
}

// All iterates over every file, page by page.
//
// API: GET /files
func (s *FilesService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[File, error] {
	return listAll[File](ctx, s.c, "/files", list, opts...)
}

// Unused iterates over the files no certificate uses yet (where[used_at]=null), with list's
// other filters.
//
// API: GET /files
func (s *FilesService) Unused(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[File, error] {
	var o ListOptions
	if list != nil {
		o = *list
	}
	where := map[string]string{"used_at": "null"}
	for k, v := range o.Where {
		if k != "used_at" {
			where[k] = v
		}
	}
	o.Where = where
	return listAll[File](ctx, s.c, "/files", &o, opts...)
}

// Download opens a file's content. The route is public: no token is sent, so the link can be
// shared with signers, students and employers. The caller closes the reader.
//
// API: GET /files/{uuid}/download
func (s *FilesService) Download(ctx context.Context, uuid string, opts ...RequestOption) (io.ReadCloser, error) {
	if err := checkUUID("file uuid", uuid); err != nil {
		return nil, err
	}
	resp, _, err := s.c.send(ctx, &request{method: "GET", path: pathOf("files", uuid, "download"), public: true, accept: "*/*", opts: opts})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
