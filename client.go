package dokstamp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK version sent in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is the DokStamp API host used when WithBaseURL is not given.
const DefaultBaseURL = "https://api.dokstamp.eu"

// maxJSONAnswer bounds how much of a JSON answer is read: far above any real answer, it keeps a
// garbled or hostile server from exhausting memory.
const maxJSONAnswer = 64 << 20

// Client talks to the DokStamp API. Create it with NewClient or NewClientFromEnv; it is safe for
// concurrent use by many goroutines, and its services share one connection pool.
type Client struct {
	base      *url.URL
	tenant    string
	userAgent string
	hc        *http.Client
	retry     RetryPolicy
	logger    *slog.Logger
	gate      *rateGate // the Client-wide rate-limit gate (ratelimit.go)
	auth      tokenSource
	// secrets are the credentials given to NewClient, scrubbed from every error and log line
	// the server's answer could carry them into.
	secrets []string
	// maxBatchIDs is WithMaxBatchIDs (0: MaxBatchIDs).
	maxBatchIDs int

	Institutions  *InstitutionsService
	Organizations *OrganizationsService
	Modules       *ModulesService
	Courses       *CoursesService
	Cohorts       *CohortsService
	Students      *StudentsService
	Enrollments   *EnrollmentsService
	Files         *FilesService
	Templates     *TemplatesService
	Certificates  *CertificatesService
	Documents     *DocumentsService
	Auth          *AuthService
	Batch         *BatchService
}

type service struct{ c *Client }

type settings struct {
	tenant       string
	token        string
	clientID     string
	clientSecret string
	email        string
	password     string
	baseURL      string
	hc           *http.Client
	retry        *RetryPolicy
	logger       *slog.Logger
	userAgent    string
	rateLimit    float64 // WithRateLimit
	maxBatchIDs  int
}

// Option configures a Client.
type Option func(*settings) error

// WithTenant sets the X-Tenant header sent on every resource call (the tenant's domain, as shown
// by GET /auth/me). It is required.
func WithTenant(tenant string) Option {
	return func(s *settings) error {
		if strings.TrimSpace(tenant) == "" {
			return errors.New("dokstamp: WithTenant: empty tenant")
		}
		s.tenant = tenant
		return nil
	}
}

// WithToken authenticates every call with a static Bearer token.
func WithToken(token string) Option {
	return func(s *settings) error {
		if strings.TrimSpace(token) == "" {
			return errors.New("dokstamp: WithToken: empty token")
		}
		s.token = token
		return nil
	}
}

// WithClientCredentials authenticates with the OAuth2 client-credentials grant
// (POST /oauth/token). The token is fetched on first use, cached, shared by all goroutines and
// renewed about 60 seconds before it expires, or at once when the server refuses it with a 401
// (the refused request is then sent once more).
//
// API: POST /oauth/token
func WithClientCredentials(clientID, clientSecret string) Option {
	return func(s *settings) error {
		if clientID == "" || clientSecret == "" {
			return errors.New("dokstamp: WithClientCredentials: empty client id or secret")
		}
		s.clientID, s.clientSecret = clientID, clientSecret
		return nil
	}
}

// WithLogin authenticates with a user's e-mail and password (POST /auth/login). The access token
// is fetched on first use and renewed through POST /auth/refresh shortly before it expires.
func WithLogin(email, password string) Option {
	return func(s *settings) error {
		if email == "" || password == "" {
			return errors.New("dokstamp: WithLogin: empty e-mail or password")
		}
		s.email, s.password = email, password
		return nil
	}
}

// WithBaseURL sets the API host, for example "https://api.dokstamp.com" or a dokstamptest
// server's URL. It must be an absolute http or https URL.
func WithBaseURL(baseURL string) Option {
	return func(s *settings) error { s.baseURL = baseURL; return nil }
}

// WithHTTPClient makes the Client send its requests through hc. The client is used as it is,
// never modified; give its transport enough idle connections per host for the concurrency of
// your bulk runs.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("dokstamp: WithHTTPClient: nil client")
		}
		s.hc = hc
		return nil
	}
}

// WithRetry sets the retry policy. RetryPolicy{MaxRetries: 0} turns retries off; zero waits take
// the defaults.
func WithRetry(p RetryPolicy) Option {
	return func(s *settings) error {
		if p.MaxRetries < 0 || p.MinWait < 0 || p.MaxWait < 0 {
			return errors.New("dokstamp: WithRetry: negative value")
		}
		s.retry = &p
		return nil
	}
}

// WithLogger logs each attempt (method, path, status, attempt, duration) at debug level and
// retries at info level. Headers and bodies are never logged. Without it the Client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error { s.logger = l; return nil }
}

// WithUserAgent appends ua to the "dokstamp-go/<version>" User-Agent.
func WithUserAgent(ua string) Option {
	return func(s *settings) error { s.userAgent = ua; return nil }
}

// NewClient builds a Client. It does no network I/O. It fails when the tenant or the credentials
// are missing, when more than one kind of credentials is given, or when the base URL is not an
// absolute http(s) URL.
func NewClient(opts ...Option) (*Client, error) {
	s := settings{baseURL: DefaultBaseURL}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	if s.tenant == "" {
		return nil, errors.New("dokstamp: no tenant: use WithTenant (or DOKSTAMP_TENANT)")
	}
	kinds := 0
	for _, set := range []bool{s.token != "", s.clientID != "", s.email != ""} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		return nil, errors.New("dokstamp: no credentials: use WithToken, WithClientCredentials or WithLogin")
	case kinds > 1:
		return nil, errors.New("dokstamp: more than one kind of credentials given; choose one")
	}
	if hasControl(s.tenant) {
		return nil, errors.New("dokstamp: the tenant holds a control character")
	}
	if hasControl(s.token) || hasControl(s.clientID) {
		return nil, errors.New("dokstamp: the credentials hold a control character")
	}
	base, err := url.Parse(strings.TrimRight(s.baseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("dokstamp: base URL %q is not an absolute http(s) URL", redactUserinfo(s.baseURL))
	}
	if base.User != nil {
		return nil, errors.New("dokstamp: the base URL must not hold credentials; use WithToken, WithClientCredentials or WithLogin")
	}
	base.RawQuery, base.Fragment, base.RawFragment = "", "", ""
	base.Path, base.RawPath = strings.TrimRight(base.Path, "/"), strings.TrimRight(base.RawPath, "/")

	c := &Client{
		base:      base,
		tenant:    s.tenant,
		userAgent: "dokstamp-go/" + Version,
		hc:        s.hc,
		retry:     DefaultRetryPolicy(),
		logger:    s.logger,

		maxBatchIDs: s.maxBatchIDs,
	}
	for _, secret := range []string{s.token, s.clientSecret, s.password} {
		if secret != "" {
			c.secrets = append(c.secrets, secret)
		}
	}
	if s.userAgent != "" {
		c.userAgent += " " + s.userAgent
	}
	if s.retry != nil {
		c.retry = s.retry.withDefaults()
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	c.gate = newRateGate(s.rateLimit, c.retry.MaxWait)
	switch {
	case s.token != "":
		c.auth = &staticToken{s.token}
	case s.clientID != "":
		c.auth = newClientCredentials(c, s.clientID, s.clientSecret)
	default:
		c.auth = newLoginSource(c, s.email, s.password)
	}

	sv := &service{c}
	c.Institutions = (*InstitutionsService)(sv)
	c.Organizations = (*OrganizationsService)(sv)
	c.Modules = (*ModulesService)(sv)
	c.Courses = (*CoursesService)(sv)
	c.Cohorts = (*CohortsService)(sv)
	c.Students = (*StudentsService)(sv)
	c.Enrollments = (*EnrollmentsService)(sv)
	c.Files = (*FilesService)(sv)
	c.Templates = (*TemplatesService)(sv)
	c.Certificates = (*CertificatesService)(sv)
	c.Documents = (*DocumentsService)(sv)
	c.Auth = (*AuthService)(sv)
	c.Batch = (*BatchService)(sv)
	return c, nil
}

// String describes the Client without its credentials, so that printing it never leaks them.
func (c *Client) String() string {
	return fmt.Sprintf("dokstamp.Client{base: %s, tenant: %s, credentials: redacted}", c.base, c.tenant)
}

// GoString hides the credentials from %#v as well.
func (c *Client) GoString() string { return c.String() }

// hasControl reports whether s holds a byte that cannot travel in an HTTP header.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// redactUserinfo hides the password of a URL-looking string in an error message.
func redactUserinfo(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// NewClientFromEnv builds a Client from DOKSTAMP_TENANT, DOKSTAMP_BASE_URL (optional) and either
// DOKSTAMP_TOKEN or DOKSTAMP_CLIENT_ID with DOKSTAMP_CLIENT_SECRET. Further options are applied
// after the environment's.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	var env []Option
	if v := os.Getenv("DOKSTAMP_TENANT"); v != "" {
		env = append(env, WithTenant(v))
	}
	if v := os.Getenv("DOKSTAMP_BASE_URL"); v != "" {
		env = append(env, WithBaseURL(v))
	}
	if v := os.Getenv("DOKSTAMP_TOKEN"); v != "" {
		env = append(env, WithToken(v))
	} else if id, secret := os.Getenv("DOKSTAMP_CLIENT_ID"), os.Getenv("DOKSTAMP_CLIENT_SECRET"); id != "" || secret != "" {
		env = append(env, WithClientCredentials(id, secret))
	}
	return NewClient(append(env, opts...)...)
}

var (
	defaultTransportOnce sync.Once
	defaultTransport     *http.Transport
)

// defaultHTTPClient shares one transport between the clients that bring none, with enough idle
// connections per host for bulk runs (the standard library keeps only 2).
func defaultHTTPClient() *http.Client {
	defaultTransportOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 512
		t.MaxIdleConnsPerHost = 256
		t.ResponseHeaderTimeout = 2 * time.Minute
		defaultTransport = t
	})
	return &http.Client{Transport: defaultTransport}
}

// request is one API call as the services describe it.
type request struct {
	method   string
	path     string // already escaped, starting with "/"
	query    url.Values
	rawQuery string     // a query already encoded (Client.Do); used when query is empty
	body     any        // nil, a value encoded as JSON, *streamBody or *rawBody
	class    retryClass // what may be retried
	accept   string     // Accept header; default application/json
	secrets  []string   // values sent in the body that must never reach an error (password, PIN)
	public   bool       // no Authorization, no X-Tenant (public download)
	noTenant bool       // auth routes: no X-Tenant
	noAuth   bool       // token requests: no Authorization
	opts     []RequestOption
	// meter, when set, wraps the answer's body as it is read (listAll's memory budget); the
	// buffer then grows with the bytes read instead of the announced length.
	meter func(io.Reader) io.Reader
}

// streamBody is a request body produced anew for each attempt.
type streamBody struct {
	contentType string
	open        func() (io.ReadCloser, error)
}

// rawBody is a request body already encoded (the token request's form).
type rawBody struct {
	contentType string
	b           []byte
}

// send performs r with retries and returns the successful response; the caller closes its body.
// Every failure is returned as an error: *Error for an HTTP answer, and ErrOutcomeUnknown wrapped
// in when a write may have taken effect without an answer saying so. The attemptState tells the
// caller what the call carried, to scrub what it reports of the answer.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, *attemptState, error) {
	if ctx == nil {
		return nil, nil, errorf("%s %s: nil context", r.method, r.path)
	}
	st := newAttemptState(ctx, c, r)
	if st.opts.err != nil {
		return nil, st, errorf("%s %s: %w", r.method, r.path, st.opts.err)
	}
	u, err := c.urlFor(r)
	if err != nil {
		return nil, st, err
	}
	var raw any
	contentType := ""
	switch b := r.body.(type) {
	case nil:
	case *streamBody:
		raw = retryablehttp.ReaderFunc(func() (io.Reader, error) { return b.open() })
		contentType = b.contentType
	case *rawBody:
		raw, contentType = b.b, b.contentType
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, st, errorf("%s %s: encoding request: %w", r.method, r.path, err)
		}
		raw, contentType = buf, "application/json"
	}

	req, err := retryablehttp.NewRequestWithContext(st.withTrace(ctx), r.method, u, raw)
	if err != nil {
		return nil, st, errorf("%s %s: %w", r.method, r.path, err)
	}
	h := req.Header
	if r.accept != "" {
		h.Set("Accept", r.accept)
	} else {
		h.Set("Accept", "application/json")
	}
	h.Set("User-Agent", c.userAgent)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	if !r.public && !r.noTenant {
		h.Set("X-Tenant", c.tenant)
	}
	for k, v := range st.opts.header {
		h[k] = v
	}
	if err := st.authorize(h); err != nil {
		return nil, st, err
	}

	resp, err := st.client().Do(req)
	if err != nil {
		if resp != nil {
			// an answer came but ctx ended meanwhile: the caller gets the ctx error
			resp.Body.Close()
		}
		return nil, st, st.transportError(err)
	}
	st.opts.record(resp)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, st, nil
	}
	defer resp.Body.Close()
	return nil, st, st.answerError(resp)
}

// urlFor is the absolute URL of r on the base URL.
func (c *Client) urlFor(r *request) (string, error) {
	// r.path is escaped already: Path gets its decoded form and RawPath the escaped one, so that
	// an id holding "/" or "%" stays one segment instead of being escaped twice.
	decoded, err := url.PathUnescape(r.path)
	if err != nil {
		return "", errorf("%s %s: bad path: %w", r.method, r.path, err)
	}
	u := *c.base
	u.Path = c.base.Path + decoded
	u.RawPath = c.base.EscapedPath() + r.path
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	} else {
		u.RawQuery = r.rawQuery
	}
	return u.String(), nil
}

// authorize is the one place that sets the Authorization header: from the Client's token source,
// on the first attempt and again before each retry (the token may have been renewed meanwhile).
// Public routes and the token requests themselves carry none.
func (st *attemptState) authorize(h http.Header) error {
	if st.r.public || st.r.noAuth {
		return nil
	}
	tok, err := st.c.auth.token(st.Context)
	if err != nil {
		if strings.HasPrefix(err.Error(), "dokstamp: ") {
			return err // the token request's own error names its route
		}
		return errorf("%s %s: getting a token: %w", st.r.method, st.r.path, err)
	}
	h.Set("Authorization", "Bearer "+tok)
	st.token = tok
	return nil
}

// completer is an answer type that can tell, once decoded, that a required part was missing
// (a "data" object, an access token): the answer is then a *DecodeError like any garbled one.
type completer interface{ complete() error }

// call performs r and decodes a JSON answer into out (nil: the body is discarded).
func (c *Client) call(ctx context.Context, r *request, out any) error {
	resp, st, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSONAnswer)); err != nil {
			return st.cutAnswer(resp, err)
		}
		return nil
	}
	var buf bytes.Buffer
	body := io.Reader(resp.Body)
	if r.meter != nil {
		body = r.meter(body)
	} else if n := resp.ContentLength; n > 0 && n < maxJSONAnswer {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead bytes free for the read that meets EOF
	}
	if _, err := buf.ReadFrom(io.LimitReader(body, maxJSONAnswer)); err != nil {
		return st.cutAnswer(resp, err)
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		return st.decodeError(resp, err)
	}
	if v, ok := out.(completer); ok {
		if err := v.complete(); err != nil {
			return st.decodeError(resp, err)
		}
	}
	return nil
}

// cutAnswer is the error of a 2xx answer whose body could not be read in full. For a POST the
// server acted or not, nobody knows: the outcome is unknown.
func (st *attemptState) cutAnswer(resp *http.Response, err error) error {
	if st.r.method == http.MethodPost {
		return st.scrubbed(errorf("%s %s: answer %d cut short: %w: %w", st.r.method, st.r.path, resp.StatusCode, ErrOutcomeUnknown, err))
	}
	return st.scrubbed(errorf("%s %s: reading answer %d: %w", st.r.method, st.r.path, resp.StatusCode, err))
}

// decodeError is the *DecodeError of a 2xx answer that is not the JSON expected.
func (st *attemptState) decodeError(resp *http.Response, err error) error {
	e := &DecodeError{Method: st.r.method, Path: st.r.path, StatusCode: resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"), Err: err}
	e.scrub(st.scrubber())
	return e
}

// dataEnvelope is the {"data": ...} wrapper of single-object answers.
type dataEnvelope[T any] struct {
	Data *T `json:"data"`
}

func (env *dataEnvelope[T]) complete() error {
	if env.Data == nil {
		return errors.New(`no "data" object`)
	}
	return nil
}

// doData performs r and returns the answer's data object.
func doData[T any](ctx context.Context, c *Client, r *request) (*T, error) {
	var env dataEnvelope[T]
	if err := c.call(ctx, r, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

// pathOf joins escaped segments into a route path. A segment is always one segment: "/" is
// escaped, and "." or ".." (which a server or proxy would resolve) are written as %2E.
func pathOf(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		if s == "." || s == ".." {
			b.WriteString(strings.Repeat("%2E", len(s)))
			continue
		}
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// Do sends any request to the API on the same path as the services: the token and the tenant,
// retries by method (the POST rule of the package doc; POST /files is retried like a read),
// *Error for a non-2xx answer, scrubbing and logging. Use it for a route the SDK does not cover.
//
// path is a path on the base URL, starting with "/" and already escaped, optionally with a
// query string ("/document-types?page=2"); an absolute URL is refused, so that the credentials
// never leave the API's host. body, when not nil, is sent as JSON (a json.RawMessage as it is).
// out, when not nil, receives the answer's "data" when the answer is an object holding one,
// and the whole answer otherwise; an answer that does not decode into it is a *DecodeError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...RequestOption) error {
	r, err := doRequest(method, path, body, opts)
	if err != nil {
		return err
	}
	if out == nil {
		return c.call(ctx, r, nil)
	}
	return c.call(ctx, r, &doAnswer{out})
}

// doRequest checks Do's arguments and builds its request.
func doRequest(method, path string, body any, opts []RequestOption) (*request, error) {
	if method == "" || strings.ContainsFunc(method, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) }) {
		return nil, fmt.Errorf("dokstamp: Do: %q is not an HTTP method", method)
	}
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return nil, fmt.Errorf("dokstamp: Do %s %q: give a path on the base URL, starting with \"/\" (an absolute URL is refused: the credentials never leave the API's host)", method, path)
	}
	u, err := url.Parse(path)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return nil, fmt.Errorf("dokstamp: Do %s %q: not a path on the base URL", method, path)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, fmt.Errorf("dokstamp: Do %s %q: the path holds a %q segment; give the path it resolves to", method, path, seg)
		}
	}
	if _, ok := body.(io.Reader); ok {
		return nil, fmt.Errorf("dokstamp: Do %s %s: body is sent as JSON; a reader would be encoded as {} (use c.Files.Upload for files)", method, u.Path)
	}
	method = strings.ToUpper(method) // "post" must not pass for a method that may be retried
	r := &request{method: method, path: u.EscapedPath(), rawQuery: u.RawQuery, body: body, opts: opts}
	r.class = classFor(method)
	if method == http.MethodPost && u.Path == "/files" {
		r.class = retryIdempotent // uploads are de-duplicated by content
	}
	return r, nil
}

// doAnswer decodes Do's answer: its "data" when it is an object holding one, the whole otherwise.
type doAnswer struct{ out any }

func (a *doAnswer) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var env map[string]json.RawMessage
		if err := json.Unmarshal(t, &env); err != nil {
			return err
		}
		if data, ok := env["data"]; ok {
			return json.Unmarshal(data, a.out)
		}
	}
	return json.Unmarshal(b, a.out)
}
