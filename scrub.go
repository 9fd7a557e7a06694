package dokstamp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// redacted replaces a secret wherever the server's words could carry it.
const redacted = "[redacted]"

// scrubber removes secrets from text in every spelling a server could echo them in. It is the
// one scrubber of the SDK: *Error, *DecodeError, transport errors and log lines all go through it.
type scrubber struct {
	r *strings.Replacer // nil: no secret
}

// scrubberFor covers the Client's credentials, the tokens its token source holds, the request's
// own secrets and the Bearer token a call carried.
func (c *Client) scrubberFor(secrets []string, token string) *scrubber {
	all := make([]string, 0, len(c.secrets)+len(secrets)+3)
	all = append(all, c.secrets...)
	all = append(all, secrets...)
	all = append(all, token)
	if h, ok := c.auth.(secretHolder); ok {
		all = append(all, h.heldSecrets()...)
	}
	return newScrubber(all...)
}

// newScrubber knows every spelling of the non-empty secrets. The longer spellings come first,
// so that a spelling holding a shorter one is replaced whole.
func newScrubber(secrets ...string) *scrubber {
	seen := map[string]bool{}
	var olds []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, sp := range spellings(sec) {
			if sp != "" && !seen[sp] {
				seen[sp] = true
				olds = append(olds, sp)
			}
		}
	}
	if len(olds) == 0 {
		return &scrubber{}
	}
	sort.SliceStable(olds, func(i, j int) bool { return len(olds[i]) > len(olds[j]) })
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, redacted)
	}
	return &scrubber{r: strings.NewReplacer(pairs...)}
}

// spellings are the forms a secret takes when a server echoes it: as sent; JSON-escaped the Go
// way, the PHP way (json_encode escapes "/" and non-ASCII, in lower- or upper-case hex) and twice
// (JSON in a JSON string); quoted as Go's error texts quote values; URL- and form-encoded, once
// or twice, in upper- and lower-case hex, with "+" or "%20" for a space; HTML-escaped; base64
// in its four alphabets; and, for a long secret, in another letter case.
func spellings(sec string) []string {
	out := []string{sec}
	add := func(s string) {
		out = append(out, s, strings.ToLower(s), strings.ToUpper(s))
	}
	jsonGo := jsonInner(sec, true)
	out = append(out, jsonGo, jsonInner(sec, false), jsonPHP(sec), jsonInner(jsonGo, true), jsonInner(jsonPHP(sec), false))
	// Go's own error texts quote a value: the time parser quotes the raw JSON it was given,
	// with non-ASCII bytes as \xNN
	for _, raw := range []string{sec, jsonGo, jsonInner(sec, false), jsonPHP(sec)} {
		out = append(out, goQuoted(raw), strings.Trim(strconv.Quote(raw), `"`))
	}
	out = append(out, upperUnicodeEscapes(jsonPHP(sec)))
	// URL-encoded, and twice (a URL carried in a query parameter)
	for _, enc := range []string{url.QueryEscape(sec), url.PathEscape(sec), percentAll(sec), url.QueryEscape(url.QueryEscape(sec))} {
		out = append(out, enc, lowerHex(enc))
	}
	out = append(out, html.EscapeString(sec), strings.ReplaceAll(html.EscapeString(sec), "&#34;", "&quot;"))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString([]byte(sec)))
	}
	// a secret of letters only can come back in another case (a case-folding echo)
	if len(sec) >= 8 {
		add(sec)
	}
	return out
}

// jsonInner is s as a JSON string's contents, without the quotes.
func jsonInner(s string, escapeHTML bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s)
	q := strings.TrimSuffix(b.String(), "\n")
	return q[1 : len(q)-1]
}

// jsonPHP is s as PHP's json_encode writes it by default: "/" as "\/" and every non-ASCII
// character as \uXXXX (UTF-16).
func jsonPHP(s string) string {
	var b strings.Builder
	for _, r := range jsonInner(s, false) {
		switch {
		case r == '/':
			b.WriteString(`\/`)
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// goQuoted is s as the time package quotes a value in its errors: '"' and '\\' escaped, and
// every non-ASCII byte as \xNN.
func goQuoted(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// upperUnicodeEscapes writes the hex digits of \uXXXX escapes in upper case, as some JSON
// encoders do.
func upperUnicodeEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+5 < len(b); i++ {
		if b[i] == '\\' && b[i+1] == 'u' {
			for j := i + 2; j <= i+5; j++ {
				if 'a' <= b[j] && b[j] <= 'f' {
					b[j] -= 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

// percentAll escapes every byte but the unreserved ones (PHP's rawurlencode, JavaScript's
// encodeURIComponent).
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// lowerHex writes the hex digits of %XX escapes in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if 'A' <= b[j] && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

// scrub is s without any spelling of the secrets.
func (sc *scrubber) scrub(s string) string {
	if sc == nil || sc.r == nil || s == "" {
		return s
	}
	return sc.r.Replace(s)
}

// error is err unchanged when its text holds no secret; otherwise an error with the scrubbed
// text that still matches, with errors.Is and errors.As, what callers test for (the sentinels,
// the context's errors, *Error), but no longer unwraps to the text that held the secret.
func (sc *scrubber) error(err error) error {
	if err == nil || sc == nil || sc.r == nil {
		return err
	}
	msg := err.Error()
	clean := sc.scrub(msg)
	if clean == msg {
		return err
	}
	s := &scrubbedError{msg: clean}
	for _, target := range []error{ErrOutcomeUnknown, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, target) {
			s.keep = append(s.keep, target)
		}
	}
	var ae *Error // scrubbed when it was made
	if errors.As(err, &ae) {
		s.keep = append(s.keep, ae)
	}
	return s
}

// scrubbedError is an error whose text had a secret removed.
type scrubbedError struct {
	msg  string
	keep []error
}

func (e *scrubbedError) Error() string { return e.msg }

func (e *scrubbedError) Unwrap() []error { return e.keep }
