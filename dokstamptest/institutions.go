package dokstamptest

import (
	"net/http"
	"strings"
)

// This file holds institutions and their organizations (faculties, departments, campuses).

func (s *Server) registerInstitutions() {
	register(s, resource[institutionParams]{
		path: "/institutions", batch: true,
		tbl: func(t *tenant) *table { return t.institutions },
		create: func(c *call, p *institutionParams, v *validator, r rec) entity {
			p.check(c.t, v, true, nil)
			if !v.ok() {
				return nil
			}
			e := &institution{rec: r, j: institutionJSON{Status: "active"}}
			p.apply(&e.j)
			return e
		},
		update: func(c *call, e entity, p *institutionParams, v *validator) {
			in := e.(*institution)
			if p.check(c.t, v, false, &in.j); v.ok() {
				p.apply(&in.j)
			}
		},
		blocked: func(t *tenant, victims map[string]entity) string {
			if referenced(t.courses, victims, func(e entity) []entity { return []entity{e.(*course).institution} }) ||
				referenced(t.modules, victims, func(e entity) []entity { return []entity{e.(*module).institution} }) ||
				referenced(t.certificates, victims, func(e entity) []entity { return []entity{e.(*certificate).institution} }) {
				return "The institution cannot be deleted while courses, modules or certificates reference it."
			}
			return ""
		},
	})
	s.handle("GET /institutions/{uuid}/badges/issuers", scopeTenant, s.badgeIssuer)

	register(s, resource[organizationParams]{
		path: "/organizations", batch: true,
		tbl: func(t *tenant) *table { return t.organizations },
		create: func(c *call, p *organizationParams, v *validator, r rec) entity {
			v.str("name", p.Name, true, 255)
			inst := v.ref("institution_uuid", p.InstitutionUUID, c.t.institutions, true)
			if !v.ok() {
				return nil
			}
			e := &organization{rec: r, institution: inst.(*institution)}
			setStr(&e.j.Name, p.Name)
			setOpt(&e.j.Code, p.Code)
			return e
		},
		update: func(c *call, e entity, p *organizationParams, v *validator) {
			o := e.(*organization)
			v.str("name", p.Name, p.Name != nil, 255)
			inst := v.ref("institution_uuid", p.InstitutionUUID, c.t.institutions, false)
			if !v.ok() {
				return
			}
			setStr(&o.j.Name, p.Name)
			setOpt(&o.j.Code, p.Code)
			if inst != nil {
				o.institution = inst.(*institution)
			}
		},
	})
}

type issuerJSON struct {
	Context string  `json:"@context"`
	Type    string  `json:"type"`
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	URL     *string `json:"url"`
}

// badgeIssuer answers the Open Badges 2.0 issuer profile, not wrapped in data.
func (s *Server) badgeIssuer(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := c.t.institutions.get(c.r.PathValue("uuid"))
	if e == nil {
		c.notFound()
		return
	}
	in := e.(*institution)
	c.json(http.StatusOK, issuerJSON{
		Context: "https://w3id.org/openbadges/v2",
		Type:    "Issuer",
		ID:      s.URL + "/institutions/" + in.uuid + "/badges/issuers",
		Name:    in.j.Name,
		URL:     in.j.Website,
	})
}

// --- institutions ---

type institutionJSON struct {
	UUID                 string  `json:"uuid"`
	Name                 string  `json:"name"`
	LegalName            *string `json:"legal_name"`
	TaxID                *string `json:"tax_id"`
	Country              string  `json:"country"`
	Website              *string `json:"website"`
	LinkedinOrganization *string `json:"linkedin_organization"`
	Status               string  `json:"status"`
	IsBadgesEnabled      bool    `json:"is_badges_enabled"`
	BadgeImageUUID       *string `json:"badge_image_uuid"`
	CreatedAt            string  `json:"created_at"`
	UpdatedAt            string  `json:"updated_at"`
}

type institution struct {
	rec
	j institutionJSON
}

func (e *institution) view(*Server) any {
	j := e.j
	j.UUID, j.CreatedAt, j.UpdatedAt = e.uuid, stamp(e.created), stamp(e.updated)
	return j
}

type institutionParams struct {
	Name                 *string `json:"name"`
	LegalName            *string `json:"legal_name"`
	TaxID                *string `json:"tax_id"`
	Country              *string `json:"country"`
	Website              *string `json:"website"`
	LinkedinOrganization *string `json:"linkedin_organization"`
	Status               *string `json:"status"`
	IsBadgesEnabled      *bool   `json:"is_badges_enabled"`
	BadgeImageUUID       *string `json:"badge_image_uuid"`
}

func (p *institutionParams) check(t *tenant, v *validator, creating bool, cur *institutionJSON) {
	v.str("name", p.Name, creating || p.Name != nil, 255)
	v.str("country", p.Country, creating || p.Country != nil, 0)
	v.enum("status", p.Status, "active", "inactive", "suspended")
	enabled := cur != nil && cur.IsBadgesEnabled
	if p.IsBadgesEnabled != nil {
		enabled = *p.IsBadgesEnabled
	}
	hasImage := cur != nil && cur.BadgeImageUUID != nil
	if p.BadgeImageUUID != nil {
		v.ref("badge_image_uuid", p.BadgeImageUUID, t.files, false)
		hasImage = *p.BadgeImageUUID != ""
	}
	if enabled && !hasImage {
		v.add("badge_image_uuid", "The badge image uuid field is required when is badges enabled is true.")
	}
}

func (p *institutionParams) apply(j *institutionJSON) {
	setStr(&j.Name, p.Name)
	setOpt(&j.LegalName, p.LegalName)
	setOpt(&j.TaxID, p.TaxID)
	setStr(&j.Country, p.Country)
	setOpt(&j.Website, p.Website)
	setOpt(&j.LinkedinOrganization, p.LinkedinOrganization)
	setStr(&j.Status, p.Status)
	if p.IsBadgesEnabled != nil {
		j.IsBadgesEnabled = *p.IsBadgesEnabled
	}
	if p.BadgeImageUUID != nil {
		j.BadgeImageUUID = strPtr(strings.ToLower(*p.BadgeImageUUID))
	}
}

// --- organizations ---

type organizationJSON struct {
	UUID        string   `json:"uuid"`
	Name        string   `json:"name"`
	Code        *string  `json:"code"`
	Institution *refJSON `json:"institution"`
	CreatedAt   string   `json:"created_at"`
}

type organization struct {
	rec
	institution *institution
	j           organizationJSON
}

func (e *organization) view(*Server) any {
	j := e.j
	j.UUID, j.CreatedAt = e.uuid, stamp(e.created)
	j.Institution = refOf(e.institution.uuid, e.institution.j.Name)
	return j
}

type organizationParams struct {
	Name            *string `json:"name"`
	InstitutionUUID *string `json:"institution_uuid"`
	Code            *string `json:"code"`
}
