package dokstamp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, matched with errors.Is against any error the SDK returns.
var (
	ErrBadRequest   = errors.New("dokstamp: bad request")       // 400
	ErrUnauthorized = errors.New("dokstamp: unauthorized")      // 401
	ErrForbidden    = errors.New("dokstamp: forbidden")         // 403
	ErrNotFound     = errors.New("dokstamp: not found")         // 404 (also: another tenant's resource)
	ErrValidation   = errors.New("dokstamp: validation failed") // 422
	ErrRateLimited  = errors.New("dokstamp: rate limited")      // 429
	ErrServer       = errors.New("dokstamp: server error")      // 5xx

	// ErrOutcomeUnknown marks a write that was sent without an answer telling whether it took
	// effect: a timeout or a dropped connection after the request was written, or a 5xx answer
	// to a POST. Do not blindly send it again; look the resource up first (c.Batch does).
	ErrOutcomeUnknown = errors.New("dokstamp: outcome unknown")
)

// Error is a non-2xx answer from the API. Read it with errors.As; compare it with errors.Is
// against the sentinels.
type Error struct {
	StatusCode int
	Message    string
	// Errors holds the validation messages of a 422, per field.
	Errors map[string][]string
	// Code is OAuth's "error" field (e.g. "invalid_client").
	Code string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// RequestID is the server's X-Request-Id, when it sent one.
	RequestID string
	// Method and Path name the call.
	Method, Path string
	// Attempts is how many times the request was sent.
	Attempts int

	outcomeUnknown bool
	hint           string // what to check, for a 401
}

// Error reads "dokstamp: METHOD /path: status: message (field: messages)", with the attempt
// count when the request was retried.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dokstamp: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(strings.TrimSpace(e.Method+" "+e.Path) + ": ")
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Code != "" && e.Code != e.Message {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if len(e.Errors) > 0 {
		fields := make([]string, 0, len(e.Errors))
		for f := range e.Errors {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		b.WriteString(" (")
		for i, f := range fields {
			if i > 0 {
				b.WriteString("; ")
			}
			if f != "" {
				b.WriteString(f + ": ")
			}
			b.WriteString(strings.Join(e.Errors[f], " "))
		}
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [after %d attempts]", e.Attempts)
	}
	if e.outcomeUnknown {
		b.WriteString(" [outcome unknown]")
	}
	if e.hint != "" {
		b.WriteString(" (" + e.hint + ")")
	}
	return b.String()
}

// Is reports whether the error matches one of the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	case ErrOutcomeUnknown:
		return e.outcomeUnknown
	}
	return false
}

// errorBody is every error shape the API is known to send: Laravel's {message, errors}, the
// newer {success:false, message}, and OAuth's {error, error_description}.
type errorBody struct {
	Message          json.RawMessage `json:"message"`
	Errors           json.RawMessage `json:"errors"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
}

// decodeError builds an *Error from a status, headers and body. It never fails: a body that is
// not JSON (an HTML error page, a truncated answer) leaves the status and a short excerpt.
func decodeError(status int, h http.Header, body []byte) *Error {
	e := &Error{StatusCode: status}
	if h != nil {
		e.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
		e.RequestID = h.Get("X-Request-Id")
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		e.Message = excerpt(body)
		return e
	}
	e.Message = jsonText(eb.Message)
	if raw := bytes.TrimSpace(eb.Error); len(raw) > 0 && raw[0] == '{' {
		// {"error": {"message": ..., "code": ...}}, as some gateways answer
		var nested struct {
			Message json.RawMessage `json:"message"`
			Code    json.RawMessage `json:"code"`
		}
		if json.Unmarshal(raw, &nested) == nil {
			e.Code = jsonText(nested.Code)
			if e.Message == "" {
				e.Message = jsonText(nested.Message)
			}
		}
	} else {
		e.Code = jsonText(eb.Error)
	}
	if e.Message == "" {
		e.Message = jsonText(eb.ErrorDescription)
	}
	e.Errors = fieldErrors(eb.Errors)
	return e
}

// jsonText reads a JSON string, or renders any other JSON value compactly.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if len(raw) > 200 {
		raw = raw[:200]
	}
	return string(raw)
}

// fieldErrors reads "errors" as {field: [msg...]}, {field: msg}, or [msg...].
func fieldErrors(raw json.RawMessage) map[string][]string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil {
		out := make(map[string][]string, len(m))
		for field, v := range m {
			var list []string
			if json.Unmarshal(v, &list) == nil {
				out[field] = list
				continue
			}
			var anyList []any
			if json.Unmarshal(v, &anyList) == nil {
				for _, x := range anyList {
					out[field] = append(out[field], fmt.Sprint(x))
				}
				continue
			}
			if t := jsonText(v); t != "" {
				out[field] = []string{t}
			}
		}
		return out
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return map[string][]string{"": list}
	}
	var anyList []any
	if json.Unmarshal(raw, &anyList) == nil && len(anyList) > 0 {
		for _, x := range anyList {
			list = append(list, fmt.Sprint(x))
		}
		return map[string][]string{"": list}
	}
	if t := jsonText(raw); t != "" {
		return map[string][]string{"": {t}}
	}
	return nil
}

// scrub removes every secret sc knows from the parts of e that come from the server.
func (e *Error) scrub(sc *scrubber) {
	if sc == nil {
		return
	}
	e.Message, e.Code, e.RequestID = sc.scrub(e.Message), sc.scrub(e.Code), sc.scrub(e.RequestID)
	if len(e.Errors) == 0 {
		return
	}
	clean := make(map[string][]string, len(e.Errors))
	for field, msgs := range e.Errors {
		out := make([]string, len(msgs))
		for i, m := range msgs {
			out[i] = sc.scrub(m)
		}
		f := sc.scrub(field)
		clean[f] = append(clean[f], out...)
	}
	e.Errors = clean
}

// DecodeError reports a successful HTTP answer whose body is not the JSON the SDK expects:
// not JSON at all (an HTML page), cut short, null, or missing what the call needs. For a POST
// the server did act: look the resource up rather than sending again.
type DecodeError struct {
	Method, Path string
	StatusCode   int
	ContentType  string
	Err          error
}

// Error names the call, the status and content type, and what did not decode.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("dokstamp: %s %s: answer %d (%s) is not the expected JSON: %v",
		e.Method, e.Path, e.StatusCode, e.ContentType, e.Err)
}

// Unwrap returns the JSON decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// scrub removes every secret sc knows from what the server's answer put in e.
func (e *DecodeError) scrub(sc *scrubber) {
	e.ContentType = sc.scrub(e.ContentType)
	e.Err = sc.error(e.Err)
}

// errorf is fmt.Errorf for the SDK's own errors: it adds the "dokstamp: " prefix and strips it
// from the errors it wraps, so that a chain reads with one prefix however deep it is.
func errorf(format string, args ...any) error {
	for i, a := range args {
		if err, ok := a.(error); ok {
			args[i] = &unprefixed{err}
		}
	}
	return fmt.Errorf("dokstamp: "+format, args...)
}

// unprefixed is a wrapped error whose text loses its "dokstamp: " prefix.
type unprefixed struct{ err error }

func (u *unprefixed) Error() string { return strings.TrimPrefix(u.err.Error(), "dokstamp: ") }

func (u *unprefixed) Unwrap() error { return u.err }

// excerpt keeps the start of a non-JSON body readable in an error string.
func excerpt(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "<") {
		return "non-JSON answer (HTML)"
	}
	const max = 120
	if len(s) > max {
		s = s[:max] + "…"
	}
	return "non-JSON answer: " + strings.ToValidUTF8(s, "?")
}

// parseRetryAfter reads Retry-After as delay seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n > 1e6 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
