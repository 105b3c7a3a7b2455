// Package config reads the service's configuration: a YAML file (optional) with environment
// overrides on top. The built-in default needs neither: it listens on 127.0.0.1:8080, keeps
// SQLite at ./data/usersorchestrator.db and serves one tenant, demo/demo/demo, without a provider,
// with development keys that are logged as such.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration.
type Config struct {
	Listen   string   `yaml:"listen"`
	LogLevel string   `yaml:"logLevel"`
	Database Database `yaml:"database"`
	Keys     Keys     `yaml:"keys"`
	Auth     Auth     `yaml:"auth"`
	SMTP     SMTP     `yaml:"smtp"`
	Limits   Limits   `yaml:"limits"`
	// Retention is how long the rows that only grow are kept (see README, "Retention").
	Retention Retention `yaml:"retention"`
	Tenants   []Tenant  `yaml:"tenants"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
}

// Database selects the registration store.
type Database struct {
	// Driver is "sqlite" (the embedded default) or "postgres".
	Driver string `yaml:"driver"`
	Path   string `yaml:"path"`
	DSN    string `yaml:"dsn"`
}

// Keys are the deployment's secrets, base64 or hex, at least 32 bytes each.
type Keys struct {
	// Encryption seals encryptedCustomerRegistrationId, encryptedEmail and encryptedEventId, and
	// keys the hashes of codes and reset links. Changing it invalidates all of them.
	Encryption string `yaml:"encryption"`
	// Session signs the uo_session tokens of Authenticate.
	Session string `yaml:"session"`
}

// Auth says which JWTs may call the API.
type Auth struct {
	HS256Secrets  []string      `yaml:"hs256Secrets"`
	PublicKeysPEM []string      `yaml:"publicKeysPEM"`
	JWKSURL       string        `yaml:"jwksURL"`
	Issuer        string        `yaml:"issuer"`
	Audience      string        `yaml:"audience"`
	Leeway        time.Duration `yaml:"leeway"`
}

// SMTP is the mail server; without a host, emails stay in the outbox and are only logged.
type SMTP struct {
	Host     string        `yaml:"host"`
	Port     int           `yaml:"port"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password"`
	TLS      string        `yaml:"tls"`
	Timeout  time.Duration `yaml:"timeout"`
}

// Limit is a number of attempts per window.
type Limit struct {
	Attempts int           `yaml:"attempts"`
	Window   time.Duration `yaml:"window"`
}

// Limits are the attempt limits per tenant and login name or email, and the budgets of failed
// logins per API caller and per tenant that stop password spraying.
type Limits struct {
	Login            Limit `yaml:"login"`
	ForgotPassword   Limit `yaml:"forgotPassword"`
	VerifyEmail      Limit `yaml:"verifyEmail"`
	VerificationCode Limit `yaml:"verificationCode"`
	// LoginFailuresPerCaller: failed logins one API caller (token subject) may make in a tenant;
	// beyond it that caller's logins answer E429 until the budget refills.
	LoginFailuresPerCaller Limit `yaml:"loginFailuresPerCaller"`
	// LoginFailuresPerTenant: failed logins in a tenant from all callers; beyond it each failure
	// is answered after a growing delay (0.25 s doubling to 4 s), nobody is refused.
	LoginFailuresPerTenant Limit `yaml:"loginFailuresPerTenant"`
}

// Retention is how long each kind of row is kept before the pruner deletes it, and how the
// pruner paces itself. Durations are Go durations; the environment also takes days ("400d").
type Retention struct {
	// Disabled keeps every row for ever (the pruner does not run).
	Disabled bool `yaml:"disabled"`
	// ChangeEvents: events of everything but reads (creates, updates, logins, password and email
	// changes, forgot-password steps), counted from when they occurred.
	ChangeEvents time.Duration `yaml:"changeEvents"`
	// ReadEvents: events of GET, GET by id and provider reads and searches (events.Reads).
	ReadEvents time.Duration `yaml:"readEvents"`
	// Tokens: verification codes and reset links, used or not, counted from their expiry.
	Tokens time.Duration `yaml:"tokens"`
	// SentEmails: delivered outbox rows (their body is already blank), counted from the send.
	SentEmails time.Duration `yaml:"sentEmails"`
	// AbandonedEmails: unsent outbox rows whose body was blanked (given up on, or the secret they
	// carried expired), counted from their creation.
	AbandonedEmails time.Duration `yaml:"abandonedEmails"`
	// Interval is the time between two runs of the pruner; idle rate-limit buckets are swept
	// at each run.
	Interval time.Duration `yaml:"interval"`
	// Batch bounds the rows one DELETE removes, and so how long it holds the write lock.
	Batch int `yaml:"batch"`
	// Pause is the wait between two batches, which leaves the database to the requests.
	Pause time.Duration `yaml:"pause"`
}

// day is the unit retention is thought in.
const day = 24 * time.Hour

// Tenant is one newspaper.
type Tenant struct {
	ClientCode         string   `yaml:"clientCode"`
	PaperCode          string   `yaml:"paperCode"`
	ClientGroupCode    string   `yaml:"clientGroupCode"`
	Name               string   `yaml:"name"`
	SessionDays        int      `yaml:"sessionDays"`
	DefaultReturnURL   string   `yaml:"defaultReturnUrl"`
	AllowedReturnHosts []string `yaml:"allowedReturnHosts"`
	MailFrom           string   `yaml:"mailFrom"`
	// PasswordPolicy bounds new passwords; 8 to 128 characters when not set.
	PasswordPolicy *PasswordPolicy `yaml:"passwordPolicy"`
	// Provider is Flow.UserProvider: "", "Auth0", "Gigya", "SSOR" or "Firefly".
	Provider string `yaml:"provider"`
	// BaseURL, Timeout and MaxRetries apply to whichever provider is chosen.
	BaseURL    string        `yaml:"baseURL"`
	Timeout    time.Duration `yaml:"timeout"`
	MaxRetries int           `yaml:"maxRetries"`
	Auth0      Auth0         `yaml:"auth0"`
	Gigya      Gigya         `yaml:"gigya"`
	SSOR       SSOR          `yaml:"ssor"`
	Firefly    Firefly       `yaml:"firefly"`
}

// PasswordPolicy is a tenant's rule for new passwords; maxLength 0 leaves the upper bound out.
type PasswordPolicy struct {
	MinLength int `yaml:"minLength"`
	MaxLength int `yaml:"maxLength"`
}

// Auth0 settings of a tenant.
type Auth0 struct {
	ClientID      string `yaml:"clientID"`
	ClientSecret  string `yaml:"clientSecret"`
	Audience      string `yaml:"audience"`
	Connection    string `yaml:"connection"`
	Scope         string `yaml:"scope"`
	LoginAudience string `yaml:"loginAudience"`
}

// Gigya settings of a tenant.
type Gigya struct {
	APIKey  string `yaml:"apiKey"`
	UserKey string `yaml:"userKey"`
	Secret  string `yaml:"secret"`
}

// SSOR settings of a tenant.
type SSOR struct {
	APIToken string `yaml:"apiToken"`
}

// Firefly settings of a tenant.
type Firefly struct {
	Secret string `yaml:"secret"`
}

// Development keys of the built-in default. They are public (they are in this file): the service
// logs a warning while it runs with them, and they must be replaced in any real deployment.
const (
	DevEncryptionKey = "ZGV2ZWxvcG1lbnQtb25seS1lbmNyeXB0aW9uLWtleS0wMDAwMDA="
	DevSessionKey    = "ZGV2ZWxvcG1lbnQtb25seS1zZXNzaW9uLWtleS0wMDAwMDAwMDA="
	DevJWTSecret     = "development-only-jwt-secret-change-me-000000"
)

// Default is the built-in configuration.
func Default() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		LogLevel:        "info",
		Database:        Database{Driver: "sqlite", Path: "./data/usersorchestrator.db"},
		Keys:            Keys{Encryption: DevEncryptionKey, Session: DevSessionKey},
		Auth:            Auth{HS256Secrets: []string{DevJWTSecret}, Leeway: 30 * time.Second},
		SMTP:            SMTP{Port: 25, TLS: "none", Timeout: 10 * time.Second},
		ShutdownTimeout: 15 * time.Second,
		Limits: Limits{
			Login:            Limit{Attempts: 5, Window: 15 * time.Minute},
			ForgotPassword:   Limit{Attempts: 5, Window: time.Hour},
			VerifyEmail:      Limit{Attempts: 5, Window: 15 * time.Minute},
			VerificationCode: Limit{Attempts: 5, Window: time.Hour},
			// Sized for a busy site's typos (a caller is usually a whole site), far below what
			// spraying needs: a million names at one guess each.
			LoginFailuresPerCaller: Limit{Attempts: 1000, Window: 15 * time.Minute},
			LoginFailuresPerTenant: Limit{Attempts: 5000, Window: 15 * time.Minute},
		},
		Retention: Retention{
			ChangeEvents:    400 * day,
			ReadEvents:      90 * day,
			Tokens:          7 * day,
			SentEmails:      30 * day,
			AbandonedEmails: 90 * day,
			Interval:        time.Minute,
			Batch:           1000,
			Pause:           50 * time.Millisecond,
		},
		Tenants: []Tenant{{
			ClientCode: "demo", PaperCode: "demo", ClientGroupCode: "demo",
			Name:               "Demo Daily",
			SessionDays:        30,
			DefaultReturnURL:   "http://localhost:3000/account",
			AllowedReturnHosts: []string{"localhost", "127.0.0.1"},
			MailFrom:           "Demo Daily <no-reply@demo.example>",
		}},
	}
}

// Load reads the file at path (none when path is empty) over the default, then the environment.
// A file's `tenants` replace the default tenant. Unknown keys in the file are errors, so a typo
// does not silently leave a setting at its default.
//
// The API keys are one set: as soon as the file's `auth` section or any UO_AUTH_* variable says
// anything (a key source, an issuer, an audience), the built-in development secret is gone and only
// the keys configured there verify tokens. A later layer's key sources replace the earlier ones
// whole, never add to them: a production JWKS must not sit beside a secret anyone can read.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	// builtIn stays true while the key sources are the default's development secret.
	authConfigured, builtIn := false, true
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		var file Config
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("config: %s: %w", path, err)
		}
		cfg = overlay(cfg, file)
		if !file.Auth.isZero() {
			authConfigured, builtIn = true, false
			cfg.Auth.HS256Secrets, cfg.Auth.PublicKeysPEM, cfg.Auth.JWKSURL = file.Auth.HS256Secrets, file.Auth.PublicKeysPEM, file.Auth.JWKSURL
		}
	}
	if getenv != nil {
		for _, name := range authKeyEnvVars {
			if getenv(name) != "" {
				cfg.Auth.HS256Secrets, cfg.Auth.PublicKeysPEM, cfg.Auth.JWKSURL = nil, nil, ""
				builtIn = false
				break
			}
		}
		for _, e := range envVars {
			if strings.HasPrefix(e.name, "UO_AUTH_") && getenv(e.name) != "" {
				authConfigured = true
			}
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return Config{}, err
	}
	if authConfigured && builtIn {
		// Only an issuer or an audience was set: that is a deployment's auth, and it has no keys
		// yet. Validate says so rather than letting the public secret fill the gap.
		cfg.Auth.HS256Secrets = nil
	}
	return cfg, cfg.Validate()
}

// authKeyEnvVars are the variables that name key sources; any of them replaces the whole set.
var authKeyEnvVars = []string{"UO_AUTH_HS256_SECRET", "UO_AUTH_JWKS_URL", "UO_AUTH_PUBLIC_KEY_PEM"}

func (a Auth) isZero() bool {
	return len(a.HS256Secrets) == 0 && len(a.PublicKeysPEM) == 0 && a.JWKSURL == "" && a.Issuer == "" &&
		a.Audience == "" && a.Leeway == 0
}

// overlay lays the settings the file sets over the defaults.
func overlay(base, f Config) Config {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&base.Listen, f.Listen)
	set(&base.LogLevel, f.LogLevel)
	set(&base.Database.Driver, f.Database.Driver)
	set(&base.Database.Path, f.Database.Path)
	set(&base.Database.DSN, f.Database.DSN)
	set(&base.Keys.Encryption, f.Keys.Encryption)
	set(&base.Keys.Session, f.Keys.Session)
	set(&base.Auth.Issuer, f.Auth.Issuer)
	set(&base.Auth.Audience, f.Auth.Audience)
	if f.Auth.Leeway != 0 {
		base.Auth.Leeway = f.Auth.Leeway
	}
	set(&base.SMTP.Host, f.SMTP.Host)
	set(&base.SMTP.Username, f.SMTP.Username)
	set(&base.SMTP.Password, f.SMTP.Password)
	set(&base.SMTP.TLS, f.SMTP.TLS)
	if f.SMTP.Port != 0 {
		base.SMTP.Port = f.SMTP.Port
	}
	if f.SMTP.Timeout != 0 {
		base.SMTP.Timeout = f.SMTP.Timeout
	}
	for _, l := range []struct{ dst, src *Limit }{
		{&base.Limits.Login, &f.Limits.Login}, {&base.Limits.ForgotPassword, &f.Limits.ForgotPassword},
		{&base.Limits.VerifyEmail, &f.Limits.VerifyEmail}, {&base.Limits.VerificationCode, &f.Limits.VerificationCode},
		{&base.Limits.LoginFailuresPerCaller, &f.Limits.LoginFailuresPerCaller}, {&base.Limits.LoginFailuresPerTenant, &f.Limits.LoginFailuresPerTenant},
	} {
		if l.src.Attempts != 0 {
			l.dst.Attempts = l.src.Attempts
		}
		if l.src.Window != 0 {
			l.dst.Window = l.src.Window
		}
	}
	if f.ShutdownTimeout != 0 {
		base.ShutdownTimeout = f.ShutdownTimeout
	}
	r, fr := &base.Retention, f.Retention
	r.Disabled = r.Disabled || fr.Disabled
	for _, d := range []struct{ dst, src *time.Duration }{
		{&r.ChangeEvents, &fr.ChangeEvents}, {&r.ReadEvents, &fr.ReadEvents}, {&r.Tokens, &fr.Tokens},
		{&r.SentEmails, &fr.SentEmails}, {&r.AbandonedEmails, &fr.AbandonedEmails}, {&r.Interval, &fr.Interval},
		{&r.Pause, &fr.Pause},
	} {
		if *d.src != 0 {
			*d.dst = *d.src
		}
	}
	if fr.Batch != 0 {
		r.Batch = fr.Batch
	}
	if len(f.Tenants) > 0 {
		base.Tenants = f.Tenants
	}
	return base
}

// The environment variables, each overriding one setting.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"UO_LISTEN", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"UO_LOG_LEVEL", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"UO_DATABASE_DRIVER", func(c *Config, v string) error { c.Database.Driver = v; return nil }},
	{"UO_DATABASE_PATH", func(c *Config, v string) error { c.Database.Path = v; return nil }},
	{"UO_DATABASE_DSN", func(c *Config, v string) error { c.Database.DSN = v; return nil }},
	{"UO_ENCRYPTION_KEY", func(c *Config, v string) error { c.Keys.Encryption = v; return nil }},
	{"UO_SESSION_KEY", func(c *Config, v string) error { c.Keys.Session = v; return nil }},
	{"UO_AUTH_HS256_SECRET", func(c *Config, v string) error { c.Auth.HS256Secrets = []string{v}; return nil }},
	{"UO_AUTH_JWKS_URL", func(c *Config, v string) error { c.Auth.JWKSURL = v; return nil }},
	{"UO_AUTH_PUBLIC_KEY_PEM", func(c *Config, v string) error { c.Auth.PublicKeysPEM = []string{v}; return nil }},
	{"UO_AUTH_ISSUER", func(c *Config, v string) error { c.Auth.Issuer = v; return nil }},
	{"UO_AUTH_AUDIENCE", func(c *Config, v string) error { c.Auth.Audience = v; return nil }},
	{"UO_SMTP_HOST", func(c *Config, v string) error { c.SMTP.Host = v; return nil }},
	{"UO_SMTP_PORT", func(c *Config, v string) (err error) { c.SMTP.Port, err = strconv.Atoi(v); return err }},
	{"UO_SMTP_USERNAME", func(c *Config, v string) error { c.SMTP.Username = v; return nil }},
	{"UO_SMTP_PASSWORD", func(c *Config, v string) error { c.SMTP.Password = v; return nil }},
	{"UO_SMTP_TLS", func(c *Config, v string) error { c.SMTP.TLS = v; return nil }},
	{"UO_RETENTION_DISABLED", func(c *Config, v string) (err error) { c.Retention.Disabled, err = strconv.ParseBool(v); return err }},
	{"UO_RETENTION_CHANGE_EVENTS", retentionEnv(func(r *Retention) *time.Duration { return &r.ChangeEvents })},
	{"UO_RETENTION_READ_EVENTS", retentionEnv(func(r *Retention) *time.Duration { return &r.ReadEvents })},
	{"UO_RETENTION_TOKENS", retentionEnv(func(r *Retention) *time.Duration { return &r.Tokens })},
	{"UO_RETENTION_SENT_EMAILS", retentionEnv(func(r *Retention) *time.Duration { return &r.SentEmails })},
	{"UO_RETENTION_ABANDONED_EMAILS", retentionEnv(func(r *Retention) *time.Duration { return &r.AbandonedEmails })},
	{"UO_RETENTION_INTERVAL", retentionEnv(func(r *Retention) *time.Duration { return &r.Interval })},
	{"UO_RETENTION_PAUSE", retentionEnv(func(r *Retention) *time.Duration { return &r.Pause })},
	{"UO_RETENTION_BATCH", func(c *Config, v string) (err error) { c.Retention.Batch, err = strconv.Atoi(v); return err }},
}

func retentionEnv(field func(*Retention) *time.Duration) func(c *Config, v string) error {
	return func(c *Config, v string) (err error) {
		*field(&c.Retention), err = ParseDuration(v)
		return err
	}
}

// ParseDuration is time.ParseDuration that also takes a whole number of days ("400d"), the unit
// retention periods are given in.
func ParseDuration(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 32)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a number of days", v)
		}
		return time.Duration(days) * day, nil
	}
	return time.ParseDuration(v)
}

// EnvVars lists the environment variables Load reads (for the README and `--help`).
func EnvVars() []string {
	names := make([]string, 0, len(envVars))
	for _, e := range envVars {
		names = append(names, e.name)
	}
	return names
}

func applyEnv(c *Config, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	for _, e := range envVars {
		if v := getenv(e.name); v != "" {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("config: %s: %w", e.name, err)
			}
		}
	}
	return nil
}

var tenantCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Providers are the valid Flow.UserProvider values.
var Providers = []string{"Auth0", "Gigya", "SSOR", "Firefly"}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("config: "+format, args...)) }
	if c.Listen == "" {
		bad("listen is empty")
	}
	switch c.Database.Driver {
	case "sqlite":
		if c.Database.Path == "" {
			bad("database.path is empty")
		}
	case "postgres":
		if c.Database.DSN == "" {
			bad("database.dsn is empty")
		}
	default:
		bad("database.driver %q is neither sqlite nor postgres", c.Database.Driver)
	}
	if c.Keys.Encryption == "" || c.Keys.Session == "" {
		bad("keys.encryption and keys.session are required")
	}
	if len(c.Auth.HS256Secrets) == 0 && len(c.Auth.PublicKeysPEM) == 0 && c.Auth.JWKSURL == "" {
		bad("auth has no keys: set auth.jwksURL (UO_AUTH_JWKS_URL), auth.publicKeysPEM (UO_AUTH_PUBLIC_KEY_PEM) " +
			"or auth.hs256Secrets (UO_AUTH_HS256_SECRET); setting auth.issuer or auth.audience alone removes the development secret")
	}
	if (len(c.Auth.PublicKeysPEM) > 0 || c.Auth.JWKSURL != "") && c.Auth.Audience == "" {
		// A JWKS or a public key usually belongs to an identity platform that signs tokens for many
		// APIs; without an audience check, a token minted for any of them would open this one.
		bad("auth.audience (UO_AUTH_AUDIENCE) is required with auth.jwksURL or auth.publicKeysPEM")
	}
	switch c.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		bad("smtp.tls %q is none, starttls or tls", c.SMTP.TLS)
	}
	for name, l := range map[string]Limit{"login": c.Limits.Login, "forgotPassword": c.Limits.ForgotPassword,
		"verifyEmail": c.Limits.VerifyEmail, "verificationCode": c.Limits.VerificationCode,
		"loginFailuresPerCaller": c.Limits.LoginFailuresPerCaller, "loginFailuresPerTenant": c.Limits.LoginFailuresPerTenant} {
		if l.Attempts < 1 || l.Window <= 0 {
			bad("limits.%s needs attempts >= 1 and a window", name)
		}
	}
	c.Retention.validate(bad)
	if len(c.Tenants) == 0 {
		bad("no tenants")
	}
	seen := map[string]bool{}
	for i, t := range c.Tenants {
		key := t.ClientCode + "/" + t.PaperCode + "/" + t.ClientGroupCode
		switch {
		case t.ClientCode == "" || t.PaperCode == "" || t.ClientGroupCode == "":
			bad("tenants[%d] needs clientCode, paperCode and clientGroupCode", i)
		case !tenantCode.MatchString(t.ClientCode) || !tenantCode.MatchString(t.PaperCode) || !tenantCode.MatchString(t.ClientGroupCode):
			// The contract's TenantCode pattern: a tenant spelled otherwise could never be selected.
			bad("tenant %s: codes must be 1 to 32 letters, digits, _ or -", key)
		case seen[key]:
			bad("tenant %s is listed twice", key)
		}
		seen[key] = true
		if t.DefaultReturnURL == "" {
			bad("tenant %s needs defaultReturnUrl (the page emailed links lead to)", key)
		}
		if t.MailFrom == "" {
			bad("tenant %s needs mailFrom", key)
		}
		if p := t.PasswordPolicy; p != nil && (p.MinLength < 1 || p.MaxLength < 0 || (p.MaxLength > 0 && p.MaxLength < p.MinLength)) {
			// An empty password could never log in (Authenticate needs one).
			bad("tenant %s: passwordPolicy needs 1 <= minLength <= maxLength (maxLength 0: no bound)", key)
		}
		if t.Provider != "" {
			known := false
			for _, p := range Providers {
				if strings.EqualFold(p, t.Provider) {
					known = true
				}
			}
			if !known {
				bad("tenant %s: provider %q is not one of %s", key, t.Provider, strings.Join(Providers, ", "))
			}
			if t.BaseURL == "" {
				bad("tenant %s: provider %s needs baseURL", key, t.Provider)
			}
		}
	}
	return errors.Join(errs...)
}

// maxBatch bounds retention.batch: a DELETE of more rows holds SQLite's write lock long enough
// to show in the latency of the requests that wait for it.
const maxBatch = 10_000

func (r Retention) validate(bad func(format string, args ...any)) {
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"changeEvents", r.ChangeEvents}, {"readEvents", r.ReadEvents}, {"tokens", r.Tokens},
		{"sentEmails", r.SentEmails}, {"abandonedEmails", r.AbandonedEmails}, {"interval", r.Interval}} {
		if p.d <= 0 {
			bad("retention.%s must be positive (set retention.disabled to keep everything)", p.name)
		}
	}
	if r.Pause < 0 {
		bad("retention.pause must not be negative")
	}
	if r.Batch < 1 || r.Batch > maxBatch {
		bad("retention.batch %d is not between 1 and %d", r.Batch, maxBatch)
	}
}

// UsesDevelopmentKeys tells whether any built-in development secret is in use.
func (c Config) UsesDevelopmentKeys() bool { return len(c.DevelopmentKeys()) > 0 }

// DevelopmentKeys names each built-in development secret in use, with how to replace it.
func (c Config) DevelopmentKeys() []string {
	var out []string
	if c.Keys.Encryption == DevEncryptionKey {
		out = append(out, "keys.encryption (UO_ENCRYPTION_KEY)")
	}
	if c.Keys.Session == DevSessionKey {
		out = append(out, "keys.session (UO_SESSION_KEY)")
	}
	if slices.Contains(c.Auth.HS256Secrets, DevJWTSecret) {
		out = append(out, "auth.hs256Secrets (UO_AUTH_HS256_SECRET, or auth.jwksURL / UO_AUTH_JWKS_URL)")
	}
	return out
}

// CheckExposure refuses a configuration that would serve beyond this machine with a development
// key: the keys are in this repository, so anyone could forge API tokens, uo_session tokens and
// sealed ids. On a loopback address (make run, the tests, the benchmarks) they are allowed.
func (c Config) CheckExposure() error {
	dev := c.DevelopmentKeys()
	if len(dev) == 0 || IsLoopback(c.Listen) {
		return nil
	}
	return fmt.Errorf("config: listen %q is not a loopback address and these keys are the public development ones: %s; "+
		"set each to a secret of your own (32+ random bytes, base64 or hex: `openssl rand -base64 32`), "+
		"or listen on 127.0.0.1 for development", c.Listen, strings.Join(dev, ", "))
}

// IsLoopback tells whether the listen address addr ("host:port") accepts connections from this
// machine only. An empty host (":8080") listens on every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
