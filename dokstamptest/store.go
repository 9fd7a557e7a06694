package dokstamptest

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// rec is what every stored entity has.
type rec struct {
	uuid     string
	seq      int64 // creation order
	created  time.Time
	updated  time.Time
	deleted  time.Time // zero while live
	tenantID int
}

func (r *rec) meta() *rec { return r }

// entity is a stored resource. view returns its JSON object, a fresh value
// that holds no reference to mutable state, built under the store's lock.
type entity interface {
	meta() *rec
	view(s *Server) any
}

// table holds one resource of one tenant, soft-deleted entries included.
type table struct {
	byUUID   map[string]entity
	order    []entity
	viewType reflect.Type // the type view returns, for where/sort fields
}

func newTable(proto any) *table {
	return &table{byUUID: map[string]entity{}, viewType: reflect.TypeOf(proto)}
}

func (tb *table) add(e entity) {
	tb.byUUID[e.meta().uuid] = e
	tb.order = append(tb.order, e)
}

// get returns the live entity with that uuid, or nil.
func (tb *table) get(uuid string) entity {
	e := tb.byUUID[strings.ToLower(uuid)]
	if e == nil || !e.meta().deleted.IsZero() {
		return nil
	}
	return e
}

// live calls fn for each live entity in creation order.
func (tb *table) live(fn func(entity)) {
	for _, e := range tb.order {
		if e.meta().deleted.IsZero() {
			fn(e)
		}
	}
}

// tenant is one X-Tenant's data.
type tenant struct {
	id   int
	uuid string
	name string
	seed TenantSeed

	institutions  *table
	organizations *table
	modules       *table
	courses       *table
	groups        *table
	cohorts       *table
	students      *table
	pages         *table
	items         *table
	enrollments   *table
	files         *table
	templates     *table
	certificates  *table
	docTypes      *table
	documents     *table

	fileByHash   map[[sha256.Size]byte]*file
	emails       map[string]*student // live students by lower-cased email
	docTypeByID  map[int]*documentType
	documentByID map[int]*document
	signingCerts map[int]string // stored digital certificate id -> PIN
}

// TenantSeed describes what a tenant was seeded with.
type TenantSeed struct {
	// Name is the tenant's X-Tenant value.
	Name string
	// InstitutionUUID and CourseUUID name the seeded institution and course.
	InstitutionUUID, CourseUUID string
	// StudentUUIDs are the seeded students, each completed on CourseUUID.
	StudentUUIDs []string
	// EnrollmentUUIDs are their enrollments, in the same order.
	EnrollmentUUIDs []string
	// SigningCertID is the tenant's stored digital certificate, unlocked by
	// SigningPIN, for POST /documents/batch/sign/{cert_id}.
	SigningCertID int
	// SigningPIN unlocks SigningCertID.
	SigningPIN string
}

// newRec must be called with s.mu held.
func (s *Server) newRec(t *tenant) rec {
	s.seq++
	now := s.now()
	return rec{uuid: uuidFrom(s.ids), seq: s.seq, created: now, updated: now, tenantID: t.id}
}

// AddTenant adds a tenant seeded like the default one (an institution, an
// active course, WithStudents students with completed enrollments and a
// signing certificate) and returns what it holds. Server.Token works for it;
// the X-Tenant header selects it. Adding a name that exists returns that
// tenant's seed.
func (s *Server) AddTenant(name string) TenantSeed {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tenants[name]; t != nil {
		return t.seed
	}
	s.nextID++
	t := &tenant{
		id:            s.nextID,
		uuid:          uuidFrom(s.ids),
		name:          name,
		institutions:  newTable(institutionJSON{}),
		organizations: newTable(organizationJSON{}),
		modules:       newTable(moduleJSON{}),
		courses:       newTable(courseJSON{}),
		groups:        newTable(groupJSON{}),
		cohorts:       newTable(cohortJSON{}),
		students:      newTable(studentJSON{}),
		pages:         newTable(pageJSON{}),
		items:         newTable(itemJSON{}),
		enrollments:   newTable(enrollmentJSON{}),
		files:         newTable(fileJSON{}),
		templates:     newTable(templateJSON{}),
		certificates:  newTable(certificateJSON{}),
		docTypes:      newTable(documentTypeJSON{}),
		documents:     newTable(documentJSON{}),
		fileByHash:    map[[sha256.Size]byte]*file{},
		emails:        map[string]*student{},
		docTypeByID:   map[int]*documentType{},
		documentByID:  map[int]*document{},
		signingCerts:  map[int]string{},
	}
	s.tenants[name] = t
	s.tenantOrder = append(s.tenantOrder, t)

	inst := &institution{rec: s.newRec(t), j: institutionJSON{Name: "Acme University", Country: "PT", Status: "active",
		LegalName: strPtr("Acme University Foundation"), Website: strPtr("https://acme.example")}}
	t.institutions.add(inst)
	course := &course{rec: s.newRec(t), institution: inst, j: courseJSON{Name: "Computer Science", Code: strPtr("CS"), Status: "active",
		WorkloadHours: intPtr(3000)}}
	t.courses.add(course)
	seed := TenantSeed{Name: name, InstitutionUUID: inst.uuid, CourseUUID: course.uuid}
	for i := 1; i <= s.cfg.students; i++ {
		st := &student{rec: s.newRec(t), j: studentJSON{
			Name:        fmt.Sprintf("Student %d", i),
			Email:       fmt.Sprintf("student%d@%s.test", i, name),
			DateOfBirth: "2000-01-01",
		}}
		t.students.add(st)
		t.emails[strings.ToLower(st.j.Email)] = st
		en := &enrollment{rec: s.newRec(t), student: st, course: course, j: enrollmentJSON{
			CompletionStatus: "completed",
			Grade:            float64Ptr(8.5),
		}}
		en.enrolledAt = s.now().AddDate(-3, 0, 0).Truncate(24 * time.Hour)
		en.completedAt = s.now().Truncate(24 * time.Hour)
		t.enrollments.add(en)
		seed.StudentUUIDs = append(seed.StudentUUIDs, st.uuid)
		seed.EnrollmentUUIDs = append(seed.EnrollmentUUIDs, en.uuid)
	}
	s.nextID++
	seed.SigningCertID = s.nextID
	seed.SigningPIN = randomDigits(6)
	t.signingCerts[seed.SigningCertID] = seed.SigningPIN
	t.seed = seed
	return seed
}

func intPtr(i int) *int                { return &i }
func float64Ptr(f float64) *float64    { return &f }
func refOf(uuid, name string) *refJSON { return &refJSON{UUID: uuid, Name: name} }

// refJSON is a nested reference, e.g. "institution":{"uuid":..,"name":..}.
type refJSON struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// codeRefJSON is a nested cohort reference.
type codeRefJSON struct {
	UUID string `json:"uuid"`
	Code string `json:"code"`
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
