package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"
)

// CertificatesService issues, reads and revokes certificates.
type CertificatesService service

// CertificateStatus is a certificate's lifecycle state.
type CertificateStatus string

// The certificate states. A draft is not publicly verifiable; revocation is final.
const (
	StatusDraft   CertificateStatus = "draft"
	StatusIssued  CertificateStatus = "issued"
	StatusRevoked CertificateStatus = "revoked"
	StatusExpired CertificateStatus = "expired"
)

// CertificateFile names a file attached to a certificate.
type CertificateFile struct {
	Type string `json:"type"`
	UUID string `json:"uuid"`
}

// Certificate is an issued (or draft) credential.
type Certificate struct {
	UUID                  string            `json:"uuid"`
	Status                CertificateStatus `json:"status"`
	IssuedAt              time.Time         `json:"issued_at,omitzero"`
	RevokedAt             *time.Time        `json:"revoked_at,omitempty"`
	RevocationReason      string            `json:"revocation_reason,omitempty"`
	PublicVerificationURL string            `json:"public_verification_url,omitempty"`
	BlockchainTxHash      string            `json:"blockchain_tx_hash,omitempty"`
	BlockchainTxURL       string            `json:"blockchain_tx_url,omitempty"`
	Institution           Ref               `json:"institution"`
	Course                Ref               `json:"course"`
	Student               Ref               `json:"student"`
	Cohort                *Ref              `json:"cohort,omitempty"`
	Enrollment            *Ref              `json:"enrollment,omitempty"`
	Template              *Ref              `json:"template,omitempty"`
	Files                 []CertificateFile `json:"files,omitempty"`
	CreatedAt             time.Time         `json:"created_at,omitzero"`
	UpdatedAt             time.Time         `json:"updated_at,omitzero"`
}

// FileUUID is the UUID of the certificate's own file (type "certificate"), or of its first file
// when none is typed so; "" when it has none.
func (c *Certificate) FileUUID() string {
	for _, f := range c.Files {
		if f.Type == "certificate" {
			return f.UUID
		}
	}
	if len(c.Files) > 0 {
		return c.Files[0].UUID
	}
	return ""
}

// HasFile reports whether fileUUID is one of the certificate's files.
func (c *Certificate) HasFile(fileUUID string) bool {
	for _, f := range c.Files {
		if f.UUID == fileUUID {
			return true
		}
	}
	return false
}

// CertificateCreateParams is the body of POST /certificates. InstitutionUUID, CourseUUID,
// StudentUUID and FileUUID are required; the file must be unused. Set Status to StatusIssued
// (with IssuedAt) or Finish to true to issue at once; otherwise a draft is created.
type CertificateCreateParams struct {
	InstitutionUUID string            `json:"institution_uuid"`
	CourseUUID      string            `json:"course_uuid"`
	StudentUUID     string            `json:"student_uuid"`
	FileUUID        string            `json:"file_uuid"`
	CohortUUID      string            `json:"cohort_uuid,omitempty"`
	EnrollmentUUID  string            `json:"enrollment_uuid,omitempty"`
	TemplateUUID    string            `json:"template_uuid,omitempty"`
	Status          CertificateStatus `json:"status,omitempty"`
	IssuedAt        *time.Time        `json:"issued_at,omitempty"`
	Finish          *bool             `json:"finish,omitempty"`
}

// Validate checks the params without sending anything: the required UUIDs, the optional ones'
// form, and the status.
func (p *CertificateCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create certificate: nil params")
	}
	if err := requireUUIDs("create certificate",
		"institution_uuid", p.InstitutionUUID, "course_uuid", p.CourseUUID,
		"student_uuid", p.StudentUUID, "file_uuid", p.FileUUID); err != nil {
		return err
	}
	if err := optionalUUIDs("create certificate", "cohort_uuid", p.CohortUUID,
		"enrollment_uuid", p.EnrollmentUUID, "template_uuid", p.TemplateUUID); err != nil {
		return err
	}
	switch p.Status {
	case "", StatusDraft, StatusIssued:
	default:
		return fmt.Errorf("dokstamp: create certificate: status %q: only %q or %q can be created", p.Status, StatusDraft, StatusIssued)
	}
	return nil
}

// CertificateUpdateParams is the body of a certificate update (the route is inferred, not
// documented): only the fields set are sent. The links to a cohort, an enrollment or a template
// can be cleared with Null. Status StatusIssued (with IssuedAt, or Finish true, as on create)
// issues a draft; Publish does just that. An issued certificate cannot return to draft, and a
// revoked one cannot change.
type CertificateUpdateParams struct {
	CohortUUID     Nullable[string]  `json:"cohort_uuid,omitzero"`
	EnrollmentUUID Nullable[string]  `json:"enrollment_uuid,omitzero"`
	TemplateUUID   Nullable[string]  `json:"template_uuid,omitzero"`
	Status         CertificateStatus `json:"status,omitempty"`
	IssuedAt       *time.Time        `json:"issued_at,omitempty"`
	Finish         *bool             `json:"finish,omitempty"`
}

// Validate checks the fields that are set, without sending anything.
func (p *CertificateUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update certificate: nil params")
	}
	v := check{op: "update certificate"}
	v.optionalUUID("cohort_uuid", p.CohortUUID.value)
	v.optionalUUID("enrollment_uuid", p.EnrollmentUUID.value)
	v.optionalUUID("template_uuid", p.TemplateUUID.value)
	enum(&v, "status", p.Status, StatusDraft, StatusIssued) // revoking is Revoke's
	return v.err()
}

// Create issues (or drafts) one certificate. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown look
// it up with FindForStudent before sending again, or use c.Batch.IssueCertificates, which does.
//
// API: POST /certificates
func (s *CertificatesService) Create(ctx context.Context, p *CertificateCreateParams, opts ...RequestOption) (*Certificate, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cert, err := doData[Certificate](ctx, s.c, &request{method: "POST", path: "/certificates", body: p, class: retryUnsafe, opts: opts})
	if err != nil {
		return nil, errorf("create certificate for student %s: %w", p.StudentUUID, err)
	}
	return cert, nil
}

// Get returns one certificate.
//
// API: GET /certificates/{uuid}
func (s *CertificatesService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Certificate, error) {
	return getByUUID[Certificate](ctx, s.c, "certificate", "certificates", uuid, opts...)
}

// Update changes a certificate's links or issues a draft (see CertificateUpdateParams). The
// route is inferred from the API's conventions: the docs show none. It is retried like every
// PATCH: sending the same change twice has the same effect as once.
//
// API: PATCH /certificates/{uuid}
func (s *CertificatesService) Update(ctx context.Context, uuid string, p *CertificateUpdateParams, opts ...RequestOption) (*Certificate, error) {
	if err := checkUUID("certificate uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Certificate](ctx, s.c, "certificate", "certificates", uuid, p, opts...)
}

// Publish issues a draft certificate: it sends status "issued" and finish true (the two
// spellings the docs use) and lets the server stamp issued_at; use Update with IssuedAt to
// choose the date. Publishing a certificate that is already issued changes nothing. The answer
// must show the certificate issued: any other status is an error, so a nil error means it is
// publicly verifiable. The route is inferred (PATCH /certificates/{uuid}).
//
// API: PATCH /certificates/{uuid}
func (s *CertificatesService) Publish(ctx context.Context, uuid string, opts ...RequestOption) (*Certificate, error) {
	cert, err := s.Update(ctx, uuid, &CertificateUpdateParams{Status: StatusIssued, Finish: Ptr(true)}, opts...)
	if err != nil {
		return nil, errorf("publish certificate %s: %w", uuid, err)
	}
	if cert.Status != StatusIssued {
		return cert, errorf("publish certificate %s: the server answered status %q, not %q", uuid, cert.Status, StatusIssued)
	}
	return cert, nil
}

// Delete soft-deletes a certificate. The route is inferred from the soft-delete rule.
//
// API: DELETE /certificates/{uuid}
func (s *CertificatesService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "certificate", "certificates", uuid, opts...)
}

// DestroyBatch soft-deletes any number of certificates, in chunks the server accepts.
//
// API: DELETE /certificates/batch/destroy
func (s *CertificatesService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "certificates", uuids, opts...)
}

// Revoke revokes an issued certificate with an optional reason. Its verification URL keeps
// answering, showing the revocation. Revocation cannot be undone.
//
// API: PUT /certificates/{uuid}/revoke
func (s *CertificatesService) Revoke(ctx context.Context, uuid, reason string, opts ...RequestOption) (*Certificate, error) {
	if err := checkUUID("certificate uuid", uuid); err != nil {
		return nil, err
	}
	body := struct {
		Reason string `json:"revocation_reason,omitempty"`
	}{reason}
	return doData[Certificate](ctx, s.c, &request{method: "PUT", path: pathOf("certificates", uuid, "revoke"), body: body, opts: opts})
}

// List returns one page of certificates, e.g. Where: {"status": "issued", "course_uuid": ...}.
//
// API: GET /certificates
func (s *CertificatesService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Certificate], error) {
	return listPage[Certificate](ctx, s.c, "/certificates", list, opts...)
}

// All iterates over every certificate matching list, fetching pages as needed.
//
// API: GET /certificates
func (s *CertificatesService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Certificate, error] {
	return listAll[Certificate](ctx, s.c, "/certificates", list, opts...)
}

// FindForStudent returns the certificates of a student on a course (any status), the lookup that
// settles an unknown outcome before a certificate is sent again.
//
// API: GET /certificates
func (s *CertificatesService) FindForStudent(ctx context.Context, studentUUID, courseUUID string, opts ...RequestOption) ([]Certificate, error) {
	if err := requireUUIDs("find certificates", "student_uuid", studentUUID, "course_uuid", courseUUID); err != nil {
		return nil, err
	}
	var out []Certificate
	list := &ListOptions{PerPage: 100, Where: map[string]string{"student_uuid": studentUUID, "course_uuid": courseUUID}}
	for cert, err := range s.All(ctx, list, opts...) {
		if err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	return out, nil
}
