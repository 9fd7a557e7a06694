package dokstamptest

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcademicStructure(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithStudents(1))
	a := newAPI(t, srv)

	// Institutions.
	m := a.call(http.MethodPost, "/institutions", map[string]any{}, http.StatusUnprocessableEntity)
	assert.Equal(t, map[string]any{"name": []any{"The name field is required."}, "country": []any{"The country field is required."}}, errorsOf(t, m))
	inst := a.data(http.MethodPost, "/institutions", map[string]any{"name": "Beta Institute", "country": "BR", "website": "https://beta.example"}, http.StatusCreated)
	assert.Equal(t, []string{"badge_image_uuid", "country", "created_at", "is_badges_enabled", "legal_name", "linkedin_organization",
		"name", "status", "tax_id", "updated_at", "uuid", "website"}, keys(inst))
	assert.Equal(t, "active", inst["status"])
	iu := inst["uuid"].(string)
	m = a.call(http.MethodPatch, "/institutions/"+iu, map[string]any{"is_badges_enabled": true}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "badge_image_uuid")
	_, imgs := a.upload(http.StatusCreated, [2]string{"badge.png", string(pngBytes)})
	img := imgs[0].(map[string]any)["uuid"].(string)
	up := a.data(http.MethodPatch, "/institutions/"+iu, map[string]any{"is_badges_enabled": true, "badge_image_uuid": img}, http.StatusOK)
	assert.Equal(t, true, up["is_badges_enabled"])
	assert.Equal(t, img, up["badge_image_uuid"])
	issuer := a.call(http.MethodGet, "/institutions/"+iu+"/badges/issuers", nil, http.StatusOK)
	assert.Equal(t, map[string]any{"@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
		"id": srv.URL + "/institutions/" + iu + "/badges/issuers", "name": "Beta Institute", "url": "https://beta.example"}, issuer)

	// Organizations.
	org := a.data(http.MethodPost, "/organizations", map[string]any{"name": "Faculty of Law", "institution_uuid": iu, "code": "LAW"}, http.StatusCreated)
	assert.Equal(t, map[string]any{"uuid": iu, "name": "Beta Institute"}, org["institution"])
	assert.Equal(t, []string{"code", "created_at", "institution", "name", "uuid"}, keys(org))

	// Modules: code unique per institution.
	mod := a.data(http.MethodPost, "/modules", map[string]any{"name": "Civil Law", "institution_uuid": iu, "code": "CL1", "modality": "online", "workload": 60}, http.StatusCreated)
	assert.Equal(t, true, mod["is_active"])
	assert.Equal(t, false, mod["is_required"])
	m = a.call(http.MethodPost, "/modules", map[string]any{"name": "Dup", "institution_uuid": iu, "code": "CL1"}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "code")
	a.data(http.MethodPost, "/modules", map[string]any{"name": "Other", "institution_uuid": srv.InstitutionUUID, "code": "CL1"}, http.StatusCreated)
	m = a.call(http.MethodPost, "/modules", map[string]any{"name": "Bad", "institution_uuid": iu, "modality": "presential"}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "modality")

	// Courses, default status draft, with organization.
	co := a.data(http.MethodPost, "/courses", map[string]any{"name": "Law", "institution_uuid": iu, "organization_uuid": org["uuid"], "code": "LAW"}, http.StatusCreated)
	assert.Equal(t, "draft", co["status"])
	assert.Equal(t, "Faculty of Law", co["organization"].(map[string]any)["name"])
	cu := co["uuid"].(string)

	// Attach / detach modules and module groups.
	avail := a.call(http.MethodGet, "/courses/"+cu+"/attach/modules", nil, http.StatusOK)
	require.Len(t, avail["data"], 1)
	grp := a.data(http.MethodPost, "/courses/"+cu+"/modules/groups", map[string]any{"name": "Semester 1", "order": 1}, http.StatusCreated)
	assert.Equal(t, true, grp["is_active"])
	gu := grp["uuid"].(string)
	att := a.call(http.MethodPost, "/courses/"+cu+"/attach/modules", map[string]any{"modules": []any{
		map[string]any{"uuid": mod["uuid"], "order": 1, "is_required": true, "course_module_group_uuid": gu},
	}}, http.StatusOK)
	assert.Len(t, att["data"], 1)
	assert.Empty(t, a.call(http.MethodGet, "/courses/"+cu+"/attach/modules", nil, http.StatusOK)["data"])
	m = a.call(http.MethodDelete, "/modules/"+mod["uuid"].(string), nil, http.StatusUnprocessableEntity)
	assert.Contains(t, m["message"], "attached")
	a.call(http.MethodDelete, "/courses/"+cu+"/detach/modules", map[string]any{"modules": []any{mod["uuid"]}}, http.StatusNoContent)
	a.call(http.MethodDelete, "/modules/"+mod["uuid"].(string), nil, http.StatusNoContent)
	a.data(http.MethodPatch, "/courses/"+cu+"/modules/groups/"+gu, map[string]any{"name": "S1"}, http.StatusOK)
	assert.Len(t, a.call(http.MethodGet, "/courses/"+cu+"/modules/groups", nil, http.StatusOK)["data"], 1)
	a.call(http.MethodGet, "/courses/"+srv.CourseUUID+"/modules/groups/"+gu, nil, http.StatusNotFound)
	a.call(http.MethodDelete, "/courses/"+cu+"/modules/groups/"+gu, nil, http.StatusNoContent)
	a.call(http.MethodGet, "/courses/"+cu+"/modules/groups/"+gu, nil, http.StatusNotFound)

	// Cohorts.
	ch := a.data(http.MethodPost, "/cohorts", map[string]any{"course_uuid": cu, "code": "LAW-2025", "modality": "presential", "start_date": "2025-02-01"}, http.StatusCreated)
	assert.Equal(t, "2025-02-01T00:00:00.000000Z", ch["start_date"])
	m = a.call(http.MethodPost, "/cohorts", map[string]any{"course_uuid": cu, "code": "LAW-2025"}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "code")

	// Students: email unique per tenant.
	st := a.data(http.MethodPost, "/students", map[string]any{"name": "Maria", "email": "maria@example.com", "date_of_birth": "1999-05-06", "gender": "female"}, http.StatusCreated)
	assert.Equal(t, []string{"created_at", "date_of_birth", "email", "gender", "name", "social_name", "uuid"}, keys(st))
	assert.Equal(t, "1999-05-06", st["date_of_birth"])
	m = a.call(http.MethodPost, "/students", map[string]any{"name": "Other", "email": "maria@example.com", "date_of_birth": "1999-05-06"}, http.StatusUnprocessableEntity)
	assert.Equal(t, []any{"The email has already been taken."}, errorsOf(t, m)["email"])
	m = a.call(http.MethodPost, "/students", map[string]any{"name": "X", "email": "not-an-email", "date_of_birth": "yesterday"}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "email")
	assert.Contains(t, errorsOf(t, m), "date_of_birth")
	a.with(srv.Token, srv.AddTenant("gamma").Name).data(http.MethodPost, "/students",
		map[string]any{"name": "Maria", "email": "maria@example.com", "date_of_birth": "1999-05-06"}, http.StatusCreated)
	upd := a.data(http.MethodPut, "/students/"+st["uuid"].(string), map[string]any{"social_name": "Mari"}, http.StatusOK)
	assert.Equal(t, "Mari", upd["social_name"])
	assert.Equal(t, "Maria", upd["name"])

	// Enrollments: cohort must belong to the course.
	en := a.data(http.MethodPost, "/enrollments", map[string]any{"student_uuid": st["uuid"], "course_uuid": cu, "enrolled_at": "2025-02-01", "cohort_uuid": ch["uuid"], "grade": 9.25}, http.StatusCreated)
	assert.Equal(t, "enrolled", en["completion_status"])
	assert.Equal(t, map[string]any{"uuid": ch["uuid"], "code": "LAW-2025"}, en["cohort"])
	assert.Nil(t, en["completed_at"])
	m = a.call(http.MethodPost, "/enrollments", map[string]any{"student_uuid": st["uuid"], "course_uuid": srv.CourseUUID, "enrolled_at": "2025-02-01", "cohort_uuid": ch["uuid"]}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "cohort_uuid")
	m = a.call(http.MethodPost, "/enrollments", map[string]any{}, http.StatusUnprocessableEntity)
	assert.Len(t, errorsOf(t, m), 3)
	a.call(http.MethodDelete, "/cohorts/"+ch["uuid"].(string), nil, http.StatusUnprocessableEntity)

	// Templates.
	tp := a.data(http.MethodPost, "/certificate-templates", map[string]any{"name": "Classic", "version": "1", "institution_uuid": iu, "path": "tpl/classic", "canva_config": map[string]any{"w": 1}}, http.StatusCreated)
	assert.Equal(t, "active", tp["status"])
	assert.Equal(t, map[string]any{"w": 1.0}, tp["canva_config"])

	// A certificate with every optional reference.
	f := a.file("full")
	c := a.data(http.MethodPost, "/certificates", map[string]any{"institution_uuid": iu, "course_uuid": cu, "student_uuid": st["uuid"], "file_uuid": f,
		"cohort_uuid": ch["uuid"], "enrollment_uuid": en["uuid"], "template_uuid": tp["uuid"], "status": "issued"}, http.StatusCreated)
	assert.Equal(t, map[string]any{"uuid": ch["uuid"], "code": "LAW-2025"}, c["cohort"])
	assert.Equal(t, map[string]any{"uuid": tp["uuid"], "name": "Classic"}, c["template"])
	assert.Equal(t, en["uuid"], c["enrollment"].(map[string]any)["uuid"])
	m = a.call(http.MethodGet, "/certificates?where[cohort_uuid]="+ch["uuid"].(string)+"&where[template_uuid]="+tp["uuid"].(string), nil, http.StatusOK)
	assert.Len(t, m["data"], 1)
	a.call(http.MethodDelete, "/institutions/"+iu, nil, http.StatusUnprocessableEntity)
	a.call(http.MethodDelete, "/courses/batch/destroy", map[string]any{"uuids": []string{cu}}, http.StatusUnprocessableEntity)

	// Portfolio pages and items.
	su := st["uuid"].(string)
	pg := a.data(http.MethodPost, "/students/"+su+"/pages", map[string]any{"slug": "maria-silva", "is_public": true, "bio": "hi"}, http.StatusCreated)
	assert.Equal(t, []any{}, pg["items"])
	m = a.call(http.MethodPost, "/students/"+srv.StudentUUIDs[0]+"/pages", map[string]any{"slug": "maria-silva"}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "slug")
	a.call(http.MethodPost, "/students/"+su+"/pages", map[string]any{"slug": "Not OK"}, http.StatusUnprocessableEntity)
	pu := pg["uuid"].(string)
	it := a.data(http.MethodPost, "/students/"+su+"/pages/"+pu+"/items", map[string]any{"certificate_uuid": c["uuid"], "sort_order": 1}, http.StatusCreated)
	assert.Equal(t, true, it["is_visible"])
	assert.Equal(t, c["public_verification_url"], it["certificate"].(map[string]any)["public_verification_url"])
	it2 := a.data(http.MethodPatch, "/students/"+su+"/pages/"+pu+"/items/"+it["uuid"].(string), map[string]any{"is_visible": false}, http.StatusOK)
	assert.Equal(t, false, it2["is_visible"])
	items := a.call(http.MethodGet, "/students/"+su+"/pages/"+pu+"/items", nil, http.StatusOK)
	assert.Len(t, items["data"], 1)
	pages := a.call(http.MethodGet, "/students/"+su+"/pages", nil, http.StatusOK)
	assert.Len(t, pages["data"].([]any)[0].(map[string]any)["items"], 1)
	a.call(http.MethodGet, "/students/"+srv.StudentUUIDs[0]+"/pages/"+pu+"/items", nil, http.StatusNotFound)
}

func TestDocumentsResendAndSign(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithMaxBatch(3))
	a := newAPI(t, srv)

	m := a.call(http.MethodPost, "/document-types", map[string]any{"indexers": []any{map[string]any{"indexer": "CPF", "rule": "Nope"}}}, http.StatusUnprocessableEntity)
	errs := errorsOf(t, m)
	assert.Contains(t, errs, "description")
	assert.Contains(t, errs, "indexers.0.rule")
	dt := a.data(http.MethodPost, "/document-types", map[string]any{"description": "Diploma", "signed_by_third": true,
		"indexers": []any{map[string]any{"indexer": "Student CPF", "rule": "CPF"}}}, http.StatusCreated)
	dtID := int(dt["id"].(float64))
	assert.Equal(t, true, dt["signed_by_third"])
	a.data(http.MethodGet, "/document-types/"+itoa(dtID), nil, http.StatusOK)

	m = a.call(http.MethodPost, "/documents", map[string]any{"description": "x", "document_type_id": 999999, "file_uuid": newUUID()}, http.StatusUnprocessableEntity)
	errs = errorsOf(t, m)
	assert.Contains(t, errs, "document_type_id")
	assert.Contains(t, errs, "file_uuid")
	var ids []int
	for _, tag := range []string{"d1", "d2"} {
		d := a.data(http.MethodPost, "/documents", map[string]any{"description": tag, "document_type_id": dtID, "file_uuid": a.file(tag)}, http.StatusCreated)
		assert.Equal(t, "pending", d["status"])
		assert.EqualValues(t, dtID, d["document_type_id"])
		ids = append(ids, int(d["id"].(float64)))
	}
	assert.Len(t, a.call(http.MethodGet, "/documents", nil, http.StatusOK)["data"], 2)
	a.data(http.MethodGet, "/documents/"+itoa(ids[0]), nil, http.StatusOK)
	a.call(http.MethodGet, "/documents/424242", nil, http.StatusNotFound)

	// Resend.
	m = a.call(http.MethodPost, "/documents/signatures/batch/resend", map[string]any{"document_ids": ids}, http.StatusOK)
	assert.Equal(t, "Signature requests resent.", m["message"])
	a.call(http.MethodPost, "/documents/signatures/batch/resend", map[string]any{"document_ids": []int{ids[0]}}, http.StatusOK)
	assert.Equal(t, 2, srv.Resends(ids[0]))
	assert.Equal(t, 1, srv.Resends(ids[1]))
	a.call(http.MethodPost, "/documents/signatures/batch/resend", map[string]any{"document_ids": []int{}}, http.StatusUnprocessableEntity)
	m = a.call(http.MethodPost, "/documents/signatures/batch/resend", map[string]any{"document_ids": []int{ids[1], 31337}}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "document_ids.1")
	a.call(http.MethodPost, "/documents/signatures/batch/resend", map[string]any{"document_ids": []int{1, 2, 3, 4}}, http.StatusUnprocessableEntity)
	assert.Equal(t, 1, srv.Resends(ids[1]), "a refused batch resends nothing")

	// Sign.
	path := "/documents/batch/sign/" + itoa(srv.SigningCertID)
	a.call(http.MethodPost, "/documents/batch/sign/999", map[string]any{"document_ids": ids, "pin": srv.SigningPIN}, http.StatusNotFound)
	m = a.call(http.MethodPost, path, map[string]any{"document_ids": ids, "pin": "000000x"}, http.StatusUnprocessableEntity)
	assert.Equal(t, map[string]any{"message": "The given data was invalid.", "errors": map[string]any{"pin": []any{"The PIN is invalid."}}}, m)
	assert.Equal(t, "pending", srv.Documents()[0].Status)
	m = a.call(http.MethodPost, path, map[string]any{"document_ids": ids, "pin": srv.SigningPIN}, http.StatusOK)
	assert.Equal(t, []any{map[string]any{"id": float64(ids[0]), "status": "signed"}, map[string]any{"id": float64(ids[1]), "status": "signed"}}, m["data"])
	for _, d := range srv.Documents() {
		assert.Equal(t, "signed", d.Status)
	}
	// Another tenant's certificate id is not found here.
	other := srv.AddTenant("delta")
	a.call(http.MethodPost, "/documents/batch/sign/"+itoa(other.SigningCertID), map[string]any{"document_ids": ids, "pin": other.SigningPIN}, http.StatusNotFound)
}

func itoa(i int) string { return strconv.Itoa(i) }
