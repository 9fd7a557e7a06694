// Command sync-enrollments finds the students who completed a course but have
// no certificate for it yet: the check a registrar's nightly sync runs before
// issuing the missing diplomas.
//
//	go run ./examples/sync-enrollments                   # on the embedded server
//	go run ./examples/sync-enrollments -course <uuid>    # real API
//
// It asks c.Certificates.Reconcile, which pages through the course's completed
// enrollments (GET /enrollments?where[completion_status]=completed&where[course_uuid]=…)
// and the course's certificates (GET /certificates?where[course_uuid]=…) at
// once and joins them in memory: one request per page instead of one look-up
// per student. A revoked certificate does not count: its student needs a new
// one.
//
// On the embedded server it first issues certificates to some of the seeded
// graduates (and revokes one), and enrols a student who has not completed
// the course, so that the output shows every kind.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/dokstamp/dokstamp-go/examples/internal/exampleenv"
	"github.com/dokstamp/dokstamp-go/examples/internal/samplepdf"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sync-enrollments:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sync-enrollments", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	course := fs.String("course", "", "course uuid (real API; or DOKSTAMP_COURSE_UUID)")
	perPage := fs.Int("per-page", 100, "items per page of each listing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil
		}
		return fmt.Errorf("%w (see -h)", err)
	}
	if *perPage < 1 {
		return errors.New("-per-page must be at least 1")
	}

	env, err := exampleenv.Start(stdout, "sync-enrollments", dokstamptest.WithSeed(7), dokstamptest.WithStudents(8))
	if err != nil {
		return err
	}
	defer env.Close()
	c := env.Client
	var seeded string
	if env.Embedded() {
		seeded = env.Fake.CourseUUID
		if err := seed(ctx, c, env.Fake); err != nil {
			return fmt.Errorf("prepare the embedded server: %w", err)
		}
	}
	courseUUID, err := env.Pick("course", *course, "DOKSTAMP_COURSE_UUID", seeded)
	if err != nil {
		return err
	}
	crs, err := c.Courses.Get(ctx, courseUUID)
	if err != nil {
		return fmt.Errorf("course %s: %w", courseUUID, err)
	}
	fmt.Fprintf(stdout, "Course: %s (%s)\n", crs.Name, crs.UUID)

	// Two paged listings, fetched together and joined in memory: about one request per page of
	// each, never one per student.
	r, err := c.Certificates.Reconcile(ctx, dokstamp.ReconcileQuery{CourseUUID: courseUUID, PerPage: *perPage})
	if err != nil {
		return err
	}
	valid := r.Statuses[dokstamp.StatusIssued] + r.Statuses[dokstamp.StatusDraft]
	fmt.Fprintf(stdout, "Certificates on the course: %d valid, %d revoked\n", valid, r.Statuses[dokstamp.StatusRevoked])
	fmt.Fprintf(stdout, "Completed enrollments: %d (%d with a certificate, %d without)\n", r.Enrollments, len(r.Certified), len(r.Missing))

	fmt.Fprintf(stdout, "\nWith a certificate (%d):\n", len(r.Certified))
	for _, e := range r.Certified {
		cert := e.Certificates[0]
		fmt.Fprintf(stdout, "  %-20s %s  certificate %s (%s)\n", e.Student.Name, e.Student.UUID, cert.UUID, cert.Status)
	}
	fmt.Fprintf(stdout, "\nWithout a certificate (%d), to issue:\n", len(r.Missing))
	for _, e := range r.Missing {
		completed := "-"
		if e.Enrollment.CompletedAt != nil {
			completed = e.Enrollment.CompletedAt.Format("2006-01-02")
		}
		note := ""
		for _, cert := range e.Certificates {
			if cert.Status == dokstamp.StatusRevoked {
				note = "  (its certificate was revoked)"
			}
		}
		fmt.Fprintf(stdout, "  %-20s %s  enrollment %s  completed %s%s\n", e.Student.Name, e.Student.UUID, e.Enrollment.UUID, completed, note)
	}
	for _, list := range []struct {
		what    string
		entries []dokstamp.ReconcileEntry
	}{
		{"With more than one valid certificate", r.Duplicates},
		{"Drafts never issued", r.Drafts},
	} {
		if len(list.entries) == 0 {
			continue
		}
		fmt.Fprintf(stdout, "\n%s (%d):\n", list.what, len(list.entries))
		for _, e := range list.entries {
			fmt.Fprintf(stdout, "  %-20s %s  %d certificate(s)\n", e.Student.Name, e.Student.UUID, len(e.Certificates))
		}
	}
	return nil
}

// seed makes the embedded server's data show every case: certificates for
// three of the graduates (one of them then revoked), and a student enrolled
// who has not completed the course (which the completed-enrollments filter
// leaves out).
func seed(ctx context.Context, c *dokstamp.Client, srv *dokstamptest.Server) error {
	issueTo := []string{srv.StudentUUIDs[0], srv.StudentUUIDs[2], srv.StudentUUIDs[5]}
	uploads := make([]dokstamp.Upload, len(issueTo))
	for i, st := range issueTo {
		uploads[i] = dokstamp.UploadBytes(fmt.Sprintf("diploma-%d.pdf", i+1),
			samplepdf.New("Acme University", "Diploma of student "+st))
	}
	files, err := c.Files.Upload(ctx, uploads...)
	if err != nil {
		return err
	}
	items := make([]dokstamp.CertificateCreateParams, len(issueTo))
	for i, st := range issueTo {
		items[i] = dokstamp.CertificateCreateParams{
			InstitutionUUID: srv.InstitutionUUID, CourseUUID: srv.CourseUUID,
			StudentUUID: st, FileUUID: files[i].UUID, Status: dokstamp.StatusIssued,
		}
	}
	rep, err := c.Batch.IssueCertificates(ctx, items, nil)
	if err != nil {
		return err
	}
	if err := rep.Err(); err != nil {
		return err
	}
	if _, err := c.Certificates.Revoke(ctx, rep.Results[2].Certificate.UUID, "Issued to the wrong course"); err != nil {
		return err
	}

	st, err := c.Students.Create(ctx, &dokstamp.StudentCreateParams{Name: "Still Studying", Email: "still.studying@acme.example", DateOfBirth: "2003-05-04"})
	if err != nil {
		return err
	}
	_, err = c.Enrollments.Create(ctx, &dokstamp.EnrollmentCreateParams{
		StudentUUID: st.UUID, CourseUUID: srv.CourseUUID, EnrolledAt: "2024-09-16", CompletionStatus: dokstamp.CompletionEnrolled,
	})
	return err
}
