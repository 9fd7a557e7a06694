package dokstamp

import (
	"context"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// BenchmarkIssueCertificates issues 5,000 certificates against a server answering each request
// after 10 ms, 50 at a time. The floor is items × latency / concurrency = 1 s; x_bound is the
// wall time as a multiple of it.
func BenchmarkIssueCertificates(b *testing.B) {
	const (
		n           = 5000
		latency     = 10 * time.Millisecond
		concurrency = 50
	)
	bound := time.Duration(n) * latency / concurrency
	srv := dokstamptest.NewServer(b, dokstamptest.WithStudents(n))
	c, _ := batchClient(b, srv, DefaultRetryPolicy())
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv.SetFaults(dokstamptest.Faults{})
		items := batchItems(b, srv, c, n, i*n) // fresh files: a file backs one certificate
		srv.SetFaults(dokstamptest.Faults{Latency: latency})
		b.StartTimer()
		start := time.Now()
		rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: concurrency})
		total += time.Since(start)
		if err != nil || rep.Succeeded != n {
			b.Fatalf("run %d: %v, %d succeeded", i, err, rep.Succeeded)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N)/bound.Seconds(), "x_bound")
}
