package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// ModulesService manages modules: the subjects or disciplines of an institution, which can be
// attached to many of its courses (see CoursesService.AttachModules).
type ModulesService service

// ModuleModality is how a module is taught. It is not the same enumeration as CohortModality.
type ModuleModality string

// The module modalities.
const (
	ModuleInPerson ModuleModality = "in_person"
	ModuleOnline   ModuleModality = "online"
	ModuleHybrid   ModuleModality = "hybrid"
)

// ModuleLevel is a module's academic level.
type ModuleLevel string

// The module levels.
const (
	LevelUndergraduate ModuleLevel = "undergraduate"
	LevelGraduate      ModuleLevel = "graduate"
	LevelTechnical     ModuleLevel = "technical"
	LevelOpen          ModuleLevel = "open"
)

var (
	moduleModalities = []ModuleModality{ModuleInPerson, ModuleOnline, ModuleHybrid}
	moduleLevels     = []ModuleLevel{LevelUndergraduate, LevelGraduate, LevelTechnical, LevelOpen}
)

// Module is a subject or discipline of an institution.
type Module struct {
	UUID        string         `json:"uuid"`
	Code        string         `json:"code,omitempty"` // unique per institution
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Syllabus    string         `json:"syllabus,omitempty"`
	Workload    int            `json:"workload"` // hours
	Credits     int            `json:"credits"`
	Modality    ModuleModality `json:"modality,omitempty"`
	Level       ModuleLevel    `json:"level,omitempty"`
	IsActive    bool           `json:"is_active"`
	IsRequired  bool           `json:"is_required"`
	Institution Ref            `json:"institution"`
	CreatedAt   time.Time      `json:"created_at,omitzero"`
	UpdatedAt   time.Time      `json:"updated_at,omitzero"`
}

// ModuleCreateParams is the body of POST /modules. Name and InstitutionUUID are required; Code
// is at most 20 characters and Name at most 150.
type ModuleCreateParams struct {
	Name            string         `json:"name"`
	InstitutionUUID string         `json:"institution_uuid"`
	Code            string         `json:"code,omitempty"`
	Description     string         `json:"description,omitempty"`
	Syllabus        string         `json:"syllabus,omitempty"`
	Workload        *int           `json:"workload,omitempty"` // hours
	Credits         *int           `json:"credits,omitempty"`
	Modality        ModuleModality `json:"modality,omitempty"`
	Level           ModuleLevel    `json:"level,omitempty"`
	IsActive        *bool          `json:"is_active,omitempty"`   // default true
	IsRequired      *bool          `json:"is_required,omitempty"` // default false
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *ModuleCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create module: nil params")
	}
	v := check{op: "create module"}
	v.text("name", p.Name)
	v.uuids("institution_uuid", p.InstitutionUUID)
	checkModuleFields(&v, p.Name, p.Code, p.Workload, p.Credits, p.Modality, p.Level)
	return v.err()
}

// checkModuleFields checks the optional module fields shared by create and update.
func checkModuleFields(v *check, name, code string, workload, credits *int, m ModuleModality, l ModuleLevel) {
	v.maxLen("name", name, 150)
	v.maxLen("code", code, 20)
	v.nonNegative("workload", workload)
	v.nonNegative("credits", credits)
	enum(v, "modality", m, moduleModalities...)
	enum(v, "level", l, moduleLevels...)
}

// ModuleUpdateParams is a partial update: only the fields set are sent.
type ModuleUpdateParams struct {
	Name        string                   `json:"name,omitempty"`
	Code        Nullable[string]         `json:"code,omitzero"`
	Description Nullable[string]         `json:"description,omitzero"`
	Syllabus    Nullable[string]         `json:"syllabus,omitzero"`
	Workload    Nullable[int]            `json:"workload,omitzero"`
	Credits     Nullable[int]            `json:"credits,omitzero"`
	Modality    Nullable[ModuleModality] `json:"modality,omitzero"`
	Level       Nullable[ModuleLevel]    `json:"level,omitzero"`
	IsActive    *bool                    `json:"is_active,omitempty"`
	IsRequired  *bool                    `json:"is_required,omitempty"`
}

// Validate checks the fields that are set, without sending anything.
func (p *ModuleUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update module: nil params")
	}
	v := check{op: "update module"}
	checkModuleFields(&v, p.Name, p.Code.value, p.Workload.ptr(), p.Credits.ptr(), p.Modality.value, p.Level.value)
	return v.err()
}

// Get returns one module. The route is inferred from the API's conventions.
//
// API: GET /modules/{uuid}
func (s *ModulesService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Module, error) {
	return getByUUID[Module](ctx, s.c, "module", "modules", uuid, opts...)
}

// Create creates a module of an institution. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown look
// it up with FindByCode.
//
// API: POST /modules
func (s *ModulesService) Create(ctx context.Context, p *ModuleCreateParams, opts ...RequestOption) (*Module, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	m, err := createIn[Module](ctx, s.c, "module", "/modules", p, opts...)
	if err != nil {
		return nil, errorf("create module %q: %w", p.Name, err)
	}
	return m, nil
}

// Update changes the fields set in p.
//
// API: PATCH /modules/{uuid}
func (s *ModulesService) Update(ctx context.Context, uuid string, p *ModuleUpdateParams, opts ...RequestOption) (*Module, error) {
	if err := checkUUID("module uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Module](ctx, s.c, "module", "modules", uuid, p, opts...)
}

// Delete soft-deletes a module. The server refuses while it is attached to a course. The route
// is inferred.
//
// API: DELETE /modules/{uuid}
func (s *ModulesService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "module", "modules", uuid, opts...)
}

// DestroyBatch soft-deletes any number of modules, in chunks of MaxBatchIDs. A failed chunk is
// reported in a *ChunkError; the others still ran. The route is inferred.
//
// API: DELETE /modules/batch/destroy
func (s *ModulesService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "modules", uuids, opts...)
}

// List returns one page of modules, e.g. Where: {"institution_uuid": ..., "level": "graduate"}.
//
// API: GET /modules
func (s *ModulesService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Module], error) {
	return listPage[Module](ctx, s.c, "/modules", list, opts...)
}

// All iterates over every module matching list, fetching pages as needed.
//
// API: GET /modules
func (s *ModulesService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Module, error] {
	return listAll[Module](ctx, s.c, "/modules", list, opts...)
}

// FindByCode returns the institution's module with this code, the documented
// search-before-create lookup. When there is none the error matches ErrNotFound.
//
// API: GET /modules
func (s *ModulesService) FindByCode(ctx context.Context, institutionUUID, code string, opts ...RequestOption) (*Module, error) {
	if err := checkUUID("institution uuid", institutionUUID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(code) == "" {
		return nil, errors.New("dokstamp: find module: empty code")
	}
	return findOne(ctx, s.c, "/modules", "module",
		map[string]string{"code": code, "institution_uuid": institutionUUID},
		func(m *Module) bool {
			return m.Code == code && (m.Institution.UUID == "" || strings.EqualFold(m.Institution.UUID, institutionUUID))
		}, opts...)
}

// FindOrCreate returns the module of p.InstitutionUUID with code p.Code (unique per institution,
// the natural key), creating it from p when there is none; p.Code is required. The bool is true
// when this call created it (after a lost answer: when the record was missing before the create and
// is there after it, the best the API can tell). A lost answer to the create, or a 422 on code
// (another writer created it meanwhile), is settled by looking up again. A module found is returned
// as the server holds it; p's other fields are not compared nor applied.
//
// API: GET /modules
// API: POST /modules
func (s *ModulesService) FindOrCreate(ctx context.Context, p *ModuleCreateParams, opts ...RequestOption) (*Module, bool, error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	if strings.TrimSpace(p.Code) == "" {
		return nil, false, errors.New("dokstamp: find or create module: code is required, it is the key the module is found by")
	}
	return findOrCreate(ctx, fmt.Sprintf("find or create module %q", p.Code), []string{"code"},
		func(ctx context.Context) (*Module, error) {
			return s.FindByCode(ctx, p.InstitutionUUID, p.Code, opts...)
		},
		func(ctx context.Context) (*Module, error) { return s.Create(ctx, p, opts...) })
}
