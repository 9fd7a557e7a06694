package dokstamp

import (
	"context"
	"errors"
	"iter"
	"time"
)

// OrganizationsService manages organizations: the sub-units of an institution, such as a
// faculty, a department or a campus.
type OrganizationsService service

// Organization is a sub-unit of an institution.
type Organization struct {
	UUID        string    `json:"uuid"`
	Name        string    `json:"name"`
	Code        string    `json:"code,omitempty"` // short reference
	Institution Ref       `json:"institution"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// OrganizationCreateParams is the body of POST /organizations. Name and InstitutionUUID are
// required.
type OrganizationCreateParams struct {
	Name            string `json:"name"`
	InstitutionUUID string `json:"institution_uuid"`
	Code            string `json:"code,omitempty"`
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *OrganizationCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create organization: nil params")
	}
	v := check{op: "create organization"}
	v.text("name", p.Name)
	v.uuids("institution_uuid", p.InstitutionUUID)
	return v.err()
}

// OrganizationUpdateParams is a partial update: only the fields set are sent.
type OrganizationUpdateParams struct {
	Name string           `json:"name,omitempty"`
	Code Nullable[string] `json:"code,omitzero"`
}

// Get returns one organization.
//
// API: GET /organizations/{uuid}
func (s *OrganizationsService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Organization, error) {
	return getByUUID[Organization](ctx, s.c, "organization", "organizations", uuid, opts...)
}

// Create creates an organization under an institution. The POST rule (package doc, "Retries and duplicates") applies: after
// ErrOutcomeUnknown list the organizations.
//
// API: POST /organizations
func (s *OrganizationsService) Create(ctx context.Context, p *OrganizationCreateParams, opts ...RequestOption) (*Organization, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	o, err := createIn[Organization](ctx, s.c, "organization", "/organizations", p, opts...)
	if err != nil {
		return nil, errorf("create organization %q: %w", p.Name, err)
	}
	return o, nil
}

// Update changes the fields set in p.
//
// API: PATCH /organizations/{uuid}
func (s *OrganizationsService) Update(ctx context.Context, uuid string, p *OrganizationUpdateParams, opts ...RequestOption) (*Organization, error) {
	return updateByUUID[Organization](ctx, s.c, "organization", "organizations", uuid, p, opts...)
}

// Delete soft-deletes an organization.
//
// API: DELETE /organizations/{uuid}
func (s *OrganizationsService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "organization", "organizations", uuid, opts...)
}

// DestroyBatch soft-deletes any number of organizations, in chunks of MaxBatchIDs. A failed
// chunk is reported in a *ChunkError; the others still ran.
//
// API: DELETE /organizations/batch/destroy
func (s *OrganizationsService) DestroyBatch(ctx context.Context, uuids []string, opts ...RequestOption) error {
	return destroyBatch(ctx, s.c, "organizations", uuids, opts...)
}

// List returns one page of organizations, e.g. Where: {"institution_uuid": ...}.
//
// API: GET /organizations
func (s *OrganizationsService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Organization], error) {
	return listPage[Organization](ctx, s.c, "/organizations", list, opts...)
}

// All iterates over every organization matching list, fetching pages as needed.
//
// API: GET /organizations
func (s *OrganizationsService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Organization, error] {
	return listAll[Organization](ctx, s.c, "/organizations", list, opts...)
}
