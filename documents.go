package dokstamp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
)

// DocumentsService drives the document-signing workflow: document types, documents, re-sending
// signature requests and institutional signing in bulk. Documents and document types are
// identified by integer ids, unlike the rest of the API.
type DocumentsService service

// The document routes, in one table. The docs show only the POST routes (the create calls in the
// signing-workflow page, the two batch calls in the bulk-operations guide); the signer and
// signature routes are not documented at all. Routes marked inferred are guesses from the
// API's conventions and may not exist on every server.
const (
	routeDocumentTypes    = "/document-types"                    // POST: documented
	routeDocuments        = "/documents"                         // POST: documented; GET: inferred
	routeDocument         = "/documents/"                        // + {id}; GET: inferred
	routeResendSignatures = "/documents/signatures/batch/resend" // POST: documented
	routeSignBatch        = "/documents/batch/sign/"             // + {cert_id}; POST: documented
)

// IndexerRule is the kind of value a document-type indexer holds.
type IndexerRule string

// The indexer rules, spelled as the API spells them.
const (
	RuleOther IndexerRule = "Outro"  // any text
	RuleCPF   IndexerRule = "CPF"    // a Brazilian tax id
	RuleEmail IndexerRule = "E-mail" // an e-mail address
)

// DocumentIndexer is a labelled field documents of a type are indexed by.
type DocumentIndexer struct {
	Indexer string      `json:"indexer"` // the label
	Rule    IndexerRule `json:"rule"`
}

// DocumentType describes a kind of document and who signs it.
type DocumentType struct {
	ID                    int               `json:"id"`
	UUID                  string            `json:"uuid,omitempty"`
	Description           string            `json:"description"`
	SignedByThird         bool              `json:"signed_by_third"`
	MultiplesThirdSigners bool              `json:"multiples_third_signers"`
	Indexers              []DocumentIndexer `json:"indexers,omitempty"`
	CreatedAt             time.Time         `json:"created_at,omitzero"`
	UpdatedAt             time.Time         `json:"updated_at,omitzero"`
}

// DocumentTypeCreateParams is the body of POST /document-types. Description is required;
// SignedByThird says third parties sign the documents, MultiplesThirdSigners that several may.
type DocumentTypeCreateParams struct {
	Description           string            `json:"description"`
	SignedByThird         bool              `json:"signed_by_third"`
	MultiplesThirdSigners bool              `json:"multiples_third_signers"`
	Indexers              []DocumentIndexer `json:"indexers,omitempty"`
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *DocumentTypeCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create document type: nil params")
	}
	v := check{op: "create document type"}
	v.text("description", p.Description)
	for i, ix := range p.Indexers {
		v.text(fmt.Sprintf("indexers[%d].indexer", i), ix.Indexer)
		if ix.Rule == "" {
			v.add("indexers[%d].rule is required", i)
		}
		enum(&v, fmt.Sprintf("indexers[%d].rule", i), ix.Rule, RuleOther, RuleCPF, RuleEmail)
	}
	return v.err()
}

// Document is a PDF to be signed.
type Document struct {
	ID             int       `json:"id"`
	UUID           string    `json:"uuid,omitempty"`
	Description    string    `json:"description"`
	DocumentTypeID int       `json:"document_type_id"`
	FileUUID       string    `json:"file_uuid,omitempty"`
	Status         string    `json:"status,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// DocumentCreateParams is the body of POST /documents. Description, DocumentTypeID and FileUUID
// (an uploaded PDF, see FilesService.Upload) are required. The docs' example body is cut off
// after these fields: Extra carries any further fields your server expects, merged into the
// JSON body; it may not repeat the typed fields.
type DocumentCreateParams struct {
	Description    string
	DocumentTypeID int
	FileUUID       string
	Extra          map[string]any
}

// MarshalJSON writes the typed fields and Extra as one JSON object.
func (p DocumentCreateParams) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.Extra)+3)
	for k, v := range p.Extra {
		m[k] = v
	}
	m["description"] = p.Description
	m["document_type_id"] = p.DocumentTypeID
	if p.FileUUID != "" {
		m["file_uuid"] = p.FileUUID
	}
	return json.Marshal(m)
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *DocumentCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create document: nil params")
	}
	v := check{op: "create document"}
	v.text("description", p.Description)
	if p.DocumentTypeID <= 0 {
		v.add("document_type_id is required (a positive id)")
	}
	v.uuids("file_uuid", p.FileUUID)
	for _, k := range []string{"description", "document_type_id", "file_uuid"} {
		if _, dup := p.Extra[k]; dup {
			v.add("Extra repeats the typed field %s", k)
		}
	}
	return v.err()
}

// CreateType creates a document type. The POST rule (package doc, "Retries and duplicates") applies.
//
// API: POST /document-types
func (s *DocumentsService) CreateType(ctx context.Context, p *DocumentTypeCreateParams, opts ...RequestOption) (*DocumentType, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	t, err := createIn[DocumentType](ctx, s.c, "document type", routeDocumentTypes, p, opts...)
	if err != nil {
		return nil, errorf("create document type %q: %w", p.Description, err)
	}
	return t, nil
}

// Create creates a document to be signed from an uploaded PDF. The POST rule (package doc, "Retries and duplicates") applies.
//
// API: POST /documents
func (s *DocumentsService) Create(ctx context.Context, p *DocumentCreateParams, opts ...RequestOption) (*Document, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d, err := createIn[Document](ctx, s.c, "document", routeDocuments, p, opts...)
	if err != nil {
		return nil, errorf("create document %q: %w", p.Description, err)
	}
	return d, nil
}

// Get returns one document, e.g. to poll its signature status. The route is inferred (the
// document routes other than the POSTs are not documented).
//
// API: GET /documents/{id}
func (s *DocumentsService) Get(ctx context.Context, id int, opts ...RequestOption) (*Document, error) {
	if id <= 0 {
		return nil, fmt.Errorf("dokstamp: get document: id %d is not positive", id)
	}
	return doData[Document](ctx, s.c, &request{method: "GET", path: routeDocument + strconv.Itoa(id), opts: opts})
}

// List returns one page of documents. The route is inferred (not documented).
//
// API: GET /documents
func (s *DocumentsService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Document], error) {
	return listPage[Document](ctx, s.c, routeDocuments, list, opts...)
}

// All iterates over every document matching list, fetching pages as needed. The route is
// inferred (not documented).
//
// API: GET /documents
func (s *DocumentsService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Document, error] {
	return listAll[Document](ctx, s.c, routeDocuments, list, opts...)
}

// ResendSignatures e-mails the signature requests of the documents to their signers again. Any
// number of ids is accepted (repeats are dropped); they are sent in chunks of MaxBatchIDs, one
// request after another, and a failed chunk is reported in a *ChunkError[int] while the others
// still run. The POST rule (package doc, "Retries and duplicates") applies: a chunk whose outcome is unknown may have sent its e-mails.
//
// API: POST /documents/signatures/batch/resend
func (s *DocumentsService) ResendSignatures(ctx context.Context, documentIDs []int, opts ...RequestOption) error {
	results, err := s.ResendSignaturesChunks(ctx, documentIDs)
	if err != nil {
		return err
	}
	return chunkErr("resend signatures", results)
}

// ResendSignaturesChunks is ResendSignatures with one result per chunk sent, for callers that
// track which ids went through (the bulk engine). The error is for input refused before sending.
//
// API: POST /documents/signatures/batch/resend
func (s *DocumentsService) ResendSignaturesChunks(ctx context.Context, documentIDs []int, opts ...RequestOption) ([]ChunkResult[int], error) {
	const op = "resend signatures"
	chunks, err := documentChunks(ctx, op, documentIDs, s.c.batchIDs(), nil)
	if err != nil {
		return nil, err
	}
	return runChunks(ctx, chunks, func(ctx context.Context, ids []int) error {
		body := struct {
			DocumentIDs []int `json:"document_ids"`
		}{ids}
		return s.c.call(ctx, &request{method: "POST", path: routeResendSignatures, body: body, class: retryUnsafe, opts: opts}, nil)
	}), nil
}

// SignBatch signs the documents with the institution's stored digital certificate certID,
// unlocked by pin. Any number of ids is accepted (repeats are dropped); they are sent in chunks
// of MaxBatchIDs, one request after another, and a failed chunk is reported in a
// *ChunkError[int] while the others still run. The POST rule (package doc, "Retries and duplicates") applies: a chunk whose outcome is
// unknown may have been signed; check the documents before signing them again. The pin never
// appears in an error or a log line, even when the server echoes it.
//
// API: POST /documents/batch/sign/{cert_id}
func (s *DocumentsService) SignBatch(ctx context.Context, certID int, documentIDs []int, pin string, opts ...RequestOption) error {
	results, err := s.SignBatchChunks(ctx, certID, documentIDs, pin)
	if err != nil {
		return err
	}
	return chunkErr("sign documents", results)
}

// SignBatchChunks is SignBatch with one result per chunk sent, for callers that track which ids
// went through (the bulk engine). The error is for input refused before sending.
//
// API: POST /documents/batch/sign/{cert_id}
func (s *DocumentsService) SignBatchChunks(ctx context.Context, certID int, documentIDs []int, pin string, opts ...RequestOption) ([]ChunkResult[int], error) {
	const op = "sign documents"
	chunks, err := documentChunks(ctx, op, documentIDs, s.c.batchIDs(), func(v *check) {
		if certID <= 0 {
			v.add("certificate id %d is not positive", certID)
		}
		if strings.TrimSpace(pin) == "" {
			v.add("empty pin")
		}
	})
	if err != nil {
		return nil, err
	}
	path := routeSignBatch + strconv.Itoa(certID)
	return runChunks(ctx, chunks, func(ctx context.Context, ids []int) error {
		body := struct {
			DocumentIDs []int  `json:"document_ids"`
			PIN         string `json:"pin"`
		}{ids, pin}
		return s.c.call(ctx, &request{method: "POST", path: path, body: body, class: retryUnsafe, secrets: []string{pin}, opts: opts}, nil)
	}), nil
}

// documentChunks checks the context, the ids (and whatever more) and splits the ids into chunks
// of size.
func documentChunks(ctx context.Context, op string, ids []int, size int, more func(*check)) ([][]int, error) {
	v := check{op: op}
	if ctx == nil {
		v.add("nil context")
	}
	if more != nil {
		more(&v)
	}
	if len(ids) == 0 {
		v.add("no document ids")
	}
	for _, id := range ids {
		if id <= 0 {
			v.add("document id %d is not positive", id)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return chunkIDs(op, ids, size, func(int) error { return nil })
}
