package dokstamptest

import (
	"net/http"
	"strconv"
	"strings"
)

// This file holds modules, courses, their module attachments and module groups.

func (s *Server) registerCourses() {
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
			inst, org := p.check(c.t, v, nil)
			if !v.ok() {
				return nil
			}
			e := &course{rec: r, j: courseJSON{Status: "draft"}}
			p.apply(e, inst, org)
			return e
		},
		update: func(c *call, e entity, p *courseParams, v *validator) {
			inst, org := p.check(c.t, v, e.(*course))
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
}

// --- modules ---

type moduleJSON struct {
	UUID        string   `json:"uuid"`
	Code        *string  `json:"code"`
	Name        string   `json:"name"`
	Description *string  `json:"description"`
	Syllabus    *string  `json:"syllabus"`
	Workload    *int     `json:"workload"`
	Credits     *int     `json:"credits"`
	Modality    *string  `json:"modality"`
	Level       *string  `json:"level"`
	IsActive    bool     `json:"is_active"`
	IsRequired  bool     `json:"is_required"`
	Institution *refJSON `json:"institution"`
}

type module struct {
	rec
	institution *institution
	j           moduleJSON
}

func (e *module) view(*Server) any {
	j := e.j
	j.UUID = e.uuid
	j.Institution = refOf(e.institution.uuid, e.institution.j.Name)
	return j
}

type moduleParams struct {
	Name            *string `json:"name"`
	InstitutionUUID *string `json:"institution_uuid"`
	Code            *string `json:"code"`
	Description     *string `json:"description"`
	Syllabus        *string `json:"syllabus"`
	Workload        *int    `json:"workload"`
	Credits         *int    `json:"credits"`
	Modality        *string `json:"modality"`
	Level           *string `json:"level"`
	IsActive        *bool   `json:"is_active"`
	IsRequired      *bool   `json:"is_required"`
}

func (p *moduleParams) check(t *tenant, v *validator, self *module, inst *institution) {
	v.str("code", p.Code, false, 20)
	v.str("name", p.Name, self == nil || p.Name != nil, 150)
	v.minInt("workload", p.Workload, 0)
	v.minInt("credits", p.Credits, 0)
	v.enum("modality", p.Modality, "in_person", "online", "hybrid")
	v.enum("level", p.Level, "undergraduate", "graduate", "technical", "open")
	if p.Code != nil && *p.Code != "" && inst != nil {
		taken := false
		t.modules.live(func(e entity) {
			m := e.(*module)
			if m != self && m.institution == inst && m.j.Code != nil && *m.j.Code == *p.Code {
				taken = true
			}
		})
		if taken {
			v.add("code", "The code has already been taken.")
		}
	}
}

func (p *moduleParams) apply(j *moduleJSON) {
	setOpt(&j.Code, p.Code)
	setStr(&j.Name, p.Name)
	setOpt(&j.Description, p.Description)
	setOpt(&j.Syllabus, p.Syllabus)
	setOptInt(&j.Workload, p.Workload)
	setOptInt(&j.Credits, p.Credits)
	setOpt(&j.Modality, p.Modality)
	setOpt(&j.Level, p.Level)
	setBool(&j.IsActive, p.IsActive)
	setBool(&j.IsRequired, p.IsRequired)
}

// --- courses ---

type courseJSON struct {
	UUID          string   `json:"uuid"`
	Code          *string  `json:"code"`
	Name          string   `json:"name"`
	Description   *string  `json:"description"`
	WorkloadHours *int     `json:"workload_hours"`
	Area          *string  `json:"area"`
	Version       *string  `json:"version"`
	Status        string   `json:"status"`
	Institution   *refJSON `json:"institution"`
	Organization  *refJSON `json:"organization"`
	CreatedAt     string   `json:"created_at"`
}

type course struct {
	rec
	institution    *institution
	organization   *organization
	badgeImageUUID string
	attached       []*attachment
	j              courseJSON
}

// attachment links a module to a course.
type attachment struct {
	module     *module
	order      *int
	isRequired *bool
	workload   *int
	group      *group
}

func (e *course) view(*Server) any {
	j := e.j
	j.UUID, j.CreatedAt = e.uuid, stamp(e.created)
	j.Institution = refOf(e.institution.uuid, e.institution.j.Name)
	if e.organization != nil {
		j.Organization = refOf(e.organization.uuid, e.organization.j.Name)
	}
	return j
}

type courseParams struct {
	Name             *string `json:"name"`
	InstitutionUUID  *string `json:"institution_uuid"`
	OrganizationUUID *string `json:"organization_uuid"`
	Code             *string `json:"code"`
	Description      *string `json:"description"`
	WorkloadHours    *int    `json:"workload_hours"`
	Area             *string `json:"area"`
	Version          *string `json:"version"`
	Status           *string `json:"status"`
	BadgeImageUUID   *string `json:"badge_image_uuid"`
}

func (p *courseParams) check(t *tenant, v *validator, self *course) (*institution, *organization) {
	creating := self == nil
	v.str("name", p.Name, creating || p.Name != nil, 255)
	v.enum("status", p.Status, "draft", "active", "archived")
	v.minInt("workload_hours", p.WorkloadHours, 0)
	var inst *institution
	if creating || p.InstitutionUUID != nil {
		if e := v.ref("institution_uuid", p.InstitutionUUID, t.institutions, true); e != nil {
			inst = e.(*institution)
		}
	}
	var org *organization
	if e := v.ref("organization_uuid", p.OrganizationUUID, t.organizations, false); e != nil {
		org = e.(*organization)
	}
	// The organization must belong to the course's institution, the new one
	// or, on an update that keeps it, the current one.
	target := inst
	if target == nil && self != nil {
		target = self.institution
	}
	if target != nil {
		if org != nil && org.institution != target {
			v.add("organization_uuid", "The selected organization uuid is invalid.")
		} else if org == nil && p.OrganizationUUID == nil && self != nil && self.organization != nil && self.organization.institution != target {
			v.add("institution_uuid", "The course's organization belongs to another institution; change both together.")
		}
	}
	v.ref("badge_image_uuid", p.BadgeImageUUID, t.files, false)
	return inst, org
}

func (p *courseParams) apply(e *course, inst *institution, org *organization) {
	j := &e.j
	setOpt(&j.Code, p.Code)
	setStr(&j.Name, p.Name)
	setOpt(&j.Description, p.Description)
	setOptInt(&j.WorkloadHours, p.WorkloadHours)
	setOpt(&j.Area, p.Area)
	setOpt(&j.Version, p.Version)
	setStr(&j.Status, p.Status)
	if inst != nil {
		e.institution = inst
	}
	if org != nil {
		e.organization = org
	}
	if p.BadgeImageUUID != nil {
		e.badgeImageUUID = strings.ToLower(*p.BadgeImageUUID)
	}
}

// --- module groups ---

type groupJSON struct {
	UUID     string   `json:"uuid"`
	Name     string   `json:"name"`
	Order    *int     `json:"order"`
	IsActive bool     `json:"is_active"`
	Course   *refJSON `json:"course"`
}

type group struct {
	rec
	course *course
	j      groupJSON
}

func (e *group) view(*Server) any {
	j := e.j
	j.UUID = e.uuid
	j.Course = refOf(e.course.uuid, e.course.j.Name)
	return j
}

type groupParams struct {
	Name     *string `json:"name"`
	Order    *int    `json:"order"`
	IsActive *bool   `json:"is_active"`
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
			c.missing("groups", c.r.PathValue("group_uuid"))
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
