package dokstamptest

import (
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is an in-memory DokStamp API listening on loopback. Create it with
// NewServer or New; it is safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, e.g. "http://127.0.0.1:41234",
	// without a trailing slash.
	URL string
	// Token is a static Bearer token accepted for every tenant of this server.
	Token string
	// Tenant is the X-Tenant value of the default, seeded tenant.
	Tenant string
	// ClientID and ClientSecret are the client credentials accepted by
	// POST /oauth/token.
	ClientID, ClientSecret string
	// Email and Password are the credentials accepted by POST /auth/login.
	Email, Password string
	// InstitutionUUID and CourseUUID name the seeded institution and course
	// of the default tenant.
	InstitutionUUID, CourseUUID string
	// StudentUUIDs are the seeded students of the default tenant, each with
	// a completed enrollment on CourseUUID.
	StudentUUIDs []string
	// EnrollmentUUIDs are the seeded enrollments, in the order of StudentUUIDs.
	EnrollmentUUIDs []string
	// SigningCertID and SigningPIN identify and unlock the default tenant's
	// stored digital certificate for POST /documents/batch/sign/{cert_id}.
	SigningCertID int
	// SigningPIN unlocks the certificate SigningCertID.
	SigningPIN string

	cfg config
	now func() time.Time

	ts        *httptest.Server
	mux       *http.ServeMux
	closing   chan struct{} // closed when Close begins, to end fault latencies
	closeOnce sync.Once

	otherMu     sync.Mutex
	other       *httptest.Server // the other origin, started on first use
	otherClosed bool
	otherSeen   []OriginRequest

	routes    map[string]*route // by normalized key
	routeList []*route

	faultMu sync.Mutex // guards rng
	rng     *rand.Rand
	// ids draws the UUIDs of created records (guarded by mu); seeded by WithSeed, so that a
	// program replaying the same creations sees the same UUIDs.
	ids    *rand.Rand
	global atomic.Pointer[faultState]

	mu          sync.RWMutex // guards everything below
	tenants     map[string]*tenant
	tenantOrder []*tenant
	files       map[string]*file // every tenant's files, for the public download
	slugs       map[string]bool  // portfolio slugs are unique platform-wide
	tokens      map[string]time.Time
	refresh     map[string]bool
	grants      int
	seq         int64
	nextID      int
	userUUID    string
}

// NewServer starts a Server for a test, fails the test if it cannot, and
// closes it when the test and its subtests end.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("dokstamptest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a Server. The caller must Close it.
func New(opts ...Option) (*Server, error) {
	cfg := config{
		students:      3,
		tenant:        "acme-university",
		tokenLifetime: 12 * time.Hour,
		maxPerPage:    500,
		maxBatch:      100,
		maxUpload:     100,
		maxFileSize:   50 << 20,
		issuance:      IssueByEither,
		clock:         time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tenant == "" {
		return nil, errors.New("empty tenant name")
	}
	if cfg.students < 0 || cfg.maxPerPage < 1 || cfg.maxBatch < 1 || cfg.maxUpload < 1 || cfg.maxFileSize < 1 {
		return nil, errors.New("students must be >= 0; max per page, max batch, max upload files and max file size >= 1")
	}
	switch cfg.issuance {
	case IssueByStatus, IssueByFinish, IssueByEither:
	default:
		return nil, fmt.Errorf("unknown issuance flag %q: use IssueByStatus, IssueByFinish or IssueByEither", cfg.issuance)
	}
	if cfg.token == "" {
		cfg.token = "dks_" + randomHex(20)
	}
	if cfg.clientID == "" {
		cfg.clientID = "client-" + randomHex(6)
	}
	if cfg.clientSecret == "" {
		cfg.clientSecret = randomHex(20)
	}
	if cfg.email == "" {
		cfg.email = "admin@" + cfg.tenant + ".test"
	}
	if cfg.password == "" {
		cfg.password = randomHex(8)
	}
	if !cfg.seeded {
		cfg.seed = int64(rand.Uint64())
	}
	s := &Server{
		Token:        cfg.token,
		Tenant:       cfg.tenant,
		ClientID:     cfg.clientID,
		ClientSecret: cfg.clientSecret,
		Email:        cfg.email,
		Password:     cfg.password,
		cfg:          cfg,
		now:          func() time.Time { return cfg.clock().UTC() },
		mux:          http.NewServeMux(),
		closing:      make(chan struct{}),
		routes:       map[string]*route{},
		rng:          rand.New(rand.NewPCG(uint64(cfg.seed), uint64(cfg.seed)^0x9e3779b97f4a7c15)),
		ids:          rand.New(rand.NewPCG(uint64(cfg.seed)^0x5851f42d4c957f2d, uint64(cfg.seed))),
		tenants:      map[string]*tenant{},
		files:        map[string]*file{},
		slugs:        map[string]bool{},
		tokens:       map[string]time.Time{},
		refresh:      map[string]bool{},
		userUUID:     newUUID(),
	}
	s.registerRoutes()
	if err := cfg.faults.check(); err != nil {
		return nil, err
	}
	s.SetFaults(cfg.faults)
	for name, f := range cfg.routeFaults {
		rts := s.lookupRoutes(name)
		if rts == nil {
			return nil, fmt.Errorf("unknown route %q in WithRouteFaults", name)
		}
		if err := f.check(); err != nil {
			return nil, fmt.Errorf("WithRouteFaults %q: %w", name, err)
		}
		for _, rt := range rts {
			rt.setFaults(f)
		}
	}
	s.ts = httptest.NewUnstartedServer(s.mux)
	if cfg.addr != "" {
		ln, err := net.Listen("tcp", cfg.addr)
		if err != nil {
			s.ts.Close()
			return nil, fmt.Errorf("listen on %s: %w", cfg.addr, err)
		}
		_ = s.ts.Listener.Close()
		s.ts.Listener = ln
	}
	s.ts.Config.ReadHeaderTimeout = 30 * time.Second
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.URL = "http://" + s.ts.Listener.Addr().String()

	seed := s.AddTenant(cfg.tenant)
	s.InstitutionUUID = seed.InstitutionUUID
	s.CourseUUID = seed.CourseUUID
	s.StudentUUIDs = seed.StudentUUIDs
	s.EnrollmentUUIDs = seed.EnrollmentUUIDs
	s.SigningCertID = seed.SigningCertID
	s.SigningPIN = seed.SigningPIN

	s.ts.Start()
	return s, nil
}

// Close stops the server: it ends pending fault latencies, closes every
// connection and waits for running handlers (httptest.Server's Close). It is
// idempotent and leaves no goroutine behind.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.otherMu.Lock()
		s.otherClosed = true
		other := s.other
		s.otherMu.Unlock()
		if other != nil {
			other.CloseClientConnections()
			other.Close()
		}
		s.ts.CloseClientConnections()
		s.ts.Close()
	})
}

// scope says what a route requires of the caller.
type scope int

const (
	scopePublic scope = iota // nothing
	scopeBearer              // a valid Bearer token
	scopeTenant              // a valid Bearer token and a known X-Tenant
)

// route is one registered method + pattern, with its counters and faults.
type route struct {
	name    string // "POST /certificates"
	key     string // normalized: placeholders written "{}"
	write   bool
	scope   scope
	faults  atomic.Pointer[faultState] // route-specific, nil when none
	running atomic.Int64

	mu     sync.Mutex
	counts map[int]int
}

func (rt *route) count(status int) {
	rt.mu.Lock()
	rt.counts[status]++
	rt.mu.Unlock()
}

func (rt *route) setFaults(f Faults) {
	rt.faults.Store(newFaultState(f))
}

// normalizeRoute turns "post  /certificates/{id}" into "POST /certificates/{}".
func normalizeRoute(r string) string {
	method, path, ok := strings.Cut(strings.TrimSpace(r), " ")
	if !ok {
		return ""
	}
	path = strings.TrimRight(strings.TrimSpace(path), "/")
	segs := strings.Split(path, "/")
	for i, sg := range segs {
		if strings.HasPrefix(sg, "{") && strings.HasSuffix(sg, "}") {
			segs[i] = "{}"
		}
	}
	return strings.ToUpper(method) + " " + strings.Join(segs, "/")
}

// lookupRoutes finds the routes named by "METHOD /pattern"; the method may
// list several, as in "PATCH|PUT /certificates/{uuid}". It returns nil when
// any of them is unknown.
func (s *Server) lookupRoutes(name string) []*route {
	methods, path, ok := strings.Cut(strings.TrimSpace(name), " ")
	if !ok {
		return nil
	}
	var out []*route
	for _, m := range strings.Split(methods, "|") {
		rt := s.routes[normalizeRoute(m+" "+path)]
		if rt == nil || m == "" {
			return nil
		}
		out = append(out, rt)
	}
	return out
}

// handle registers pattern (e.g. "POST /certificates") with its handler.
func (s *Server) handle(pattern string, sc scope, h func(*call)) {
	method, _, _ := strings.Cut(pattern, " ")
	rt := &route{
		name:   pattern,
		key:    normalizeRoute(pattern), // "" for the catch-all "/", which no lookup matches
		write:  method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch || method == http.MethodDelete,
		scope:  sc,
		counts: map[int]int{},
	}
	if _, dup := s.routes[rt.key]; dup {
		panic("dokstamptest: route registered twice: " + pattern)
	}
	s.routes[rt.key] = rt
	s.routeList = append(s.routeList, rt)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rt.running.Add(1)
		defer rt.running.Add(-1)
		s.serve(rt, h, w, r)
	})
}

// serve runs one request through faults, authentication and the handler.
// The request is counted before the answer is written (or the connection
// dropped, counted as status 0), so a client that has its answer sees it
// in Requests.
func (s *Server) serve(rt *route, h func(*call), w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, w: w, r: r}
	var v verdict
	if fs := s.faultsFor(rt); fs != nil && !fromOtherOrigin(r) {
		if v = s.applyFaults(fs, rt, c); v.stop {
			if c.status == 0 {
				rt.count(0)
				dropConn(w)
				return
			}
			c.send(rt)
			return
		}
	}
	if rt.scope != scopePublic {
		if !s.authenticate(r) {
			c.fail(http.StatusUnauthorized, "Unauthenticated.")
			c.send(rt)
			return
		}
		if rt.scope == scopeTenant {
			s.mu.RLock()
			c.t = s.tenants[r.Header.Get("X-Tenant")]
			s.mu.RUnlock()
			if c.t == nil {
				c.fail(http.StatusUnauthorized, "Unauthenticated.")
				c.send(rt)
				return
			}
		}
	}
	h(c)
	if c.status == 0 {
		c.fail(http.StatusInternalServerError, "Server Error")
	}
	ok := c.status >= 200 && c.status < 300
	if v.drop && rt.write && ok {
		rt.count(0)
		dropConn(w)
		return
	}
	c.cut = v.cut && ok
	c.send(rt)
}

// send counts the answer, then writes it.
func (c *call) send(rt *route) {
	rt.count(c.status)
	c.flush()
}

// dropConn closes the client's connection without writing an answer.
func dropConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func (s *Server) authenticate(r *http.Request) bool {
	tok := bearer(r)
	if tok == "" {
		return false
	}
	if tok == s.Token {
		return true
	}
	s.mu.RLock()
	exp, ok := s.tokens[tok]
	s.mu.RUnlock()
	return ok && s.now().Before(exp)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Requests reports how many requests each route answered, by status:
// route ("POST /certificates") -> status -> count. Dropped connections
// (DropAfterCommitRate, or a latency cut short) are counted under status 0;
// answers cut after their headers (CutBodyRate) under their status.
func (s *Server) Requests() map[string]map[int]int {
	out := map[string]map[int]int{}
	for _, rt := range s.routeList {
		rt.mu.Lock()
		if len(rt.counts) > 0 {
			m := make(map[int]int, len(rt.counts))
			for k, v := range rt.counts {
				m[k] = v
			}
			out[rt.name] = m
		}
		rt.mu.Unlock()
	}
	return out
}

// RequestCount reports how many requests a route ("POST /certificates",
// "PATCH|PUT /certificates/{uuid}") has answered, whatever the status. An
// unknown route counts 0.
func (s *Server) RequestCount(route string) int {
	n := 0
	for _, rt := range s.lookupRoutes(route) {
		rt.mu.Lock()
		for _, v := range rt.counts {
			n += v
		}
		rt.mu.Unlock()
	}
	return n
}

// ResetRequests sets every request counter back to zero.
func (s *Server) ResetRequests() {
	for _, rt := range s.routeList {
		rt.mu.Lock()
		rt.counts = map[int]int{}
		rt.mu.Unlock()
	}
}

// Routes lists the routes the server answers, as "METHOD /pattern".
func (s *Server) Routes() []string {
	out := make([]string, len(s.routeList))
	for i, rt := range s.routeList {
		out[i] = rt.name
	}
	return out
}

// inflightCount reports running handlers (for tests).
func (s *Server) inflightCount() int {
	n := 0
	for _, rt := range s.routeList {
		n += int(rt.running.Load())
	}
	return n
}
