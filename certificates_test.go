package dokstamp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func certJSON(uuid string) string {
	return `{"uuid":"` + uuid + `","status":"issued","issued_at":"2024-12-01T00:00:00.000000Z",
		"revoked_at":null,"revocation_reason":null,
		"public_verification_url":"https://verificar.dokstamp.eu/AB12CD",
		"blockchain_tx_hash":null,"blockchain_tx_url":null,
		"institution":{"uuid":"` + instUUID + `","name":"Universidade Federal Example"},
		"course":{"uuid":"` + courseUUID + `","name":"Computer Science"},
		"student":{"uuid":"` + studentUUID + `","name":"Maria Fernanda Silva"},
		"cohort":{"uuid":"` + cohortUUID + `","code":"CS-2024"},
		"enrollment":null,"template":null,
		"files":[{"type":"certificate","uuid":"` + fileUUID + `"}],
		"created_at":"2024-12-01T00:00:00.000000Z","updated_at":"2024-12-01T00:00:01.500000Z"}`
}

func assertCert(t *testing.T, c *Certificate) {
	t.Helper()
	require.NotNil(t, c)
	assert.Equal(t, certUUID, c.UUID)
	assert.Equal(t, StatusIssued, c.Status)
	assert.True(t, c.IssuedAt.Equal(time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)), "issued_at %v", c.IssuedAt)
	assert.Nil(t, c.RevokedAt)
	assert.Equal(t, "https://verificar.dokstamp.eu/AB12CD", c.PublicVerificationURL)
	assert.Equal(t, Ref{UUID: instUUID, Name: "Universidade Federal Example"}, c.Institution)
	assert.Equal(t, "Maria Fernanda Silva", c.Student.Name)
	require.NotNil(t, c.Cohort)
	assert.Equal(t, "CS-2024", c.Cohort.Code)
	assert.Nil(t, c.Enrollment)
	assert.Equal(t, fileUUID, c.FileUUID())
	assert.Equal(t, time.Date(2024, 12, 1, 0, 0, 1, 5e8, time.UTC), c.UpdatedAt.UTC())
}

func TestCertificatesCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/certificates", Status: 201,
		Body: `{"institution_uuid":"` + instUUID + `","course_uuid":"` + courseUUID + `","student_uuid":"` + studentUUID +
			`","file_uuid":"` + fileUUID + `","cohort_uuid":"` + cohortUUID + `","status":"issued","issued_at":"2024-12-01T00:00:00Z"}`,
		Reply: dataReply(certJSON(certUUID))})
	issued := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	cert, err := c.Certificates.Create(context.Background(), &CertificateCreateParams{
		InstitutionUUID: instUUID, CourseUUID: courseUUID, StudentUUID: studentUUID, FileUUID: fileUUID,
		CohortUUID: cohortUUID, Status: StatusIssued, IssuedAt: &issued})
	require.NoError(t, err)
	assertCert(t, cert)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCertificatesCreateFinishDraft(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/certificates", Status: 201,
		Body: `{"institution_uuid":"` + instUUID + `","course_uuid":"` + courseUUID + `","student_uuid":"` + studentUUID +
			`","file_uuid":"` + fileUUID + `","finish":false}`,
		Reply: dataReply(`{"uuid":"` + certUUID + `","status":"draft","institution":{"uuid":"` + instUUID + `"},"course":{"uuid":"` + courseUUID + `"},"student":{"uuid":"` + studentUUID + `"},"files":[]}`)})
	cert, err := c.Certificates.Create(context.Background(), &CertificateCreateParams{
		InstitutionUUID: instUUID, CourseUUID: courseUUID, StudentUUID: studentUUID, FileUUID: fileUUID, Finish: Ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, StatusDraft, cert.Status)
	assert.True(t, cert.IssuedAt.IsZero())
	assert.Empty(t, cert.FileUUID())
}

func TestCertificatesCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()

	_, err := c.Certificates.Create(ctx, nil)
	assert.ErrorContains(t, err, "nil params")

	_, err = c.Certificates.Create(ctx, &CertificateCreateParams{})
	require.Error(t, err)
	for _, f := range []string{"institution_uuid", "course_uuid", "student_uuid", "file_uuid"} {
		assert.ErrorContains(t, err, f+" is required")
	}

	_, err = c.Certificates.Create(ctx, &CertificateCreateParams{InstitutionUUID: instUUID, CourseUUID: courseUUID,
		StudentUUID: "../students", FileUUID: fileUUID})
	assert.ErrorContains(t, err, "student_uuid")

	_, err = c.Certificates.Create(ctx, &CertificateCreateParams{InstitutionUUID: instUUID, CourseUUID: courseUUID,
		StudentUUID: studentUUID, FileUUID: fileUUID, TemplateUUID: "x"})
	assert.ErrorContains(t, err, "template_uuid")

	_, err = c.Certificates.Create(ctx, &CertificateCreateParams{InstitutionUUID: instUUID, CourseUUID: courseUUID,
		StudentUUID: studentUUID, FileUUID: fileUUID, Status: StatusRevoked})
	assert.ErrorContains(t, err, "revoked")

	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCertificatesCreateServerErrorIsInDoubt(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/certificates", Status: 502,
		Body: `{"institution_uuid":"` + instUUID + `","course_uuid":"` + courseUUID + `","student_uuid":"` + studentUUID +
			`","file_uuid":"` + fileUUID + `"}`, Reply: `{"message":"Bad Gateway"}`})
	_, err := c.Certificates.Create(context.Background(), &CertificateCreateParams{
		InstitutionUUID: instUUID, CourseUUID: courseUUID, StudentUUID: studentUUID, FileUUID: fileUUID})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, ErrServer)
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.StatusCode)
	assert.Contains(t, err.Error(), studentUUID)
}

func TestCertificatesCreateValidationError(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/certificates", Status: 422,
		Body: `{"institution_uuid":"` + instUUID + `","course_uuid":"` + courseUUID + `","student_uuid":"` + studentUUID +
			`","file_uuid":"` + fileUUID + `"}`,
		Reply: `{"message":"The given data was invalid.","errors":{"course_uuid":["The selected course uuid is invalid."]}}`})
	_, err := c.Certificates.Create(context.Background(), &CertificateCreateParams{
		InstitutionUUID: instUUID, CourseUUID: courseUUID, StudentUUID: studentUUID, FileUUID: fileUUID})
	assert.ErrorIs(t, err, ErrValidation)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"The selected course uuid is invalid."}, apiErr.Errors["course_uuid"])
}

func TestCertificatesGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/certificates/" + certUUID, Reply: dataReply(certJSON(certUUID))})
	cert, err := c.Certificates.Get(context.Background(), certUUID)
	require.NoError(t, err)
	assertCert(t, cert)
}

func TestCertificatesGetNotFound(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/certificates/" + certUUID, Status: 404,
		Reply: `{"message":"No query results for model [App\\Certificate] ` + certUUID + `"}`})
	_, err := c.Certificates.Get(context.Background(), certUUID)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestCertificatesUpdate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PATCH", Path: "/certificates/" + certUUID,
		Body: `{"template_uuid":"` + templateUUID + `"}`, Reply: dataReply(certJSON(certUUID))})
	cert, err := c.Certificates.Update(context.Background(), certUUID, &CertificateUpdateParams{TemplateUUID: Set(templateUUID)})
	require.NoError(t, err)
	assertCert(t, cert)
}

func TestCertificatesDestroyBatchRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	assert.ErrorContains(t, c.Certificates.DestroyBatch(ctx, nil), "no ids")
	assert.Error(t, c.Certificates.DestroyBatch(ctx, []string{certUUID, "../files"}))
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCertificatesRevoke(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PUT", Path: "/certificates/" + certUUID + "/revoke",
		Body: `{"revocation_reason":"Issued in error"}`,
		Reply: dataReply(`{"uuid":"` + certUUID + `","status":"revoked","revoked_at":"2025-03-01T10:30:00.000000Z",
			"revocation_reason":"Issued in error","public_verification_url":"https://verificar.dokstamp.eu/AB12CD"}`)})
	cert, err := c.Certificates.Revoke(context.Background(), certUUID, "Issued in error")
	require.NoError(t, err)
	assert.Equal(t, StatusRevoked, cert.Status)
	require.NotNil(t, cert.RevokedAt)
	assert.Equal(t, time.Date(2025, 3, 1, 10, 30, 0, 0, time.UTC), cert.RevokedAt.UTC())
	assert.Equal(t, "Issued in error", cert.RevocationReason)
}

func TestCertificatesRevokeWithoutReason(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "PUT", Path: "/certificates/" + certUUID + "/revoke", Body: `{}`,
		Reply: dataReply(`{"uuid":"` + certUUID + `","status":"revoked","revoked_at":"2025-03-01T10:30:00.000000Z"}`)})
	cert, err := c.Certificates.Revoke(context.Background(), certUUID, "")
	require.NoError(t, err)
	assert.Equal(t, StatusRevoked, cert.Status)
	assert.Empty(t, cert.RevocationReason)
}

func TestCertificatesList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/certificates",
		Query: q("where[status]", "issued", "where[course_uuid]", courseUUID, "sort[column]", "issued_at",
			"sort[order]", "desc", "per_page", "50", "page", "2"),
		Reply: listReply(2, 3, 120, certJSON(certUUID))})
	page, err := c.Certificates.List(context.Background(), &ListOptions{Page: 2, PerPage: 50,
		Where: map[string]string{"status": "issued", "course_uuid": courseUUID}, Sort: "issued_at", Order: "desc"})
	require.NoError(t, err)
	assert.Equal(t, Meta{CurrentPage: 2, PerPage: 15, Total: 120, LastPage: 3}, page.Meta)
	require.Len(t, page.Data, 1)
	assertCert(t, &page.Data[0])
}

func TestCertificatesAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	second := "11111111-2222-4333-8444-555555555555"
	asked := expectPages(t, mt, "/certificates", q("where[status]", "issued"),
		listReply(1, 2, 2, certJSON(certUUID)), listReply(2, 2, 2, certJSON(second)))
	var got []string
	for cert, err := range c.Certificates.All(context.Background(), &ListOptions{Where: map[string]string{"status": "issued"}}) {
		require.NoError(t, err)
		got = append(got, cert.UUID)
	}
	assert.Equal(t, []string{certUUID, second}, got)
	assert.ElementsMatch(t, []int{1, 2}, asked())
}

func TestCertificatesFindForStudent(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/certificates", q("where[student_uuid]", studentUUID, "where[course_uuid]", courseUUID, "per_page", "100"),
		listReply(1, 1, 1, certJSON(certUUID)))
	certs, err := c.Certificates.FindForStudent(context.Background(), studentUUID, courseUUID)
	require.NoError(t, err)
	require.Len(t, certs, 1)
	assertCert(t, &certs[0])
	assert.True(t, certs[0].HasFile(fileUUID))
	assert.False(t, certs[0].HasFile(certUUID))

	_, err = c.Certificates.FindForStudent(context.Background(), "", courseUUID)
	assert.ErrorContains(t, err, "student_uuid is required")
}

func TestCertificateFileUUID(t *testing.T) {
	t.Parallel()
	c := Certificate{Files: []CertificateFile{{Type: "transcript", UUID: "a"}, {Type: "certificate", UUID: "b"}}}
	assert.Equal(t, "b", c.FileUUID())
	c = Certificate{Files: []CertificateFile{{Type: "transcript", UUID: "a"}}}
	assert.Equal(t, "a", c.FileUUID())
	assert.True(t, c.HasFile("a"))
}

func TestCertificatesRefuseBadIDs(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, fn := range map[string]func(string) error{
		"Get": func(id string) error { _, err := c.Certificates.Get(ctx, id); return err },
		"Update": func(id string) error {
			_, err := c.Certificates.Update(ctx, id, &CertificateUpdateParams{})
			return err
		},
		"Delete": func(id string) error { return c.Certificates.Delete(ctx, id) },
		"Revoke": func(id string) error { _, err := c.Certificates.Revoke(ctx, id, "x"); return err },
		"DestroyBatch": func(id string) error {
			return c.Certificates.DestroyBatch(ctx, []string{id})
		},
	} {
		t.Run(name, func(t *testing.T) { assertRefusedIDs(t, mt, fn) })
	}
	_, err := c.Certificates.Update(ctx, certUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCertificatesGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "GET", Path: "/certificates/" + certUUID, Reply: body})
			cert, err := c.Certificates.Get(context.Background(), certUUID)
			assert.Nil(t, cert)
			var de *DecodeError
			assert.True(t, errors.As(err, &de), "error %v", err)
		})
	}
}
