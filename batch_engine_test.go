package dokstamp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestIssueCertificatesChaos: 10% 5xx, 5% 429 (Retry-After: 0, so the shared pause is the short
// backoff), 3% of creates applied and then answered by a dropped connection, 5 ms latency.
func TestIssueCertificatesChaos(t *testing.T) {
	t.Parallel()
	const n = 2000
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n), dokstamptest.WithSeed(42))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, n, 0)
	srv.ResetRequests()
	srv.SetFaults(dokstamptest.Faults{Latency: 5 * time.Millisecond, ErrorRate: 0.10, RateLimitRate: 0.05,
		RetryAfter: -1, DropAfterCommitRate: 0.03})

	pc := &progressChecker{t: t}
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 50, OnProgress: pc.on})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	reqs := srv.Requests()
	t.Logf("chaos: %v, adopted %d, 429s %d, requests %v", rep.Duration, rep.Adopted, rep.RateLimited, reqs)
	assert.Positive(t, rep.Adopted, "some creates were applied without an answer and adopted")
	assert.Positive(t, reqs["POST /certificates"][0], "connections were dropped after commit")
	assert.Positive(t, rep.RateLimited)
	assert.EqualValues(t, n, pc.calls.Load())
}

func TestIssueCertificatesUnauthorizedStopsRun(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(20))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 20, 0)
	bad, err := NewClient(WithTenant(srv.Tenant), WithToken("wrong"), WithBaseURL(srv.URL), WithRetry(batchRetry))
	require.NoError(t, err)

	rep, err := bad.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 4})
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), "batch stopped")
	require.NotNil(t, rep)
	assert.Len(t, rep.Results, 20)
	assert.Equal(t, 20, rep.NotSettled)
	for _, r := range rep.Results {
		assert.ErrorIs(t, r.Err, ErrNotSettled)
	}
	assert.Empty(t, srv.Certificates())
	assert.LessOrEqual(t, srv.RequestCount("POST /certificates"), 4, "the run stopped at the first 401s")
}

// TestIssueCertificatesForbiddenStopsRun: a 403 on one item stops the run; what settled before
// it is reported, and nothing more is sent.
func TestIssueCertificatesForbiddenStopsRun(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(30))
	c, tr := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 30, 0)
	var posts atomic.Int64
	forbidding := &http.Client{Transport: batchRoundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && posts.Add(1) == 11 {
			return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"message":"This action is unauthorized."}`)), Request: r}, nil
		}
		return tr.RoundTrip(r)
	})}
	c2, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(forbidding), WithRetry(batchRetry))
	require.NoError(t, err)

	rep, err := c2.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 1})
	require.ErrorIs(t, err, ErrForbidden)
	require.NotNil(t, rep)
	assert.Equal(t, 10, rep.Succeeded)
	assert.Equal(t, 20, rep.NotSettled)
	assert.Zero(t, rep.Failed)
	assert.ErrorIs(t, rep.Results[10].Err, ErrForbidden)
	assert.ErrorIs(t, rep.Results[10].Err, ErrNotSettled)
	assert.Len(t, srv.Certificates(), 10)
	assert.EqualValues(t, 11, posts.Load(), "nothing sent after the 403")
}

type batchRoundTrip func(*http.Request) (*http.Response, error)

func (f batchRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestIssueCertificatesCancelLeavesNothingBehind(t *testing.T) {
	// Not parallel: goleak compares with the goroutines alive when the test starts.
	ignore := goleak.IgnoreCurrent()
	srv, err := dokstamptest.New(dokstamptest.WithStudents(300))
	require.NoError(t, err)
	c, tr := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 300, 0)
	srv.SetFaults(dokstamptest.Faults{Latency: 20 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	rep, err := c.Batch.IssueCertificates(ctx, items, &BatchOptions{Concurrency: 8, OnProgress: func(p Progress) {
		if p.Done == 40 {
			cancelled = time.Now()
			cancel()
		}
	}})
	took := time.Since(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rep)
	t.Logf("returned %v after cancel: %d succeeded, %d failed, %d unsettled", took, rep.Succeeded, rep.Failed, rep.NotSettled)
	assert.Less(t, took, time.Second, "returns promptly")
	assert.GreaterOrEqual(t, rep.Succeeded, 40)
	assert.Positive(t, rep.NotSettled)
	assert.Equal(t, 300, rep.Succeeded+rep.Failed+rep.NotSettled)
	for i, r := range rep.Results {
		if r.Err != nil {
			assert.ErrorIs(t, r.Err, ErrNotSettled, "item %d", i)
		}
	}
	// A certificate the server created is in the report or was in flight: never more than
	// the settled successes plus those in flight at the cancel.
	assert.LessOrEqual(t, len(srv.Certificates()), rep.Succeeded+8)

	srv.Close()
	tr.CloseIdleConnections()
	goleak.VerifyNone(t, ignore)
}

// --- crash and resume ---

const (
	envCrashURL     = "DOKSTAMP_CRASH_URL"
	envCrashToken   = "DOKSTAMP_CRASH_TOKEN"
	envCrashTenant  = "DOKSTAMP_CRASH_TENANT"
	envCrashJournal = "DOKSTAMP_CRASH_JOURNAL"
	envCrashItems   = "DOKSTAMP_CRASH_ITEMS"
)

// TestCrashChild is the process TestIssueCertificatesCrashResume kills: it does nothing unless
// started by it.
func TestCrashChild(t *testing.T) {
	jpath := os.Getenv(envCrashJournal)
	if jpath == "" {
		return
	}
	items, err := readItems(os.Getenv(envCrashItems))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	c, err := NewClient(WithTenant(os.Getenv(envCrashTenant)), WithToken(os.Getenv(envCrashToken)), WithBaseURL(os.Getenv(envCrashURL)))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	j, err := OpenJournal(jpath)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_, err = c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 16, Journal: j,
		OnProgress: func(p Progress) { fmt.Printf("progress %d\n", p.Done) }})
	fmt.Println("finished", err)
	os.Exit(0)
}

func TestIssueCertificatesCrashResume(t *testing.T) {
	t.Parallel()
	const n = 600
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, n, 0)
	srv.SetFaults(dokstamptest.Faults{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond})
	dir := t.TempDir()
	itemsPath, jpath := filepath.Join(dir, "items.json"), filepath.Join(dir, "journal.jsonl")
	require.NoError(t, writeItems(itemsPath, items))

	killedAt := runAndKill(t, []string{envCrashURL + "=" + srv.URL, envCrashToken + "=" + srv.Token, envCrashTenant + "=" + srv.Tenant,
		envCrashJournal + "=" + jpath, envCrashItems + "=" + itemsPath}, n/2)
	before := len(srv.Certificates())
	t.Logf("child killed after %d settled; the server holds %d certificates", killedAt, before)
	require.Less(t, before, n, "killed before the end")
	require.GreaterOrEqual(t, before, n/2)

	srv.ResetRequests()
	j, err := OpenJournal(jpath)
	require.NoError(t, err)
	defer j.Close()
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 16, Journal: j})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	t.Logf("resume: %d skipped, %d adopted, %d POST /certificates", rep.Skipped, rep.Adopted, srv.RequestCount("POST /certificates"))
	assert.GreaterOrEqual(t, rep.Skipped, killedAt, "what the child settled is done in the journal")
	// A create the child had in flight may be applied after the kill: its look-up can miss it, and
	// then its re-send is answered 422 (file used) and resolved by a second look-up. So at most
	// the items the server lacked at the kill are sent.
	assert.LessOrEqual(t, srv.RequestCount("POST /certificates"), n-before, "only the items the server did not have were sent")
}

func TestJournalResumeAfterFailures(t *testing.T) {
	t.Parallel()
	const n = 50
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(n))
	quick := RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}
	c, tr := batchClient(t, srv, quick)
	items := batchItems(t, srv, c, n, 0)
	// 60% of the look-ups of one student's certificates fail (not the run's listing of the course).
	var lookups atomic.Int64
	failing := &http.Client{Transport: batchRoundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodGet && r.URL.Query().Has("where[student_uuid]") && lookups.Add(1)%5 < 3 {
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		}
		return tr.RoundTrip(r)
	})}
	cf, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(failing), WithRetry(quick))
	require.NoError(t, err)
	j, err := OpenJournal(filepath.Join(t.TempDir(), "j.jsonl"))
	require.NoError(t, err)
	defer j.Close()

	// Every create applied then dropped, half the look-ups failing: all in doubt or adopted.
	srv.SetRouteFaults("POST /certificates", dokstamptest.Faults{DropAfterCommitRate: 1})
	rep, err := cf.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 8, MaxAttempts: 2, Journal: j})
	require.NoError(t, err)
	t.Logf("first run: %d succeeded (%d adopted), %d failed", rep.Succeeded, rep.Adopted, rep.Failed)
	assert.Equal(t, n, len(srv.Certificates()), "every create was applied")
	assert.Positive(t, rep.Failed)
	for _, r := range rep.Results {
		if r.Err != nil {
			assert.ErrorIs(t, r.Err, ErrOutcomeUnknown)
		}
	}

	srv.SetRouteFaults("POST /certificates", dokstamptest.Faults{})
	srv.ResetRequests()
	rep2, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Concurrency: 8, Journal: j})
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep2)
	assert.Equal(t, rep.Succeeded, rep2.Skipped)
	assert.Equal(t, rep.Failed, rep2.Adopted, "the failed ones were in doubt: found by look-up")
	assert.Zero(t, srv.RequestCount("POST /certificates"))
}

// TestJournalServesAnotherList: the journal is keyed by each item's identity, so a run over other
// items resumes nothing and refuses nothing; a closed journal is refused.
func TestJournalServesAnotherList(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(6))
	c, _ := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 6, 0)
	j, err := OpenJournal(filepath.Join(t.TempDir(), "j.jsonl"))
	require.NoError(t, err)
	defer j.Close()
	_, err = c.Batch.IssueCertificates(context.Background(), items[:3], &BatchOptions{Journal: j})
	require.NoError(t, err)
	rep, err := c.Batch.IssueCertificates(context.Background(), items, &BatchOptions{Journal: j})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Skipped)
	assertExactlyIssued(t, srv, items, rep)

	require.NoError(t, j.Close())
	_, err = c.Batch.IssueCertificates(context.Background(), items[:3], &BatchOptions{Journal: j})
	assert.ErrorIs(t, err, ErrJournalClosed)
}

// TestJournalOneRunAtATime: a second run given the journal while the first is still going is
// refused, naming the file, and sends nothing.
func TestJournalOneRunAtATime(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(2))
	_, tr := batchClient(t, srv, batchRetry)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	held := &http.Client{Transport: batchRoundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && r.URL.Path == "/certificates" {
			once.Do(func() { close(started) })
			<-release
		}
		return tr.RoundTrip(r)
	})}
	c, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(held), WithRetry(batchRetry))
	require.NoError(t, err)
	items := batchItems(t, srv, c, 2, 0)
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, err := OpenJournal(path)
	require.NoError(t, err)
	defer j.Close()

	done := make(chan error, 1)
	go func() {
		_, err := c.Batch.IssueCertificates(context.Background(), items[:1], &BatchOptions{Journal: j})
		done <- err
	}()
	<-started
	rep, err := c.Batch.IssueCertificates(context.Background(), items[1:], &BatchOptions{Journal: j})
	assert.Nil(t, rep)
	require.ErrorIs(t, err, ErrJournalInUse)
	assert.ErrorContains(t, err, path)
	close(release)
	require.NoError(t, <-done)
	assert.Len(t, srv.Certificates(), 1, "the second run sent nothing")

	_, err = c.Batch.IssueCertificates(context.Background(), items[1:], &BatchOptions{Journal: j})
	assert.NoError(t, err, "once the first run returned, the journal serves the next")
}

// --- helpers for the child process ---

func writeItems(path string, items []CertificateCreateParams) error {
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func readItems(path string) ([]CertificateCreateParams, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var items []CertificateCreateParams
	return items, json.Unmarshal(b, &items)
}

// runAndKill starts TestCrashChild with env, reads its progress lines and kills it (SIGKILL) once
// killAt items settled; it returns how many had settled.
func runAndKill(t *testing.T, env []string, killAt int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	done := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if n, err := fmt.Sscanf(line, "progress %d", &done); n == 1 && err == nil {
			if done >= killAt {
				require.NoError(t, cmd.Process.Kill())
				break
			}
			continue
		}
		if strings.HasPrefix(line, "finished") || strings.HasPrefix(line, "error") {
			t.Fatalf("child ended before it was killed: %s", line)
		}
	}
	_, _ = io.Copy(io.Discard, out)
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "killed")
	return done
}

// TestIssueCertificatesLateCommit: the create is applied but answered 502, and the look-up does
// not see it yet (a lagging read): the re-send is refused because the file is used, and the
// second look-up adopts the certificate. Nothing is issued twice.
func TestIssueCertificatesLateCommit(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(1))
	c, tr := batchClient(t, srv, batchRetry)
	items := batchItems(t, srv, c, 1, 0)
	var posts, gets atomic.Int64
	lagging := &http.Client{Transport: batchRoundTrip(func(r *http.Request) (*http.Response, error) {
		switch {
		case r.Method == http.MethodPost && posts.Add(1) == 1:
			resp, err := tr.RoundTrip(r)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		case r.Method == http.MethodGet && gets.Add(1) == 2: // the first is the run's listing of the course
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"data":[],"meta":{"current_page":1,"per_page":100,"total":0,"last_page":1}}`))}, nil
		}
		return tr.RoundTrip(r)
	})}
	c2, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(lagging), WithRetry(batchRetry))
	require.NoError(t, err)

	rep, err := c2.Batch.IssueCertificates(context.Background(), items, nil)
	require.NoError(t, err)
	assertExactlyIssued(t, srv, items, rep)
	assert.True(t, rep.Results[0].Adopted)
	assert.Equal(t, 2, rep.Results[0].Attempts)
	assert.Equal(t, map[int]int{201: 1, 422: 1}, srv.Requests()["POST /certificates"])
}
