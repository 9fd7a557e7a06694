package dokstamp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"time"
)

// InstitutionsService manages institutions, the issuing bodies at the root of the academic
// structure, and serves their Open Badges issuer profiles.
type InstitutionsService service

// InstitutionStatus is an institution's state. Prefer InstitutionInactive to deleting one.
type InstitutionStatus string

// The institution states; new institutions are active.
const (
	InstitutionActive    InstitutionStatus = "active"
	InstitutionInactive  InstitutionStatus = "inactive"
	InstitutionSuspended InstitutionStatus = "suspended"
)

// Institution is an issuing body (a university, a school).
type Institution struct {
	UUID                 string            `json:"uuid"`
	Name                 string            `json:"name"`
	LegalName            string            `json:"legal_name,omitempty"`
	TaxID                string            `json:"tax_id,omitempty"` // e.g. a CNPJ
	Country              string            `json:"country,omitempty"`
	Website              string            `json:"website,omitempty"`
	LinkedInOrganization string            `json:"linkedin_organization,omitempty"` // LinkedIn slug
	Status               InstitutionStatus `json:"status,omitempty"`
	IsBadgesEnabled      bool              `json:"is_badges_enabled"`
	// BadgeImageUUID is the file UUID of the Open Badges image; "" when none is set.
	BadgeImageUUID string    `json:"badge_image_uuid,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// InstitutionCreateParams is the body of POST /institutions. Name and Country are required;
// BadgeImageUUID is required when IsBadgesEnabled is true.
type InstitutionCreateParams struct {
	Name                 string            `json:"name"`
	Country              string            `json:"country"`
	LegalName            string            `json:"legal_name,omitempty"`
	TaxID                string            `json:"tax_id,omitempty"`
	Website              string            `json:"website,omitempty"`
	LinkedInOrganization string            `json:"linkedin_organization,omitempty"`
	Status               InstitutionStatus `json:"status,omitempty"` // default active
	IsBadgesEnabled      *bool             `json:"is_badges_enabled,omitempty"`
	BadgeImageUUID       string            `json:"badge_image_uuid,omitempty"`
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *InstitutionCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create institution: nil params")
	}
	v := check{op: "create institution"}
	v.text("name", p.Name)
	v.maxLen("name", p.Name, 255)
	v.text("country", p.Country)
	enum(&v, "status", p.Status, InstitutionActive, InstitutionInactive, InstitutionSuspended)
	if p.IsBadgesEnabled != nil && *p.IsBadgesEnabled && p.BadgeImageUUID == "" {
		v.add("badge_image_uuid is required when is_badges_enabled is true")
	} else {
		v.optionalUUID("badge_image_uuid", p.BadgeImageUUID)
	}
	return v.err()
}

// InstitutionUpdateParams is a partial update: only the fields set are sent.
type InstitutionUpdateParams struct {
	Name                 string            `json:"name,omitempty"`
	Country              string            `json:"country,omitempty"`
	LegalName            Nullable[string]  `json:"legal_name,omitzero"`
	TaxID                Nullable[string]  `json:"tax_id,omitzero"`
	Website              Nullable[string]  `json:"website,omitzero"`
	LinkedInOrganization Nullable[string]  `json:"linkedin_organization,omitzero"`
	Status               InstitutionStatus `json:"status,omitempty"`
	IsBadgesEnabled      *bool             `json:"is_badges_enabled,omitempty"`
	BadgeImageUUID       Nullable[string]  `json:"badge_image_uuid,omitzero"`
}

// Validate checks the fields that are set, without sending anything.
func (p *InstitutionUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update institution: nil params")
	}
	v := check{op: "update institution"}
	v.maxLen("name", p.Name, 255)
	enum(&v, "status", p.Status, InstitutionActive, InstitutionInactive, InstitutionSuspended)
	v.optionalUUID("badge_image_uuid", p.BadgeImageUUID.value)
	return v.err()
}

// Get returns one institution. The route is inferred from the API's conventions.
//
// API: GET /institutions/{uuid}
func (s *InstitutionsService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Institution, error) {
	return getByUUID[Institution](ctx, s.c, "institution", "institutions", uuid, opts...)
}

// Create creates an institution. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown list the
// institutions.
//
// API: POST /institutions
func (s *InstitutionsService) Create(ctx context.Context, p *InstitutionCreateParams, opts ...RequestOption) (*Institution, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	inst, err := createIn[Institution](ctx, s.c, "institution", "/institutions", p, opts...)
	if err != nil {
		return nil, errorf("create institution %q: %w", p.Name, err)
	}
	return inst, nil
}

// Update changes the fields set in p, for example Status: InstitutionInactive, or
// IsBadgesEnabled with BadgeImageUUID to turn Open Badges on.
//
// API: PATCH /institutions/{uuid}
func (s *InstitutionsService) Update(ctx context.Context, uuid string, p *InstitutionUpdateParams, opts ...RequestOption) (*Institution, error) {
	if err := checkUUID("institution uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Institution](ctx, s.c, "institution", "institutions", uuid, p, opts...)
}

// Delete soft-deletes an institution. The server refuses while a course, module or certificate
// references it; prefer Update with Status: InstitutionInactive. The route is inferred.
//
// API: DELETE /institutions/{uuid}
func (s *InstitutionsService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "institution", "institutions", uuid, opts...)
}

// DestroyBatch soft-deletes any number of institutions, in chunks of MaxBatchIDs. A failed
// chunk is reported in a *ChunkError; the others still ran. The route is inferred from the
// bulk-operations guide ("most resources").
//
// API: DELETE /institutions/batch/destroy
func (s *InstitutionsService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "institutions", uuids, opts...)
}

// List returns one page of institutions.
//
// API: GET /institutions
func (s *InstitutionsService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Institution], error) {
	return listPage[Institution](ctx, s.c, "/institutions", list, opts...)
}

// All iterates over every institution matching list, fetching pages as needed.
//
// API: GET /institutions
func (s *InstitutionsService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Institution, error] {
	return listAll[Institution](ctx, s.c, "/institutions", list, opts...)
}

// BadgeIssuer is an institution's Open Badges 2.0 issuer profile (JSON-LD). The common fields
// are decoded; Raw keeps the whole profile as the server sent it.
type BadgeIssuer struct {
	Context     json.RawMessage `json:"@context,omitempty"` // usually "https://w3id.org/openbadges/v2"
	Type        string          `json:"type"`               // "Issuer"
	ID          string          `json:"id"`                 // the profile's own URL
	Name        string          `json:"name"`
	URL         string          `json:"url,omitempty"`
	Email       string          `json:"email,omitempty"`
	Description string          `json:"description,omitempty"`
	// Image is the image URL (or the id of an embedded Image object).
	Image string          `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// BadgeIssuer returns the institution's Open Badges issuer profile, which badge verifiers
// fetch. The answer is accepted both bare and wrapped in {"data": ...}.
//
// API: GET /institutions/{uuid}/badges/issuers
func (s *InstitutionsService) BadgeIssuer(ctx context.Context, uuid string, opts ...RequestOption) (*BadgeIssuer, error) {
	if err := checkUUID("institution uuid", uuid); err != nil {
		return nil, err
	}
	r := &request{method: "GET", path: pathOf("institutions", uuid, "badges", "issuers"), opts: opts}
	var raw json.RawMessage
	if err := s.c.call(ctx, r, &raw); err != nil {
		return nil, err
	}
	bi, err := decodeBadgeIssuer(raw)
	if err != nil {
		return nil, &DecodeError{Method: r.method, Path: r.path, StatusCode: 200, ContentType: "application/ld+json", Err: err}
	}
	return bi, nil
}

// decodeBadgeIssuer reads an issuer profile, bare or inside {"data": ...}.
func decodeBadgeIssuer(raw json.RawMessage) (*BadgeIssuer, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, err
	}
	if d, ok := top["data"]; ok && top["@context"] == nil && top["type"] == nil {
		if err := json.Unmarshal(d, &top); err != nil {
			return nil, errors.New(`"data" is not an object`)
		}
		raw = d
	}
	var aux struct {
		BadgeIssuer
		Image json.RawMessage `json:"image"`
	}
	if err := json.Unmarshal(raw, &aux); err != nil {
		return nil, err
	}
	bi := aux.BadgeIssuer
	bi.Image = imageURL(aux.Image)
	bi.Raw = append(json.RawMessage(nil), bytes.TrimSpace(raw)...)
	if bi.Type == "" && bi.ID == "" && bi.Name == "" {
		return nil, errors.New("no issuer profile (no type, id or name)")
	}
	return &bi, nil
}

// imageURL reads Open Badges' image, which is a URL or an Image object with an id.
func imageURL(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}
