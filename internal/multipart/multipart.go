// Package multipart streams multipart/form-data bodies through an io.Pipe, so that uploads of any
// size use a fixed amount of memory, and re-opens them for each retry.
package multipart

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"sync"
)

// Part is one file part of the body.
type Part struct {
	Field       string // form field name, e.g. "files[]"
	FileName    string
	ContentType string
	Open        func() (io.ReadCloser, error)
}

// Body is a multipart body that can be produced any number of times with the same boundary.
type Body struct {
	parts    []Part
	boundary string
}

// New returns a Body over parts. It does not open them.
func New(parts []Part) *Body {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &Body{parts: parts, boundary: "dokstamp-" + hex.EncodeToString(b[:])}
}

// ContentType is the request's Content-Type, boundary included.
func (b *Body) ContentType() string { return "multipart/form-data; boundary=" + b.boundary }

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// Open starts writing the body into a pipe and returns its reading end. Closing the reader stops
// the writer, which then closes the part it was reading: no goroutine outlives the request.
// A part that cannot be opened or read ends the body with that error.
func (b *Body) Open() (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(b.write(pw))
	}()
	return pr, nil
}

func (b *Body) write(w io.Writer) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(b.boundary); err != nil {
		return err
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	for _, p := range b.parts {
		h := make(textproto.MIMEHeader, 2)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`,
			quoteEscaper.Replace(p.Field), quoteEscaper.Replace(p.FileName)))
		ct := p.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if p.Open == nil {
			return fmt.Errorf("open %q: no Open function", p.FileName)
		}
		rc, err := p.Open()
		if err != nil {
			return fmt.Errorf("open %q: %w", p.FileName, err)
		}
		if rc == nil {
			return fmt.Errorf("open %q: no reader", p.FileName)
		}
		_, err = io.CopyBuffer(onlyWriter{pw}, onlyReader{rc}, *bufp)
		rc.Close()
		if err != nil {
			return fmt.Errorf("read %q: %w", p.FileName, err)
		}
	}
	return mw.Close()
}

// onlyReader and onlyWriter hide ReadFrom/WriteTo so that CopyBuffer uses the pooled buffer.
type onlyReader struct{ io.Reader }
type onlyWriter struct{ io.Writer }
