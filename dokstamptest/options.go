package dokstamptest

import "time"

// Option configures a Server created by New or NewServer.
type Option func(*config)

type config struct {
	students      int
	tenant        string
	token         string
	clientID      string
	clientSecret  string
	email         string
	password      string
	tokenLifetime time.Duration
	noLastPage    bool
	maxPerPage    int
	maxBatch      int
	maxUpload     int
	maxFileSize   int64
	successFalse  bool
	modelNotFound bool
	issuance      IssuanceFlag
	seed          int64
	seeded        bool
	faults        Faults
	routeFaults   map[string]Faults
	addr          string
	clock         func() time.Time
}

// WithStudents sets how many students (each with a completed enrollment on
// the seeded course) the default tenant starts with. The default is 3.
func WithStudents(n int) Option { return func(c *config) { c.students = n } }

// WithTenant sets the default tenant's X-Tenant value; the default is
// "acme-university".
func WithTenant(name string) Option { return func(c *config) { c.tenant = name } }

// WithToken sets the static Bearer token (Server.Token); by default a random
// one is made.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithClientCredentials sets the client id and secret accepted by
// POST /oauth/token; by default random ones are made.
func WithClientCredentials(id, secret string) Option {
	return func(c *config) { c.clientID, c.clientSecret = id, secret }
}

// WithLogin sets the email and password accepted by POST /auth/login; by
// default a random password is made for "admin@<tenant>.test".
func WithLogin(email, password string) Option {
	return func(c *config) { c.email, c.password = email, password }
}

// WithTokenLifetime sets the lifetime of tokens issued by POST /oauth/token
// (expires_in). The default is 12 hours (43200 s).
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithoutLastPage omits meta.last_page from list answers, as older servers do.
func WithoutLastPage() Option { return func(c *config) { c.noLastPage = true } }

// WithMaxPerPage sets the largest per_page a list honours (default 500);
// a larger per_page is clamped to it and meta.per_page shows the clamped value.
func WithMaxPerPage(n int) Option { return func(c *config) { c.maxPerPage = n } }

// WithMaxBatch sets the largest number of uuids or document ids one batch
// request accepts (DELETE .../batch/destroy, the document batch routes);
// above it the answer is 422. The default, 100, is a choice of the fake: the
// docs give no maximum.
func WithMaxBatch(n int) Option { return func(c *config) { c.maxBatch = n } }

// WithMaxUploadFiles sets the largest number of files[] parts one POST /files
// accepts; above it the answer is 422. The default, 100, is a choice of the
// fake: the docs give no maximum.
func WithMaxUploadFiles(n int) Option { return func(c *config) { c.maxUpload = n } }

// WithMaxFileSize sets the largest file, in bytes, POST /files accepts; a
// larger part is a 422. The default, 50 MiB, is a choice of the fake: the
// docs give no maximum.
func WithMaxFileSize(bytes int64) Option { return func(c *config) { c.maxFileSize = bytes } }

// WithSuccessFalse adds "success": false to every error body, as the newer
// version of the docs' errors page shows ({"success":false,"message":...}).
func WithSuccessFalse() Option { return func(c *config) { c.successFalse = true } }

// WithModelNotFoundMessage makes a missing entity's 404 say what the older
// version of the docs' errors page shows, Laravel's
// "No query results for model [App\Certificate] <uuid>", instead of
// "Resource not found.".
func WithModelNotFoundMessage() Option { return func(c *config) { c.modelNotFound = true } }

// IssuanceFlag names the field of POST /certificates (and of its update)
// that issues a certificate. The two versions of the docs' lifecycle page
// disagree: version A sends "status": "issued" (with "issued_at"), version B
// "finish": true.
type IssuanceFlag string

const (
	// IssueByStatus honours "status" ("draft" or "issued") and ignores
	// "finish", as a server following version A would.
	IssueByStatus IssuanceFlag = "status"
	// IssueByFinish honours "finish" and ignores "status" and "issued_at",
	// as a server following version B would.
	IssueByFinish IssuanceFlag = "finish"
	// IssueByEither honours both (the default).
	IssueByEither IssuanceFlag = "both"
)

// WithIssuanceFlag chooses which field issues a certificate (default
// IssueByEither), so a test can run against either version of the docs: a
// field the server ignores leaves the certificate a draft, and ignored
// fields are not validated.
func WithIssuanceFlag(f IssuanceFlag) Option { return func(c *config) { c.issuance = f } }

// WithSeed seeds the generators behind random faults and record UUIDs, so that a sequence of
// sequential requests sees the same faults, and the same creations the same UUIDs, on every run.
func WithSeed(seed int64) Option { return func(c *config) { c.seed, c.seeded = seed, true } }

// WithFaults sets faults for every tenant-scoped route (see the package doc).
func WithFaults(f Faults) Option { return func(c *config) { c.faults = f } }

// WithRouteFaults sets faults for one route, written as the method and the
// route pattern of the API, e.g. "POST /certificates" or
// "GET /certificates/{uuid}" (placeholder names do not matter). They replace
// the server-wide faults for that route. New fails on an unknown route.
func WithRouteFaults(route string, f Faults) Option {
	return func(c *config) {
		if c.routeFaults == nil {
			c.routeFaults = map[string]Faults{}
		}
		c.routeFaults[route] = f
	}
}

// WithAddr sets the listen address; by default the server listens where
// httptest.NewUnstartedServer does, on a free loopback port.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithClock sets the clock used for timestamps and token expiry (default
// time.Now). Rate limiting and latency always use real time.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }
