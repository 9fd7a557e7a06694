package dokstamp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go"
)

// BenchmarkAllReadAheadHeap lists 8 pages of about 24 MiB each (50 certificates, each with a
// 480 KiB revocation_reason, which the decoded certificate keeps) while the loop takes 5 ms per
// item, so that the read-ahead runs as far as it may; peak_heap_MiB is the highest HeapInuse
// seen during the listing. The pages in
// flight share one 64 MiB budget of answer bytes: without it the 4 pages read ahead and the
// one being yielded held about 5 x 24 MiB of answers at once.
//
//	go test -run '^$' -bench 'BenchmarkAllReadAheadHeap' -benchtime 2x .
func BenchmarkAllReadAheadHeap(b *testing.B) {
	const pages, perPage, fieldSize = 8, 50, 480 << 10
	field := bytes.Repeat([]byte("x"), fieldSize)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		n = max(n, 1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":[`)
		for i := range perPage {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"uuid":"00000000-0000-4000-8000-%012d","status":"revoked","revocation_reason":"`, (n-1)*perPage+i)
			_, _ = w.Write(field)
			fmt.Fprint(w, `"}`)
		}
		fmt.Fprintf(w, `],"meta":{"current_page":%d,"per_page":%d,"total":%d,"last_page":%d}}`, n, perPage, pages*perPage, pages)
	}))
	defer srv.Close()
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken("tok"), dokstamp.WithTenant("acme"))
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	b.ResetTimer()
	for range b.N {
		s := sampleHeap()
		n := 0
		for _, err := range c.Certificates.All(context.Background(), &dokstamp.ListOptions{PerPage: perPage}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
			time.Sleep(5 * time.Millisecond) // the caller's work on each item
		}
		peak = max(peak, s.peak())
		if n != pages*perPage {
			b.Fatalf("%d certificates listed, want %d", n, pages*perPage)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MiB")
}
