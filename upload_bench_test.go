package dokstamp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

const coreUploadSize = 64 << 20

// coreGenerated produces size bytes of PDF-looking content on the fly: nothing is held in memory.
type coreGenerated struct {
	off, size int64
}

const corePDFHead = "%PDF-1.7\n"

func (g *coreGenerated) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), g.size-g.off))
	for i := range n {
		o := g.off + int64(i)
		if o < int64(len(corePDFHead)) {
			p[i] = corePDFHead[o]
		} else {
			p[i] = byte('a' + o%26)
		}
	}
	g.off += int64(n)
	return n, nil
}

func (g *coreGenerated) Close() error { return nil }

// BenchmarkUpload streams a 64 MiB file through c.Files.Upload to a server that discards it.
// The memory a single upload costs must stay far below the file's size (target: < 4 MiB).
func BenchmarkUpload(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil || n < coreUploadSize {
			http.Error(w, "short body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"data":[{"uuid":"6f1d2c3b-4a59-4e7f-9b8a-0c1d2e3f4a5b","original_name":"diploma.pdf","mime_type":"application/pdf","size":67108864,"used_at":null}]}`)
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	c, err := NewClient(WithTenant("bench"), WithToken("bench-token"), WithBaseURL(srv.URL), WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	up := Upload{Name: "diploma.pdf", Open: func() (io.ReadCloser, error) {
		return &coreGenerated{size: coreUploadSize}, nil
	}}
	ctx := context.Background()

	b.ReportAllocs()
	b.SetBytes(coreUploadSize)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		files, err := c.Files.Upload(ctx, up)
		if err != nil {
			b.Fatal(err)
		}
		if len(files) != 1 {
			b.Fatalf("%d files", len(files))
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	perUpload := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
	b.ReportMetric(perUpload, "B/upload")
	if perUpload > 4<<20 {
		b.Errorf("an upload allocates %.0f bytes; the target is under 4 MiB", perUpload)
	}
}
