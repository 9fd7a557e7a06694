package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

func (tc *tokenCache) forget() {
	tc.mu.Lock()
	tc.tok, tc.expiry = "", time.Time{}
	tc.mu.Unlock()
}

// clientCredentials fetches OAuth2 client-credentials tokens (POST /oauth/token, client_id and
// client_secret in the form body) and caches them.
type clientCredentials struct {
	tokenCache
	cfg    *clientcredentials.Config
	hc     *http.Client
	secret string
	retry  RetryPolicy
}

func newClientCredentials(c *Client, id, secret string) *clientCredentials {
	cc := &clientCredentials{
		cfg: &clientcredentials.Config{
			ClientID:     id,
			ClientSecret: secret,
			TokenURL:     c.base.String() + "/oauth/token",
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		hc:     &http.Client{Transport: withHeaders{c.hc, c.userAgent}, CheckRedirect: noRedirect},
		secret: secret,
		retry:  c.retry,
	}
	cc.fetch = cc.grant
	return cc
}

// grant asks the token endpoint, retrying like a read on connection errors, 429 and 5xx: a
// grant has no effect but the token it returns.
func (cc *clientCredentials) grant(ctx context.Context) (string, time.Time, error) {
	for attempt := 1; ; attempt++ {
		t, err := cc.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, cc.hc))
		if err == nil {
			return t.AccessToken, t.Expiry, nil
		}
		if ctx.Err() != nil {
			return "", time.Time{}, fmt.Errorf("dokstamp: POST /oauth/token: %w", ctx.Err())
		}
		e := tokenError("POST", "/oauth/token", err, cc.secret)
		var apiErr *Error
		retryable := !errors.As(e, &apiErr) || apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
		if !retryable || attempt > cc.retry.MaxRetries {
			if apiErr != nil {
				apiErr.Attempts = attempt
			}
			return "", time.Time{}, e
		}
		var ra time.Duration
		if apiErr != nil {
			ra = apiErr.RetryAfter
		}
		timer := time.NewTimer(cc.retry.wait(attempt, ra))
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", time.Time{}, fmt.Errorf("dokstamp: POST /oauth/token: %w", ctx.Err())
		case <-timer.C:
		}
	}
}

// withHeaders sends the token request through the user's client with the SDK's Accept and
// User-Agent headers (oauth2 sets neither).
type withHeaders struct {
	hc *http.Client
	ua string
}

func (w withHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", w.ua)
	return viaClient{w.hc}.RoundTrip(r)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// tokenError turns an oauth2 failure into an *Error without the response body, which is where a
// misbehaving server could echo a secret; the fields kept are scrubbed of the secrets as well.
func tokenError(method, path string, err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Method: method, Path: path, Code: re.ErrorCode, Message: re.ErrorDescription, Attempts: 1}
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
			e.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
			e.RequestID = re.Response.Header.Get("X-Request-Id")
		}
		if e.Message == "" && e.Code == "" {
			e.Message = "token request failed"
		}
		e.redact(secrets...)
		return e
	}
	return fmt.Errorf("dokstamp: %s %s: %w", method, path, err)
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
// refresh token to renew it. Login does not change the Client's own credentials.
//
// API: POST /auth/login
func (s *AuthService) Login(ctx context.Context, email, password string) (*AuthToken, error) {
	if email == "" || password == "" {
		return nil, errors.New("dokstamp: Login: empty e-mail or password")
	}
	body := map[string]string{"email": email, "password": password}
	return s.tokenCall(ctx, "/auth/login", body, password)
}

// Refresh exchanges a refresh token for new tokens. The old refresh token stops working (rotation).
//
// API: POST /auth/refresh
func (s *AuthService) Refresh(ctx context.Context, refreshToken string) (*AuthToken, error) {
	if refreshToken == "" {
		return nil, errors.New("dokstamp: Refresh: empty refresh token")
	}
	return s.tokenCall(ctx, "/auth/refresh", map[string]string{"refresh_token": refreshToken}, refreshToken)
}

// tokenCall sends a login or refresh. It is retried like a read: a login has no effect but the
// tokens it returns, and a refresh whose answer was lost leaves a rotated refresh token that the
// next refresh finds refused, after which WithLogin's source logs in again.
func (s *AuthService) tokenCall(ctx context.Context, path string, body any, secrets ...string) (*AuthToken, error) {
	var t AuthToken
	err := s.c.call(ctx, &request{method: "POST", path: path, body: body, noTenant: true, noAuth: true,
		class: retryIdempotent, secrets: secrets}, &t)
	if err != nil {
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, &DecodeError{Method: "POST", Path: path, StatusCode: 200, ContentType: "application/json", Err: errors.New("no access_token")}
	}
	return &t, nil
}

// Logout revokes the Client's current access token on the server. A refresh token may still
// work afterwards: discard both.
//
// API: POST /auth/logout
func (s *AuthService) Logout(ctx context.Context) error {
	err := s.c.call(ctx, &request{method: "POST", path: "/auth/logout", noTenant: true, class: retryUnsafe}, nil)
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
func (s *AuthService) Me(ctx context.Context) (*User, error) {
	return doData[User](ctx, s.c, &request{method: "GET", path: "/auth/me", noTenant: true})
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
// refresh fails (a rotated or revoked refresh token).
func (l *loginSource) exchange(ctx context.Context) (string, time.Time, error) {
	l.mu.Lock()
	refresh := l.refresh
	l.mu.Unlock()
	var t *AuthToken
	var err error
	if refresh != "" {
		t, err = l.c.Auth.Refresh(ctx, refresh)
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

func (l *loginSource) forget() {
	l.tokenCache.forget()
	l.mu.Lock()
	l.refresh = ""
	l.mu.Unlock()
}
