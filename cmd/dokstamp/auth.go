package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

func newAuthCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Save credentials in profiles and check who you are",
	}
	cmd.AddCommand(newAuthLoginCmd(a), newAuthLogoutCmd(a), newAuthStatusCmd(a))
	return cmd
}

func newAuthLoginCmd(a *app) *cobra.Command {
	var p profile
	var name string
	var makeDefault, noVerify bool
	cmd := &cobra.Command{
		Use:   "login --profile NAME --tenant TENANT [--base-url URL] [--client-id ID]",
		Short: "Save credentials as a named profile",
		Long: `Save credentials as a named profile in the profiles file (written with mode 0600).

The secret is read from standard input: a prompt without echo on a terminal, else the first
line (e.g. from a password manager: pass show dokstamp | dokstamp auth login ...). It is never
a flag, since the command line of a process is visible to every user of the machine. Without
--client-id the secret is an API token; with it, the client secret of OAuth2 client
credentials. The credentials are checked (GET /auth/me) before they are saved.

The first profile saved becomes the default; --default makes this one the default.`,
		Example: `  dokstamp auth login --profile acme --tenant acme-university
  printf '%s\n' "$TOKEN" | dokstamp auth login --profile fake --tenant acme-university --base-url http://127.0.0.1:8080`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			name = a.profile
			if name == "" {
				return usageErrorf("%s needs --profile NAME", cmd.CommandPath())
			}
			if err := requireFlag(cmd, "tenant", p.Tenant); err != nil {
				return err
			}
			prompt := "API token: "
			if p.ClientID != "" {
				prompt = "Client secret: "
			}
			secret, err := readSecret(a, "", prompt)
			if err != nil {
				return err
			}
			if p.ClientID != "" {
				p.ClientSecret = secret
			} else {
				p.Token = secret
			}
			cfg, path, err := a.loadConfig()
			if err != nil {
				return err
			}
			if !noVerify {
				prev := cfg.Profiles[name]
				cfg.Profiles[name] = &p
				who, err := a.whoAmI(cfg, name)
				cfg.Profiles[name] = prev
				if err != nil {
					return fmt.Errorf("the credentials were not saved: %w", err)
				}
				fmt.Fprintf(a.io.err, "Logged in as %s\n", who)
			}
			cfg.Profiles[name] = &p
			if cfg.Default == "" || makeDefault {
				cfg.Default = name
			}
			if err := saveConfig(path, cfg); err != nil {
				return fmt.Errorf("save the profile: %w", err)
			}
			fmt.Fprintf(a.io.out, "Saved profile %q (%s, tenant %s) in %s\n", name, p.kind(), p.Tenant, path)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&p.Tenant, "tenant", "", "tenant (X-Tenant) (required)")
	fl.StringVar(&p.BaseURL, "base-url", "", "API base URL (default "+dokstamp.DefaultBaseURL+")")
	fl.StringVar(&p.ClientID, "client-id", "", "OAuth2 client id: the secret read is then its client secret")
	fl.BoolVar(&makeDefault, "default", false, "make this the default profile")
	fl.BoolVar(&noVerify, "no-verify", false, "save without checking the credentials with the server")
	return cmd
}

// whoAmI checks a profile's credentials against the server.
func (a *app) whoAmI(cfg *config, name string) (string, error) {
	saved := a.profile
	a.profile, a.client = name, nil
	defer func() { a.profile, a.client = saved, nil }()
	c, err := a.clientFromProfile(cfg.Profiles[name], name)
	if err != nil {
		return "", err
	}
	u, err := c.Auth.Me(a.ctx)
	if err != nil {
		return "", err
	}
	return describeUser(u), nil
}

func describeUser(u *dokstamp.User) string {
	s := u.Name
	if u.Email != "" {
		s += " <" + u.Email + ">"
	}
	if s == "" {
		s = "(a service account)"
	}
	return s
}

func newAuthLogoutCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "logout --profile NAME",
		Short: "Remove a saved profile",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.profile == "" {
				return usageErrorf("%s needs --profile NAME", cmd.CommandPath())
			}
			cfg, path, err := a.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Profiles[a.profile] == nil {
				return withExit(exitUsage, fmt.Errorf("no profile %q in %s", a.profile, path))
			}
			delete(cfg.Profiles, a.profile)
			if cfg.Default == a.profile {
				cfg.Default = ""
			}
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			fmt.Fprintf(a.io.out, "Removed profile %q from %s\n", a.profile, path)
			return nil
		},
	}
}

// authStatus is what `auth status -o json` prints; it never holds a secret.
type authStatus struct {
	Credentials string   `json:"credentials"`
	BaseURL     string   `json:"base_url"`
	Tenant      string   `json:"tenant"`
	User        string   `json:"user,omitempty"`
	Email       string   `json:"email,omitempty"`
	TenantName  string   `json:"tenant_name,omitempty"`
	Profiles    []string `json:"profiles"`
	Default     string   `json:"default_profile,omitempty"`
}

func newAuthStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show who you are logged in as, on which tenant and server",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := a.loadConfig()
			if err != nil {
				return err
			}
			c, err := a.Client()
			if err != nil {
				return err
			}
			st := authStatus{Credentials: a.clientFrom, BaseURL: a.baseURL(cfg), Tenant: a.tenant(cfg), Profiles: cfg.names(), Default: cfg.Default}
			u, err := c.Auth.Me(a.ctx)
			if err != nil {
				if errors.Is(err, dokstamp.ErrUnauthorized) {
					return withExit(exitAuth, fmt.Errorf("the server refused the credentials from the %s: %w", a.clientFrom, err))
				}
				return err
			}
			st.User, st.Email, st.TenantName = u.Name, u.Email, u.Tenant.Name
			if a.output != "table" {
				return a.print(&listing{headers: []string{"credentials", "base_url", "tenant", "user", "email"},
					rows: [][]string{{st.Credentials, st.BaseURL, st.Tenant, st.User, st.Email}}, values: []any{st}}, true)
			}
			w := a.io.out
			fmt.Fprintf(w, "Logged in as  %s\n", describeUser(u))
			tn := st.Tenant
			if st.TenantName != "" {
				tn += " (" + st.TenantName + ")"
			}
			fmt.Fprintf(w, "Tenant        %s\n", tn)
			fmt.Fprintf(w, "Server        %s\n", st.BaseURL)
			fmt.Fprintf(w, "Credentials   %s\n", st.Credentials)
			if len(st.Profiles) > 0 {
				fmt.Fprintf(w, "Profiles      %s (default: %s)\n", strings.Join(st.Profiles, ", "), orDash(st.Default))
			}
			return nil
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// baseURL and tenant say where the client points, without its secret.
func (a *app) baseURL(cfg *config) string {
	if p := a.activeProfile(cfg); p != nil {
		if p.BaseURL != "" {
			return p.BaseURL
		}
		return dokstamp.DefaultBaseURL
	}
	if v := a.getenv("DOKSTAMP_BASE_URL"); v != "" {
		return v
	}
	return dokstamp.DefaultBaseURL
}

func (a *app) tenant(cfg *config) string {
	if p := a.activeProfile(cfg); p != nil {
		return p.Tenant
	}
	return a.getenv("DOKSTAMP_TENANT")
}

func (a *app) activeProfile(cfg *config) *profile {
	if name, ok := strings.CutPrefix(a.clientFrom, "profile "); ok {
		return cfg.Profiles[name]
	}
	return nil
}
