package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// certJob is one certificate to obtain; idx is its place in the report and the journal.
type certJob struct {
	idx int
	p   CertificateCreateParams
	// doubt: an earlier run may have sent it (journal pending or failed): look it up first.
	doubt bool
	// usedFile: the uploaded file is already used; adopt this student's certificate bound to
	// it, or fail, but never send.
	usedFile bool
}

// engine runs one bulk operation.
type engine struct {
	c       *Client
	opts    BatchOptions
	journal *Journal
	keys    []string // each item's identity in the journal
	hashes  []string // each item's PDF SHA-256, when known (Issue)
	start   time.Time
	// rateLimited counts the 429 answers of the run's calls
	rateLimited atomic.Int64

	mu      sync.Mutex // guards everything below and serialises OnProgress
	report  BatchReport
	settled []bool
	prog    Progress
}

func newEngine(c *Client, o BatchOptions, n int) *engine {
	return &engine{
		c:       c,
		opts:    o,
		journal: o.Journal,
		start:   time.Now(),
		report:  BatchReport{Results: make([]ItemResult, n)},
		settled: make([]bool, n),
		prog:    Progress{Total: n},
	}
}

// useJournal starts the run on the journal, if any, with each item's key; finish ends it.
func (e *engine) useJournal(keys []string) error {
	if e.journal == nil {
		return nil
	}
	if err := e.journal.begin(); err != nil {
		e.journal = nil // not ours: finish must not end another run's use
		return err
	}
	e.keys = keys
	return nil
}

func (e *engine) journalItem(i int) journalItem {
	if e.journal == nil {
		return journalItem{}
	}
	return e.journal.item(e.keys[i])
}

func (e *engine) hash(i int) string {
	if e.hashes == nil {
		return ""
	}
	return e.hashes[i]
}

// journalRecord appends item i's record.
func (e *engine) journalRecord(i int, state, cert, file string, cause error) error {
	return e.journal.record(e.keys[i], state, cert, file, e.hash(i), cause)
}

// journalDone appends item i's done record.
func (e *engine) journalDone(i int, cert *Certificate, file string) error {
	return e.journal.recordDone(e.keys[i], cert, file, e.hash(i))
}

// skip settles an item the journal says is done.
func (e *engine) skip(i int, p *CertificateCreateParams, st journalItem) {
	file := st.file
	if file == "" && p != nil {
		file = p.FileUUID
	}
	cert := &Certificate{UUID: st.cert, PublicVerificationURL: st.url}
	if p != nil {
		cert.Institution = Ref{UUID: p.InstitutionUUID}
		cert.Course = Ref{UUID: p.CourseUUID}
		cert.Student = Ref{UUID: p.StudentUUID}
	}
	if file != "" {
		cert.Files = []CertificateFile{{Type: "certificate", UUID: file}}
	}
	e.settle(i, ItemResult{Certificate: cert, Skipped: true}, false)
}

func (e *engine) begin() {
	e.mu.Lock()
	e.prog.InFlight++
	e.mu.Unlock()
}

// settle records an item's outcome and reports progress.
func (e *engine) settle(i int, r ItemResult, inFlight bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.settled[i] {
		return
	}
	e.settled[i] = true
	e.report.Results[i] = r
	if inFlight {
		e.prog.InFlight--
	}
	e.prog.Done++
	if r.Err == nil {
		e.prog.Succeeded++
	} else {
		e.prog.Failed++
	}
	if e.opts.OnProgress != nil {
		e.opts.OnProgress(e.prog)
	}
}

// unsettle records an item the run stopped before it settled.
func (e *engine) unsettle(i int, cause error, attempts int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prog.InFlight--
	e.report.Results[i] = ItemResult{Err: notSettled(cause), Attempts: attempts}
}

func notSettled(cause error) error {
	if cause == nil {
		return ErrNotSettled
	}
	if isOutcomeUnknown(cause) {
		return fmt.Errorf("%w (its outcome is unknown: rerun with the same journal to reconcile it): %w", ErrNotSettled, cause)
	}
	return fmt.Errorf("%w: %w", ErrNotSettled, cause)
}

// finish completes the report: items never settled carry ErrNotSettled, and a stopped run
// returns why it stopped.
func (e *engine) finish(ctx context.Context, runErr error) (*BatchReport, error) {
	if e.journal != nil {
		defer e.journal.end()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &e.report
	if runErr == nil {
		for i, ok := range e.settled {
			if !ok {
				runErr = context.Cause(ctx)
				if runErr == nil {
					runErr = fmt.Errorf("dokstamp: item %d was not settled", i) // cannot happen; never report success for it
				}
				break
			}
		}
	}
	for i, ok := range e.settled {
		res := &r.Results[i]
		switch {
		case !ok:
			if res.Err == nil {
				res.Err = notSettled(runErr)
			}
			r.NotSettled++
		case res.Err != nil:
			r.Failed++
		default:
			r.Succeeded++
			if res.Skipped {
				r.Skipped++
			}
			if res.Adopted {
				r.Adopted++
			}
			if res.AlreadyIssued {
				r.AlreadyIssued++
			}
		}
	}
	if r.NotSettled > 0 {
		// the last word of a stopped run: what it leaves for a rerun, never counted as failed
		e.prog.NotSettled, e.prog.InFlight = r.NotSettled, 0
		if e.opts.OnProgress != nil {
			e.opts.OnProgress(e.prog)
		}
	}
	r.RateLimited = int(e.rateLimited.Load())
	r.Duration = time.Since(e.start)
	if runErr != nil {
		return r, fmt.Errorf("dokstamp: batch stopped with %d of %d items settled: %w", len(r.Results)-r.NotSettled, len(r.Results), runErr)
	}
	return r, nil
}

// issueAll obtains the jobs' certificates, at most opts.Concurrency at once.
func (e *engine) issueAll(ctx context.Context, jobs []certJob) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.Concurrency)
	for _, jb := range jobs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return e.issueOne(gctx, jb) })
	}
	return g.Wait()
}

// stopError marks an error that stops the whole run.
type stopError struct{ err error }

func (s *stopError) Error() string { return s.err.Error() }

func (s *stopError) Unwrap() error { return s.err }

// stops reports whether err (met while working under ctx) stops the whole run.
func stops(ctx context.Context, err error) bool {
	var se *stopError
	return ctx.Err() != nil || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) || errors.As(err, &se)
}

// issueOne obtains one certificate and records it; its error stops the run.
func (e *engine) issueOne(ctx context.Context, jb certJob) error {
	e.begin()
	cert, adopted, sent, err := e.obtain(ctx, &jb)
	if err == nil {
		err = statusError(cert, wantStatus(&jb.p), adopted)
	}
	if err != nil && stops(ctx, err) {
		e.unsettle(jb.idx, err, sent)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	var jerr error
	if e.journal != nil {
		switch {
		case err == nil:
			jerr = e.journalDone(jb.idx, cert, jb.p.FileUUID)
		case cert != nil:
			jerr = e.journalRecord(jb.idx, stateFailed, cert.UUID, jb.p.FileUUID, err)
		default:
			jerr = e.journalRecord(jb.idx, stateFailed, "", "", err)
		}
	}
	e.settle(jb.idx, ItemResult{Certificate: cert, Err: err, Adopted: adopted, Attempts: sent}, true)
	return jerr
}

// obtain creates jb's certificate, or finds it when an earlier attempt may have created it.
func (e *engine) obtain(ctx context.Context, jb *certJob) (cert *Certificate, adopted bool, sent int, err error) {
	p := &jb.p
	lookFirst := jb.doubt || jb.usedFile
	var usedErr error // a 422 "file already used" that a look-up must explain
	if jb.usedFile {
		usedErr = fmt.Errorf("dokstamp: file %s is already used by a certificate that is not this student's on this course", p.FileUUID)
	}
	pending := e.journalItem(jb.idx).state == statePending
	var last error
	backoffFirst := false
	looks := 0 // failed look-ups: a budget of their own, so that a flaky read does not use up the sends
	for tries := 0; tries < e.opts.MaxAttempts; {
		if lookFirst {
			found, err := e.lookup(ctx, p)
			if err != nil {
				if stops(ctx, err) {
					return nil, false, sent, withCause(err, last)
				}
				looks++
				last = withCause(fmt.Errorf("dokstamp: look up certificate of student %s: %w", p.StudentUUID, err), last)
				if looks >= e.opts.MaxAttempts {
					break
				}
				if err := e.backoff(ctx, looks); err != nil {
					return nil, false, sent, withCause(err, last)
				}
				continue
			}
			if found != nil {
				return found, true, sent, nil
			}
			if usedErr != nil {
				return nil, false, sent, usedErr
			}
			lookFirst = false
		}
		if backoffFirst {
			if err := e.backoff(ctx, tries); err != nil {
				return nil, false, sent, withCause(err, last)
			}
		}
		if e.journal != nil && !pending {
			if err := e.journalRecord(jb.idx, statePending, "", p.FileUUID, nil); err != nil {
				return nil, false, sent, &stopError{err}
			}
			pending = true
		}
		created, n, err := e.create(ctx, p)
		sent += n
		tries++
		switch {
		case err == nil:
			return created, false, sent, nil
		case stops(ctx, err):
			return nil, false, sent, err
		case isOutcomeUnknown(err):
			last, lookFirst, backoffFirst = err, true, true
		case isFileUsed(err):
			last, usedErr, lookFirst, backoffFirst = err, err, true, false
		case isGarbledSuccess(err):
			// a 2xx whose body did not decode: the server acted, so find what it created
			last, lookFirst, backoffFirst = err, true, false
		case retryableError(retryUnsafe, err):
			last, backoffFirst = err, true
		default:
			return nil, false, sent, err
		}
	}
	return nil, false, sent, fmt.Errorf("dokstamp: gave up after %d attempts: %w", e.opts.MaxAttempts, last)
}

// withCause keeps an earlier in-doubt error visible when a later one ends the item.
func withCause(err, earlier error) error {
	if earlier == nil || errors.Is(err, earlier) {
		return err
	}
	if isOutcomeUnknown(earlier) && !isOutcomeUnknown(err) {
		return fmt.Errorf("%w (after: %w)", err, earlier)
	}
	return err
}

// create sends one POST /certificates through the pace; n is how many were sent.
func (e *engine) create(ctx context.Context, p *CertificateCreateParams) (*Certificate, int, error) {
	n := 0
	cert, err := paced(ctx, e, func(ctx context.Context) (*Certificate, error) {
		n++
		return e.c.Certificates.Create(ctx, p)
	})
	return cert, n, err
}

// lookup finds the student's certificate on the course bound to p's file, or nil.
func (e *engine) lookup(ctx context.Context, p *CertificateCreateParams) (*Certificate, error) {
	certs, err := paced(ctx, e, func(ctx context.Context) ([]Certificate, error) {
		return e.c.Certificates.FindForStudent(ctx, p.StudentUUID, p.CourseUUID)
	})
	if err != nil {
		return nil, err
	}
	for i := range certs {
		if !certs[i].HasFile(p.FileUUID) {
			continue
		}
		if !isActive(certs[i].Status) {
			// the file backs a certificate that is no longer valid: never the item's success,
			// and the used file cannot back a new one
			return nil, fmt.Errorf("dokstamp: file %s backs certificate %s, which is %s: upload the PDF again as a new file to issue a replacement", p.FileUUID, certs[i].UUID, certs[i].Status)
		}
		c := certs[i]
		return &c, nil
	}
	return nil, nil
}

// backoff waits before attempt tries+1, as the client's retries do (RetryPolicy.wait).
func (e *engine) backoff(ctx context.Context, tries int) error {
	return sleepCtx(ctx, e.c.retry.wait(tries, 0), nil)
}

// readWithRetries makes a read, sending it again with the client's backoff after an answer or
// error worth another attempt, at most attempts times in all.
func readWithRetries[T any](ctx context.Context, c *Client, attempts int, read func(context.Context) (T, error)) (T, error) {
	for tries := 1; ; tries++ {
		v, err := read(ctx)
		if err == nil || stops(ctx, err) || !retryableError(retryIdempotent, err) || tries >= attempts {
			return v, err
		}
		if sleepCtx(ctx, c.retry.wait(tries, 0), nil) != nil {
			return v, err
		}
	}
}

// isFileUsed reports a 422 about the file (e.g. "The file has already been used.").
func isFileUsed(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.StatusCode == http.StatusUnprocessableEntity && len(ae.Errors["file_uuid"]) > 0
}

// isGarbledSuccess reports a 2xx answer whose body is not the expected JSON.
func isGarbledSuccess(err error) bool {
	var de *DecodeError
	return errors.As(err, &de) && de.StatusCode >= 200 && de.StatusCode < 300
}

// callWithRetries makes one idempotent call through the gate, sending it again with backoff
// after an answer or error worth another attempt, at most opts.MaxAttempts times.
func callWithRetries[T any](ctx context.Context, e *engine, call func(context.Context) (T, error)) (T, error) {
	for tries := 1; ; tries++ {
		v, err := paced(ctx, e, call)
		if err == nil || stops(ctx, err) || !retryableError(retryIdempotent, err) || tries >= e.opts.MaxAttempts {
			return v, err
		}
		if berr := e.backoff(ctx, tries); berr != nil {
			return v, err
		}
	}
}

// wantStatus is the status p asks for: issued when its Status is StatusIssued or Finish is
// true, draft otherwise.
func wantStatus(p *CertificateCreateParams) CertificateStatus {
	if p.Status == StatusIssued || p.Finish != nil && *p.Finish {
		return StatusIssued
	}
	return StatusDraft
}

// statusError says why cert is not a success for an item that asked for want: a created (or
// adopted) certificate must be in that status; an existing one found before the run must be
// active, and issued when the run issues.
func statusError(cert *Certificate, want CertificateStatus, existing bool) error {
	got := cert.Status
	switch {
	case got == want:
		return nil
	case existing && got == StatusIssued && want == StatusDraft:
		return nil // asked for a draft, found it issued: nothing left to do
	case existing && !isActive(got):
		return fmt.Errorf("dokstamp: certificate %s is %s, not the item's success", cert.UUID, got)
	case got == "":
		return fmt.Errorf("dokstamp: certificate %s was answered without a status, not %s as asked: check it before counting it issued", cert.UUID, want)
	}
	return fmt.Errorf("dokstamp: certificate %s is %s, not %s as asked: the server did not act on the request's status (it may honour only one of status and finish)", cert.UUID, got, want)
}

// settleExisting settles an item whose student the run found holding an active certificate on
// the course before its first create: adopted when it is bound to the item's own file (an
// earlier attempt of this item), already issued otherwise. It is journalled as done.
func (e *engine) settleExisting(i int, p *CertificateCreateParams, cert *Certificate) error {
	adopted := p.FileUUID != "" && cert.HasFile(p.FileUUID)
	err := statusError(cert, wantStatus(p), true)
	if err == nil && e.journal != nil {
		if jerr := e.journalDone(i, cert, cert.FileUUID()); jerr != nil {
			return &stopError{jerr}
		}
	}
	e.settle(i, ItemResult{Certificate: cert, Err: err, Adopted: adopted, AlreadyIssued: !adopted}, false)
	return nil
}

// applyRecords settles the jobs whose student already holds an active certificate on the
// course (and cohort, when set), listing each course of the run once, and returns the others.
func (e *engine) applyRecords(ctx context.Context, jobs []certJob) ([]certJob, error) {
	byCourse := map[string]courseRecords{}
	for _, jb := range jobs {
		k := strings.ToLower(jb.p.CourseUUID)
		if _, ok := byCourse[k]; ok {
			continue
		}
		recs, err := readWithRetries(ctx, e.c, e.opts.MaxAttempts, func(ctx context.Context) (courseRecords, error) {
			return listCourseCertificates(ctx, e.c, jb.p.CourseUUID)
		})
		if err != nil {
			return nil, err
		}
		byCourse[k] = recs
	}
	rest := jobs[:0]
	for _, jb := range jobs {
		cert := byCourse[strings.ToLower(jb.p.CourseUUID)].active(jb.p.StudentUUID, jb.p.CohortUUID)
		if cert == nil {
			rest = append(rest, jb)
			continue
		}
		if err := e.settleExisting(jb.idx, &jb.p, cert); err != nil {
			return nil, err
		}
	}
	return rest, nil
}
