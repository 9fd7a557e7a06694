package dokstamptest

import (
	"net/http"
	"strconv"
)

// The document-signing routes are inferred: only their paths and request
// bodies appear in the docs' guides.

type indexerJSON struct {
	Indexer string `json:"indexer"`
	Rule    string `json:"rule"`
}

type documentTypeJSON struct {
	ID                    int           `json:"id"`
	UUID                  string        `json:"uuid"`
	Description           string        `json:"description"`
	SignedByThird         bool          `json:"signed_by_third"`
	MultiplesThirdSigners bool          `json:"multiples_third_signers"`
	Indexers              []indexerJSON `json:"indexers"`
	CreatedAt             string        `json:"created_at"`
}

type documentType struct {
	rec
	id int
	j  documentTypeJSON
}

func (e *documentType) view(*Server) any {
	j := e.j
	j.ID, j.UUID, j.CreatedAt = e.id, e.uuid, stamp(e.created)
	j.Indexers = append([]indexerJSON{}, e.j.Indexers...)
	return j
}

type documentJSON struct {
	ID             int    `json:"id"`
	UUID           string `json:"uuid"`
	Description    string `json:"description"`
	DocumentTypeID int    `json:"document_type_id"`
	FileUUID       string `json:"file_uuid"`
	Status         string `json:"status"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

type document struct {
	rec
	id      int
	docType *documentType
	file    *file
	resends int
	j       documentJSON
}

func (e *document) view(*Server) any {
	j := e.j
	j.ID, j.UUID = e.id, e.uuid
	j.DocumentTypeID, j.FileUUID = e.docType.id, e.file.uuid
	j.CreatedAt, j.UpdatedAt = stamp(e.created), stamp(e.updated)
	return j
}

type signedJSON struct {
	ID     int    `json:"id"`
	Status string `json:"status"`
}

func (s *Server) registerDocuments() {
	s.handle("GET /document-types", scopeTenant, func(c *call) { s.list(c, c.t.docTypes, nil) })
	s.handle("POST /document-types", scopeTenant, func(c *call) {
		var p struct {
			Description           *string `json:"description"`
			SignedByThird         *bool   `json:"signed_by_third"`
			MultiplesThirdSigners *bool   `json:"multiples_third_signers"`
			Indexers              []struct {
				Indexer *string `json:"indexer"`
				Rule    *string `json:"rule"`
			} `json:"indexers"`
		}
		if !c.decode(&p) {
			return
		}
		var v validator
		v.str("description", p.Description, true, 255)
		idx := []indexerJSON{}
		for i, in := range p.Indexers {
			f := "indexers." + strconv.Itoa(i) + "."
			v.str(f+"indexer", in.Indexer, true, 255)
			if in.Rule == nil {
				v.requiredMsg(f + "rule")
			} else {
				v.enum(f+"rule", in.Rule, "Outro", "CPF", "E-mail")
			}
			if in.Indexer != nil && in.Rule != nil {
				idx = append(idx, indexerJSON{Indexer: *in.Indexer, Rule: *in.Rule})
			}
		}
		if !v.ok() {
			c.invalid(v.errs)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.nextID++
		e := &documentType{rec: s.newRec(c.t), id: s.nextID, j: documentTypeJSON{Description: *p.Description, Indexers: idx}}
		setBool(&e.j.SignedByThird, p.SignedByThird)
		setBool(&e.j.MultiplesThirdSigners, p.MultiplesThirdSigners)
		c.t.docTypes.add(e)
		c.t.docTypeByID[e.id] = e
		c.data(http.StatusCreated, e.view(s))
	})
	s.handle("GET /document-types/{id}", scopeTenant, func(c *call) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		id, _ := strconv.Atoi(c.r.PathValue("id"))
		if e := c.t.docTypeByID[id]; e != nil && e.deleted.IsZero() {
			c.data(http.StatusOK, e.view(s))
			return
		}
		c.notFound()
	})

	s.handle("GET /documents", scopeTenant, func(c *call) { s.list(c, c.t.documents, nil) })
	s.handle("POST /documents", scopeTenant, func(c *call) {
		var p struct {
			Description    *string `json:"description"`
			DocumentTypeID *int    `json:"document_type_id"`
			FileUUID       *string `json:"file_uuid"`
		}
		if !c.decode(&p) {
			return
		}
		var v validator
		v.str("description", p.Description, true, 255)
		s.mu.Lock()
		defer s.mu.Unlock()
		var dt *documentType
		if p.DocumentTypeID == nil {
			v.requiredMsg("document_type_id")
		} else if dt = c.t.docTypeByID[*p.DocumentTypeID]; dt == nil {
			v.add("document_type_id", "The selected document type id is invalid.")
		}
		f, _ := v.ref("file_uuid", p.FileUUID, c.t.files, true).(*file)
		if !v.ok() {
			c.invalid(v.errs)
			return
		}
		s.nextID++
		e := &document{rec: s.newRec(c.t), id: s.nextID, docType: dt, file: f,
			j: documentJSON{Description: *p.Description, Status: "pending"}}
		c.t.documents.add(e)
		c.t.documentByID[e.id] = e
		c.data(http.StatusCreated, e.view(s))
	})
	s.handle("GET /documents/{id}", scopeTenant, func(c *call) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		id, _ := strconv.Atoi(c.r.PathValue("id"))
		if e := c.t.documentByID[id]; e != nil && e.deleted.IsZero() {
			c.data(http.StatusOK, e.view(s))
			return
		}
		c.notFound()
	})

	s.handle("POST /documents/signatures/batch/resend", scopeTenant, func(c *call) {
		var p struct {
			DocumentIDs []int `json:"document_ids"`
		}
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		docs := s.batchDocuments(c, p.DocumentIDs)
		if docs == nil {
			return
		}
		for _, d := range docs {
			d.resends++
		}
		c.json(http.StatusOK, messageJSON{Message: "Signature requests resent."})
	})
	s.handle("POST /documents/batch/sign/{cert_id}", scopeTenant, func(c *call) {
		var p struct {
			DocumentIDs []int   `json:"document_ids"`
			PIN         *string `json:"pin"`
		}
		if !c.decode(&p) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		id, err := strconv.Atoi(c.r.PathValue("cert_id"))
		pin, ok := c.t.signingCerts[id]
		if err != nil || !ok {
			c.missing("signing-certificates", c.r.PathValue("cert_id"))
			return
		}
		if p.PIN == nil || *p.PIN == "" {
			c.invalidField("pin", "The pin field is required.")
			return
		}
		docs := s.batchDocuments(c, p.DocumentIDs)
		if docs == nil {
			return
		}
		if *p.PIN != pin {
			c.invalidField("pin", "The PIN is invalid.")
			return
		}
		now := s.now()
		out := make([]signedJSON, 0, len(docs))
		for _, d := range docs {
			d.j.Status, d.updated = "signed", now
			out = append(out, signedJSON{ID: d.id, Status: "signed"})
		}
		c.data(http.StatusOK, out)
	})
}

// batchDocuments resolves the document ids of a batch request, all or
// nothing; on failure it records a 422 and returns nil.
func (s *Server) batchDocuments(c *call, ids []int) []*document {
	var v validator
	switch {
	case len(ids) == 0:
		v.requiredMsg("document_ids")
	case len(ids) > s.cfg.maxBatch:
		v.add("document_ids", "The document ids may not have more than "+strconv.Itoa(s.cfg.maxBatch)+" items.")
	}
	docs := make([]*document, 0, len(ids))
	if v.ok() {
		for i, id := range ids {
			d := c.t.documentByID[id]
			if d == nil || !d.deleted.IsZero() {
				f := "document_ids." + strconv.Itoa(i)
				v.add(f, "The selected "+f+" is invalid.")
				continue
			}
			docs = append(docs, d)
		}
	}
	if !v.ok() {
		c.invalid(v.errs)
		return nil
	}
	return docs
}

// Document is a document as the server holds it, for inspection in tests.
type Document struct {
	ID             int
	UUID           string
	Description    string
	DocumentTypeID int
	FileUUID       string
	Status         string // "pending" or "signed"
	Resends        int    // signature requests re-sent by batch/resend
}

// Documents returns the default tenant's documents in creation order.
func (s *Server) Documents() []Document {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Document
	if t := s.tenants[s.Tenant]; t != nil {
		t.documents.live(func(en entity) {
			d := en.(*document)
			out = append(out, Document{ID: d.id, UUID: d.uuid, Description: d.j.Description, DocumentTypeID: d.docType.id,
				FileUUID: d.file.uuid, Status: d.j.Status, Resends: d.resends})
		})
	}
	return out
}

// Resends reports how many times the signature requests of document id (of
// any tenant) were re-sent through POST /documents/signatures/batch/resend.
func (s *Server) Resends(id int) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.tenantOrder {
		if d := t.documentByID[id]; d != nil {
			return d.resends
		}
	}
	return 0
}
