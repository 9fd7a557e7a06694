package dokstamp

import (
	"context"
	"errors"
	"fmt"
)

// Ptr returns a pointer to v, for optional fields of params structs: Finish: dokstamp.Ptr(true).
func Ptr[T any](v T) *T { return &v }

// isUUID reports whether s has the canonical 8-4-4-4-12 hexadecimal form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// checkUUID fails for an id that is not a UUID, before anything is sent.
func checkUUID(what, id string) error {
	if id == "" {
		return fmt.Errorf("dokstamp: empty %s", what)
	}
	if !isUUID(id) {
		return fmt.Errorf("dokstamp: %s %q is not a UUID", what, id)
	}
	return nil
}

// requireUUIDs checks named required UUID fields of a params struct, all at once.
func requireUUIDs(op string, fields ...string) error {
	var errs []error
	for i := 0; i+1 < len(fields); i += 2 {
		name, v := fields[i], fields[i+1]
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		} else if !isUUID(v) {
			errs = append(errs, fmt.Errorf("%s %q is not a UUID", name, v))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dokstamp: %s: %w", op, errors.Join(errs...))
	}
	return nil
}

// optionalUUIDs checks UUID fields that may be empty.
func optionalUUIDs(op string, fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if v := fields[i+1]; v != "" && !isUUID(v) {
			return fmt.Errorf("dokstamp: %s: %s %q is not a UUID", op, fields[i], v)
		}
	}
	return nil
}

// getByUUID is GET /{collection}/{uuid}.
func getByUUID[T any](ctx context.Context, c *Client, kind, collection, id string, opts ...RequestOption) (*T, error) {
	if err := checkUUID(kind+" uuid", id); err != nil {
		return nil, err
	}
	return doData[T](ctx, c, &request{method: "GET", path: pathOf(collection, id), opts: opts})
}

// createIn is POST /{path} with params as the JSON body.
func createIn[T, P any](ctx context.Context, c *Client, kind, path string, p *P, opts ...RequestOption) (*T, error) {
	if p == nil {
		return nil, fmt.Errorf("dokstamp: create %s: nil params", kind)
	}
	return doData[T](ctx, c, &request{method: "POST", path: path, body: p, class: retryUnsafe, opts: opts})
}

// updateAt is PATCH /{path} with params as the JSON body.
func updateAt[T, P any](ctx context.Context, c *Client, kind, path string, p *P, opts ...RequestOption) (*T, error) {
	if p == nil {
		return nil, fmt.Errorf("dokstamp: update %s: nil params", kind)
	}
	return doData[T](ctx, c, &request{method: "PATCH", path: path, body: p, opts: opts})
}

// updateByUUID is PATCH /{collection}/{uuid}.
func updateByUUID[T, P any](ctx context.Context, c *Client, kind, collection, id string, p *P, opts ...RequestOption) (*T, error) {
	if err := checkUUID(kind+" uuid", id); err != nil {
		return nil, err
	}
	return updateAt[T](ctx, c, kind, pathOf(collection, id), p, opts...)
}

// deleteByUUID is DELETE /{collection}/{uuid} (a soft delete).
func deleteByUUID(ctx context.Context, c *Client, kind, collection, id string, opts ...RequestOption) error {
	if err := checkUUID(kind+" uuid", id); err != nil {
		return err
	}
	return c.call(ctx, &request{method: "DELETE", path: pathOf(collection, id), opts: opts}, nil)
}
