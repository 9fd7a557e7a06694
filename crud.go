package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
		return errorf("%s: %w", op, errors.Join(errs...))
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

// createAttempts bounds how many times findOrCreate sends a create whose outcome stays unknown
// while the look-up after it finds nothing.
const createAttempts = 3

// findOrCreate is the search-before-create pattern the docs prescribe (the API has no
// idempotency keys), with the lost answers settled: it looks the record up by its natural key
// (find: ErrNotFound when there is none) and creates it when it is missing. When the create's
// outcome is unknown (a dropped connection, a timeout, a 5xx) or the server answers 422 on one
// of keyFields (another writer created the record meanwhile: "already been taken"), it looks up
// again: found, the record is returned; not found after an unknown outcome, the create did not
// take effect and is sent again, at most createAttempts times in all. The bool is true when
// this call created the record: the look-up found nothing before the create was sent and the
// record exists after it.
func findOrCreate[T any](ctx context.Context, op string, keyFields []string,
	find, create func(context.Context) (*T, error)) (*T, bool, error) {
	found, err := find(ctx)
	if err == nil {
		return found, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, errorf("%s: look-up before create: %w", op, err)
	}
	for attempt := 1; ; attempt++ {
		made, err := create(ctx)
		if err == nil {
			return made, true, nil
		}
		unknown := errors.Is(err, ErrOutcomeUnknown)
		taken := !unknown && keyRefused(err, keyFields)
		if !unknown && !taken {
			return nil, false, err
		}
		found, ferr := find(ctx)
		switch {
		case ferr == nil:
			return found, unknown, nil
		case !errors.Is(ferr, ErrNotFound):
			// err stays in the chain: errors.Is(err, ErrOutcomeUnknown) still tells the caller
			return nil, false, errorf("%s: settling the create by look-up failed (%w); the create: %w", op, ferr, err)
		case taken:
			// the server holds the key on a record the look-up cannot see (e.g. a soft-deleted one)
			return nil, false, errorf("%s: the server refused the key, and no record with it can be found: %w", op, err)
		case attempt == createAttempts:
			return nil, false, errorf("%s: %d creates ended without an answer and none took effect: %w", op, attempt, err)
		}
	}
}

// keyRefused reports whether err is a 422 naming one of the key's fields.
func keyRefused(err error, keyFields []string) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, f := range keyFields {
		if len(e.Errors[f]) > 0 {
			return true
		}
	}
	return false
}
