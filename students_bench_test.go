package dokstamp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// BenchmarkFindByEmails resolves a manifest of 3,000 e-mails (2,700 of the tenant's 5,000
// students and 300 unknown) at 20 ms of latency per request, next to the loop it replaces:
// one FindByEmail after another. The loop's time is measured on every tenth e-mail (300
// look-ups, each the same request) and multiplied by ten, so that the benchmark takes seconds
// rather than a minute; bulk_vs_sequential is the ratio of the two (target: <= 0.1). Run it with
//
//	go test -run '^$' -bench 'BenchmarkFindByEmails' -benchtime 3x .
//
// Two servers:
//
//   - list: the server takes per_page 500 (dokstamptest's maximum), so FindByEmails lists the
//     tenant in 10 pages and joins them in memory.
//
//   - lookups: the server clamps per_page to 1, so listing would cost 5,000 requests and
//     FindByEmails sends one where[email] look-up per e-mail instead, 32 in flight.
func BenchmarkFindByEmails(b *testing.B) {
	for _, bc := range []struct {
		name       string
		maxPerPage int
	}{{"list", 500}, {"lookups", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			const tenantSize, known, unknown = 5000, 2700, 300
			srv := dokstamptest.NewServer(b, dokstamptest.WithStudents(tenantSize), dokstamptest.WithMaxPerPage(bc.maxPerPage))
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			b.Cleanup(tr.CloseIdleConnections)
			c, err := dokstamp.NewClient(dokstamp.WithTenant(srv.Tenant), dokstamp.WithToken(srv.Token),
				dokstamp.WithBaseURL(srv.URL), dokstamp.WithHTTPClient(&http.Client{Transport: tr}))
			if err != nil {
				b.Fatal(err)
			}
			emails := make([]string, 0, known+unknown)
			for i := 1; i <= known; i++ {
				emails = append(emails, fmt.Sprintf("student%d@%s.test", i*tenantSize/known, srv.Tenant))
			}
			for i := range unknown {
				emails = append(emails, fmt.Sprintf("new%d@example.com", i))
			}
			srv.SetFaults(dokstamptest.Faults{Latency: 20 * time.Millisecond})
			ctx := context.Background()

			// The loop FindByEmails replaces, on a tenth of the manifest.
			seqStart := time.Now()
			for i := 0; i < len(emails); i += 10 {
				if _, err := c.Students.FindByEmail(ctx, emails[i]); err != nil && !errorsIsNotFound(err) {
					b.Fatal(err)
				}
			}
			sequential := time.Since(seqStart) * 10

			srv.ResetRequests()
			b.ResetTimer()
			for range b.N {
				got, err := c.Students.FindByEmails(ctx, emails)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != known {
					b.Fatalf("%d e-mails resolved, want %d", len(got), known)
				}
			}
			b.StopTimer()
			bulk := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(bulk.Milliseconds()), "bulk_ms")
			b.ReportMetric(float64(sequential.Milliseconds()), "sequential_ms")
			b.ReportMetric(float64(bulk)/float64(sequential), "bulk_vs_sequential")
			b.ReportMetric(float64(srv.RequestCount("GET /students"))/float64(b.N), "requests/op")
		})
	}
}

func errorsIsNotFound(err error) bool { return errors.Is(err, dokstamp.ErrNotFound) }
