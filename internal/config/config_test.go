package config_test

import (
	"os"
	"path/filepath"
	"slices"
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

// load runs config.Load on file (written when withFile) and the environment m. With wantErr, it
// checks that Load failed saying so and returns ok false; otherwise Load must succeed.
func load(t *testing.T, file string, withFile bool, m map[string]string, wantErr string) (cfg config.Config, ok bool) {
	t.Helper()
	path := ""
	if withFile {
		path = write(t, file)
	}
	cfg, err := config.Load(path, env(m))
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err %v, want %q", err, wantErr)
		}
		return config.Config{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg, true
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
			cfg, ok := load(t, tt.file, tt.file != "" || tt.name == "empty file is the default", tt.env, tt.wantErr)
			if !ok {
				return
			}
			tt.check(t, cfg)
		})
	}
}

// The development secret is public: it verifies tokens only while nothing configures auth, and
// any configured key source replaces the whole set (issue 9, finding 1).
func TestAuthKeySet(t *testing.T) {
	const (
		prodSecret = "a-production-secret-of-at-least-32-bytes"
		jwks       = "https://idp.example/.well-known/jwks.json"
	)
	prodKeys := map[string]string{"UO_ENCRYPTION_KEY": strings.Repeat("e", 44), "UO_SESSION_KEY": strings.Repeat("s", 44)}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range prodKeys {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name      string
		file      string
		env       map[string]string
		wantHS256 []string
		wantJWKS  string
		wantErr   string
	}{
		{name: "nothing configures auth", wantHS256: []string{config.DevJWTSecret}},
		{name: "environment JWKS alone", env: with(map[string]string{"UO_AUTH_JWKS_URL": jwks, "UO_AUTH_ISSUER": "https://idp.example/", "UO_AUTH_AUDIENCE": "uo"}), wantJWKS: jwks},
		{name: "environment secret alone", env: with(map[string]string{"UO_AUTH_HS256_SECRET": prodSecret}), wantHS256: []string{prodSecret}},
		{name: "file JWKS alone", file: "auth:\n  jwksURL: " + jwks + "\n  audience: uo\n", wantJWKS: jwks},
		{name: "file secret replaced whole by the environment's JWKS", file: "auth:\n  hs256Secrets: [" + prodSecret + "]\n",
			env: map[string]string{"UO_AUTH_JWKS_URL": jwks, "UO_AUTH_AUDIENCE": "uo"}, wantJWKS: jwks},
		{name: "file issuer and audience only", file: "auth:\n  issuer: https://idp.example/\n  audience: uo\n", wantErr: "auth has no keys"},
		{name: "environment audience only", env: map[string]string{"UO_AUTH_AUDIENCE": "uo"}, wantErr: "auth has no keys"},
		{name: "environment issuer only", env: map[string]string{"UO_AUTH_ISSUER": "https://idp.example/"}, wantErr: "auth has no keys"},
		{name: "JWKS without an audience", env: map[string]string{"UO_AUTH_JWKS_URL": jwks}, wantErr: "auth.audience (UO_AUTH_AUDIENCE) is required"},
		{name: "PEM key without an audience", file: "auth:\n  publicKeysPEM: [x]\n", wantErr: "auth.audience (UO_AUTH_AUDIENCE) is required"},
		{name: "the development secret chosen explicitly stays", env: map[string]string{"UO_AUTH_HS256_SECRET": config.DevJWTSecret}, wantHS256: []string{config.DevJWTSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok := load(t, tt.file, tt.file != "", tt.env, tt.wantErr)
			if !ok {
				return
			}
			if !slices.Equal(cfg.Auth.HS256Secrets, tt.wantHS256) || cfg.Auth.JWKSURL != tt.wantJWKS {
				t.Fatalf("keys: hs256 %q jwks %q, want %q %q", cfg.Auth.HS256Secrets, cfg.Auth.JWKSURL, tt.wantHS256, tt.wantJWKS)
			}
		})
	}
}

// A development key never serves beyond loopback (issue 9, finding 2).
func TestCheckExposure(t *testing.T) {
	prod := config.Default()
	prod.Keys = config.Keys{Encryption: strings.Repeat("e", 44), Session: strings.Repeat("s", 44)}
	prod.Auth.HS256Secrets = []string{"a-production-secret-of-at-least-32-bytes"}
	tests := []struct {
		name    string
		listen  string
		edit    func(*config.Config)
		wantErr []string
	}{
		{name: "dev keys on 127.0.0.1", listen: "127.0.0.1:8080", edit: func(c *config.Config) { *c = config.Default() }},
		{name: "dev keys on localhost", listen: "localhost:8080", edit: func(c *config.Config) { *c = config.Default() }},
		{name: "dev keys on ::1", listen: "[::1]:8080", edit: func(c *config.Config) { *c = config.Default() }},
		{name: "dev keys on 0.0.0.0", listen: "0.0.0.0:8080", edit: func(c *config.Config) { *c = config.Default() },
			wantErr: []string{"keys.encryption (UO_ENCRYPTION_KEY)", "keys.session (UO_SESSION_KEY)", "auth.hs256Secrets", "openssl rand"}},
		{name: "dev keys on every interface", listen: ":8080", edit: func(c *config.Config) { *c = config.Default() }, wantErr: []string{"not a loopback"}},
		{name: "own keys on 0.0.0.0", listen: "0.0.0.0:8080"},
		{name: "only the session key is the dev one", listen: "0.0.0.0:8080", edit: func(c *config.Config) { c.Keys.Session = config.DevSessionKey },
			wantErr: []string{"keys.session (UO_SESSION_KEY)"}},
		{name: "the dev JWT secret beside a real one", listen: "10.0.0.1:8080", edit: func(c *config.Config) {
			c.Auth.HS256Secrets = append(c.Auth.HS256Secrets, config.DevJWTSecret)
		}, wantErr: []string{"auth.hs256Secrets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := prod
			if tt.edit != nil {
				tt.edit(&c)
			}
			c.Listen = tt.listen
			err := c.CheckExposure()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("served with a development key off loopback")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// Retention is configurable per kind of row, from the file and then the environment (which also
// takes days), and a setting that would delete everything at once or never pace the pruner is
// refused at start rather than acted on.
func TestRetention(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		want    config.Retention
		wantErr string
	}{
		{name: "defaults", want: config.Retention{ChangeEvents: 400 * day, ReadEvents: 90 * day, Tokens: 7 * day,
			SentEmails: 30 * day, AbandonedEmails: 90 * day, Interval: time.Minute, Batch: 1000, Pause: 50 * time.Millisecond}},
		{
			name: "file, then environment with days",
			file: "retention: {readEvents: 720h, tokens: 1h, batch: 200}\n",
			env:  map[string]string{"UO_RETENTION_READ_EVENTS": "30d", "UO_RETENTION_CHANGE_EVENTS": "730d", "UO_RETENTION_PAUSE": "10ms", "UO_RETENTION_SENT_EMAILS": "90s"},
			want: config.Retention{ChangeEvents: 730 * day, ReadEvents: 30 * day, Tokens: time.Hour,
				SentEmails: 90 * time.Second, AbandonedEmails: 90 * day, Interval: time.Minute, Batch: 200, Pause: 10 * time.Millisecond},
		},
		{name: "disabled", env: map[string]string{"UO_RETENTION_DISABLED": "true"}, want: config.Retention{Disabled: true,
			ChangeEvents: 400 * day, ReadEvents: 90 * day, Tokens: 7 * day, SentEmails: 30 * day, AbandonedEmails: 90 * day,
			Interval: time.Minute, Batch: 1000, Pause: 50 * time.Millisecond}},
		{name: "a number without a unit", env: map[string]string{"UO_RETENTION_READ_EVENTS": "90"}, wantErr: "UO_RETENTION_READ_EVENTS"},
		{name: "days that are not a number", env: map[string]string{"UO_RETENTION_TOKENS": "xd"}, wantErr: `"xd" is not a number of days`},
		{name: "zero days", env: map[string]string{"UO_RETENTION_CHANGE_EVENTS": "0d"}, wantErr: "retention.changeEvents must be positive"},
		{name: "negative", file: "retention: {sentEmails: -1h}\n", wantErr: "retention.sentEmails must be positive"},
		{name: "negative pause", env: map[string]string{"UO_RETENTION_PAUSE": "-1s"}, wantErr: "retention.pause must not be negative"},
		{name: "batch too large", env: map[string]string{"UO_RETENTION_BATCH": "100000"}, wantErr: "retention.batch 100000 is not between 1 and 10000"},
		{name: "batch not a number", env: map[string]string{"UO_RETENTION_BATCH": "many"}, wantErr: "UO_RETENTION_BATCH"},
		{name: "unknown key", file: "retention: {events: 1h}\n", wantErr: "field events not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok := load(t, tt.file, tt.file != "", tt.env, tt.wantErr)
			if !ok {
				return
			}
			if cfg.Retention != tt.want {
				t.Errorf("retention %+v, want %+v", cfg.Retention, tt.want)
			}
		})
	}
}
