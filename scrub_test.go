package dokstamp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scrubSecret has every character whose spelling changes from one encoding to another: a slash
// (PHP escapes it in JSON), quotes, a space, &, <, >, + and a non-ASCII letter.
const scrubSecret = `S3cr/et "pa ss"&<wörd>+1`

// echoSpellings are the forms in which a server may echo what it was sent, written here without
// the scrubber's help.
func echoSpellings(sec string) map[string]string {
	goJSON, _ := json.Marshal(sec)
	var plain bytes.Buffer
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(sec)
	twice, _ := json.Marshal(strings.Trim(string(goJSON), `"`))
	php := strings.NewReplacer("/", `\/`, "ö", `\u00f6`).Replace(strings.TrimSpace(plain.String()))
	return map[string]string{
		"raw":                        sec,
		"JSON-escaped":               strings.Trim(string(goJSON), `"`),
		"JSON, no HTML escaping":     strings.Trim(strings.TrimSpace(plain.String()), `"`),
		"PHP json_encode":            strings.Trim(php, `"`),
		"JSON-escaped twice":         strings.Trim(string(twice), `"`),
		"quoted by Go's time parser": timeQuoted(strings.Trim(string(goJSON), `"`)),
		"form-encoded":               url.QueryEscape(sec),
		"form-encoded twice":         url.QueryEscape(url.QueryEscape(sec)),
		"JSON, upper-case u escapes": strings.Trim(strings.ReplaceAll(php, `\u00f6`, `\u00F6`), `"`),
		"URL path-escaped":           url.PathEscape(sec),
		"form, lower-case hex":       regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(url.QueryEscape(sec), strings.ToLower),
		"HTML-escaped":               html.EscapeString(sec),
		"base64":                     base64.StdEncoding.EncodeToString([]byte(sec)),
	}
}

// timeQuoted is s as package time quotes it in a parse error.
func timeQuoted(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			fmt.Fprintf(&b, "\\x%02x", c)
		case c == '"', c == '\\':
			b.WriteString("\\" + string(c))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// scrubKind is one secret and a call that carries it.
type scrubKind struct {
	// client makes the client; route is where the secret travels (its answer is the echo).
	client func(t *testing.T, log *slog.Logger) (*Client, *httpmock.MockTransport)
	method string
	route  string
	call   func(c *Client) error
	// decodeRoute, when set, is the route whose garbled 2xx answer is a *DecodeError carrying
	// the secret (the secret is the client's, so it is covered on every call).
	decodeRoute string
}

func scrubClient(t *testing.T, log *slog.Logger, cred Option) (*Client, *httpmock.MockTransport) {
	return coreMockCredClient(t, cred, WithLogger(log), WithRetry(RetryPolicy{}))
}

func getFile(c *Client) error {
	_, err := c.Files.Get(context.Background(), coreUUID)
	return err
}

func scrubKinds() map[string]scrubKind {
	return map[string]scrubKind{
		"token": {
			client: func(t *testing.T, l *slog.Logger) (*Client, *httpmock.MockTransport) {
				return scrubClient(t, l, WithToken(scrubSecret))
			},
			method: "GET", route: "/files/" + coreUUID, call: getFile, decodeRoute: "/files/" + coreUUID,
		},
		"client secret": {
			client: func(t *testing.T, l *slog.Logger) (*Client, *httpmock.MockTransport) {
				return scrubClient(t, l, WithClientCredentials("client-1", scrubSecret))
			},
			method: "POST", route: "/oauth/token", call: getFile, decodeRoute: "/files/" + coreUUID,
		},
		"password": {
			client: func(t *testing.T, l *slog.Logger) (*Client, *httpmock.MockTransport) {
				return scrubClient(t, l, WithLogin("ana@uni.eu", scrubSecret))
			},
			method: "POST", route: "/auth/login", call: getFile, decodeRoute: "/files/" + coreUUID,
		},
		"refresh token": {
			client: func(t *testing.T, l *slog.Logger) (*Client, *httpmock.MockTransport) {
				return scrubClient(t, l, WithToken(coreToken))
			},
			method: "POST", route: "/auth/refresh",
			call: func(c *Client) error {
				_, err := c.Auth.Refresh(context.Background(), scrubSecret)
				return err
			},
		},
		"PIN": {
			client: func(t *testing.T, l *slog.Logger) (*Client, *httpmock.MockTransport) {
				return scrubClient(t, l, WithToken(coreToken))
			},
			method: "POST", route: routeSignBatch + "7",
			call: func(c *Client) error {
				return c.Documents.SignBatch(context.Background(), 7, []int{11, 12}, scrubSecret)
			},
		},
	}
}

// tokenAnswers makes the token routes of a client answer with working tokens, a login one
// holding the secret as its refresh token.
func tokenAnswers(mt *httpmock.MockTransport) {
	mt.RegisterResponder("POST", coreBase+"/oauth/token", httpmock.NewStringResponder(200,
		`{"access_token":"at-1","token_type":"Bearer","expires_in":3600}`))
	refresh, _ := json.Marshal(scrubSecret)
	mt.RegisterResponder("POST", coreBase+"/auth/login", httpmock.NewStringResponder(200,
		`{"access_token":"at-1","refresh_token":`+string(refresh)+`,"token_type":"Bearer","expires_in":3600}`))
}

// assertNoSecret checks every rendering of err and the log for every spelling of the secret.
func assertNoSecret(t *testing.T, err error, log string) {
	t.Helper()
	require.Error(t, err)
	var texts = map[string]string{
		"Error": err.Error(), "%+v": fmt.Sprintf("%+v", err), "%v": fmt.Sprintf("%v", err), "log": log,
	}
	var ae *Error
	if errors.As(err, &ae) {
		texts["*Error %#v"] = fmt.Sprintf("%#v", *ae)
	}
	var de *DecodeError
	if errors.As(err, &de) {
		texts["*DecodeError %+v"] = fmt.Sprintf("%+v", *de)
		texts["DecodeError.Err"] = de.Err.Error()
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		texts["unwrapped"] += e.Error() + "\n"
	}
	for name, sp := range echoSpellings(scrubSecret) {
		for where, text := range texts {
			assert.NotContains(t, text, sp, "%s spelling in %s", name, where)
		}
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	for kindName, kind := range scrubKinds() {
		for spName, sp := range echoSpellings(scrubSecret) {
			jsonSp, _ := json.Marshal("The value " + sp + " is invalid.")
			answers := map[string]httpmock.Responder{
				"error answer": httpmock.NewStringResponder(422, `{"message":`+string(jsonSp)+`,"errors":{"field `+
					strings.Trim(string(jsonSp), `"`)+`":[`+string(jsonSp)+`]},"error":`+string(jsonSp)+`}`),
				"non-JSON answer": httpmock.NewStringResponder(400, "bad request: "+sp),
				"request id":      echoHeader(sp),
				"transport error": httpmock.NewErrorResponder(fmt.Errorf("proxy refused %s", sp)),
			}
			for ansName, answer := range answers {
				t.Run(kindName+"/"+spName+"/"+ansName, func(t *testing.T) {
					t.Parallel()
					var log syncBuffer
					c, mt := kind.client(t, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
					tokenAnswers(mt)
					mt.RegisterResponder(kind.method, coreBase+kind.route, answer)
					assertNoSecret(t, kind.call(c), log.String())
				})
			}
			if kind.decodeRoute == "" {
				continue
			}
			t.Run(kindName+"/"+spName+"/garbled 2xx", func(t *testing.T) {
				t.Parallel()
				var log syncBuffer
				c, mt := kind.client(t, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
				tokenAnswers(mt)
				// a date field that echoes the secret: the time parser quotes it in its error
				inDate, _ := json.Marshal(sp)
				mt.RegisterResponder("GET", coreBase+kind.decodeRoute, httpmock.NewStringResponder(200,
					`{"data":{"uuid":"`+coreUUID+`","created_at":`+string(inDate)+`}}`))
				err := kind.call(c)
				var de *DecodeError
				require.ErrorAs(t, err, &de)
				assertNoSecret(t, err, log.String())
			})
		}
	}
}

// echoHeader answers 401 with the secret in X-Request-Id.
func echoHeader(sp string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(401, `{"message":"Unauthenticated."}`)
		resp.Header.Set("X-Request-Id", sp)
		return resp, nil
	}
}

// The secret is scrubbed, the rest of the server's words are kept, and errors.Is still finds
// what the call's error matches.
func TestScrubbedErrorsStayUseful(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithRetry(RetryPolicy{}))
	mt.RegisterResponder("POST", coreBase+routeSignBatch+"7", httpmock.NewErrorResponder(fmt.Errorf("connection reset after pin=%s", url.QueryEscape("12 34"))))
	err := c.Documents.SignBatch(context.Background(), 7, []int{1}, "12 34")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "connection reset after pin=[redacted]")

	mt.RegisterResponder("POST", coreBase+routeSignBatch+"8", httpmock.NewStringResponder(422, `{"message":"PIN 12 34 is wrong","errors":{"pin":["12 34 is wrong"]}}`))
	err = c.Documents.SignBatch(context.Background(), 8, []int{1}, "12 34")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, "PIN [redacted] is wrong", e.Message)
	assert.Equal(t, []string{"[redacted] is wrong"}, e.Errors["pin"])
}

// A non-JSON answer is cut to an excerpt: the secret is scrubbed before, so that the cut never
// leaves a piece of it.
func TestExcerptNeverHoldsPartOfASecret(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t, WithRetry(RetryPolicy{}))
	mt.RegisterResponder("POST", coreBase+routeSignBatch+"7", httpmock.NewStringResponder(500, strings.Repeat("x", 110)+"pin=987654321"))
	err := c.Documents.SignBatch(context.Background(), 7, []int{1}, "987654321")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "98765")
	assert.Contains(t, err.Error(), "pin=[redac")
}

// The tokens a login source holds (its refresh token) are scrubbed from every call's errors.
func TestHeldRefreshTokenIsScrubbed(t *testing.T) {
	t.Parallel()
	c, mt := coreMockCredClient(t, WithLogin("ana@uni.eu", "pw"), WithRetry(RetryPolicy{}))
	tokenAnswers(mt)
	inDate, _ := json.Marshal(scrubSecret)
	mt.RegisterResponder("GET", coreBase+"/files/"+coreUUID, httpmock.NewStringResponder(200,
		`{"data":{"uuid":"`+coreUUID+`","created_at":`+string(inDate)+`}}`))
	err := getFile(c)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assertNoSecret(t, err, "")
}
