package dokstamp

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const institutionJSON = `{"uuid":"` + instUUID + `","name":"Universidade Federal Example",
	"legal_name":"Universidade Federal Example S.A.","tax_id":"12.345.678/0001-90","country":"BR",
	"website":"https://ufe.example.edu","linkedin_organization":"ufe-example","status":"active",
	"is_badges_enabled":true,"badge_image_uuid":"` + badgeUUID + `",
	"created_at":"2024-01-15T12:00:00.000000Z","updated_at":"2024-06-01T08:30:00.000000Z"}`

func assertInstitution(t *testing.T, in *Institution) {
	t.Helper()
	require.NotNil(t, in)
	assert.Equal(t, instUUID, in.UUID)
	assert.Equal(t, "Universidade Federal Example", in.Name)
	assert.Equal(t, "12.345.678/0001-90", in.TaxID)
	assert.Equal(t, "ufe-example", in.LinkedInOrganization)
	assert.Equal(t, InstitutionActive, in.Status)
	assert.True(t, in.IsBadgesEnabled)
	assert.Equal(t, badgeUUID, in.BadgeImageUUID)
	assert.Equal(t, time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC), in.CreatedAt.UTC())
	assert.Equal(t, time.Date(2024, 6, 1, 8, 30, 0, 0, time.UTC), in.UpdatedAt.UTC())
}

func TestInstitutionsGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/institutions/" + instUUID, Reply: dataReply(institutionJSON)})
	in, err := c.Institutions.Get(context.Background(), instUUID)
	require.NoError(t, err)
	assertInstitution(t, in)
}

func TestInstitutionsCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/institutions", Status: 201,
		Body: `{"name":"Universidade Federal Example","country":"BR","tax_id":"12.345.678/0001-90",
			"is_badges_enabled":true,"badge_image_uuid":"` + badgeUUID + `"}`,
		Reply: dataReply(institutionJSON)})
	in, err := c.Institutions.Create(context.Background(), &InstitutionCreateParams{
		Name: "Universidade Federal Example", Country: "BR", TaxID: "12.345.678/0001-90",
		IsBadgesEnabled: Ptr(true), BadgeImageUUID: badgeUUID})
	require.NoError(t, err)
	assertInstitution(t, in)
}

func TestInstitutionsCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()

	_, err := c.Institutions.Create(ctx, nil)
	assert.ErrorContains(t, err, "nil params")

	_, err = c.Institutions.Create(ctx, &InstitutionCreateParams{Status: "closed"})
	require.Error(t, err)
	assert.ErrorContains(t, err, "name is required")
	assert.ErrorContains(t, err, "country is required")
	assert.ErrorContains(t, err, `status "closed"`)

	_, err = c.Institutions.Create(ctx, &InstitutionCreateParams{Name: "X", Country: "BR", IsBadgesEnabled: Ptr(true)})
	assert.ErrorContains(t, err, "badge_image_uuid is required")

	_, err = c.Institutions.Create(ctx, &InstitutionCreateParams{Name: "X", Country: "BR", BadgeImageUUID: "../files"})
	assert.ErrorContains(t, err, "badge_image_uuid")

	long := make([]rune, 256)
	for i := range long {
		long[i] = 'é'
	}
	_, err = c.Institutions.Create(ctx, &InstitutionCreateParams{Name: string(long), Country: "BR"})
	assert.ErrorContains(t, err, "at most 255")

	assert.Zero(t, mt.GetTotalCallCount())
}

func TestInstitutionsCreateIsNotRetried(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/institutions", Status: 503,
		Body: `{"name":"X","country":"BR"}`, Reply: `{"message":"Service Unavailable"}`})
	_, err := c.Institutions.Create(context.Background(), &InstitutionCreateParams{Name: "X", Country: "BR"})
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorContains(t, err, `create institution "X"`)
}

func TestInstitutionsUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/institutions/" + instUUID,
		Body:  `{"status":"inactive","is_badges_enabled":false}`,
		Reply: dataReply(`{"uuid":"` + instUUID + `","name":"UFE","country":"BR","status":"inactive","is_badges_enabled":false,"badge_image_uuid":null}`)})
	in, err := c.Institutions.Update(context.Background(), instUUID, &InstitutionUpdateParams{Status: InstitutionInactive, IsBadgesEnabled: Ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, InstitutionInactive, in.Status)
	assert.False(t, in.IsBadgesEnabled)
	assert.Empty(t, in.BadgeImageUUID)
	assert.True(t, in.CreatedAt.IsZero())
}

func TestInstitutionsUpdateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Institutions.Update(context.Background(), instUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Institutions.Update(context.Background(), instUUID, &InstitutionUpdateParams{Status: "gone", BadgeImageUUID: Set("1")})
	assert.ErrorContains(t, err, `status "gone"`)
	assert.ErrorContains(t, err, "badge_image_uuid")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestInstitutionsDeleteBlocked(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "DELETE", Path: "/institutions/" + instUUID, Status: 409,
		Reply: `{"message":"Cannot delete: courses reference this institution."}`})
	err := c.Institutions.Delete(context.Background(), instUUID)
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 409, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "courses reference")
}

func TestInstitutionsList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/institutions", Query: q("where[status]", "active", "sort[column]", "name"),
		Reply: listReply(1, 1, 1, institutionJSON)})
	page, err := c.Institutions.List(context.Background(), &ListOptions{Where: map[string]string{"status": "active"}, Sort: "name"})
	require.NoError(t, err)
	assert.Equal(t, 1, page.Meta.Total)
	require.Len(t, page.Data, 1)
	assertInstitution(t, &page.Data[0])
}

func TestInstitutionsAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/institutions", nil,
		listReply(1, 2, 2, institutionJSON),
		listReply(2, 2, 2, `{"uuid":"`+orgUUID+`","name":"Instituto Técnico","country":"PT","status":"suspended","is_badges_enabled":false}`))
	var got []Institution
	for in, err := range c.Institutions.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, in)
	}
	require.Len(t, got, 2)
	assertInstitution(t, &got[0])
	assert.Equal(t, InstitutionSuspended, got[1].Status)
	assert.Equal(t, "Instituto Técnico", got[1].Name)
}

const issuerJSON = `{"@context":"https://w3id.org/openbadges/v2","type":"Issuer",
	"id":"https://api.dokstamp.eu/institutions/` + instUUID + `/badges/issuers",
	"name":"Universidade Federal Example","url":"https://ufe.example.edu","email":"registrar@ufe.example.edu",
	"image":"https://storage.dokstamp.eu/files/` + badgeUUID + `.png"}`

func TestInstitutionsBadgeIssuer(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{"bare": issuerJSON, "wrapped": dataReply(issuerJSON)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/institutions/" + instUUID + "/badges/issuers", Reply: body})
			bi, err := c.Institutions.BadgeIssuer(context.Background(), instUUID)
			require.NoError(t, err)
			assert.JSONEq(t, `"https://w3id.org/openbadges/v2"`, string(bi.Context))
			assert.Equal(t, "Issuer", bi.Type)
			assert.Equal(t, "https://api.dokstamp.eu/institutions/"+instUUID+"/badges/issuers", bi.ID)
			assert.Equal(t, "Universidade Federal Example", bi.Name)
			assert.Equal(t, "https://ufe.example.edu", bi.URL)
			assert.Equal(t, "registrar@ufe.example.edu", bi.Email)
			assert.Equal(t, "https://storage.dokstamp.eu/files/"+badgeUUID+".png", bi.Image)
			assert.JSONEq(t, issuerJSON, string(bi.Raw))
		})
	}
}

func TestInstitutionsBadgeIssuerImageObject(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/institutions/" + instUUID + "/badges/issuers",
		Reply: `{"@context":["https://w3id.org/openbadges/v2",{"extra":"x"}],"type":"Issuer","id":"urn:x","name":"UFE",
			"image":{"id":"https://img.example/i.png","type":"Image"}}`})
	bi, err := c.Institutions.BadgeIssuer(context.Background(), instUUID)
	require.NoError(t, err)
	assert.Equal(t, "https://img.example/i.png", bi.Image)
	var ctxs []json.RawMessage
	require.NoError(t, json.Unmarshal(bi.Context, &ctxs))
	assert.Len(t, ctxs, 2)
}

func TestInstitutionsBadgeIssuerGarbled(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"html": "<html>502</html>", "truncated": `{"@context":"https://w3id.org/openbadges/v2","type":"Iss`,
		"empty object": `{}`, "null data": `{"data":null}`, "array": `[1,2]`, "data string": `{"data":"x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/institutions/" + instUUID + "/badges/issuers", Reply: body})
			bi, err := c.Institutions.BadgeIssuer(context.Background(), instUUID)
			assert.Nil(t, bi)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}

func TestInstitutionsRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get": func(id string) error { _, err := c.Institutions.Get(ctx, id); return err },
		"Update": func(id string) error {
			_, err := c.Institutions.Update(ctx, id, &InstitutionUpdateParams{})
			return err
		},
		"Delete":       func(id string) error { return c.Institutions.Delete(ctx, id) },
		"DestroyBatch": func(id string) error { return c.Institutions.DestroyBatch(ctx, []string{instUUID, id}) },
		"BadgeIssuer":  func(id string) error { _, err := c.Institutions.BadgeIssuer(ctx, id); return err },
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
	assert.ErrorContains(t, c.Institutions.DestroyBatch(ctx, []string{}), "no ids")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestInstitutionsGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/institutions/" + instUUID, Reply: body})
			in, err := c.Institutions.Get(context.Background(), instUUID)
			assert.Nil(t, in)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}
