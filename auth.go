package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// renewBefore is how long before expiry a cached token is renewed.
const renewBefore = 60 * time.Second

// tokenSource gives the Bearer token for the next request.
type tokenSource interface {
	token(ctx context.Context) (string, error)
}

type staticToken string

func (t staticToken) token(context.Context) (string, error) { return string(t), nil }

// clientCredentials caches the OAuth2 client-credentials token: one fetch at a time however many
// goroutines ask, renewed renewBefore ahead of expiry.
type clientCredentials struct {
	ts oauth2.TokenSource
}

func newClientCredentials(c *Client, id, secret string) *clientCredentials {
	cfg := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     c.base.String() + "/oauth/token",
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, c.hc)
	return &clientCredentials{ts: oauth2.ReuseTokenSourceWithExpiry(nil, fetchEach{cfg, ctx}, renewBefore)}
}

// fetchEach asks the token endpoint every time; ReuseTokenSourceWithExpiry caches around it.
type fetchEach struct {
	cfg *clientcredentials.Config
	ctx context.Context
}

func (f fetchEach) Token() (*oauth2.Token, error) { return f.cfg.Token(f.ctx) }

func (cc *clientCredentials) token(context.Context) (string, error) {
	t, err := cc.ts.Token()
	if err != nil {
		return "", tokenError("POST", "/oauth/token", err)
	}
	return t.AccessToken, nil
}

// tokenError turns an oauth2 failure into an *Error without the response body, which is where a
// misbehaving server could echo a secret.
func tokenError(method, path string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Method: method, Path: path, Code: re.ErrorCode, Message: re.ErrorDescription, Attempts: 1}
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
			e.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		}
		if e.Message == "" && e.Code == "" {
			e.Message = "token request failed"
		}
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
	return s.tokenCall(ctx, "/auth/login", body)
}

// Refresh exchanges a refresh token for new tokens. The old refresh token stops working (rotation).
//
// API: POST /auth/refresh
func (s *AuthService) Refresh(ctx context.Context, refreshToken string) (*AuthToken, error) {
	if refreshToken == "" {
		return nil, errors.New("dokstamp: Refresh: empty refresh token")
	}
	return s.tokenCall(ctx, "/auth/refresh", map[string]string{"refresh_token": refreshToken})
}

func (s *AuthService) tokenCall(ctx context.Context, path string, body any) (*AuthToken, error) {
	var t AuthToken
	err := s.c.call(ctx, &request{method: "POST", path: path, body: body, noTenant: true, noAuth: true, class: retryUnsafe}, &t)
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
		if ls, ok := s.c.auth.(*loginSource); ok {
			ls.forget()
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
	c               *Client
	email, password string
	mu              sync.Mutex
	tok             *AuthToken
	expires         time.Time
}

func newLoginSource(c *Client, email, password string) *loginSource {
	return &loginSource{c: c, email: email, password: password}
}

func (l *loginSource) token(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tok != nil && time.Until(l.expires) > renewBefore {
		return l.tok.AccessToken, nil
	}
	var t *AuthToken
	var err error
	if l.tok != nil && l.tok.RefreshToken != "" {
		t, err = l.c.Auth.Refresh(ctx, l.tok.RefreshToken)
	}
	if t == nil {
		t, err = l.c.Auth.Login(ctx, l.email, l.password)
	}
	if err != nil {
		return "", err
	}
	l.tok = t
	l.expires = time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
	return t.AccessToken, nil
}

func (l *loginSource) forget() {
	l.mu.Lock()
	l.tok = nil
	l.mu.Unlock()
}
