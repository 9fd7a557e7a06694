package dokstamptest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seedFiles stores n unused PDFs in the default tenant without going through
// HTTP, and returns their uuids.
func (s *Server) seedFiles(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[s.Tenant]
	out := make([]string, n)
	for i := range out {
		content := pdf(string(binary.BigEndian.AppendUint64(nil, uint64(s.seq))))
		f := &file{rec: s.newRec(t), name: "bench.pdf", mime: "application/pdf", ext: "pdf", content: content, sum: sha256.Sum256(content)}
		t.files.add(f)
		t.fileByHash[f.sum] = f
		s.files[f.uuid] = f
		out[i] = f.uuid
	}
	return out
}

// BenchmarkCreateCertificates drives POST /certificates with 50 concurrent
// keep-alive connections from a plain net/http client and reports certs/s.
func BenchmarkCreateCertificates(b *testing.B) {
	const workers = 50
	srv, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	files := srv.seedFiles(b.N)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{
			"institution_uuid": srv.InstitutionUUID,
			"course_uuid":      srv.CourseUUID,
			"student_uuid":     srv.StudentUUIDs[i%len(srv.StudentUUIDs)],
			"file_uuid":        files[i],
			"status":           "issued",
		})
	}
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/certificates", bytes.NewReader(bodies[i]))
				req.Header.Set("Authorization", "Bearer "+srv.Token)
				req.Header.Set("X-Tenant", srv.Tenant)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	if got := len(srv.Certificates()); got != b.N {
		b.Fatalf("%d certificates, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "certs/s")
}
