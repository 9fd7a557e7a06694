package dokstamp

// Helpers shared by the services: validation of params and lenient decoding.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// check collects every problem of a params struct, so that Validate reports them all at once.
type check struct {
	op   string
	errs []error
}

func (v *check) add(format string, args ...any) { v.errs = append(v.errs, fmt.Errorf(format, args...)) }

// uuids checks required UUID fields, given as name, value pairs.
func (v *check) uuids(fields ...string) {
	if err := requireUUIDs(v.op, fields...); err != nil {
		v.errs = append(v.errs, errors.Unwrap(err)) // keep the field messages, not the prefix
	}
}

// optionalUUID checks a UUID field that may be empty.
func (v *check) optionalUUID(name, value string) {
	if value != "" {
		v.uuids(name, value)
	}
}

// text checks a required string field.
func (v *check) text(name, value string) {
	if strings.TrimSpace(value) == "" {
		v.add("%s is required", name)
	}
}

// maxLen checks a string field's length in characters.
func (v *check) maxLen(name, value string, n int) {
	if l := utf8.RuneCountInString(value); l > n {
		v.add("%s is %d characters long, at most %d allowed", name, l, n)
	}
}

// date checks a "YYYY-MM-DD" field.
func (v *check) date(name, value string, required bool) {
	if value == "" {
		if required {
			v.add("%s is required", name)
		}
		return
	}
	if _, err := time.Parse(time.DateOnly, value); err != nil {
		v.add("%s %q is not a YYYY-MM-DD date", name, value)
	}
}

// email checks that an e-mail field looks like an address.
func (v *check) email(name, value string, required bool) {
	switch {
	case strings.TrimSpace(value) == "":
		if required {
			v.add("%s is required", name)
		}
	case strings.Count(value, "@") != 1 || strings.HasPrefix(value, "@") || strings.HasSuffix(value, "@") ||
		strings.ContainsAny(value, " \t\r\n"):
		v.add("%s %q is not an e-mail address", name, value)
	}
}

// nonNegative checks an optional unsigned number.
func (v *check) nonNegative(name string, n *int) {
	if n != nil && *n < 0 {
		v.add("%s is %d, must not be negative", name, *n)
	}
}

func (v *check) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return errorf("%s: %w", v.op, errors.Join(v.errs...))
}

// enum checks an optional enumerated field against its known values.
func enum[E ~string](v *check, name string, value E, allowed ...E) {
	if value == "" {
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	v.add("%s %q is not one of %s", name, value, strings.Join(names, ", "))
}

// findOne looks up the one item of the list at path matching where (equality filters) and
// match, which re-checks the filter on the client in case the server matched loosely. No match is
// an error matching ErrNotFound; more than one is an error too.
func findOne[T any](ctx context.Context, c *Client, path, kind string, where map[string]string, match func(*T) bool, opts ...RequestOption) (*T, error) {
	page, err := listPage[T](ctx, c, path, &ListOptions{PerPage: 100, Where: where}, opts...)
	if err != nil {
		return nil, errorf("find %s: %w", kind, err)
	}
	var found []*T
	for i := range page.Data {
		if match(&page.Data[i]) {
			found = append(found, &page.Data[i])
		}
	}
	switch len(found) {
	case 0:
		return nil, errorf("find %s %s: %w", kind, describeWhere(where), ErrNotFound)
	case 1:
		return found[0], nil
	default:
		return nil, fmt.Errorf("dokstamp: find %s %s: %d match", kind, describeWhere(where), len(found))
	}
}

// describeWhere renders filters as "code=X, email=a@b.c", in a stable order.
func describeWhere(where map[string]string) string {
	parts := make([]string, 0, len(where))
	for _, k := range slices.Sorted(maps.Keys(where)) {
		parts = append(parts, k+"="+where[k])
	}
	return strings.Join(parts, ", ")
}

// flexTime decodes a timestamp leniently: RFC 3339 (the API's usual form), Laravel's
// "2006-01-02 15:04:05" (UTC), or a bare "2006-01-02" date; null and "" leave it zero.
type flexTime struct{ t time.Time }

func (f *flexTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp %.40s is not a string", b)
	}
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t
			return nil
		}
	}
	return fmt.Errorf("timestamp %q is in no known format", s)
}

// flexFloat decodes a decimal sent as a JSON number or as a string ("8.50", as Laravel's decimal
// casts do); null and "" leave it nil.
type flexFloat struct{ v *float64 }

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		s = string(b)
	}
	if s == "" {
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("decimal %.40q is not a number", s)
	}
	f.v = &x
	return nil
}
