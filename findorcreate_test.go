package dokstamp

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// TestFindOrCreateDroppedAnswer runs every FindOrCreate against a fake that applies the create
// and then drops the connection: the first call settles the unknown outcome by look-up and
// reports the record as created by it, a second call finds it, and the server holds one record.
func TestFindOrCreateDroppedAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		route string
		call  func(context.Context, *Client, *dokstamptest.Server) (outcome, error)
		count func(context.Context, *Client) int
	}{
		{"POST /students",
			func(ctx context.Context, c *Client, _ *dokstamptest.Server) (outcome, error) {
				return outcomeOf(c.Students.FindOrCreate(ctx, &StudentCreateParams{Name: "Ana Lima", Email: "Ana.Lima@example.com", DateOfBirth: "2001-02-03"}))
			},
			func(ctx context.Context, c *Client) int {
				return countAll(ctx, c.Students.All(ctx, &ListOptions{Where: map[string]string{"email": "ana.lima@example.com"}}))
			}},
		{"POST /courses",
			func(ctx context.Context, c *Client, srv *dokstamptest.Server) (outcome, error) {
				return outcomeOf(c.Courses.FindOrCreate(ctx, &CourseCreateParams{Name: "Mathematics", InstitutionUUID: srv.InstitutionUUID, Code: "MATH"}))
			},
			func(ctx context.Context, c *Client) int {
				return countAll(ctx, c.Courses.All(ctx, &ListOptions{Where: map[string]string{"code": "MATH"}}))
			}},
		{"POST /cohorts",
			func(ctx context.Context, c *Client, srv *dokstamptest.Server) (outcome, error) {
				return outcomeOf(c.Cohorts.FindOrCreate(ctx, &CohortCreateParams{CourseUUID: srv.CourseUUID, Code: "CS-2026"}))
			},
			func(ctx context.Context, c *Client) int {
				return countAll(ctx, c.Cohorts.All(ctx, &ListOptions{Where: map[string]string{"code": "CS-2026"}}))
			}},
		{"POST /modules",
			func(ctx context.Context, c *Client, srv *dokstamptest.Server) (outcome, error) {
				return outcomeOf(c.Modules.FindOrCreate(ctx, &ModuleCreateParams{Name: "Algebra", InstitutionUUID: srv.InstitutionUUID, Code: "ALG1"}))
			},
			func(ctx context.Context, c *Client) int {
				return countAll(ctx, c.Modules.All(ctx, &ListOptions{Where: map[string]string{"code": "ALG1"}}))
			}},
		{"POST /students/{student_uuid}/pages",
			func(ctx context.Context, c *Client, srv *dokstamptest.Server) (outcome, error) {
				return outcomeOf(c.Students.FindOrCreatePage(ctx, srv.StudentUUIDs[0], &PortfolioPageCreateParams{Slug: "student-one"}))
			},
			nil},
	} {
		t.Run(tc.route, func(t *testing.T) {
			t.Parallel()
			srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(2))
			c, _ := batchClient(t, srv, batchRetry)
			ctx := context.Background()

			// A plain create under the same fault is in doubt: the loop FindOrCreate saves.
			srv.SetRouteFaults(tc.route, dokstamptest.Faults{DropAfterCommitRate: 1})
			first, err := tc.call(ctx, c, srv)
			require.NoError(t, err)
			assert.True(t, first.created, "the record was absent before and exists after this call's create")
			assert.Equal(t, 1, srv.RequestCount(tc.route), "one create sent")

			second, err := tc.call(ctx, c, srv)
			require.NoError(t, err)
			assert.Equal(t, first.key, second.key)
			assert.False(t, second.created, "found, not created")
			assert.Equal(t, 1, srv.RequestCount(tc.route), "no second create")

			srv.SetRouteFaults(tc.route, dokstamptest.Faults{})
			if tc.count == nil {
				page, err := c.Students.ListPages(ctx, srv.StudentUUIDs[0], nil)
				require.NoError(t, err)
				assert.Len(t, page.Data, 1, "one page on the server")
				return
			}
			assert.Equal(t, 1, tc.count(ctx, c), "one record on the server")
		})
	}
}

// outcome is what a FindOrCreate returned: the record's identity and whether it was created.
type outcome struct {
	key     string
	created bool
}

func outcomeOf[T any](v *T, created bool, err error) (outcome, error) {
	if err != nil {
		return outcome{}, err
	}
	return outcome{itemKey[T]()(v), created}, nil
}

func countAll[T any](ctx context.Context, seq func(func(T, error) bool)) int {
	n := 0
	for _, err := range seq {
		if err != nil {
			return -1
		}
		n++
	}
	return n
}

func TestStudentsCreateDroppedAnswerIsInDoubt(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(0),
		dokstamptest.WithRouteFaults("POST /students", dokstamptest.Faults{DropAfterCommitRate: 1}))
	c, _ := batchClient(t, srv, batchRetry)
	_, err := c.Students.Create(context.Background(), &StudentCreateParams{Name: "A", Email: "a@example.com", DateOfBirth: "2000-01-01"})
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "the fault FindOrCreate is tested under does lose the answer")
}

const foundStudent = `{"uuid":"` + studentUUID + `","name":"Ana","email":"ana@example.com","date_of_birth":"2000-01-01"}`

// studentRoutes answers GET /students?where[email]= from lookups (one per call, the last one
// repeated) and POST /students from creates, counting both.
func studentRoutes(t *testing.T, lookups, creates []string) (*Client, *atomic.Int32, *atomic.Int32) {
	t.Helper()
	c, mt := newMockClient(t)
	var gets, posts atomic.Int32
	mt.RegisterResponder("GET", testBase+"/students", func(r *http.Request) (*http.Response, error) {
		checkRequest(t, r, call{Method: "GET", Path: "/students", Query: url.Values{"per_page": {"100"}, "where[email]": {"ana@example.com"}}})
		i := int(gets.Add(1)) - 1
		if a := lookups[min(i, len(lookups)-1)]; a != "500" {
			return reply(200, a), nil
		}
		return reply(500, `{"message":"Server Error"}`), nil
	})
	mt.RegisterResponder("POST", testBase+"/students", func(r *http.Request) (*http.Response, error) {
		i := int(posts.Add(1)) - 1
		a := creates[min(i, len(creates)-1)]
		if a == "503" {
			return reply(503, `{"message":"Server Error"}`), nil
		}
		if a == "taken" {
			return reply(422, `{"message":"The given data was invalid.","errors":{"email":["The email has already been taken."]}}`), nil
		}
		if a == "invalid" {
			return reply(422, `{"message":"The given data was invalid.","errors":{"name":["The name is invalid."]}}`), nil
		}
		return reply(201, dataReply(foundStudent)), nil
	})
	return c, &gets, &posts
}

var (
	noStudent  = listReply(1, 1, 0)
	oneStudent = listReply(1, 1, 1, foundStudent)
	anaParams  = &StudentCreateParams{Name: "Ana", Email: "ana@example.com", DateOfBirth: "2000-01-01"}
)

func TestFindOrCreateSettles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("found first: nothing created", func(t *testing.T) {
		t.Parallel()
		c, gets, posts := studentRoutes(t, []string{oneStudent}, []string{"201"})
		st, created, err := c.Students.FindOrCreate(ctx, anaParams)
		require.NoError(t, err)
		assert.Equal(t, studentUUID, st.UUID)
		assert.False(t, created)
		assert.EqualValues(t, 1, gets.Load())
		assert.EqualValues(t, 0, posts.Load())
	})
	t.Run("taken meanwhile: found, not created by this call", func(t *testing.T) {
		t.Parallel()
		c, gets, posts := studentRoutes(t, []string{noStudent, oneStudent}, []string{"taken"})
		st, created, err := c.Students.FindOrCreate(ctx, anaParams)
		require.NoError(t, err)
		assert.Equal(t, studentUUID, st.UUID)
		assert.False(t, created)
		assert.EqualValues(t, 2, gets.Load())
		assert.EqualValues(t, 1, posts.Load())
	})
	t.Run("taken but invisible: the 422 is returned", func(t *testing.T) {
		t.Parallel()
		c, _, posts := studentRoutes(t, []string{noStudent}, []string{"taken"})
		_, _, err := c.Students.FindOrCreate(ctx, anaParams)
		assert.ErrorIs(t, err, ErrValidation)
		assert.ErrorContains(t, err, "no record with it can be found")
		assert.EqualValues(t, 1, posts.Load())
	})
	t.Run("another 422 is not settled", func(t *testing.T) {
		t.Parallel()
		c, gets, _ := studentRoutes(t, []string{noStudent}, []string{"invalid"})
		_, _, err := c.Students.FindOrCreate(ctx, anaParams)
		assert.ErrorIs(t, err, ErrValidation)
		assert.EqualValues(t, 1, gets.Load(), "no look-up after a refusal that does not name the key")
	})
	t.Run("unknown and absent: sent again", func(t *testing.T) {
		t.Parallel()
		c, gets, posts := studentRoutes(t, []string{noStudent}, []string{"503", "201"})
		st, created, err := c.Students.FindOrCreate(ctx, anaParams)
		require.NoError(t, err)
		assert.Equal(t, studentUUID, st.UUID)
		assert.True(t, created)
		assert.EqualValues(t, 2, gets.Load())
		assert.EqualValues(t, 2, posts.Load())
	})
	t.Run("unknown every time: gives up, still unknown", func(t *testing.T) {
		t.Parallel()
		c, gets, posts := studentRoutes(t, []string{noStudent}, []string{"503"})
		_, _, err := c.Students.FindOrCreate(ctx, anaParams)
		assert.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.ErrorContains(t, err, "3 creates")
		assert.EqualValues(t, createAttempts, posts.Load())
		assert.EqualValues(t, 1+createAttempts, gets.Load())
	})
	t.Run("look-up fails after an unknown outcome: both in the error", func(t *testing.T) {
		t.Parallel()
		c, _, _ := studentRoutes(t, []string{noStudent, "500"}, []string{"503"})
		_, _, err := c.Students.FindOrCreate(ctx, anaParams)
		assert.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.ErrorIs(t, err, ErrServer)
		assert.ErrorContains(t, err, "settling the create by look-up failed")
	})
}

func TestFindOrCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	_, _, err := c.Students.FindOrCreate(ctx, nil)
	assert.ErrorContains(t, err, "nil params")
	_, _, err = c.Students.FindOrCreate(ctx, &StudentCreateParams{Name: "A", Email: "not-an-address", DateOfBirth: "2000-01-01"})
	assert.ErrorContains(t, err, "not an e-mail address")
	_, _, err = c.Courses.FindOrCreate(ctx, &CourseCreateParams{Name: "Maths", InstitutionUUID: instUUID})
	assert.ErrorContains(t, err, "code is required")
	_, _, err = c.Modules.FindOrCreate(ctx, &ModuleCreateParams{Name: "Algebra", InstitutionUUID: instUUID})
	assert.ErrorContains(t, err, "code is required")
	_, _, err = c.Cohorts.FindOrCreate(ctx, &CohortCreateParams{CourseUUID: "x", Code: "C1"})
	assert.ErrorContains(t, err, "course_uuid")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCohortsFindOrCreateOtherCourse(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/cohorts", Query: q("per_page", "100", "where[code]", "CS-2024"),
		Reply: listReply(1, 1, 1, `{"uuid":"`+cohortUUID+`","code":"CS-2024","course":{"uuid":"`+courseUUID+`"}}`)})
	_, _, err := c.Cohorts.FindOrCreate(context.Background(), &CohortCreateParams{CourseUUID: instUUID, Code: "CS-2024"})
	assert.ErrorContains(t, err, "belongs to course "+courseUUID)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "no create")
}

func TestCoursesFindOrCreateIgnoresOtherInstitutions(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/courses", Query: q("per_page", "100", "where[code]", "CS"),
		Reply: listReply(1, 1, 1, `{"uuid":"`+courseUUID+`","code":"CS","name":"CS","institution":{"uuid":"`+orgUUID+`"}}`)})
	expect(t, mt, call{Method: "POST", Path: "/courses", Status: 201, Body: `{"name":"CS","institution_uuid":"` + instUUID + `","code":"CS"}`,
		Reply: dataReply(`{"uuid":"` + module2UUID + `","code":"CS","name":"CS","institution":{"uuid":"` + instUUID + `"}}`)})
	co, created, err := c.Courses.FindOrCreate(context.Background(), &CourseCreateParams{Name: "CS", InstitutionUUID: instUUID, Code: "CS"})
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, module2UUID, co.UUID)
}

func TestFindOrCreatePageSlugOfAnotherStudent(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(2))
	c, _ := batchClient(t, srv, batchRetry)
	ctx := context.Background()
	_, created, err := c.Students.FindOrCreatePage(ctx, srv.StudentUUIDs[0], &PortfolioPageCreateParams{Slug: "maria"})
	require.NoError(t, err)
	require.True(t, created)
	_, _, err = c.Students.FindOrCreatePage(ctx, srv.StudentUUIDs[1], &PortfolioPageCreateParams{Slug: "maria"})
	assert.ErrorIs(t, err, ErrValidation, "the slug is held by another student's page")
	assert.ErrorContains(t, err, "no record with it can be found")
	_, _, err = c.Students.FindOrCreatePage(ctx, "x", &PortfolioPageCreateParams{Slug: "maria"})
	assert.ErrorContains(t, err, "not a UUID")
	_, _, err = c.Students.FindOrCreatePage(ctx, srv.StudentUUIDs[1], &PortfolioPageCreateParams{Slug: "Maria!"})
	assert.ErrorContains(t, err, "lowercase")
}
