package dokstamptest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// call is one request being answered. Handlers record the answer in it; the
// route wrapper writes it (or drops the connection) once the handler returns,
// so that JSON is encoded outside the store's lock.
type call struct {
	s *Server
	w http.ResponseWriter
	r *http.Request
	t *tenant // the X-Tenant's tenant on tenant-scoped routes

	status int
	value  any    // JSON answer
	raw    []byte // raw answer (downloads)
	ctype  string // Content-Type of raw
	// alwaysJSON keeps an error answer JSON whatever the Accept header
	// says, as Passport's OAuth errors are.
	alwaysJSON bool
	// cut sends half of the body, then closes the connection (CutBodyRate).
	cut bool
}

type messageJSON struct {
	Message string `json:"message"`
}

// errorJSON is every error body: Laravel's {"message", "errors"}, with
// "success": false under WithSuccessFalse.
type errorJSON struct {
	Success *bool               `json:"success,omitempty"`
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

type dataJSON struct {
	Data any `json:"data"`
}

func (c *call) json(status int, v any) { c.status, c.value = status, v }

func (c *call) data(status int, v any) { c.json(status, dataJSON{Data: v}) }

func (c *call) fail(status int, msg string) { c.failWith(status, msg, nil) }

func (c *call) failWith(status int, msg string, errs map[string][]string) {
	e := errorJSON{Message: msg, Errors: errs}
	if c.s.cfg.successFalse {
		e.Success = new(bool)
	}
	c.json(status, e)
}

// notFound answers 404 for the route's own resource: the first path
// segment names the model, the first path value its id.
func (c *call) notFound() {
	pattern := c.r.Pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	seg, rest, _ := strings.Cut(strings.TrimPrefix(pattern, "/"), "/")
	id := ""
	if open := strings.IndexByte(rest, '{'); open >= 0 {
		if end := strings.IndexByte(rest[open:], '}'); end > 0 {
			id = c.r.PathValue(rest[open+1 : open+end])
		}
	}
	c.missing(seg, id)
}

// missing answers 404 for the entity id of collection (a path segment such
// as "certificates" or "pages"). Under WithModelNotFoundMessage the message
// is Laravel's "No query results for model [App\X] id".
func (c *call) missing(collection, id string) {
	if !c.s.cfg.modelNotFound {
		c.fail(http.StatusNotFound, "Resource not found.")
		return
	}
	model := modelNames[collection]
	if model == "" {
		c.fail(http.StatusNotFound, "The route "+strings.TrimPrefix(c.r.URL.Path, "/")+" could not be found.")
		return
	}
	msg := "No query results for model [App\\" + model + "]"
	if id != "" {
		msg += " " + id
	}
	c.fail(http.StatusNotFound, msg)
}

// modelNames maps a path segment to the Laravel model behind it.
var modelNames = map[string]string{
	"institutions": "Institution", "organizations": "Organization", "modules": "Module",
	"courses": "Course", "groups": "CourseModuleGroup", "cohorts": "Cohort", "students": "Student",
	"pages": "StudentPage", "items": "StudentPageItem", "enrollments": "Enrollment", "files": "File",
	"certificate-templates": "CertificateTemplate", "certificates": "Certificate",
	"document-types": "DocumentType", "documents": "Document", "signing-certificates": "DigitalCertificate",
}

func (c *call) noContent() { c.status, c.value = http.StatusNoContent, nil }

func (c *call) invalid(errs map[string][]string) {
	c.failWith(http.StatusUnprocessableEntity, "The given data was invalid.", errs)
}

func (c *call) invalidField(field, msg string) {
	c.invalid(map[string][]string{field: {msg}})
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// flush writes the recorded answer.
func (c *call) flush() {
	if c.status >= 400 && !c.alwaysJSON && !wantsJSON(c.r) {
		c.flushHTML()
		return
	}
	switch {
	case c.value != nil:
		buf := getBuf()
		defer putBuf(buf)
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.value); err != nil {
			buf.Reset()
			buf.WriteString(`{"message":"Server Error"}`)
			c.status = http.StatusInternalServerError
		}
		c.body("application/json", buf.Bytes())
	case c.raw != nil:
		c.body(c.ctype, c.raw)
	default:
		c.w.WriteHeader(c.status)
	}
}

// body writes the status and b; under cut, only half of b before the
// connection is closed, although Content-Length announces all of it.
func (c *call) body(ctype string, b []byte) {
	h := c.w.Header()
	h["Content-Type"] = []string{ctype}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	c.w.WriteHeader(c.status)
	if !c.cut || len(b) == 0 {
		_, _ = c.w.Write(b)
		return
	}
	_, _ = c.w.Write(b[:len(b)/2])
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
	dropConn(c.w)
}

const maxJSONBody = 8 << 20

// decode reads a JSON body into v. An empty body decodes as {}. On failure it
// records the answer (400 for malformed JSON, 422 for a value of the wrong
// type) and returns false.
func (c *call) decode(v any) bool {
	buf := getBuf()
	defer putBuf(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(c.w, c.r.Body, maxJSONBody)); err != nil {
		c.fail(http.StatusBadRequest, "Malformed request body.")
		return false
	}
	b := bytes.TrimSpace(buf.Bytes())
	if len(b) == 0 {
		return true
	}
	err := json.Unmarshal(b, v)
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		c.invalidField(te.Field, "The "+label(te.Field)+" "+typeMessage(te.Type))
		return false
	}
	c.fail(http.StatusBadRequest, "Malformed request body.")
	return false
}

func typeMessage(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string."
	case reflect.Bool:
		return "field must be true or false."
	case reflect.Int, reflect.Int64:
		return "must be an integer."
	case reflect.Float64:
		return "must be a number."
	case reflect.Slice:
		return "must be an array."
	}
	return "is invalid."
}

func label(field string) string { return strings.ReplaceAll(field, "_", " ") }

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b)
}

// uuidFrom returns a version 4 UUID drawn from r: with WithSeed, the same sequence of creations
// gives the same UUIDs, run after run.
func uuidFrom(r *mrand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// isUUID reports whether s is a well-formed version 4 UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		ch := s[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
			continue
		}
		if !isHex(ch) {
			return false
		}
	}
	v := s[19] | 0x20
	return s[14] == '4' && (v == '8' || v == '9' || v == 'a' || v == 'b')
}

func isHex(ch byte) bool {
	return '0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F'
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const shortIDAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func shortID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = shortIDAlphabet[int(b[i])%len(shortIDAlphabet)]
	}
	return string(b)
}

// timeFormat is the API's timestamp format: ISO-8601 UTC with microseconds.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func stamp(t time.Time) string { return t.UTC().Format(timeFormat) }

func stampPtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := stamp(t)
	return &s
}

// parseTime accepts a date (YYYY-MM-DD) or an RFC 3339 timestamp.
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("2006-01-02 15:04:05", s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

func strPtr(s string) *string { return &s }

// validator collects Laravel-style validation errors.
type validator struct {
	errs map[string][]string
}

func (v *validator) add(field, msg string) {
	if v.errs == nil {
		v.errs = map[string][]string{}
	}
	v.errs[field] = append(v.errs[field], msg)
}

func (v *validator) ok() bool { return len(v.errs) == 0 }

func (v *validator) requiredMsg(field string) {
	v.add(field, "The "+label(field)+" field is required.")
}

// str checks a string field; required means present and not blank.
func (v *validator) str(field string, p *string, required bool, maxLen int) {
	if p == nil || strings.TrimSpace(*p) == "" {
		if required {
			v.requiredMsg(field)
		}
		return
	}
	if maxLen > 0 && len([]rune(*p)) > maxLen {
		v.add(field, "The "+label(field)+" may not be greater than "+strconv.Itoa(maxLen)+" characters.")
	}
}

func (v *validator) enum(field string, p *string, allowed ...string) {
	if p == nil {
		return
	}
	for _, a := range allowed {
		if *p == a {
			return
		}
	}
	v.add(field, "The selected "+label(field)+" is invalid.")
}

// ref resolves a uuid field against a table of the request's tenant. A
// missing required field, a malformed uuid, or an entity that does not exist
// in the tenant (or is soft-deleted) is an error. It returns nil when absent
// or invalid.
func (v *validator) ref(field string, p *string, tb *table, required bool) entity {
	if p == nil || *p == "" {
		if required {
			v.requiredMsg(field)
		}
		return nil
	}
	if !isUUID(*p) {
		v.add(field, "The "+label(field)+" must be a valid UUID.")
		return nil
	}
	e := tb.get(*p)
	if e == nil {
		v.add(field, "The selected "+label(field)+" is invalid.")
	}
	return e
}

func (v *validator) date(field string, p *string, required bool) time.Time {
	if p == nil || *p == "" {
		if required {
			v.requiredMsg(field)
		}
		return time.Time{}
	}
	t, ok := parseTime(*p)
	if !ok {
		v.add(field, "The "+label(field)+" is not a valid date.")
	}
	return t
}

func (v *validator) minInt(field string, p *int, lo int) {
	if p != nil && *p < lo {
		v.add(field, "The "+label(field)+" must be at least "+strconv.Itoa(lo)+".")
	}
}

func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// wantsJSON reports whether Laravel would render an error of r as JSON:
// the first type in Accept names JSON ("application/json", "+json"), or
// the request is an XMLHttpRequest that accepts anything.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	first, _, _ := strings.Cut(accept, ",")
	first, _, _ = strings.Cut(first, ";")
	first = strings.ToLower(strings.TrimSpace(first))
	if strings.Contains(first, "/json") || strings.Contains(first, "+json") {
		return true
	}
	ajax := r.Header.Get("X-Requested-With") == "XMLHttpRequest"
	return ajax && (first == "" || first == "*/*" || first == "*")
}

// flushHTML writes an error the way Laravel does for a client that did not
// ask for JSON: a validation failure redirects back (302 to the Referer, or
// the site root), a missing login redirects to /login, and anything else is
// an HTML page with the status.
func (c *call) flushHTML() {
	h := c.w.Header()
	h["Content-Type"] = []string{"text/html; charset=UTF-8"}
	var body string
	switch c.status {
	case http.StatusUnprocessableEntity, http.StatusUnauthorized:
		to := c.s.URL + "/login"
		if c.status == http.StatusUnprocessableEntity {
			to = c.s.URL + "/"
			if ref := c.r.Header.Get("Referer"); ref != "" {
				to = ref
			}
		}
		h["Location"] = []string{to}
		c.status = http.StatusFound
		esc := html.EscapeString(to)
		body = "<!DOCTYPE html>\n<html><head><meta charset=\"UTF-8\"><meta http-equiv=\"refresh\" content=\"0;url='" + esc +
			"'\"><title>Redirecting to " + esc + "</title></head>\n<body>Redirecting to <a href=\"" + esc + "\">" + esc + "</a>.</body></html>\n"
	default:
		text := http.StatusText(c.status)
		body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + text + "</title></head>\n<body><div>" +
			strconv.Itoa(c.status) + " | " + text + "</div></body></html>\n"
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	c.w.WriteHeader(c.status)
	_, _ = io.WriteString(c.w, body)
}
