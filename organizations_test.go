package dokstamp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const organizationJSON = `{"uuid":"` + orgUUID + `","name":"Faculty of Engineering","code":"FENG",
	"institution":{"uuid":"` + instUUID + `","name":"Universidade Federal Example"},
	"created_at":"2024-02-01T10:00:00.000000Z"}`

func assertOrganization(t *testing.T, o *Organization) {
	t.Helper()
	require.NotNil(t, o)
	assert.Equal(t, orgUUID, o.UUID)
	assert.Equal(t, "Faculty of Engineering", o.Name)
	assert.Equal(t, "FENG", o.Code)
	assert.Equal(t, Ref{UUID: instUUID, Name: "Universidade Federal Example"}, o.Institution)
	assert.Equal(t, time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC), o.CreatedAt.UTC())
}

func TestOrganizationsGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/organizations/" + orgUUID, Reply: dataReply(organizationJSON)})
	o, err := c.Organizations.Get(context.Background(), orgUUID)
	require.NoError(t, err)
	assertOrganization(t, o)
}

func TestOrganizationsCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/organizations", Status: 201,
		Body:  `{"name":"Faculty of Engineering","institution_uuid":"` + instUUID + `","code":"FENG"}`,
		Reply: dataReply(organizationJSON)})
	o, err := c.Organizations.Create(context.Background(), &OrganizationCreateParams{
		Name: "Faculty of Engineering", InstitutionUUID: instUUID, Code: "FENG"})
	require.NoError(t, err)
	assertOrganization(t, o)
}

func TestOrganizationsCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Organizations.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Organizations.Create(context.Background(), &OrganizationCreateParams{Name: "  "})
	assert.ErrorContains(t, err, "name is required")
	assert.ErrorContains(t, err, "institution_uuid is required")
	_, err = c.Organizations.Create(context.Background(), &OrganizationCreateParams{Name: "F", InstitutionUUID: "../x"})
	assert.ErrorContains(t, err, `institution_uuid "../x" is not a UUID`)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestOrganizationsUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/organizations/" + orgUUID, Body: `{"code":"FENG"}`,
		Reply: dataReply(organizationJSON)})
	o, err := c.Organizations.Update(context.Background(), orgUUID, &OrganizationUpdateParams{Code: Set("FENG")})
	require.NoError(t, err)
	assertOrganization(t, o)
}

func TestOrganizationsDestroyBatchPartialFailure(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	n := 0
	mt.RegisterResponder("DELETE", testBase+"/organizations/batch/destroy", func(r *http.Request) (*http.Response, error) {
		n++
		if n == 2 {
			return reply(422, `{"message":"The given data was invalid.","errors":{"uuids.3":["The selected uuids.3 is invalid."]}}`), nil
		}
		return reply(204, ""), nil
	})
	err := c.Organizations.DestroyBatch(context.Background(), uuidsN(250))
	var ce *ChunkError[string]
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 3, ce.Total)
	require.Len(t, ce.Failed, 1)
	assert.Len(t, ce.Failed[0].IDs, 100)
	assert.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, 3, n)
}

func TestOrganizationsList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/organizations", Query: q("where[institution_uuid]", instUUID),
		Reply: listReply(1, 1, 1, organizationJSON)})
	page, err := c.Organizations.List(context.Background(), &ListOptions{Where: map[string]string{"institution_uuid": instUUID}})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertOrganization(t, &page.Data[0])
}

func TestOrganizationsAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/organizations", q("per_page", "1"),
		listReply(1, 2, 2, organizationJSON),
		listReply(2, 2, 2, `{"uuid":"`+module2UUID+`","name":"Campus Norte","code":null,"institution":{"uuid":"`+instUUID+`","name":"UFE"}}`))
	var got []Organization
	for o, err := range c.Organizations.All(context.Background(), &ListOptions{PerPage: 1}) {
		require.NoError(t, err)
		got = append(got, o)
	}
	require.Len(t, got, 2)
	assertOrganization(t, &got[0])
	assert.Equal(t, "Campus Norte", got[1].Name)
	assert.Empty(t, got[1].Code)
}

func TestOrganizationsRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get": func(id string) error { _, err := c.Organizations.Get(ctx, id); return err },
		"Update": func(id string) error {
			_, err := c.Organizations.Update(ctx, id, &OrganizationUpdateParams{})
			return err
		},
		"Delete":       func(id string) error { return c.Organizations.Delete(ctx, id) },
		"DestroyBatch": func(id string) error { return c.Organizations.DestroyBatch(ctx, []string{id}) },
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
	_, err := c.Organizations.Update(ctx, orgUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.ErrorContains(t, c.Organizations.DestroyBatch(ctx, nil), "no ids")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestOrganizationsGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/organizations/" + orgUUID, Reply: body})
			o, err := c.Organizations.Get(context.Background(), orgUUID)
			assert.Nil(t, o)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
