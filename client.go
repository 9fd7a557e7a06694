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
	auth      tokenSource
	// secrets are the credentials given to NewClient, scrubbed from every error the server's
	// answer could carry them into.
	secrets []string
	// bearer is the Authorization value of a static token, made once.
	bearer string
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
	switch {
	case s.token != "":
		c.auth = &staticToken{s.token}
		c.bearer = "Bearer " + s.token
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
	body     any        // nil, a value encoded as JSON, or *streamBody
	class    retryClass // what may be retried
	accept   string     // Accept header; default application/json
	secrets  []string   // values sent in the body that must never reach an error (password, PIN)
	public   bool       // no Authorization, no X-Tenant (public download)
	noTenant bool       // auth routes: no X-Tenant
	noAuth   bool       // login and refresh: no Authorization
}

// streamBody is a request body produced anew for each attempt.
type streamBody struct {
	contentType string
	open        func() (io.ReadCloser, error)
}

// send performs r with retries and returns the successful response; the caller closes its body.
// Every failure is returned as an error: *Error for an HTTP answer, and ErrOutcomeUnknown wrapped
// in when a write may have taken effect without an answer saying so.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, error) {
	if ctx == nil {
		return nil, errors.New("dokstamp: nil context")
	}
	// r.path is escaped already: Path gets its decoded form and RawPath the escaped one, so that
	// an id holding "/" or "%" stays one segment instead of being escaped twice.
	decoded, err := url.PathUnescape(r.path)
	if err != nil {
		return nil, fmt.Errorf("dokstamp: %s %s: bad path: %w", r.method, r.path, err)
	}
	u := *c.base
	u.Path = c.base.Path + decoded
	u.RawPath = c.base.EscapedPath() + r.path
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}

	var raw any
	contentType := ""
	switch b := r.body.(type) {
	case nil:
	case *streamBody:
		raw = retryablehttp.ReaderFunc(func() (io.Reader, error) { return b.open() })
		contentType = b.contentType
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("dokstamp: %s %s: encoding request: %w", r.method, r.path, err)
		}
		raw = buf
		contentType = "application/json"
	}

	if r.class == retryByMethod {
		r.class = classFor(r.method)
	}
	st := newAttemptState(c, r)
	req, err := retryablehttp.NewRequestWithContext(st.withTrace(ctx), r.method, u.String(), raw)
	if err != nil {
		return nil, fmt.Errorf("dokstamp: %s %s: %w", r.method, r.path, err)
	}
	// The header values share one array in st instead of a slice each (the keys are canonical).
	h := req.Header
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	st.setHeader(h, "Accept", accept)
	st.setHeader(h, "User-Agent", c.userAgent)
	if contentType != "" {
		st.setHeader(h, "Content-Type", contentType)
	}
	if !r.public && !r.noTenant {
		st.setHeader(h, "X-Tenant", c.tenant)
	}
	if !r.public && !r.noAuth {
		tok, err := c.auth.token(ctx)
		if err != nil {
			return nil, err
		}
		st.setHeader(h, "Authorization", c.bearerHeader(tok))
		st.token = tok
	}

	resp, err := st.client().Do(req)
	if err != nil {
		if resp != nil {
			// an answer came but ctx ended meanwhile: the caller gets the ctx error
			resp.Body.Close()
		}
		return nil, st.transportError(err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, st.answerError(resp)
}

// authorize sets the Authorization header from the client's token source and returns the token.
func (c *Client) authorize(ctx context.Context, hr *http.Request) (string, error) {
	tok, err := c.auth.token(ctx)
	if err != nil {
		return "", err
	}
	hr.Header.Set("Authorization", c.bearerHeader(tok))
	return tok, nil
}

// bearerHeader is the Authorization value for tok, made once for a static token.
func (c *Client) bearerHeader(tok string) string {
	if c.bearer != "" && len(c.bearer) == len("Bearer ")+len(tok) && c.bearer[len("Bearer "):] == tok {
		return c.bearer
	}
	return "Bearer " + tok
}

// call performs r and decodes a JSON answer into out (nil: the body is discarded).
func (c *Client) call(ctx context.Context, r *request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSONAnswer))
		return nil
	}
	a := getAnswer(resp.ContentLength)
	defer putAnswer(a)
	a.lr = io.LimitedReader{R: resp.Body, N: maxJSONAnswer}
	if _, err := a.buf.ReadFrom(&a.lr); err != nil {
		return fmt.Errorf("dokstamp: %s %s: reading answer: %w", r.method, r.path, err)
	}
	// encoding/json copies what it keeps (strings, RawMessage, and Unmarshalers must copy), so
	// the buffer can be reused once decoded.
	if err := json.Unmarshal(a.buf.Bytes(), out); err != nil {
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode,
			ContentType: resp.Header.Get("Content-Type"), Err: err}
	}
	return nil
}

// answer is a buffer a JSON answer is read into, with the reader that bounds it. They are
// pooled, so that a bulk run does not grow a fresh buffer for every answer.
type answer struct {
	buf bytes.Buffer
	lr  io.LimitedReader
}

var answers = sync.Pool{New: func() any { return new(answer) }}

// maxPooledAnswer is the largest buffer kept for reuse; a rare huge answer is left to the GC.
const maxPooledAnswer = 1 << 20

// getAnswer is an empty buffer with room for an answer of the given length (-1: unknown).
func getAnswer(length int64) *answer {
	a := answers.Get().(*answer)
	if length > 0 && length <= maxPooledAnswer {
		// ReadFrom wants MinRead bytes free before each read, the one that meets EOF included;
		// a larger announced length grows as the bytes really arrive
		a.buf.Grow(int(length) + bytes.MinRead)
	}
	return a
}

func putAnswer(a *answer) {
	a.lr = io.LimitedReader{}
	if a.buf.Cap() > maxPooledAnswer {
		return
	}
	a.buf.Reset()
	answers.Put(a)
}

// DecodeError reports a successful HTTP answer whose body is not the JSON the SDK expects.
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

// dataEnvelope is the {"data": ...} wrapper of single-object answers.
type dataEnvelope[T any] struct {
	Data *T `json:"data"`
}

// doData performs r and returns the answer's data object.
func doData[T any](ctx context.Context, c *Client, r *request) (*T, error) {
	var env dataEnvelope[T]
	if err := c.call(ctx, r, &env); err != nil {
		return nil, err
	}
	if env.Data == nil {
		return nil, &DecodeError{Method: r.method, Path: r.path, StatusCode: 200,
			ContentType: "application/json", Err: errors.New(`no "data" object`)}
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
