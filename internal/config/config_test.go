package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"usersorchestrator/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultNeedsNoFile(t *testing.T) {
	cfg, err := config.Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Database.Driver != "sqlite" || cfg.Database.Path != "./data/usersorchestrator.db" {
		t.Errorf("default %+v", cfg)
	}
	if len(cfg.Tenants) != 1 || cfg.Tenants[0].ClientCode != "demo" || cfg.Tenants[0].Provider != "" {
		t.Errorf("default tenants %+v", cfg.Tenants)
	}
	if !cfg.UsesDevelopmentKeys() {
		t.Error("the default must be flagged as using development keys")
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		check   func(t *testing.T, c config.Config)
		wantErr string
	}{
		{
			name: "file overrides and keeps defaults",
			file: "listen: 127.0.0.1:9999\nlimits:\n  login:\n    attempts: 3\n",
			check: func(t *testing.T, c config.Config) {
				if c.Listen != "127.0.0.1:9999" || c.Limits.Login.Attempts != 3 || c.Limits.Login.Window != 15*time.Minute {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "environment wins over the file",
			file: "listen: 127.0.0.1:9999\n",
			env:  map[string]string{"UO_LISTEN": "127.0.0.1:7000", "UO_DATABASE_DRIVER": "postgres", "UO_DATABASE_DSN": "postgres://x", "UO_SMTP_PORT": "2525"},
			check: func(t *testing.T, c config.Config) {
				if c.Listen != "127.0.0.1:7000" || c.Database.Driver != "postgres" || c.SMTP.Port != 2525 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "tenants with a provider",
			file: `tenants:
  - {clientCode: AJC, paperCode: AJC, clientGroupCode: COX, name: Journal, defaultReturnUrl: "https://x.example/a", mailFrom: "a@x.example", provider: Auth0, baseURL: "http://127.0.0.1:18081", auth0: {clientID: id, connection: db}}
`,
			check: func(t *testing.T, c config.Config) {
				if len(c.Tenants) != 1 || c.Tenants[0].Provider != "Auth0" || c.Tenants[0].Auth0.Connection != "db" {
					t.Errorf("got %+v", c.Tenants)
				}
			},
		},
		{name: "unknown key is an error", file: "listne: x\n", wantErr: "field listne not found"},
		{name: "bad driver", env: map[string]string{"UO_DATABASE_DRIVER": "mysql"}, wantErr: "neither sqlite nor postgres"},
		{name: "bad smtp port", env: map[string]string{"UO_SMTP_PORT": "twenty"}, wantErr: "UO_SMTP_PORT"},
		{name: "unknown provider", file: "tenants:\n  - {clientCode: a, paperCode: b, clientGroupCode: c, defaultReturnUrl: 'http://x', mailFrom: m, provider: Okta, baseURL: 'http://x'}\n", wantErr: `provider "Okta"`},
		{name: "provider without base URL", file: "tenants:\n  - {clientCode: a, paperCode: b, clientGroupCode: c, defaultReturnUrl: 'http://x', mailFrom: m, provider: Gigya}\n", wantErr: "needs baseURL"},
		{name: "tenant code the contract cannot carry", file: "tenants:\n  - {clientCode: a/b, paperCode: b, clientGroupCode: c, defaultReturnUrl: 'http://x', mailFrom: m}\n", wantErr: "codes must be"},
		{name: "password policy upside down", file: "tenants:\n  - {clientCode: a, paperCode: b, clientGroupCode: c, defaultReturnUrl: 'http://x', mailFrom: m, passwordPolicy: {minLength: 12, maxLength: 8}}\n", wantErr: "passwordPolicy needs"},
		{name: "password policy allowing an empty password", file: "tenants:\n  - {clientCode: a, paperCode: b, clientGroupCode: c, defaultReturnUrl: 'http://x', mailFrom: m, passwordPolicy: {minLength: 0}}\n", wantErr: "passwordPolicy needs"},
		{name: "duplicate tenant", file: "tenants:\n  - {clientCode: a, paperCode: b, clientGroupCode: c, defaultReturnUrl: 'http://x', mailFrom: m}\n  - {clientCode: a, paperCode: b, clientGroupCode: c, defaultReturnUrl: 'http://x', mailFrom: m}\n", wantErr: "listed twice"},
		{name: "empty file is the default", file: "", check: func(t *testing.T, c config.Config) {
			if c.Tenants[0].ClientCode != "demo" {
				t.Errorf("got %+v", c.Tenants)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" || tt.name == "empty file is the default" {
				path = write(t, tt.file)
			}
			cfg, err := config.Load(path, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}
