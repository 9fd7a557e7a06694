package dokstamptest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaginationMeta(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithStudents(7), WithMaxPerPage(5))
	a := newAPI(t, srv)

	// The default per_page (15) is clamped too.
	m := a.call(http.MethodGet, "/students", nil, http.StatusOK)
	assert.Equal(t, map[string]any{"current_page": 1.0, "per_page": 5.0, "total": 7.0, "last_page": 2.0, "from": 1.0, "to": 5.0}, m["meta"])
	assert.Len(t, m["data"], 5)
	m = newAPI(t, NewServer(t, WithStudents(7))).call(http.MethodGet, "/students", nil, http.StatusOK)
	assert.Equal(t, map[string]any{"current_page": 1.0, "per_page": 15.0, "total": 7.0, "last_page": 1.0, "from": 1.0, "to": 7.0}, m["meta"])

	// per_page above the maximum is clamped.
	m = a.call(http.MethodGet, "/students?per_page=100&page=2", nil, http.StatusOK)
	assert.Equal(t, map[string]any{"current_page": 2.0, "per_page": 5.0, "total": 7.0, "last_page": 2.0, "from": 6.0, "to": 7.0}, m["meta"])
	require.Len(t, m["data"], 2)
	assert.Equal(t, srv.StudentUUIDs[5], m["data"].([]any)[0].(map[string]any)["uuid"])

	// Past the end: empty data, null from/to.
	m = a.call(http.MethodGet, "/students?per_page=5&page=9", nil, http.StatusOK)
	assert.Empty(t, m["data"])
	assert.NotNil(t, m["data"])
	meta := m["meta"].(map[string]any)
	assert.Nil(t, meta["from"])
	assert.Nil(t, meta["to"])
	assert.Contains(t, meta, "from")

	// Bad numbers fall back to the defaults.
	m = a.call(http.MethodGet, "/students?per_page=abc&page=-3", nil, http.StatusOK)
	assert.EqualValues(t, 1, m["meta"].(map[string]any)["current_page"])
	assert.EqualValues(t, 5, m["meta"].(map[string]any)["per_page"])

	// Walking every page yields each item once.
	seen := map[string]bool{}
	for page := 1; ; page++ {
		m = a.call(http.MethodGet, fmt.Sprintf("/students?per_page=3&page=%d", page), nil, http.StatusOK)
		for _, s := range m["data"].([]any) {
			u := s.(map[string]any)["uuid"].(string)
			assert.False(t, seen[u])
			seen[u] = true
		}
		if page >= int(m["meta"].(map[string]any)["last_page"].(float64)) {
			break
		}
	}
	assert.Len(t, seen, 7)
}

func TestWithoutLastPage(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithoutLastPage())
	m := newAPI(t, srv).call(http.MethodGet, "/students", nil, http.StatusOK)
	meta := m["meta"].(map[string]any)
	assert.NotContains(t, meta, "last_page")
	assert.EqualValues(t, 3, meta["total"])
	assert.EqualValues(t, 15, meta["per_page"])
}

func TestWhereAndSort(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithStudents(4))
	a := newAPI(t, srv)

	issued := map[string]bool{}
	for i := 0; i < 4; i++ {
		extra := map[string]any{"status": "issued", "issued_at": fmt.Sprintf("2024-12-0%dT00:00:00Z", 4-i)}
		if i == 3 {
			extra = nil
		}
		c := a.data(http.MethodPost, "/certificates", a.certBody(i, a.file(fmt.Sprint(i)), extra), http.StatusCreated)
		if extra != nil {
			issued[c["uuid"].(string)] = true
		}
	}
	// A second course's certificate for student 0.
	course := a.data(http.MethodPost, "/courses", map[string]any{"name": "Law", "institution_uuid": srv.InstitutionUUID}, http.StatusCreated)
	a.data(http.MethodPost, "/certificates", map[string]any{"institution_uuid": srv.InstitutionUUID, "course_uuid": course["uuid"],
		"student_uuid": srv.StudentUUIDs[0], "file_uuid": a.file("law"), "status": "issued"}, http.StatusCreated)

	m := a.call(http.MethodGet, "/certificates?where[status]=issued&where[course_uuid]="+srv.CourseUUID, nil, http.StatusOK)
	assert.EqualValues(t, 3, m["meta"].(map[string]any)["total"])
	for _, c := range m["data"].([]any) {
		assert.True(t, issued[c.(map[string]any)["uuid"].(string)])
	}
	m = a.call(http.MethodGet, "/certificates?where[student_uuid]="+srv.StudentUUIDs[0]+"&where[course_uuid]="+srv.CourseUUID, nil, http.StatusOK)
	require.Len(t, m["data"], 1)
	m = a.call(http.MethodGet, "/certificates?where[student_uuid]="+srv.StudentUUIDs[0], nil, http.StatusOK)
	require.Len(t, m["data"], 2)
	m = a.call(http.MethodGet, "/certificates?where[public_verification_url]=null", nil, http.StatusOK)
	require.Len(t, m["data"], 1)
	assert.Equal(t, "draft", m["data"].([]any)[0].(map[string]any)["status"])

	// sort by issued_at: nulls first ascending, last descending.
	m = a.call(http.MethodGet, "/certificates?where[course_uuid]="+srv.CourseUUID+"&sort[column]=issued_at&sort[order]=desc", nil, http.StatusOK)
	var got []any
	for _, c := range m["data"].([]any) {
		got = append(got, c.(map[string]any)["issued_at"])
	}
	assert.Equal(t, []any{"2024-12-04T00:00:00.000000Z", "2024-12-03T00:00:00.000000Z", "2024-12-02T00:00:00.000000Z", nil}, got)
	m = a.call(http.MethodGet, "/students?sort[column]=name&sort[order]=desc&per_page=2", nil, http.StatusOK)
	assert.Equal(t, "Student 4", m["data"].([]any)[0].(map[string]any)["name"])
	assert.EqualValues(t, 2, m["meta"].(map[string]any)["last_page"])
	// Default order is creation order; desc alone reverses it.
	m = a.call(http.MethodGet, "/students?sort[order]=desc", nil, http.StatusOK)
	assert.Equal(t, srv.StudentUUIDs[3], m["data"].([]any)[0].(map[string]any)["uuid"])

	// Other lookups the docs use.
	m = a.call(http.MethodGet, "/students?where[email]=student2@"+srv.Tenant+".test", nil, http.StatusOK)
	require.Len(t, m["data"], 1)
	assert.Equal(t, srv.StudentUUIDs[1], m["data"].([]any)[0].(map[string]any)["uuid"])
	m = a.call(http.MethodGet, "/enrollments?where[completion_status]=completed&where[course_uuid]="+srv.CourseUUID, nil, http.StatusOK)
	assert.Len(t, m["data"], 4)
	m = a.call(http.MethodGet, "/courses?where[institution_uuid]="+srv.InstitutionUUID+"&where[code]=CS", nil, http.StatusOK)
	assert.Len(t, m["data"], 1)

	// Unknown fields are refused, including file_uuid on certificates.
	m = a.call(http.MethodGet, "/certificates?where[file_uuid]="+newUUID(), nil, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "where.file_uuid")
	m = a.call(http.MethodGet, "/certificates?sort[column]=nope", nil, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "sort.column")
	a.call(http.MethodGet, "/certificates?sort[order]=sideways", nil, http.StatusUnprocessableEntity)
}
