package dokstamptest

import (
	"fmt"
	"net/http"
	"time"
)

// verificationBase is where the API publishes verification pages.
const verificationBase = "https://verificar.dokstamp.eu/"

type certFileJSON struct {
	Type string `json:"type"`
	UUID string `json:"uuid"`
}

type enrollmentRefJSON struct {
	UUID             string `json:"uuid"`
	CompletionStatus string `json:"completion_status"`
}

type certificateJSON struct {
	UUID                  string             `json:"uuid"`
	Status                string             `json:"status"`
	IssuedAt              *string            `json:"issued_at"`
	RevokedAt             *string            `json:"revoked_at"`
	RevocationReason      *string            `json:"revocation_reason"`
	PublicVerificationURL *string            `json:"public_verification_url"`
	BlockchainTxHash      *string            `json:"blockchain_tx_hash"`
	BlockchainTxURL       *string            `json:"blockchain_tx_url"`
	Institution           *refJSON           `json:"institution"`
	Course                *refJSON           `json:"course"`
	Student               *refJSON           `json:"student"`
	Cohort                *codeRefJSON       `json:"cohort"`
	Enrollment            *enrollmentRefJSON `json:"enrollment"`
	Template              *refJSON           `json:"template"`
	Files                 []certFileJSON     `json:"files"`
	CreatedAt             string             `json:"created_at"`
	UpdatedAt             string             `json:"updated_at"`
}

type certificate struct {
	rec
	institution *institution
	course      *course
	student     *student
	file        *file
	cohort      *cohort
	enrollment  *enrollment
	template    *template
	issuedAt    time.Time
	revokedAt   time.Time
	j           certificateJSON // status, revocation_reason, urls
}

func (e *certificate) view(*Server) any {
	j := e.j
	j.UUID = e.uuid
	j.IssuedAt = stampPtr(e.issuedAt)
	j.RevokedAt = stampPtr(e.revokedAt)
	j.Institution = refOf(e.institution.uuid, e.institution.j.Name)
	j.Course = refOf(e.course.uuid, e.course.j.Name)
	j.Student = refOf(e.student.uuid, e.student.j.Name)
	if e.cohort != nil {
		j.Cohort = &codeRefJSON{UUID: e.cohort.uuid, Code: e.cohort.j.Code}
	}
	if e.enrollment != nil {
		j.Enrollment = &enrollmentRefJSON{UUID: e.enrollment.uuid, CompletionStatus: e.enrollment.j.CompletionStatus}
	}
	if e.template != nil {
		j.Template = refOf(e.template.uuid, e.template.j.Name)
	}
	j.Files = []certFileJSON{{Type: "certificate", UUID: e.file.uuid}}
	j.CreatedAt, j.UpdatedAt = stamp(e.created), stamp(e.updated)
	return j
}

type certificateParams struct {
	InstitutionUUID *string `json:"institution_uuid"`
	CourseUUID      *string `json:"course_uuid"`
	StudentUUID     *string `json:"student_uuid"`
	FileUUID        *string `json:"file_uuid"`
	CohortUUID      *string `json:"cohort_uuid"`
	EnrollmentUUID  *string `json:"enrollment_uuid"`
	TemplateUUID    *string `json:"template_uuid"`
	Status          *string `json:"status"`
	IssuedAt        *string `json:"issued_at"`
	Finish          *bool   `json:"finish"`
}

// optional checks the optional references of a certificate against its
// institution, course and student, and the issuance fields the server
// honours.
func (s *Server) optional(p *certificateParams, t *tenant, v *validator, e *certificate) {
	if ch, _ := v.ref("cohort_uuid", p.CohortUUID, t.cohorts, false).(*cohort); ch != nil {
		if e.course != nil && ch.course != e.course {
			v.add("cohort_uuid", "The selected cohort uuid is invalid.")
		}
		e.cohort = ch
	}
	if en, _ := v.ref("enrollment_uuid", p.EnrollmentUUID, t.enrollments, false).(*enrollment); en != nil {
		if e.student != nil && e.course != nil && (en.student != e.student || en.course != e.course) {
			v.add("enrollment_uuid", "The selected enrollment uuid is invalid.")
		}
		e.enrollment = en
	}
	if tp, _ := v.ref("template_uuid", p.TemplateUUID, t.templates, false).(*template); tp != nil {
		if e.institution != nil && tp.institution != e.institution {
			v.add("template_uuid", "The selected template uuid is invalid.")
		}
		e.template = tp
	}
	if s.cfg.issuance != IssueByFinish {
		v.enum("status", p.Status, "draft", "issued")
		v.date("issued_at", p.IssuedAt, false)
	}
}

// defaultTemplate returns the institution's active default template, or nil.
func defaultTemplate(t *tenant, inst *institution) *template {
	var out *template
	t.templates.live(func(e entity) {
		if tp := e.(*template); tp.institution == inst && tp.j.IsDefault && tp.j.Status == "active" {
			out = tp
		}
	})
	return out
}

// issue turns e into an issued certificate and captures the credential
// subject's snapshot, which protects the student from deletion for good.
func (s *Server) issue(e *certificate, p *certificateParams) {
	e.j.Status = "issued"
	e.issuedAt = s.now()
	if s.cfg.issuance != IssueByFinish && p.IssuedAt != nil && *p.IssuedAt != "" {
		e.issuedAt, _ = parseTime(*p.IssuedAt)
	}
	e.student.snapshots++
	if e.j.PublicVerificationURL == nil {
		e.j.PublicVerificationURL = strPtr(verificationBase + shortID())
	}
}

// wantsIssue reports whether p asks for issuance through a field the server
// honours (WithIssuanceFlag).
func (s *Server) wantsIssue(p *certificateParams) bool {
	byStatus := p.Status != nil && *p.Status == "issued"
	byFinish := p.Finish != nil && *p.Finish
	switch s.cfg.issuance {
	case IssueByStatus:
		return byStatus
	case IssueByFinish:
		return byFinish
	}
	return byStatus || byFinish
}

func (s *Server) registerCertificates() {
	register(s, resource[certificateParams]{
		path: "/certificates", batch: true,
		tbl: func(t *tenant) *table { return t.certificates },
		create: func(c *call, p *certificateParams, v *validator, r rec) entity {
			t := c.t
			e := &certificate{rec: r, j: certificateJSON{Status: "draft"}}
			e.institution, _ = v.ref("institution_uuid", p.InstitutionUUID, t.institutions, true).(*institution)
			e.course, _ = v.ref("course_uuid", p.CourseUUID, t.courses, true).(*course)
			if e.course != nil && e.institution != nil && e.course.institution != e.institution {
				v.add("course_uuid", "The selected course uuid is invalid.")
			}
			e.student, _ = v.ref("student_uuid", p.StudentUUID, t.students, true).(*student)
			e.file, _ = v.ref("file_uuid", p.FileUUID, t.files, true).(*file)
			if e.file != nil && !e.file.usedAt.IsZero() {
				v.add("file_uuid", "The file has already been used.")
			}
			s.optional(p, t, v, e)
			if !v.ok() {
				return nil
			}
			if e.template == nil && (p.TemplateUUID == nil || *p.TemplateUUID == "") {
				e.template = defaultTemplate(t, e.institution)
			}
			if s.wantsIssue(p) {
				s.issue(e, p)
			}
			e.file.usedAt = s.now()
			return e
		},
		update: func(c *call, en entity, p *certificateParams, v *validator) {
			e := en.(*certificate)
			if e.j.Status == "revoked" || e.j.Status == "expired" {
				v.add("status", "A "+e.j.Status+" certificate cannot be changed.")
				return
			}
			if s.cfg.issuance != IssueByFinish && p.Status != nil && *p.Status == "draft" && e.j.Status == "issued" {
				v.add("status", "An issued certificate cannot return to draft.")
			}
			for field, ptr := range map[string]*string{"institution_uuid": p.InstitutionUUID, "course_uuid": p.CourseUUID, "student_uuid": p.StudentUUID, "file_uuid": p.FileUUID} {
				if ptr != nil && *ptr != refUUID(e, field) {
					v.add(field, "The "+label(field)+" cannot be changed.")
				}
			}
			saved := *e
			s.optional(p, c.t, v, e)
			if !v.ok() {
				*e = saved
				return
			}
			if s.wantsIssue(p) && e.j.Status == "draft" {
				s.issue(e, p)
			} else if s.cfg.issuance != IssueByFinish && p.IssuedAt != nil && e.j.Status == "issued" {
				e.issuedAt, _ = parseTime(*p.IssuedAt)
			}
		},
	})
	s.handle("PUT /certificates/{uuid}/revoke", scopeTenant, func(c *call) {
		var p struct {
			RevocationReason *string `json:"revocation_reason"`
		}
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		en := c.t.certificates.get(c.r.PathValue("uuid"))
		if en == nil {
			c.notFound()
			return
		}
		e := en.(*certificate)
		if e.j.Status != "issued" {
			c.fail(http.StatusUnprocessableEntity, "Only issued certificates can be revoked.")
			return
		}
		now := s.now()
		e.j.Status = "revoked"
		e.revokedAt, e.updated = now, now
		if p.RevocationReason != nil {
			e.j.RevocationReason = strPtr(*p.RevocationReason)
		}
		c.data(http.StatusOK, e.view(s))
	})
}

func refUUID(e *certificate, field string) string {
	switch field {
	case "institution_uuid":
		return e.institution.uuid
	case "course_uuid":
		return e.course.uuid
	case "student_uuid":
		return e.student.uuid
	}
	return e.file.uuid
}

// Certificate is a certificate as the server holds it, for inspection in
// tests. Times are zero when unset.
type Certificate struct {
	UUID                  string
	Tenant                string
	Status                string // "draft", "issued", "revoked" or "expired"
	InstitutionUUID       string
	CourseUUID            string
	StudentUUID           string
	FileUUID              string
	CohortUUID            string
	EnrollmentUUID        string
	TemplateUUID          string
	IssuedAt              time.Time
	RevokedAt             time.Time
	RevocationReason      string
	PublicVerificationURL string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (e *certificate) export(tenant string) Certificate {
	c := Certificate{
		UUID: e.uuid, Tenant: tenant, Status: e.j.Status,
		InstitutionUUID: e.institution.uuid, CourseUUID: e.course.uuid, StudentUUID: e.student.uuid, FileUUID: e.file.uuid,
		IssuedAt: e.issuedAt, RevokedAt: e.revokedAt, CreatedAt: e.created, UpdatedAt: e.updated,
	}
	if e.cohort != nil {
		c.CohortUUID = e.cohort.uuid
	}
	if e.enrollment != nil {
		c.EnrollmentUUID = e.enrollment.uuid
	}
	if e.template != nil {
		c.TemplateUUID = e.template.uuid
	}
	if e.j.RevocationReason != nil {
		c.RevocationReason = *e.j.RevocationReason
	}
	if e.j.PublicVerificationURL != nil {
		c.PublicVerificationURL = *e.j.PublicVerificationURL
	}
	return c
}

// ExpireCertificate turns an issued certificate of any tenant into an
// expired one, as the server does once a validity period ends (the docs
// name no field that sets one). It fails for an unknown, deleted or not
// issued certificate. An expired certificate can be neither revoked nor
// changed.
func (s *Server) ExpireCertificate(uuid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tenantOrder {
		if en := t.certificates.get(uuid); en != nil {
			e := en.(*certificate)
			if e.j.Status != "issued" {
				return fmt.Errorf("dokstamptest: certificate %s is %s; only an issued certificate can expire", uuid, e.j.Status)
			}
			e.j.Status, e.updated = "expired", s.now()
			return nil
		}
	}
	return fmt.Errorf("dokstamptest: no live certificate %s", uuid)
}

// Certificates returns the live (not deleted) certificates of the default
// tenant, in creation order.
func (s *Server) Certificates() []Certificate { return s.CertificatesOf(s.Tenant) }

// CertificatesOf returns the live certificates of a tenant, in creation
// order; nil for an unknown tenant.
func (s *Server) CertificatesOf(tenant string) []Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tenants[tenant]
	if t == nil {
		return nil
	}
	var out []Certificate
	t.certificates.live(func(e entity) { out = append(out, e.(*certificate).export(tenant)) })
	return out
}

// Duplicate is a set of live certificates that should have been one.
type Duplicate struct {
	// Tenant is the tenant holding the certificates.
	Tenant string
	// Reason is "student_course" (same student and course) or "file" (same
	// file).
	Reason string
	// Key is "<student uuid>/<course uuid>" or the file uuid.
	Key string
	// CertificateUUIDs are the certificates involved, in creation order.
	CertificateUUIDs []string
}

// Duplicates reports, across all tenants, live certificates sharing a
// student and course, or a file. Revoked certificates are left out of the
// student-and-course check (re-issuing after a revocation is legitimate) but
// not of the file check. The result is empty when there are none.
func (s *Server) Duplicates() []Duplicate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []Duplicate{}
	for _, t := range s.tenantOrder {
		byPair := map[string][]string{}
		byFile := map[string][]string{}
		var pairs, files []string
		t.certificates.live(func(en entity) {
			e := en.(*certificate)
			if e.j.Status != "revoked" {
				k := e.student.uuid + "/" + e.course.uuid
				if byPair[k] == nil {
					pairs = append(pairs, k)
				}
				byPair[k] = append(byPair[k], e.uuid)
			}
			if byFile[e.file.uuid] == nil {
				files = append(files, e.file.uuid)
			}
			byFile[e.file.uuid] = append(byFile[e.file.uuid], e.uuid)
		})
		for _, k := range pairs {
			if len(byPair[k]) > 1 {
				out = append(out, Duplicate{Tenant: t.name, Reason: "student_course", Key: k, CertificateUUIDs: byPair[k]})
			}
		}
		for _, k := range files {
			if len(byFile[k]) > 1 {
				out = append(out, Duplicate{Tenant: t.name, Reason: "file", Key: k, CertificateUUIDs: byFile[k]})
			}
		}
	}
	return out
}
