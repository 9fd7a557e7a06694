package dokstamp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// CohortsService manages cohorts: the intakes or graduating classes of a course.
type CohortsService service

// CohortModality is how a cohort is taught. It is not the same enumeration as ModuleModality.
type CohortModality string

// The cohort modalities.
const (
	CohortPresential CohortModality = "presential"
	CohortRemote     CohortModality = "remote"
	CohortHybrid     CohortModality = "hybrid"
)

var cohortModalities = []CohortModality{CohortPresential, CohortRemote, CohortHybrid}

// Cohort is an intake or graduating class of a course.
type Cohort struct {
	UUID     string         `json:"uuid"`
	Code     string         `json:"code"` // unique
	Modality CohortModality `json:"modality,omitempty"`
	// StartDate and EndDate (the expected graduation) are zero when not set.
	StartDate time.Time `json:"start_date,omitzero"`
	EndDate   time.Time `json:"end_date,omitzero"`
	Course    Ref       `json:"course"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// UnmarshalJSON accepts the cohort dates as RFC 3339 timestamps, "YYYY-MM-DD HH:MM:SS" or bare
// dates, since the docs show more than one form.
func (c *Cohort) UnmarshalJSON(b []byte) error {
	type plain Cohort
	aux := struct {
		*plain
		StartDate flexTime `json:"start_date"`
		EndDate   flexTime `json:"end_date"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	c.StartDate, c.EndDate = aux.StartDate.t, aux.EndDate.t
	return nil
}

// CohortCreateParams is the body of POST /cohorts. CourseUUID and Code are required.
type CohortCreateParams struct {
	CourseUUID string         `json:"course_uuid"`
	Code       string         `json:"code"`
	Modality   CohortModality `json:"modality,omitempty"`
	StartDate  *time.Time     `json:"start_date,omitempty"`
	EndDate    *time.Time     `json:"end_date,omitempty"`
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *CohortCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create cohort: nil params")
	}
	v := check{op: "create cohort"}
	v.uuids("course_uuid", p.CourseUUID)
	v.text("code", p.Code)
	enum(&v, "modality", p.Modality, cohortModalities...)
	if p.StartDate != nil && p.EndDate != nil && p.EndDate.Before(*p.StartDate) {
		v.add("end_date is before start_date")
	}
	return v.err()
}

// CohortUpdateParams is a partial update: only the fields set are sent.
type CohortUpdateParams struct {
	Code      string                   `json:"code,omitempty"`
	Modality  Nullable[CohortModality] `json:"modality,omitzero"`
	StartDate Nullable[time.Time]      `json:"start_date,omitzero"`
	EndDate   Nullable[time.Time]      `json:"end_date,omitzero"`
}

// Validate checks the fields that are set, without sending anything.
func (p *CohortUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update cohort: nil params")
	}
	v := check{op: "update cohort"}
	enum(&v, "modality", p.Modality.value, cohortModalities...)
	start, end := p.StartDate.ptr(), p.EndDate.ptr()
	if start != nil && end != nil && end.Before(*start) {
		v.add("end_date is before start_date")
	}
	return v.err()
}

// Get returns one cohort.
//
// API: GET /cohorts/{uuid}
func (s *CohortsService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Cohort, error) {
	return getByUUID[Cohort](ctx, s.c, "cohort", "cohorts", uuid, opts...)
}

// Create creates a cohort of a course. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown look it up
// with FindByCode.
//
// API: POST /cohorts
func (s *CohortsService) Create(ctx context.Context, p *CohortCreateParams, opts ...RequestOption) (*Cohort, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c, err := createIn[Cohort](ctx, s.c, "cohort", "/cohorts", p, opts...)
	if err != nil {
		return nil, errorf("create cohort %q: %w", p.Code, err)
	}
	return c, nil
}

// Update changes the fields set in p.
//
// API: PATCH /cohorts/{uuid}
func (s *CohortsService) Update(ctx context.Context, uuid string, p *CohortUpdateParams, opts ...RequestOption) (*Cohort, error) {
	if err := checkUUID("cohort uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Cohort](ctx, s.c, "cohort", "cohorts", uuid, p, opts...)
}

// Delete soft-deletes a cohort. The server refuses while an enrollment or certificate
// references it.
//
// API: DELETE /cohorts/{uuid}
func (s *CohortsService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "cohort", "cohorts", uuid, opts...)
}

// DestroyBatch soft-deletes any number of cohorts, in chunks of MaxBatchIDs. A failed chunk is
// reported in a *ChunkError; the others still ran.
//
// API: DELETE /cohorts/batch/destroy
func (s *CohortsService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "cohorts", uuids, opts...)
}

// List returns one page of cohorts, e.g. Where: {"course_uuid": ...}.
//
// API: GET /cohorts
func (s *CohortsService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Cohort], error) {
	return listPage[Cohort](ctx, s.c, "/cohorts", list, opts...)
}

// All iterates over every cohort matching list, fetching pages as needed.
//
// API: GET /cohorts
func (s *CohortsService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Cohort, error] {
	return listAll[Cohort](ctx, s.c, "/cohorts", list, opts...)
}

// FindByCode returns the cohort with this code, the documented search-before-create lookup.
// When there is none the error matches ErrNotFound.
//
// API: GET /cohorts
func (s *CohortsService) FindByCode(ctx context.Context, code string, opts ...RequestOption) (*Cohort, error) {
	if strings.TrimSpace(code) == "" {
		return nil, errors.New("dokstamp: find cohort: empty code")
	}
	return findOne(ctx, s.c, "/cohorts", "cohort", map[string]string{"code": code},
		func(c *Cohort) bool { return c.Code == code }, opts...)
}

// FindOrCreate returns the cohort with code p.Code (unique, the natural key), creating it from p
// when there is none. The bool is true when this call created it (after a lost answer: when the
// record was missing before the create and is there after it, the best the API can tell). A lost
// answer to the create, or a 422 on code (another writer created it meanwhile), is settled by
// looking up again. A cohort found on another course than p.CourseUUID is an error, not a match. A
// cohort found is returned as the server holds it; p's other fields are not compared nor applied.
//
// API: GET /cohorts
// API: POST /cohorts
func (s *CohortsService) FindOrCreate(ctx context.Context, p *CohortCreateParams, opts ...RequestOption) (*Cohort, bool, error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	find := func(ctx context.Context) (*Cohort, error) {
		c, err := s.FindByCode(ctx, p.Code, opts...)
		if err == nil && c.Course.UUID != "" && !strings.EqualFold(c.Course.UUID, p.CourseUUID) {
			return nil, errorf("cohort %q belongs to course %s, not %s", p.Code, c.Course.UUID, p.CourseUUID)
		}
		return c, err
	}
	return findOrCreate(ctx, fmt.Sprintf("find or create cohort %q", p.Code), []string{"code"}, find,
		func(ctx context.Context) (*Cohort, error) { return s.Create(ctx, p, opts...) })
}
