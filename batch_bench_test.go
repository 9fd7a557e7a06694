package dokstamp

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/dokstamp/dokstamp-go/internal/fakecmd"
	"golang.org/x/sync/errgroup"
)

// The bulk benchmarks: 5,000 certificates against a server answering each request after 10 ms,
// 50 at a time. The floor is items × latency / concurrency = 1 s; x_bound is the wall time as a
// multiple of it. Each run gets a fresh server (a course without certificates yet), outside the
// timer.
const (
	benchItems       = 5000
	benchLatency     = 10 * time.Millisecond
	benchConcurrency = 50
)

var benchBound = time.Duration(benchItems) * benchLatency / benchConcurrency

// BenchmarkIssueCertificates: c.Batch.IssueCertificates against the in-process dokstamptest.
func BenchmarkIssueCertificates(b *testing.B) {
	benchBulk(b, inProcessBulk, issueWithBatch)
}

// inProcessBulk is an in-process fake answering after benchLatency, a client of it and one item
// per seeded student.
func inProcessBulk(b *testing.B) (*Client, []CertificateCreateParams, func()) {
	srv := dokstamptest.NewServer(b, dokstamptest.WithStudents(benchItems))
	c, _ := batchClient(b, srv, DefaultRetryPolicy())
	items := batchItems(b, srv, c, benchItems, 0)
	srv.SetFaults(dokstamptest.Faults{Latency: benchLatency})
	return c, items, srv.Close
}

// BenchmarkIssueCertificatesHandWritten: the loop a user would write instead (errgroup, 50 at a
// time, one Certificates.Create each, no look-up, no journal), for comparison.
func BenchmarkIssueCertificatesHandWritten(b *testing.B) {
	benchBulk(b, inProcessBulk, func(c *Client, items []CertificateCreateParams) error {
		g, ctx := errgroup.WithContext(context.Background())
		g.SetLimit(benchConcurrency)
		for i := range items {
			g.Go(func() error {
				_, err := c.Certificates.Create(ctx, &items[i])
				return err
			})
		}
		return g.Wait()
	})
}

// BenchmarkIssueCertificatesSeparateProcess: c.Batch.IssueCertificates against cmd/dokstamp-fake
// in another process (this test binary re-executed as TestFakeServerChild, which runs what
// cmd/dokstamp-fake runs), so that the server's work does not share the client's scheduler.
func BenchmarkIssueCertificatesSeparateProcess(b *testing.B) {
	benchBulk(b, func(b *testing.B) (*Client, []CertificateCreateParams, func()) {
		return startFakeProcess(b, "-latency", benchLatency.String(), "-students", fmt.Sprint(benchItems))
	}, issueWithBatch)
}

func issueWithBatch(c *Client, items []CertificateCreateParams) error {
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: benchConcurrency})
	if err == nil && rep.Succeeded != len(items) {
		err = rep.Err()
	}
	return err
}

// benchBulk runs run over setup's items b.N times and reports x_bound; and, beside it, the mean
// time of one request against that server (rtt_ms, 20 GETs one after another before each run)
// and the wall time against the bound computed from it (x_rtt_bound): the floor on this machine.
func benchBulk(b *testing.B, setup func(*testing.B) (*Client, []CertificateCreateParams, func()), run func(*Client, []CertificateCreateParams) error) {
	var total, rtt time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c, items, stop := setup(b)
		start := time.Now()
		for range 20 {
			if _, err := c.Students.Get(context.Background(), items[0].StudentUUID); err != nil {
				b.Fatal(err)
			}
		}
		rtt += time.Since(start) / 20
		b.StartTimer()
		start = time.Now()
		err := run(c, items)
		total += time.Since(start)
		b.StopTimer()
		stop()
		if err != nil {
			b.Fatalf("run %d: %v", i, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N)/benchBound.Seconds(), "x_bound")
	rttBound := float64(benchItems) * (rtt.Seconds() / float64(b.N)) / benchConcurrency
	b.ReportMetric(rtt.Seconds()*1000/float64(b.N), "rtt_ms")
	b.ReportMetric(total.Seconds()/float64(b.N)/rttBound, "x_rtt_bound")
}

const envFakeChild = "DOKSTAMP_BENCH_FAKE_ARGS"

// TestFakeServerChild is the server process of BenchmarkIssueCertificatesSeparateProcess: it runs
// cmd/dokstamp-fake's code with the arguments in its environment until it is interrupted.
func TestFakeServerChild(t *testing.T) {
	args := os.Getenv(envFakeChild)
	if args == "" {
		return // only as a child
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := fakecmd.Run(ctx, "dokstamp-fake", strings.Fields(args), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// startFakeProcess starts the fake in a child process and returns a client of it, one item per
// seeded student (each with a freshly uploaded file), and how to stop it.
func startFakeProcess(b *testing.B, args ...string) (*Client, []CertificateCreateParams, func()) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeServerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envFakeChild+"="+strings.Join(append([]string{"-addr", "127.0.0.1:0", "-seed", "7"}, args...), " "))
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	var base, token, tenant, inst, course string
	var students []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "base" && f[1] == "URL":
			base = f[2]
		case len(f) >= 2 && f[0] == "token":
			token = f[1]
		case len(f) >= 2 && f[0] == "tenant":
			tenant = f[1]
		case len(f) >= 3 && f[0] == "institution":
			inst = f[2]
		case len(f) >= 3 && f[0] == "course" && f[1] == "uuid":
			course = f[2]
		case len(f) >= 3 && f[0] == "student" && f[1] == "uuid":
			students = append(students, f[2])
		}
		if strings.HasPrefix(sc.Text(), "Try:") {
			break
		}
	}
	go func() { // keep draining, so that the child never blocks on its output
		for sc.Scan() {
		}
	}()
	if base == "" || course == "" || len(students) == 0 {
		stop()
		b.Fatalf("the fake process printed no address, course or students")
	}
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	c, err := NewClient(WithTenant(tenant), WithToken(token), WithBaseURL(base), WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		stop()
		b.Fatal(err)
	}
	files := make([]File, 0, len(students))
	for start := 0; start < len(students); start += MaxBatchIDs {
		var ups []Upload
		for i := start; i < min(len(students), start+MaxBatchIDs); i++ {
			ups = append(ups, UploadBytes(fmt.Sprintf("diploma-%d.pdf", i), diplomaPDF(i)))
		}
		fs, err := c.Files.Upload(context.Background(), ups...)
		if err != nil {
			stop()
			b.Fatal(err)
		}
		files = append(files, fs...)
	}
	items := make([]CertificateCreateParams, len(students))
	for i := range items {
		items[i] = CertificateCreateParams{InstitutionUUID: inst, CourseUUID: course, StudentUUID: students[i],
			FileUUID: files[i].UUID, Status: StatusIssued}
	}
	return c, items, func() { tr.CloseIdleConnections(); stop() }
}

// BenchmarkIssuePipeline: c.Batch.Issue end to end (plan, upload in chunks, issue each chunk as
// soon as it is uploaded) beside its two stages run alone, 2,000 graduates against a server
// answering after 5 ms. x_longest_stage is the end-to-end time as a multiple of the longer
// stage: the overlap hides the shorter one.
func BenchmarkIssuePipeline(b *testing.B) {
	const (
		n       = 2000
		latency = 10 * time.Millisecond
	)
	opts := func() *BatchOptions {
		return &BatchOptions{Concurrency: 32, UploadChunkFiles: 10, UploadConcurrency: 2}
	}
	var upload, issue, plan, e2e time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// the stages alone, on one server
		srv := dokstamptest.NewServer(b, dokstamptest.WithStudents(n))
		c, _ := batchClient(b, srv, DefaultRetryPolicy())
		gs := batchGraduates(b, srv, b.TempDir(), n, 0)
		srv.SetFaults(dokstamptest.Faults{Latency: latency})
		o := opts()
		start := time.Now()
		files := make([]File, n)
		g, ctx := errgroup.WithContext(context.Background())
		g.SetLimit(o.UploadConcurrency)
		for lo := 0; lo < n; lo += o.UploadChunkFiles {
			g.Go(func() error {
				var ups []Upload
				for k := lo; k < min(n, lo+o.UploadChunkFiles); k++ {
					ups = append(ups, gs[k].File)
				}
				recs, err := c.Files.Upload(ctx, ups...)
				copy(files[lo:], recs)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		upload += time.Since(start)
		items := make([]CertificateCreateParams, n)
		for k := range items {
			items[k] = CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
				StudentUUID: gs[k].StudentUUID, FileUUID: files[k].UUID, Status: StatusIssued}
		}
		start = time.Now()
		if _, err := c.Batch.IssueCertificates(context.Background(), items, o); err != nil {
			b.Fatal(err)
		}
		issue += time.Since(start)
		srv.Close()

		// end to end, on a fresh server
		srv = dokstamptest.NewServer(b, dokstamptest.WithStudents(n))
		c, _ = batchClient(b, srv, DefaultRetryPolicy())
		gs = batchGraduates(b, srv, b.TempDir(), n, 0)
		srv.SetFaults(dokstamptest.Faults{Latency: latency})
		start = time.Now()
		if _, err := c.Batch.Plan(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
			Status: StatusIssued, Graduates: gs}, opts()); err != nil {
			b.Fatal(err)
		}
		plan += time.Since(start)
		b.StartTimer()
		start = time.Now()
		rep, err := c.Batch.Issue(context.Background(), IssueJob{InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
			Status: StatusIssued, Graduates: gs}, opts())
		e2e += time.Since(start)
		b.StopTimer()
		if err != nil || rep.Succeeded != n {
			b.Fatalf("run %d: %v, %d succeeded", i, err, rep.Succeeded)
		}
		srv.Close()
		b.StartTimer()
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	b.ReportMetric(per(upload), "upload_ms")
	b.ReportMetric(per(issue), "issue_ms")
	b.ReportMetric(per(plan), "plan_ms")
	b.ReportMetric(per(e2e), "e2e_ms")
	b.ReportMetric(e2e.Seconds()/max(upload, issue).Seconds(), "x_longest_stage")
}
