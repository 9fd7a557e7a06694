package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
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

// StudentUpdateParams is a partial update: only the fields set are sent. Gender and SocialName
// can be cleared with Null.
type StudentUpdateParams struct {
	Name        string           `json:"name,omitempty"`
	Email       string           `json:"email,omitempty"`
	DateOfBirth string           `json:"date_of_birth,omitempty"`
	Gender      Nullable[string] `json:"gender,omitzero"`
	SocialName  Nullable[string] `json:"social_name,omitzero"`
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

// FindOrCreate returns the tenant's student with p.Email (the natural key, unique per tenant,
// compared without regard to case), creating it from p when there is none. The bool is true when
// this call created it (after a lost answer: when the record was missing before the create and is
// there after it, the best the API can tell). A lost answer to the create is settled by looking up
// again, and so is a 422 on email (another writer created the student meanwhile), so the call can
// be repeated safely and never makes a second student: the server refuses a second e-mail. A
// student found is returned as the server holds it; p's other fields are not compared nor applied.
//
// API: GET /students
// API: POST /students
func (s *StudentsService) FindOrCreate(ctx context.Context, p *StudentCreateParams, opts ...RequestOption) (*Student, bool, error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	return findOrCreate(ctx, "find or create student "+p.Email, []string{"email"},
		func(ctx context.Context) (*Student, error) { return s.FindByEmail(ctx, p.Email, opts...) },
		func(ctx context.Context) (*Student, error) { return s.Create(ctx, p, opts...) })
}

// FindOrCreatePage returns the student's portfolio page with p.Slug (slugs are unique across the
// whole platform, the natural key), creating it from p when the student has none. The bool is true
// when this call created it (after a lost answer: when the record was missing before the create and
// is there after it, the best the API can tell). A lost answer to the create, or a 422 on slug, is
// settled by listing the student's pages again; a slug refused while the student has no page with
// it is held by someone else (possibly in another tenant), and that 422 is returned. A page found
// is returned as the server holds it; p's other fields are not compared nor applied.
//
// API: GET /students/{student_uuid}/pages
// API: POST /students/{student_uuid}/pages
func (s *StudentsService) FindOrCreatePage(ctx context.Context, studentUUID string, p *PortfolioPageCreateParams, opts ...RequestOption) (*PortfolioPage, bool, error) {
	if err := checkUUID("student uuid", studentUUID); err != nil {
		return nil, false, err
	}
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	find := func(ctx context.Context) (*PortfolioPage, error) {
		for pg, err := range listAll[PortfolioPage](ctx, s.c, pathOf("students", studentUUID, "pages"), &ListOptions{PerPage: 100}, opts...) {
			if err != nil {
				return nil, err
			}
			if pg.Slug == p.Slug {
				return &pg, nil
			}
		}
		return nil, errorf("find portfolio page %q of student %s: %w", p.Slug, studentUUID, ErrNotFound)
	}
	return findOrCreate(ctx, fmt.Sprintf("find or create portfolio page %q", p.Slug), []string{"slug"}, find,
		func(ctx context.Context) (*PortfolioPage, error) { return s.CreatePage(ctx, studentUUID, p, opts...) })
}

// How FindByEmails reads the tenant: the per_page it asks for when listing (the server may
// clamp it, and meta.per_page then says by how much), and the requests it keeps in flight:
// fewer for pages, which are heavy for the server, than for single look-ups.
const (
	emailListPerPage     = 500
	emailPagesInFlight   = 8
	emailLookupsInFlight = 32
)

// FindByEmails resolves many e-mail addresses to the tenant's students at once, for example a
// graduation manifest before issuing. The map is keyed by each e-mail as given; an e-mail with
// no student is absent from it. E-mails are compared without regard to case, as the server's
// where[email] does, and repeated ones are looked up once.
//
// It reads the first page of the tenant's students (per_page 500) to learn their number, then
// takes the cheaper way in requests: listing the remaining pages (8 in flight) and joining them
// in memory, or one where[email] look-up per e-mail still missing (32 in flight). When the
// list changes while it is read (meta.total moves), the e-mails still missing are looked up one
// by one, so a student is not missed because the pages shifted. An empty list, an empty or
// malformed e-mail is refused before anything is sent; any failed request ends the call with
// its error, and so does ctx.
//
// API: GET /students
func (s *StudentsService) FindByEmails(ctx context.Context, emails []string, opts ...RequestOption) (map[string]Student, error) {
	if ctx == nil {
		return nil, errors.New("dokstamp: find students by e-mail: nil context")
	}
	given, err := emailKeys(emails)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	found := make(map[string]Student, len(given))
	take := func(p *Page[Student]) error {
		mu.Lock()
		defer mu.Unlock()
		for _, st := range p.Data {
			k := strings.ToLower(st.Email)
			if _, want := given[k]; !want {
				continue
			}
			if prev, dup := found[k]; dup && prev.UUID != st.UUID {
				return errorf("find students by e-mail: students %s and %s both have e-mail %s", prev.UUID, st.UUID, st.Email)
			}
			found[k] = st
		}
		return nil
	}

	first, err := s.List(ctx, &ListOptions{PerPage: emailListPerPage}, opts...)
	switch {
	case errors.Is(err, ErrValidation):
		// a server that refuses the page size: look every e-mail up
		first = &Page[Student]{}
	case err != nil:
		return nil, errorf("find students by e-mail: %w", err)
	default:
		if err := take(first); err != nil {
			return nil, err
		}
	}

	last := lastPageOf(first.Meta)
	perPage := first.Meta.PerPage
	if perPage <= 0 {
		perPage = emailListPerPage
	}
	missing := len(given) - len(found)
	lookUp := missing > 0
	switch {
	case missing == 0, err == nil && last == 0 && len(first.Data) == 0:
		// everything matched, or the tenant has no students; without meta a short page
		// proves nothing (the server may have clamped per_page), so the rest is looked up
		lookUp = false
	case last > 1 && last-1 <= missing:
		shifted := false
		err := eachPage(ctx, s.c, "/students", ListOptions{PerPage: perPage}, 2, last, emailPagesInFlight, opts,
			func(n int, p *Page[Student]) error {
				if p.Meta.Total != first.Meta.Total || p.Meta.CurrentPage != 0 && p.Meta.CurrentPage != n {
					mu.Lock()
					shifted = true
					mu.Unlock()
				}
				return take(p)
			})
		if err != nil {
			return nil, errorf("find students by e-mail: %w", err)
		}
		lookUp = shifted && len(found) < len(given)
	case last == 1:
		lookUp = false
	}
	if lookUp {
		if err := s.lookUpEmails(ctx, given, found, &mu, opts); err != nil {
			return nil, err
		}
	}

	out := make(map[string]Student, len(emails))
	for k, spellings := range given {
		if st, ok := found[k]; ok {
			for _, e := range spellings {
				out[e] = st
			}
		}
	}
	return out, nil
}

// lookUpEmails looks up, one where[email] request each, the e-mails of given not in found yet.
func (s *StudentsService) lookUpEmails(ctx context.Context, given map[string][]string, found map[string]Student, mu *sync.Mutex, opts []RequestOption) error {
	var todo []string
	for k, spellings := range given {
		if _, ok := found[k]; !ok {
			todo = append(todo, spellings[0])
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(emailLookupsInFlight)
	for _, email := range todo {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			st, err := s.FindByEmail(gctx, email, opts...)
			switch {
			case errors.Is(err, ErrNotFound):
				return nil
			case err != nil:
				return errorf("find students by e-mail: %w", err)
			}
			mu.Lock()
			found[strings.ToLower(email)] = *st
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// emailKeys checks a list of e-mails and groups its spellings by lower-cased address. Every
// problem is reported at once (the first ten, and how many more).
func emailKeys(emails []string) (map[string][]string, error) {
	if len(emails) == 0 {
		return nil, errors.New("dokstamp: find students by e-mail: no e-mails given")
	}
	v := check{op: "find students by e-mail"}
	bad := 0
	given := make(map[string][]string, len(emails))
	for i, e := range emails {
		n := len(v.errs)
		v.email(fmt.Sprintf("emails[%d]", i), e, true)
		if len(v.errs) > n {
			if bad++; bad > 10 {
				v.errs = v.errs[:n]
			}
			continue
		}
		k := strings.ToLower(e)
		if !slices.Contains(given[k], e) {
			given[k] = append(given[k], e)
		}
	}
	if bad > 10 {
		v.add("and %d more e-mails that are not addresses", bad-10)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return given, nil
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
// publishes it. Bio can be cleared with Null.
type PortfolioPageUpdateParams struct {
	Slug     *string          `json:"slug,omitempty"`
	IsPublic *bool            `json:"is_public,omitempty"`
	Bio      Nullable[string] `json:"bio,omitzero"`
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
