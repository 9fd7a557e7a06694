// Package fakecmd runs the in-memory DokStamp API of package dokstamptest
// on a port, for curl and for clients in other languages. It is shared by
// cmd/dokstamp-fake and the dokstamp CLI's "fake" command.
package fakecmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// Run starts the fake with the flags in args, prints its URL, credentials
// and seeded uuids to out and serves until ctx is done. name is the program
// name shown in usage messages; flag errors and usage go to errOut. A -h or
// -help flag returns flag.ErrHelp. Faults given by flags apply to every
// tenant-scoped route.
func Run(ctx context.Context, name string, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	var (
		addr       = fs.String("addr", "127.0.0.1:8080", "listen address")
		students   = fs.Int("students", 3, "seeded students (each with a completed enrollment)")
		tenant     = fs.String("tenant", "acme-university", "default tenant (X-Tenant)")
		token      = fs.String("token", "", "static Bearer token (default: random)")
		latency    = fs.Duration("latency", 0, "latency added to each request")
		jitter     = fs.Duration("jitter", 0, "random extra latency in [0, jitter)")
		errorRate  = fs.Float64("error-rate", 0, "fraction of requests answered 500/502/503 without applying them")
		rate429    = fs.Float64("429-rate", 0, "fraction of requests answered 429 without applying them")
		retryAfter = fs.Duration("retry-after", time.Second, "Retry-After of -429-rate answers (negative: 0)")
		rateLimit  = fs.Float64("rate-limit", 0, "token bucket, requests per second (0: off)")
		burst      = fs.Int("burst", 0, "token bucket size (default max(1, rate-limit/10))")
		dropRate   = fs.Float64("drop-rate", 0, "fraction of successful writes applied and then answered by closing the connection")
		cutRate    = fs.Float64("cut-body-rate", 0, "fraction of successful answers applied and then cut after the headers and half the body")
		forbidden  = fs.Float64("forbidden-rate", 0, "fraction of requests answered 403 without applying them")
		redirect   = fs.Int("redirect-status", 0, "answer every request with this redirect (307 or 308) to another origin (0: off)")
		redirectTo = fs.String("redirect-to", "", "origin of -redirect-status redirects (default: the fake's own other origin)")
		winLimit   = fs.Int("window-limit", 0, "Laravel-style fixed window: requests per -window, with X-RateLimit-* headers (0: off)")
		window     = fs.Duration("window", time.Minute, "length of the -window-limit window")
		seed       = fs.Int64("seed", 0, "seed for random faults and record uuids (0: random)")
		noLastPage = fs.Bool("no-last-page", false, "omit meta.last_page from list answers")
		maxPerPage = fs.Int("max-per-page", 500, "largest per_page honoured")
		maxBatch   = fs.Int("max-batch", 100, "largest batch of uuids or document ids")
		maxUpload  = fs.Int("max-upload-files", 100, "largest number of files in one upload")
		maxSize    = fs.Int64("max-file-size", 50<<20, "largest uploaded file, in bytes")
		issuance   = fs.String("issuance-flag", "both", "field that issues a certificate: status, finish or both")
		successF   = fs.Bool("success-false", false, `add "success": false to error bodies (the newer errors page)`)
		modelMsg   = fs.Bool("model-not-found-message", false, `404s say "No query results for model [...]" (the older errors page)`)
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	opts := []dokstamptest.Option{
		dokstamptest.WithAddr(*addr),
		dokstamptest.WithStudents(*students),
		dokstamptest.WithTenant(*tenant),
		dokstamptest.WithMaxPerPage(*maxPerPage),
		dokstamptest.WithMaxBatch(*maxBatch),
		dokstamptest.WithMaxUploadFiles(*maxUpload),
		dokstamptest.WithMaxFileSize(*maxSize),
		dokstamptest.WithIssuanceFlag(dokstamptest.IssuanceFlag(*issuance)),
		dokstamptest.WithFaults(dokstamptest.Faults{
			Latency: *latency, Jitter: *jitter,
			ErrorRate: *errorRate, RateLimitRate: *rate429, RetryAfter: *retryAfter,
			RateLimit: *rateLimit, Burst: *burst,
			DropAfterCommitRate: *dropRate, CutBodyRate: *cutRate, ForbiddenRate: *forbidden,
			RedirectStatus: *redirect, RedirectTo: *redirectTo,
			WindowLimit: *winLimit, Window: *window,
		}),
	}
	if *redirect != 0 && *redirect != 307 && *redirect != 308 {
		return fmt.Errorf("-redirect-status %d: use 307 or 308", *redirect)
	}
	if *successF {
		opts = append(opts, dokstamptest.WithSuccessFalse())
	}
	if *modelMsg {
		opts = append(opts, dokstamptest.WithModelNotFoundMessage())
	}
	if *token != "" {
		opts = append(opts, dokstamptest.WithToken(*token))
	}
	if *seed != 0 {
		opts = append(opts, dokstamptest.WithSeed(*seed))
	}
	if *noLastPage {
		opts = append(opts, dokstamptest.WithoutLastPage())
	}
	srv, err := dokstamptest.New(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()

	printDetails(out, srv)
	<-ctx.Done()
	fmt.Fprintln(out, "shutting down")
	return nil
}

// printDetails writes what a client needs to reach srv.
func printDetails(out io.Writer, srv *dokstamptest.Server) {
	fmt.Fprintf(out, "DokStamp fake listening on %s\n", srv.URL)
	fmt.Fprintf(out, "  base URL          %s\n", srv.URL)
	fmt.Fprintf(out, "  token             %s\n", srv.Token)
	fmt.Fprintf(out, "  tenant            %s\n", srv.Tenant)
	fmt.Fprintf(out, "  client id         %s\n", srv.ClientID)
	fmt.Fprintf(out, "  client secret     %s\n", srv.ClientSecret)
	fmt.Fprintf(out, "  login email       %s\n", srv.Email)
	fmt.Fprintf(out, "  login password    %s\n", srv.Password)
	fmt.Fprintf(out, "  institution uuid  %s\n", srv.InstitutionUUID)
	fmt.Fprintf(out, "  course uuid       %s\n", srv.CourseUUID)
	for i, s := range srv.StudentUUIDs {
		fmt.Fprintf(out, "  student uuid      %s (enrollment %s)\n", s, srv.EnrollmentUUIDs[i])
	}
	fmt.Fprintf(out, "  signing cert id   %d\n", srv.SigningCertID)
	fmt.Fprintf(out, "  signing PIN       %s\n", srv.SigningPIN)
	fmt.Fprintf(out, "Try: curl -H 'Accept: application/json' -H 'Authorization: Bearer %s' -H 'X-Tenant: %s' %s/students\n", srv.Token, srv.Tenant, srv.URL)
}
