package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

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

// Issue runs an IssueJob end to end. Its first step is Plan (no write): graduates already
// holding an active certificate on the course are reported AlreadyIssued with it and nothing is
// sent for them, and blocked graduates (unknown student or course, unreadable or non-PDF file, a
// PDF byte-identical to another graduate's) fail with ErrBlocked before any upload. Then it
// uploads the others' PDFs in chunks bounded by opts.UploadChunkFiles and opts.UploadChunkBytes
// (several chunks in flight, streamed from disk), maps each returned file record to its graduate
// by upload order, checked against its original_name, and issues each chunk's certificates as
// soon as its upload answers, concurrently as IssueCertificates does. The report has one result
// per graduate, in order.
//
// When the job asks for issuance (Status StatusIssued, or Finish true), every create says so in
// both ways the API's docs describe: status "issued" with issued_at (the job's, or the run's
// start) and finish true. A certificate answered in another status than asked for is not a
// success: the item fails, naming the status, with the certificate in its result.
//
// The server de-duplicates uploads by content, so a PDF uploaded before comes back as the
// earlier record:
//   - under another name: it is accepted only when the record is unused and its size matches
//     (the content hash matched what was sent in that position); a used one fails the graduate;
//   - already used: the student's certificates on the course are looked up and the one bound to
//     that file is adopted (a resumed run); when there is none the graduate fails, since the
//     PDF already backs someone else's certificate.
//
// A record named like another upload of the same request (an answer out of order) fails the
// whole chunk: a file is never bound to the wrong graduate. With opts.Journal, each graduate's
// file is journalled once uploaded, so a resumed run does not upload it again. Everything is
// checked before the first request: graduates, student UUIDs, files without Open, a student or
// a local file given twice.
func (s *BatchService) Issue(ctx context.Context, job IssueJob, opts *BatchOptions, ropts ...RequestOption) (*BatchReport, error) {
	ctx, o, err := job.start(ctx, "issue", opts, ropts)
	if err != nil {
		return nil, err
	}
	n := len(job.Graduates)
	e := newEngine(s.c, o, n)
	if err := e.useJournal(nil); err != nil {
		return nil, err
	}
	pl, err := planJob(ctx, s.c, &job, o)
	if err != nil {
		return e.finish(ctx, err)
	}
	e.hashes = pl.hashes
	e.keys = make([]string, n)
	for i, g := range job.Graduates {
		e.keys[i] = journalKey(g.StudentUUID, job.CourseUUID, g.CohortUUID, pl.hashes[i], o.AllowSeveralPerStudent)
	}
	if job.wants() == StatusIssued && job.IssuedAt == nil {
		now := time.Now().UTC().Truncate(time.Second)
		job.IssuedAt = &now
	}

	p := issuePipeline{e: e, job: &job, owner: map[string]int{}, jobs: make(chan certJob, n), files: make([]string, n)}
	var ready, toUpload []int
	for i, it := range pl.plan.Items {
		st := e.journalItem(i)
		// a PDF swapped since the journal recorded its upload: a graduate not yet issued takes
		// the new one, uploaded anew; one already issued cannot
		swapped := st.hash != "" && pl.hashes[i] != "" && st.hash != pl.hashes[i]
		if swapped && st.state != stateDone {
			st.file = ""
		}
		switch {
		case swapped && st.state == stateDone:
			e.settle(i, ItemResult{Err: fmt.Errorf("dokstamp: graduate %d: field File changed: the journal says certificate %s was issued from a PDF of SHA-256 %.12s…, and %q is %.12s…; nothing sent (restore the PDF, or revoke certificate %s and issue again with a new journal)",
				i, st.cert, st.hash, job.Graduates[i].File.Name, pl.hashes[i], st.cert)}, false)
		case st.state == stateDone:
			params := job.params(i, st.file)
			e.skip(i, &params, st)
		case it.Action == PlanAlreadyIssued:
			params := job.params(i, st.file)
			if err := e.settleExisting(i, &params, it.Existing); err != nil {
				return e.finish(ctx, err)
			}
		case it.Action == PlanBlocked:
			e.settle(i, ItemResult{Err: fmt.Errorf("%w: graduate %d: %s", ErrBlocked, i, it.Reason)}, false)
		case st.file != "":
			p.files[i] = st.file
			ready = append(ready, i)
		default:
			toUpload = append(toUpload, i)
		}
	}
	return e.finish(ctx, p.run(ctx, ready, toUpload))
}

// issuePipeline uploads a job's PDFs and issues each chunk's certificates as soon as its upload
// answers.
type issuePipeline struct {
	e     *engine
	job   *IssueJob
	jobs  chan certJob // certificates ready to issue; buffered for every graduate, never blocks
	files []string     // the files an earlier run uploaded, by graduate

	mu    sync.Mutex
	owner map[string]int // file uuid -> the graduate it was bound to
}

// run issues the ready graduates (uploaded by an earlier run) and uploads the others, with
// opts.Concurrency workers issuing while the uploads go on.
func (p *issuePipeline) run(ctx context.Context, ready, toUpload []int) error {
	g, gctx := errgroup.WithContext(ctx)
	for range p.e.opts.Concurrency {
		g.Go(func() error {
			for jb := range p.jobs {
				if gctx.Err() != nil {
					continue // left unsettled; drain so that the uploads never wait
				}
				if err := p.e.issueOne(gctx, jb); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(p.jobs)
		for _, i := range ready {
			p.bind(i, p.files[i], false)
		}
		if len(toUpload) == 0 {
			return nil
		}
		return p.uploadAll(gctx, toUpload)
	})
	return g.Wait()
}

// bind queues graduate i's certificate on the uploaded file, unless another graduate of the run
// was given the same file record.
func (p *issuePipeline) bind(i int, file string, used bool) {
	p.mu.Lock()
	first, taken := p.owner[file]
	if !taken {
		p.owner[file] = i
	}
	p.mu.Unlock()
	if taken {
		p.e.settle(i, ItemResult{Err: fmt.Errorf("dokstamp: graduate %d: the server answered file %s, already bound to graduate %d: the PDFs must be byte-identical; fix them and run again", i, file, first)}, false)
		return
	}
	st := p.e.journalItem(i)
	p.jobs <- certJob{idx: i, p: p.job.params(i, file), doubt: st.state != "", usedFile: used}
}

// params is graduate i's create body.
func (job *IssueJob) params(i int, fileUUID string) CertificateCreateParams {
	g := &job.Graduates[i]
	p := CertificateCreateParams{
		InstitutionUUID: job.InstitutionUUID, CourseUUID: job.CourseUUID, StudentUUID: g.StudentUUID,
		FileUUID: fileUUID, CohortUUID: g.CohortUUID, EnrollmentUUID: g.EnrollmentUUID, TemplateUUID: g.TemplateUUID,
		Status: job.Status, IssuedAt: job.IssuedAt, Finish: job.Finish,
	}
	if job.wants() == StatusIssued {
		// one version of the docs issues with status and issued_at, the other with finish
		p.Status, p.Finish = StatusIssued, &finishTrue
	}
	return p
}

var finishTrue = true

// wants is the status the job asks for: issued when Status is StatusIssued or Finish is true.
func (job *IssueJob) wants() CertificateStatus {
	if job.Status == StatusIssued || job.Finish != nil && *job.Finish {
		return StatusIssued
	}
	return StatusDraft
}

// placeholderFile stands in for the file uuid not uploaded yet when a graduate is validated.
const placeholderFile = "00000000-0000-4000-8000-000000000000"

func (job *IssueJob) validate(o BatchOptions) error {
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
		if g.StudentUUID != "" && !o.AllowSeveralPerStudent {
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

// uploadAll uploads the graduates' PDFs in chunks, a few chunks at once, and queues each
// chunk's certificates as soon as its upload answers; the graduates whose upload failed are
// settled as failed. Its error stops the run.
func (p *issuePipeline) uploadAll(ctx context.Context, idx []int) error {
	e := p.e
	var chunks [][]int
	var cur []int
	var curBytes int64
	for _, i := range idx {
		size := max(p.job.Graduates[i].File.Size, 0)
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
		g.Go(func() error { return p.uploadChunk(gctx, ch) })
	}
	return g.Wait()
}

// uploadChunk uploads one chunk, maps the records to its graduates, journals them and queues
// their certificates.
func (p *issuePipeline) uploadChunk(ctx context.Context, chunk []int) error {
	e, job := p.e, p.job
	ups := make([]Upload, len(chunk))
	for k, i := range chunk {
		ups[k] = job.Graduates[i].File
	}
	recs, err := callWithRetries(ctx, e, func(ctx context.Context) ([]File, error) { return e.c.Files.Upload(ctx, ups...) })
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
	if chunkErr != nil {
		for _, i := range chunk {
			e.settle(i, ItemResult{Err: chunkErr}, false)
		}
		return nil
	}
	for k, i := range chunk {
		if mapped[k].err != nil {
			e.settle(i, ItemResult{Err: mapped[k].err}, false)
		}
	}
	if e.journal != nil {
		// One group commit covers the whole chunk.
		var jg errgroup.Group
		for k, i := range chunk {
			if mapped[k].err == nil {
				jg.Go(func() error { return e.journalRecord(i, stateUploaded, "", recs[k].UUID, nil) })
			}
		}
		if err := jg.Wait(); err != nil {
			return &stopError{err}
		}
	}
	for k, i := range chunk {
		if mapped[k].err == nil {
			p.bind(i, recs[k].UUID, recs[k].Used())
		}
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
			// byte-identical to another upload of this request (the plan blocks those it can
			// read): bound here, and the second graduate given the record is failed by bind
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
