package dokstamptest

import (
	"encoding/json"
)

// This file holds certificate templates.

func (s *Server) registerTemplates() {
	register(s, resource[templateParams]{
		path: "/certificate-templates",
		tbl:  func(t *tenant) *table { return t.templates },
		create: func(c *call, p *templateParams, v *validator, r rec) entity {
			inst := p.check(c.t, v, true)
			if !v.ok() {
				return nil
			}
			e := &template{rec: r, j: templateJSON{Status: "active"}}
			p.apply(e, inst)
			s.soleDefault(c.t, e)
			return e
		},
		update: func(c *call, e entity, p *templateParams, v *validator) {
			inst := p.check(c.t, v, false)
			if v.ok() {
				p.apply(e.(*template), inst)
				s.soleDefault(c.t, e.(*template))
			}
		},
	})
}

// soleDefault keeps one default template per institution: when tp is the
// default, the institution's previous default stops being one.
func (s *Server) soleDefault(t *tenant, tp *template) {
	if !tp.j.IsDefault {
		return
	}
	t.templates.live(func(e entity) {
		if o := e.(*template); o != tp && o.institution == tp.institution && o.j.IsDefault {
			o.j.IsDefault, o.updated = false, s.now()
		}
	})
}

// --- certificate templates ---

type templateJSON struct {
	UUID             string          `json:"uuid"`
	Name             string          `json:"name"`
	Version          string          `json:"version"`
	Path             string          `json:"path"`
	PreviewImagePath *string         `json:"preview_image_path"`
	CanvaConfig      json.RawMessage `json:"canva_config"`
	IsDefault        bool            `json:"is_default"`
	Status           string          `json:"status"`
	Institution      *refJSON        `json:"institution"`
}

type template struct {
	rec
	institution *institution
	j           templateJSON
}

func (e *template) view(*Server) any {
	j := e.j
	j.UUID = e.uuid
	if j.CanvaConfig == nil {
		j.CanvaConfig = json.RawMessage("null")
	}
	j.Institution = refOf(e.institution.uuid, e.institution.j.Name)
	return j
}

type templateParams struct {
	Name             *string         `json:"name"`
	Version          *string         `json:"version"`
	InstitutionUUID  *string         `json:"institution_uuid"`
	Path             *string         `json:"path"`
	PreviewImagePath *string         `json:"preview_image_path"`
	CanvaConfig      json.RawMessage `json:"canva_config"`
	IsDefault        *bool           `json:"is_default"`
	Status           *string         `json:"status"`
}

func (p *templateParams) check(t *tenant, v *validator, creating bool) *institution {
	v.str("name", p.Name, creating || p.Name != nil, 255)
	v.str("version", p.Version, creating || p.Version != nil, 0)
	v.str("path", p.Path, creating || p.Path != nil, 0)
	v.enum("status", p.Status, "active", "inactive")
	if len(p.CanvaConfig) > 0 && p.CanvaConfig[0] != '{' && string(p.CanvaConfig) != "null" {
		v.add("canva_config", "The canva config must be an object.")
	}
	if creating || p.InstitutionUUID != nil {
		if e := v.ref("institution_uuid", p.InstitutionUUID, t.institutions, true); e != nil {
			return e.(*institution)
		}
	}
	return nil
}

func (p *templateParams) apply(e *template, inst *institution) {
	setStr(&e.j.Name, p.Name)
	setStr(&e.j.Version, p.Version)
	setStr(&e.j.Path, p.Path)
	setOpt(&e.j.PreviewImagePath, p.PreviewImagePath)
	if p.CanvaConfig != nil {
		e.j.CanvaConfig = append(json.RawMessage(nil), p.CanvaConfig...)
	}
	setBool(&e.j.IsDefault, p.IsDefault)
	setStr(&e.j.Status, p.Status)
	if inst != nil {
		e.institution = inst
	}
}
