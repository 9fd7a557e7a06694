package dokstamp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const studentJSON = `{"uuid":"` + studentUUID + `","name":"Maria Fernanda Silva","email":"maria.silva@example.com",
	"date_of_birth":"1999-05-14","gender":"female","social_name":null,"created_at":"2024-03-05T14:20:00.000000Z"}`

func assertStudent(t *testing.T, s *Student) {
	t.Helper()
	require.NotNil(t, s)
	assert.Equal(t, studentUUID, s.UUID)
	assert.Equal(t, "Maria Fernanda Silva", s.Name)
	assert.Equal(t, "maria.silva@example.com", s.Email)
	assert.Equal(t, "1999-05-14", s.DateOfBirth)
	assert.Equal(t, "female", s.Gender)
	assert.Empty(t, s.SocialName)
	assert.Equal(t, time.Date(2024, 3, 5, 14, 20, 0, 0, time.UTC), s.CreatedAt.UTC())
}

func TestStudentsGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/students/" + studentUUID, Reply: dataReply(studentJSON)})
	s, err := c.Students.Get(context.Background(), studentUUID)
	require.NoError(t, err)
	assertStudent(t, s)
}

func TestStudentsCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/students", Status: 201,
		Body:  `{"name":"Maria Fernanda Silva","email":"maria.silva@example.com","date_of_birth":"1999-05-14","gender":"female"}`,
		Reply: dataReply(studentJSON)})
	s, err := c.Students.Create(context.Background(), &StudentCreateParams{Name: "Maria Fernanda Silva",
		Email: "maria.silva@example.com", DateOfBirth: "1999-05-14", Gender: "female"})
	require.NoError(t, err)
	assertStudent(t, s)
}

func TestStudentsCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Students.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Students.Create(context.Background(), &StudentCreateParams{})
	for _, want := range []string{"name is required", "email is required", "date_of_birth is required"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = c.Students.Create(context.Background(), &StudentCreateParams{Name: "M", Email: "maria at example.com", DateOfBirth: "14/05/1999"})
	assert.ErrorContains(t, err, `email "maria at example.com"`)
	assert.ErrorContains(t, err, `date_of_birth "14/05/1999"`)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestStudentsCreateDuplicateEmail(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/students", Status: 422,
		Body:  `{"name":"M","email":"maria.silva@example.com","date_of_birth":"1999-05-14"}`,
		Reply: `{"success":false,"message":"The given data was invalid.","errors":{"email":["The email has already been taken."]}}`})
	_, err := c.Students.Create(context.Background(), &StudentCreateParams{Name: "M", Email: "maria.silva@example.com", DateOfBirth: "1999-05-14"})
	assert.ErrorIs(t, err, ErrValidation)
	assert.ErrorContains(t, err, "already been taken")
}

func TestStudentsUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/students/" + studentUUID, Body: `{"social_name":"Fernanda Silva"}`,
		Reply: dataReply(`{"uuid":"` + studentUUID + `","name":"Maria Fernanda Silva","email":"maria.silva@example.com","social_name":"Fernanda Silva"}`)})
	s, err := c.Students.Update(context.Background(), studentUUID, &StudentUpdateParams{SocialName: Set("Fernanda Silva")})
	require.NoError(t, err)
	assert.Equal(t, "Fernanda Silva", s.SocialName)

	_, err = c.Students.Update(context.Background(), studentUUID, &StudentUpdateParams{DateOfBirth: "1999-13-01", Email: "@x"})
	assert.ErrorContains(t, err, "date_of_birth")
	assert.ErrorContains(t, err, "email")
	_, err = c.Students.Update(context.Background(), studentUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestStudentsList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/students", Query: q("sort[column]", "name", "per_page", "25"),
		Reply: listReply(1, 1, 1, studentJSON)})
	page, err := c.Students.List(context.Background(), &ListOptions{Sort: "name", PerPage: 25})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertStudent(t, &page.Data[0])
}

func TestStudentsAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/students", nil, listReply(1, 2, 2, studentJSON),
		listReply(2, 2, 2, `{"uuid":"`+module2UUID+`","name":"João Souza","email":"joao@example.com","date_of_birth":"2000-01-02"}`))
	var got []Student
	for s, err := range c.Students.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, s)
	}
	require.Len(t, got, 2)
	assertStudent(t, &got[0])
	assert.Equal(t, "João Souza", got[1].Name)
}

func TestStudentsFindByEmail(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/students", Query: q("where[email]", "Maria.Silva@example.com", "per_page", "100"),
		Reply: listReply(1, 1, 1, studentJSON)})
	s, err := c.Students.FindByEmail(context.Background(), "Maria.Silva@example.com")
	require.NoError(t, err)
	assertStudent(t, s)
}

func TestStudentsFindByEmailNone(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/students", Query: q("where[email]", "nobody@example.com", "per_page", "100"),
		Reply: `{"data":[],"meta":{"current_page":1,"per_page":100,"total":0,"last_page":1}}`})
	s, err := c.Students.FindByEmail(context.Background(), "nobody@example.com")
	assert.Nil(t, s)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "email=nobody@example.com")

	_, err = c.Students.FindByEmail(context.Background(), "")
	assert.ErrorContains(t, err, "empty e-mail")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestStudentsFindByEmailServerError(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/students", Query: q("where[email]", "a@b.c", "per_page", "100"),
		Status: 500, Reply: `{"message":"Server Error"}`})
	_, err := c.Students.FindByEmail(context.Background(), "a@b.c")
	assert.ErrorIs(t, err, ErrServer)
	assert.NotErrorIs(t, err, ErrNotFound)
}

const pageJSON = `{"uuid":"` + pageUUID + `","slug":"maria-fernanda-silva","is_public":true,"bio":"Software engineer.",
	"student":{"uuid":"` + studentUUID + `","name":"Maria Fernanda Silva"},
	"items":[` + itemJSON + `]}`

const itemJSON = `{"uuid":"` + itemUUID + `","sort_order":1,"is_visible":true,
	"certificate":{"uuid":"` + certUUID + `","public_verification_url":"https://verificar.dokstamp.eu/AB12CD"}}`

func assertItem(t *testing.T, it *PortfolioItem) {
	t.Helper()
	require.NotNil(t, it)
	assert.Equal(t, itemUUID, it.UUID)
	assert.Equal(t, 1, it.SortOrder)
	assert.True(t, it.IsVisible)
	assert.Equal(t, PortfolioCertificate{UUID: certUUID, PublicVerificationURL: "https://verificar.dokstamp.eu/AB12CD"}, it.Certificate)
}

func assertPage(t *testing.T, p *PortfolioPage) {
	t.Helper()
	require.NotNil(t, p)
	assert.Equal(t, pageUUID, p.UUID)
	assert.Equal(t, "maria-fernanda-silva", p.Slug)
	assert.True(t, p.IsPublic)
	assert.Equal(t, "Software engineer.", p.Bio)
	assert.Equal(t, Ref{UUID: studentUUID, Name: "Maria Fernanda Silva"}, p.Student)
	require.Len(t, p.Items, 1)
	assertItem(t, &p.Items[0])
}

const pagesPath = "/students/" + studentUUID + "/pages"

func TestStudentsListPages(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: pagesPath, Reply: listReply(1, 1, 1, pageJSON)})
	page, err := c.Students.ListPages(context.Background(), studentUUID, nil)
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertPage(t, &page.Data[0])
}

func TestStudentsCreatePage(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: pagesPath, Status: 201,
		Body: `{"slug":"maria-fernanda-silva","is_public":true,"bio":"Software engineer."}`, Reply: dataReply(pageJSON)})
	p, err := c.Students.CreatePage(context.Background(), studentUUID, &PortfolioPageCreateParams{
		Slug: "maria-fernanda-silva", IsPublic: Ptr(true), Bio: "Software engineer."})
	require.NoError(t, err)
	assertPage(t, p)
}

func TestStudentsCreatePageRefusesBadSlug(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for _, slug := range []string{"", "Maria", "maria silva", "maria_silva", "maría", "../x"} {
		_, err := c.Students.CreatePage(ctx, studentUUID, &PortfolioPageCreateParams{Slug: slug})
		assert.ErrorContains(t, err, "slug", "slug %q", slug)
	}
	_, err := c.Students.CreatePage(ctx, studentUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Zero(t, mt.GetTotalCallCount())
}

const itemsPath = pagesPath + "/" + pageUUID + "/items"

func TestStudentsListPageItems(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: itemsPath, Query: q("sort[column]", "sort_order"), Reply: listReply(1, 1, 1, itemJSON)})
	page, err := c.Students.ListPageItems(context.Background(), studentUUID, pageUUID, &ListOptions{Sort: "sort_order"})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertItem(t, &page.Data[0])
}

func TestStudentsAddPageItem(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: itemsPath, Status: 201,
		Body: `{"certificate_uuid":"` + certUUID + `","sort_order":1}`, Reply: dataReply(itemJSON)})
	it, err := c.Students.AddPageItem(context.Background(), studentUUID, pageUUID, &PortfolioItemCreateParams{
		CertificateUUID: certUUID, SortOrder: Ptr(1)})
	require.NoError(t, err)
	assertItem(t, it)

	_, err = c.Students.AddPageItem(context.Background(), studentUUID, pageUUID, &PortfolioItemCreateParams{})
	assert.ErrorContains(t, err, "certificate_uuid is required")
	_, err = c.Students.AddPageItem(context.Background(), studentUUID, pageUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestStudentsUpdatePageItem(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: itemsPath + "/" + itemUUID, Body: `{"is_visible":false}`,
		Reply: dataReply(`{"uuid":"` + itemUUID + `","sort_order":2,"is_visible":false,"certificate":{"uuid":"` + certUUID + `"}}`)})
	it, err := c.Students.UpdatePageItem(context.Background(), studentUUID, pageUUID, itemUUID, &PortfolioItemUpdateParams{IsVisible: Ptr(false)})
	require.NoError(t, err)
	assert.False(t, it.IsVisible)
	assert.Equal(t, 2, it.SortOrder)
	assert.Equal(t, certUUID, it.Certificate.UUID)

	_, err = c.Students.UpdatePageItem(context.Background(), studentUUID, pageUUID, itemUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestStudentsRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	item := &PortfolioItemCreateParams{CertificateUUID: certUUID}
	for name, fn := range map[string]func(string) error{
		"Get":          func(id string) error { _, err := c.Students.Get(ctx, id); return err },
		"Update":       func(id string) error { _, err := c.Students.Update(ctx, id, &StudentUpdateParams{}); return err },
		"Delete":       func(id string) error { return c.Students.Delete(ctx, id) },
		"DestroyBatch": func(id string) error { return c.Students.DestroyBatch(ctx, []string{id}) },
		"ListPages":    func(id string) error { _, err := c.Students.ListPages(ctx, id, nil); return err },
		"CreatePage": func(id string) error {
			_, err := c.Students.CreatePage(ctx, id, &PortfolioPageCreateParams{Slug: "ok"})
			return err
		},
		"ListPageItems":  func(id string) error { _, err := c.Students.ListPageItems(ctx, studentUUID, id, nil); return err },
		"AddPageItem":    func(id string) error { _, err := c.Students.AddPageItem(ctx, id, pageUUID, item); return err },
		"AddPageItem pg": func(id string) error { _, err := c.Students.AddPageItem(ctx, studentUUID, id, item); return err },
		"AddPageItem cert": func(id string) error {
			_, err := c.Students.AddPageItem(ctx, studentUUID, pageUUID, &PortfolioItemCreateParams{CertificateUUID: id})
			return err
		},
		"UpdatePageItem": func(id string) error {
			_, err := c.Students.UpdatePageItem(ctx, studentUUID, pageUUID, id, &PortfolioItemUpdateParams{})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
}

func TestStudentsGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/students/" + studentUUID, Reply: body})
			s, err := c.Students.Get(context.Background(), studentUUID)
			assert.Nil(t, s)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}

func TestStudentsGetUpdateDeletePage(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	expect(t, mt, call{Method: "GET", Path: pagesPath + "/" + pageUUID, Reply: dataReply(pageJSON)})
	p, err := c.Students.GetPage(ctx, studentUUID, pageUUID)
	require.NoError(t, err)
	assertPage(t, p)

	expect(t, mt, call{Method: "PATCH", Path: pagesPath + "/" + pageUUID, Body: `{"is_public":false}`, Reply: dataReply(pageJSON)})
	p, err = c.Students.UpdatePage(ctx, studentUUID, pageUUID, &PortfolioPageUpdateParams{IsPublic: Ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, pageUUID, p.UUID)

	expect(t, mt, call{Method: "DELETE", Path: pagesPath + "/" + pageUUID, Status: 204})
	require.NoError(t, c.Students.DeletePage(ctx, studentUUID, pageUUID))
	assert.Equal(t, 3, mt.GetTotalCallCount())

	// Refused before sending: bad ids, nil params, a bad new slug.
	_, err = c.Students.UpdatePage(ctx, studentUUID, pageUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Students.UpdatePage(ctx, studentUUID, pageUUID, &PortfolioPageUpdateParams{Slug: Ptr("Not OK")})
	assert.ErrorContains(t, err, "update portfolio page: slug")
	_, err = c.Students.GetPage(ctx, studentUUID, "nope")
	assert.ErrorContains(t, err, "page uuid")
	assert.ErrorContains(t, c.Students.DeletePage(ctx, "", pageUUID), "student uuid is required")
	assert.Equal(t, 3, mt.GetTotalCallCount())
}
