package dokstamp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cohortJSON = `{"uuid":"` + cohortUUID + `","code":"CS-2024","modality":"presential",
	"start_date":"2024-02-01T00:00:00.000000Z","end_date":"2027-12-15T00:00:00.000000Z",
	"course":{"uuid":"` + courseUUID + `","name":"Computer Science"},"created_at":"2024-01-20T00:00:00.000000Z"}`

func assertCohort(t *testing.T, co *Cohort) {
	t.Helper()
	require.NotNil(t, co)
	assert.Equal(t, cohortUUID, co.UUID)
	assert.Equal(t, "CS-2024", co.Code)
	assert.Equal(t, CohortPresential, co.Modality)
	assert.Equal(t, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), co.StartDate.UTC())
	assert.Equal(t, time.Date(2027, 12, 15, 0, 0, 0, 0, time.UTC), co.EndDate.UTC())
	assert.Equal(t, Ref{UUID: courseUUID, Name: "Computer Science"}, co.Course)
	assert.Equal(t, time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC), co.CreatedAt.UTC())
}

func TestCohortsGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/cohorts/" + cohortUUID, Reply: dataReply(cohortJSON)})
	co, err := c.Cohorts.Get(context.Background(), cohortUUID)
	require.NoError(t, err)
	assertCohort(t, co)
}

func TestCohortDatesInOtherForms(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/cohorts/" + cohortUUID,
		Reply: dataReply(`{"uuid":"` + cohortUUID + `","code":"CS-2024","start_date":"2024-02-01","end_date":"2027-12-15 18:30:00","course":{"uuid":"` + courseUUID + `"}}`)})
	co, err := c.Cohorts.Get(context.Background(), cohortUUID)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), co.StartDate)
	assert.Equal(t, time.Date(2027, 12, 15, 18, 30, 0, 0, time.UTC), co.EndDate)

	var bad Cohort
	assert.Error(t, bad.UnmarshalJSON([]byte(`{"start_date":"next spring"}`)))
	assert.Error(t, bad.UnmarshalJSON([]byte(`{"start_date":20240201}`)))
	var none Cohort
	require.NoError(t, none.UnmarshalJSON([]byte(`{"uuid":"x","start_date":null,"end_date":""}`)))
	assert.True(t, none.StartDate.IsZero())
	assert.True(t, none.EndDate.IsZero())
}

func TestCohortsCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/cohorts", Status: 201,
		Body: `{"course_uuid":"` + courseUUID + `","code":"CS-2024","modality":"presential",
			"start_date":"2024-02-01T00:00:00Z","end_date":"2027-12-15T00:00:00Z"}`,
		Reply: dataReply(cohortJSON)})
	start, end := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 12, 15, 0, 0, 0, 0, time.UTC)
	co, err := c.Cohorts.Create(context.Background(), &CohortCreateParams{CourseUUID: courseUUID, Code: "CS-2024",
		Modality: CohortPresential, StartDate: &start, EndDate: &end})
	require.NoError(t, err)
	assertCohort(t, co)
}

func TestCohortsCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Cohorts.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	start, end := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = c.Cohorts.Create(context.Background(), &CohortCreateParams{Modality: CohortModality(ModuleInPerson), StartDate: &start, EndDate: &end})
	require.Error(t, err)
	for _, want := range []string{"course_uuid is required", "code is required", `modality "in_person"`, "end_date is before start_date"} {
		assert.ErrorContains(t, err, want)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCohortsUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/cohorts/" + cohortUUID, Body: `{"modality":"remote"}`,
		Reply: dataReply(`{"uuid":"` + cohortUUID + `","code":"CS-2024","modality":"remote","course":{"uuid":"` + courseUUID + `"}}`)})
	co, err := c.Cohorts.Update(context.Background(), cohortUUID, &CohortUpdateParams{Modality: Set(CohortRemote)})
	require.NoError(t, err)
	assert.Equal(t, CohortRemote, co.Modality)
	assert.True(t, co.StartDate.IsZero())

	_, err = c.Cohorts.Update(context.Background(), cohortUUID, &CohortUpdateParams{Modality: Set[CohortModality]("online")})
	assert.ErrorContains(t, err, `modality "online"`)
	_, err = c.Cohorts.Update(context.Background(), cohortUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCohortsList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/cohorts", Query: q("where[course_uuid]", courseUUID),
		Reply: listReply(1, 1, 1, cohortJSON)})
	page, err := c.Cohorts.List(context.Background(), &ListOptions{Where: map[string]string{"course_uuid": courseUUID}})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertCohort(t, &page.Data[0])
}

func TestCohortsAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/cohorts", nil, listReply(1, 2, 2, cohortJSON),
		listReply(2, 2, 2, `{"uuid":"`+module2UUID+`","code":"CS-2025","modality":"hybrid","course":{"uuid":"`+courseUUID+`"}}`))
	var got []Cohort
	for co, err := range c.Cohorts.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, co)
	}
	require.Len(t, got, 2)
	assertCohort(t, &got[0])
	assert.Equal(t, CohortHybrid, got[1].Modality)
}

func TestCohortsFindByCode(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/cohorts", Query: q("where[code]", "CS-2024", "per_page", "100"),
		Reply: listReply(1, 1, 1, cohortJSON)})
	co, err := c.Cohorts.FindByCode(context.Background(), "CS-2024")
	require.NoError(t, err)
	assertCohort(t, co)

	expect(t, mt, call{Method: "GET", Path: "/cohorts", Query: q("where[code]", "CS-1999", "per_page", "100"),
		Reply: listReply(1, 1, 0)})
	_, err = c.Cohorts.FindByCode(context.Background(), "CS-1999")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = c.Cohorts.FindByCode(context.Background(), "")
	assert.ErrorContains(t, err, "empty code")
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestCohortsRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get":          func(id string) error { _, err := c.Cohorts.Get(ctx, id); return err },
		"Update":       func(id string) error { _, err := c.Cohorts.Update(ctx, id, &CohortUpdateParams{}); return err },
		"Delete":       func(id string) error { return c.Cohorts.Delete(ctx, id) },
		"DestroyBatch": func(id string) error { return c.Cohorts.DestroyBatch(ctx, []string{id}) },
		"Create": func(id string) error {
			_, err := c.Cohorts.Create(ctx, &CohortCreateParams{CourseUUID: id, Code: "X"})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
}

func TestCohortsGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/cohorts/" + cohortUUID, Reply: body})
			co, err := c.Cohorts.Get(context.Background(), cohortUUID)
			assert.Nil(t, co)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
