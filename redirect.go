package dokstamp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is how many redirects one attempt follows, as net/http's default.
const maxRedirects = 10

// crossOriginHeaders never leave the API's origin: the credentials, the tenant, and where the
// request came from. net/http drops some of them itself, but it compares host names without the
// port, so another port of the same host would still receive the token.
var crossOriginHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "X-Tenant", "Referer", "Www-Authenticate"}

// checkRedirect is the CheckRedirect of every request the Client sends. A redirect within the
// origin (scheme, host and port) of the first request is followed as it is. A redirect to
// another origin is followed without the credentials, the tenant, the Referer and the call's own
// headers, and only when the request has no body: one with a body (a password, a client secret,
// a PIN, a certificate) is refused. The user's CheckRedirect, when WithHTTPClient's client has
// one, is asked after these rules.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	first := via[0]
	st := attemptOf(req.Context())
	if !sameOrigin(first.URL, req.URL) {
		if hasBody(first) {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return &redirectRefused{status: status, to: originOf(req.URL)}
		}
		for _, k := range crossOriginHeaders {
			req.Header.Del(k)
		}
		if st != nil {
			for k := range st.opts.header {
				req.Header.Del(k)
			}
		}
	}
	if st != nil && st.c.hc.CheckRedirect != nil {
		return st.c.hc.CheckRedirect(req, via)
	}
	return nil
}

// hasBody reports whether the request was sent with a body.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.Body != nil && r.Body != http.NoBody)
}

// sameOrigin compares scheme, host and port, the default port made explicit.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// originOf is scheme://host[:port], without the path and query a server chose.
func originOf(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + u.Host
}

// redirectRefused is the error of a request with a body redirected to another origin.
type redirectRefused struct {
	status int
	to     string
}

func (e *redirectRefused) Error() string {
	return fmt.Sprintf("the server redirected (%d) this request to another origin, %s: a request with a body is "+
		"never sent to another origin, so the redirect was not followed; if that host serves the API, "+
		"give it to WithBaseURL", e.status, e.to)
}

func (*redirectRefused) noRetry() {}

// refusedUnsent reports a refused redirect that proves the server did not act on the request:
// anything but 303 See Other, which answers a write that was done.
func refusedUnsent(err error) bool {
	var rr *redirectRefused
	return errors.As(err, &rr) && rr.status != http.StatusSeeOther
}
