package dokstamptest

import (
	"net/http"
	"strconv"
	"strings"
)

// registerRoutes wires every route of the API.
func (s *Server) registerRoutes() {
	s.registerAuth()

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

	register(s, resource[moduleParams]{
		path: "/modules", batch: true,
		tbl: func(t *tenant) *table { return t.modules },
		create: func(c *call, p *moduleParams, v *validator, r rec) entity {
			inst, _ := v.ref("institution_uuid", p.InstitutionUUID, c.t.institutions, true).(*institution)
			p.check(c.t, v, nil, inst)
			if !v.ok() {
				return nil
			}
			e := &module{rec: r, institution: inst, j: moduleJSON{IsActive: true}}
			p.apply(&e.j)
			return e
		},
		update: func(c *call, e entity, p *moduleParams, v *validator) {
			m := e.(*module)
			inst := m.institution
			if p.InstitutionUUID != nil {
				inst, _ = v.ref("institution_uuid", p.InstitutionUUID, c.t.institutions, true).(*institution)
			}
			p.check(c.t, v, m, inst)
			if !v.ok() {
				return
			}
			p.apply(&m.j)
			m.institution = inst
		},
		blocked: func(t *tenant, victims map[string]entity) string {
			if referenced(t.courses, victims, func(e entity) []entity {
				var out []entity
				for _, a := range e.(*course).attached {
					out = append(out, a.module)
				}
				return out
			}) {
				return "The module cannot be deleted while it is attached to a course."
			}
			return ""
		},
	})

	register(s, resource[courseParams]{
		path: "/courses", batch: true,
		tbl: func(t *tenant) *table { return t.courses },
		create: func(c *call, p *courseParams, v *validator, r rec) entity {
			inst, org := p.check(c.t, v, true)
			if !v.ok() {
				return nil
			}
			e := &course{rec: r, j: courseJSON{Status: "draft"}}
			p.apply(e, inst, org)
			return e
		},
		update: func(c *call, e entity, p *courseParams, v *validator) {
			inst, org := p.check(c.t, v, false)
			if v.ok() {
				p.apply(e.(*course), inst, org)
			}
		},
		blocked: func(t *tenant, victims map[string]entity) string {
			if referenced(t.cohorts, victims, func(e entity) []entity { return []entity{e.(*cohort).course} }) ||
				referenced(t.enrollments, victims, func(e entity) []entity { return []entity{e.(*enrollment).course} }) ||
				referenced(t.certificates, victims, func(e entity) []entity { return []entity{e.(*certificate).course} }) {
				return "The course cannot be deleted while cohorts, enrollments or certificates reference it."
			}
			return ""
		},
	})
	s.registerCourseModules()

	register(s, resource[cohortParams]{
		path: "/cohorts", batch: true,
		tbl: func(t *tenant) *table { return t.cohorts },
		create: func(c *call, p *cohortParams, v *validator, r rec) entity {
			co := p.check(c.t, v, nil)
			if !v.ok() {
				return nil
			}
			e := &cohort{rec: r}
			p.apply(e, co)
			return e
		},
		update: func(c *call, e entity, p *cohortParams, v *validator) {
			co := p.check(c.t, v, e.(*cohort))
			if v.ok() {
				p.apply(e.(*cohort), co)
			}
		},
		blocked: func(t *tenant, victims map[string]entity) string {
			if referenced(t.enrollments, victims, func(e entity) []entity {
				if ch := e.(*enrollment).cohort; ch != nil {
					return []entity{ch}
				}
				return nil
			}) || referenced(t.certificates, victims, func(e entity) []entity {
				if ch := e.(*certificate).cohort; ch != nil {
					return []entity{ch}
				}
				return nil
			}) {
				return "The cohort cannot be deleted while enrollments or certificates reference it."
			}
			return ""
		},
	})

	register(s, resource[studentParams]{
		path: "/students", batch: true,
		tbl: func(t *tenant) *table { return t.students },
		create: func(c *call, p *studentParams, v *validator, r rec) entity {
			p.check(c.t, v, nil)
			if !v.ok() {
				return nil
			}
			e := &student{rec: r}
			p.apply(c.t, e)
			return e
		},
		update: func(c *call, e entity, p *studentParams, v *validator) {
			if p.check(c.t, v, e.(*student)); v.ok() {
				p.apply(c.t, e.(*student))
			}
		},
		blocked: func(t *tenant, victims map[string]entity) string {
			if referenced(t.certificates, victims, func(e entity) []entity { return []entity{e.(*certificate).student} }) ||
				referenced(t.enrollments, victims, func(e entity) []entity { return []entity{e.(*enrollment).student} }) {
				return "The student cannot be deleted while certificates or enrollments reference it."
			}
			return ""
		},
		deleted: func(t *tenant, e entity) {
			st := e.(*student)
			if t.emails[strings.ToLower(st.j.Email)] == st {
				delete(t.emails, strings.ToLower(st.j.Email))
			}
		},
	})
	s.registerPortfolio()

	register(s, resource[enrollmentParams]{
		path: "/enrollments", batch: true,
		tbl: func(t *tenant) *table { return t.enrollments },
		create: func(c *call, p *enrollmentParams, v *validator, r rec) entity {
			st, co, ch := p.check(c.t, v, nil)
			if !v.ok() {
				return nil
			}
			e := &enrollment{rec: r, j: enrollmentJSON{CompletionStatus: "enrolled"}}
			p.apply(e, st, co, ch)
			return e
		},
		update: func(c *call, e entity, p *enrollmentParams, v *validator) {
			st, co, ch := p.check(c.t, v, e.(*enrollment))
			if v.ok() {
				p.apply(e.(*enrollment), st, co, ch)
			}
		},
	})

	s.registerFiles()

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
			return e
		},
		update: func(c *call, e entity, p *templateParams, v *validator) {
			inst := p.check(c.t, v, false)
			if v.ok() {
				p.apply(e.(*template), inst)
			}
		},
	})

	s.registerCertificates()
	s.registerDocuments()

	s.handle("/", scopePublic, func(c *call) { c.notFound() })
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

// --- course modules: attach, detach, groups ---

type attachedJSON struct {
	UUID        string   `json:"uuid"`
	Code        *string  `json:"code"`
	Name        string   `json:"name"`
	Order       *int     `json:"order"`
	IsRequired  bool     `json:"is_required"`
	Workload    *int     `json:"workload"`
	ModuleGroup *refJSON `json:"course_module_group"`
}

func (s *Server) attachedView(co *course) []attachedJSON {
	out := []attachedJSON{}
	for _, a := range co.attached {
		j := attachedJSON{UUID: a.module.uuid, Code: a.module.j.Code, Name: a.module.j.Name,
			Order: a.order, IsRequired: a.module.j.IsRequired, Workload: a.module.j.Workload}
		if a.isRequired != nil {
			j.IsRequired = *a.isRequired
		}
		if a.workload != nil {
			j.Workload = a.workload
		}
		if a.group != nil {
			j.ModuleGroup = refOf(a.group.uuid, a.group.j.Name)
		}
		out = append(out, j)
	}
	return out
}

func (s *Server) registerCourseModules() {
	courseOf := func(c *call) *course {
		e := c.t.courses.get(c.r.PathValue("course_uuid"))
		if e == nil {
			c.notFound()
			return nil
		}
		return e.(*course)
	}
	s.handle("GET /courses/{course_uuid}/attach/modules", scopeTenant, func(c *call) {
		s.mu.RLock()
		co := courseOf(c)
		s.mu.RUnlock()
		if co == nil {
			return
		}
		s.list(c, c.t.modules, func(e entity) bool {
			m := e.(*module)
			if m.institution != co.institution {
				return false
			}
			for _, a := range co.attached {
				if a.module == m {
					return false
				}
			}
			return true
		})
	})
	s.handle("POST /courses/{course_uuid}/attach/modules", scopeTenant, func(c *call) {
		var p struct {
			Modules []struct {
				UUID       *string `json:"uuid"`
				Order      *int    `json:"order"`
				IsRequired *bool   `json:"is_required"`
				Workload   *int    `json:"workload"`
				GroupUUID  *string `json:"course_module_group_uuid"`
			} `json:"modules"`
		}
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		co := courseOf(c)
		if co == nil {
			return
		}
		var v validator
		if len(p.Modules) == 0 {
			v.requiredMsg("modules")
		}
		var add []*attachment
		for i, m := range p.Modules {
			f := "modules." + strconv.Itoa(i) + "."
			me, _ := v.ref(f+"uuid", m.UUID, c.t.modules, true).(*module)
			if me != nil && me.institution != co.institution {
				v.add(f+"uuid", "The selected "+f+"uuid is invalid.")
			}
			var g *group
			if e := v.ref(f+"course_module_group_uuid", m.GroupUUID, c.t.groups, false); e != nil {
				if g = e.(*group); g.course != co {
					v.add(f+"course_module_group_uuid", "The selected "+f+"course_module_group_uuid is invalid.")
				}
			}
			add = append(add, &attachment{module: me, order: m.Order, isRequired: m.IsRequired, workload: m.Workload, group: g})
		}
		if !v.ok() {
			c.invalid(v.errs)
			return
		}
	next:
		for _, a := range add {
			for i, old := range co.attached {
				if old.module == a.module {
					co.attached[i] = a
					continue next
				}
			}
			co.attached = append(co.attached, a)
		}
		co.updated = s.now()
		c.data(http.StatusOK, s.attachedView(co))
	})
	s.handle("DELETE /courses/{course_uuid}/detach/modules", scopeTenant, func(c *call) {
		var p struct {
			Modules []string `json:"modules"`
		}
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		co := courseOf(c)
		if co == nil {
			return
		}
		if len(p.Modules) == 0 {
			c.invalidField("modules", "The modules field is required.")
			return
		}
		drop := map[string]bool{}
		for _, u := range p.Modules {
			drop[strings.ToLower(u)] = true
		}
		kept := co.attached[:0:0]
		for _, a := range co.attached {
			if !drop[a.module.uuid] {
				kept = append(kept, a)
			}
		}
		co.attached = kept
		c.noContent()
	})

	groupPath := "/courses/{course_uuid}/modules/groups"
	groupOf := func(c *call, co *course) *group {
		e := c.t.groups.get(c.r.PathValue("group_uuid"))
		if e == nil || e.(*group).course != co {
			c.notFound()
			return nil
		}
		return e.(*group)
	}
	s.handle("GET "+groupPath, scopeTenant, func(c *call) {
		s.mu.RLock()
		co := courseOf(c)
		s.mu.RUnlock()
		if co == nil {
			return
		}
		s.list(c, c.t.groups, func(e entity) bool { return e.(*group).course == co })
	})
	s.handle("POST "+groupPath, scopeTenant, func(c *call) {
		var p groupParams
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		co := courseOf(c)
		if co == nil {
			return
		}
		var v validator
		v.str("name", p.Name, true, 255)
		if !v.ok() {
			c.invalid(v.errs)
			return
		}
		g := &group{rec: s.newRec(c.t), course: co, j: groupJSON{Name: *p.Name, Order: p.Order, IsActive: true}}
		setBool(&g.j.IsActive, p.IsActive)
		c.t.groups.add(g)
		c.data(http.StatusCreated, g.view(s))
	})
	s.handle("GET "+groupPath+"/{group_uuid}", scopeTenant, func(c *call) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if co := courseOf(c); co != nil {
			if g := groupOf(c, co); g != nil {
				c.data(http.StatusOK, g.view(s))
			}
		}
	})
	upd := func(c *call) {
		var p groupParams
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		co := courseOf(c)
		if co == nil {
			return
		}
		g := groupOf(c, co)
		if g == nil {
			return
		}
		var v validator
		v.str("name", p.Name, p.Name != nil, 255)
		if !v.ok() {
			c.invalid(v.errs)
			return
		}
		setStr(&g.j.Name, p.Name)
		setOptInt(&g.j.Order, p.Order)
		setBool(&g.j.IsActive, p.IsActive)
		g.updated = s.now()
		c.data(http.StatusOK, g.view(s))
	}
	s.handle("PATCH "+groupPath+"/{group_uuid}", scopeTenant, upd)
	s.handle("PUT "+groupPath+"/{group_uuid}", scopeTenant, upd)
	s.handle("DELETE "+groupPath+"/{group_uuid}", scopeTenant, func(c *call) {
		s.mu.Lock()
		defer s.mu.Unlock()
		co := courseOf(c)
		if co == nil {
			return
		}
		g := groupOf(c, co)
		if g == nil {
			return
		}
		s.softDelete(c.t, g, nil)
		for _, a := range co.attached {
			if a.group == g {
				a.group = nil
			}
		}
		c.noContent()
	})
}
