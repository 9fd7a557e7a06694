package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

type issueFlags struct {
	manifest    string
	course      string
	cohort      string
	institution string
	journal     string
	noJournal   bool
	report      string
	failed      string
	dryRun      bool
	draft       bool
	concurrency int
}

func newIssueCmd(a *app) *cobra.Command {
	var f issueFlags
	cmd := &cobra.Command{
		Use:   "issue --manifest FILE --course CODE|UUID",
		Short: "Issue a cohort's certificates from a CSV manifest (resumable)",
		Long: `Issue one certificate per row of a CSV manifest.

The manifest has a header line naming its columns, in any order:
  student     the student's e-mail address or uuid (also: email, student_uuid)
  pdf         the diploma's PDF, a path relative to the manifest (also: file, path)
  cohort      optional: the cohort's uuid or code (default: --cohort)
  enrollment  optional: the enrollment's uuid
  template    optional: the certificate template's uuid
Other columns are kept and ignored. The separator is sniffed from the header (',' or ';', as
Excel writes it in much of Europe, or a tab); a UTF-8 byte-order mark is fine.

First the run is planned: each row is checked (student found, PDF readable) and compared with
the certificates already on the course. --dry-run stops there and lists the blocked rows by
their line in the file. Then the PDFs are uploaded and the certificates issued, several at a
time, with progress on stderr.

Every step is written to a journal (default: the manifest's path + ".journal"), so running the
same command again resumes: rows already issued are skipped, and rows whose outcome was unknown
when the run stopped are looked up before anything is sent again. No graduate gets two
certificates. Ctrl-C stops cleanly; run the same command again to finish.

--report writes one line per row (line, student, certificate, verification URL, status);
--failed writes the rows to fix, in the manifest's own format, ready to be fixed and rerun.
Exit codes: 0 all issued, 3 some rows failed or were blocked, 5 some in doubt (rerun), 130
interrupted; see 'dokstamp help exit-codes'.`,
		Example: `  dokstamp issue --manifest graduates.csv --course CS --dry-run
  dokstamp issue --manifest graduates.csv --course CS --report report.csv --failed fix.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag(cmd, "manifest", f.manifest); err != nil {
				return err
			}
			if err := requireFlag(cmd, "course", f.course); err != nil {
				return err
			}
			if f.concurrency < 1 || f.concurrency > 64 {
				return usageErrorf("--concurrency %d: use 1 to 64", f.concurrency)
			}
			return runIssue(a, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.manifest, "manifest", "m", "", "CSV manifest of the graduates (required)")
	fl.StringVar(&f.course, "course", "", "the course: its code or uuid (required)")
	fl.StringVar(&f.cohort, "cohort", "", "cohort code or uuid for rows without a cohort column")
	fl.StringVar(&f.institution, "institution", "", "institution uuid (default: the course's)")
	fl.StringVar(&f.journal, "journal", "", "journal file (default: MANIFEST.journal)")
	fl.BoolVar(&f.noJournal, "no-journal", false, "run without a journal (a stopped run cannot be resumed safely)")
	fl.StringVar(&f.report, "report", "", "write a CSV report, one line per row")
	fl.StringVar(&f.failed, "failed", "", "write the rows that failed or were blocked, in the manifest's format")
	fl.BoolVar(&f.dryRun, "dry-run", false, "plan only: check every row and list the blocked ones, send nothing")
	fl.BoolVar(&f.draft, "draft", false, "create drafts instead of issued certificates")
	fl.IntVar(&f.concurrency, "concurrency", dokstamp.DefaultBatchConcurrency, "certificates requested at once")
	return cmd
}

// Row statuses, in the report and the output.
const (
	rowIssued        = "issued"
	rowAlreadyIssued = "already-issued"
	rowFailed        = "failed"
	rowBlocked       = "blocked"
	rowInDoubt       = "in-doubt"
	rowNotDone       = "not-done"
	rowWillIssue     = "will-issue"
)

// rowResult is what happened to one manifest row.
type rowResult struct {
	Line            int    `json:"line"`
	Student         string `json:"student"`
	StudentUUID     string `json:"student_uuid,omitempty"`
	Status          string `json:"status"`
	CertificateUUID string `json:"certificate_uuid,omitempty"`
	VerificationURL string `json:"verification_url,omitempty"`
	Error           string `json:"error,omitempty"`

	row *manifestRow
}

// issueSummary is the -o json answer of issue.
type issueSummary struct {
	Manifest      string      `json:"manifest"`
	Course        string      `json:"course_uuid"`
	Journal       string      `json:"journal,omitempty"`
	DryRun        bool        `json:"dry_run,omitempty"`
	Rows          int         `json:"rows"`
	Issued        int         `json:"issued"`
	AlreadyIssued int         `json:"already_issued"`
	WillIssue     int         `json:"will_issue,omitempty"`
	Failed        int         `json:"failed"`
	Blocked       int         `json:"blocked"`
	InDoubt       int         `json:"in_doubt"`
	NotDone       int         `json:"not_done"`
	Interrupted   bool        `json:"interrupted,omitempty"`
	Results       []rowResult `json:"results"`
}

func (s *issueSummary) count() {
	s.Issued, s.AlreadyIssued, s.WillIssue, s.Failed, s.Blocked, s.InDoubt, s.NotDone = 0, 0, 0, 0, 0, 0, 0
	for _, r := range s.Results {
		switch r.Status {
		case rowIssued:
			s.Issued++
		case rowAlreadyIssued:
			s.AlreadyIssued++
		case rowWillIssue:
			s.WillIssue++
		case rowFailed:
			s.Failed++
		case rowBlocked:
			s.Blocked++
		case rowInDoubt:
			s.InDoubt++
		case rowNotDone:
			s.NotDone++
		}
	}
}

func runIssue(a *app, f *issueFlags) error {
	ctx := a.ctx
	m, err := readManifest(f.manifest)
	if err != nil {
		return err
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	course, err := resolveCourse(ctx, c, f.course)
	if err != nil {
		return err
	}
	inst := f.institution
	if inst == "" {
		inst = course.Institution.UUID
	}
	if !isUUID(inst) {
		return usageErrorf("the course %s names no institution: give --institution UUID", course.UUID)
	}
	sum := &issueSummary{Manifest: m.path, Course: course.UUID, DryRun: f.dryRun, Rows: len(m.rows)}
	results := make([]rowResult, len(m.rows))
	for i, r := range m.rows {
		results[i] = rowResult{Line: r.line, Student: r.student, row: r}
	}
	if a.table() {
		fmt.Fprintf(a.io.err, "Manifest %s: %d rows (separator %q). Course %s (%s).\n", m.path, len(m.rows), string(m.comma), course.Name, course.UUID)
	}

	// Plan: resolve the students and cohorts, check each row, then ask the SDK's plan (no
	// write) what it would do with the others.
	if err := resolveRows(ctx, c, m, f.cohort); err != nil {
		return err
	}
	var todo []int // rows given to the run, in manifest order
	for i, r := range m.rows {
		results[i].StudentUUID = r.studentUUID
		if r.problem != "" {
			results[i].Status, results[i].Error = rowBlocked, r.problem
			continue
		}
		todo = append(todo, i)
	}
	sum.Results = results
	job := dokstamp.IssueJob{InstitutionUUID: inst, CourseUUID: course.UUID, Status: dokstamp.StatusIssued}
	if f.draft {
		job.Status = dokstamp.StatusDraft
	}
	for _, i := range todo {
		r := m.rows[i]
		job.Graduates = append(job.Graduates, dokstamp.Graduate{StudentUUID: r.studentUUID, File: dokstamp.UploadFile(r.pdf),
			CohortUUID: r.cohortUUID, EnrollmentUUID: r.enrollment, TemplateUUID: r.template})
	}
	opts := &dokstamp.BatchOptions{Concurrency: f.concurrency}
	if len(todo) > 0 {
		plan, err := c.Batch.Plan(ctx, job, opts)
		if err != nil {
			return fmt.Errorf("plan the run: %w", err)
		}
		for k, it := range plan.Items {
			res := &results[todo[k]]
			switch it.Action {
			case dokstamp.PlanAlreadyIssued:
				res.Status = rowAlreadyIssued
				if it.Existing != nil {
					res.CertificateUUID, res.VerificationURL = it.Existing.UUID, it.Existing.PublicVerificationURL
				}
			case dokstamp.PlanBlocked:
				res.Status, res.Error = rowBlocked, byLine(it.Reason, m, todo)
			default:
				res.Status = rowWillIssue
			}
		}
	}
	sum.count()
	if a.table() {
		fmt.Fprintf(a.io.err, "Plan: %d to issue, %d already issued, %d blocked.\n", sum.WillIssue, sum.AlreadyIssued, sum.Blocked)
	}
	if f.dryRun {
		return finishIssue(a, f, m, sum)
	}
	if sum.WillIssue == 0 {
		return finishIssue(a, f, m, sum)
	}
	for _, r := range results {
		if r.Status == rowBlocked && a.table() {
			fmt.Fprintf(a.io.err, "  line %d: blocked: %s\n", r.Line, r.Error)
		}
	}

	if !f.noJournal {
		sum.Journal = f.journal
		if sum.Journal == "" {
			sum.Journal = m.path + ".journal"
		}
		j, err := dokstamp.OpenJournal(sum.Journal)
		if errors.Is(err, dokstamp.ErrJournalMismatch) {
			if err := setAsideJournal(a, sum.Journal, err); err != nil {
				return err
			}
			j, err = dokstamp.OpenJournal(sum.Journal)
		}
		if errors.Is(err, dokstamp.ErrJournalInUse) {
			return fmt.Errorf("%w\nAnother dokstamp issue is running with the journal %s: let it finish, or stop it first", err, sum.Journal)
		}
		if err != nil {
			return fmt.Errorf("open the journal: %w", err)
		}
		defer func() { opts.Journal.Close() }()
		opts.Journal = j
		if a.table() {
			fmt.Fprintf(a.io.err, "Journal: %s\n", sum.Journal)
		}
	}
	bar := newProgress(a, len(todo))
	opts.OnProgress = bar.update
	rep, runErr := c.Batch.Issue(ctx, job, opts)
	bar.finish()
	if rep == nil {
		return runErr
	}
	if opts.Journal != nil {
		if err := opts.Journal.Close(); err != nil {
			return fmt.Errorf("close the journal: %w", err)
		}
	}
	interrupted := ctx.Err() != nil
	for k, i := range todo {
		res := &results[i]
		ir := rep.Results[k]
		switch {
		case ir.Err == nil && ir.Certificate != nil:
			planned := res.Status
			res.Status = rowIssued
			// An item the plan found on the server (or the journal as done) was issued before,
			// even when the run settled it by looking up an earlier run's lost answer.
			if ir.Skipped || ir.AlreadyIssued || planned == rowAlreadyIssued {
				res.Status = rowAlreadyIssued
			}
			res.CertificateUUID = ir.Certificate.UUID
			res.VerificationURL = ir.Certificate.PublicVerificationURL
		case errors.Is(ir.Err, dokstamp.ErrNotSettled) && errors.Is(ir.Err, dokstamp.ErrOutcomeUnknown):
			res.Status, res.Error = rowInDoubt, ir.Err.Error()
		case errors.Is(ir.Err, dokstamp.ErrNotSettled):
			res.Status, res.Error = rowNotDone, ir.Err.Error()
		case errors.Is(ir.Err, dokstamp.ErrBlocked):
			if res.Status != rowBlocked || res.Error == "" { // the plan's reason, by line, when it had one
				res.Error = byLine(ir.Err.Error(), m, todo)
			}
			res.Status = rowBlocked
		default:
			res.Status = rowFailed
			if ir.Err != nil {
				res.Error = byLine(ir.Err.Error(), m, todo)
			}
		}
	}
	sum.Interrupted = interrupted
	sum.count()
	if err := finishIssue(a, f, m, sum); err != nil && !interrupted {
		return err
	}
	if interrupted {
		fmt.Fprintf(a.io.err, "Interrupted: %d of %d rows done (%d issued now, %d before), %d not done",
			sum.Issued+sum.AlreadyIssued, sum.Rows, sum.Issued, sum.AlreadyIssued, sum.NotDone+sum.InDoubt)
		if sum.InDoubt > 0 {
			fmt.Fprintf(a.io.err, " (%d in doubt: sent, no answer; they are looked up before anything is sent again)", sum.InDoubt)
		}
		fmt.Fprintln(a.io.err, ".")
		if sum.Journal != "" {
			fmt.Fprintf(a.io.err, "To finish, run the same command again: the journal %s remembers what was done.\n", sum.Journal)
		}
		return &quietError{code: exitInterrupted}
	}
	if runErr != nil && sum.NotDone+sum.InDoubt > 0 {
		return fmt.Errorf("the run stopped: %w", runErr)
	}
	return issueExit(sum)
}

// finishIssue writes the report, the failed rows and the output, and picks the exit code.
func finishIssue(a *app, f *issueFlags, m *manifest, sum *issueSummary) error {
	if f.report != "" {
		if err := writeReport(f.report, sum.Results); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	if f.failed != "" {
		var rows []*manifestRow
		for _, r := range sum.Results {
			if r.Status == rowFailed || r.Status == rowBlocked {
				rows = append(rows, r.row)
			}
		}
		if err := m.writeRows(f.failed, rows); err != nil {
			return fmt.Errorf("write the failed rows: %w", err)
		}
	}
	if err := printIssue(a, sum); err != nil {
		return err
	}
	if a.table() {
		if f.report != "" {
			fmt.Fprintf(a.io.err, "Report: %s\n", f.report)
		}
		if f.failed != "" && sum.Failed+sum.Blocked > 0 {
			fmt.Fprintf(a.io.err, "Rows to fix: %s (%d rows; fix them and run: dokstamp issue --manifest %s ...)\n", f.failed, sum.Failed+sum.Blocked, f.failed)
		}
	}
	if sum.Interrupted {
		return nil
	}
	return issueExit(sum)
}

func issueExit(sum *issueSummary) error {
	switch {
	case sum.InDoubt+sum.NotDone > 0:
		return &quietError{code: exitSomeInDoubt}
	case sum.Failed+sum.Blocked > 0:
		return &quietError{code: exitSomeFailed}
	}
	return nil
}

// printIssue prints the run's outcome: with -o table a summary and the rows that need
// attention, otherwise every row.
func printIssue(a *app, sum *issueSummary) error {
	switch a.output {
	case "json":
		return a.printTo(a.io.out, &listing{values: []any{sum}}, true)
	case "table":
		l := &listing{headers: []string{"LINE", "STUDENT", "STATUS", "DETAIL"}}
		for _, r := range sum.Results {
			if r.Status == rowIssued || r.Status == rowAlreadyIssued || r.Status == rowWillIssue || r.Status == rowNotDone {
				continue // rows not done are the ones a rerun does; the report lists them
			}
			detail := r.Error
			if r.Status == rowInDoubt {
				detail = "sent, no answer before the run stopped: the next run looks it up before sending anything (details in --report)"
			}
			l.add(r, strconv.Itoa(r.Line), r.Student, r.Status, detail)
		}
		if len(l.rows) > 0 {
			if err := a.print(l, false); err != nil {
				return err
			}
		}
		if sum.DryRun {
			fmt.Fprintf(a.io.out, "Dry run: %d rows: %d would be issued, %d already issued, %d blocked. Nothing was sent.\n",
				sum.Rows, sum.WillIssue, sum.AlreadyIssued, sum.Blocked)
			return nil
		}
		fmt.Fprintf(a.io.out, "Issued %d, already issued %d, failed %d, blocked %d, in doubt %d, not done %d, of %d rows.\n",
			sum.Issued, sum.AlreadyIssued, sum.Failed, sum.Blocked, sum.InDoubt, sum.NotDone, sum.Rows)
		if sum.InDoubt > 0 && !sum.Interrupted {
			fmt.Fprintln(a.io.out, "Some rows are in doubt: run the same command again (same journal); they are looked up before anything is sent twice.")
		}
		return nil
	default:
		l := &listing{headers: []string{"line", "student", "student_uuid", "status", "certificate_uuid", "verification_url", "error"}}
		for _, r := range sum.Results {
			l.add(r, strconv.Itoa(r.Line), r.Student, r.StudentUUID, r.Status, r.CertificateUUID, r.VerificationURL, r.Error)
		}
		return a.print(l, false)
	}
}

// writeReport writes one CSV line per row.
func writeReport(path string, results []rowResult) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"line", "student", "student_uuid", "certificate_uuid", "verification_url", "status", "error"})
	for _, r := range results {
		w.Write([]string{strconv.Itoa(r.Line), r.Student, r.StudentUUID, r.CertificateUUID, r.VerificationURL, r.Status, r.Error})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// resolveCourse finds a course by uuid or by code.
func resolveCourse(ctx context.Context, c *dokstamp.Client, s string) (*dokstamp.Course, error) {
	s = strings.TrimSpace(s)
	var crs *dokstamp.Course
	var err error
	if isUUID(s) {
		crs, err = c.Courses.Get(ctx, s)
	} else {
		crs, err = c.Courses.FindByCode(ctx, s)
	}
	if errors.Is(err, dokstamp.ErrNotFound) {
		return nil, withExit(exitUsage, fmt.Errorf("no course %q in this tenant (give its code or uuid)", s))
	}
	if err != nil {
		return nil, fmt.Errorf("find the course %s: %w", s, err)
	}
	return crs, nil
}

// resolveCohort finds a cohort by uuid (taken as is) or code.
func resolveCohort(ctx context.Context, c *dokstamp.Client, s string) (string, error) {
	if s == "" || isUUID(s) {
		return s, nil
	}
	ch, err := c.Cohorts.FindByCode(ctx, s)
	if errors.Is(err, dokstamp.ErrNotFound) {
		return "", fmt.Errorf("no cohort with code %q", s)
	}
	if err != nil {
		return "", err
	}
	return ch.UUID, nil
}

// resolveRows fills in each row's student and cohort uuids; what cannot be found becomes the
// row's problem.
func resolveRows(ctx context.Context, c *dokstamp.Client, m *manifest, defaultCohort string) error {
	var emails []string
	for _, r := range m.rows {
		if r.problem == "" && !isUUID(r.student) {
			emails = append(emails, r.student)
		} else if isUUID(r.student) {
			r.studentUUID = r.student
		}
	}
	found, err := findStudentsByEmail(ctx, c, emails)
	if err != nil {
		return err
	}
	cohorts := map[string]string{}
	cohortErr := map[string]string{}
	for _, r := range m.rows {
		if r.problem != "" {
			continue
		}
		if r.studentUUID == "" {
			st, ok := found[r.student]
			if !ok {
				r.problem = fmt.Sprintf("no student with e-mail %s in this tenant (create it first: dokstamp students import)", r.student)
				continue
			}
			r.studentUUID = st.UUID
		}
		code := r.cohort
		if code == "" {
			code = defaultCohort
		}
		if code == "" {
			continue
		}
		if _, done := cohorts[code]; !done && cohortErr[code] == "" {
			id, err := resolveCohort(ctx, c, code)
			if err != nil {
				if errors.Is(err, dokstamp.ErrUnauthorized) || errors.Is(err, dokstamp.ErrForbidden) || ctx.Err() != nil {
					return err
				}
				cohortErr[code] = err.Error()
			} else {
				cohorts[code] = id
			}
		}
		if msg := cohortErr[code]; msg != "" {
			r.problem = msg
			continue
		}
		r.cohortUUID = cohorts[code]
	}
	return nil
}

// setAsideJournal renames a journal that cannot serve this run (one written by an older
// version), so that a new one can be started. That is safe: the run never gives a student a
// second active certificate on the course, whatever the journal says, and what the old journal
// had in doubt is found on the server.
func setAsideJournal(a *app, path string, why error) error {
	ext := filepath.Ext(path)
	old := strings.TrimSuffix(path, ext) + time.Now().UTC().Format(".20060102T150405") + ext
	if err := os.Rename(path, old); err != nil {
		return fmt.Errorf("set aside the journal %s (%v): %w", path, why, err)
	}
	a.warnf("The journal %s cannot serve this run (%v); it is kept as %s and a new one started.", path, why, old)
	return nil
}

var graduateRE = regexp.MustCompile(`\bgraduates? (\d+(?:, \d+)*)\b`)

// byLine rewrites the SDK's "graduate N" (an index into the run's graduates) as the line of the
// manifest that graduate came from.
func byLine(msg string, m *manifest, todo []int) string {
	return graduateRE.ReplaceAllStringFunc(msg, func(s string) string {
		var lines []string
		for _, f := range strings.Split(graduateRE.FindStringSubmatch(s)[1], ", ") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 || n >= len(todo) {
				return s
			}
			lines = append(lines, strconv.Itoa(m.rows[todo[n]].line))
		}
		if len(lines) == 1 {
			return "line " + lines[0]
		}
		return "lines " + strings.Join(lines, ", ")
	})
}
