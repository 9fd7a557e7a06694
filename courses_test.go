package dokstamp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const courseJSON = `{"uuid":"` + courseUUID + `","code":"BSC-CS","name":"Computer Science",
	"description":"Bachelor of Science in Computer Science","workload_hours":3200,"area":"Exact Sciences",
	"version":"2024.1","status":"active",
	"institution":{"uuid":"` + instUUID + `","name":"Universidade Federal Example"},
	"organization":{"uuid":"` + orgUUID + `","name":"Faculty of Engineering"},
	"created_at":"2024-03-01T12:00:00.000000Z"}`

func assertCourse(t *testing.T, co *Course) {
	t.Helper()
	require.NotNil(t, co)
	assert.Equal(t, courseUUID, co.UUID)
	assert.Equal(t, "BSC-CS", co.Code)
	assert.Equal(t, "Computer Science", co.Name)
	assert.Equal(t, 3200, co.WorkloadHours)
	assert.Equal(t, "2024.1", co.Version)
	assert.Equal(t, CourseActive, co.Status)
	assert.Equal(t, "Universidade Federal Example", co.Institution.Name)
	require.NotNil(t, co.Organization)
	assert.Equal(t, orgUUID, co.Organization.UUID)
	assert.Equal(t, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), co.CreatedAt.UTC())
}

func TestCoursesGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/courses/" + courseUUID, Reply: dataReply(courseJSON)})
	co, err := c.Courses.Get(context.Background(), courseUUID)
	require.NoError(t, err)
	assertCourse(t, co)
}

func TestCoursesCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/courses", Status: 201,
		Body: `{"name":"Computer Science","institution_uuid":"` + instUUID + `","organization_uuid":"` + orgUUID + `",
			"code":"BSC-CS","workload_hours":3200,"version":"2024.1","status":"active"}`,
		Reply: dataReply(courseJSON)})
	co, err := c.Courses.Create(context.Background(), &CourseCreateParams{Name: "Computer Science",
		InstitutionUUID: instUUID, OrganizationUUID: orgUUID, Code: "BSC-CS", WorkloadHours: Ptr(3200),
		Version: "2024.1", Status: CourseActive})
	require.NoError(t, err)
	assertCourse(t, co)
}

func TestCoursesCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Courses.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Courses.Create(context.Background(), &CourseCreateParams{OrganizationUUID: "x", Status: "published", WorkloadHours: Ptr(-5)})
	require.Error(t, err)
	for _, want := range []string{"name is required", "institution_uuid is required", `organization_uuid "x"`,
		`status "published"`, "workload_hours is -5"} {
		assert.ErrorContains(t, err, want)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCoursesUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/courses/" + courseUUID,
		Body:  `{"status":"archived","badge_image_uuid":"` + badgeUUID + `"}`,
		Reply: dataReply(`{"uuid":"` + courseUUID + `","name":"Computer Science","status":"archived","badge_image_uuid":"` + badgeUUID + `","institution":{"uuid":"` + instUUID + `"},"organization":null}`)})
	co, err := c.Courses.Update(context.Background(), courseUUID, &CourseUpdateParams{Status: CourseArchived, BadgeImageUUID: Set(badgeUUID)})
	require.NoError(t, err)
	assert.Equal(t, CourseArchived, co.Status)
	assert.Equal(t, badgeUUID, co.BadgeImageUUID)
	assert.Nil(t, co.Organization)

	_, err = c.Courses.Update(context.Background(), courseUUID, &CourseUpdateParams{Status: "deleted"})
	assert.ErrorContains(t, err, `status "deleted"`)
	_, err = c.Courses.Update(context.Background(), courseUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCoursesList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/courses", Query: q("where[institution_uuid]", instUUID, "where[status]", "active"),
		Reply: listReply(1, 1, 1, courseJSON)})
	page, err := c.Courses.List(context.Background(), &ListOptions{Where: map[string]string{"institution_uuid": instUUID, "status": "active"}})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertCourse(t, &page.Data[0])
}

func TestCoursesAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/courses", nil, listReply(1, 2, 2, courseJSON),
		listReply(2, 2, 2, `{"uuid":"`+module2UUID+`","name":"Law","status":"draft","institution":{"uuid":"`+instUUID+`"}}`))
	var got []Course
	for co, err := range c.Courses.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, co)
	}
	require.Len(t, got, 2)
	assertCourse(t, &got[0])
	assert.Equal(t, CourseDraft, got[1].Status)
}

func TestCoursesFindByCode(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/courses", Query: q("where[code]", "BSC-CS", "per_page", "100"),
		Reply: listReply(1, 1, 1, courseJSON)})
	co, err := c.Courses.FindByCode(context.Background(), "BSC-CS")
	require.NoError(t, err)
	assertCourse(t, co)
}

func TestCoursesFindByCodeAmbiguousOrNone(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/courses", Query: q("where[code]", "BSC-CS", "per_page", "100"),
		Reply: listReply(1, 1, 2, courseJSON, courseJSON)})
	_, err := c.Courses.FindByCode(context.Background(), "BSC-CS")
	assert.ErrorContains(t, err, "2 match")
	assert.NotErrorIs(t, err, ErrNotFound)

	expect(t, mt, call{Method: "GET", Path: "/courses", Query: q("where[code]", "NOPE", "per_page", "100"),
		Reply: listReply(1, 0, 0)})
	_, err = c.Courses.FindByCode(context.Background(), "NOPE")
	assert.ErrorIs(t, err, ErrNotFound)

	_, err = c.Courses.FindByCode(context.Background(), " ")
	assert.ErrorContains(t, err, "empty code")
}

const attachModulePath = "/courses/" + courseUUID + "/attach/modules"

func TestCoursesAttachableModules(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: attachModulePath, Query: q("per_page", "50"), Reply: listReply(1, 1, 1, moduleJSON)})
	page, err := c.Courses.AttachableModules(context.Background(), courseUUID, &ListOptions{PerPage: 50})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertModule(t, &page.Data[0])
}

func TestCoursesAttachModules(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: attachModulePath,
		Body: `{"modules":[{"uuid":"` + moduleUUID + `","order":1,"is_required":true,"workload":80,"course_module_group_uuid":"` + groupUUID + `"},
			{"uuid":"` + module2UUID + `"}]}`,
		Reply: `{"message":"Modules attached."}`})
	err := c.Courses.AttachModules(context.Background(), courseUUID, []ModuleAttachment{
		{UUID: moduleUUID, Order: Ptr(1), IsRequired: Ptr(true), Workload: Ptr(80), CourseModuleGroupUUID: groupUUID},
		{UUID: module2UUID},
	})
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCoursesAttachModulesRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	assert.ErrorContains(t, c.Courses.AttachModules(ctx, courseUUID, nil), "no modules")
	err := c.Courses.AttachModules(ctx, courseUUID, []ModuleAttachment{
		{UUID: ""}, {UUID: moduleUUID, CourseModuleGroupUUID: "g1"}, {UUID: moduleUUID, Workload: Ptr(-1)}})
	require.Error(t, err)
	for _, want := range []string{"modules[0].uuid is required", "modules[1].course_module_group_uuid",
		"modules[2].workload is -1", "listed twice"} {
		assert.ErrorContains(t, err, want)
	}
	assert.Error(t, c.Courses.AttachModules(ctx, "../courses", []ModuleAttachment{{UUID: moduleUUID}}))
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCoursesDetachModules(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "DELETE", Path: "/courses/" + courseUUID + "/detach/modules",
		Body: `{"modules":["` + moduleUUID + `","` + module2UUID + `"]}`, Status: http.StatusNoContent})
	require.NoError(t, c.Courses.DetachModules(context.Background(), courseUUID, []string{moduleUUID, module2UUID}))
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCoursesDetachModulesRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	assert.ErrorContains(t, c.Courses.DetachModules(ctx, courseUUID, []string{}), "no modules")
	err := c.Courses.DetachModules(ctx, courseUUID, []string{moduleUUID, "../x", ""})
	assert.ErrorContains(t, err, `modules[1] "../x" is not a UUID`)
	assert.ErrorContains(t, err, "modules[2] is required")
	assert.Error(t, c.Courses.DetachModules(ctx, "", []string{moduleUUID}))
	assert.Zero(t, mt.GetTotalCallCount())
}

const groupJSON = `{"uuid":"` + groupUUID + `","name":"1st Semester","order":1,"is_active":true,
	"course":{"uuid":"` + courseUUID + `","name":"Computer Science"}}`

func assertGroup(t *testing.T, g *ModuleGroup) {
	t.Helper()
	require.NotNil(t, g)
	assert.Equal(t, groupUUID, g.UUID)
	assert.Equal(t, "1st Semester", g.Name)
	assert.Equal(t, 1, g.Order)
	assert.True(t, g.IsActive)
	assert.Equal(t, Ref{UUID: courseUUID, Name: "Computer Science"}, g.Course)
}

const groupsPath = "/courses/" + courseUUID + "/modules/groups"

func TestCoursesListModuleGroups(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: groupsPath, Reply: listReply(1, 1, 1, groupJSON)})
	page, err := c.Courses.ListModuleGroups(context.Background(), courseUUID, nil)
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertGroup(t, &page.Data[0])
}

func TestCoursesCreateModuleGroup(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: groupsPath, Status: 201,
		Body: `{"name":"1st Semester","order":1}`, Reply: dataReply(groupJSON)})
	g, err := c.Courses.CreateModuleGroup(context.Background(), courseUUID, &ModuleGroupCreateParams{Name: "1st Semester", Order: Ptr(1)})
	require.NoError(t, err)
	assertGroup(t, g)

	_, err = c.Courses.CreateModuleGroup(context.Background(), courseUUID, &ModuleGroupCreateParams{})
	assert.ErrorContains(t, err, "name is required")
	_, err = c.Courses.CreateModuleGroup(context.Background(), courseUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCoursesGetModuleGroup(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: groupsPath + "/" + groupUUID, Reply: dataReply(groupJSON)})
	g, err := c.Courses.GetModuleGroup(context.Background(), courseUUID, groupUUID)
	require.NoError(t, err)
	assertGroup(t, g)
}

func TestCoursesUpdateModuleGroup(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: groupsPath + "/" + groupUUID, Body: `{"is_active":false}`,
		Reply: dataReply(`{"uuid":"` + groupUUID + `","name":"1st Semester","order":1,"is_active":false,"course":{"uuid":"` + courseUUID + `"}}`)})
	g, err := c.Courses.UpdateModuleGroup(context.Background(), courseUUID, groupUUID, &ModuleGroupUpdateParams{IsActive: Ptr(false)})
	require.NoError(t, err)
	assert.False(t, g.IsActive)
	_, err = c.Courses.UpdateModuleGroup(context.Background(), courseUUID, groupUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCoursesDeleteModuleGroup(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "DELETE", Path: groupsPath + "/" + groupUUID, Status: http.StatusNoContent})
	require.NoError(t, c.Courses.DeleteModuleGroup(context.Background(), courseUUID, groupUUID))
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCoursesRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get":               func(id string) error { _, err := c.Courses.Get(ctx, id); return err },
		"Update":            func(id string) error { _, err := c.Courses.Update(ctx, id, &CourseUpdateParams{}); return err },
		"Delete":            func(id string) error { return c.Courses.Delete(ctx, id) },
		"DestroyBatch":      func(id string) error { return c.Courses.DestroyBatch(ctx, []string{id}) },
		"AttachableModules": func(id string) error { _, err := c.Courses.AttachableModules(ctx, id, nil); return err },
		"AttachModules": func(id string) error {
			return c.Courses.AttachModules(ctx, id, []ModuleAttachment{{UUID: moduleUUID}})
		},
		"AttachModules module": func(id string) error {
			return c.Courses.AttachModules(ctx, courseUUID, []ModuleAttachment{{UUID: id}})
		},
		"DetachModules":        func(id string) error { return c.Courses.DetachModules(ctx, id, []string{moduleUUID}) },
		"DetachModules module": func(id string) error { return c.Courses.DetachModules(ctx, courseUUID, []string{id}) },
		"ListModuleGroups":     func(id string) error { _, err := c.Courses.ListModuleGroups(ctx, id, nil); return err },
		"CreateModuleGroup": func(id string) error {
			_, err := c.Courses.CreateModuleGroup(ctx, id, &ModuleGroupCreateParams{Name: "S1"})
			return err
		},
		"GetModuleGroup course": func(id string) error { _, err := c.Courses.GetModuleGroup(ctx, id, groupUUID); return err },
		"GetModuleGroup group":  func(id string) error { _, err := c.Courses.GetModuleGroup(ctx, courseUUID, id); return err },
		"UpdateModuleGroup": func(id string) error {
			_, err := c.Courses.UpdateModuleGroup(ctx, courseUUID, id, &ModuleGroupUpdateParams{})
			return err
		},
		"DeleteModuleGroup course": func(id string) error { return c.Courses.DeleteModuleGroup(ctx, id, groupUUID) },
		"DeleteModuleGroup group":  func(id string) error { return c.Courses.DeleteModuleGroup(ctx, courseUUID, id) },
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
}

func TestCoursesGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: groupsPath + "/" + groupUUID, Reply: body})
			g, err := c.Courses.GetModuleGroup(context.Background(), courseUUID, groupUUID)
			assert.Nil(t, g)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
