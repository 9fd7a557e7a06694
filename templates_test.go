package dokstamp

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const templateJSON = `{"uuid":"` + templateUUID + `","name":"Diploma 2024","version":"1.2",
	"path":"templates/ufe/diploma-2024.blade.php","preview_image_path":"previews/diploma-2024.png",
	"canva_config":{"design_id":"DAF123","pages":2},"is_default":true,"status":"active",
	"institution":{"uuid":"` + instUUID + `","name":"Universidade Federal Example"},
	"created_at":"2024-01-05T00:00:00.000000Z","updated_at":"2024-01-06T00:00:00.000000Z"}`

func assertTemplate(t *testing.T, tp *Template) {
	t.Helper()
	require.NotNil(t, tp)
	assert.Equal(t, templateUUID, tp.UUID)
	assert.Equal(t, "Diploma 2024", tp.Name)
	assert.Equal(t, "1.2", tp.Version)
	assert.Equal(t, "templates/ufe/diploma-2024.blade.php", tp.Path)
	assert.Equal(t, "previews/diploma-2024.png", tp.PreviewImagePath)
	assert.JSONEq(t, `{"design_id":"DAF123","pages":2}`, string(tp.CanvaConfig))
	assert.True(t, tp.IsDefault)
	assert.Equal(t, TemplateActive, tp.Status)
	assert.Equal(t, "Universidade Federal Example", tp.Institution.Name)
	assert.Equal(t, time.Date(2024, 1, 6, 0, 0, 0, 0, time.UTC), tp.UpdatedAt.UTC())
}

func TestTemplatesGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/certificate-templates/" + templateUUID, Reply: dataReply(templateJSON)})
	tp, err := c.Templates.Get(context.Background(), templateUUID)
	require.NoError(t, err)
	assertTemplate(t, tp)
}

func TestTemplateLenientDecoding(t *testing.T) {
	t.Parallel()
	var tp Template
	require.NoError(t, json.Unmarshal([]byte(`{"uuid":"x","version":3,"canva_config":null,"preview_image_path":null}`), &tp))
	assert.Equal(t, "3", tp.Version)
	assert.Nil(t, tp.CanvaConfig)
	assert.Empty(t, tp.PreviewImagePath)
	assert.Error(t, json.Unmarshal([]byte(`{"version":{"major":1}}`), &tp))
}

func TestTemplatesCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/certificate-templates", Status: 201,
		Body: `{"name":"Diploma 2024","version":"1.2","institution_uuid":"` + instUUID + `",
			"path":"templates/ufe/diploma-2024.blade.php","canva_config":{"design_id":"DAF123","pages":2},"is_default":true}`,
		Reply: dataReply(templateJSON)})
	tp, err := c.Templates.Create(context.Background(), &TemplateCreateParams{Name: "Diploma 2024", Version: "1.2",
		InstitutionUUID: instUUID, Path: "templates/ufe/diploma-2024.blade.php",
		CanvaConfig: json.RawMessage(`{"design_id":"DAF123","pages":2}`), IsDefault: Ptr(true)})
	require.NoError(t, err)
	assertTemplate(t, tp)
}

func TestTemplatesCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Templates.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Templates.Create(context.Background(), &TemplateCreateParams{CanvaConfig: json.RawMessage(`{"design_id":`), Status: "draft"})
	require.Error(t, err)
	for _, want := range []string{"name is required", "version is required", "institution_uuid is required",
		"path is required", "canva_config is not a JSON object", `status "draft"`} {
		assert.ErrorContains(t, err, want)
	}
	_, err = c.Templates.Create(context.Background(), &TemplateCreateParams{Name: "D", Version: "1", InstitutionUUID: instUUID,
		Path: "p", CanvaConfig: json.RawMessage(`[1]`)})
	assert.ErrorContains(t, err, "canva_config is not a JSON object")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestTemplatesUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/certificate-templates/" + templateUUID, Body: `{"status":"inactive","is_default":false}`,
		Reply: dataReply(`{"uuid":"` + templateUUID + `","name":"Diploma 2024","version":"1.2","path":"p","is_default":false,"status":"inactive","institution":{"uuid":"` + instUUID + `"}}`)})
	tp, err := c.Templates.Update(context.Background(), templateUUID, &TemplateUpdateParams{Status: TemplateInactive, IsDefault: Ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, TemplateInactive, tp.Status)
	assert.False(t, tp.IsDefault)
	assert.Nil(t, tp.CanvaConfig)

	_, err = c.Templates.Update(context.Background(), templateUUID, &TemplateUpdateParams{Status: "archived"})
	assert.ErrorContains(t, err, `status "archived"`)
	_, err = c.Templates.Update(context.Background(), templateUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestTemplatesList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/certificate-templates", Query: q("where[status]", "active"),
		Reply: listReply(1, 1, 1, templateJSON)})
	page, err := c.Templates.List(context.Background(), &ListOptions{Where: map[string]string{"status": string(TemplateActive)}})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertTemplate(t, &page.Data[0])
}

func TestTemplatesAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/certificate-templates", nil, listReply(1, 2, 2, templateJSON),
		listReply(2, 2, 2, `{"uuid":"`+module2UUID+`","name":"Transcript","version":2,"path":"t","is_default":false,"status":"inactive"}`))
	var got []Template
	for tp, err := range c.Templates.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, tp)
	}
	require.Len(t, got, 2)
	assertTemplate(t, &got[0])
	assert.Equal(t, "2", got[1].Version)
}

func TestTemplatesRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get":    func(id string) error { _, err := c.Templates.Get(ctx, id); return err },
		"Update": func(id string) error { _, err := c.Templates.Update(ctx, id, &TemplateUpdateParams{}); return err },
		"Delete": func(id string) error { return c.Templates.Delete(ctx, id) },
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
}

func TestTemplatesGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/certificate-templates/" + templateUUID, Reply: body})
			tp, err := c.Templates.Get(context.Background(), templateUUID)
			assert.Nil(t, tp)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
