package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"
)

// renewBefore is how long before expiry a cached token is renewed.
const renewBefore = 60 * time.Second

// tokenSource gives the Bearer token for the next request.
type tokenSource interface {
	token(ctx context.Context) (string, error)
}

// forgetter is a token source that can drop its cached token (after a logout).
type forgetter interface{ forget() }

// tokenDropper is a token source that can renew a token the server refused: drop(tok) forgets
// tok if it is still the cached one, so the next request fetches a new token.
type tokenDropper interface{ drop(tok string) }

// secretHolder is a token source that holds secrets of its own (the current access token, a
// refresh token), which the scrubber covers in every call's errors.
type secretHolder interface{ heldSecrets() []string }

// staticToken is a pointer type so that printing a Client's fields never shows the token.
type staticToken struct{ s string }

func (t *staticToken) token(context.Context) (string, error) { return t.s, nil }

// tokenCache holds one token and renews it renewBefore ahead of expiry, one fetch at a time
// however many goroutines ask (x/sync/singleflight). A goroutine waiting for another's fetch
// stops waiting when its own ctx ends; when a fetch failed only because its caller's ctx ended,
// the goroutines still waiting fetch again.
type tokenCache struct {
	fetch func(ctx context.Context) (tok string, expiry time.Time, err error)
	group singleflight.Group

	mu     sync.Mutex
	tok    string
	expiry time.Time // zero: never expires
}

func (tc *tokenCache) cached() (string, bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.tok != "" && (tc.expiry.IsZero() || time.Until(tc.expiry) > renewBefore) {
		return tc.tok, true
	}
	return "", false
}

func (tc *tokenCache) token(ctx context.Context) (string, error) {
	for {
		if tok, ok := tc.cached(); ok {
			return tok, nil
		}
		ch := tc.group.DoChan("token", func() (any, error) {
			if tok, ok := tc.cached(); ok { // a fetch finished just before this one started
				return tok, nil
			}
			tok, expiry, err := tc.fetch(ctx)
			if err != nil {
				return "", err
			}
			tc.mu.Lock()
			tc.tok, tc.expiry = tok, expiry
			tc.mu.Unlock()
			return tok, nil
		})
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case r := <-ch:
			if r.Err == nil {
				return r.Val.(string), nil
			}
			if ctx.Err() == nil && (errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)) {
				continue // the fetching goroutine's caller gave up, not this one: fetch again
			}
			return "", r.Err
		}
	}
}

func (tc *tokenCache) drop(tok string) {
	tc.mu.Lock()
	if tc.tok == tok {
		tc.tok, tc.expiry = "", time.Time{}
	}
	tc.mu.Unlock()
}

func (tc *tokenCache) heldSecrets() []string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return []string{tc.tok}
}

func (tc *tokenCache) forget() {
	tc.mu.Lock()
	tc.tok, tc.expiry = "", time.Time{}
	tc.mu.Unlock()
}

// clientCredentials fetches OAuth2 client-credentials tokens (POST /oauth/token, client_id and
// client_secret in the form body) and caches them. x/oauth2 builds the request and reads the
// answer; the request itself goes through the Client's one request path (tokenTransport), with
// its retries, redirect rules, errors, scrubbing and logging.
type clientCredentials struct {
	tokenCache
	cfg *clientcredentials.Config
	hc  *http.Client
}

func newClientCredentials(c *Client, id, secret string) *clientCredentials {
	cc := &clientCredentials{
		cfg: &clientcredentials.Config{
			ClientID:     id,
			ClientSecret: secret,
			TokenURL:     c.base.String() + "/oauth/token",
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		hc: &http.Client{Transport: &tokenTransport{c}},
	}
	cc.fetch = cc.grant
	return cc
}

// grant asks the token endpoint for a token. It is retried like a read on connection errors,
// 429 and 5xx: a grant has no effect but the token it returns.
func (cc *clientCredentials) grant(ctx context.Context) (string, time.Time, error) {
	t, err := cc.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, cc.hc))
	if err != nil {
		return "", time.Time{}, tokenError(err, newScrubber(cc.cfg.ClientSecret))
	}
	return t.AccessToken, t.Expiry, nil
}

// tokenTransport hands x/oauth2's token request to the Client's request path. A non-2xx answer
// comes back to x/oauth2 as the path's *Error, which tokenError finds again.
type tokenTransport struct{ c *Client }

func (t *tokenTransport) RoundTrip(hr *http.Request) (*http.Response, error) {
	var body []byte
	if hr.Body != nil {
		b, err := io.ReadAll(hr.Body)
		hr.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	secret := ""
	if form, err := url.ParseQuery(string(body)); err == nil {
		secret = form.Get("client_secret")
	}
	resp, _, err := t.c.send(hr.Context(), &request{method: hr.Method, path: tokenPath,
		body:  &rawBody{contentType: hr.Header.Get("Content-Type"), b: body},
		class: retryIdempotent, noAuth: true, noTenant: true, secrets: []string{secret}})
	return resp, err
}

// tokenPath is the OAuth2 token route.
const tokenPath = "/oauth/token"

// tokenError turns x/oauth2's failure into the SDK's. A failure of the request itself comes
// from the request path (tokenTransport), wrapped by net/http in a *url.Error: it is returned as
// the path made it. An OAuth error answered with a 2xx becomes an *Error, without the body
// x/oauth2 keeps (where a misbehaving server could echo the secret); an answer x/oauth2 could not
// read (not JSON, no access_token) is a *DecodeError.
func tokenError(err error, sc *scrubber) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Method: "POST", Path: tokenPath, Code: re.ErrorCode, Message: re.ErrorDescription, Attempts: 1}
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
			e.RequestID = re.Response.Header.Get("X-Request-Id")
		}
		e.scrub(sc)
		return e
	}
	return &DecodeError{Method: "POST", Path: tokenPath, StatusCode: http.StatusOK, ContentType: "application/json",
		Err: errors.New(sc.scrub(strings.TrimPrefix(err.Error(), "oauth2: ")))}
}

// AuthService covers the e-mail/password (Passport) flow: login, refresh, logout and the current
// user. Service tokens (client credentials) need none of it.
type AuthService service

// AuthToken is the answer of POST /auth/login and POST /auth/refresh.
type AuthToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"` // seconds
}

// String hides the tokens so that printing an AuthToken never leaks them.
func (t AuthToken) String() string {
	return fmt.Sprintf("AuthToken{type: %s, expires in: %ds, tokens: redacted}", t.TokenType, t.ExpiresIn)
}

// GoString hides the tokens from %#v as well.
func (t AuthToken) GoString() string { return t.String() }

// User is the account behind the token, with its tenant.
type User struct {
	ID     int    `json:"id,omitempty"`
	UUID   string `json:"uuid,omitempty"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Tenant Tenant `json:"tenant"`
}

// Tenant is a DokStamp tenant. Domain is the value of the X-Tenant header.
type Tenant struct {
	ID     int    `json:"id,omitempty"`
	UUID   string `json:"uuid,omitempty"`
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

// Login exchanges an e-mail and password for tokens. The access token lasts a year; keep the
// refresh token to renew it. Login does not change the Client's own credentials. It is retried
// like a read (package doc, "Retries and duplicates").
//
// API: POST /auth/login
func (s *AuthService) Login(ctx context.Context, email, password string, opts ...RequestOption) (*AuthToken, error) {
	if email == "" || password == "" {
		return nil, errors.New("dokstamp: Login: empty e-mail or password")
	}
	body := map[string]string{"email": email, "password": password}
	return s.tokenCall(ctx, &request{method: "POST", path: "/auth/login", body: body,
		class: retryIdempotent, secrets: []string{password}, opts: opts})
}

// Refresh exchanges a refresh token for new tokens. The old refresh token stops working
// (rotation), so the POST rule (package doc, "Retries and duplicates") applies: after
// ErrOutcomeUnknown the old refresh token may be spent already; log in again.
//
// API: POST /auth/refresh
func (s *AuthService) Refresh(ctx context.Context, refreshToken string, opts ...RequestOption) (*AuthToken, error) {
	if refreshToken == "" {
		return nil, errors.New("dokstamp: Refresh: empty refresh token")
	}
	return s.tokenCall(ctx, &request{method: "POST", path: "/auth/refresh", body: map[string]string{"refresh_token": refreshToken},
		class: retryUnsafe, secrets: []string{refreshToken}, opts: opts})
}

// tokenCall sends a login or refresh: no tenant, no Authorization.
func (s *AuthService) tokenCall(ctx context.Context, r *request) (*AuthToken, error) {
	r.noTenant, r.noAuth = true, true
	var t AuthToken
	if err := s.c.call(ctx, r, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// complete: an answer without an access token is garbled.
func (t *AuthToken) complete() error {
	if t.AccessToken == "" {
		return errors.New("no access_token")
	}
	return nil
}

// Logout revokes the Client's current access token on the server. A refresh token may still
// work afterwards: discard both.
//
// API: POST /auth/logout
func (s *AuthService) Logout(ctx context.Context, opts ...RequestOption) error {
	err := s.c.call(ctx, &request{method: "POST", path: "/auth/logout", noTenant: true, class: retryUnsafe, opts: opts}, nil)
	if err == nil {
		if f, ok := s.c.auth.(forgetter); ok {
			f.forget()
		}
	}
	return err
}

// Me returns the user behind the Client's token and its tenant; Tenant.Domain is the X-Tenant value.
//
// API: GET /auth/me
func (s *AuthService) Me(ctx context.Context, opts ...RequestOption) (*User, error) {
	return doData[User](ctx, s.c, &request{method: "GET", path: "/auth/me", noTenant: true, opts: opts})
}

// loginSource keeps a Client logged in with an e-mail and password: it logs in on first use and
// refreshes renewBefore ahead of expiry, one exchange at a time.
type loginSource struct {
	tokenCache
	c               *Client
	email, password string
	mu              sync.Mutex // guards refresh
	refresh         string
}

func newLoginSource(c *Client, email, password string) *loginSource {
	l := &loginSource{c: c, email: email, password: password}
	l.fetch = l.exchange
	return l
}

// exchange refreshes when it holds a refresh token, and logs in when it has none or the
// refresh fails: a rotated or revoked refresh token, or a refresh whose answer was lost
// (ErrOutcomeUnknown), after which the refresh token it sent may be spent.
func (l *loginSource) exchange(ctx context.Context) (string, time.Time, error) {
	l.mu.Lock()
	refresh := l.refresh
	l.mu.Unlock()
	var t *AuthToken
	var err error
	if refresh != "" {
		t, err = l.c.Auth.Refresh(ctx, refresh)
		if err != nil {
			l.mu.Lock()
			if l.refresh == refresh {
				l.refresh = ""
			}
			l.mu.Unlock()
		}
	}
	if t == nil {
		t, err = l.c.Auth.Login(ctx, l.email, l.password)
	}
	if err != nil {
		return "", time.Time{}, err
	}
	l.mu.Lock()
	l.refresh = t.RefreshToken
	l.mu.Unlock()
	var expiry time.Time
	if t.ExpiresIn > 0 {
		expiry = time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return t.AccessToken, expiry, nil
}

func (l *loginSource) heldSecrets() []string {
	l.mu.Lock()
	refresh := l.refresh
	l.mu.Unlock()
	return append(l.tokenCache.heldSecrets(), refresh)
}

func (l *loginSource) forget() {
	l.tokenCache.forget()
	l.mu.Lock()
	l.refresh = ""
	l.mu.Unlock()
}

// unauthorizedHint says what to check after a 401 answer to r: the tenant sent and the kind of
// token, since a wrong tenant and a bad token read the same on the server's side.
func (c *Client) unauthorizedHint(r *request, renewed bool) string {
	switch r.path {
	case tokenPath:
		return "check the client id and secret given to WithClientCredentials"
	case "/auth/login":
		return "check the e-mail and password given to WithLogin or Login"
	case "/auth/refresh":
		return "the refresh token was used already, expired or was revoked: log in again"
	}
	var kind string
	switch c.auth.(type) {
	case *staticToken:
		kind = "static token (WithToken), which is not renewed"
	case *clientCredentials:
		kind = "client-credentials token"
	case *loginSource:
		kind = "login token (WithLogin)"
	}
	if renewed {
		kind += ", renewed once and refused again"
	}
	const valid = "check that it has not expired or been revoked"
	if r.noTenant {
		return kind + ": " + valid
	}
	return fmt.Sprintf("tenant %q, %s: %s, and that it belongs to this tenant (c.Auth.Me shows its tenant's domain, the value WithTenant takes)", c.tenant, kind, valid)
}
