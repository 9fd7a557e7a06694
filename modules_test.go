package dokstamp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const moduleJSON = `{"uuid":"` + moduleUUID + `","code":"CS101","name":"Algorithms and Data Structures",
	"description":"Core algorithms.","syllabus":"Sorting; graphs; dynamic programming.","workload":60,"credits":4,
	"modality":"in_person","level":"undergraduate","is_active":true,"is_required":false,
	"institution":{"uuid":"` + instUUID + `","name":"Universidade Federal Example"},
	"created_at":"2024-02-10T09:00:00.000000Z","updated_at":"2024-02-10T09:00:00.000000Z"}`

func assertModule(t *testing.T, m *Module) {
	t.Helper()
	require.NotNil(t, m)
	assert.Equal(t, moduleUUID, m.UUID)
	assert.Equal(t, "CS101", m.Code)
	assert.Equal(t, "Algorithms and Data Structures", m.Name)
	assert.Equal(t, 60, m.Workload)
	assert.Equal(t, 4, m.Credits)
	assert.Equal(t, ModuleInPerson, m.Modality)
	assert.Equal(t, LevelUndergraduate, m.Level)
	assert.True(t, m.IsActive)
	assert.False(t, m.IsRequired)
	assert.Equal(t, instUUID, m.Institution.UUID)
	assert.Equal(t, time.Date(2024, 2, 10, 9, 0, 0, 0, time.UTC), m.CreatedAt.UTC())
}

func TestModulesGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/modules/" + moduleUUID, Reply: dataReply(moduleJSON)})
	m, err := c.Modules.Get(context.Background(), moduleUUID)
	require.NoError(t, err)
	assertModule(t, m)
}

func TestModulesCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/modules", Status: 201,
		Body: `{"name":"Algorithms and Data Structures","institution_uuid":"` + instUUID + `","code":"CS101",
			"workload":60,"credits":4,"modality":"in_person","level":"undergraduate","is_active":true,"is_required":false}`,
		Reply: dataReply(moduleJSON)})
	m, err := c.Modules.Create(context.Background(), &ModuleCreateParams{
		Name: "Algorithms and Data Structures", InstitutionUUID: instUUID, Code: "CS101",
		Workload: Ptr(60), Credits: Ptr(4), Modality: ModuleInPerson, Level: LevelUndergraduate,
		IsActive: Ptr(true), IsRequired: Ptr(false)})
	require.NoError(t, err)
	assertModule(t, m)
}

func TestModulesCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Modules.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Modules.Create(context.Background(), &ModuleCreateParams{
		Code: "THIS-CODE-IS-TOO-LONG-FOR-IT", Workload: Ptr(-1), Modality: "presential", Level: "phd"})
	require.Error(t, err)
	for _, want := range []string{"name is required", "institution_uuid is required", "code is 28 characters",
		"workload is -1", `modality "presential"`, `level "phd"`} {
		assert.ErrorContains(t, err, want)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestModulesUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/modules/" + moduleUUID, Body: `{"is_active":false,"credits":0}`,
		Reply: dataReply(`{"uuid":"` + moduleUUID + `","name":"Algorithms","workload":null,"credits":0,"is_active":false,"is_required":true,"institution":{"uuid":"` + instUUID + `"}}`)})
	m, err := c.Modules.Update(context.Background(), moduleUUID, &ModuleUpdateParams{IsActive: Ptr(false), Credits: Set(0)})
	require.NoError(t, err)
	assert.False(t, m.IsActive)
	assert.True(t, m.IsRequired)
	assert.Zero(t, m.Workload)

	_, err = c.Modules.Update(context.Background(), moduleUUID, &ModuleUpdateParams{Modality: Set[ModuleModality]("remote")})
	assert.ErrorContains(t, err, `modality "remote"`)
	_, err = c.Modules.Update(context.Background(), moduleUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestModulesList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/modules", Query: q("where[level]", "undergraduate", "sort[order]", "asc"),
		Reply: listReply(1, 1, 1, moduleJSON)})
	page, err := c.Modules.List(context.Background(), &ListOptions{Where: map[string]string{"level": "undergraduate"}, Order: "asc"})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertModule(t, &page.Data[0])
}

func TestModulesAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/modules", nil, listReply(1, 2, 2, moduleJSON),
		listReply(2, 2, 2, `{"uuid":"`+module2UUID+`","code":"CS102","name":"Databases","modality":"online","level":"graduate","is_active":true}`))
	var got []Module
	for m, err := range c.Modules.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, m)
	}
	require.Len(t, got, 2)
	assertModule(t, &got[0])
	assert.Equal(t, ModuleOnline, got[1].Modality)
	assert.Equal(t, LevelGraduate, got[1].Level)
}

func TestModulesFindByCode(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/modules",
		Query: q("where[code]", "CS101", "where[institution_uuid]", instUUID, "per_page", "100"),
		Reply: listReply(1, 1, 1, moduleJSON)})
	m, err := c.Modules.FindByCode(context.Background(), instUUID, "CS101")
	require.NoError(t, err)
	assertModule(t, m)
}

func TestModulesFindByCodeNone(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	// A server that matched loosely: the only module returned has another code.
	expect(t, mt, call{Method: "GET", Path: "/modules",
		Query: q("where[code]", "CS1", "where[institution_uuid]", instUUID, "per_page", "100"),
		Reply: listReply(1, 1, 1, moduleJSON)})
	_, err := c.Modules.FindByCode(context.Background(), instUUID, "CS1")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "code=CS1")

	_, err = c.Modules.FindByCode(context.Background(), instUUID, "")
	assert.ErrorContains(t, err, "empty code")
	_, err = c.Modules.FindByCode(context.Background(), "", "CS1")
	assert.ErrorContains(t, err, "institution uuid")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestModulesRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get":          func(id string) error { _, err := c.Modules.Get(ctx, id); return err },
		"Update":       func(id string) error { _, err := c.Modules.Update(ctx, id, &ModuleUpdateParams{}); return err },
		"Delete":       func(id string) error { return c.Modules.Delete(ctx, id) },
		"DestroyBatch": func(id string) error { return c.Modules.DestroyBatch(ctx, []string{id}) },
		"FindByCode":   func(id string) error { _, err := c.Modules.FindByCode(ctx, id, "CS101"); return err },
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
}

func TestModulesGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/modules/" + moduleUUID, Reply: body})
			m, err := c.Modules.Get(context.Background(), moduleUUID)
			assert.Nil(t, m)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
