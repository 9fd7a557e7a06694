package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// CoursesService manages courses, the modules attached to them, and their module groups
// (semesters, periods).
type CoursesService service

// CourseStatus is a course's state. Prefer CourseArchived to deleting a course.
type CourseStatus string

// The course states; new courses are drafts.
const (
	CourseDraft    CourseStatus = "draft"
	CourseActive   CourseStatus = "active"
	CourseArchived CourseStatus = "archived"
)

var courseStatuses = []CourseStatus{CourseDraft, CourseActive, CourseArchived}

// Course is a programme of an institution that certificates are issued for.
type Course struct {
	UUID          string       `json:"uuid"`
	Code          string       `json:"code,omitempty"` // internal code, the lookup key
	Name          string       `json:"name"`
	Description   string       `json:"description,omitempty"`
	WorkloadHours int          `json:"workload_hours"`
	Area          string       `json:"area,omitempty"`    // knowledge area
	Version       string       `json:"version,omitempty"` // curriculum version
	Status        CourseStatus `json:"status,omitempty"`
	// BadgeImageUUID is the course's own Open Badges image, when one is set.
	BadgeImageUUID string    `json:"badge_image_uuid,omitempty"`
	Institution    Ref       `json:"institution"`
	Organization   *Ref      `json:"organization,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// CourseCreateParams is the body of POST /courses. Name and InstitutionUUID are required.
type CourseCreateParams struct {
	Name             string       `json:"name"`
	InstitutionUUID  string       `json:"institution_uuid"`
	OrganizationUUID string       `json:"organization_uuid,omitempty"`
	Code             string       `json:"code,omitempty"`
	Description      string       `json:"description,omitempty"`
	WorkloadHours    *int         `json:"workload_hours,omitempty"`
	Area             string       `json:"area,omitempty"`
	Version          string       `json:"version,omitempty"`
	Status           CourseStatus `json:"status,omitempty"` // default draft
	BadgeImageUUID   string       `json:"badge_image_uuid,omitempty"`
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *CourseCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create course: nil params")
	}
	v := check{op: "create course"}
	v.text("name", p.Name)
	v.maxLen("name", p.Name, 255)
	v.uuids("institution_uuid", p.InstitutionUUID)
	v.optionalUUID("organization_uuid", p.OrganizationUUID)
	v.optionalUUID("badge_image_uuid", p.BadgeImageUUID)
	v.nonNegative("workload_hours", p.WorkloadHours)
	enum(&v, "status", p.Status, courseStatuses...)
	return v.err()
}

// CourseUpdateParams is a partial update: only the fields set are sent.
type CourseUpdateParams struct {
	Name             string           `json:"name,omitempty"`
	OrganizationUUID Nullable[string] `json:"organization_uuid,omitzero"`
	Code             Nullable[string] `json:"code,omitzero"`
	Description      Nullable[string] `json:"description,omitzero"`
	WorkloadHours    Nullable[int]    `json:"workload_hours,omitzero"`
	Area             Nullable[string] `json:"area,omitzero"`
	Version          Nullable[string] `json:"version,omitzero"`
	Status           CourseStatus     `json:"status,omitempty"`
	BadgeImageUUID   Nullable[string] `json:"badge_image_uuid,omitzero"`
}

// Validate checks the fields that are set, without sending anything.
func (p *CourseUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update course: nil params")
	}
	v := check{op: "update course"}
	v.maxLen("name", p.Name, 255)
	v.optionalUUID("organization_uuid", p.OrganizationUUID.value)
	v.optionalUUID("badge_image_uuid", p.BadgeImageUUID.value)
	v.nonNegative("workload_hours", p.WorkloadHours.ptr())
	enum(&v, "status", p.Status, courseStatuses...)
	return v.err()
}

// Get returns one course. The route is inferred from the API's conventions.
//
// API: GET /courses/{uuid}
func (s *CoursesService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Course, error) {
	return getByUUID[Course](ctx, s.c, "course", "courses", uuid, opts...)
}

// Create creates a course of an institution. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown look
// it up with FindByCode.
//
// API: POST /courses
func (s *CoursesService) Create(ctx context.Context, p *CourseCreateParams, opts ...RequestOption) (*Course, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c, err := createIn[Course](ctx, s.c, "course", "/courses", p, opts...)
	if err != nil {
		return nil, errorf("create course %q: %w", p.Name, err)
	}
	return c, nil
}

// Update changes the fields set in p, for example Status: CourseArchived.
//
// API: PATCH /courses/{uuid}
func (s *CoursesService) Update(ctx context.Context, uuid string, p *CourseUpdateParams, opts ...RequestOption) (*Course, error) {
	if err := checkUUID("course uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Course](ctx, s.c, "course", "courses", uuid, p, opts...)
}

// Delete soft-deletes a course. The server refuses while a cohort, enrollment or certificate
// references it; prefer Update with Status: CourseArchived.
//
// API: DELETE /courses/{uuid}
func (s *CoursesService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "course", "courses", uuid, opts...)
}

// DestroyBatch soft-deletes any number of courses, in chunks of MaxBatchIDs. A failed chunk is
// reported in a *ChunkError; the others still ran. The route is inferred.
//
// API: DELETE /courses/batch/destroy
func (s *CoursesService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "courses", uuids, opts...)
}

// List returns one page of courses, e.g. Where: {"institution_uuid": ..., "status": "active"}.
//
// API: GET /courses
func (s *CoursesService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Course], error) {
	return listPage[Course](ctx, s.c, "/courses", list, opts...)
}

// All iterates over every course matching list, fetching pages as needed.
//
// API: GET /courses
func (s *CoursesService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Course, error] {
	return listAll[Course](ctx, s.c, "/courses", list, opts...)
}

// FindByCode returns the course with this code, the documented search-before-create lookup.
// When there is none the error matches ErrNotFound; when several institutions use the code, it
// is an error too (filter with List instead).
//
// API: GET /courses
func (s *CoursesService) FindByCode(ctx context.Context, code string, opts ...RequestOption) (*Course, error) {
	if strings.TrimSpace(code) == "" {
		return nil, errors.New("dokstamp: find course: empty code")
	}
	return findOne(ctx, s.c, "/courses", "course", map[string]string{"code": code},
		func(c *Course) bool { return c.Code == code }, opts...)
}

// FindOrCreate returns the course of p.InstitutionUUID with code p.Code (the natural key the docs
// look courses up by), creating it from p when there is none; p.Code is required. The bool is true
// when this call created it (after a lost answer: when the record was missing before the create and
// is there after it, the best the API can tell). A lost answer to the create, or a 422 on code, is
// settled by looking up again (a course of the same code in another institution does not count).
// The docs do not say the server refuses a second course with one code: if a create whose answer
// was lost commits only after the look-up that followed it, a second create can make a second
// course, which FindByCode then reports as more than one match. A course found is returned as the
// server holds it; p's other fields are not compared nor applied.
//
// API: GET /courses
// API: POST /courses
func (s *CoursesService) FindOrCreate(ctx context.Context, p *CourseCreateParams, opts ...RequestOption) (*Course, bool, error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	if strings.TrimSpace(p.Code) == "" {
		return nil, false, errors.New("dokstamp: find or create course: code is required, it is the key the course is found by")
	}
	find := func(ctx context.Context) (*Course, error) {
		return findOne(ctx, s.c, "/courses", "course", map[string]string{"code": p.Code},
			func(c *Course) bool {
				return c.Code == p.Code && (c.Institution.UUID == "" || strings.EqualFold(c.Institution.UUID, p.InstitutionUUID))
			}, opts...)
	}
	return findOrCreate(ctx, fmt.Sprintf("find or create course %q", p.Code), []string{"code"}, find,
		func(ctx context.Context) (*Course, error) { return s.Create(ctx, p, opts...) })
}

// ModuleAttachment is one module to attach to a course. Order, IsRequired and Workload
// override the module's defaults for this course; CourseModuleGroupUUID puts it in a group.
type ModuleAttachment struct {
	UUID                  string `json:"uuid"`
	Order                 *int   `json:"order,omitempty"`
	IsRequired            *bool  `json:"is_required,omitempty"`
	Workload              *int   `json:"workload,omitempty"`
	CourseModuleGroupUUID string `json:"course_module_group_uuid,omitempty"`
}

// AttachableModules returns one page of the modules of the course's institution that are not
// attached to the course yet.
//
// API: GET /courses/{course_uuid}/attach/modules
func (s *CoursesService) AttachableModules(ctx context.Context, courseUUID string, list *ListOptions, opts ...RequestOption) (*Page[Module], error) {
	if err := checkUUID("course uuid", courseUUID); err != nil {
		return nil, err
	}
	return listPage[Module](ctx, s.c, pathOf("courses", courseUUID, "attach", "modules"), list, opts...)
}

// AttachModules links modules to a course, in one request; modules are never linked
// automatically. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown, AttachableModules tells what is
// still missing.
//
// API: POST /courses/{course_uuid}/attach/modules
func (s *CoursesService) AttachModules(ctx context.Context, courseUUID string, modules []ModuleAttachment, opts ...RequestOption) error {
	if err := checkUUID("course uuid", courseUUID); err != nil {
		return err
	}
	v := check{op: "attach modules"}
	if len(modules) == 0 {
		v.add("no modules")
	}
	seen := make(map[string]bool, len(modules))
	for i, m := range modules {
		v.uuids(fmt.Sprintf("modules[%d].uuid", i), m.UUID)
		v.optionalUUID(fmt.Sprintf("modules[%d].course_module_group_uuid", i), m.CourseModuleGroupUUID)
		v.nonNegative(fmt.Sprintf("modules[%d].workload", i), m.Workload)
		if m.UUID != "" && seen[strings.ToLower(m.UUID)] {
			v.add("modules[%d]: module %s is listed twice", i, m.UUID)
		}
		seen[strings.ToLower(m.UUID)] = true
	}
	if err := v.err(); err != nil {
		return err
	}
	body := struct {
		Modules []ModuleAttachment `json:"modules"`
	}{modules}
	return s.c.call(ctx, &request{method: "POST", path: pathOf("courses", courseUUID, "attach", "modules"), body: body, class: retryUnsafe, opts: opts}, nil)
}

// DetachModules removes the links between a course and modules; the modules themselves stay.
//
// API: DELETE /courses/{course_uuid}/detach/modules
func (s *CoursesService) DetachModules(ctx context.Context, courseUUID string, moduleUUIDs []string, opts ...RequestOption) error {
	if err := checkUUID("course uuid", courseUUID); err != nil {
		return err
	}
	if len(moduleUUIDs) == 0 {
		return errors.New("dokstamp: detach modules: no modules")
	}
	v := check{op: "detach modules"}
	for i, id := range moduleUUIDs {
		v.uuids(fmt.Sprintf("modules[%d]", i), id)
	}
	if err := v.err(); err != nil {
		return err
	}
	body := struct {
		Modules []string `json:"modules"`
	}{moduleUUIDs}
	return s.c.call(ctx, &request{method: "DELETE", path: pathOf("courses", courseUUID, "detach", "modules"), body: body, opts: opts}, nil)
}

// ModuleGroup groups a course's modules, e.g. a semester.
type ModuleGroup struct {
	UUID      string    `json:"uuid"`
	Name      string    `json:"name"`
	Order     int       `json:"order"`
	IsActive  bool      `json:"is_active"`
	Course    Ref       `json:"course"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ModuleGroupCreateParams is the body of a new module group. Name is required.
type ModuleGroupCreateParams struct {
	Name     string `json:"name"`
	Order    *int   `json:"order,omitempty"`
	IsActive *bool  `json:"is_active,omitempty"` // default true
}

// Validate checks the params without sending anything.
func (p *ModuleGroupCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create module group: nil params")
	}
	v := check{op: "create module group"}
	v.text("name", p.Name)
	return v.err()
}

// ModuleGroupUpdateParams is a partial update: only the fields set are sent.
type ModuleGroupUpdateParams struct {
	Name     string        `json:"name,omitempty"`
	Order    Nullable[int] `json:"order,omitzero"`
	IsActive *bool         `json:"is_active,omitempty"`
}

// ListModuleGroups returns one page of the course's module groups.
//
// API: GET /courses/{course_uuid}/modules/groups
func (s *CoursesService) ListModuleGroups(ctx context.Context, courseUUID string, list *ListOptions, opts ...RequestOption) (*Page[ModuleGroup], error) {
	if err := checkUUID("course uuid", courseUUID); err != nil {
		return nil, err
	}
	return listPage[ModuleGroup](ctx, s.c, moduleGroupsPath(courseUUID), list, opts...)
}

// CreateModuleGroup creates a module group in a course. The POST rule (package doc, "Retries and duplicates") applies: after
// ErrOutcomeUnknown, ListModuleGroups tells whether it was created.
//
// API: POST /courses/{course_uuid}/modules/groups
func (s *CoursesService) CreateModuleGroup(ctx context.Context, courseUUID string, p *ModuleGroupCreateParams, opts ...RequestOption) (*ModuleGroup, error) {
	if err := checkUUID("course uuid", courseUUID); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return createIn[ModuleGroup](ctx, s.c, "module group", moduleGroupsPath(courseUUID), p, opts...)
}

// GetModuleGroup returns one module group of a course.
//
// API: GET /courses/{course_uuid}/modules/groups/{group_uuid}
func (s *CoursesService) GetModuleGroup(ctx context.Context, courseUUID, groupUUID string, opts ...RequestOption) (*ModuleGroup, error) {
	if err := requireUUIDs("get module group", "course uuid", courseUUID, "group uuid", groupUUID); err != nil {
		return nil, err
	}
	return doData[ModuleGroup](ctx, s.c, &request{method: "GET", path: moduleGroupsPath(courseUUID) + pathOf(groupUUID), opts: opts})
}

// UpdateModuleGroup changes the fields set in p.
//
// API: PATCH /courses/{course_uuid}/modules/groups/{group_uuid}
func (s *CoursesService) UpdateModuleGroup(ctx context.Context, courseUUID, groupUUID string, p *ModuleGroupUpdateParams, opts ...RequestOption) (*ModuleGroup, error) {
	if err := requireUUIDs("update module group", "course uuid", courseUUID, "group uuid", groupUUID); err != nil {
		return nil, err
	}
	return updateAt[ModuleGroup](ctx, s.c, "module group", moduleGroupsPath(courseUUID)+pathOf(groupUUID), p, opts...)
}

// DeleteModuleGroup deletes a module group of a course.
//
// API: DELETE /courses/{course_uuid}/modules/groups/{group_uuid}
func (s *CoursesService) DeleteModuleGroup(ctx context.Context, courseUUID, groupUUID string, opts ...RequestOption) error {
	if err := requireUUIDs("delete module group", "course uuid", courseUUID, "group uuid", groupUUID); err != nil {
		return err
	}
	return s.c.call(ctx, &request{method: "DELETE", path: moduleGroupsPath(courseUUID) + pathOf(groupUUID), opts: opts}, nil)
}

func moduleGroupsPath(courseUUID string) string {
	return pathOf("courses", courseUUID, "modules", "groups")
}
