package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// BatchService does bulk work: issuing thousands of certificates concurrently without ever
// issuing one twice, the upload-then-issue pipeline of the bulk-operations guide, and the batch
// endpoints split into chunks the server accepts.
//
// Each method takes RequestOptions last, like every service method; they apply to every request
// the run makes (a WithHeader correlation id reaches each upload, look-up and create). The bulk
// engine hands 429s and 5xx answers back to itself instead of letting the client retry them, so
// that one call has one retry layer.
type BatchService service

// Defaults of BatchOptions.
const (
	DefaultBatchConcurrency  = 8
	DefaultBatchMaxAttempts  = 6
	DefaultUploadChunkFiles  = 25
	DefaultUploadChunkBytes  = 32 << 20
	DefaultUploadConcurrency = 4
)

// BatchOptions tune a bulk run. The zero value (or nil) takes the defaults.
type BatchOptions struct {
	// Concurrency is the most requests in flight at once (default 8). When the server answers
	// 429, the run sends fewer, then grows back towards Concurrency as requests succeed.
	Concurrency int
	// MaxAttempts bounds the attempts per item (default 6): the sends that failed or whose
	// outcome was unknown and, separately, the failed look-ups that settle an unknown outcome;
	// it also bounds each upload chunk and listing. 429 answers do not count. The client's own
	// retries are off for a run's calls: these are their only retries.
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
	// AllowSeveralPerStudent turns off the rule that a run never gives a student a second
	// active (draft or issued) certificate on a course (and cohort, when set): for callers who
	// mean to issue several certificates per student and course. With it, the run does not list
	// the course's certificates first, and items may repeat a student and course.
	AllowSeveralPerStudent bool
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
	// NotSettled counts the items a stopping run gave up without settling them (never failed:
	// their outcome is for a rerun to find). It grows only once the run stops.
	NotSettled int
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
	// AlreadyIssued: before its first create the run found the student already holding an
	// active certificate on the course (and cohort, when set), not created by this run for this
	// item; Certificate is that one, and nothing was sent. It is a success when the certificate
	// is in the status the run asked for (a draft found by a run that issues is not).
	AlreadyIssued bool
	// Attempts is how many create requests were sent for the item (429 answers not counted).
	Attempts int
}

// BatchReport is what a bulk run did, item by item in input order.
type BatchReport struct {
	Results []ItemResult
	// Succeeded counts the items with a certificate in the status asked for, Skipped, Adopted
	// and AlreadyIssued ones included.
	Succeeded int
	// Failed counts the items settled without such a certificate.
	Failed int
	// NotSettled counts the items a stopped run did not settle (never counted as failed); their
	// Err wraps ErrNotSettled.
	NotSettled int
	// Skipped, Adopted and AlreadyIssued count the successful items so marked (all are also in
	// Succeeded).
	Skipped, Adopted, AlreadyIssued int
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
func (s *BatchService) IssueCertificates(ctx context.Context, items []CertificateCreateParams, opts *BatchOptions, ropts ...RequestOption) (*BatchReport, error) {
	if ctx == nil {
		return nil, errors.New("dokstamp: issue certificates: nil context")
	}
	ctx = withRunOptions(ctx, ropts...)
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if err := validateCertificateItems(items, o); err != nil {
		return nil, err
	}
	e := newEngine(s.c, o, len(items))
	keys := make([]string, len(items))
	for i, p := range items {
		keys[i] = journalKey(p.StudentUUID, p.CourseUUID, p.CohortUUID, p.FileUUID, o.AllowSeveralPerStudent)
	}
	if err := e.useJournal(keys); err != nil {
		return nil, err
	}
	jobs := make([]certJob, 0, len(items))
	for i := range items {
		st := e.journalItem(i)
		if st.state == stateDone && st.file != "" && !strings.EqualFold(st.file, items[i].FileUUID) {
			e.settle(i, ItemResult{Err: fmt.Errorf("dokstamp: item %d: field file_uuid changed: the journal says certificate %s was issued with file %s, not %s; nothing sent (restore file_uuid, or revoke that certificate and issue again with a new journal)",
				i, st.cert, st.file, items[i].FileUUID)}, false)
			continue
		}
		if st.state == stateDone {
			e.skip(i, &items[i], st)
			continue
		}
		jobs = append(jobs, certJob{idx: i, p: items[i], doubt: st.state != ""})
	}
	if !o.AllowSeveralPerStudent {
		if jobs, err = e.applyRecords(ctx, jobs); err != nil {
			return e.finish(ctx, fmt.Errorf("dokstamp: issue certificates: %w", err))
		}
	}
	return e.finish(ctx, e.issueAll(ctx, jobs))
}

// validateCertificateItems checks every item, and that no file repeats, nor a student on a course
// and cohort unless o allows several per student.
func validateCertificateItems(items []CertificateCreateParams, o BatchOptions) error {
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
		if p.StudentUUID != "" && p.CourseUUID != "" && !o.AllowSeveralPerStudent {
			k := strings.ToLower(p.StudentUUID + "/" + p.CourseUUID + "/" + p.CohortUUID)
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

// collectionName is a route segment such as "certificates" or "document-types".
var collectionName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// Destroy soft-deletes any number of a collection's resources ("certificates", "cohorts",
// "organizations", ...) through DELETE /{collection}/batch/destroy, in chunks of MaxBatchIDs,
// one after another, and returns one result per chunk. The error is a *ChunkError when some
// chunks failed; the ids are checked (UUIDs, repeats dropped) before anything is sent.
func (s *BatchService) Destroy(ctx context.Context, collection string, uuids []string, opts ...RequestOption) ([]ChunkResult[string], error) {
	if !collectionName.MatchString(collection) {
		return nil, fmt.Errorf("dokstamp: destroy: %q is not a collection name", collection)
	}
	results, err := destroyBatchChunks(ctx, s.c, collection, uuids, opts...)
	if err != nil {
		return nil, err
	}
	return results, chunkErr("destroy "+collection, results)
}

// ResendSignatures re-sends the signature-request e-mails of any number of documents, in chunks
// the server accepts, with one result per chunk (see DocumentsService.ResendSignaturesChunks:
// a chunk whose outcome is unknown is not sent again, as that could e-mail signers twice).
func (s *BatchService) ResendSignatures(ctx context.Context, documentIDs []int, opts ...RequestOption) ([]ChunkResult[int], error) {
	results, err := s.c.Documents.ResendSignaturesChunks(ctx, documentIDs, opts...)
	if err != nil {
		return results, err
	}
	return results, chunkErr("resend signatures", results)
}

// SignDocuments signs any number of documents with the institution's stored digital certificate
// certID, unlocked by pin, in chunks the server accepts, with one result per chunk (see
// DocumentsService.SignBatchChunks). The PIN never appears in an error or a log line.
func (s *BatchService) SignDocuments(ctx context.Context, certID int, documentIDs []int, pin string, opts ...RequestOption) ([]ChunkResult[int], error) {
	results, err := s.c.Documents.SignBatchChunks(ctx, certID, documentIDs, pin, opts...)
	if err != nil {
		return results, err
	}
	return results, chunkErr("sign documents", results)
}
