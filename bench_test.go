package dokstamp_test

// Side-by-side benchmarks: the SDK next to what a careful engineer writes by hand with net/http,
// encoding/json and errgroup, each reporting its figures and their ratio with b.ReportMetric.
// They live in the external test package so that they use nothing but the public API, as a
// user's program does, and run with one command:
//
//	go test -run '^$' -bench 'BenchmarkSideBySide' -benchtime 3x .
//
// Figures are metrics, never assertions: a slow machine reports a worse ratio, it does not fail.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// BenchmarkSideBySide runs every side-by-side comparison:
//
//   - Overhead/Create, Overhead/Get: one call at a time against a canned httptest server;
//     time_ratio and allocs_ratio are SDK / hand-written (targets: <= 1.3 and <= 1.5).
//   - Bulk: IssueCertificates on 5,000 items, 10 ms latency, 50 in flight; sdk_x_bound and
//     hand_x_bound are wall time / (items × latency / concurrency) (target: SDK <= 1.15 and
//     sdk_vs_hand <= 1).
//   - List: All over 20,000 enrollments at per_page 200, 10 ms latency, against sequential
//     List calls; all_vs_sequential is the time ratio (target: <= 0.4).
//   - Upload/files=N: c.Batch.Issue with N generated 256 KiB PDFs; peak_heap_MiB is the highest
//     HeapInuse seen while it runs (target: < 32 MiB, flat in N).
func BenchmarkSideBySide(b *testing.B) {
	b.Run("Overhead", benchOverhead)
	b.Run("Bulk", benchBulk)
	b.Run("List", benchList)
	b.Run("Upload", func(b *testing.B) {
		for _, n := range []int{250, 1000} {
			b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) { benchUpload(b, n) })
		}
	})
}

const (
	sbsTenant = "acme-university"
	sbsToken  = "dks_bench_token_0123456789"
	// sbsUserAgent is what the SDK sends; the hand-written calls send the same.
	sbsUserAgent = "dokstamp-go/" + dokstamp.Version
)

// sbsUUID is a valid, deterministic UUID for index i.
func sbsUUID(kind byte, i int) string {
	return fmt.Sprintf("%08x-0000-4000-8%03x-%012x", uint32(kind), kind, i)
}

// sbsCertJSON is a realistic certificate answer.
var sbsCertJSON = `{"data":{"uuid":"` + sbsUUID('c', 1) + `","status":"issued","issued_at":"2025-06-30T10:00:00.000000Z",` +
	`"revoked_at":null,"revocation_reason":null,` +
	`"public_verification_url":"https://verify.dokstamp.eu/c/` + sbsUUID('c', 1) + `",` +
	`"blockchain_tx_hash":"0x5f2c1e9b7a6d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b",` +
	`"blockchain_tx_url":"https://polygonscan.com/tx/0x5f2c1e9b7a6d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b",` +
	`"institution":{"uuid":"` + sbsUUID('i', 1) + `","name":"Acme University"},` +
	`"course":{"uuid":"` + sbsUUID('k', 1) + `","name":"Computer Science"},` +
	`"student":{"uuid":"` + sbsUUID('s', 1) + `","name":"Student 1"},` +
	`"cohort":null,"enrollment":null,"template":null,` +
	`"files":[{"type":"certificate","uuid":"` + sbsUUID('f', 1) + `"}],` +
	`"created_at":"2025-06-30T10:00:00.000000Z","updated_at":"2025-06-30T10:00:00.000000Z"}}`

// sbsParams is the create body both sides send.
func sbsParams(i int) *dokstamp.CertificateCreateParams {
	issued := time.Date(2025, 6, 30, 10, 0, 0, 0, time.UTC)
	return &dokstamp.CertificateCreateParams{
		InstitutionUUID: sbsUUID('i', 1), CourseUUID: sbsUUID('k', 1), StudentUUID: sbsUUID('s', i),
		FileUUID: sbsUUID('f', i), Status: dokstamp.StatusIssued, IssuedAt: &issued,
	}
}

// handClient is the hand-written code: what a careful engineer writes with net/http and
// encoding/json, sending the SDK's headers and decoding into the SDK's types.
type handClient struct {
	hc            *http.Client
	base, auth    string
	tenant, agent string
}

func newHandClient(hc *http.Client, base, token, tenant string) *handClient {
	return &handClient{hc: hc, base: base, auth: "Bearer " + token, tenant: tenant, agent: sbsUserAgent}
}

func (h *handClient) do(req *http.Request, want int, out any) error {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", h.agent)
	req.Header.Set("X-Tenant", h.tenant)
	req.Header.Set("Authorization", h.auth)
	resp, err := h.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(out)
	_, _ = io.Copy(io.Discard, resp.Body) // read to EOF so that the connection is reused
	return err
}

func (h *handClient) createCertificate(ctx context.Context, p *dokstamp.CertificateCreateParams) (*dokstamp.Certificate, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/certificates", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var env struct {
		Data dokstamp.Certificate `json:"data"`
	}
	if err := h.do(req, http.StatusCreated, &env); err != nil {
		return nil, err
	}
	return &env.Data, nil
}

func (h *handClient) getCertificate(ctx context.Context, uuid string) (*dokstamp.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/certificates/"+uuid, nil)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data dokstamp.Certificate `json:"data"`
	}
	if err := h.do(req, http.StatusOK, &env); err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// ---------------------------------------------------------------------------------------------
// 1. Overhead

func benchOverhead(b *testing.B) {
	cert := []byte(sbsCertJSON)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/certificates":
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/certificates/"):
		default:
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(cert)
	}))
	defer srv.Close()
	// One transport for both sides: the comparison is about the code above it.
	tr := &http.Transport{MaxIdleConns: 16, MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	overheadPair(b, "", &http.Client{Transport: tr}, srv.URL)
	// The same calls through a transport answering from memory: no server, no sockets, so the
	// allocations counted are the client side's alone.
	overheadPair(b, "InMemory", &http.Client{Transport: cannedTransport(cert)}, "http://api.test")
}

// cannedTransport answers every request from memory, as the httptest server above does.
type cannedTransport []byte

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: int64(len(t)),
		Body: io.NopCloser(bytes.NewReader(t)), Request: r}, nil
}

// overheadPair runs Create and Get side by side through hc.
func overheadPair(b *testing.B, suffix string, hc *http.Client, base string) {
	c, err := dokstamp.NewClient(dokstamp.WithTenant(sbsTenant), dokstamp.WithToken(sbsToken),
		dokstamp.WithBaseURL(base), dokstamp.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	hand := newHandClient(hc, base, sbsToken, sbsTenant)
	ctx := context.Background()
	params := sbsParams(1)
	id := sbsUUID('c', 1)
	check := func(cert *dokstamp.Certificate, err error) error {
		if err == nil && (cert.UUID != id || cert.FileUUID() != sbsUUID('f', 1)) {
			err = fmt.Errorf("decoded %+v", cert)
		}
		return err
	}

	b.Run("Create"+suffix, func(b *testing.B) {
		sideBySide(b,
			func() error { return check(c.Certificates.Create(ctx, params)) },
			func() error { return check(hand.createCertificate(ctx, params)) })
	})
	b.Run("Get"+suffix, func(b *testing.B) {
		sideBySide(b,
			func() error { return check(c.Certificates.Get(ctx, id)) },
			func() error { return check(hand.getCertificate(ctx, id)) })
	})
}

// costs accumulates one side's time and allocations.
type costs struct {
	calls          int
	d              time.Duration
	mallocs, bytes uint64
}

func (s *costs) block(b *testing.B, n int, f func() error) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	for range n {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	s.d += time.Since(start)
	runtime.ReadMemStats(&m1)
	s.calls += n
	s.mallocs += m1.Mallocs - m0.Mallocs
	s.bytes += m1.TotalAlloc - m0.TotalAlloc
}

// sideBySide runs blocks of sdk and hand calls alternately (ABBA, so that neither side always
// runs first), 2,000 calls of each per iteration, and reports both sides and their ratios.
// Allocations are the whole process's, the in-process server's included (the same for both).
func sideBySide(b *testing.B, sdk, hand func() error) {
	const (
		block  = 50
		rounds = 40
	)
	for range 4 * block { // warm up connections, pools and caches
		if err := sdk(); err != nil {
			b.Fatal(err)
		}
		if err := hand(); err != nil {
			b.Fatal(err)
		}
	}
	var s, h costs
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			if r%2 == 0 {
				s.block(b, block, sdk)
				h.block(b, block, hand)
			} else {
				h.block(b, block, hand)
				s.block(b, block, sdk)
			}
		}
	}
	b.StopTimer()
	per := func(x uint64, c costs) float64 { return float64(x) / float64(c.calls) }
	sNs, hNs := float64(s.d.Nanoseconds())/float64(s.calls), float64(h.d.Nanoseconds())/float64(h.calls)
	b.ReportMetric(sNs, "sdk_ns/op")
	b.ReportMetric(hNs, "hand_ns/op")
	b.ReportMetric(per(s.mallocs, s), "sdk_allocs/op")
	b.ReportMetric(per(h.mallocs, h), "hand_allocs/op")
	b.ReportMetric(per(s.bytes, s), "sdk_B/op")
	b.ReportMetric(per(h.bytes, h), "hand_B/op")
	b.ReportMetric(sNs/hNs, "time_ratio")
	b.ReportMetric(per(s.mallocs, s)/per(h.mallocs, h), "allocs_ratio")
}

// ---------------------------------------------------------------------------------------------
// 2. Bulk

const (
	bulkItems       = 5000
	bulkLatency     = 10 * time.Millisecond
	bulkConcurrency = 50
)

// bulkServer starts a fake with bulkItems students and as many unused uploaded files, then turns
// the latency on; it returns the create bodies, one per student.
func bulkServer(b *testing.B) (*dokstamptest.Server, []dokstamp.CertificateCreateParams) {
	srv, err := dokstamptest.New(dokstamptest.WithStudents(bulkItems))
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	c, err := dokstamp.NewClient(dokstamp.WithTenant(srv.Tenant), dokstamp.WithToken(srv.Token),
		dokstamp.WithBaseURL(srv.URL), dokstamp.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		b.Fatal(err)
	}
	files := make([]dokstamp.File, bulkItems)
	var g errgroup.Group
	g.SetLimit(8)
	const chunk = 100
	for start := 0; start < bulkItems; start += chunk {
		g.Go(func() error {
			ups := make([]dokstamp.Upload, 0, chunk)
			for i := start; i < min(bulkItems, start+chunk); i++ {
				ups = append(ups, dokstamp.UploadBytes(fmt.Sprintf("diploma-%05d.pdf", i),
					[]byte(fmt.Sprintf("%%PDF-1.7\n%% diploma %d\n%%%%EOF\n", i))))
			}
			got, err := c.Files.Upload(context.Background(), ups...)
			copy(files[start:], got)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		srv.Close()
		b.Fatal(err)
	}
	items := make([]dokstamp.CertificateCreateParams, bulkItems)
	for i := range items {
		items[i] = dokstamp.CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
			StudentUUID: srv.StudentUUIDs[i], FileUUID: files[i].UUID, Status: dokstamp.StatusIssued}
	}
	srv.SetFaults(dokstamptest.Faults{Latency: bulkLatency})
	return srv, items
}

// checkIssued fails the benchmark unless the server holds exactly one certificate per item.
func checkIssued(b *testing.B, srv *dokstamptest.Server, items []dokstamp.CertificateCreateParams) {
	certs := srv.Certificates()
	if len(certs) != len(items) || len(srv.Duplicates()) != 0 {
		b.Fatalf("%d certificates (%d duplicates), want %d", len(certs), len(srv.Duplicates()), len(items))
	}
}

func benchBulk(b *testing.B) {
	bound := time.Duration(bulkItems) * bulkLatency / bulkConcurrency
	var sdkTotal, handTotal time.Duration
	for i := range b.N {
		runSDK := func() {
			b.StopTimer()
			srv, items := bulkServer(b)
			defer srv.Close()
			// The SDK as users get it: its default client and transport.
			c, err := dokstamp.NewClient(dokstamp.WithTenant(srv.Tenant), dokstamp.WithToken(srv.Token), dokstamp.WithBaseURL(srv.URL))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			rep, err := c.Batch.IssueCertificates(context.Background(), items, &dokstamp.BatchOptions{Concurrency: bulkConcurrency})
			sdkTotal += time.Since(start)
			b.StopTimer()
			if err != nil || rep.Succeeded != bulkItems {
				b.Fatalf("sdk: %v, %d succeeded", err, rep.Succeeded)
			}
			checkIssued(b, srv, items)
			b.StartTimer()
		}
		runHand := func() {
			b.StopTimer()
			srv, items := bulkServer(b)
			defer srv.Close()
			// A careful engineer's transport: as many idle connections per host as workers.
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = bulkConcurrency
			defer tr.CloseIdleConnections()
			hand := newHandClient(&http.Client{Transport: tr}, srv.URL, srv.Token, srv.Tenant)
			b.StartTimer()
			start := time.Now()
			certs, errs := handBulk(context.Background(), hand, items)
			handTotal += time.Since(start)
			b.StopTimer()
			for k := range items {
				if errs[k] != nil || certs[k] == nil {
					b.Fatalf("hand: item %d: %v", k, errs[k])
				}
			}
			checkIssued(b, srv, items)
			b.StartTimer()
		}
		if i%2 == 0 {
			runSDK()
			runHand()
		} else {
			runHand()
			runSDK()
		}
	}
	sdkX := sdkTotal.Seconds() / float64(b.N) / bound.Seconds()
	handX := handTotal.Seconds() / float64(b.N) / bound.Seconds()
	b.ReportMetric(sdkX, "sdk_x_bound")
	b.ReportMetric(handX, "hand_x_bound")
	b.ReportMetric(sdkX/handX, "sdk_vs_hand")
}

// handBulk is the bulk-operations guide's pattern: one POST /certificates per item, 50 at a
// time with errgroup, no retries, every item's outcome kept.
func handBulk(ctx context.Context, h *handClient, items []dokstamp.CertificateCreateParams) ([]*dokstamp.Certificate, []error) {
	certs := make([]*dokstamp.Certificate, len(items))
	errs := make([]error, len(items))
	var g errgroup.Group
	g.SetLimit(bulkConcurrency)
	for i := range items {
		g.Go(func() error {
			certs[i], errs[i] = h.createCertificate(ctx, &items[i])
			return nil
		})
	}
	_ = g.Wait()
	return certs, errs
}

// ---------------------------------------------------------------------------------------------
// 3. Listing

const (
	listItems   = 20000
	listPerPage = 200
)

func benchList(b *testing.B) {
	b.StopTimer()
	srv, err := dokstamptest.New(dokstamptest.WithStudents(listItems), dokstamptest.WithFaults(dokstamptest.Faults{Latency: bulkLatency}))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := dokstamp.NewClient(dokstamp.WithTenant(srv.Tenant), dokstamp.WithToken(srv.Token), dokstamp.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	want := srv.EnrollmentUUIDs
	inOrder := func(side string, got []string) {
		if len(got) != len(want) {
			b.Fatalf("%s: %d enrollments, want %d", side, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				b.Fatalf("%s: enrollment %d is %s, want %s", side, i, got[i], want[i])
			}
		}
	}
	all := func() []string {
		out := make([]string, 0, listItems)
		for en, err := range c.Enrollments.All(ctx, &dokstamp.ListOptions{PerPage: listPerPage}) {
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, en.UUID)
		}
		return out
	}
	sequential := func() []string {
		out := make([]string, 0, listItems)
		for page := 1; ; page++ {
			p, err := c.Enrollments.List(ctx, &dokstamp.ListOptions{Page: page, PerPage: listPerPage})
			if err != nil {
				b.Fatal(err)
			}
			for _, en := range p.Data {
				out = append(out, en.UUID)
			}
			if page >= p.Meta.LastPage {
				return out
			}
		}
	}
	inOrder("warm-up", all())
	var allTotal, seqTotal time.Duration
	timed := func(side string, f func() []string, total *time.Duration) {
		b.StartTimer()
		start := time.Now()
		got := f()
		*total += time.Since(start)
		b.StopTimer()
		inOrder(side, got)
	}
	for i := range b.N {
		if i%2 == 0 {
			timed("All", all, &allTotal)
			timed("sequential", sequential, &seqTotal)
		} else {
			timed("sequential", sequential, &seqTotal)
			timed("All", all, &allTotal)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(ms(allTotal), "all_ms")
	b.ReportMetric(ms(seqTotal), "sequential_ms")
	b.ReportMetric(allTotal.Seconds()/seqTotal.Seconds(), "all_vs_sequential")
}

// ---------------------------------------------------------------------------------------------
// 4. Uploads

const uploadFileSize = 256 << 10

const pdfHead = "%PDF-1.7\n"

// genPDF produces size bytes of a distinct, deterministic PDF-looking content on the fly.
type genPDF struct {
	seed      uint64
	off, size int
}

func (g *genPDF) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := min(len(p), g.size-g.off)
	for i := range n {
		o := g.off + i
		if o < len(pdfHead) {
			p[i] = pdfHead[o]
			continue
		}
		// an xorshift of the offset and the file's seed: printable, distinct per file
		x := uint64(o/8) ^ g.seed*0x9e3779b97f4a7c15
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = 'A' + byte((x>>(8*(o%8)))%26)
	}
	g.off += n
	return n, nil
}

func (g *genPDF) Close() error { return nil }

// sinkServer answers POST /files by streaming each part into a hash (never holding it) and
// POST /certificates with a canned certificate, so that the process's heap is the SDK's.
func sinkServer() *httptest.Server {
	bufs := sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	var seq atomic.Int64
	cert := []byte(sbsCertJSON)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/certificates":
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(cert)
		case "/files":
			mr, err := r.MultipartReader()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			type rec struct {
				UUID         string  `json:"uuid"`
				OriginalName string  `json:"original_name"`
				MimeType     string  `json:"mime_type"`
				Size         int64   `json:"size"`
				UsedAt       *string `json:"used_at"`
			}
			var recs []rec
			bp := bufs.Get().(*[]byte)
			defer bufs.Put(bp)
			for {
				part, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				h := sha256.New()
				n, err := io.CopyBuffer(h, struct{ io.Reader }{part}, *bp)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				recs = append(recs, rec{UUID: sbsUUID('f', int(seq.Add(1))), OriginalName: part.FileName(), MimeType: "application/pdf", Size: n})
			}
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"data": recs})
		default:
			http.NotFound(w, r)
		}
	}))
}

// heapSampler records the highest HeapInuse (heap objects plus the unused part of their spans)
// seen every millisecond until stopped.
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

func sampleHeap() *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan uint64)}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	read := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64()
	}
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		peak := read()
		for {
			select {
			case <-t.C:
				peak = max(peak, read())
			case <-s.stop:
				s.done <- max(peak, read())
				return
			}
		}
	}()
	return s
}

func (s *heapSampler) peak() uint64 {
	close(s.stop)
	return <-s.done
}

func benchUpload(b *testing.B, n int) {
	srv := sinkServer()
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = bulkConcurrency
	defer tr.CloseIdleConnections()
	c, err := dokstamp.NewClient(dokstamp.WithTenant(sbsTenant), dokstamp.WithToken(sbsToken),
		dokstamp.WithBaseURL(srv.URL), dokstamp.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		b.Fatal(err)
	}
	job := dokstamp.IssueJob{InstitutionUUID: sbsUUID('i', 1), CourseUUID: sbsUUID('k', 1), Status: dokstamp.StatusIssued}
	for i := range n {
		seed := uint64(i + 1)
		job.Graduates = append(job.Graduates, dokstamp.Graduate{
			StudentUUID: sbsUUID('s', i),
			File: dokstamp.Upload{Name: fmt.Sprintf("diploma-%05d.pdf", i), Size: uploadFileSize,
				Open: func() (io.ReadCloser, error) { return &genPDF{seed: seed, size: uploadFileSize}, nil }},
		})
	}
	opts := &dokstamp.BatchOptions{Concurrency: bulkConcurrency}
	var peak uint64
	b.ReportAllocs()
	b.SetBytes(int64(n) * uploadFileSize)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		s := sampleHeap()
		b.StartTimer()
		rep, err := c.Batch.Issue(context.Background(), job, opts)
		b.StopTimer()
		peak = max(peak, s.peak())
		if err != nil || rep.Succeeded != n {
			b.Fatalf("issue: %v, %d of %d succeeded: %v", err, rep.Succeeded, n, rep.Err())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MiB")
}
