package dokstamptest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noAccept drops the Accept header a.do sends.
var noAccept = map[string]string{"Accept": ""}

func TestAcceptHeaderAsLaravel(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRouteFaults("GET /courses", Faults{RateLimitRate: 1}))
	a := newAPI(t, srv)

	// A success stays JSON without Accept.
	resp, body, err := a.send(http.MethodGet, "/students", nil, noAccept)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.True(t, json.Valid(body))

	// A validation failure redirects back: to the site root, or the Referer.
	resp, body, err = a.send(http.MethodPost, "/students", map[string]any{}, noAccept)
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, srv.URL+"/", resp.Header.Get("Location"))
	assert.Equal(t, "text/html; charset=UTF-8", resp.Header.Get("Content-Type"))
	assert.False(t, json.Valid(body), "%s", body)
	resp, _, err = a.send(http.MethodPost, "/students", map[string]any{}, map[string]string{"Accept": "", "Referer": "https://sis.example/form"})
	require.NoError(t, err)
	assert.Equal(t, "https://sis.example/form", resp.Header.Get("Location"))

	// A missing model is an HTML 404; a missing login redirects to /login.
	resp, body, err = a.send(http.MethodGet, "/students/"+newUUID(), nil, noAccept)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(body), "<title>Not Found</title>")
	resp, _, err = a.with("", srv.Tenant).send(http.MethodGet, "/students", nil, noAccept)
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, srv.URL+"/login", resp.Header.Get("Location"))

	// Faults' errors follow the same rule.
	resp, body, err = a.send(http.MethodGet, "/courses", nil, map[string]string{"Accept": "text/html"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Contains(t, string(body), "429 | Too Many Requests")

	// What counts as asking for JSON: the first Accept type, or an
	// XMLHttpRequest that accepts anything.
	for hdr, json := range map[string]bool{
		"application/json":                   true,
		"application/json, text/html":        true,
		"application/vnd.api+json; q=1":      true,
		"text/html, application/json":        false,
		"*/*":                                false,
		"text/html;q=0.9, application/json;": false,
	} {
		resp, _, err := a.send(http.MethodPost, "/students", map[string]any{}, map[string]string{"Accept": hdr})
		require.NoError(t, err)
		want := http.StatusFound
		if json {
			want = http.StatusUnprocessableEntity
		}
		assert.Equal(t, want, resp.StatusCode, "Accept: %s", hdr)
	}
	resp, _, err = a.send(http.MethodPost, "/students", map[string]any{}, map[string]string{"Accept": "*/*", "X-Requested-With": "XMLHttpRequest"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)

	// Passport's OAuth errors are JSON whatever Accept says.
	resp, body, err = a.with("", "").send(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}, "client_secret": {"y"}}, noAccept)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, string(body), `"invalid_client"`)
	assert.Empty(t, srv.Certificates())
}

// template creates a certificate template on inst and returns its uuid.
func (a *api) template(inst, name string, extra map[string]any) string {
	a.t.Helper()
	b := map[string]any{"name": name, "version": "1", "path": "templates/" + name, "institution_uuid": inst}
	for k, v := range extra {
		b[k] = v
	}
	return a.data(http.MethodPost, "/certificate-templates", b, http.StatusCreated)["uuid"].(string)
}

func templateOf(m map[string]any) any {
	if tp, ok := m["template"].(map[string]any); ok {
		return tp["uuid"]
	}
	return m["template"]
}

func TestDefaultTemplate(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithStudents(5))
	a := newAPI(t, srv)

	// No default yet: none applied.
	c := a.data(http.MethodPost, "/certificates", a.certBody(0, a.file("t0"), nil), http.StatusCreated)
	assert.Nil(t, c["template"])

	first := a.template(srv.InstitutionUUID, "first", map[string]any{"is_default": true})
	c = a.data(http.MethodPost, "/certificates", a.certBody(1, a.file("t1"), nil), http.StatusCreated)
	assert.Equal(t, first, templateOf(c))

	// A second default replaces the first: one default per institution.
	second := a.template(srv.InstitutionUUID, "second", map[string]any{"is_default": true})
	assert.Equal(t, false, a.data(http.MethodGet, "/certificate-templates/"+first, nil, http.StatusOK)["is_default"])
	defaults := a.call(http.MethodGet, "/certificate-templates?where[is_default]=true", nil, http.StatusOK)["data"].([]any)
	require.Len(t, defaults, 1)
	assert.Equal(t, second, defaults[0].(map[string]any)["uuid"])
	c = a.data(http.MethodPost, "/certificates", a.certBody(2, a.file("t2"), nil), http.StatusCreated)
	assert.Equal(t, second, templateOf(c))
	assert.Equal(t, second, srv.Certificates()[2].TemplateUUID)

	// Updating a template into the default moves the mark too.
	a.data(http.MethodPatch, "/certificate-templates/"+first, map[string]any{"is_default": true}, http.StatusOK)
	assert.Equal(t, false, a.data(http.MethodGet, "/certificate-templates/"+second, nil, http.StatusOK)["is_default"])

	// A template named in the request wins; an inactive default is not applied.
	c = a.data(http.MethodPost, "/certificates", a.certBody(3, a.file("t3"), map[string]any{"template_uuid": second}), http.StatusCreated)
	assert.Equal(t, second, templateOf(c))
	a.data(http.MethodPatch, "/certificate-templates/"+first, map[string]any{"status": "inactive"}, http.StatusOK)
	c = a.data(http.MethodPost, "/certificates", a.certBody(4, a.file("t4"), nil), http.StatusCreated)
	assert.Nil(t, c["template"])
}

func TestCrossInstitutionReferences(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	other := a.data(http.MethodPost, "/institutions", map[string]any{"name": "Other", "country": "BR"}, http.StatusCreated)["uuid"].(string)
	otherCourse := a.data(http.MethodPost, "/courses", map[string]any{"name": "Law", "institution_uuid": other}, http.StatusCreated)["uuid"].(string)
	otherOrg := a.data(http.MethodPost, "/organizations", map[string]any{"name": "Law School", "institution_uuid": other}, http.StatusCreated)["uuid"].(string)
	otherTemplate := a.template(other, "other", nil)

	f := a.file("cross")
	body := a.certBody(0, f, map[string]any{"course_uuid": otherCourse})
	e := errorsOf(t, a.call(http.MethodPost, "/certificates", body, http.StatusUnprocessableEntity))
	assert.Equal(t, []any{"The selected course uuid is invalid."}, e["course_uuid"])
	e = errorsOf(t, a.call(http.MethodPost, "/certificates", a.certBody(0, f, map[string]any{"template_uuid": otherTemplate}), http.StatusUnprocessableEntity))
	assert.Equal(t, []any{"The selected template uuid is invalid."}, e["template_uuid"])
	assert.Empty(t, srv.Certificates())

	e = errorsOf(t, a.call(http.MethodPost, "/courses", map[string]any{"name": "Mixed", "institution_uuid": srv.InstitutionUUID, "organization_uuid": otherOrg}, http.StatusUnprocessableEntity))
	assert.Equal(t, []any{"The selected organization uuid is invalid."}, e["organization_uuid"])
	e = errorsOf(t, a.call(http.MethodPatch, "/courses/"+srv.CourseUUID, map[string]any{"organization_uuid": otherOrg}, http.StatusUnprocessableEntity))
	assert.Contains(t, e, "organization_uuid")
	// Moving a course to the organization's institution together is fine...
	moved := a.data(http.MethodPatch, "/courses/"+otherCourse, map[string]any{"organization_uuid": otherOrg}, http.StatusOK)
	assert.Equal(t, otherOrg, moved["organization"].(map[string]any)["uuid"])
	// ...but moving it away from its organization's institution is not.
	e = errorsOf(t, a.call(http.MethodPatch, "/courses/"+otherCourse, map[string]any{"institution_uuid": srv.InstitutionUUID}, http.StatusUnprocessableEntity))
	assert.Contains(t, e, "institution_uuid")

	// The same references within one institution are accepted.
	a.data(http.MethodPost, "/certificates", a.certBody(0, f, map[string]any{"template_uuid": a.template(srv.InstitutionUUID, "own", nil)}), http.StatusCreated)
}

func TestStudentSnapshotProtectsDeletion(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	newStudent := func(tag string) string {
		return a.data(http.MethodPost, "/students", map[string]any{"name": tag, "email": tag + "@x.test", "date_of_birth": "2001-02-03"}, http.StatusCreated)["uuid"].(string)
	}
	issuedTo, draftedFor := newStudent("issued"), newStudent("drafted")
	for st, extra := range map[string]map[string]any{issuedTo: {"status": "issued"}, draftedFor: nil} {
		body := a.certBody(0, a.file(st), extra)
		body["student_uuid"] = st
		c := a.data(http.MethodPost, "/certificates", body, http.StatusCreated)
		// While the certificate lives, it protects the student.
		a.call(http.MethodDelete, "/students/"+st, nil, http.StatusUnprocessableEntity)
		a.call(http.MethodDelete, "/certificates/"+c["uuid"].(string), nil, http.StatusNoContent)
	}
	// The issued certificate's snapshot outlives it; the draft took none.
	m := a.call(http.MethodDelete, "/students/"+issuedTo, nil, http.StatusUnprocessableEntity)
	assert.Contains(t, m["message"], "snapshot")
	a.call(http.MethodDelete, "/students/batch/destroy", map[string]any{"uuids": []string{issuedTo, draftedFor}}, http.StatusUnprocessableEntity)
	a.call(http.MethodGet, "/students/"+draftedFor, nil, http.StatusOK)
	a.call(http.MethodDelete, "/students/"+draftedFor, nil, http.StatusNoContent)
	a.call(http.MethodGet, "/students/"+issuedTo, nil, http.StatusOK)
}

func TestIssuanceFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag                  IssuanceFlag
		byStatus, byFinish    string
		bogusStatusIsRejected bool
	}{
		{IssueByEither, "issued", "issued", true},
		{IssueByStatus, "issued", "draft", true},
		{IssueByFinish, "draft", "issued", false},
	} {
		t.Run(string(tc.flag), func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, WithIssuanceFlag(tc.flag))
			a := newAPI(t, srv)
			c := a.data(http.MethodPost, "/certificates", a.certBody(0, a.file("s"), map[string]any{"status": "issued", "issued_at": "2024-12-01T00:00:00Z"}), http.StatusCreated)
			assert.Equal(t, tc.byStatus, c["status"])
			c = a.data(http.MethodPost, "/certificates", a.certBody(1, a.file("f"), map[string]any{"finish": true}), http.StatusCreated)
			assert.Equal(t, tc.byFinish, c["status"])

			want := http.StatusCreated
			if tc.bogusStatusIsRejected {
				want = http.StatusUnprocessableEntity
			}
			a.call(http.MethodPost, "/certificates", a.certBody(2, a.file("b"), map[string]any{"status": "bogus"}), want)

			// The update honours the same field.
			d := a.data(http.MethodPost, "/certificates", a.certBody(0, a.file("d"), nil), http.StatusCreated)
			u := a.data(http.MethodPatch, "/certificates/"+d["uuid"].(string), map[string]any{"status": "issued"}, http.StatusOK)
			assert.Equal(t, tc.byStatus, u["status"])
			u = a.data(http.MethodPatch, "/certificates/"+d["uuid"].(string), map[string]any{"finish": true}, http.StatusOK)
			if tc.byStatus == "draft" {
				assert.Equal(t, "issued", u["status"])
			}
		})
	}
	_, err := New(WithIssuanceFlag("publish"))
	assert.ErrorContains(t, err, "IssueByStatus")
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	missing := newUUID()
	plain := newAPI(t, NewServer(t))
	m := plain.call(http.MethodGet, "/certificates/"+missing, nil, http.StatusNotFound)
	assert.Equal(t, map[string]any{"message": "Resource not found."}, m)

	newer := newAPI(t, NewServer(t, WithSuccessFalse()))
	m = newer.call(http.MethodGet, "/certificates/"+missing, nil, http.StatusNotFound)
	assert.Equal(t, map[string]any{"success": false, "message": "Resource not found."}, m)
	m = newer.call(http.MethodPost, "/students", map[string]any{}, http.StatusUnprocessableEntity)
	assert.Equal(t, false, m["success"])
	assert.Contains(t, errorsOf(t, m), "email")
	m = newer.with("", newer.tenant).call(http.MethodGet, "/students", nil, http.StatusUnauthorized)
	assert.Equal(t, map[string]any{"success": false, "message": "Unauthenticated."}, m)

	older := newAPI(t, NewServer(t, WithModelNotFoundMessage()))
	m = older.call(http.MethodGet, "/certificates/"+missing, nil, http.StatusNotFound)
	assert.Equal(t, map[string]any{"message": `No query results for model [App\Certificate] ` + missing}, m)
	m = older.call(http.MethodDelete, "/certificate-templates/"+missing, nil, http.StatusNotFound)
	assert.Equal(t, `No query results for model [App\CertificateTemplate] `+missing, m["message"])
	m = older.call(http.MethodGet, "/students/"+older.srv.StudentUUIDs[0]+"/pages/"+missing+"/items", nil, http.StatusNotFound)
	assert.Equal(t, `No query results for model [App\StudentPage] `+missing, m["message"])
	m = older.call(http.MethodGet, "/nowhere", nil, http.StatusNotFound)
	assert.Equal(t, "The route nowhere could not be found.", m["message"])
	// The raw body is Laravel's, backslash escaped in JSON.
	_, raw := older.do(http.MethodGet, "/students/"+missing, nil)
	assert.True(t, bytes.Contains(raw, []byte(`[App\\Student]`)), "%s", raw)
}

func TestExpireCertificate(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	c := a.issued(0, "x")
	id := c["uuid"].(string)
	require.NoError(t, srv.ExpireCertificate(id))
	got := a.data(http.MethodGet, "/certificates/"+id, nil, http.StatusOK)
	assert.Equal(t, "expired", got["status"])
	assert.Equal(t, c["public_verification_url"], got["public_verification_url"])
	assert.Equal(t, "expired", srv.Certificates()[0].Status)
	list := a.call(http.MethodGet, "/certificates?where[status]=expired", nil, http.StatusOK)["data"].([]any)
	assert.Len(t, list, 1)

	a.call(http.MethodPut, "/certificates/"+id+"/revoke", map[string]any{"revocation_reason": "late"}, http.StatusUnprocessableEntity)
	e := errorsOf(t, a.call(http.MethodPatch, "/certificates/"+id, map[string]any{"status": "issued"}, http.StatusUnprocessableEntity))
	assert.Equal(t, []any{"A expired certificate cannot be changed."}, e["status"])

	assert.ErrorContains(t, srv.ExpireCertificate(id), "is expired")
	d := a.data(http.MethodPost, "/certificates", a.certBody(1, a.file("d"), nil), http.StatusCreated)
	assert.ErrorContains(t, srv.ExpireCertificate(d["uuid"].(string)), "is draft")
	assert.ErrorContains(t, srv.ExpireCertificate(newUUID()), "no live certificate")
}

func TestLimitOptions(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithMaxFileSize(64), WithMaxUploadFiles(1), WithMaxBatch(1))
	a := newAPI(t, srv)
	m, _ := a.upload(http.StatusUnprocessableEntity, [2]string{"big.pdf", string(pdf(strings.Repeat("x", 64)))})
	assert.Contains(t, errorsOf(t, m), "files.0")
	m, _ = a.upload(http.StatusUnprocessableEntity, [2]string{"a.pdf", "%PDF-1.4 a"}, [2]string{"b.pdf", "%PDF-1.4 b"})
	assert.Contains(t, errorsOf(t, m), "files")
	_, list := a.upload(http.StatusCreated, [2]string{"a.pdf", "%PDF-1.4 a"})
	assert.Len(t, list, 1)
	a.call(http.MethodDelete, "/students/batch/destroy", map[string]any{"uuids": []string{newUUID(), newUUID()}}, http.StatusUnprocessableEntity)
	a.call(http.MethodDelete, "/students/batch/destroy", map[string]any{"uuids": []string{newUUID()}}, http.StatusNoContent)

	for _, o := range []Option{WithMaxFileSize(0), WithMaxUploadFiles(0), WithMaxBatch(0), WithMaxPerPage(0)} {
		_, err := New(o)
		assert.Error(t, err)
	}
}
