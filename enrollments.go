package dokstamp

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"math"
	"time"
)

// EnrollmentsService manages enrollments: a student's registration on a course (and optionally
// a cohort). Enrollments are optional for issuing; passing EnrollmentUUID on a certificate links
// the two.
type EnrollmentsService service

// CompletionStatus is where a student stands on an enrolled course.
type CompletionStatus string

// The completion states; new enrollments are enrolled.
const (
	CompletionEnrolled  CompletionStatus = "enrolled"
	CompletionCompleted CompletionStatus = "completed"
	CompletionDropped   CompletionStatus = "dropped"
)

var completionStatuses = []CompletionStatus{CompletionEnrolled, CompletionCompleted, CompletionDropped}

// Enrollment links a student to a course.
type Enrollment struct {
	UUID             string           `json:"uuid"`
	CompletionStatus CompletionStatus `json:"completion_status"`
	// Grade is 0 to 10 with two decimals; nil when not graded.
	Grade       *float64   `json:"grade"`
	EnrolledAt  time.Time  `json:"enrolled_at,omitzero"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Student     Ref        `json:"student"`
	Course      Ref        `json:"course"`
	Cohort      *Ref       `json:"cohort,omitempty"` // {uuid, code}
	CreatedAt   time.Time  `json:"created_at,omitzero"`
	UpdatedAt   time.Time  `json:"updated_at,omitzero"`
}

// UnmarshalJSON accepts the dates as RFC 3339 timestamps, "YYYY-MM-DD HH:MM:SS" or bare dates
// (the docs show both), and the grade as a number or a decimal string.
func (e *Enrollment) UnmarshalJSON(b []byte) error {
	type plain Enrollment
	aux := struct {
		*plain
		Grade       flexFloat `json:"grade"`
		EnrolledAt  flexTime  `json:"enrolled_at"`
		CompletedAt flexTime  `json:"completed_at"`
	}{plain: (*plain)(e)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	e.Grade, e.EnrolledAt = aux.Grade.v, aux.EnrolledAt.t
	e.CompletedAt = nil
	if !aux.CompletedAt.t.IsZero() {
		t := aux.CompletedAt.t
		e.CompletedAt = &t
	}
	return nil
}

// EnrollmentCreateParams is the body of POST /enrollments. StudentUUID, CourseUUID and
// EnrolledAt ("YYYY-MM-DD") are required.
type EnrollmentCreateParams struct {
	StudentUUID      string           `json:"student_uuid"`
	CourseUUID       string           `json:"course_uuid"`
	EnrolledAt       string           `json:"enrolled_at"` // YYYY-MM-DD
	CohortUUID       string           `json:"cohort_uuid,omitempty"`
	CompletionStatus CompletionStatus `json:"completion_status,omitempty"` // default enrolled
	Grade            *float64         `json:"grade,omitempty"`             // 0 to 10
	CompletedAt      string           `json:"completed_at,omitempty"`      // YYYY-MM-DD
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *EnrollmentCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create enrollment: nil params")
	}
	v := check{op: "create enrollment"}
	v.uuids("student_uuid", p.StudentUUID, "course_uuid", p.CourseUUID)
	v.date("enrolled_at", p.EnrolledAt, true)
	checkEnrollmentFields(&v, p.CohortUUID, p.CompletionStatus, p.Grade, p.CompletedAt)
	return v.err()
}

func checkEnrollmentFields(v *check, cohort string, status CompletionStatus, grade *float64, completedAt string) {
	v.optionalUUID("cohort_uuid", cohort)
	enum(v, "completion_status", status, completionStatuses...)
	if grade != nil && (math.IsNaN(*grade) || *grade < 0 || *grade > 10) {
		v.add("grade %v is not between 0 and 10", *grade)
	}
	v.date("completed_at", completedAt, false)
}

// EnrollmentUpdateParams is a partial update: only the fields set are sent, for example
// CompletionStatus: CompletionCompleted with Grade and CompletedAt.
type EnrollmentUpdateParams struct {
	CohortUUID       Nullable[string]  `json:"cohort_uuid,omitzero"`
	CompletionStatus CompletionStatus  `json:"completion_status,omitempty"`
	Grade            Nullable[float64] `json:"grade,omitzero"`
	EnrolledAt       string            `json:"enrolled_at,omitempty"` // YYYY-MM-DD
	CompletedAt      Nullable[string]  `json:"completed_at,omitzero"` // YYYY-MM-DD
}

// Validate checks the fields that are set, without sending anything.
func (p *EnrollmentUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update enrollment: nil params")
	}
	v := check{op: "update enrollment"}
	v.date("enrolled_at", p.EnrolledAt, false)
	checkEnrollmentFields(&v, p.CohortUUID.value, p.CompletionStatus, p.Grade.ptr(), p.CompletedAt.value)
	return v.err()
}

// Get returns one enrollment. The route is inferred from the docs' "Get, update, delete" heading.
//
// API: GET /enrollments/{uuid}
func (s *EnrollmentsService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Enrollment, error) {
	return getByUUID[Enrollment](ctx, s.c, "enrollment", "enrollments", uuid, opts...)
}

// Create enrolls a student on a course. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown list the
// student's enrollments (Where: {"student_uuid": ..., "course_uuid": ...}).
//
// API: POST /enrollments
func (s *EnrollmentsService) Create(ctx context.Context, p *EnrollmentCreateParams, opts ...RequestOption) (*Enrollment, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e, err := createIn[Enrollment](ctx, s.c, "enrollment", "/enrollments", p, opts...)
	if err != nil {
		return nil, errorf("enroll student %s on course %s: %w", p.StudentUUID, p.CourseUUID, err)
	}
	return e, nil
}

// Update changes the fields set in p. The route is inferred from the docs' headings.
//
// API: PATCH /enrollments/{uuid}
func (s *EnrollmentsService) Update(ctx context.Context, uuid string, p *EnrollmentUpdateParams, opts ...RequestOption) (*Enrollment, error) {
	if err := checkUUID("enrollment uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Enrollment](ctx, s.c, "enrollment", "enrollments", uuid, p, opts...)
}

// Delete soft-deletes an enrollment. The route is inferred from the docs' headings.
//
// API: DELETE /enrollments/{uuid}
func (s *EnrollmentsService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "enrollment", "enrollments", uuid, opts...)
}

// DestroyBatch soft-deletes any number of enrollments, in chunks of MaxBatchIDs. A failed chunk
// is reported in a *ChunkError; the others still ran. The route is inferred.
//
// API: DELETE /enrollments/batch/destroy
func (s *EnrollmentsService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "enrollments", uuids, opts...)
}

// List returns one page of enrollments, e.g. Where: {"completion_status": "completed",
// "course_uuid": ...}.
//
// API: GET /enrollments
func (s *EnrollmentsService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Enrollment], error) {
	return listPage[Enrollment](ctx, s.c, "/enrollments", list, opts...)
}

// All iterates over every enrollment matching list, fetching pages as needed.
//
// API: GET /enrollments
func (s *EnrollmentsService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Enrollment, error] {
	return listAll[Enrollment](ctx, s.c, "/enrollments", list, opts...)
}
