package dokstamp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrJournalMismatch is returned when a journal written for one set of items is given to a run
// over another set. Use a new journal file for a new batch.
var ErrJournalMismatch = errors.New("dokstamp: journal belongs to another batch")

// ErrJournalClosed is returned when a run is given a closed Journal.
var ErrJournalClosed = errors.New("dokstamp: journal closed")

// Journal makes bulk issuance resumable. It is an append-only file of JSON lines: a header
// naming the batch (a fingerprint of its items), then one line per step of each item. An item
// is recorded as pending, and the record is on disk (fsync), before its certificate is
// requested, and as done (with the certificate's UUID) or failed when it settles. A later run
// over the same items with the same journal skips what is done, looks up what is pending (a
// crash may have left its outcome unknown) before sending anything again, and issues the rest,
// failed items included.
//
// Open it with OpenJournal and give it to BatchOptions.Journal; Close it when the run is over.
// A Journal is safe for concurrent use, but one journal file must be used by one process at a
// time. A line cut short by a crash at the end of the file is ignored (and cut off).
type Journal struct {
	path string
	f    *os.File

	mu       sync.Mutex
	cond     *sync.Cond
	header   *journalRecord
	items    map[int]journalItem
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
}

// Journal record states.
const (
	statePending  = "pending"
	stateDone     = "done"
	stateFailed   = "failed"
	stateUploaded = "uploaded"
)

// journalRecord is one line of the file. The header has Journal set; item records have I and S.
type journalRecord struct {
	Journal     string `json:"journal,omitempty"` // "dokstamp-batch" on the header
	Version     int    `json:"v,omitempty"`
	Kind        string `json:"kind,omitempty"` // "certificates" or "issue"
	Items       int    `json:"items,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Created     string `json:"created,omitempty"`

	I    *int   `json:"i,omitempty"`
	S    string `json:"s,omitempty"`
	Cert string `json:"cert,omitempty"`
	URL  string `json:"url,omitempty"` // the certificate's public verification URL
	File string `json:"file,omitempty"`
	Err  string `json:"err,omitempty"`
	At   string `json:"at,omitempty"`
}

const journalMagic = "dokstamp-batch"

// OpenJournal opens the journal at path, creating it when it does not exist, and reads what it
// holds. It fails when the file is not a journal, or is corrupt before its last line.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dokstamp: open journal: %w", err)
	}
	j := &Journal{path: path, f: f, items: map[int]journalItem{}}
	j.cond = sync.NewCond(&j.mu)
	if err := j.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("dokstamp: journal %s: %w", path, err)
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
		return r.Journal == journalMagic && r.Version == 1 && r.Fingerprint != ""
	}
	if r.I == nil || *r.I < 0 || *r.I >= j.header.Items {
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
	it := j.items[*r.I]
	switch r.S {
	case stateUploaded:
		it.file = r.File
	case stateDone:
		it.state, it.cert, it.url = stateDone, r.Cert, r.URL
		if r.File != "" {
			it.file = r.File
		}
	default:
		it.state = r.S
	}
	j.items[*r.I] = it
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
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dokstamp: close journal %s: %w", j.path, err)
	}
	return nil
}

// bind ties the journal to a batch: a new journal gets the header, an existing one must have been
// written for the same kind of run over the same items.
func (j *Journal) bind(kind, fingerprint string, n int) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrJournalClosed
	}
	if h := j.header; h != nil {
		j.mu.Unlock()
		if h.Kind != kind || h.Fingerprint != fingerprint || h.Items != n {
			return fmt.Errorf("%w: %s was written for a %s run over %d items (fingerprint %.12s…), this is a %s run over %d items (fingerprint %.12s…); use a new journal file",
				ErrJournalMismatch, j.path, h.Kind, h.Items, h.Fingerprint, kind, n, fingerprint)
		}
		return nil
	}
	j.mu.Unlock()
	err := j.commit(&journalRecord{Journal: journalMagic, Version: 1, Kind: kind, Items: n,
		Fingerprint: fingerprint, Created: time.Now().UTC().Format(time.RFC3339)})
	if err == nil {
		syncDir(j.path)
	}
	return err
}

// item returns what the journal knows about item i.
func (j *Journal) item(i int) journalItem {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.items[i]
}

// recordDone appends an item's done record, with its certificate, and returns once it is on disk.
func (j *Journal) recordDone(i int, cert *Certificate, file string) error {
	return j.commit(&journalRecord{I: &i, S: stateDone, Cert: cert.UUID, URL: cert.PublicVerificationURL,
		File: file, At: time.Now().UTC().Format(time.RFC3339Nano)})
}

// record appends an item record and returns once it is on disk.
func (j *Journal) record(i int, state, cert, file string, cause error) error {
	r := &journalRecord{I: &i, S: state, Cert: cert, File: file, At: time.Now().UTC().Format(time.RFC3339Nano)}
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
			j.err = fmt.Errorf("dokstamp: write journal %s: %w", j.path, werr)
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

// fingerprint hashes what identifies a batch's items.
func fingerprint(kind string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("dokstamp: fingerprint %s batch: %w", kind, err)
	}
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}
