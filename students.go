package dokstamp

import (
	"context"
	"errors"
	"iter"
	"strings"
	"time"
)

// StudentsService manages students (tenant-level, not tied to an institution) and their public
// portfolio pages.
type StudentsService service

// Student is a person who receives certificates. Email is unique within the tenant.
type Student struct {
	UUID  string `json:"uuid"`
	Name  string `json:"name"` // full legal name
	Email string `json:"email"`
	// DateOfBirth is "YYYY-MM-DD".
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Gender      string `json:"gender,omitempty"`
	// SocialName is the preferred name, printed on certificates when set.
	SocialName string    `json:"social_name,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// StudentCreateParams is the body of POST /students. Name, Email and DateOfBirth ("YYYY-MM-DD")
// are required.
type StudentCreateParams struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	DateOfBirth string `json:"date_of_birth"`
	Gender      string `json:"gender,omitempty"`
	SocialName  string `json:"social_name,omitempty"`
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *StudentCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create student: nil params")
	}
	v := check{op: "create student"}
	v.text("name", p.Name)
	v.email("email", p.Email, true)
	v.date("date_of_birth", p.DateOfBirth, true)
	return v.err()
}

// StudentUpdateParams is a partial update: only the fields set are sent.
type StudentUpdateParams struct {
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Gender      string `json:"gender,omitempty"`
	SocialName  string `json:"social_name,omitempty"`
}

// Validate checks the fields that are set, without sending anything.
func (p *StudentUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update student: nil params")
	}
	v := check{op: "update student"}
	v.email("email", p.Email, false)
	v.date("date_of_birth", p.DateOfBirth, false)
	return v.err()
}

// Get returns one student. The route is inferred from the API's conventions.
//
// API: GET /students/{uuid}
func (s *StudentsService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Student, error) {
	return getByUUID[Student](ctx, s.c, "student", "students", uuid, opts...)
}

// Create registers a student. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown look it up with
// FindByEmail.
//
// API: POST /students
func (s *StudentsService) Create(ctx context.Context, p *StudentCreateParams, opts ...RequestOption) (*Student, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	st, err := createIn[Student](ctx, s.c, "student", "/students", p, opts...)
	if err != nil {
		return nil, errorf("create student %s: %w", p.Email, err)
	}
	return st, nil
}

// Update changes the fields set in p. The route is inferred from the API's conventions.
//
// API: PATCH /students/{uuid}
func (s *StudentsService) Update(ctx context.Context, uuid string, p *StudentUpdateParams, opts ...RequestOption) (*Student, error) {
	if err := checkUUID("student uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Student](ctx, s.c, "student", "students", uuid, p, opts...)
}

// Delete soft-deletes a student. The server refuses while the student has certificates,
// enrollments or a credential snapshot. The route is inferred.
//
// API: DELETE /students/{uuid}
func (s *StudentsService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "student", "students", uuid, opts...)
}

// DestroyBatch soft-deletes any number of students, in chunks of MaxBatchIDs. A failed chunk is
// reported in a *ChunkError; the others still ran. The route is inferred.
//
// API: DELETE /students/batch/destroy
func (s *StudentsService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "students", uuids, opts...)
}

// List returns one page of students.
//
// API: GET /students
func (s *StudentsService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Student], error) {
	return listPage[Student](ctx, s.c, "/students", list, opts...)
}

// All iterates over every student matching list, fetching pages as needed.
//
// API: GET /students
func (s *StudentsService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Student, error] {
	return listAll[Student](ctx, s.c, "/students", list, opts...)
}

// FindByEmail returns the tenant's student with this e-mail address (compared without regard
// to case), the documented search-before-create lookup. When there is none the error matches
// ErrNotFound.
//
// API: GET /students
func (s *StudentsService) FindByEmail(ctx context.Context, email string, opts ...RequestOption) (*Student, error) {
	if strings.TrimSpace(email) == "" {
		return nil, errors.New("dokstamp: find student: empty e-mail")
	}
	return findOne(ctx, s.c, "/students", "student", map[string]string{"email": email},
		func(st *Student) bool { return strings.EqualFold(st.Email, email) }, opts...)
}

// PortfolioPage is a student's public portfolio page, served at portfolio.dokstamp.eu/{slug}.
type PortfolioPage struct {
	UUID     string          `json:"uuid"`
	Slug     string          `json:"slug"`
	IsPublic bool            `json:"is_public"`
	Bio      string          `json:"bio,omitempty"`
	Student  Ref             `json:"student"`
	Items    []PortfolioItem `json:"items,omitempty"`
}

// PortfolioItem is a certificate shown on a portfolio page.
type PortfolioItem struct {
	UUID        string               `json:"uuid"`
	SortOrder   int                  `json:"sort_order"`
	IsVisible   bool                 `json:"is_visible"`
	Certificate PortfolioCertificate `json:"certificate"`
}

// PortfolioCertificate is the certificate an item shows.
type PortfolioCertificate struct {
	UUID                  string `json:"uuid"`
	PublicVerificationURL string `json:"public_verification_url,omitempty"`
}

// PortfolioPageCreateParams is the body of a new portfolio page. Slug is required: lowercase
// letters, digits and hyphens, unique across the whole platform.
type PortfolioPageCreateParams struct {
	Slug     string `json:"slug"`
	IsPublic *bool  `json:"is_public,omitempty"` // default false
	Bio      string `json:"bio,omitempty"`
}

// Validate checks the params without sending anything.
func (p *PortfolioPageCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create portfolio page: nil params")
	}
	return p.validate("create portfolio page")
}

func (p *PortfolioPageCreateParams) validate(op string) error {
	v := check{op: op}
	switch {
	case p.Slug == "":
		v.add("slug is required")
	case strings.Trim(p.Slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != "":
		v.add("slug %q may hold only lowercase letters, digits and hyphens", p.Slug)
	}
	return v.err()
}

// PortfolioItemCreateParams adds a certificate to a portfolio page. CertificateUUID is required.
type PortfolioItemCreateParams struct {
	CertificateUUID string `json:"certificate_uuid"`
	SortOrder       *int   `json:"sort_order,omitempty"`
	IsVisible       *bool  `json:"is_visible,omitempty"` // default true
}

// Validate checks the params without sending anything.
func (p *PortfolioItemCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: add portfolio item: nil params")
	}
	v := check{op: "add portfolio item"}
	v.uuids("certificate_uuid", p.CertificateUUID)
	return v.err()
}

// PortfolioItemUpdateParams changes an item's place or visibility; only the fields set are sent.
type PortfolioItemUpdateParams struct {
	SortOrder *int  `json:"sort_order,omitempty"`
	IsVisible *bool `json:"is_visible,omitempty"`
}

// ListPages returns one page of the student's portfolio pages.
//
// API: GET /students/{student_uuid}/pages
func (s *StudentsService) ListPages(ctx context.Context, studentUUID string, list *ListOptions, opts ...RequestOption) (*Page[PortfolioPage], error) {
	if err := checkUUID("student uuid", studentUUID); err != nil {
		return nil, err
	}
	return listPage[PortfolioPage](ctx, s.c, pathOf("students", studentUUID, "pages"), list, opts...)
}

// CreatePage creates a portfolio page for the student. The POST rule (package doc, "Retries and duplicates") applies: after
// ErrOutcomeUnknown, ListPages tells whether the slug was taken by it.
//
// API: POST /students/{student_uuid}/pages
func (s *StudentsService) CreatePage(ctx context.Context, studentUUID string, p *PortfolioPageCreateParams, opts ...RequestOption) (*PortfolioPage, error) {
	if err := checkUUID("student uuid", studentUUID); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return createIn[PortfolioPage](ctx, s.c, "portfolio page", pathOf("students", studentUUID, "pages"), p, opts...)
}

// PortfolioPageUpdateParams changes a portfolio page; only the fields set are sent. IsPublic false
// sets the page private (the student-portfolio guide's step before adding certificates), true
// publishes it.
type PortfolioPageUpdateParams struct {
	Slug     *string `json:"slug,omitempty"`
	IsPublic *bool   `json:"is_public,omitempty"`
	Bio      *string `json:"bio,omitempty"`
}

// Validate checks the params without sending anything.
func (p *PortfolioPageUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update portfolio page: nil params")
	}
	if p.Slug != nil {
		return (&PortfolioPageCreateParams{Slug: *p.Slug}).validate("update portfolio page")
	}
	return nil
}

// GetPage returns one portfolio page of the student, with its items. The route is inferred: the
// docs list the pages but show no route for one page.
//
// API: GET /students/{student_uuid}/pages/{page_uuid}
func (s *StudentsService) GetPage(ctx context.Context, studentUUID, pageUUID string, opts ...RequestOption) (*PortfolioPage, error) {
	if err := requireUUIDs("get portfolio page", "student uuid", studentUUID, "page uuid", pageUUID); err != nil {
		return nil, err
	}
	return doData[PortfolioPage](ctx, s.c, &request{method: "GET", path: pathOf("students", studentUUID, "pages", pageUUID), opts: opts})
}

// UpdatePage changes a portfolio page, e.g. sets it private or public. The route is inferred from
// the student-portfolio guide's "set the page private" step; no page of the docs shows it.
//
// API: PATCH /students/{student_uuid}/pages/{page_uuid}
func (s *StudentsService) UpdatePage(ctx context.Context, studentUUID, pageUUID string, p *PortfolioPageUpdateParams, opts ...RequestOption) (*PortfolioPage, error) {
	if err := requireUUIDs("update portfolio page", "student uuid", studentUUID, "page uuid", pageUUID); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateAt[PortfolioPage](ctx, s.c, "portfolio page", pathOf("students", studentUUID, "pages", pageUUID), p, opts...)
}

// DeletePage deletes a portfolio page and its items; the student and the certificates stay. The
// route is inferred from the generic soft-delete rule; no page of the docs shows it.
//
// API: DELETE /students/{student_uuid}/pages/{page_uuid}
func (s *StudentsService) DeletePage(ctx context.Context, studentUUID, pageUUID string, opts ...RequestOption) error {
	if err := requireUUIDs("delete portfolio page", "student uuid", studentUUID, "page uuid", pageUUID); err != nil {
		return err
	}
	return s.c.call(ctx, &request{method: "DELETE", path: pathOf("students", studentUUID, "pages", pageUUID), opts: opts}, nil)
}

// ListPageItems returns one page of the items of a portfolio page.
//
// API: GET /students/{student_uuid}/pages/{page_uuid}/items
func (s *StudentsService) ListPageItems(ctx context.Context, studentUUID, pageUUID string, list *ListOptions, opts ...RequestOption) (*Page[PortfolioItem], error) {
	if err := requireUUIDs("list portfolio items", "student uuid", studentUUID, "page uuid", pageUUID); err != nil {
		return nil, err
	}
	return listPage[PortfolioItem](ctx, s.c, pathOf("students", studentUUID, "pages", pageUUID, "items"), list, opts...)
}

// AddPageItem shows one of the student's certificates on a portfolio page. The POST rule (package doc, "Retries and duplicates") applies:
// after ErrOutcomeUnknown, ListPageItems tells whether it took.
//
// API: POST /students/{student_uuid}/pages/{page_uuid}/items
func (s *StudentsService) AddPageItem(ctx context.Context, studentUUID, pageUUID string, p *PortfolioItemCreateParams, opts ...RequestOption) (*PortfolioItem, error) {
	if err := requireUUIDs("add portfolio item", "student uuid", studentUUID, "page uuid", pageUUID); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return createIn[PortfolioItem](ctx, s.c, "portfolio item", pathOf("students", studentUUID, "pages", pageUUID, "items"), p, opts...)
}

// UpdatePageItem reorders, hides or shows an item of a portfolio page.
//
// API: PATCH /students/{student_uuid}/pages/{page_uuid}/items/{item_uuid}
func (s *StudentsService) UpdatePageItem(ctx context.Context, studentUUID, pageUUID, itemUUID string, p *PortfolioItemUpdateParams, opts ...RequestOption) (*PortfolioItem, error) {
	if err := requireUUIDs("update portfolio item", "student uuid", studentUUID, "page uuid", pageUUID, "item uuid", itemUUID); err != nil {
		return nil, err
	}
	return updateAt[PortfolioItem](ctx, s.c, "portfolio item", pathOf("students", studentUUID, "pages", pageUUID, "items", itemUUID), p, opts...)
}
