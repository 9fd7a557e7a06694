package dokstamp

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Nullable is a field of an update that can be left out, set to a value, or cleared (sent as
// JSON null). Its zero value is left out: the field is tagged `json:",omitzero"`, so an update
// sends only what the caller chose.
//
//	c.Students.Update(ctx, id, &dokstamp.StudentUpdateParams{
//		Name:       "Ana Lima",              // a plain field: sent when not empty
//		SocialName: dokstamp.Null[string](), // cleared: "social_name": null
//		Gender:     dokstamp.Set("female"),  // set: "gender": "female"
//	}) // the other fields are not sent: they stay as they are
type Nullable[T any] struct {
	value T
	state nullState
}

type nullState uint8

const (
	nullAbsent nullState = iota // the zero value: not sent
	nullValue                   // sent as the value
	nullNull                    // sent as null
)

// Set is a Nullable holding v: the field is sent with this value.
func Set[T any](v T) Nullable[T] { return Nullable[T]{value: v, state: nullValue} }

// Null is a Nullable that clears the field: it is sent as JSON null.
func Null[T any]() Nullable[T] { return Nullable[T]{state: nullNull} }

// IsZero reports whether the field is left out; encoding/json's omitzero calls it.
func (n Nullable[T]) IsZero() bool { return n.state == nullAbsent }

// IsNull reports whether the field clears the value (is sent as null).
func (n Nullable[T]) IsNull() bool { return n.state == nullNull }

// Get returns the value and true when one is set; the zero value and false when the field is
// left out or cleared.
func (n Nullable[T]) Get() (T, bool) { return n.value, n.state == nullValue }

// String shows the field as it is sent: the value, "null", or "(absent)".
func (n Nullable[T]) String() string {
	switch n.state {
	case nullValue:
		return fmt.Sprint(n.value)
	case nullNull:
		return "null"
	}
	return "(absent)"
}

// MarshalJSON writes the value, or null when the field is cleared. A Nullable left out is never
// written by a struct field tagged omitzero; written anyway (in a map or a slice) it is null,
// since JSON has no "absent" value.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.state != nullValue {
		return []byte("null"), nil
	}
	return json.Marshal(n.value)
}

// UnmarshalJSON reads null as a cleared field and anything else as a value.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*n = Null[T]()
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Set(v)
	return nil
}

// ptr is the value's address when one is set, for the checks shared with create params.
func (n Nullable[T]) ptr() *T {
	if n.state != nullValue {
		return nil
	}
	return &n.value
}
