// Package app is the composition root: it builds the store, the providers, the orchestrator and
// the HTTP API from a config.Config, and runs them (HTTP server, outbox worker, retention pruner,
// graceful shutdown).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	usersorchestrator "usersorchestrator"
	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/contract"
	"usersorchestrator/internal/eventlog"
	"usersorchestrator/internal/httpapi"
	"usersorchestrator/internal/mail/delivery"
	"usersorchestrator/internal/metrics"
	"usersorchestrator/internal/orchestrator"
	"usersorchestrator/internal/password"
	"usersorchestrator/internal/ratelimit"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/cached"
	"usersorchestrator/internal/registration/postgres"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/retention"
	"usersorchestrator/internal/secrets"
	"usersorchestrator/internal/session"
	"usersorchestrator/internal/tenant"
)

// App is the running service.
type App struct {
	cfg     config.Config
	tenants directory
	log     *slog.Logger
	store   registration.Store
	worker  *delivery.Worker
	// pruner is nil when retention is disabled.
	pruner  *retention.Pruner
	events  *eventlog.Writer
	handler http.Handler
	// Orchestrator is exposed for tests and tools that need to seal values as the service does.
	Orchestrator *orchestrator.Orchestrator
}

// Options tune New for tests.
type Options struct {
	// PasswordParams replaces the hashing cost (tests use a cheap one).
	PasswordParams *password.Params
	// Now replaces the clock.
	Now func() time.Time
	// Middleware runs first on every request (metrics).
	Middleware []func(http.Handler) http.Handler
	// WrapStore wraps the opened store (tests inject store failures with it).
	WrapStore func(registration.Store) registration.Store
	// Sleep replaces the orchestrator's waits (tests record the delays of failed logins).
	Sleep func(ctx context.Context, d time.Duration) error
	// Contract is the compiled openapi.yaml to serve (nil: New compiles it). Loading it is most of
	// the cost of a service's start (~60 ms of YAML); tests that start a service per case compile
	// it once with LoadContract.
	Contract *Contract
}

// Contract is the embedded openapi.yaml loaded and compiled for validation. Read-only once built:
// any number of services may share it.
type Contract struct {
	doc       *openapi3.T
	validator *contract.Validator
}

// LoadContract loads and compiles the embedded openapi.yaml.
func LoadContract() (*Contract, error) {
	doc, err := contract.Load()
	if err != nil {
		return nil, fmt.Errorf("load the embedded contract: %w", err)
	}
	validator, err := contract.New(doc)
	if err != nil {
		return nil, err
	}
	return &Contract{doc: doc, validator: validator}, nil
}

// New builds the service from cfg. The caller must Close it.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckExposure(); err != nil {
		return nil, err
	}
	if dev := cfg.DevelopmentKeys(); len(dev) > 0 {
		log.Warn("running on loopback with the public development keys; a deployment must set its own",
			"keys", strings.Join(dev, ", "))
	}
	store, err := OpenStore(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	if opts.WrapStore != nil {
		store = opts.WrapStore(store)
	}
	a := &App{cfg: cfg, log: log, store: store}
	if err := a.build(ctx, opts); err != nil {
		_ = a.Close()
		return nil, err
	}
	return a, nil
}

// OpenStore opens (and migrates) the configured registration store.
//
// Only SQLite gets the registration cache (cached): there one process owns the file, so every
// write passes through this store and invalidates what it changes. Never on PostgreSQL: several
// instances share that database, and one instance's cache would go on serving rows that another
// instance has changed or deleted.
func OpenStore(ctx context.Context, db config.Database) (registration.Store, error) {
	switch db.Driver {
	case "postgres":
		return postgres.Open(ctx, db.DSN)
	default:
		s, err := sqlite.Open(ctx, db.Path)
		if err != nil {
			return nil, err
		}
		// The TTL only bounds how long a write by another program (the sqlite3 shell) goes unseen.
		return cached.New(s, cached.Options{TTL: time.Minute}), nil
	}
}

func (a *App) build(ctx context.Context, opts Options) error {
	cfg := a.cfg
	encKey, err := secrets.ParseKey(cfg.Keys.Encryption)
	if err != nil {
		return fmt.Errorf("keys.encryption: %w", err)
	}
	sealer, err := secrets.NewSealer(encKey)
	if err != nil {
		return fmt.Errorf("keys.encryption: %w", err)
	}
	sessKey, err := secrets.ParseKey(cfg.Keys.Session)
	if err != nil {
		return fmt.Errorf("keys.session: %w", err)
	}
	sessions, err := session.NewIssuer(sessKey)
	if err != nil {
		return fmt.Errorf("keys.session: %w", err)
	}
	// The metrics are on a registry of this App's own; the backlog gauge counts at scrape time.
	metr := metrics.New(metrics.Options{Backlog: a.store.OutboxBacklog, Log: a.log})
	tenants, providers, err := buildTenants(cfg.Tenants, metr.Provider)
	if err != nil {
		return err
	}
	a.tenants = tenants
	var sender delivery.Sender
	if cfg.SMTP.Host != "" {
		if sender, err = delivery.NewSMTPSender(delivery.SMTPConfig{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			TLS: cfg.SMTP.TLS, Timeout: cfg.SMTP.Timeout,
		}); err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a.events = eventlog.New(a.store, a.log, eventlog.Options{})
	// Each instance runs a worker; claims keep them off each other's emails. A send must end well
	// within the claim's lease (the worker starts none in its second half), hence the floor.
	a.worker = delivery.NewWorker(a.store, sender, a.log, delivery.WorkerOptions{Now: now, Lease: max(delivery.DefaultLease, 4*cfg.SMTP.Timeout)})
	if r := cfg.Retention; !r.Disabled {
		if a.pruner, err = retention.New(a.store, retention.Policy{
			ChangeEvents: r.ChangeEvents, ReadEvents: r.ReadEvents, Tokens: r.Tokens, SentEmails: r.SentEmails,
			AbandonedEmails: r.AbandonedEmails, Interval: r.Interval, Batch: r.Batch, Pause: r.Pause,
		}, retention.Options{Now: now, Log: a.log}); err != nil {
			return err
		}
	}
	params := password.DefaultParams()
	if opts.PasswordParams != nil {
		params = *opts.PasswordParams
	}
	// On PostgreSQL, which several instances share, the attempts are counted in the database, or
	// N instances would allow N times the attempts. SQLite is one process: memory is enough, and
	// keeps refused attempts off its single write connection. Keys are MACed under the service
	// key, which every instance has, so a copy of the database does not show whose logins failed.
	limiter := func(name string, l config.Limit) ratelimit.Limiter {
		if cfg.Database.Driver != "postgres" {
			return ratelimit.NewMemory(l.Attempts, l.Window, now)
		}
		return ratelimit.NewShared(a.store, name, l.Attempts, l.Window, now, ratelimit.WithLogger(a.log),
			ratelimit.WithKeyHash(func(name, key string) []byte { return sealer.MAC("rate-limit", []byte(name), []byte(key)) }))
	}
	a.Orchestrator, err = orchestrator.New(orchestrator.Deps{
		Store:     a.store,
		Providers: providers,
		Hasher:    password.NewBoundedHasher(params, PasswordHashSlots()),
		Sealer:    sealer,
		Sessions:  sessions,
		Limits: orchestrator.Limits{
			Login:                  limiter("login", cfg.Limits.Login),
			ForgotPassword:         limiter("forgot-password", cfg.Limits.ForgotPassword),
			VerifyEmail:            limiter("verify-email", cfg.Limits.VerifyEmail),
			VerificationCode:       limiter("verification-code", cfg.Limits.VerificationCode),
			LoginFailuresPerCaller: limiter("login-failures-caller", cfg.Limits.LoginFailuresPerCaller),
			LoginFailuresPerTenant: limiter("login-failures-tenant", cfg.Limits.LoginFailuresPerTenant),
		},
		NewPassword: password.Generate,
		NewID:       uuid.NewString,
		MailQueued:  a.worker.Notify,
		Events:      a.events,
		Now:         now,
		Log:         a.log,
		Sleep:       opts.Sleep,
	})
	if err != nil {
		return err
	}
	compiled := opts.Contract
	if compiled == nil {
		if compiled, err = LoadContract(); err != nil {
			return err
		}
	}
	doc, validator := compiled.doc, compiled.validator
	verifier, err := auth.NewVerifier(ctx, auth.Config{
		HS256Secrets: cfg.Auth.HS256Secrets, PublicKeysPEM: cfg.Auth.PublicKeysPEM, JWKSURL: cfg.Auth.JWKSURL,
		Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, Leeway: cfg.Auth.Leeway,
	})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	handler, err := httpapi.New(httpapi.Options{
		Orchestrator: a.Orchestrator,
		Validator:    validator,
		Verifier:     verifier,
		Tenants:      tenants,
		Ready:        a.store.Ping,
		Spec:         usersorchestrator.OpenAPI,
		Log:          a.log,
		Middleware:   []gin.HandlerFunc{metr.Gin(metrics.Routes(doc), httpapi.RequestOutcome)},
	})
	if err != nil {
		return err
	}
	// GET /metrics on the API's own listener (see Metrics.Mount for why, and why without auth).
	handler = metr.Mount(handler)
	for i := len(opts.Middleware) - 1; i >= 0; i-- {
		handler = opts.Middleware[i](handler)
	}
	a.handler = handler
	return nil
}

// Handler is the HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// Tenant finds a configured tenant (tests and tools use it to act as the service does).
func (a *App) Tenant(k tenant.Key) (*tenant.Tenant, bool) { return a.tenants.Tenant(k) }

// Store is the registration store (tests read it to check what was written).
func (a *App) Store() registration.Store { return a.store }

// Worker is the outbox worker (tests drive it directly).
func (a *App) Worker() *delivery.Worker { return a.worker }

// Pruner deletes what retention no longer keeps (tests run it directly); nil when disabled.
func (a *App) Pruner() *retention.Pruner { return a.pruner }

// Run serves until ctx ends, then shuts down gracefully: it stops accepting, lets requests in
// flight finish within the configured timeout, and stops the outbox worker and the pruner. ready, when not nil,
// receives the address once the listener is open.
func (a *App) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// The contract's largest header (Authorization) is 8 KiB; net/http answers a plain 431
		// for more than this, before the service sees the request.
		MaxHeaderBytes: 64 << 10,
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    2 * time.Minute,
		ErrorLog:       slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		if err := a.worker.Run(workerCtx); err != nil {
			a.log.Error("outbox worker stopped", "error", err)
		}
	}()
	// Each instance prunes; see package retention for why that needs no lock.
	prunerDone := make(chan struct{})
	go func() {
		defer close(prunerDone)
		if a.pruner != nil {
			_ = a.pruner.Run(workerCtx)
		}
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "database", a.cfg.Database.Driver, "tenants", len(a.cfg.Tenants))
	if ready != nil {
		ready(ln.Addr())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	a.log.Info("shutting down")
	if err := srv.Shutdown(shutdownCtx); err != nil {
		a.log.Error("graceful shutdown incomplete", "error", err)
	}
	stopWorker()
	<-workerDone
	<-prunerDone
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// Close writes the queued events and releases the store.
func (a *App) Close() error {
	if a.events != nil {
		_ = a.events.Close() // writes the events still queued
	}
	return a.store.Close()
}

// FlushEvents returns once every event recorded so far is stored (tests that read the store
// directly call it first; the Events endpoint flushes by itself).
func (a *App) FlushEvents(ctx context.Context) error { return a.events.Flush(ctx) }

// PasswordHashSlots is how many password hashes run at once: twice the CPUs keeps them busy
// while each hash in flight holds its argon2id memory (19 MiB), which this bounds.
func PasswordHashSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// LogLevel parses a configured level name.
func LogLevel(name string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(name))); err != nil {
		return slog.LevelInfo
	}
	return l
}
