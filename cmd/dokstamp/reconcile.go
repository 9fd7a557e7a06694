package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

// reconcileRow is one finding of `dokstamp reconcile`, as printed.
type reconcileRow struct {
	Category     string                 `json:"category"`
	Student      dokstamp.Ref           `json:"student"`
	Enrollment   *dokstamp.Enrollment   `json:"enrollment,omitempty"`
	Certificates []dokstamp.Certificate `json:"certificates"`
}

func newReconcileCmd(a *app) *cobra.Command {
	var course, cohort string
	var perPage int
	var failOnFindings bool
	cmd := &cobra.Command{
		Use:   "reconcile --course CODE|UUID [--cohort CODE|UUID]",
		Short: "Find the graduates without a certificate, duplicates, unreplaced revocations and drafts",
		Long: `Compare a course's completed enrollments with its certificates and list what needs attention:

  missing      a completed enrollment whose student has no active (draft or issued) certificate
  duplicate    a student with more than one active certificate on the course
  revoked      a student whose certificate was revoked and never replaced
  draft        a certificate still in draft, never issued

A student can be in more than one category (a graduate whose only certificate was revoked is
missing and revoked). It reads two paged listings at once, about one request per 100 items,
and writes nothing. With -o json the whole result, with every certificate, is printed.`,
		Example: `  dokstamp reconcile --course CS
  dokstamp reconcile --course CS --cohort 2026-A -o csv > todo.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag(cmd, "course", course); err != nil {
				return err
			}
			c, err := a.Client()
			if err != nil {
				return err
			}
			crs, err := resolveCourse(a.ctx, c, course)
			if err != nil {
				return err
			}
			cohortUUID, err := resolveCohort(a.ctx, c, cohort)
			if err != nil {
				return withExit(exitUsage, fmt.Errorf("--cohort: %w", err))
			}
			r, err := c.Certificates.Reconcile(a.ctx, dokstamp.ReconcileQuery{CourseUUID: crs.UUID, CohortUUID: cohortUUID, PerPage: perPage})
			if err != nil {
				return err
			}
			if err := printReconcile(a, crs, r); err != nil {
				return err
			}
			if failOnFindings && !r.Clean() {
				return &quietError{code: exitSomeFailed}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&course, "course", "", "the course: its code or uuid (required)")
	fl.StringVar(&cohort, "cohort", "", "only this cohort (code or uuid)")
	fl.IntVar(&perPage, "per-page", dokstamp.DefaultReconcilePerPage, "page size of the listings")
	fl.BoolVar(&failOnFindings, "exit-status", false, "exit 3 when anything needs attention")
	return cmd
}

func printReconcile(a *app, crs *dokstamp.Course, r *dokstamp.Reconciliation) error {
	if a.output == "json" {
		return a.printTo(a.io.out, &listing{values: []any{r}}, true)
	}
	l := &listing{headers: []string{"CATEGORY", "STUDENT", "NAME", "CERTIFICATES", "DETAIL"}}
	if !a.table() {
		l.headers = []string{"category", "student_uuid", "student_name", "certificates", "detail"}
	}
	add := func(cat string, entries []dokstamp.ReconcileEntry, detail func(dokstamp.ReconcileEntry) string) {
		for _, e := range entries {
			var ids []string
			for _, c := range e.Certificates {
				ids = append(ids, c.UUID)
			}
			l.add(reconcileRow{Category: cat, Student: e.Student, Enrollment: e.Enrollment, Certificates: e.Certificates},
				cat, e.Student.UUID, e.Student.Name, strings.Join(ids, " "), detail(e))
		}
	}
	add("missing", r.Missing, func(e dokstamp.ReconcileEntry) string {
		d := "enrollment " + e.Enrollment.UUID
		if e.Enrollment.CompletedAt != nil {
			d += ", completed " + day(*e.Enrollment.CompletedAt)
		}
		if len(e.Certificates) > 0 {
			d += ", only a " + string(e.Certificates[0].Status) + " certificate"
		}
		return d
	})
	add("duplicate", r.Duplicates, func(e dokstamp.ReconcileEntry) string {
		return fmt.Sprintf("%d active certificates", len(e.Certificates))
	})
	add("revoked", r.RevokedNotReplaced, func(e dokstamp.ReconcileEntry) string {
		c := e.Certificates[len(e.Certificates)-1]
		d := "revoked"
		if c.RevokedAt != nil {
			d += " " + day(*c.RevokedAt)
		}
		if c.RevocationReason != "" {
			d += ": " + c.RevocationReason
		}
		return d + ", not replaced"
	})
	add("draft", r.Drafts, func(e dokstamp.ReconcileEntry) string { return "never issued" })
	if a.table() {
		fmt.Fprintf(a.io.err, "Course %s (%s): %d completed enrollments, %d certificates (%d certified).\n",
			crs.Name, crs.UUID, r.Enrollments, r.Certificates, len(r.Certified))
		if r.Clean() {
			fmt.Fprintln(a.io.out, "Nothing to do: every completed enrollment has exactly one certificate, no drafts, no unreplaced revocations.")
			return nil
		}
	}
	if err := a.print(l, false); err != nil {
		return err
	}
	if a.table() {
		fmt.Fprintf(a.io.out, "%d missing, %d duplicate, %d revoked not replaced, %d draft.\n",
			len(r.Missing), len(r.Duplicates), len(r.RevokedNotReplaced), len(r.Drafts))
	}
	return nil
}
