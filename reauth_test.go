package dokstamp_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// revoke logs tok out on the server, as an administrator revoking a service token would.
func revoke(t *testing.T, srv *dokstamptest.Server, tok string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/auth/logout", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestClientCredentialsRenewedAfter401(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(1))
	var tokens []string
	hc := &http.Client{Transport: recordTokens{&tokens, http.DefaultTransport}}
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithTenant(srv.Tenant),
		dokstamp.WithClientCredentials(srv.ClientID, srv.ClientSecret), dokstamp.WithHTTPClient(hc))
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.Students.Get(ctx, srv.StudentUUIDs[0])
	require.NoError(t, err)
	require.Equal(t, 1, srv.TokenGrants())
	require.NotEmpty(t, tokens)
	revoke(t, srv, tokens[len(tokens)-1])

	// The revoked token is refused once; the client fetches a new one and the call succeeds.
	st, err := c.Students.Get(ctx, srv.StudentUUIDs[0])
	require.NoError(t, err)
	assert.Equal(t, srv.StudentUUIDs[0], st.UUID)
	assert.Equal(t, 2, srv.TokenGrants())
	assert.Equal(t, 1, srv.Requests()["GET /students/{uuid}"][http.StatusUnauthorized])

	// A POST refused with 401 was not acted on: it is sent once more, and issues exactly once.
	revoke(t, srv, tokens[len(tokens)-1])
	files, err := c.Files.Upload(ctx, dokstamp.UploadBytes("d.pdf", []byte("%PDF-1.4\nreauth\n%%EOF\n")))
	require.NoError(t, err)
	revoke(t, srv, tokens[len(tokens)-1])
	_, err = c.Certificates.Create(ctx, &dokstamp.CertificateCreateParams{InstitutionUUID: srv.InstitutionUUID,
		CourseUUID: srv.CourseUUID, StudentUUID: srv.StudentUUIDs[0], FileUUID: files[0].UUID, Status: dokstamp.StatusIssued})
	require.NoError(t, err)
	assert.Len(t, srv.Certificates(), 1)
	assert.Equal(t, 4, srv.TokenGrants())
}

// A static token cannot be renewed: a 401 is the caller's answer, after one request.
func TestStaticToken401NotRetried(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(1))
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithTenant(srv.Tenant), dokstamp.WithToken("not-the-token"))
	require.NoError(t, err)
	_, err = c.Students.Get(context.Background(), srv.StudentUUIDs[0])
	require.Error(t, err)
	assert.True(t, errors.Is(err, dokstamp.ErrUnauthorized))
	assert.Equal(t, 1, srv.RequestCount("GET /students/{uuid}"))
}

// A server that refuses every token: the client renews once, then gives the 401 to the caller.
func TestRenewedTokenRefusedAgain(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(1))
	var tokens []string
	hc := &http.Client{Transport: revokeEach{srv: srv, tokens: &tokens, rt: http.DefaultTransport}}
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithTenant(srv.Tenant),
		dokstamp.WithClientCredentials(srv.ClientID, srv.ClientSecret), dokstamp.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = c.Students.Get(context.Background(), srv.StudentUUIDs[0])
	require.Error(t, err)
	assert.True(t, errors.Is(err, dokstamp.ErrUnauthorized))
	assert.Equal(t, 2, srv.RequestCount("GET /students/{uuid}"), "one renewal, not a loop")
	assert.Equal(t, 2, srv.TokenGrants())
}

// recordTokens notes the access tokens the server grants.
type recordTokens struct {
	tokens *[]string
	rt     http.RoundTripper
}

func (r recordTokens) RoundTrip(req *http.Request) (*http.Response, error) {
	if auth := req.Header.Get("Authorization"); len(auth) > 7 {
		if tok := auth[7:]; len(*r.tokens) == 0 || (*r.tokens)[len(*r.tokens)-1] != tok {
			*r.tokens = append(*r.tokens, tok)
		}
	}
	return r.rt.RoundTrip(req)
}

// revokeEach revokes every token right before it is used.
type revokeEach struct {
	srv    *dokstamptest.Server
	tokens *[]string
	rt     http.RoundTripper
}

func (r revokeEach) RoundTrip(req *http.Request) (*http.Response, error) {
	if auth := req.Header.Get("Authorization"); len(auth) > 7 && req.URL.Path != "/auth/logout" {
		lo, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/auth/logout", nil)
		lo.Header.Set("Authorization", auth)
		if resp, err := r.rt.RoundTrip(lo); err == nil {
			resp.Body.Close()
		}
	}
	return r.rt.RoundTrip(req)
}
