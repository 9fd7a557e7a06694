package dokstamptest

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var stampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCertificateIssuedAndDraft(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)

	f := a.file("issued")
	c := a.data(http.MethodPost, "/certificates", a.certBody(0, f, map[string]any{
		"status": "issued", "issued_at": "2024-12-01T00:00:00Z", "enrollment_uuid": srv.EnrollmentUUIDs[0],
	}), http.StatusCreated)
	assert.Equal(t, []string{"blockchain_tx_hash", "blockchain_tx_url", "cohort", "course", "created_at", "enrollment", "files",
		"institution", "issued_at", "public_verification_url", "revocation_reason", "revoked_at", "status", "student",
		"template", "updated_at", "uuid"}, keys(c))
	assert.True(t, isUUID(c["uuid"].(string)))
	assert.Equal(t, "issued", c["status"])
	assert.Equal(t, "2024-12-01T00:00:00.000000Z", c["issued_at"])
	assert.Regexp(t, `^https://verificar\.dokstamp\.eu/\w+$`, c["public_verification_url"])
	assert.Nil(t, c["revoked_at"])
	assert.Nil(t, c["blockchain_tx_hash"])
	assert.Nil(t, c["cohort"])
	assert.Nil(t, c["template"])
	assert.Equal(t, map[string]any{"uuid": srv.InstitutionUUID, "name": "Acme University"}, c["institution"])
	assert.Equal(t, map[string]any{"uuid": srv.StudentUUIDs[0], "name": "Student 1"}, c["student"])
	assert.Equal(t, srv.EnrollmentUUIDs[0], c["enrollment"].(map[string]any)["uuid"])
	assert.Equal(t, []any{map[string]any{"type": "certificate", "uuid": f}}, c["files"])
	assert.Regexp(t, stampRE, c["created_at"])
	assert.NotContains(t, c, "file_uuid")

	// finish:true issues too, with issued_at = now.
	c2 := a.data(http.MethodPost, "/certificates", a.certBody(1, a.file("finish"), map[string]any{"finish": true}), http.StatusCreated)
	assert.Equal(t, "issued", c2["status"])
	assert.Regexp(t, stampRE, c2["issued_at"])

	// Without status or finish: a draft, not verifiable.
	d := a.data(http.MethodPost, "/certificates", a.certBody(2, a.file("draft"), nil), http.StatusCreated)
	assert.Equal(t, "draft", d["status"])
	assert.Nil(t, d["public_verification_url"])
	assert.Nil(t, d["issued_at"])

	got := a.data(http.MethodGet, "/certificates/"+c["uuid"].(string), nil, http.StatusOK)
	assert.Equal(t, c, got)

	certs := srv.Certificates()
	require.Len(t, certs, 3)
	assert.Equal(t, c["uuid"], certs[0].UUID)
	assert.Equal(t, f, certs[0].FileUUID)
	assert.Equal(t, "issued", certs[0].Status)
	assert.Equal(t, c["public_verification_url"], certs[0].PublicVerificationURL)
	assert.Equal(t, "draft", certs[2].Status)
	assert.True(t, certs[2].IssuedAt.IsZero())

	// A draft can be issued by an update.
	u := a.data(http.MethodPatch, "/certificates/"+d["uuid"].(string), map[string]any{"status": "issued"}, http.StatusOK)
	assert.Equal(t, "issued", u["status"])
	assert.NotNil(t, u["public_verification_url"])
}

func TestCertificateValidation(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)

	m := a.call(http.MethodPost, "/certificates", map[string]any{}, http.StatusUnprocessableEntity)
	errs := errorsOf(t, m)
	for _, f := range []string{"institution_uuid", "course_uuid", "student_uuid", "file_uuid"} {
		assert.Equal(t, []any{"The " + strings.ReplaceAll(f, "_", " ") + " field is required."}, errs[f], f)
	}

	f := a.file("v")
	m = a.call(http.MethodPost, "/certificates", a.certBody(0, f, map[string]any{
		"course_uuid": "8a1f4b0e-1111-4222-8333-444455556666", "student_uuid": 42, "status": "done",
	}), http.StatusUnprocessableEntity)
	errs = errorsOf(t, m)
	assert.Contains(t, errs, "student_uuid") // a number where a uuid is expected

	m = a.call(http.MethodPost, "/certificates", a.certBody(0, f, map[string]any{
		"course_uuid": "8a1f4b0e-1111-4222-8333-444455556666", "status": "done", "cohort_uuid": "not-a-uuid",
	}), http.StatusUnprocessableEntity)
	errs = errorsOf(t, m)
	assert.Equal(t, []any{"The selected course uuid is invalid."}, errs["course_uuid"])
	assert.Equal(t, []any{"The selected status is invalid."}, errs["status"])
	assert.Equal(t, []any{"The cohort uuid must be a valid UUID."}, errs["cohort_uuid"])
	assert.Empty(t, srv.Certificates(), "a refused request creates nothing")

	// The file stays unused after refusals, so it still works.
	a.call(http.MethodPost, "/certificates", a.certBody(0, f, nil), http.StatusCreated)
}

func TestSingleUseFile(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	f := a.file("once")
	a.call(http.MethodPost, "/certificates", a.certBody(0, f, map[string]any{"status": "issued"}), http.StatusCreated)
	m := a.call(http.MethodPost, "/certificates", a.certBody(1, f, map[string]any{"status": "issued"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []any{"The file has already been used."}, errorsOf(t, m)["file_uuid"])

	file := a.data(http.MethodGet, "/files/"+f, nil, http.StatusOK)
	assert.Regexp(t, stampRE, file["used_at"])

	// Re-uploading the same bytes returns the used record.
	_, list := a.upload(http.StatusCreated, [2]string{"again.pdf", string(pdf("once"))})
	require.Len(t, list, 1)
	assert.Equal(t, f, list[0].(map[string]any)["uuid"])
	assert.NotNil(t, list[0].(map[string]any)["used_at"])
	assert.Len(t, srv.Certificates(), 1)
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)

	c := a.issued(0, "r")
	u := c["uuid"].(string)
	r := a.data(http.MethodPut, "/certificates/"+u+"/revoke", map[string]any{"revocation_reason": "Issued by mistake"}, http.StatusOK)
	assert.Equal(t, "revoked", r["status"])
	assert.Regexp(t, stampRE, r["revoked_at"])
	assert.Equal(t, "Issued by mistake", r["revocation_reason"])
	assert.Equal(t, c["public_verification_url"], r["public_verification_url"])

	m := a.call(http.MethodPut, "/certificates/"+u+"/revoke", nil, http.StatusUnprocessableEntity)
	assert.Equal(t, "Only issued certificates can be revoked.", m["message"])

	d := a.data(http.MethodPost, "/certificates", a.certBody(1, a.file("d"), nil), http.StatusCreated)
	a.call(http.MethodPut, "/certificates/"+d["uuid"].(string)+"/revoke", map[string]any{}, http.StatusUnprocessableEntity)
	a.call(http.MethodPut, "/certificates/"+newUUID()+"/revoke", map[string]any{}, http.StatusNotFound)

	// Revoked certificates cannot be changed.
	a.call(http.MethodPatch, "/certificates/"+u, map[string]any{"status": "issued"}, http.StatusUnprocessableEntity)
	assert.Equal(t, "revoked", srv.Certificates()[0].Status)
	assert.Equal(t, "Issued by mistake", srv.Certificates()[0].RevocationReason)
}

func TestDuplicates(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	assert.Empty(t, srv.Duplicates())

	first := a.issued(0, "a")
	a.issued(1, "b")
	assert.Empty(t, srv.Duplicates())

	// The API does not refuse a second certificate for the same student and course.
	second := a.issued(0, "c")
	dups := srv.Duplicates()
	require.Len(t, dups, 1)
	assert.Equal(t, Duplicate{Tenant: srv.Tenant, Reason: "student_course", Key: srv.StudentUUIDs[0] + "/" + srv.CourseUUID,
		CertificateUUIDs: []string{first["uuid"].(string), second["uuid"].(string)}}, dups[0])

	// Revoking one of them (re-issue after revocation) is not a duplicate.
	a.call(http.MethodPut, "/certificates/"+first["uuid"].(string)+"/revoke", nil, http.StatusOK)
	assert.Empty(t, srv.Duplicates())
}

func TestSoftDeleteAndBatchDestroy(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithMaxBatch(3), WithStudents(4))
	a := newAPI(t, srv)

	var uuids []string
	for i := 0; i < 4; i++ {
		c := a.data(http.MethodPost, "/certificates", a.certBody(i, a.file(string(rune('a'+i))), nil), http.StatusCreated)
		uuids = append(uuids, c["uuid"].(string))
	}
	a.call(http.MethodDelete, "/certificates/"+uuids[0], nil, http.StatusNoContent)
	a.call(http.MethodGet, "/certificates/"+uuids[0], nil, http.StatusNotFound)
	a.call(http.MethodDelete, "/certificates/"+uuids[0], nil, http.StatusNotFound)
	assert.EqualValues(t, 3, a.call(http.MethodGet, "/certificates", nil, http.StatusOK)["meta"].(map[string]any)["total"])

	m := a.call(http.MethodDelete, "/certificates/batch/destroy", map[string]any{"uuids": uuids}, http.StatusUnprocessableEntity)
	assert.Equal(t, []any{"The uuids may not have more than 3 items."}, errorsOf(t, m)["uuids"])
	a.call(http.MethodDelete, "/certificates/batch/destroy", map[string]any{"uuids": []string{}}, http.StatusUnprocessableEntity)
	a.call(http.MethodDelete, "/certificates/batch/destroy", map[string]any{"uuids": []string{"x"}}, http.StatusUnprocessableEntity)
	assert.Len(t, srv.Certificates(), 3)

	// Already deleted and unknown uuids are skipped.
	a.call(http.MethodDelete, "/certificates/batch/destroy", map[string]any{"uuids": []string{uuids[0], uuids[1], newUUID()}}, http.StatusNoContent)
	assert.Len(t, srv.Certificates(), 2)
	a.call(http.MethodDelete, "/certificates/batch/destroy", map[string]any{"uuids": uuids[2:]}, http.StatusNoContent)
	assert.Empty(t, srv.Certificates())
	assert.Empty(t, a.call(http.MethodGet, "/certificates", nil, http.StatusOK)["data"])
}

func TestDeletionProtectionAndDeletedReferences(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithStudents(2))
	a := newAPI(t, srv)

	// A student with enrollments cannot be deleted.
	m := a.call(http.MethodDelete, "/students/"+srv.StudentUUIDs[0], nil, http.StatusUnprocessableEntity)
	assert.Contains(t, m["message"], "cannot be deleted")
	m = a.call(http.MethodDelete, "/students/batch/destroy", map[string]any{"uuids": srv.StudentUUIDs}, http.StatusUnprocessableEntity)
	assert.Contains(t, m["message"], "cannot be deleted")
	a.call(http.MethodDelete, "/institutions/"+srv.InstitutionUUID, nil, http.StatusUnprocessableEntity)
	a.call(http.MethodDelete, "/courses/"+srv.CourseUUID, nil, http.StatusUnprocessableEntity)

	// Once its enrollment is gone, it can; and then it cannot be referenced.
	a.call(http.MethodDelete, "/enrollments/"+srv.EnrollmentUUIDs[0], nil, http.StatusNoContent)
	a.call(http.MethodDelete, "/students/"+srv.StudentUUIDs[0], nil, http.StatusNoContent)
	a.call(http.MethodGet, "/students/"+srv.StudentUUIDs[0], nil, http.StatusNotFound)
	m = a.call(http.MethodPost, "/certificates", a.certBody(0, a.file("gone"), nil), http.StatusUnprocessableEntity)
	assert.Equal(t, []any{"The selected student uuid is invalid."}, errorsOf(t, m)["student_uuid"])
	list := a.call(http.MethodGet, "/students", nil, http.StatusOK)
	assert.Len(t, list["data"], 1)

	// Its email is free again.
	a.data(http.MethodPost, "/students", map[string]any{"name": "Again", "email": "student1@" + srv.Tenant + ".test", "date_of_birth": "2001-02-03"}, http.StatusCreated)
}
