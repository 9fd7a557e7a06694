package dokstamptest

import (
	"net/http"
)

type pageJSON struct {
	UUID     string     `json:"uuid"`
	Slug     string     `json:"slug"`
	IsPublic bool       `json:"is_public"`
	Bio      *string    `json:"bio"`
	Student  *refJSON   `json:"student"`
	Items    []itemJSON `json:"items"`
}

type page struct {
	rec
	student *student
	items   []*item
	j       pageJSON
}

func (e *page) view(s *Server) any {
	j := e.j
	j.UUID = e.uuid
	j.Student = refOf(e.student.uuid, e.student.j.Name)
	j.Items = []itemJSON{}
	for _, it := range e.items {
		if it.deleted.IsZero() {
			j.Items = append(j.Items, it.view(s).(itemJSON))
		}
	}
	return j
}

type itemCertJSON struct {
	UUID                  string  `json:"uuid"`
	PublicVerificationURL *string `json:"public_verification_url"`
}

type itemJSON struct {
	UUID        string        `json:"uuid"`
	SortOrder   *int          `json:"sort_order"`
	IsVisible   bool          `json:"is_visible"`
	Certificate *itemCertJSON `json:"certificate"`
}

type item struct {
	rec
	page        *page
	certificate *certificate
	j           itemJSON
}

func (e *item) view(*Server) any {
	j := e.j
	j.UUID = e.uuid
	j.Certificate = &itemCertJSON{UUID: e.certificate.uuid, PublicVerificationURL: e.certificate.j.PublicVerificationURL}
	return j
}

func isSlug(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

// pageParams is the body of a page's create or update.
type pageParams struct {
	Slug     *string `json:"slug"`
	IsPublic *bool   `json:"is_public"`
	Bio      *string `json:"bio"`
}

// checkSlug validates a new slug: required, lowercase letters, digits and
// hyphens, unique across the platform. A deleted page keeps its slug taken,
// as a unique index over soft-deleted rows does (a choice of the fake).
func (s *Server) checkSlug(v *validator, slug *string) {
	switch {
	case slug == nil || *slug == "":
		v.requiredMsg("slug")
	case !isSlug(*slug):
		v.add("slug", "The slug may only contain lowercase letters, numbers and hyphens.")
	case s.slugs[*slug]:
		v.add("slug", "The slug has already been taken.")
	}
}

// savePage creates a page for st from p (pg nil) or updates pg; s.mu is held.
func (s *Server) savePage(c *call, st *student, pg *page, p *pageParams) {
	var v validator
	if pg == nil || p.Slug != nil && *p.Slug != pg.j.Slug {
		s.checkSlug(&v, p.Slug)
	}
	if !v.ok() {
		c.invalid(v.errs)
		return
	}
	status := http.StatusOK
	if pg == nil {
		pg = &page{rec: s.newRec(c.t), student: st}
		c.t.pages.add(pg)
		status = http.StatusCreated
	}
	if p.Slug != nil && *p.Slug != pg.j.Slug {
		delete(s.slugs, pg.j.Slug)
		pg.j.Slug = *p.Slug
		s.slugs[pg.j.Slug] = true
	}
	setBool(&pg.j.IsPublic, p.IsPublic)
	setOpt(&pg.j.Bio, p.Bio)
	pg.updated = s.now()
	c.data(status, pg.view(s))
}

func (s *Server) registerPortfolio() {
	studentOf := func(c *call) *student {
		e := c.t.students.get(c.r.PathValue("student_uuid"))
		if e == nil {
			c.notFound()
			return nil
		}
		return e.(*student)
	}
	pageOf := func(c *call) *page {
		st := studentOf(c)
		if st == nil {
			return nil
		}
		e := c.t.pages.get(c.r.PathValue("page_uuid"))
		if e == nil || e.(*page).student != st {
			c.missing("pages", c.r.PathValue("page_uuid"))
			return nil
		}
		return e.(*page)
	}
	const pages = "/students/{student_uuid}/pages"
	s.handle("GET "+pages, scopeTenant, func(c *call) {
		s.mu.RLock()
		st := studentOf(c)
		s.mu.RUnlock()
		if st != nil {
			s.list(c, c.t.pages, func(e entity) bool { return e.(*page).student == st })
		}
	})
	s.handle("POST "+pages, scopeTenant, func(c *call) {
		writeWith(s, c, func(p *pageParams) {
			if st := studentOf(c); st != nil {
				s.savePage(c, st, nil, p)
			}
		})
	})
	s.handle("GET "+pages+"/{page_uuid}", scopeTenant, func(c *call) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if pg := pageOf(c); pg != nil {
			c.data(http.StatusOK, pg.view(s))
		}
	})
	updPage := func(c *call) {
		writeWith(s, c, func(p *pageParams) {
			if pg := pageOf(c); pg != nil {
				s.savePage(c, pg.student, pg, p)
			}
		})
	}
	s.handle("PATCH "+pages+"/{page_uuid}", scopeTenant, updPage)
	s.handle("PUT "+pages+"/{page_uuid}", scopeTenant, updPage)
	s.handle("DELETE "+pages+"/{page_uuid}", scopeTenant, func(c *call) {
		s.mu.Lock()
		defer s.mu.Unlock()
		pg := pageOf(c)
		if pg == nil {
			return
		}
		for _, it := range pg.items {
			if it.deleted.IsZero() {
				s.softDelete(c.t, it, nil)
			}
		}
		s.softDelete(c.t, pg, nil)
		c.noContent()
	})

	const items = pages + "/{page_uuid}/items"
	s.handle("GET "+items, scopeTenant, func(c *call) {
		s.mu.RLock()
		pg := pageOf(c)
		s.mu.RUnlock()
		if pg != nil {
			s.list(c, c.t.items, func(e entity) bool { return e.(*item).page == pg })
		}
	})
	s.handle("POST "+items, scopeTenant, func(c *call) {
		var p struct {
			CertificateUUID *string `json:"certificate_uuid"`
			SortOrder       *int    `json:"sort_order"`
			IsVisible       *bool   `json:"is_visible"`
		}
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		pg := pageOf(c)
		if pg == nil {
			return
		}
		var v validator
		cert, _ := v.ref("certificate_uuid", p.CertificateUUID, c.t.certificates, true).(*certificate)
		if cert != nil && cert.student != pg.student {
			v.add("certificate_uuid", "The selected certificate uuid is invalid.")
		}
		if !v.ok() {
			c.invalid(v.errs)
			return
		}
		it := &item{rec: s.newRec(c.t), page: pg, certificate: cert, j: itemJSON{SortOrder: p.SortOrder, IsVisible: true}}
		setBool(&it.j.IsVisible, p.IsVisible)
		c.t.items.add(it)
		pg.items = append(pg.items, it)
		c.data(http.StatusCreated, it.view(s))
	})
	upd := func(c *call) {
		var p struct {
			SortOrder *int  `json:"sort_order"`
			IsVisible *bool `json:"is_visible"`
		}
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		pg := pageOf(c)
		if pg == nil {
			return
		}
		e := c.t.items.get(c.r.PathValue("item_uuid"))
		if e == nil || e.(*item).page != pg {
			c.missing("items", c.r.PathValue("item_uuid"))
			return
		}
		it := e.(*item)
		setOptInt(&it.j.SortOrder, p.SortOrder)
		setBool(&it.j.IsVisible, p.IsVisible)
		it.updated = s.now()
		c.data(http.StatusOK, it.view(s))
	}
	s.handle("PATCH "+items+"/{item_uuid}", scopeTenant, upd)
	s.handle("PUT "+items+"/{item_uuid}", scopeTenant, upd)
}
