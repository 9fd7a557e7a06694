package dokstamp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const enrollmentJSON = `{"uuid":"` + enrollUUID + `","completion_status":"completed","grade":8.75,
	"enrolled_at":"2024-02-01T00:00:00.000000Z","completed_at":"2027-12-10T00:00:00.000000Z",
	"student":{"uuid":"` + studentUUID + `","name":"Maria Fernanda Silva"},
	"course":{"uuid":"` + courseUUID + `","name":"Computer Science"},
	"cohort":{"uuid":"` + cohortUUID + `","code":"CS-2024"},"created_at":"2024-02-01T10:00:00.000000Z"}`

func assertEnrollment(t *testing.T, e *Enrollment) {
	t.Helper()
	require.NotNil(t, e)
	assert.Equal(t, enrollUUID, e.UUID)
	assert.Equal(t, CompletionCompleted, e.CompletionStatus)
	require.NotNil(t, e.Grade)
	assert.InDelta(t, 8.75, *e.Grade, 1e-9)
	assert.Equal(t, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), e.EnrolledAt.UTC())
	require.NotNil(t, e.CompletedAt)
	assert.Equal(t, time.Date(2027, 12, 10, 0, 0, 0, 0, time.UTC), e.CompletedAt.UTC())
	assert.Equal(t, "Maria Fernanda Silva", e.Student.Name)
	assert.Equal(t, courseUUID, e.Course.UUID)
	require.NotNil(t, e.Cohort)
	assert.Equal(t, Ref{UUID: cohortUUID, Code: "CS-2024"}, *e.Cohort)
	assert.Equal(t, time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC), e.CreatedAt.UTC())
}

func TestEnrollmentsGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/enrollments/" + enrollUUID, Reply: dataReply(enrollmentJSON)})
	e, err := c.Enrollments.Get(context.Background(), enrollUUID)
	require.NoError(t, err)
	assertEnrollment(t, e)
}

func TestEnrollmentLenientDecoding(t *testing.T) {
	t.Parallel()
	var e Enrollment
	require.NoError(t, e.UnmarshalJSON([]byte(`{"uuid":"`+enrollUUID+`","completion_status":"enrolled","grade":"7.50",
		"enrolled_at":"2024-02-01","completed_at":null,"student":{"uuid":"`+studentUUID+`"},"course":{"uuid":"`+courseUUID+`"},"cohort":null}`)))
	require.NotNil(t, e.Grade)
	assert.InDelta(t, 7.5, *e.Grade, 1e-9)
	assert.Equal(t, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), e.EnrolledAt)
	assert.Nil(t, e.CompletedAt)
	assert.Nil(t, e.Cohort)
	assert.Equal(t, studentUUID, e.Student.UUID)

	var noGrade Enrollment
	require.NoError(t, noGrade.UnmarshalJSON([]byte(`{"uuid":"x","grade":null,"enrolled_at":"2024-02-01 08:00:00"}`)))
	assert.Nil(t, noGrade.Grade)
	assert.Equal(t, time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC), noGrade.EnrolledAt)

	var bad Enrollment
	assert.Error(t, bad.UnmarshalJSON([]byte(`{"grade":"eight"}`)))
	assert.Error(t, bad.UnmarshalJSON([]byte(`{"enrolled_at":"yesterday"}`)))
}

func TestEnrollmentsCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/enrollments", Status: 201,
		Body: `{"student_uuid":"` + studentUUID + `","course_uuid":"` + courseUUID + `","enrolled_at":"2024-02-01",
			"cohort_uuid":"` + cohortUUID + `","completion_status":"completed","grade":8.75,"completed_at":"2027-12-10"}`,
		Reply: dataReply(enrollmentJSON)})
	e, err := c.Enrollments.Create(context.Background(), &EnrollmentCreateParams{StudentUUID: studentUUID,
		CourseUUID: courseUUID, EnrolledAt: "2024-02-01", CohortUUID: cohortUUID, CompletionStatus: CompletionCompleted,
		Grade: Ptr(8.75), CompletedAt: "2027-12-10"})
	require.NoError(t, err)
	assertEnrollment(t, e)
}

func TestEnrollmentsCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Enrollments.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Enrollments.Create(context.Background(), &EnrollmentCreateParams{CohortUUID: "c", CompletionStatus: "graduated",
		Grade: Ptr(10.5), CompletedAt: "2027-12"})
	require.Error(t, err)
	for _, want := range []string{"student_uuid is required", "course_uuid is required", "enrolled_at is required",
		`cohort_uuid "c"`, `completion_status "graduated"`, "grade 10.5", `completed_at "2027-12"`} {
		assert.ErrorContains(t, err, want)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestEnrollmentsUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/enrollments/" + enrollUUID,
		Body: `{"completion_status":"dropped","grade":0}`,
		Reply: dataReply(`{"uuid":"` + enrollUUID + `","completion_status":"dropped","grade":"0.00","enrolled_at":"2024-02-01T00:00:00.000000Z","completed_at":null,
			"student":{"uuid":"` + studentUUID + `"},"course":{"uuid":"` + courseUUID + `"}}`)})
	e, err := c.Enrollments.Update(context.Background(), enrollUUID, &EnrollmentUpdateParams{CompletionStatus: CompletionDropped, Grade: Set(0.0)})
	require.NoError(t, err)
	assert.Equal(t, CompletionDropped, e.CompletionStatus)
	require.NotNil(t, e.Grade)
	assert.Zero(t, *e.Grade)
	assert.Nil(t, e.CompletedAt)

	_, err = c.Enrollments.Update(context.Background(), enrollUUID, &EnrollmentUpdateParams{Grade: Set(-1.0)})
	assert.ErrorContains(t, err, "grade -1")
	_, err = c.Enrollments.Update(context.Background(), enrollUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestEnrollmentsList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/enrollments",
		Query: q("where[completion_status]", "completed", "where[course_uuid]", courseUUID),
		Reply: listReply(1, 1, 1, enrollmentJSON)})
	page, err := c.Enrollments.List(context.Background(), &ListOptions{Where: map[string]string{
		"completion_status": string(CompletionCompleted), "course_uuid": courseUUID}})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertEnrollment(t, &page.Data[0])
}

func TestEnrollmentsAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/enrollments", nil, listReply(1, 2, 2, enrollmentJSON),
		listReply(2, 2, 2, `{"uuid":"`+module2UUID+`","completion_status":"enrolled","grade":null,"enrolled_at":"2025-02-01T00:00:00.000000Z","student":{"uuid":"`+studentUUID+`"},"course":{"uuid":"`+courseUUID+`"}}`))
	var got []Enrollment
	for e, err := range c.Enrollments.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, e)
	}
	require.Len(t, got, 2)
	assertEnrollment(t, &got[0])
	assert.Equal(t, CompletionEnrolled, got[1].CompletionStatus)
	assert.Nil(t, got[1].Grade)
}

func TestEnrollmentsRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get":          func(id string) error { _, err := c.Enrollments.Get(ctx, id); return err },
		"Update":       func(id string) error { _, err := c.Enrollments.Update(ctx, id, &EnrollmentUpdateParams{}); return err },
		"Delete":       func(id string) error { return c.Enrollments.Delete(ctx, id) },
		"DestroyBatch": func(id string) error { return c.Enrollments.DestroyBatch(ctx, []string{id}) },
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
}

func TestEnrollmentsGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/enrollments/" + enrollUUID, Reply: body})
			e, err := c.Enrollments.Get(context.Background(), enrollUUID)
			assert.Nil(t, e)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
