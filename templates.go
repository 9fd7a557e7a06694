package dokstamp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// TemplatesService manages certificate templates (the API's /certificate-templates): the
// layouts certificates are rendered with.
type TemplatesService service

// TemplateStatus is a template's state.
type TemplateStatus string

// The template states; new templates are active.
const (
	TemplateActive   TemplateStatus = "active"
	TemplateInactive TemplateStatus = "inactive"
)

var templateStatuses = []TemplateStatus{TemplateActive, TemplateInactive}

// Template is a certificate template.
type Template struct {
	UUID    string `json:"uuid"`
	Name    string `json:"name"`
	Version string `json:"version"`
	// Path is the template's internal path on the platform.
	Path             string `json:"path"`
	PreviewImagePath string `json:"preview_image_path,omitempty"`
	// CanvaConfig is the Canva design configuration as the server sent it; nil when none.
	CanvaConfig json.RawMessage `json:"canva_config,omitempty"`
	// IsDefault marks the institution's default template.
	IsDefault   bool           `json:"is_default"`
	Status      TemplateStatus `json:"status,omitempty"`
	Institution Ref            `json:"institution"`
	CreatedAt   time.Time      `json:"created_at,omitzero"`
	UpdatedAt   time.Time      `json:"updated_at,omitzero"`
}

// UnmarshalJSON accepts the version as a string or a number.
func (t *Template) UnmarshalJSON(b []byte) error {
	type plain Template
	aux := struct {
		*plain
		Version json.RawMessage `json:"version"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if string(bytes.TrimSpace(t.CanvaConfig)) == "null" {
		t.CanvaConfig = nil
	}
	t.Version = ""
	if v := bytes.TrimSpace(aux.Version); len(v) > 0 && string(v) != "null" {
		if json.Unmarshal(v, &t.Version) != nil {
			var n json.Number
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("template version %.40s is neither a string nor a number", v)
			}
			t.Version = n.String()
		}
	}
	return nil
}

// TemplateCreateParams is the body of POST /certificate-templates. Name, Version,
// InstitutionUUID and Path are required.
type TemplateCreateParams struct {
	Name             string          `json:"name"`
	Version          string          `json:"version"`
	InstitutionUUID  string          `json:"institution_uuid"`
	Path             string          `json:"path"`
	PreviewImagePath string          `json:"preview_image_path,omitempty"`
	CanvaConfig      json.RawMessage `json:"canva_config,omitempty"` // a JSON object
	IsDefault        *bool           `json:"is_default,omitempty"`
	Status           TemplateStatus  `json:"status,omitempty"` // default active
}

// Validate checks the params without sending anything and reports every problem at once.
func (p *TemplateCreateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: create template: nil params")
	}
	v := check{op: "create template"}
	v.text("name", p.Name)
	v.text("version", p.Version)
	v.uuids("institution_uuid", p.InstitutionUUID)
	v.text("path", p.Path)
	checkTemplateFields(&v, p.CanvaConfig, p.Status)
	return v.err()
}

func checkTemplateFields(v *check, canva json.RawMessage, status TemplateStatus) {
	if c := bytes.TrimSpace(canva); len(c) > 0 && (!json.Valid(c) || c[0] != '{') {
		v.add("canva_config is not a JSON object")
	}
	enum(v, "status", status, templateStatuses...)
}

// TemplateUpdateParams is a partial update: only the fields set are sent.
type TemplateUpdateParams struct {
	Name             string                    `json:"name,omitempty"`
	Version          string                    `json:"version,omitempty"`
	Path             string                    `json:"path,omitempty"`
	PreviewImagePath Nullable[string]          `json:"preview_image_path,omitzero"`
	CanvaConfig      Nullable[json.RawMessage] `json:"canva_config,omitzero"`
	IsDefault        *bool                     `json:"is_default,omitempty"`
	Status           TemplateStatus            `json:"status,omitempty"`
}

// Validate checks the fields that are set, without sending anything.
func (p *TemplateUpdateParams) Validate() error {
	if p == nil {
		return errors.New("dokstamp: update template: nil params")
	}
	v := check{op: "update template"}
	checkTemplateFields(&v, p.CanvaConfig.value, p.Status)
	return v.err()
}

// Get returns one certificate template. The route is inferred from the API's conventions.
//
// API: GET /certificate-templates/{uuid}
func (s *TemplatesService) Get(ctx context.Context, uuid string, opts ...RequestOption) (*Template, error) {
	return getByUUID[Template](ctx, s.c, "template", "certificate-templates", uuid, opts...)
}

// Create creates a certificate template. The POST rule (package doc, "Retries and duplicates") applies: after ErrOutcomeUnknown list the
// templates.
//
// API: POST /certificate-templates
func (s *TemplatesService) Create(ctx context.Context, p *TemplateCreateParams, opts ...RequestOption) (*Template, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	t, err := createIn[Template](ctx, s.c, "template", "/certificate-templates", p, opts...)
	if err != nil {
		return nil, errorf("create template %q: %w", p.Name, err)
	}
	return t, nil
}

// Update changes the fields set in p. The route is inferred from the API's conventions.
//
// API: PATCH /certificate-templates/{uuid}
func (s *TemplatesService) Update(ctx context.Context, uuid string, p *TemplateUpdateParams, opts ...RequestOption) (*Template, error) {
	if err := checkUUID("template uuid", uuid); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return updateByUUID[Template](ctx, s.c, "template", "certificate-templates", uuid, p, opts...)
}

// Delete soft-deletes a certificate template. The route is inferred from the API's conventions.
//
// API: DELETE /certificate-templates/{uuid}
func (s *TemplatesService) Delete(ctx context.Context, uuid string, opts ...RequestOption) error {
	return deleteByUUID(ctx, s.c, "template", "certificate-templates", uuid, opts...)
}

// List returns one page of certificate templates, e.g. Where: {"status": "active"}.
//
// API: GET /certificate-templates
func (s *TemplatesService) List(ctx context.Context, list *ListOptions, opts ...RequestOption) (*Page[Template], error) {
	return listPage[Template](ctx, s.c, "/certificate-templates", list, opts...)
}

// All iterates over every certificate template matching list, fetching pages as needed.
//
// API: GET /certificate-templates
func (s *TemplatesService) All(ctx context.Context, list *ListOptions, opts ...RequestOption) iter.Seq2[Template, error] {
	return listAll[Template](ctx, s.c, "/certificate-templates", list, opts...)
}
