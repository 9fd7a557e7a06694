package dokstamptest

import (
	"strings"
	"time"
)

// This file holds students, cohorts and enrollments.

func (s *Server) registerStudents() {
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
			for _, e := range victims {
				if e.(*student).snapshots > 0 {
					return "The student cannot be deleted: an issued credential holds a snapshot of their data."
				}
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
	// snapshots counts the credential-subject snapshots taken of the student
	// (one per certificate issued); they outlive the certificates.
	snapshots int
	j         studentJSON
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
