package dokstamp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// PlanAction says what a run will do with one graduate.
type PlanAction string

// The actions of a plan.
const (
	// PlanIssue: the graduate's PDF will be uploaded and their certificate created.
	PlanIssue PlanAction = "issue"
	// PlanAlreadyIssued: the student already holds an active (draft or issued) certificate on
	// the course (and cohort, when set); nothing will be sent for them.
	PlanAlreadyIssued PlanAction = "already-issued"
	// PlanBlocked: the graduate cannot be issued as given; PlanItem.Reason says why.
	PlanBlocked PlanAction = "blocked"
)

// PlanItem is what a run will do with one graduate.
type PlanItem struct {
	// Index is the graduate's position in IssueJob.Graduates.
	Index  int
	Action PlanAction
	// Existing is the certificate the student already holds, for PlanAlreadyIssued.
	Existing *Certificate
	// Reason says why a graduate is blocked (or, for PlanAlreadyIssued, which certificate
	// they hold); empty for PlanIssue.
	Reason string
}

// IssuePlan is the pre-flight of an IssueJob: one item per graduate, in input order, and the
// count of each action.
type IssuePlan struct {
	Items                           []PlanItem
	ToIssue, AlreadyIssued, Blocked int
}

// ErrBlocked marks a graduate the plan blocked (unknown student or course, unreadable PDF, a
// file that is not a PDF, a PDF byte-identical to another graduate's): nothing was sent for it.
var ErrBlocked = errors.New("dokstamp: blocked before the run")

// planPerPage is the page size of the plan's listings.
const planPerPage = 500

// Plan is the pre-flight of Issue: it sends no write, and says for each graduate whether the run
// will issue their certificate, finds one already issued (with that certificate), or is blocked
// and why. Before any request it reads every PDF (it must start with %PDF-) and hashes it
// (SHA-256) to find byte-identical ones, which the server would store as one file; then it checks
// the course (GET /courses/{uuid}), the students (a paged GET /students joined in memory, or
// one GET /students/{uuid} per missing student when that costs fewer requests) and lists the
// course's certificates (a paged GET /certificates?where[course_uuid]=…). A student holding an
// active (draft or issued) certificate on the course, and on the graduate's cohort when one is
// set, is already issued; a revoked or expired one blocks nothing. BatchOptions.AllowSeveralPerStudent
// turns that rule off.
//
// With opts.Journal, the graduates an earlier run on that journal issued (their PDF unchanged)
// are already issued too. A malformed job is refused with a *BatchValidationError, as Issue
// refuses it. Issue runs the same plan as its first step.
func (s *BatchService) Plan(ctx context.Context, job IssueJob, opts *BatchOptions, ropts ...RequestOption) (*IssuePlan, error) {
	ctx, o, err := job.start(ctx, "plan", opts, ropts)
	if err != nil {
		return nil, err
	}
	pl, err := planJob(ctx, s.c, &job, o)
	if err != nil {
		return nil, err
	}
	return pl.plan, nil
}

// start checks the arguments of Plan and Issue (op names the call) and returns the run's
// context, carrying ropts, and its options with the defaults filled in.
func (job *IssueJob) start(ctx context.Context, op string, opts *BatchOptions, ropts []RequestOption) (context.Context, BatchOptions, error) {
	if ctx == nil {
		return nil, BatchOptions{}, fmt.Errorf("dokstamp: %s: nil context", op)
	}
	o, err := opts.normalize()
	if err != nil {
		return nil, o, err
	}
	if err := job.validate(o); err != nil {
		return nil, o, err
	}
	return withRunOptions(ctx, ropts...), o, nil
}

// planned is a plan with what the run needs beside it.
type planned struct {
	plan   *IssuePlan
	hashes []string // each graduate's PDF SHA-256 (hex), "" when it could not be read
}

// planJob is Plan without the checks of its arguments.
func planJob(ctx context.Context, c *Client, job *IssueJob, o BatchOptions) (*planned, error) {
	n := len(job.Graduates)
	items := make([]PlanItem, n)
	for i := range items {
		items[i] = PlanItem{Index: i, Action: PlanIssue}
	}
	block := func(i int, reason string) {
		if items[i].Action == PlanIssue {
			items[i].Action, items[i].Reason = PlanBlocked, reason
		}
	}

	// The local files and the three reads go at once: the PDFs' hashes, the course, its
	// certificates and the students.
	var (
		hashes                    []string
		fileErrs                  []error
		courseErr, recsErr, known = error(nil), error(nil), map[string]bool{}
		recs                      courseRecords
	)
	asked := make([]string, n)
	for i, g := range job.Graduates {
		asked[i] = g.StudentUUID
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		hashes, fileErrs, err = hashPDFs(gctx, job.Graduates)
		return err
	})
	g.Go(func() error {
		_, courseErr = c.Courses.Get(gctx, job.CourseUUID)
		if courseErr != nil && !errors.Is(courseErr, ErrNotFound) {
			return fmt.Errorf("dokstamp: plan: look up course %s: %w", job.CourseUUID, courseErr)
		}
		return nil
	})
	if !o.AllowSeveralPerStudent {
		g.Go(func() error {
			recs, recsErr = readWithRetries(gctx, c, o.MaxAttempts, func(ctx context.Context) (courseRecords, error) {
				return listCourseCertificates(ctx, c, job.CourseUUID)
			})
			return nil // reported below, unless the course is unknown
		})
	}
	g.Go(func() (err error) {
		known, err = knownStudents(gctx, c, asked, o.Concurrency)
		if err != nil {
			return fmt.Errorf("dokstamp: plan: look up students: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("dokstamp: plan: %w", context.Cause(ctx)) // one error for the interrupt
		}
		return nil, err
	}
	if j := o.Journal; j != nil {
		// what an earlier run with this journal issued (and its PDF is unchanged) is done
		for i, g := range job.Graduates {
			st := j.item(journalKey(g.StudentUUID, job.CourseUUID, g.CohortUUID, hashes[i], o.AllowSeveralPerStudent))
			if st.state == stateDone && (st.hash == "" || st.hash == hashes[i]) {
				items[i].Action = PlanAlreadyIssued
				items[i].Existing = &Certificate{UUID: st.cert, PublicVerificationURL: st.url, Student: Ref{UUID: g.StudentUUID},
					Course: Ref{UUID: job.CourseUUID}, Institution: Ref{UUID: job.InstitutionUUID}}
				items[i].Reason = fmt.Sprintf("the journal says certificate %s was issued", st.cert)
			}
		}
	}
	if courseErr != nil {
		for i := range items {
			block(i, fmt.Sprintf("course %s is unknown", job.CourseUUID))
		}
	}
	if courseErr == nil && !o.AllowSeveralPerStudent {
		if recsErr != nil {
			return nil, fmt.Errorf("dokstamp: plan: %w", recsErr)
		}
		for i := range items {
			g := &job.Graduates[i]
			if cert := recs.active(g.StudentUUID, g.CohortUUID); cert != nil && items[i].Action == PlanIssue {
				items[i].Action, items[i].Existing = PlanAlreadyIssued, cert
				items[i].Reason = fmt.Sprintf("student %s holds %s certificate %s on this course", g.StudentUUID, cert.Status, cert.UUID)
			}
		}
	}
	if courseErr == nil {
		for i := range items {
			if s := job.Graduates[i].StudentUUID; items[i].Action == PlanIssue && !known[strings.ToLower(s)] {
				block(i, fmt.Sprintf("student %s is unknown", s))
			}
		}
	}

	for i, err := range fileErrs {
		if err != nil {
			block(i, fmt.Sprintf("file %q: %v", job.Graduates[i].File.Name, err))
		}
	}
	byHash := map[string][]int{}
	for i, h := range hashes {
		if h != "" {
			byHash[h] = append(byHash[h], i)
		}
	}
	for i, h := range hashes {
		if same := byHash[h]; h != "" && len(same) > 1 {
			var others []string
			for _, k := range same {
				if k != i {
					others = append(others, fmt.Sprint(k))
				}
			}
			block(i, fmt.Sprintf("file %q is byte-identical to graduate %s's PDF (SHA-256 %.12s…): the server keeps one file for both, so neither can be bound; fix the PDFs",
				job.Graduates[i].File.Name, strings.Join(others, ", "), h))
		}
	}

	pl := &IssuePlan{Items: items}
	for _, it := range items {
		switch it.Action {
		case PlanIssue:
			pl.ToIssue++
		case PlanAlreadyIssued:
			pl.AlreadyIssued++
		case PlanBlocked:
			pl.Blocked++
		}
	}
	return &planned{plan: pl, hashes: hashes}, nil
}

// pdfMagic starts every PDF.
var pdfMagic = []byte("%PDF-")

// hashPDFs reads every graduate's file, checks that it is a PDF and hashes it, a few at a time.
// errs holds each graduate's problem; err is set only when ctx ended.
func hashPDFs(ctx context.Context, gs []Graduate) (hashes []string, errs []error, err error) {
	hashes, errs = make([]string, len(gs)), make([]error, len(gs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(2, runtime.GOMAXPROCS(0)))
	for i := range gs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			hashes[i], errs[i] = hashPDF(gs[i].File)
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("dokstamp: plan: reading the PDFs: %w", context.Cause(ctx))
	}
	return hashes, errs, nil
}

// hashPDF is the SHA-256 (hex) of u's content, which must be a PDF.
func hashPDF(u Upload) (string, error) {
	if u.Open == nil {
		return "", errors.New("nil Open")
	}
	rc, err := u.Open()
	if err != nil {
		return "", fmt.Errorf("unreadable: %w", err)
	}
	if rc == nil {
		return "", errors.New("unreadable: Open returned no reader")
	}
	defer rc.Close()
	h := sha256.New()
	head := make([]byte, len(pdfMagic))
	k, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("unreadable: %w", err)
	}
	if !bytes.Equal(head[:k], pdfMagic) {
		return "", errors.New("not a PDF (it does not start with %PDF-)")
	}
	h.Write(head)
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("unreadable: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// courseRecords are a course's certificates by student (lower-case uuid).
type courseRecords map[string][]Certificate

// listCourseCertificates lists every certificate on a course, a page of planPerPage at a time.
func listCourseCertificates(ctx context.Context, c *Client, courseUUID string) (courseRecords, error) {
	recs := courseRecords{}
	opts := &ListOptions{PerPage: planPerPage, Where: map[string]string{"course_uuid": courseUUID}}
	for cert, err := range c.Certificates.All(ctx, opts) {
		if err != nil {
			return nil, fmt.Errorf("list certificates on course %s: %w", courseUUID, err)
		}
		if !strings.EqualFold(cert.Course.UUID, courseUUID) && cert.Course.UUID != "" {
			continue // a server ignoring the filter: never match another course's record
		}
		k := strings.ToLower(cert.Student.UUID)
		recs[k] = append(recs[k], cert)
	}
	return recs, nil
}

// isActive reports a draft or issued certificate: one a student must not be given twice.
func isActive(s CertificateStatus) bool { return s == StatusDraft || s == StatusIssued }

// active is the student's active certificate on the course (on cohort, when set), an issued one
// before a draft; nil when there is none.
func (r courseRecords) active(student, cohort string) *Certificate {
	var found *Certificate
	for i := range r[strings.ToLower(student)] {
		cert := &r[strings.ToLower(student)][i]
		if !isActive(cert.Status) {
			continue
		}
		if cohort != "" && (cert.Cohort == nil || !strings.EqualFold(cert.Cohort.UUID, cohort)) {
			continue
		}
		if found == nil || found.Status != StatusIssued && cert.Status == StatusIssued {
			found = cert
		}
	}
	if found == nil {
		return nil
	}
	c := *found
	return &c
}

// knownStudents says which of the uuids name a student of the tenant (keys lower-case). It lists
// the tenant's students page by page, stopping once all are found, or, when the pages left
// outnumber the students still missing, asks for each of those (GET /students/{uuid}, a few at
// once), whichever takes fewer requests.
func knownStudents(ctx context.Context, c *Client, uuids []string, concurrency int) (map[string]bool, error) {
	known := map[string]bool{}
	want := map[string]string{} // lower-case -> as given
	for _, u := range uuids {
		want[strings.ToLower(u)] = u
	}
	if len(want) == 0 {
		return known, nil
	}
	first, err := c.Students.List(ctx, &ListOptions{Page: 1, PerPage: planPerPage})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	mark := func(p *Page[Student]) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range p.Data {
			if k := strings.ToLower(s.UUID); want[k] != "" {
				known[k] = true
			}
		}
	}
	left := func() []string {
		var out []string
		for k, u := range want {
			if !known[k] {
				out = append(out, u)
			}
		}
		return out
	}
	mark(first)
	last := first.Meta.LastPage
	if last == 0 && first.Meta.PerPage > 0 {
		last = (first.Meta.Total + first.Meta.PerPage - 1) / first.Meta.PerPage
	}
	switch missing := left(); {
	case len(missing) == 0 || len(first.Data) == 0 || last <= 1:
		return known, nil
	case first.Meta.CurrentPage != 1 || len(missing) <= last-1:
		// a server that ignores page, or fewer students missing than pages left: ask for each
		return getStudents(ctx, c, missing, known, concurrency)
	}
	// the other pages, a few at once
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readAhead)
	for page := 2; page <= last; page++ {
		g.Go(func() error {
			p, err := c.Students.List(gctx, &ListOptions{Page: page, PerPage: planPerPage})
			if err != nil {
				return err
			}
			if p.Meta.CurrentPage == page {
				mark(p)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return known, nil
}

// getStudents asks for each student of uuids and marks those found in known.
func getStudents(ctx context.Context, c *Client, uuids []string, known map[string]bool, concurrency int) (map[string]bool, error) {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, concurrency))
	for _, u := range uuids {
		g.Go(func() error {
			_, err := c.Students.Get(gctx, u)
			switch {
			case err == nil:
				mu.Lock()
				known[strings.ToLower(u)] = true
				mu.Unlock()
			case errors.Is(err, ErrNotFound):
			default:
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx) // one error for the interrupt, not one per student
		}
		return nil, err
	}
	return known, nil
}
