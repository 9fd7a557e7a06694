package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
)

// DefaultReconcilePerPage is the page size Reconcile asks for when ReconcileQuery.PerPage is 0.
const DefaultReconcilePerPage = 100

// ReconcileQuery says what Reconcile compares: the completed enrollments and the certificates of
// one course, optionally narrowed to one cohort.
type ReconcileQuery struct {
	// CourseUUID is the course to check (required).
	CourseUUID string
	// CohortUUID, when set, narrows both listings to that cohort (where[cohort_uuid]): a
	// certificate issued without a cohort is then not seen.
	CohortUUID string
	// PerPage is the page size of both listings; 0 means DefaultReconcilePerPage.
	PerPage int
}

// ReconcileEntry is one finding: a student and the certificates (and, for a missing
// certificate, the enrollment) behind it.
type ReconcileEntry struct {
	// Student is the student concerned (uuid and name as the listing gave them).
	Student Ref `json:"student"`
	// Enrollment is the completed enrollment, on a Missing or Certified entry; nil otherwise.
	Enrollment *Enrollment `json:"enrollment,omitempty"`
	// Certificates are the student's certificates that make the finding, in listing order: the
	// active ones of a duplicate or a certified entry, the revoked ones of an unreplaced revocation, the drafts of a
	// draft entry; on a Missing entry the student's certificates that do not count (revoked or
	// expired), if any.
	Certificates []Certificate `json:"certificates"`
}

// Reconciliation is what Reconcile found. A student can appear in more than one list: a
// graduate whose only certificate was revoked is both Missing and RevokedNotReplaced.
type Reconciliation struct {
	CourseUUID string `json:"course_uuid"`
	CohortUUID string `json:"cohort_uuid,omitempty"`
	// Enrollments and Certificates count what the listings returned: completed enrollments, and
	// certificates of any status.
	Enrollments  int `json:"enrollments"`
	Certificates int `json:"certificates"`
	// Statuses counts the certificates by status.
	Statuses map[CertificateStatus]int `json:"statuses"`
	// Certified: completed enrollments whose student has an active certificate (the good case,
	// for reports), with those certificates.
	Certified []ReconcileEntry `json:"certified"`
	// Missing: completed enrollments whose student has no active (draft or issued) certificate.
	Missing []ReconcileEntry `json:"missing"`
	// Duplicates: students with more than one active (draft or issued) certificate.
	Duplicates []ReconcileEntry `json:"duplicates"`
	// RevokedNotReplaced: students with a revoked certificate and no active one.
	RevokedNotReplaced []ReconcileEntry `json:"revoked_not_replaced"`
	// Drafts: students with a certificate still in draft, never issued.
	Drafts []ReconcileEntry `json:"drafts"`
}

// Clean reports whether nothing needs attention.
func (r *Reconciliation) Clean() bool {
	return len(r.Missing)+len(r.Duplicates)+len(r.RevokedNotReplaced)+len(r.Drafts) == 0
}

// Reconcile compares a course's completed enrollments with its certificates and reports the
// completed enrollments without an active certificate, the students with more than one, the
// revocations never replaced and the drafts never issued. It reads two paged listings,
//
//	GET /enrollments?where[course_uuid]=…&where[completion_status]=completed
//	GET /certificates?where[course_uuid]=…
//
// (plus where[cohort_uuid] when q.CohortUUID is set), fetched concurrently and joined in memory:
// about E/PerPage + C/PerPage requests for E enrollments and C certificates, never one per
// student. It writes nothing; opts apply to every request of both listings. Items naming
// another course (a server that ignored a filter) are left out rather than misreported.
//
// API: GET /enrollments
// API: GET /certificates
func (s *CertificatesService) Reconcile(ctx context.Context, q ReconcileQuery, opts ...RequestOption) (*Reconciliation, error) {
	if ctx == nil {
		return nil, errors.New("dokstamp: reconcile: nil context")
	}
	if err := requireUUIDs("reconcile", "course_uuid", q.CourseUUID); err != nil {
		return nil, err
	}
	if err := optionalUUIDs("reconcile", "cohort_uuid", q.CohortUUID); err != nil {
		return nil, err
	}
	if q.PerPage < 0 {
		return nil, fmt.Errorf("dokstamp: reconcile: per_page %d is negative (0 means %d)", q.PerPage, DefaultReconcilePerPage)
	}
	perPage := q.PerPage
	if perPage == 0 {
		perPage = DefaultReconcilePerPage
	}
	where := func(extra ...string) map[string]string {
		m := map[string]string{"course_uuid": q.CourseUUID}
		if q.CohortUUID != "" {
			m["cohort_uuid"] = q.CohortUUID
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}

	var enrollments []Enrollment
	var certs []Certificate
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		lo := &ListOptions{PerPage: perPage, Where: where("completion_status", string(CompletionCompleted))}
		for en, err := range s.c.Enrollments.All(gctx, lo, opts...) {
			if err != nil {
				return errorf("reconcile: list the course's completed enrollments: %w", err)
			}
			if en.CompletionStatus != CompletionCompleted || !sameRef(en.Course.UUID, q.CourseUUID) ||
				(q.CohortUUID != "" && (en.Cohort == nil || !sameRef(en.Cohort.UUID, q.CohortUUID))) {
				continue
			}
			enrollments = append(enrollments, en)
		}
		return nil
	})
	g.Go(func() error {
		lo := &ListOptions{PerPage: perPage, Where: where()}
		for cert, err := range s.c.Certificates.All(gctx, lo, opts...) {
			if err != nil {
				return errorf("reconcile: list the course's certificates: %w", err)
			}
			if !sameRef(cert.Course.UUID, q.CourseUUID) ||
				(q.CohortUUID != "" && (cert.Cohort == nil || !sameRef(cert.Cohort.UUID, q.CohortUUID))) {
				continue
			}
			certs = append(certs, cert)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return reconcile(q, enrollments, certs), nil
}

// sameRef compares a listed reference with the one asked for; an absent reference (a server
// that does not embed it) is taken as matching, since the filter asked for it.
func sameRef(got, want string) bool { return got == "" || strings.EqualFold(got, want) }

// reconcile joins the two listings in memory.
func reconcile(q ReconcileQuery, enrollments []Enrollment, certs []Certificate) *Reconciliation {
	r := &Reconciliation{CourseUUID: q.CourseUUID, CohortUUID: q.CohortUUID,
		Enrollments: len(enrollments), Certificates: len(certs), Statuses: map[CertificateStatus]int{},
		Missing: []ReconcileEntry{}, Duplicates: []ReconcileEntry{}, RevokedNotReplaced: []ReconcileEntry{},
		Drafts: []ReconcileEntry{}, Certified: []ReconcileEntry{}}

	type student struct {
		ref                     Ref
		active, revoked, drafts []Certificate
		other                   []Certificate // revoked or expired: do not count as the credential
	}
	byStudent := map[string]*student{}
	var order []string // students in the order of the certificate listing
	for _, cert := range certs {
		r.Statuses[cert.Status]++
		id := cert.Student.UUID
		st := byStudent[id]
		if st == nil {
			st = &student{ref: cert.Student}
			byStudent[id] = st
			order = append(order, id)
		}
		switch {
		case isActive(cert.Status):
			st.active = append(st.active, cert)
			if cert.Status == StatusDraft {
				st.drafts = append(st.drafts, cert)
			}
		default:
			st.other = append(st.other, cert)
			if cert.Status == StatusRevoked {
				st.revoked = append(st.revoked, cert)
			}
		}
	}

	seen := map[string]bool{}
	for i := range enrollments {
		en := &enrollments[i]
		id := en.Student.UUID
		if seen[id] {
			continue // a second completed enrollment of the same student on the course
		}
		seen[id] = true
		st := byStudent[id]
		if st != nil && len(st.active) > 0 {
			r.Certified = append(r.Certified, ReconcileEntry{Student: en.Student, Enrollment: en, Certificates: st.active})
			continue
		}
		e := ReconcileEntry{Student: en.Student, Enrollment: en}
		if st != nil {
			e.Certificates = st.other
			if e.Student.Name == "" {
				e.Student.Name = st.ref.Name
			}
		}
		r.Missing = append(r.Missing, e)
	}
	for _, id := range order {
		st := byStudent[id]
		if len(st.active) > 1 {
			r.Duplicates = append(r.Duplicates, ReconcileEntry{Student: st.ref, Certificates: st.active})
		}
		if len(st.revoked) > 0 && len(st.active) == 0 {
			r.RevokedNotReplaced = append(r.RevokedNotReplaced, ReconcileEntry{Student: st.ref, Certificates: st.revoked})
		}
		if len(st.drafts) > 0 {
			r.Drafts = append(r.Drafts, ReconcileEntry{Student: st.ref, Certificates: st.drafts})
		}
	}
	return r
}
