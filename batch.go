package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// BatchService does bulk work: issuing thousands of certificates concurrently without ever
// issuing one twice, the upload-then-issue pipeline of the bulk-operations guide, and the batch
// endpoints split into chunks the server accepts.
type BatchService service

// Defaults of BatchOptions.
const (
	DefaultBatchConcurrency  = 8
	DefaultBatchMaxAttempts  = 6
	DefaultUploadChunkFiles  = 25
	DefaultUploadChunkBytes  = 32 << 20
	DefaultUploadConcurrency = 4
)

// maxRateLimitedPerCall bounds how often one call is sent again after 429 answers; a 429 means
// the server did not act, so these re-sends are not counted as attempts.
const maxRateLimitedPerCall = 100

// BatchOptions tune a bulk run. The zero value (or nil) takes the defaults.
type BatchOptions struct {
	// Concurrency is the most requests in flight at once (default 8). When the server answers
	// 429, the run sends fewer, then grows back towards Concurrency as requests succeed.
	Concurrency int
	// MaxAttempts bounds the attempts per item (default 6): sends that failed or whose outcome
	// was unknown, and the look-ups that settle an unknown outcome. 429 answers do not count.
	MaxAttempts int
	// OnProgress, when set, is called each time an item settles, never concurrently.
	OnProgress func(Progress)
	// Journal, when set, makes the run resumable: see Journal.
	Journal *Journal
	// UploadChunkFiles bounds the files per upload request of Issue (default 25).
	UploadChunkFiles int
	// UploadChunkBytes bounds the bytes per upload request of Issue (default 32 MiB), counted
	// from Upload.Size; a single larger file goes alone, and uploads of unknown size count 0.
	UploadChunkBytes int64
	// UploadConcurrency is the most upload requests of Issue in flight at once (default 4).
	UploadConcurrency int
}

func (o *BatchOptions) normalize() (BatchOptions, error) {
	var n BatchOptions
	if o != nil {
		n = *o
	}
	if n.Concurrency < 0 || n.MaxAttempts < 0 || n.UploadChunkFiles < 0 || n.UploadChunkBytes < 0 || n.UploadConcurrency < 0 {
		return n, errors.New("dokstamp: BatchOptions: negative value")
	}
	if n.Concurrency == 0 {
		n.Concurrency = DefaultBatchConcurrency
	}
	if n.MaxAttempts == 0 {
		n.MaxAttempts = DefaultBatchMaxAttempts
	}
	if n.UploadChunkFiles == 0 {
		n.UploadChunkFiles = DefaultUploadChunkFiles
	}
	if n.UploadChunkBytes == 0 {
		n.UploadChunkBytes = DefaultUploadChunkBytes
	}
	if n.UploadConcurrency == 0 {
		n.UploadConcurrency = DefaultUploadConcurrency
	}
	return n, nil
}

// Progress is a bulk run's state when an item settles.
type Progress struct {
	Total     int // items in the run
	Done      int // items settled: Succeeded + Failed
	Succeeded int
	Failed    int
	InFlight  int // items being worked on
}

// ItemResult is the outcome of one item of a bulk run.
type ItemResult struct {
	// Certificate is the item's certificate when it succeeded. For an item skipped because the
	// journal says it is done, only its UUID, references and file are filled in.
	Certificate *Certificate
	// Err says why the item failed or was not settled; nil when it succeeded.
	Err error
	// Adopted: the certificate was found by look-up (a write whose answer was lost, or an
	// earlier run's), not created by an answer this run received.
	Adopted bool
	// Skipped: the journal says an earlier run issued it; nothing was sent.
	Skipped bool
	// Attempts is how many create requests were sent for the item (429 answers not counted).
	Attempts int
}

// BatchReport is what a bulk run did, item by item in input order.
type BatchReport struct {
	Results []ItemResult
	// Succeeded counts the items with a certificate, Skipped and Adopted ones included.
	Succeeded int
	// Failed counts the items settled without a certificate.
	Failed int
	// Unsettled counts the items a stopped run did not settle; their Err wraps ErrNotSettled.
	Unsettled int
	// Skipped and Adopted count the items so marked (both are also in Succeeded).
	Skipped, Adopted int
	// RateLimited counts the 429 answers the run received.
	RateLimited int
	// Duration is the run's wall time.
	Duration time.Duration
}

// Err joins the errors of the failed and unsettled items ("item 7: ..."), or returns nil.
func (r *BatchReport) Err() error {
	if r == nil {
		return nil
	}
	var errs []error
	for i, res := range r.Results {
		if res.Err != nil {
			errs = append(errs, fmt.Errorf("item %d: %w", i, res.Err))
		}
	}
	return errors.Join(errs...)
}

// ErrNotSettled marks the items a run did not settle because it stopped (context cancelled, 401
// or 403). Items in flight at that moment may have been created: run again with the same
// Journal to reconcile them, never blindly.
var ErrNotSettled = errors.New("dokstamp: item not settled: the run stopped")

// ItemProblem is one reason a run was refused before anything was sent. Index is the item's
// position, or -1 for a problem of the whole job.
type ItemProblem struct {
	Index int
	Err   error
}

// BatchValidationError refuses a bulk run before its first request, listing every problem found.
type BatchValidationError struct {
	Problems []ItemProblem
}

// Error lists the problems, at most 20 of them.
func (e *BatchValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dokstamp: batch refused, %d problem(s), nothing sent", len(e.Problems))
	for i, p := range e.Problems {
		if i == 20 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if p.Index < 0 {
			fmt.Fprintf(&b, "; job: %v", p.Err)
		} else {
			fmt.Fprintf(&b, "; item %d: %v", p.Index, p.Err)
		}
	}
	return b.String()
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (e *BatchValidationError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Err
	}
	return out
}

// IssueCertificates creates one certificate per item, concurrently, and reports each item's
// outcome in input order. It never creates a certificate twice: when a create's outcome is
// unknown (a 5xx answer, a timeout, a connection dropped after the request was sent) or the
// server says the file is already used, it looks the student's certificates on the course up
// (GET /certificates) and adopts the one bound to the item's file; only when there is none does
// it send again, a bounded number of times with backoff.
//
// Every item is checked before the first request; the run is refused, with every problem listed
// in a *BatchValidationError, when one is invalid or when two items share a file or a student and
// course. One item's failure never stops the others: only ctx ending, a 401 or a 403 stop the
// run, and then the report still holds what settled and the error says why it stopped. The
// returned error is nil when every item settled, even if some failed: see BatchReport.Failed
// and BatchReport.Err.
//
// When the server answers 429, the whole run pauses together for its Retry-After (capped by the
// client's RetryPolicy.MaxWait; a short, growing pause when there is none), sends fewer requests
// at once and paces them to the rate the server sustained, then speeds up again. The 429'd
// requests are sent again once the pause ends: the server did not act on them.
func (s *BatchService) IssueCertificates(ctx context.Context, items []CertificateCreateParams, opts *BatchOptions) (*BatchReport, error) {
	if ctx == nil {
		return nil, errors.New("dokstamp: issue certificates: nil context")
	}
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if err := validateCertificateItems(items); err != nil {
		return nil, err
	}
	e := newEngine(s.c, o, len(items))
	if j := o.Journal; j != nil {
		fp, err := fingerprint("certificates", items)
		if err != nil {
			return nil, err
		}
		if err := j.bind("certificates", fp, len(items)); err != nil {
			return nil, err
		}
	}
	jobs := make([]certJob, 0, len(items))
	for i := range items {
		st := e.journalItem(i)
		if st.state == stateDone {
			e.skip(i, &items[i], st)
			continue
		}
		jobs = append(jobs, certJob{idx: i, p: items[i], doubt: st.state != ""})
	}
	return e.finish(ctx, e.issueAll(ctx, jobs))
}

// validateCertificateItems checks every item, and that no file or student and course repeats.
func validateCertificateItems(items []CertificateCreateParams) error {
	if len(items) == 0 {
		return errors.New("dokstamp: issue certificates: no items")
	}
	var probs []ItemProblem
	files := map[string]int{}
	pairs := map[string]int{}
	for i := range items {
		p := &items[i]
		if err := p.Validate(); err != nil {
			probs = append(probs, ItemProblem{i, err})
		}
		if p.FileUUID != "" {
			k := strings.ToLower(p.FileUUID)
			if first, dup := files[k]; dup {
				probs = append(probs, ItemProblem{i, fmt.Errorf("file_uuid %s is item %d's too: a file backs one certificate", p.FileUUID, first)})
			} else {
				files[k] = i
			}
		}
		if p.StudentUUID != "" && p.CourseUUID != "" {
			k := strings.ToLower(p.StudentUUID + "/" + p.CourseUUID)
			if first, dup := pairs[k]; dup {
				probs = append(probs, ItemProblem{i, fmt.Errorf("student %s on course %s is item %d too", p.StudentUUID, p.CourseUUID, first)})
			} else {
				pairs[k] = i
			}
		}
	}
	if len(probs) > 0 {
		return &BatchValidationError{Problems: probs}
	}
	return nil
}

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
	pace    *pace
	start   time.Time

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
		pace:    newPace(o.Concurrency, c.retry.MaxWait),
		start:   time.Now(),
		report:  BatchReport{Results: make([]ItemResult, n)},
		settled: make([]bool, n),
		prog:    Progress{Total: n},
	}
}

func (e *engine) journalItem(i int) journalItem {
	if e.journal == nil {
		return journalItem{}
	}
	return e.journal.item(i)
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
			r.Unsettled++
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
		}
	}
	r.RateLimited = e.pace.rateLimitedCount()
	r.Duration = time.Since(e.start)
	if runErr != nil {
		return r, fmt.Errorf("dokstamp: batch stopped with %d of %d items settled: %w", len(r.Results)-r.Unsettled, len(r.Results), runErr)
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
	if err != nil && stops(ctx, err) {
		e.unsettle(jb.idx, err, sent)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	var jerr error
	if e.journal != nil {
		if err == nil {
			jerr = e.journal.recordDone(jb.idx, cert, jb.p.FileUUID)
		} else {
			jerr = e.journal.record(jb.idx, stateFailed, "", "", err)
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
	for tries := 0; tries < e.opts.MaxAttempts; {
		if lookFirst {
			found, err := e.lookup(ctx, p)
			if err != nil {
				if stops(ctx, err) {
					return nil, false, sent, withCause(err, last)
				}
				tries++
				last = withCause(fmt.Errorf("dokstamp: look up certificate of student %s: %w", p.StudentUUID, err), last)
				if err := e.backoff(ctx, tries); err != nil {
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
			if err := e.journal.record(jb.idx, statePending, "", p.FileUUID, nil); err != nil {
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
		case retryable(err):
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
	cert, err := paced(ctx, e.pace, func(ctx context.Context) (*Certificate, error) {
		n++
		return e.c.Certificates.Create(ctx, p)
	})
	return cert, n, err
}

// lookup finds the student's certificate on the course bound to p's file, or nil.
func (e *engine) lookup(ctx context.Context, p *CertificateCreateParams) (*Certificate, error) {
	certs, err := paced(ctx, e.pace, func(ctx context.Context) ([]Certificate, error) {
		return e.c.Certificates.FindForStudent(ctx, p.StudentUUID, p.CourseUUID)
	})
	if err != nil {
		return nil, err
	}
	for i := range certs {
		if certs[i].HasFile(p.FileUUID) {
			c := certs[i]
			return &c, nil
		}
	}
	return nil, nil
}

// backoff waits before attempt tries+1: full-jitter exponential, from the client's policy.
func (e *engine) backoff(ctx context.Context, tries int) error {
	p := e.c.retry
	ceiling := p.MinWait << min(max(tries-1, 0), 20)
	if ceiling <= 0 || ceiling > p.MaxWait {
		ceiling = p.MaxWait
	}
	return sleepCtx(ctx, time.Duration(rand.Int64N(int64(ceiling)+1)), nil)
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

// retryable reports an error worth another attempt: a 5xx or 429 answer, or no answer at all.
func retryable(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusRequestTimeout
	}
	var de *DecodeError
	return !errors.As(err, &de)
}

// paced makes one call through the shared gate, sending it again after each 429 (the server
// did not act) once the gate opens.
func paced[T any](ctx context.Context, p *pace, call func(context.Context) (T, error)) (T, error) {
	cctx := withCallOptions(ctx, callOptions{noRateLimitRetry: true})
	for n := 0; ; n++ {
		t, err := p.acquire(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		v, err := call(cctx)
		var ae *Error
		limited := errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests
		var ra time.Duration
		if limited {
			ra = ae.RetryAfter
		}
		p.release(t, err == nil, limited, ra)
		if limited && n < maxRateLimitedPerCall && ctx.Err() == nil {
			continue
		}
		return v, err
	}
}

// sleepCtx waits for d, or until ctx ends (its error), or until wake is closed (nil).
func sleepCtx(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pace is the gate every request of a run passes. On a 429 it closes for the Retry-After (a
// short, growing pause when there is none), halves the requests allowed in flight and, when the
// server named a pause, paces requests to the rate the server sustained over the last cycle of
// work and pause. Successes grow the window by one per window's worth (additive increase) and the
// pacing rate by 5% a second. 429s of requests sent before the gate last closed change nothing:
// they were in flight when it closed.
type pace struct {
	max      int
	maxPause time.Duration

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced when waiters should look again
	limit       float64       // allowed in flight
	inflight    int
	closedAt    time.Time // last time the gate closed
	closedUntil time.Time
	shortPauses int // pauses without a Retry-After since the last success

	rate       float64 // pacing rate in requests per second at rateSetAt; 0: unpaced
	rateSetAt  time.Time
	next       time.Time // earliest time of the next paced send
	cycleStart time.Time // start of the current cycle, for the rate estimate
	cycleOK    int       // successes in the current cycle
	limited    int       // 429 answers seen
}

const (
	minGatePause    = 10 * time.Millisecond
	rateGrowthPerS  = 0.05
	minPacedRate    = 0.5
	maxShortPauseSh = 6
)

func newPace(max int, maxPause time.Duration) *pace {
	if maxPause <= 0 {
		maxPause = 10 * time.Second
	}
	return &pace{max: max, maxPause: maxPause, limit: float64(max), changed: make(chan struct{}), cycleStart: time.Now()}
}

// ticket is one request let through the gate.
type ticket struct{ sent time.Time }

// currentRate is the pacing rate at now, grown since it was set; p.mu held.
func (p *pace) currentRate(now time.Time) float64 {
	if p.rate == 0 {
		return 0
	}
	d := now.Sub(p.rateSetAt).Seconds()
	if d < 0 {
		d = 0
	}
	return p.rate * (1 + rateGrowthPerS*d)
}

// acquire waits until the gate is open, a slot in flight is free and the pacing allows a send.
func (p *pace) acquire(ctx context.Context) (ticket, error) {
	for {
		if err := ctx.Err(); err != nil {
			return ticket{}, err
		}
		p.mu.Lock()
		now := time.Now()
		if now.Before(p.closedUntil) {
			wait, ch := p.closedUntil.Sub(now), p.changed
			p.mu.Unlock()
			if err := sleepCtx(ctx, wait, ch); err != nil {
				return ticket{}, err
			}
			continue
		}
		if p.inflight >= max(1, int(p.limit)) {
			ch := p.changed
			p.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return ticket{}, ctx.Err()
			}
			continue
		}
		slot := now
		if r := p.currentRate(now); r > 0 {
			if p.next.After(now) {
				slot = p.next
			}
			p.next = slot.Add(time.Duration(float64(time.Second) / r))
		}
		p.inflight++
		reserved := now
		p.mu.Unlock()
		if slot.After(now) {
			if err := sleepCtx(ctx, slot.Sub(now), nil); err != nil {
				p.abandon()
				return ticket{}, err
			}
			p.mu.Lock()
			closedMeanwhile := p.closedAt.After(reserved)
			p.mu.Unlock()
			if closedMeanwhile {
				p.abandon() // the gate closed while this one waited for its slot: queue again
				continue
			}
		}
		return ticket{sent: time.Now()}, nil
	}
}

// abandon gives back a slot taken by acquire without sending.
func (p *pace) abandon() {
	p.mu.Lock()
	p.inflight--
	p.wake()
	p.mu.Unlock()
}

// wake tells the waiters to look again; p.mu held.
func (p *pace) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// release ends a request: ok when it succeeded, limited when it was answered 429 (with the
// server's Retry-After, 0 when absent).
func (p *pace) release(t ticket, ok, limited bool, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	switch {
	case ok:
		p.cycleOK++
		p.shortPauses = 0
		if p.limit < float64(p.max) {
			p.limit = min(float64(p.max), p.limit+1/p.limit)
		}
	case limited:
		p.limited++
		if t.sent.Before(p.closedAt) {
			break // in flight when the gate closed: that pause covers it
		}
		now := time.Now()
		pause := retryAfter
		if pause <= 0 {
			pause = minGatePause << min(p.shortPauses, maxShortPauseSh)
			p.shortPauses++
		}
		pause = min(pause, p.maxPause)
		p.closedAt, p.closedUntil = now, now.Add(pause)
		p.limit = max(1, p.limit/2)
		if retryAfter > 0 {
			// Over a cycle of work and pause, a token-bucket server lets through about its rate
			// times the cycle's length: pace to that.
			est := float64(p.cycleOK) / p.closedUntil.Sub(p.cycleStart).Seconds()
			cur := p.currentRate(now)
			switch {
			case est > 0 && (cur == 0 || est < cur):
				p.rate = est
			case cur > 0:
				p.rate = cur / 2
			}
			if p.rate > 0 {
				p.rate = max(p.rate, minPacedRate)
				p.rateSetAt = p.closedUntil
			}
		}
		p.cycleStart, p.cycleOK = p.closedUntil, 0
		p.next = p.closedUntil
	}
	p.wake()
}

func (p *pace) rateLimitedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limited
}

// IssueJob is the bulk-operations guide's job: one certificate per graduate on one course, each
// bound to a PDF still to be uploaded. Status, IssuedAt and Finish apply to every certificate.
type IssueJob struct {
	InstitutionUUID string
	CourseUUID      string
	Graduates       []Graduate
	Status          CertificateStatus
	IssuedAt        *time.Time
	Finish          *bool
}

// Graduate is one certificate of an IssueJob: the student and the PDF to bind to it.
type Graduate struct {
	StudentUUID    string
	File           Upload
	CohortUUID     string
	EnrollmentUUID string
	TemplateUUID   string
}

// Issue runs an IssueJob end to end: it uploads the graduates' PDFs in chunks bounded by
// opts.UploadChunkFiles and opts.UploadChunkBytes (several chunks in flight, streamed from
// disk), maps each returned file record to its graduate by upload order, checked against its
// original_name, then issues the certificates concurrently as IssueCertificates does. The report
// has one result per graduate, in order.
//
// The server de-duplicates uploads by content, so a PDF uploaded before comes back as the
// earlier record:
//   - under another name: it is accepted only when the record is unused and its size matches
//     (the content hash matched what was sent in that position); a used one fails the graduate;
//   - already used: the student's certificates on the course are looked up and the one bound to
//     that file is adopted (a resumed run); when there is none the graduate fails, since the
//     PDF already backs someone else's certificate;
//   - two graduates whose PDFs are byte-identical both fail: which of them it belongs to cannot
//     be told.
//
// A record named like another upload of the same request (an answer out of order) fails the
// whole chunk: a file is never bound to the wrong graduate. With opts.Journal, each graduate's
// file is journalled once uploaded, so a resumed run does not upload it again. Everything is
// checked before the first request: graduates, student UUIDs, files without Open, a student or
// a local file given twice.
func (s *BatchService) Issue(ctx context.Context, job IssueJob, opts *BatchOptions) (*BatchReport, error) {
	if ctx == nil {
		return nil, errors.New("dokstamp: issue: nil context")
	}
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if err := job.validate(); err != nil {
		return nil, err
	}
	n := len(job.Graduates)
	e := newEngine(s.c, o, n)
	if j := o.Journal; j != nil {
		fp, err := fingerprint("issue", job.identity())
		if err != nil {
			return nil, err
		}
		if err := j.bind("issue", fp, n); err != nil {
			return nil, err
		}
	}

	files := make([]string, n) // each graduate's file uuid, once known
	used := make([]bool, n)
	var toUpload []int
	for i := range job.Graduates {
		st := e.journalItem(i)
		switch {
		case st.state == stateDone:
			p := job.params(i, st.file)
			e.skip(i, &p, st)
		case st.file != "":
			files[i] = st.file
		default:
			toUpload = append(toUpload, i)
		}
	}
	if len(toUpload) > 0 {
		if err := e.uploadAll(ctx, &job, toUpload, files, used); err != nil {
			return e.finish(ctx, err)
		}
	}

	// Two graduates bound to one record sent byte-identical PDFs: neither can be trusted.
	byFile := map[string][]int{}
	for i, f := range files {
		if f != "" {
			byFile[f] = append(byFile[f], i)
		}
	}
	var jobs []certJob
	for i, f := range files {
		if f == "" || e.isSettled(i) {
			continue
		}
		if same := byFile[f]; len(same) > 1 {
			e.settle(i, ItemResult{Err: fmt.Errorf("dokstamp: graduates %v sent byte-identical PDFs (the server keeps one file record, %s): fix them and run again", same, f)}, false)
			continue
		}
		st := e.journalItem(i)
		jobs = append(jobs, certJob{idx: i, p: job.params(i, f), doubt: st.state != "", usedFile: used[i]})
	}
	return e.finish(ctx, e.issueAll(ctx, jobs))
}

func (e *engine) isSettled(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.settled[i]
}

// params is graduate i's create body.
func (job *IssueJob) params(i int, fileUUID string) CertificateCreateParams {
	g := &job.Graduates[i]
	return CertificateCreateParams{
		InstitutionUUID: job.InstitutionUUID, CourseUUID: job.CourseUUID, StudentUUID: g.StudentUUID,
		FileUUID: fileUUID, CohortUUID: g.CohortUUID, EnrollmentUUID: g.EnrollmentUUID, TemplateUUID: g.TemplateUUID,
		Status: job.Status, IssuedAt: job.IssuedAt, Finish: job.Finish,
	}
}

// identity is what a journal's fingerprint of the job covers.
func (job *IssueJob) identity() any {
	type grad struct {
		Student, Cohort, Enrollment, Template, Name string
		Size                                        int64
	}
	gs := make([]grad, len(job.Graduates))
	for i, g := range job.Graduates {
		gs[i] = grad{g.StudentUUID, g.CohortUUID, g.EnrollmentUUID, g.TemplateUUID, g.File.Name, g.File.Size}
	}
	return struct {
		Institution, Course string
		Status              CertificateStatus
		IssuedAt            *time.Time
		Finish              *bool
		Graduates           []grad
	}{job.InstitutionUUID, job.CourseUUID, job.Status, job.IssuedAt, job.Finish, gs}
}

// placeholderFile stands in for the file uuid not uploaded yet when a graduate is validated.
const placeholderFile = "00000000-0000-4000-8000-000000000000"

func (job *IssueJob) validate() error {
	var probs []ItemProblem
	if err := requireUUIDs("issue", "institution_uuid", job.InstitutionUUID, "course_uuid", job.CourseUUID); err != nil {
		probs = append(probs, ItemProblem{-1, err})
	}
	if len(job.Graduates) == 0 {
		probs = append(probs, ItemProblem{-1, errors.New("no graduates")})
	}
	students := map[string]int{}
	paths := map[string]int{}
	for i := range job.Graduates {
		g := &job.Graduates[i]
		p := job.params(i, placeholderFile)
		p.InstitutionUUID, p.CourseUUID = placeholderFile, placeholderFile // reported once, above
		if err := p.Validate(); err != nil {
			probs = append(probs, ItemProblem{i, err})
		}
		if g.File.Open == nil {
			probs = append(probs, ItemProblem{i, errors.New("file: nil Open")})
		}
		if g.File.Name == "" {
			probs = append(probs, ItemProblem{i, errors.New("file: empty name")})
		}
		if g.StudentUUID != "" {
			k := strings.ToLower(g.StudentUUID)
			if first, dup := students[k]; dup {
				probs = append(probs, ItemProblem{i, fmt.Errorf("student %s is graduate %d too", g.StudentUUID, first)})
			} else {
				students[k] = i
			}
		}
		if g.File.path != "" {
			if first, dup := paths[g.File.path]; dup {
				probs = append(probs, ItemProblem{i, fmt.Errorf("file %s is graduate %d's too", g.File.path, first)})
			} else {
				paths[g.File.path] = i
			}
		}
	}
	if len(probs) > 0 {
		return &BatchValidationError{Problems: probs}
	}
	return nil
}

// uploadAll uploads the graduates' PDFs in chunks and fills files (and used) for those mapped;
// the graduates whose upload failed are settled as failed. Its error stops the run.
func (e *engine) uploadAll(ctx context.Context, job *IssueJob, idx []int, files []string, used []bool) error {
	var chunks [][]int
	var cur []int
	var curBytes int64
	for _, i := range idx {
		u := job.Graduates[i].File
		if _, err := u.sniff(); err != nil {
			e.settle(i, ItemResult{Err: fmt.Errorf("dokstamp: upload %q: %w", u.Name, err)}, false)
			continue
		}
		size := max(u.Size, 0)
		if len(cur) > 0 && (len(cur) >= e.opts.UploadChunkFiles || curBytes+size > e.opts.UploadChunkBytes) {
			chunks = append(chunks, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, i)
		curBytes += size
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.UploadConcurrency)
	for _, ch := range chunks {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return e.uploadChunk(gctx, job, ch, files, used) })
	}
	return g.Wait()
}

// uploadChunk uploads one chunk, maps the records to its graduates and journals them.
func (e *engine) uploadChunk(ctx context.Context, job *IssueJob, chunk []int, files []string, used []bool) error {
	ups := make([]Upload, len(chunk))
	for k, i := range chunk {
		ups[k] = job.Graduates[i].File
	}
	var recs []File
	var err error
	for tries := 1; ; tries++ {
		recs, err = paced(ctx, e.pace, func(ctx context.Context) ([]File, error) { return e.c.Files.Upload(ctx, ups...) })
		if err == nil || stops(ctx, err) || !retryable(err) || tries >= e.opts.MaxAttempts {
			break
		}
		if err := e.backoff(ctx, tries); err != nil {
			break
		}
	}
	if err != nil && stops(ctx, err) {
		return err
	}
	if err != nil {
		for _, i := range chunk {
			e.settle(i, ItemResult{Err: fmt.Errorf("dokstamp: upload %q: %w", job.Graduates[i].File.Name, err)}, false)
		}
		return nil
	}
	mapped, chunkErr := mapUploads(ups, recs)
	for k, i := range chunk {
		if chunkErr != nil {
			e.settle(i, ItemResult{Err: chunkErr}, false)
			continue
		}
		if mapped[k].err != nil {
			e.settle(i, ItemResult{Err: mapped[k].err}, false)
			continue
		}
		files[i], used[i] = recs[k].UUID, recs[k].Used()
	}
	if e.journal == nil || chunkErr != nil {
		return nil
	}
	// One group commit covers the whole chunk.
	var jg errgroup.Group
	for k, i := range chunk {
		if mapped[k].err == nil {
			jg.Go(func() error { return e.journal.record(i, stateUploaded, "", files[i], nil) })
		}
	}
	if err := jg.Wait(); err != nil {
		return &stopError{err}
	}
	return nil
}

type uploadMapping struct{ err error }

// mapUploads checks that the records answer the uploads in order. It fails the whole chunk when
// a record carries the name of another upload of the chunk (the answer is out of order); a
// record under a name matching no upload is a content de-duplication hit, accepted only when
// unused and of the same size.
func mapUploads(ups []Upload, recs []File) ([]uploadMapping, error) {
	if len(recs) != len(ups) {
		return nil, fmt.Errorf("dokstamp: upload: sent %d files, the server answered %d records", len(ups), len(recs))
	}
	byName := make(map[string][]int, len(ups))
	for k, u := range ups {
		byName[u.Name] = append(byName[u.Name], k)
	}
	// sameAs reports whether r is the record of another upload named like it: identical
	// content sent twice in this request, which the server answers with one record.
	sameAs := func(r *File) bool {
		for _, k := range byName[r.OriginalName] {
			if recs[k].UUID == r.UUID && recs[k].OriginalName == ups[k].Name {
				return true
			}
		}
		return false
	}
	out := make([]uploadMapping, len(ups))
	for k, u := range ups {
		r := &recs[k]
		switch {
		case r.UUID == "":
			out[k].err = fmt.Errorf("dokstamp: upload %q: the record answering it has no uuid", u.Name)
		case r.OriginalName == u.Name:
		case len(byName[r.OriginalName]) > 0 && sameAs(r):
			// byte-identical to another upload of this request: bound here, and the graduates
			// sharing the record are failed together by the caller
		case len(byName[r.OriginalName]) > 0:
			return nil, fmt.Errorf("dokstamp: upload: record %d is named %q but %q was sent in that place: the answer is out of order, so no file of this request is bound", k, r.OriginalName, u.Name)
		case r.Used():
			out[k].err = fmt.Errorf("dokstamp: upload %q: identical content was uploaded before as %q (file %s), which already backs a certificate", u.Name, r.OriginalName, r.UUID)
		case u.Size > 0 && r.Size != u.Size:
			out[k].err = fmt.Errorf("dokstamp: upload %q: the server answered file %s named %q of %d bytes, not %d: not bound", u.Name, r.UUID, r.OriginalName, r.Size, u.Size)
		}
	}
	return out, nil
}

// collectionName is a route segment such as "certificates" or "document-types".
var collectionName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// Destroy soft-deletes any number of a collection's resources ("certificates", "cohorts",
// "organizations", ...) through DELETE /{collection}/batch/destroy, in chunks of MaxBatchIDs,
// one after another, and returns one result per chunk. The error is a *ChunkError when some
// chunks failed; the ids are checked (UUIDs, repeats dropped) before anything is sent.
func (s *BatchService) Destroy(ctx context.Context, collection string, uuids []string) ([]ChunkResult[string], error) {
	if !collectionName.MatchString(collection) {
		return nil, fmt.Errorf("dokstamp: destroy: %q is not a collection name", collection)
	}
	results, err := destroyBatchChunks(ctx, s.c, collection, uuids)
	if err != nil {
		return nil, err
	}
	return results, chunkErr("destroy "+collection, results)
}

// ResendSignatures re-sends the signature-request e-mails of any number of documents, in chunks
// the server accepts, with one result per chunk (see DocumentsService.ResendSignaturesChunks:
// a chunk whose outcome is unknown is not sent again, as that could e-mail signers twice).
func (s *BatchService) ResendSignatures(ctx context.Context, documentIDs []int) ([]ChunkResult[int], error) {
	results, err := s.c.Documents.ResendSignaturesChunks(ctx, documentIDs)
	if err != nil {
		return results, err
	}
	return results, chunkErr("resend signatures", results)
}

// SignDocuments signs any number of documents with the institution's stored digital certificate
// certID, unlocked by pin, in chunks the server accepts, with one result per chunk (see
// DocumentsService.SignBatchChunks). The PIN never appears in an error or a log line.
func (s *BatchService) SignDocuments(ctx context.Context, certID int, documentIDs []int, pin string) ([]ChunkResult[int], error) {
	results, err := s.c.Documents.SignBatchChunks(ctx, certID, documentIDs, pin)
	if err != nil {
		return results, err
	}
	return results, chunkErr("sign documents", results)
}
