package dokstamp

import (
	"strings"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// ErrJournalMismatch is returned when a journal cannot serve a run: it was written by an older
// format (one fingerprint of a whole list), which this version does not resume.
var ErrJournalMismatch = errors.New("dokstamp: journal cannot serve this run")

// ErrJournalClosed is returned when a run is given a closed Journal.
var ErrJournalClosed = errors.New("dokstamp: journal closed")

// ErrJournalInUse is returned when a journal file is already held by another run: another
// OpenJournal of the same file (in this process or another) that is not closed yet, or a run
// still going on the same *Journal.
var ErrJournalInUse = errors.New("dokstamp: journal in use by another run")

// Journal makes bulk issuance resumable. It is an append-only file of JSON lines: a header, then
// one line per step of each item, keyed by the item's identity (student, course and cohort; with
// BatchOptions.AllowSeveralPerStudent, also its file), never by its position in the list. An
// item is recorded as pending, and the record is on disk (fsync), before its certificate is
// requested, and as done (with the certificate's UUID) or failed when it settles; c.Batch.Issue
// also records each graduate's uploaded file with the SHA-256 of its PDF.
//
// A later run with the same journal skips what is done, looks up what is pending (a crash may
// have left its outcome unknown) before sending anything again, and issues the rest, failed
// items included. The list may change between runs: graduates added, removed or reordered, a new
// IssuedAt, a PDF swapped for a graduate not yet issued all resume (the swapped PDF is uploaded
// anew). A change that cannot resume safely (the PDF or file of a graduate already issued) fails
// that item alone, naming the field.
//
// Open it with OpenJournal and give it to BatchOptions.Journal; Close it when the run is over.
// The file is locked (an advisory lock on path+".lock") from OpenJournal to Close, so a second
// OpenJournal of it, in this process or another, fails with ErrJournalInUse; one *Journal
// serves one run at a time. A line cut short by a crash at the end of the file is ignored (and
// cut off).
type Journal struct {
	path string
	f    *os.File
	lock *flock.Flock

	mu       sync.Mutex
	cond     *sync.Cond
	header   *journalRecord
	items    map[string]journalItem
	running  bool   // a run is using the journal
	buf      []byte // appended records not yet written
	appended uint64 // records appended so far
	synced   uint64 // records written and fsynced
	flushing bool   // a writer is writing and fsyncing buf
	err      error  // sticky write error
	closed   bool
}

// journalItem is what the journal knows about one item.
type journalItem struct {
	state string // statePending, stateDone, stateFailed, or "" (only uploaded)
	cert  string // certificate uuid, when done
	url   string // its public verification URL, when done and known
	file  string // file uuid, when uploaded (c.Batch.Issue) or known
	hash  string // SHA-256 of the graduate's PDF that file holds (c.Batch.Issue)
}

// Journal record states.
const (
	statePending  = "pending"
	stateDone     = "done"
	stateFailed   = "failed"
	stateUploaded = "uploaded"
)

// journalRecord is one line of the file. The header has Journal set; item records have K and S.
type journalRecord struct {
	Journal string `json:"journal,omitempty"` // "dokstamp-batch" on the header
	Version int    `json:"v,omitempty"`
	Created string `json:"created,omitempty"`

	K    string `json:"k,omitempty"` // the item's identity (journalKey)
	S    string `json:"s,omitempty"`
	Cert string `json:"cert,omitempty"`
	URL  string `json:"url,omitempty"` // the certificate's public verification URL
	File string `json:"file,omitempty"`
	Hash string `json:"sha256,omitempty"` // of the PDF the file holds
	Err  string `json:"err,omitempty"`
	At   string `json:"at,omitempty"`
}

const (
	journalMagic   = "dokstamp-batch"
	journalVersion = 2
)

// journalKey is an item's identity in the journal: student, course and cohort, and the item's
// own file (its uuid, or its PDF's hash) when a student may hold several.
func journalKey(student, course, cohort, file string, several bool) string {
	k := strings.ToLower(student) + "/" + strings.ToLower(course) + "/" + strings.ToLower(cohort)
	if several {
		k += "/" + strings.ToLower(file)
	}
	return k
}

// OpenJournal opens the journal at path, creating it when it does not exist, locks it until
// Close, and reads what it holds. It fails when the file is not a journal, is corrupt before its
// last line, was written by the older format, or is held by another run (ErrJournalInUse).
func OpenJournal(path string) (*Journal, error) {
	lock := flock.New(path + ".lock")
	ok, err := lock.TryLock()
	if err != nil {
		return nil, errorf("lock journal %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s is open in another run (this process or another); wait for it to end, or use another journal file", ErrJournalInUse, path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		lock.Close()
		return nil, errorf("open journal: %w", err)
	}
	j := &Journal{path: path, f: f, lock: lock, items: map[string]journalItem{}}
	j.cond = sync.NewCond(&j.mu)
	if err := j.load(); err != nil {
		f.Close()
		lock.Close()
		return nil, errorf("journal %s: %w", path, err)
	}
	return j, nil
}

// load reads the existing records, cuts off a torn last line and positions the file at its end.
func (j *Journal) load() error {
	data, err := io.ReadAll(j.f)
	if err != nil {
		return err
	}
	good := 0          // length of the well-formed prefix
	terminate := false // the last record is complete but lacks its newline
	for line := 1; good < len(data); line++ {
		rest := data[good:]
		text, next := rest, len(rest)
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			text, next = rest[:nl], nl+1
		}
		var rec journalRecord
		if err := json.Unmarshal(text, &rec); err != nil || !j.validRecord(&rec) {
			if len(bytes.TrimSpace(rest[next:])) == 0 {
				break // the last line, torn by a crash while it was written: drop it
			}
			if j.header == nil {
				return errors.New("not a dokstamp batch journal")
			}
			return fmt.Errorf("line %d is corrupt", line)
		}
		if rec.Journal != "" && rec.Version != journalVersion {
			return fmt.Errorf("%w: it was written by an older dokstamp-go (format %d, which ties the journal to one list of items by its fingerprint): finish that run with the version that wrote it, or start this one with a new journal file", ErrJournalMismatch, rec.Version)
		}
		j.apply(&rec)
		terminate = next == len(rest) && rest[len(rest)-1] != '\n'
		good += next
	}
	if good < len(data) {
		if err := j.f.Truncate(int64(good)); err != nil {
			return err
		}
	}
	if _, err := j.f.Seek(int64(good), io.SeekStart); err != nil {
		return err
	}
	if terminate {
		if _, err := j.f.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	if good < len(data) || terminate {
		return j.f.Sync()
	}
	return nil
}

func (j *Journal) validRecord(r *journalRecord) bool {
	if j.header == nil {
		return r.Journal == journalMagic && r.Version >= 1
	}
	if r.K == "" || r.Journal != "" {
		return false
	}
	switch r.S {
	case statePending, stateDone, stateFailed, stateUploaded:
		return true
	}
	return false
}

// apply updates the in-memory state with a record; j.mu held or not yet shared.
func (j *Journal) apply(r *journalRecord) {
	if r.Journal != "" {
		h := *r
		j.header = &h
		return
	}
	it := j.items[r.K]
	switch r.S {
	case stateUploaded:
		it.file, it.hash = r.File, r.Hash
	case stateDone:
		it.state, it.cert, it.url = stateDone, r.Cert, r.URL
		if r.File != "" {
			it.file = r.File
		}
		if r.Hash != "" {
			it.hash = r.Hash
		}
	default:
		it.state = r.S
	}
	j.items[r.K] = it
}

// Close writes what is pending and closes the file. It is safe to call more than once.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.flushing {
		j.cond.Wait()
	}
	if j.closed {
		return nil
	}
	j.closed = true
	j.cond.Broadcast()
	var errs []error
	if len(j.buf) > 0 && j.err == nil {
		if _, err := j.f.Write(j.buf); err != nil {
			errs = append(errs, err)
		} else if err := j.f.Sync(); err != nil {
			errs = append(errs, err)
		}
		j.buf = nil
	}
	if err := j.f.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := j.lock.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return errorf("close journal %s: %w", j.path, err)
	}
	return nil
}

// begin starts a run on the journal, writing the header of a new one; end must follow.
func (j *Journal) begin() error {
	j.mu.Lock()
	switch {
	case j.closed:
		j.mu.Unlock()
		return ErrJournalClosed
	case j.running:
		j.mu.Unlock()
		return fmt.Errorf("%w: %s serves a run that has not returned yet", ErrJournalInUse, j.path)
	}
	j.running = true
	fresh := j.header == nil
	j.mu.Unlock()
	if !fresh {
		return nil
	}
	err := j.commit(&journalRecord{Journal: journalMagic, Version: journalVersion, Created: time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		j.end()
		return err
	}
	syncDir(j.path)
	return nil
}

// end ends the run begun by begin.
func (j *Journal) end() {
	j.mu.Lock()
	j.running = false
	j.mu.Unlock()
}

// item returns what the journal knows about the item of key k.
func (j *Journal) item(k string) journalItem {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.items[k]
}

// recordDone appends an item's done record, with its certificate, and returns once it is on disk.
func (j *Journal) recordDone(k string, cert *Certificate, file, hash string) error {
	return j.commit(&journalRecord{K: k, S: stateDone, Cert: cert.UUID, URL: cert.PublicVerificationURL,
		File: file, Hash: hash, At: time.Now().UTC().Format(time.RFC3339Nano)})
}

// record appends an item record and returns once it is on disk.
func (j *Journal) record(k, state, cert, file, hash string, cause error) error {
	r := &journalRecord{K: k, S: state, Cert: cert, File: file, Hash: hash, At: time.Now().UTC().Format(time.RFC3339Nano)}
	if cause != nil {
		r.Err = cause.Error()
		if len(r.Err) > 500 {
			r.Err = r.Err[:500]
		}
	}
	return j.commit(r)
}

// commit appends r and waits until an fsync covers it. Writers share fsyncs (group commit): the
// first waiter writes and syncs everything appended so far while the others wait for it.
func (j *Journal) commit(r *journalRecord) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrJournalClosed
	}
	if j.err != nil {
		return j.err
	}
	j.buf = append(append(j.buf, line...), '\n')
	j.apply(r)
	j.appended++
	mine := j.appended
	for j.synced < mine {
		if j.err != nil {
			return j.err
		}
		if j.flushing {
			j.cond.Wait()
			continue
		}
		j.flushing = true
		buf, upto := j.buf, j.appended
		j.buf = nil
		j.mu.Unlock()
		_, werr := j.f.Write(buf)
		if werr == nil {
			werr = j.f.Sync()
		}
		j.mu.Lock()
		j.flushing = false
		if werr != nil {
			j.err = errorf("write journal %s: %w", j.path, werr)
		} else {
			j.synced = upto
		}
		j.cond.Broadcast()
	}
	return nil
}

// syncDir makes a new file's directory entry durable; failures are ignored (not every system
// can sync a directory).
func syncDir(path string) {
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
