package dokstamptest

import (
	"crypto/subtle"
	"net/http"
	"time"
)

// loginLifetime is the lifetime of tokens from /auth/login and /auth/refresh.
const loginLifetime = 31536000 * time.Second

type oauthErrorJSON struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
}

type oauthTokenJSON struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	AccessToken string `json:"access_token"`
}

type loginTokenJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

type meTenantJSON struct {
	ID     int    `json:"id"`
	UUID   string `json:"uuid"`
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

type meJSON struct {
	ID     int          `json:"id"`
	UUID   string       `json:"uuid"`
	Name   string       `json:"name"`
	Email  string       `json:"email"`
	Tenant meTenantJSON `json:"tenant"`
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Server) registerAuth() {
	s.handle("POST /oauth/token", scopePublic, s.oauthToken)
	s.handle("POST /auth/login", scopePublic, s.login)
	s.handle("POST /auth/refresh", scopePublic, s.refreshToken)
	s.handle("POST /auth/logout", scopeBearer, func(c *call) {
		tok := bearer(c.r)
		s.mu.Lock()
		delete(s.tokens, tok)
		s.mu.Unlock()
		c.json(http.StatusOK, messageJSON{Message: "Successfully logged out"})
	})
	s.handle("GET /auth/me", scopeBearer, func(c *call) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		t := s.tenants[c.r.Header.Get("X-Tenant")]
		if t == nil {
			t = s.tenants[s.Tenant]
		}
		c.data(http.StatusOK, meJSON{
			ID: 1, UUID: s.userUUID, Name: "Acme Administrator", Email: s.Email,
			Tenant: meTenantJSON{ID: t.id, UUID: t.uuid, Name: t.name, Domain: t.name},
		})
	})
}

// oauthToken answers the client-credentials grant. Credentials are read from
// the form body or, failing that, from HTTP Basic authentication.
func (s *Server) oauthToken(c *call) {
	c.alwaysJSON = true // Passport answers its errors in JSON whatever Accept says
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, 1<<20)
	if err := c.r.ParseForm(); err != nil {
		c.fail(http.StatusBadRequest, "Malformed request body.")
		return
	}
	if c.r.PostForm.Get("grant_type") != "client_credentials" {
		c.json(http.StatusBadRequest, oauthErrorJSON{
			Error:            "unsupported_grant_type",
			ErrorDescription: "The authorization grant type is not supported by the authorization server.",
			Message:          "The authorization grant type is not supported by the authorization server.",
		})
		return
	}
	id, secret := c.r.PostForm.Get("client_id"), c.r.PostForm.Get("client_secret")
	if id == "" {
		id, secret, _ = c.r.BasicAuth()
	}
	if !same(id, s.ClientID) || !same(secret, s.ClientSecret) {
		c.json(http.StatusUnauthorized, oauthErrorJSON{
			Error:            "invalid_client",
			ErrorDescription: "Client authentication failed",
			Message:          "Client authentication failed",
		})
		return
	}
	tok := "eyJ" + randomHex(32)
	s.mu.Lock()
	s.tokens[tok] = s.now().Add(s.cfg.tokenLifetime)
	s.grants++
	s.mu.Unlock()
	c.json(http.StatusOK, oauthTokenJSON{TokenType: "Bearer", ExpiresIn: int(s.cfg.tokenLifetime / time.Second), AccessToken: tok})
}

// issueLogin makes an access and refresh token pair; s.mu must be held.
func (s *Server) issueLogin() loginTokenJSON {
	out := loginTokenJSON{AccessToken: "eyJ" + randomHex(32), RefreshToken: "def" + randomHex(32),
		TokenType: "Bearer", ExpiresIn: int(loginLifetime / time.Second)}
	s.tokens[out.AccessToken] = s.now().Add(loginLifetime)
	s.refresh[out.RefreshToken] = true
	return out
}

func (s *Server) login(c *call) {
	var p struct {
		Email    *string `json:"email"`
		Password *string `json:"password"`
	}
	if !c.decode(&p) {
		return
	}
	var v validator
	v.str("email", p.Email, true, 0)
	v.str("password", p.Password, true, 0)
	if !v.ok() {
		c.invalid(v.errs)
		return
	}
	if !same(*p.Email, s.Email) || !same(*p.Password, s.Password) {
		c.fail(http.StatusUnauthorized, "These credentials do not match our records.")
		return
	}
	s.mu.Lock()
	out := s.issueLogin()
	s.mu.Unlock()
	c.json(http.StatusOK, out)
}

func (s *Server) refreshToken(c *call) {
	var p struct {
		RefreshToken *string `json:"refresh_token"`
	}
	if !c.decode(&p) {
		return
	}
	var v validator
	if v.str("refresh_token", p.RefreshToken, true, 0); !v.ok() {
		c.invalid(v.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.refresh[*p.RefreshToken] {
		c.fail(http.StatusUnauthorized, "The refresh token is invalid.")
		return
	}
	delete(s.refresh, *p.RefreshToken)
	c.json(http.StatusOK, s.issueLogin())
}

// TokenGrants reports how many tokens POST /oauth/token has issued, e.g. to
// check that concurrent callers share one token.
func (s *Server) TokenGrants() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.grants
}
