package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dokstamp/dokstamp-go"
)

// profile is one set of saved credentials. The secret (Token or ClientSecret) is kept in the
// config file, which is written 0600, and never printed.
type profile struct {
	BaseURL      string `json:"base_url,omitempty"`
	Tenant       string `json:"tenant"`
	Token        string `json:"token,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// kind says which credentials the profile holds, without them.
func (p *profile) kind() string {
	if p.ClientID != "" {
		return "client credentials (client id " + p.ClientID + ")"
	}
	return "token"
}

// config is the profiles file.
type config struct {
	Default  string              `json:"default_profile,omitempty"`
	Profiles map[string]*profile `json:"profiles"`
}

func (c *config) names() []string {
	out := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// configPath is --config, $DOKSTAMP_CONFIG, or dokstamp/config.json under os.UserConfigDir.
func (a *app) configPath() (string, error) {
	if a.config != "" {
		return a.config, nil
	}
	if p := a.getenv("DOKSTAMP_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory for the profiles (%v): set DOKSTAMP_CONFIG to a file path", err)
	}
	return filepath.Join(dir, "dokstamp", "config.json"), nil
}

// loadConfig reads the profiles file; a missing file is an empty config.
func (a *app) loadConfig() (*config, string, error) {
	path, err := a.configPath()
	if err != nil {
		return nil, "", err
	}
	cfg := &config{Profiles: map[string]*profile{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read the profiles file: %w", err)
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return nil, path, fmt.Errorf("profiles file %s is not valid JSON (%v): fix it or remove it and log in again", path, err)
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]*profile{}
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && !a.warnedMode {
		a.warnedMode = true
		a.warnf("warning: %s holds secrets and can be read by other users: run chmod 600 %s", path, path)
	}
	return cfg, path, nil
}

// saveConfig writes the profiles file with mode 0600 (its directory 0700), replacing it whole.
func saveConfig(path string, cfg *config) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// errNoCredentials is returned when neither a profile nor the environment gives credentials.
var errNoCredentials = errors.New(`no DokStamp credentials.
Set DOKSTAMP_TOKEN (or DOKSTAMP_CLIENT_ID and DOKSTAMP_CLIENT_SECRET) and DOKSTAMP_TENANT,
or save a profile:  dokstamp auth login --profile NAME --tenant TENANT
To try dokstamp without an account, start the embedded server in another terminal:
  dokstamp fake -token demo-token
then, here:
  export DOKSTAMP_BASE_URL=http://127.0.0.1:8080 DOKSTAMP_TOKEN=demo-token DOKSTAMP_TENANT=acme-university`)

// envHasCredentials reports whether the SDK's environment names credentials.
func (a *app) envHasCredentials() bool {
	return a.getenv("DOKSTAMP_TOKEN") != "" || a.getenv("DOKSTAMP_CLIENT_ID") != "" || a.getenv("DOKSTAMP_CLIENT_SECRET") != ""
}

// Client returns the API client: from --profile / DOKSTAMP_PROFILE when set, else from the
// DOKSTAMP_* environment, else from the default profile.
func (a *app) Client() (*dokstamp.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	name := a.profile
	if name == "" && a.envHasCredentials() {
		c, err := dokstamp.NewClientFromEnv(a.clientOptions()...)
		if err != nil {
			return nil, withExit(exitAuth, fmt.Errorf("credentials from the environment (DOKSTAMP_*): %w", err))
		}
		a.client, a.clientFrom = c, "environment (DOKSTAMP_*)"
		return c, nil
	}
	cfg, path, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = cfg.Default
	}
	if name == "" {
		return nil, errNoCredentials
	}
	p := cfg.Profiles[name]
	if p == nil {
		known := "none saved yet"
		if len(cfg.Profiles) > 0 {
			known = "saved: " + strings.Join(cfg.names(), ", ")
		}
		return nil, withExit(exitAuth, fmt.Errorf("no profile %q in %s (%s); save it with: dokstamp auth login --profile %s --tenant TENANT", name, path, known, name))
	}
	c, err := a.clientFromProfile(p, name)
	if err != nil {
		return nil, err
	}
	a.client, a.clientFrom = c, "profile "+name
	return c, nil
}

func (a *app) clientOptions() []dokstamp.Option {
	return []dokstamp.Option{dokstamp.WithUserAgent("dokstamp-cli/" + cliVersion())}
}

// clientFromProfile makes a client on a saved profile.
func (a *app) clientFromProfile(p *profile, name string) (*dokstamp.Client, error) {
	opts := a.clientOptions()
	if p.BaseURL != "" {
		opts = append(opts, dokstamp.WithBaseURL(p.BaseURL))
	}
	opts = append(opts, dokstamp.WithTenant(p.Tenant))
	if p.ClientID != "" {
		opts = append(opts, dokstamp.WithClientCredentials(p.ClientID, p.ClientSecret))
	} else {
		opts = append(opts, dokstamp.WithToken(p.Token))
	}
	c, err := dokstamp.NewClient(opts...)
	if err != nil {
		return nil, withExit(exitAuth, fmt.Errorf("credentials of profile %s: %w", name, err))
	}
	return c, nil
}
