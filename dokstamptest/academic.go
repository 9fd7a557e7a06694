package dokstamptest

import (
	"encoding/json"
	"strings"
	"time"
)

// This file holds the academic structure: institutions, organizations,
// modules, courses, cohorts, students and enrollments.

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

func setStr(dst *string, p *string) {
	if p != nil {
		*dst = *p
	}
}

func setOpt(dst **string, p *string) {
	if p != nil {
		*dst = strPtr(*p)
	}
}

func setOptInt(dst **int, p *int) {
	if p != nil {
		v := *p
		*dst = &v
	}
}

func setBool(dst *bool, p *bool) {
	if p != nil {
		*dst = *p
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

func (p *courseParams) check(t *tenant, v *validator, creating bool) (*institution, *organization) {
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

// --- cohorts ---

type cohortJSON struct {
	UUID      string   `json:"uuid"`
	Code      string   `json:"code"`
	Modality  *string  `json:"modality"`
	StartDate *string  `json:"start_date"`
	EndDate   *string  `json:"end_date"`
	Course    *refJSON `json:"course"`
}

type cohort struct {
	rec
	course *course
	j      cohortJSON
}

func (e *cohort) view(*Server) any {
	j := e.j
	j.UUID = e.uuid
	j.Course = refOf(e.course.uuid, e.course.j.Name)
	return j
}

type cohortParams struct {
	CourseUUID *string `json:"course_uuid"`
	Code       *string `json:"code"`
	Modality   *string `json:"modality"`
	StartDate  *string `json:"start_date"`
	EndDate    *string `json:"end_date"`
}

func (p *cohortParams) check(t *tenant, v *validator, self *cohort) *course {
	var c *course
	if self == nil || p.CourseUUID != nil {
		if e := v.ref("course_uuid", p.CourseUUID, t.courses, true); e != nil {
			c = e.(*course)
		}
	}
	v.str("code", p.Code, self == nil || p.Code != nil, 0)
	v.enum("modality", p.Modality, "presential", "remote", "hybrid")
	v.date("start_date", p.StartDate, false)
	v.date("end_date", p.EndDate, false)
	if p.Code != nil && *p.Code != "" {
		taken := false
		t.cohorts.live(func(e entity) {
			if o := e.(*cohort); o != self && o.j.Code == *p.Code {
				taken = true
			}
		})
		if taken {
			v.add("code", "The code has already been taken.")
		}
	}
	return c
}

func (p *cohortParams) apply(e *cohort, c *course) {
	setStr(&e.j.Code, p.Code)
	setOpt(&e.j.Modality, p.Modality)
	if p.StartDate != nil {
		t, _ := parseTime(*p.StartDate)
		e.j.StartDate = stampPtr(t)
	}
	if p.EndDate != nil {
		t, _ := parseTime(*p.EndDate)
		e.j.EndDate = stampPtr(t)
	}
	if c != nil {
		e.course = c
	}
}

// --- students ---

type studentJSON struct {
	UUID        string  `json:"uuid"`
	Name        string  `json:"name"`
	Email       string  `json:"email"`
	DateOfBirth string  `json:"date_of_birth"`
	Gender      *string `json:"gender"`
	SocialName  *string `json:"social_name"`
	CreatedAt   string  `json:"created_at"`
}

type student struct {
	rec
	j studentJSON
}

func (e *student) view(*Server) any {
	j := e.j
	j.UUID, j.CreatedAt = e.uuid, stamp(e.created)
	return j
}

type studentParams struct {
	Name        *string `json:"name"`
	Email       *string `json:"email"`
	DateOfBirth *string `json:"date_of_birth"`
	Gender      *string `json:"gender"`
	SocialName  *string `json:"social_name"`
}

func (p *studentParams) check(t *tenant, v *validator, self *student) {
	creating := self == nil
	v.str("name", p.Name, creating || p.Name != nil, 255)
	if p.Email == nil || *p.Email == "" {
		if creating || p.Email != nil {
			v.requiredMsg("email")
		}
	} else if at := strings.IndexByte(*p.Email, '@'); at < 1 || at == len(*p.Email)-1 || strings.ContainsAny(*p.Email, " \t") {
		v.add("email", "The email must be a valid email address.")
	} else if other := t.emails[strings.ToLower(*p.Email)]; other != nil && other != self {
		v.add("email", "The email has already been taken.")
	}
	if d := v.date("date_of_birth", p.DateOfBirth, creating || p.DateOfBirth != nil); !d.IsZero() && d.After(time.Now()) {
		v.add("date_of_birth", "The date of birth must be a date before today.")
	}
}

func (p *studentParams) apply(t *tenant, e *student) {
	setStr(&e.j.Name, p.Name)
	if p.Email != nil {
		delete(t.emails, strings.ToLower(e.j.Email))
		e.j.Email = *p.Email
		t.emails[strings.ToLower(e.j.Email)] = e
	}
	if p.DateOfBirth != nil {
		d, _ := parseTime(*p.DateOfBirth)
		e.j.DateOfBirth = d.Format("2006-01-02")
	}
	setOpt(&e.j.Gender, p.Gender)
	setOpt(&e.j.SocialName, p.SocialName)
}

// --- enrollments ---

type enrollmentJSON struct {
	UUID             string       `json:"uuid"`
	CompletionStatus string       `json:"completion_status"`
	Grade            *float64     `json:"grade"`
	EnrolledAt       string       `json:"enrolled_at"`
	CompletedAt      *string      `json:"completed_at"`
	Student          *refJSON     `json:"student"`
	Course           *refJSON     `json:"course"`
	Cohort           *codeRefJSON `json:"cohort"`
}

type enrollment struct {
	rec
	student     *student
	course      *course
	cohort      *cohort
	enrolledAt  time.Time
	completedAt time.Time
	j           enrollmentJSON
}

func (e *enrollment) view(*Server) any {
	j := e.j
	j.UUID = e.uuid
	j.EnrolledAt = stamp(e.enrolledAt)
	j.CompletedAt = stampPtr(e.completedAt)
	j.Student = refOf(e.student.uuid, e.student.j.Name)
	j.Course = refOf(e.course.uuid, e.course.j.Name)
	if e.cohort != nil {
		j.Cohort = &codeRefJSON{UUID: e.cohort.uuid, Code: e.cohort.j.Code}
	}
	return j
}

type enrollmentParams struct {
	StudentUUID      *string  `json:"student_uuid"`
	CourseUUID       *string  `json:"course_uuid"`
	EnrolledAt       *string  `json:"enrolled_at"`
	CohortUUID       *string  `json:"cohort_uuid"`
	CompletionStatus *string  `json:"completion_status"`
	Grade            *float64 `json:"grade"`
	CompletedAt      *string  `json:"completed_at"`
}

func (p *enrollmentParams) check(t *tenant, v *validator, self *enrollment) (*student, *course, *cohort) {
	creating := self == nil
	var st *student
	var co *course
	var ch *cohort
	if creating || p.StudentUUID != nil {
		if e := v.ref("student_uuid", p.StudentUUID, t.students, true); e != nil {
			st = e.(*student)
		}
	}
	if creating || p.CourseUUID != nil {
		if e := v.ref("course_uuid", p.CourseUUID, t.courses, true); e != nil {
			co = e.(*course)
		}
	}
	v.date("enrolled_at", p.EnrolledAt, creating || p.EnrolledAt != nil)
	if e := v.ref("cohort_uuid", p.CohortUUID, t.cohorts, false); e != nil {
		ch = e.(*cohort)
		target := co
		if target == nil && self != nil {
			target = self.course
		}
		if target != nil && ch.course != target {
			v.add("cohort_uuid", "The selected cohort uuid is invalid.")
		}
	}
	v.enum("completion_status", p.CompletionStatus, "enrolled", "completed", "dropped")
	if p.Grade != nil && (*p.Grade < 0 || *p.Grade > 10) {
		v.add("grade", "The grade must be between 0 and 10.")
	}
	v.date("completed_at", p.CompletedAt, false)
	return st, co, ch
}

func (p *enrollmentParams) apply(e *enrollment, st *student, co *course, ch *cohort) {
	if st != nil {
		e.student = st
	}
	if co != nil {
		e.course = co
	}
	if ch != nil {
		e.cohort = ch
	}
	if p.EnrolledAt != nil {
		e.enrolledAt, _ = parseTime(*p.EnrolledAt)
	}
	if p.CompletedAt != nil {
		e.completedAt, _ = parseTime(*p.CompletedAt)
	}
	setStr(&e.j.CompletionStatus, p.CompletionStatus)
	if p.Grade != nil {
		g := float64(int(*p.Grade*100+0.5)) / 100
		e.j.Grade = &g
	}
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
