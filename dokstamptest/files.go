package dokstamptest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type fileJSON struct {
	UUID         string  `json:"uuid"`
	OriginalName string  `json:"original_name"`
	MimeType     string  `json:"mime_type"`
	Extension    string  `json:"extension"`
	Size         int     `json:"size"`
	UsedAt       *string `json:"used_at"`
	File         string  `json:"file"`
}

type file struct {
	rec
	name    string
	mime    string
	ext     string
	content []byte
	sum     [sha256.Size]byte
	usedAt  time.Time
}

func (e *file) view(s *Server) any {
	return fileJSON{
		UUID:         e.uuid,
		OriginalName: e.name,
		MimeType:     e.mime,
		Extension:    e.ext,
		Size:         len(e.content),
		UsedAt:       stampPtr(e.usedAt),
		File:         s.URL + "/files/" + e.uuid + "/download",
	}
}

// allowedTypes maps accepted detected content types to their extension.
var allowedTypes = map[string]string{
	"application/pdf": "pdf",
	"image/png":       "png",
	"image/jpeg":      "jpg",
}

type fileParams struct {
	OriginalName *string `json:"original_name"`
}

type upload struct {
	name    string
	mime    string
	content []byte
	sum     [sha256.Size]byte
}

func (s *Server) registerFiles() {
	register(s, resource[fileParams]{
		path: "/files",
		tbl:  func(t *tenant) *table { return t.files },
		update: func(c *call, e entity, p *fileParams, v *validator) {
			v.str("original_name", p.OriginalName, p.OriginalName != nil, 255)
			if v.ok() {
				setStr(&e.(*file).name, p.OriginalName)
			}
		},
		blocked: func(t *tenant, victims map[string]entity) string {
			for _, e := range victims {
				if !e.(*file).usedAt.IsZero() {
					return "The file is attached to a certificate and cannot be deleted."
				}
			}
			return ""
		},
	})
	s.handle("POST /files", scopeTenant, s.uploadFiles)
	s.handle("GET /files/{uuid}/download", scopePublic, s.downloadFile)
}

// uploadFiles reads the multipart body part by part, never holding more
// than the parts themselves.
func (s *Server) uploadFiles(c *call) {
	// On an early refusal, read what is left so the client can read the
	// answer on a healthy connection.
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(c.r.Body, 256<<20)) }()
	mr, err := c.r.MultipartReader()
	if err != nil {
		c.invalidField("files", "The files field is required.")
		return
	}
	var ups []upload
	var v validator
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.fail(http.StatusBadRequest, "Malformed request body.")
			return
		}
		if name := part.FormName(); name != "files[]" && name != "files" {
			_, _ = io.Copy(io.Discard, part)
			_ = part.Close()
			continue
		}
		if len(ups) == s.cfg.maxUpload {
			c.invalidField("files", "The files may not have more than "+strconv.Itoa(s.cfg.maxUpload)+" items.")
			return
		}
		field := "files." + strconv.Itoa(len(ups))
		h := sha256.New()
		content, err := io.ReadAll(io.TeeReader(io.LimitReader(part, s.cfg.maxFileSize+1), h))
		_ = part.Close()
		if err != nil {
			c.fail(http.StatusBadRequest, "Malformed request body.")
			return
		}
		u := upload{name: part.FileName(), content: content}
		copy(u.sum[:], h.Sum(nil))
		u.mime, _, _ = strings.Cut(http.DetectContentType(content), ";")
		switch {
		case int64(len(content)) > s.cfg.maxFileSize:
			v.add(field, "The "+field+" may not be greater than "+strconv.FormatInt(s.cfg.maxFileSize>>10, 10)+" kilobytes.")
		case allowedTypes[u.mime] == "":
			v.add(field, "The "+field+" must be a file of type: pdf, png, jpg.")
		}
		ups = append(ups, u)
	}
	if len(ups) == 0 {
		v.requiredMsg("files")
	}
	if !v.ok() {
		c.invalid(v.errs)
		return
	}
	s.mu.Lock()
	out := make([]any, 0, len(ups))
	for _, u := range ups {
		f := c.t.fileByHash[u.sum]
		if f == nil || !f.deleted.IsZero() {
			f = &file{rec: s.newRec(c.t), name: u.name, mime: u.mime, ext: allowedTypes[u.mime], content: u.content, sum: u.sum}
			c.t.files.add(f)
			c.t.fileByHash[u.sum] = f
			s.files[f.uuid] = f
		}
		out = append(out, f.view(s))
	}
	s.mu.Unlock()
	c.data(http.StatusCreated, out)
}

// downloadFile is public: the file uuid is global, no tenant is needed.
func (s *Server) downloadFile(c *call) {
	s.mu.RLock()
	f := s.files[strings.ToLower(c.r.PathValue("uuid"))]
	if f == nil || !f.deleted.IsZero() {
		s.mu.RUnlock()
		c.notFound()
		return
	}
	content, name, ctype := f.content, f.name, f.mime
	s.mu.RUnlock()
	if name == "" {
		name = f.uuid + "." + f.ext
	}
	c.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.status, c.raw, c.ctype = http.StatusOK, content, ctype
}

// File is an uploaded file as the server holds it, for inspection in tests.
type File struct {
	UUID         string
	OriginalName string
	MimeType     string
	Size         int
	SHA256       string    // hex
	UsedAt       time.Time // zero while unused
}

// Files returns the default tenant's live files in upload order.
func (s *Server) Files() []File {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []File
	if t := s.tenants[s.Tenant]; t != nil {
		t.files.live(func(en entity) {
			f := en.(*file)
			out = append(out, File{UUID: f.uuid, OriginalName: f.name, MimeType: f.mime, Size: len(f.content),
				SHA256: hex.EncodeToString(f.sum[:]), UsedAt: f.usedAt})
		})
	}
	return out
}
