// Package exampleenv starts the examples against the real DokStamp API when
// credentials are in the environment, and against an embedded in-memory
// dokstamptest server otherwise, so that every example runs on a fresh clone.
package exampleenv

import (
	"fmt"
	"io"
	"os"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// Vars are the environment variables that select the real API. When none is
// set, the examples use the embedded server; tests clear them all.
var Vars = []string{
	"DOKSTAMP_TOKEN",
	"DOKSTAMP_CLIENT_ID",
	"DOKSTAMP_CLIENT_SECRET",
	"DOKSTAMP_TENANT",
	"DOKSTAMP_BASE_URL",
}

// Env is a client and, when there are no credentials, the embedded server it
// talks to.
type Env struct {
	// Client talks to the real API or to Fake.
	Client *dokstamp.Client
	// Fake is the embedded server; nil against the real API.
	Fake *dokstamptest.Server
}

// Embedded reports whether the client talks to the embedded server.
func (e *Env) Embedded() bool { return e.Fake != nil }

// Close stops the embedded server, if any.
func (e *Env) Close() {
	if e.Fake != nil {
		e.Fake.Close()
	}
}

// Start connects the example named name to the real API when any of the
// DOKSTAMP_* credentials is set (see dokstamp.NewClientFromEnv; a partial
// set is an error, never a silent switch to the fake), and otherwise starts
// an embedded dokstamptest server with opts. Its first line on w says which.
func Start(w io.Writer, name string, opts ...dokstamptest.Option) (*Env, error) {
	ua := dokstamp.WithUserAgent("dokstamp-example-" + name)
	if configured() {
		c, err := dokstamp.NewClientFromEnv(ua)
		if err != nil {
			return nil, fmt.Errorf("DOKSTAMP_* environment: %w", err)
		}
		base := os.Getenv("DOKSTAMP_BASE_URL")
		if base == "" {
			base = dokstamp.DefaultBaseURL
		}
		fmt.Fprintf(w, "Using the DokStamp API at %s (tenant %s)\n", base, os.Getenv("DOKSTAMP_TENANT"))
		return &Env{Client: c}, nil
	}
	srv, err := dokstamptest.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("start the embedded server: %w", err)
	}
	c, err := dokstamp.NewClient(
		dokstamp.WithBaseURL(srv.URL),
		dokstamp.WithToken(srv.Token),
		dokstamp.WithTenant(srv.Tenant),
		ua,
	)
	if err != nil {
		srv.Close()
		return nil, err
	}
	fmt.Fprintln(w, "Using the embedded DokStamp test server (set DOKSTAMP_TOKEN and DOKSTAMP_TENANT to use the real API)")
	return &Env{Client: c, Fake: srv}, nil
}

// configured reports whether the user set any of the credentials.
func configured() bool {
	for _, k := range []string{"DOKSTAMP_TOKEN", "DOKSTAMP_CLIENT_ID", "DOKSTAMP_CLIENT_SECRET", "DOKSTAMP_TENANT"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// Pick returns the uuid to use for a setting of the example: the flag's value
// when given, else the environment variable env, else, on the embedded
// server, seeded. Against the real API a missing value is an error naming
// the flag and the variable.
func (e *Env) Pick(flagName, flagValue, env, seeded string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if e.Embedded() {
		return seeded, nil
	}
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("-%s is required against the real API (or set %s)", flagName, env)
}
