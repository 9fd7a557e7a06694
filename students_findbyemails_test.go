package dokstamp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// seeded is the e-mail dokstamptest gives its i-th seeded student.
func seeded(srv *dokstamptest.Server, i int) string {
	return fmt.Sprintf("student%d@%s.test", i, srv.Tenant)
}

func TestFindByEmailsListsWhenCheaper(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(30), dokstamptest.WithMaxPerPage(5))
	c, _ := batchClient(t, srv, batchRetry)
	mixed, err := c.Students.Create(context.Background(), &StudentCreateParams{Name: "M", Email: "Mixed.Case@Example.com", DateOfBirth: "2000-01-01"})
	require.NoError(t, err)
	srv.ResetRequests()
	var emails []string
	for i := 1; i <= 20; i++ {
		emails = append(emails, seeded(srv, i))
	}
	upper := strings.ToUpper(seeded(srv, 7))
	emails = append(emails, upper, seeded(srv, 3), "nobody@example.com", "NOBODY@example.com", "mixed.case@example.com")

	got, err := c.Students.FindByEmails(context.Background(), emails)
	require.NoError(t, err)
	assert.Len(t, got, 22, "21 students, the upper-case spelling keyed too, nobody absent")
	assert.Equal(t, mixed.UUID, got["mixed.case@example.com"].UUID, "the server's spelling differs from the one asked")
	for i := 1; i <= 20; i++ {
		st, ok := got[seeded(srv, i)]
		if assert.True(t, ok, "student %d", i) {
			assert.Equal(t, srv.StudentUUIDs[i-1], st.UUID)
		}
	}
	assert.Equal(t, got[seeded(srv, 7)], got[upper], "e-mails compare without regard to case")
	assert.NotContains(t, got, "nobody@example.com")
	// 31 students in pages of 5: seven list requests, against 22 look-ups.
	assert.Equal(t, 7, srv.RequestCount("GET /students"))
}

func TestFindByEmailsLooksUpWhenCheaper(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(60), dokstamptest.WithMaxPerPage(5))
	c, _ := batchClient(t, srv, batchRetry)
	emails := []string{seeded(srv, 40), strings.ToUpper(seeded(srv, 41)), "nobody@example.com", seeded(srv, 2)}

	got, err := c.Students.FindByEmails(context.Background(), emails)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, srv.StudentUUIDs[39], got[emails[0]].UUID)
	assert.Equal(t, srv.StudentUUIDs[40], got[emails[1]].UUID)
	assert.Equal(t, srv.StudentUUIDs[1], got[emails[3]].UUID, "found on the first page, not looked up")
	// the first page, then one look-up for each of the 3 e-mails it did not hold (not 11 pages)
	assert.Equal(t, 4, srv.RequestCount("GET /students"))
}

// studentsServer answers GET /students: where[email] look-ups from byEmail, pages from pages
// (by page number), and counts the look-ups.
func studentsServer(t *testing.T, pages map[string]string, byEmail map[string]string) (*Client, *atomic.Int32) {
	t.Helper()
	c, mt := newMockClient(t)
	var lookups atomic.Int32
	mt.RegisterResponder("GET", testBase+"/students", func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		if e := q.Get("where[email]"); e != "" {
			lookups.Add(1)
			if st, ok := byEmail[strings.ToLower(e)]; ok {
				return reply(200, listReply(1, 1, 1, st)), nil
			}
			return reply(200, listReply(1, 1, 0)), nil
		}
		p, ok := pages[q.Get("page")]
		if !ok {
			t.Errorf("unexpected page %q", q.Get("page"))
			return reply(404, `{}`), nil
		}
		if p == "422" {
			return reply(422, `{"message":"The per page may not be greater than 100.","errors":{"per_page":["too big"]}}`), nil
		}
		return reply(200, p), nil
	})
	return c, &lookups
}

func studentObj(n int) string {
	return fmt.Sprintf(`{"uuid":"00000000-0000-4000-8000-%012d","name":"S%d","email":"s%d@example.com"}`, n, n, n)
}

func TestFindByEmailsLooksUpWhatAShiftingListMissed(t *testing.T) {
	t.Parallel()
	// Page 1 says 3 students in pages of 2; then one is deleted and page 2 comes back empty,
	// with total 2: student 3 moved to page 1 after it was read.
	c, lookups := studentsServer(t, map[string]string{
		"":  `{"data":[` + studentObj(1) + `,` + studentObj(2) + `],"meta":{"current_page":1,"per_page":2,"total":3,"last_page":2}}`,
		"2": `{"data":[],"meta":{"current_page":2,"per_page":2,"total":2,"last_page":1}}`,
	}, map[string]string{"s3@example.com": studentObj(3)})
	got, err := c.Students.FindByEmails(context.Background(), []string{"s1@example.com", "s3@example.com", "s9@example.com"})
	require.NoError(t, err)
	assert.Len(t, got, 2)
	assert.Equal(t, "S3", got["s3@example.com"].Name)
	assert.EqualValues(t, 2, lookups.Load(), "the two e-mails still missing after the list changed")
}

func TestFindByEmailsWithoutMeta(t *testing.T) {
	t.Parallel()
	// No meta: a short page may be a clamped one, so what it lacks is looked up.
	c, lookups := studentsServer(t, map[string]string{"": `{"data":[` + studentObj(1) + `]}`},
		map[string]string{"s2@example.com": studentObj(2)})
	got, err := c.Students.FindByEmails(context.Background(), []string{"s1@example.com", "S2@example.com", "s3@example.com"})
	require.NoError(t, err)
	assert.Len(t, got, 2)
	assert.Equal(t, "S2", got["S2@example.com"].Name)
	assert.EqualValues(t, 2, lookups.Load())
}

func TestFindByEmailsPageSizeRefused(t *testing.T) {
	t.Parallel()
	c, lookups := studentsServer(t, map[string]string{"": "422"}, map[string]string{"s1@example.com": studentObj(1)})
	got, err := c.Students.FindByEmails(context.Background(), []string{"s1@example.com", "s2@example.com"})
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.EqualValues(t, 2, lookups.Load())
}

func TestFindByEmailsEmptyTenant(t *testing.T) {
	t.Parallel()
	c, lookups := studentsServer(t, map[string]string{"": `{"data":[],"meta":{"current_page":1,"per_page":500,"total":0}}`}, nil)
	got, err := c.Students.FindByEmails(context.Background(), []string{"s1@example.com"})
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Zero(t, lookups.Load())
}

func TestFindByEmailsTwoStudentsOneEmail(t *testing.T) {
	t.Parallel()
	other := strings.Replace(studentObj(1), "000000000001", "000000000099", 1)
	c, _ := studentsServer(t, map[string]string{
		"": `{"data":[` + studentObj(1) + `,` + other + `],"meta":{"current_page":1,"per_page":500,"total":2,"last_page":1}}`}, nil)
	_, err := c.Students.FindByEmails(context.Background(), []string{"s1@example.com"})
	assert.ErrorContains(t, err, "both have e-mail s1@example.com")
}

func TestFindByEmailsRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	_, err := c.Students.FindByEmails(ctx, nil)
	assert.ErrorContains(t, err, "no e-mails given")
	_, err = c.Students.FindByEmails(ctx, []string{"a@example.com", "", "b@", " c@example.com"})
	assert.ErrorContains(t, err, "emails[1] is required")
	assert.ErrorContains(t, err, `emails[2] "b@" is not an e-mail address`)
	assert.ErrorContains(t, err, `emails[3] " c@example.com" is not an e-mail address`)
	many := make([]string, 15)
	for i := range many {
		many[i] = fmt.Sprintf("bad%d", i)
	}
	_, err = c.Students.FindByEmails(ctx, many)
	assert.ErrorContains(t, err, "emails[9]")
	assert.NotContains(t, err.Error(), "emails[10]")
	assert.ErrorContains(t, err, "and 5 more")
	//lint:ignore SA1012 a nil context must be refused, not panic
	_, err = c.Students.FindByEmails(nil, []string{"a@example.com"}) //nolint:staticcheck
	assert.ErrorContains(t, err, "nil context")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestFindByEmailsStopsWithCtx(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(40), dokstamptest.WithMaxPerPage(2))
	c, _ := batchClient(t, srv, batchRetry)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Students.FindByEmails(ctx, []string{seeded(srv, 30)})
	assert.ErrorIs(t, err, context.Canceled)

	// Cancelled while the pages are read: the call ends with ctx's error, not a partial map.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	hooked := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if n.Add(1) == 3 {
			cancel()
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	c2, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithHTTPClient(hooked))
	require.NoError(t, err)
	var emails []string
	for i := 21; i <= 40; i++ {
		emails = append(emails, seeded(srv, i))
	}
	got, err := c2.Students.FindByEmails(ctx, emails)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, got)
}

// TestSafeCreatesPassOptionsDown checks that the per-call options of FindOrCreate and
// FindByEmails reach every request they make.
func TestSafeCreatesPassOptionsDown(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var seen, tagged atomic.Int32
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		if r.Header.Get("X-Correlation-Id") == "grad-2026" {
			tagged.Add(1)
		}
		switch {
		case r.Method == "POST":
			return reply(503, `{"message":"Server Error"}`), nil // in doubt: look-up again
		case r.URL.Query().Get("page") == "2":
			return reply(200, `{"data":[`+studentObj(3)+`],"meta":{"current_page":2,"per_page":2,"total":3,"last_page":2}}`), nil
		case r.URL.Query().Get("where[email]") == "":
			return reply(200, `{"data":[`+studentObj(1)+`,`+studentObj(2)+`],"meta":{"current_page":1,"per_page":2,"total":3,"last_page":2}}`), nil
		case seen.Load() <= 2:
			return reply(200, listReply(1, 1, 0)), nil
		}
		return reply(200, listReply(1, 1, 1, foundStudent)), nil
	})
	opt := WithHeader("X-Correlation-Id", "grad-2026")
	_, created, err := c.Students.FindOrCreate(context.Background(), anaParams, opt)
	require.NoError(t, err)
	assert.True(t, created)
	got, err := c.Students.FindByEmails(context.Background(), []string{"s1@example.com", "s3@example.com"}, opt)
	require.NoError(t, err)
	assert.Len(t, got, 2)
	assert.EqualValues(t, 5, seen.Load(), "look-up, create, look-up; two pages")
	assert.Equal(t, seen.Load(), tagged.Load(), "every request carries the call's header")
}

// TestFindByEmailsThroughServerErrors: the pages and look-ups are reads, retried on 5xx like
// every GET, so a flaky server still gives the whole answer.
func TestFindByEmailsThroughServerErrors(t *testing.T) {
	t.Parallel()
	for _, maxPerPage := range []int{5, 1} { // listing, then look-ups
		t.Run(fmt.Sprintf("per_page=%d", maxPerPage), func(t *testing.T) {
			t.Parallel()
			srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(25), dokstamptest.WithMaxPerPage(maxPerPage), dokstamptest.WithSeed(7),
				dokstamptest.WithRouteFaults("GET /students", dokstamptest.Faults{ErrorRate: 0.3}))
			c, _ := batchClient(t, srv, RetryPolicy{MaxRetries: 8, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})
			emails := []string{"nobody@example.com"}
			for i := 1; i <= 25; i += 2 {
				emails = append(emails, seeded(srv, i))
			}
			got, err := c.Students.FindByEmails(context.Background(), emails)
			require.NoError(t, err)
			assert.Len(t, got, 13)
			for i := 1; i <= 25; i += 2 {
				assert.Equal(t, srv.StudentUUIDs[i-1], got[seeded(srv, i)].UUID)
			}
			assert.Positive(t, srv.Requests()["GET /students"][500]+srv.Requests()["GET /students"][502]+srv.Requests()["GET /students"][503],
				"the fault did strike")
		})
	}
}
