// Command bulk-issue issues the diplomas of a cohort of graduates from a CSV
// manifest, the bulk-operations guide end to end: it resolves the students,
// uploads their PDFs in chunks, issues the certificates concurrently with a
// resumable journal, and writes a CSV report.
//
//	go run ./examples/bulk-issue                 # the sample cohort of 40, on the embedded server
//	go run ./examples/bulk-issue -manifest grads.csv -institution <uuid> -course <uuid>
//
// The manifest has a header line and the columns student (a student uuid or
// e-mail address), name (used to create the student on the embedded server)
// and pdf (the diploma's path, relative to the manifest). Without -manifest
// the sample cohort is written to <out>/sample, with its PDFs.
//
// It prints the plan first (no write): who will be issued, who already holds
// a certificate on the course, who is blocked and why. Run it again with the
// same -out directory and it finishes what is left: graduates already issued
// (by the journal <out>/journal.jsonl, or found on the server) are skipped,
// and those whose outcome was unknown when the run stopped are looked up
// before anything is sent again, so no graduate ever gets two diplomas. The
// manifest may change between runs (graduates added, removed or reordered, a
// PDF replaced for a graduate not issued yet): the journal is kept per
// graduate, and only what is new is sent.
// The report <out>/report.csv has one line per graduate. The exit status is
// 1 when the manifest is bad or any graduate failed.
//
// With DOKSTAMP_TOKEN (or DOKSTAMP_CLIENT_ID and DOKSTAMP_CLIENT_SECRET) and
// DOKSTAMP_TENANT set it talks to the real API; -institution and -course
// (or DOKSTAMP_INSTITUTION_UUID and DOKSTAMP_COURSE_UUID) are then required,
// and every student must exist.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/dokstamp/dokstamp-go/examples/internal/exampleenv"
)

// embeddedSeed fixes the embedded server's UUIDs, so that the students it
// creates have the same UUIDs on every run and the journal stays valid.
const embeddedSeed = 20250601

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bulk-issue:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bulk-issue", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	manifestPath := fs.String("manifest", "", "CSV manifest with the columns student,name,pdf (default: the sample cohort of 40, written to <out>/sample)")
	out := fs.String("out", "bulk-issue-out", "output directory: journal.jsonl, report.csv (and the sample)")
	concurrency := fs.Int("concurrency", dokstamp.DefaultBatchConcurrency, "certificates requested at once")
	institution := fs.String("institution", "", "institution uuid (real API; or DOKSTAMP_INSTITUTION_UUID)")
	course := fs.String("course", "", "course uuid (real API; or DOKSTAMP_COURSE_UUID)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil
		}
		return fmt.Errorf("%w (see -h)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	if *concurrency < 1 {
		return errors.New("-concurrency must be at least 1")
	}

	env, err := exampleenv.Start(stdout, "bulk-issue", dokstamptest.WithSeed(embeddedSeed), dokstamptest.WithStudents(0))
	if err != nil {
		return err
	}
	defer env.Close()
	var seedInst, seedCourse string
	if env.Embedded() {
		seedInst, seedCourse = env.Fake.InstitutionUUID, env.Fake.CourseUUID
	}
	instUUID, err := env.Pick("institution", *institution, "DOKSTAMP_INSTITUTION_UUID", seedInst)
	if err != nil {
		return err
	}
	courseUUID, err := env.Pick("course", *course, "DOKSTAMP_COURSE_UUID", seedCourse)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if *manifestPath == "" {
		p, err := writeSample(filepath.Join(*out, "sample"))
		if err != nil {
			return fmt.Errorf("write the sample cohort: %w", err)
		}
		*manifestPath = p
	}
	rows, err := readManifest(*manifestPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Manifest: %s (%d graduates)\n", *manifestPath, len(rows))

	c := env.Client
	students, err := resolveStudents(ctx, c, env.Embedded(), rows)
	if err != nil {
		return err
	}
	if env.Embedded() {
		fmt.Fprintf(stdout, "Students: %d found, %d created on the embedded server (it starts empty on every run)\n",
			len(rows)-students.created, students.created)
	} else {
		fmt.Fprintf(stdout, "Students: %d found\n", len(rows))
	}

	journalPath := filepath.Join(*out, "journal.jsonl")
	journal, err := dokstamp.OpenJournal(journalPath)
	if err != nil {
		if errors.Is(err, dokstamp.ErrJournalInUse) {
			return fmt.Errorf("%w\n(another bulk-issue run is using %s: wait for it, or use another -out directory)", err, *out)
		}
		if errors.Is(err, dokstamp.ErrJournalMismatch) {
			return fmt.Errorf("%w\n(finish that run with the version that wrote it, or use another -out directory)", err)
		}
		return err
	}
	defer journal.Close()

	job := dokstamp.IssueJob{
		InstitutionUUID: instUUID,
		CourseUUID:      courseUUID,
		Status:          dokstamp.StatusIssued,
		Graduates:       make([]dokstamp.Graduate, len(rows)),
	}
	for i, r := range rows {
		job.Graduates[i] = dokstamp.Graduate{StudentUUID: students.uuids[i], File: dokstamp.UploadFile(r.pdf)}
	}
	opts := &dokstamp.BatchOptions{Concurrency: *concurrency, Journal: journal}

	// The plan first: no write, what the run will do with each graduate.
	plan, err := c.Batch.Plan(ctx, job, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Plan: %d to issue, %d already issued (journal or server), %d blocked\n", plan.ToIssue, plan.AlreadyIssued, plan.Blocked)
	const maxShown = 10
	shown := 0
	for _, it := range plan.Items {
		if it.Action != dokstamp.PlanBlocked {
			continue
		}
		if shown == maxShown {
			fmt.Fprintf(stdout, "  ... and %d more blocked\n", plan.Blocked-shown)
			break
		}
		fmt.Fprintf(stdout, "  BLOCKED line %d (%s): %s\n", rows[it.Index].line, rows[it.Index].student, it.Reason)
		shown++
	}

	fmt.Fprintf(stdout, "Issuing %d certificates, %d at a time (journal %s)\n", len(rows), *concurrency, journalPath)
	bar := newProgress(stdout)
	opts.OnProgress = bar.report
	report, runErr := c.Batch.Issue(ctx, job, opts)
	bar.end()
	if report == nil {
		return runErr
	}
	if err := journal.Close(); err != nil {
		return err
	}

	failed := report.Failed
	issued := report.Succeeded - report.Skipped - report.AlreadyIssued
	fmt.Fprintf(stdout, "Issued %d, already done %d (from the journal), already issued %d (found on the server), failed %d, not settled %d, of %d graduates in %s\n",
		issued, report.Skipped, report.AlreadyIssued, failed, report.NotSettled, len(rows), report.Duration.Round(time.Millisecond))
	if report.Adopted > 0 {
		fmt.Fprintf(stdout, "  (%d of them found by look-up, issued before their answer was lost: not sent twice)\n", report.Adopted)
	}
	if report.Skipped+report.AlreadyIssued == len(rows) {
		fmt.Fprintln(stdout, "All graduates were already done: nothing was sent.")
	}
	shown = 0
	for i, res := range report.Results {
		if res.Err == nil || errors.Is(res.Err, dokstamp.ErrNotSettled) {
			continue
		}
		if shown == maxShown {
			fmt.Fprintf(stdout, "  ... and %d more failed (see the report)\n", failed-shown)
			break
		}
		fmt.Fprintf(stdout, "  FAILED line %d (%s): %v\n", rows[i].line, rows[i].student, res.Err)
		shown++
	}

	reportPath := filepath.Join(*out, "report.csv")
	if err := writeReport(ctx, c, reportPath, courseUUID, rows, report, stdout); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(stdout, "Report: %s\n", reportPath)

	if runErr != nil {
		return fmt.Errorf("%w; run again with the same -out to finish", runErr)
	}
	if failed+report.NotSettled > 0 {
		return fmt.Errorf("%d of %d graduates failed (see %s); run again with the same -out to retry them", failed+report.NotSettled, len(rows), reportPath)
	}
	return nil
}

// resolved holds each row's student uuid.
type resolved struct {
	uuids   []string
	created int
}

// resolveStudents finds each row's student: a uuid is taken as is, and the
// e-mail addresses are resolved all at once with FindByEmails (a few listing
// pages or concurrent look-ups, whichever costs fewer requests). On the
// embedded server the missing students are then created with FindOrCreate, one
// by one in manifest order so that they get the same UUIDs on every run; a lost
// answer there is settled by FindOrCreate itself. Against the real API a
// missing student is an error (create your students first, as your
// student-information system does).
func resolveStudents(ctx context.Context, c *dokstamp.Client, embedded bool, rows []row) (*resolved, error) {
	res := &resolved{uuids: make([]string, len(rows))}
	var emails []string
	for i, r := range rows {
		if isUUID(r.student) {
			res.uuids[i] = r.student
		} else {
			emails = append(emails, r.student)
		}
	}
	found := map[string]dokstamp.Student{}
	if len(emails) > 0 {
		var err error
		if found, err = c.Students.FindByEmails(ctx, emails); err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			return nil, fmt.Errorf("look up students: %w", err) // one error, not one per row
		}
	}
	var problems []string
	for i, r := range rows {
		if res.uuids[i] != "" {
			continue
		}
		if st, ok := found[r.student]; ok {
			res.uuids[i] = st.UUID
			continue
		}
		if !embedded {
			problems = append(problems, fmt.Sprintf("line %d: no student with e-mail %s in this tenant (create it first)", r.line, r.student))
			continue
		}
		name := r.name
		if name == "" {
			name, _, _ = strings.Cut(r.student, "@")
		}
		st, created, err := c.Students.FindOrCreate(ctx, &dokstamp.StudentCreateParams{Name: name, Email: r.student, DateOfBirth: "2000-01-01"})
		if err != nil {
			return nil, fmt.Errorf("line %d: create student %s: %w", r.line, r.student, err)
		}
		res.uuids[i] = st.UUID
		if created {
			res.created++
		}
	}
	if len(problems) > 0 {
		return nil, &problemsError{what: "students of the manifest", problems: problems}
	}
	return res, nil
}
