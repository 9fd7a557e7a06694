package dokstamptest

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeaders(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)

	for name, c := range map[string]*api{
		"no token":       a.with("", srv.Tenant),
		"bad token":      a.with("nope", srv.Tenant),
		"no tenant":      a.with(srv.Token, ""),
		"unknown tenant": a.with(srv.Token, "other-university"),
	} {
		t.Run(name, func(t *testing.T) {
			m := c.call(http.MethodGet, "/certificates", nil, http.StatusUnauthorized)
			assert.Equal(t, map[string]any{"message": "Unauthenticated."}, m)
			c.call(http.MethodPost, "/certificates", map[string]any{}, http.StatusUnauthorized)
		})
	}
	a.call(http.MethodGet, "/certificates", nil, http.StatusOK)

	// /auth/me needs the token but not the tenant.
	me := a.with(srv.Token, "").data(http.MethodGet, "/auth/me", nil, http.StatusOK)
	assert.Equal(t, srv.Tenant, me["tenant"].(map[string]any)["domain"])
	assert.Equal(t, srv.Email, me["email"])
	a.with("", "").call(http.MethodGet, "/auth/me", nil, http.StatusUnauthorized)

	// Unknown routes answer a JSON 404.
	m := a.call(http.MethodGet, "/nothing/here", nil, http.StatusNotFound)
	assert.Equal(t, "Resource not found.", m["message"])
	// A malformed path uuid is a 404, a malformed body a 400.
	a.call(http.MethodGet, "/certificates/123", nil, http.StatusNotFound)
	m = a.call(http.MethodPost, "/certificates", []byte(`{"institution_uuid":`), http.StatusBadRequest)
	assert.Equal(t, "Malformed request body.", m["message"])
}

func TestOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := NewServer(t, WithClientCredentials("id-1", "s3cret"), WithClock(clock), WithTokenLifetime(time.Hour))
	a := newAPI(t, srv).with("", "")

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"id-1"}, "client_secret": {"s3cret"}}
	m := a.call(http.MethodPost, "/oauth/token", form, http.StatusOK)
	assert.Equal(t, "Bearer", m["token_type"])
	assert.EqualValues(t, 3600, m["expires_in"])
	tok := m["access_token"].(string)
	require.NotEmpty(t, tok)
	assert.Equal(t, 1, srv.TokenGrants())

	user := a.with(tok, srv.Tenant)
	user.call(http.MethodGet, "/students", nil, http.StatusOK)

	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	user.call(http.MethodGet, "/students", nil, http.StatusUnauthorized)

	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {"id-1"}, "client_secret": {"wrong"}}
	m = a.call(http.MethodPost, "/oauth/token", bad, http.StatusUnauthorized)
	assert.Equal(t, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed",
		"message": "Client authentication failed"}, m)

	m = a.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"password"}}, http.StatusBadRequest)
	assert.Equal(t, "unsupported_grant_type", m["error"])

	// HTTP Basic works too.
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("id-1", "s3cret")
	resp, err := a.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 2, srv.TokenGrants())
}

func TestLoginRefreshLogout(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithLogin("registrar@acme.test", "pw"))
	a := newAPI(t, srv).with("", "")

	m := a.call(http.MethodPost, "/auth/login", map[string]any{"email": "registrar@acme.test", "password": "nope"}, http.StatusUnauthorized)
	assert.Equal(t, "These credentials do not match our records.", m["message"])
	m = a.call(http.MethodPost, "/auth/login", map[string]any{}, http.StatusUnprocessableEntity)
	errs := errorsOf(t, m)
	assert.Contains(t, errs, "email")
	assert.Contains(t, errs, "password")

	m = a.call(http.MethodPost, "/auth/login", map[string]any{"email": "registrar@acme.test", "password": "pw"}, http.StatusOK)
	assert.Equal(t, "Bearer", m["token_type"])
	assert.EqualValues(t, 31536000, m["expires_in"])
	access, refresh := m["access_token"].(string), m["refresh_token"].(string)

	me := a.with(access, "").data(http.MethodGet, "/auth/me", nil, http.StatusOK)
	assert.Equal(t, "registrar@acme.test", me["email"])
	tn := me["tenant"].(map[string]any)
	assert.Equal(t, srv.Tenant, tn["domain"])
	assert.Equal(t, srv.Tenant, tn["name"])

	// Refresh rotates: the new pair works, the old refresh token does not.
	m = a.call(http.MethodPost, "/auth/refresh", map[string]any{"refresh_token": refresh}, http.StatusOK)
	access2 := m["access_token"].(string)
	assert.NotEqual(t, refresh, m["refresh_token"])
	m = a.call(http.MethodPost, "/auth/refresh", map[string]any{"refresh_token": refresh}, http.StatusUnauthorized)
	assert.Equal(t, "The refresh token is invalid.", m["message"])

	// Logout revokes only that access token.
	m = a.with(access2, "").call(http.MethodPost, "/auth/logout", nil, http.StatusOK)
	assert.Equal(t, "Successfully logged out", m["message"])
	a.with(access2, srv.Tenant).call(http.MethodGet, "/students", nil, http.StatusUnauthorized)
	a.with(access, srv.Tenant).call(http.MethodGet, "/students", nil, http.StatusOK)
	// The static token survives a logout.
	a.with(srv.Token, "").call(http.MethodPost, "/auth/logout", nil, http.StatusOK)
	a.with(srv.Token, srv.Tenant).call(http.MethodGet, "/students", nil, http.StatusOK)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	other := srv.AddTenant("beta-college")
	a := newAPI(t, srv)
	b := a.with(srv.Token, "beta-college")

	// Direct access to another tenant's entity: 404.
	a.call(http.MethodGet, "/students/"+other.StudentUUIDs[0], nil, http.StatusNotFound)
	b.data(http.MethodGet, "/students/"+other.StudentUUIDs[0], nil, http.StatusOK)
	a.call(http.MethodPatch, "/courses/"+other.CourseUUID, map[string]any{"name": "x"}, http.StatusNotFound)

	// Referencing another tenant's entity: 422 "The selected ... is invalid."
	f := a.file("iso")
	m := a.call(http.MethodPost, "/certificates", map[string]any{
		"institution_uuid": srv.InstitutionUUID, "course_uuid": other.CourseUUID,
		"student_uuid": srv.StudentUUIDs[0], "file_uuid": f,
	}, http.StatusUnprocessableEntity)
	assert.Equal(t, []any{"The selected course uuid is invalid."}, errorsOf(t, m)["course_uuid"])

	// Files are per tenant too (but downloads are global).
	m = b.call(http.MethodPost, "/certificates", map[string]any{
		"institution_uuid": other.InstitutionUUID, "course_uuid": other.CourseUUID,
		"student_uuid": other.StudentUUIDs[0], "file_uuid": f,
	}, http.StatusUnprocessableEntity)
	assert.Contains(t, errorsOf(t, m), "file_uuid")
	resp, _ := b.with("", "").do(http.MethodGet, "/files/"+f+"/download", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Len(t, b.call(http.MethodGet, "/students", nil, http.StatusOK)["data"], 3)
	assert.Empty(t, srv.CertificatesOf("beta-college"))
	assert.Equal(t, other, srv.AddTenant("beta-college"))
}
