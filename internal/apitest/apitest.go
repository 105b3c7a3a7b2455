// Package apitest runs the real service for tests: app.Run on 127.0.0.1:0 with a fresh SQLite
// file, a real SMTP sink, a clock the test moves, and the generated client behind a transport that
// checks every response against openapi.yaml and the code catalogue. The service tests in this
// package and the end-to-end suite (e2e/) both build on it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/app"
	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/contract"
	"usersorchestrator/internal/mail/mailtest"
	"usersorchestrator/internal/password"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/tenant"
)

// Env is one running service.
type Env struct {
	T      testing.TB
	App    *app.App
	URL    string
	Client *client.ClientWithResponses
	// HTTP is the checking HTTP client behind Client, for raw requests.
	HTTP   *http.Client
	Mail   *mailtest.Sink
	Logs   *Buffer
	Clock  *Clock
	Config config.Config
	// Token is a JWT that may act for every configured tenant.
	Token string
	// Tenant is the tenant the headers select by default (the first configured).
	Tenant tenant.Key
	// Store is the service's registration store, for tests that check what was written.
	Store registration.Store
	flush func(context.Context) error

	sleepMu sync.Mutex
	sleeps  []time.Duration
}

// sleep stands in for the service's waits: it records the delay and returns at once.
func (e *Env) sleep(_ context.Context, d time.Duration) error {
	e.sleepMu.Lock()
	defer e.sleepMu.Unlock()
	e.sleeps = append(e.sleeps, d)
	return nil
}

// Sleeps are the waits the service asked for so far (the delays of failed logins).
func (e *Env) Sleeps() []time.Duration {
	e.sleepMu.Lock()
	defer e.sleepMu.Unlock()
	return append([]time.Duration(nil), e.sleeps...)
}

// FlushEvents returns once the events the service recorded so far are stored.
func (e *Env) FlushEvents(ctx context.Context) error { return e.flush(ctx) }

// Option changes how the service starts.
type Option func(*settings)

type settings struct {
	cfg       config.Config
	wrapStore func(registration.Store) registration.Store
}

// WithoutSMTP runs the service as the embedded default does: no mail server, emails parked in
// the outbox (Env.Mail then receives nothing).
func WithoutSMTP() Option { return func(s *settings) { s.cfg.SMTP.Host = "" } }

// WithLimits replaces the attempt limits.
func WithLimits(l config.Limits) Option { return func(s *settings) { s.cfg.Limits = l } }

// WithTenants replaces the tenants.
func WithTenants(ts ...config.Tenant) Option { return func(s *settings) { s.cfg.Tenants = ts } }

// WithDatabase replaces the store (PostgreSQL for the store-parity runs).
func WithDatabase(db config.Database) Option { return func(s *settings) { s.cfg.Database = db } }

// WithAuth replaces the API keys (a service configured the way a deployment is). Without an
// HS256 secret, Env.Token is empty: the test signs its own tokens.
func WithAuth(a config.Auth) Option { return func(s *settings) { s.cfg.Auth = a } }

// WithStore wraps the service's store, e.g. to make some of its calls fail.
func WithStore(wrap func(registration.Store) registration.Store) Option {
	return func(s *settings) { s.wrapStore = wrap }
}

// contracts is openapi.yaml loaded once per test binary, for the services the tests start and for the
// checks of their answers: loading it (~60 ms of YAML, twice per Start before) cost more than
// anything else in a case's start. Both are read-only once built.
type contracts struct {
	app    *app.Contract
	router routers.Router
}

// migratedDB is an empty SQLite database with every migration applied, made once per test binary
// by the store's own Migrate. seedDatabase copies it where a case's service opens its store, which
// then finds nothing to migrate: a copy costs ~3 ms where migrating a new file costs ~30 ms, in
// every case of every test. The copy is the very file a fresh migration makes.
var migratedDB = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "uo-apitest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "migrated.db")
	if err := sqlite.Migrate(context.Background(), path); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, nil // not all in the main file after closing: each service migrates its own
	}
	return os.ReadFile(path)
})

func seedDatabase(t testing.TB, path string) {
	t.Helper()
	data, err := migratedDB()
	if err != nil {
		t.Fatalf("migrate a template database: %v", err)
	}
	if data == nil {
		return
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

var compiledContract = sync.OnceValues(func() (contracts, error) {
	c, err := app.LoadContract()
	if err != nil {
		return contracts{}, err
	}
	doc, err := contract.Load()
	if err != nil {
		return contracts{}, err
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return contracts{}, err
	}
	return contracts{app: c, router: router}, nil
})

// cheapPasswords keeps argon2 out of the tests' way; the production cost is benchmarked apart.
var cheapPasswords = password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Start runs the service until the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	sink := mailtest.NewSink(t)
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database.Path = filepath.Join(t.TempDir(), "usersorchestrator.db")
	cfg.SMTP = config.SMTP{Host: sink.Host(), Port: sink.Port(), TLS: "none", Timeout: 5 * time.Second}
	cfg.ShutdownTimeout = 5 * time.Second
	// The pruner runs once at start, as in production; a test that moves the clock by months
	// runs it itself (App.Pruner), not a minute into the test at whatever time the clock says.
	cfg.Retention.Interval = 24 * time.Hour
	set := settings{cfg: cfg}
	for _, o := range opts {
		o(&set)
	}
	ownDB := set.cfg.Database == cfg.Database // the case's own SQLite file, not one it chose
	cfg = set.cfg
	env := &Env{T: t, Mail: sink, Logs: &Buffer{}, Clock: NewClock(time.Now().UTC().Truncate(time.Millisecond)), Config: cfg}
	log := slog.New(slog.NewJSONHandler(env.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	if image := imageName(); image != "" {
		if set.wrapStore != nil {
			t.Skip("the case wraps the service's store, which a container's service does not let it")
		}
		startImage(t, env, cfg, image)
	} else {
		if ownDB {
			seedDatabase(t, cfg.Database.Path)
		}
		startInProcess(t, env, cfg, log, set)
	}

	env.Tenant = tenant.Key{ClientCode: cfg.Tenants[0].ClientCode, PaperCode: cfg.Tenants[0].PaperCode, ClientGroupCode: cfg.Tenants[0].ClientGroupCode}
	if len(cfg.Auth.HS256Secrets) > 0 {
		env.Token = env.MintToken([]string{auth.AnyClient})
	}
	compiled, err := compiledContract()
	if err != nil {
		t.Fatal(err)
	}
	router := compiled.router
	env.HTTP = &http.Client{Transport: &checkingTransport{t: t, router: router, base: http.DefaultTransport}, Timeout: 30 * time.Second}
	env.Client, err = client.NewClientWithResponses(env.URL,
		client.WithHTTPClient(env.HTTP),
		client.WithRequestEditorFn(env.headers(env.Tenant)))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// MintToken makes a JWT with the configured development secret for clientCodes ("*": every tenant).
func (e *Env) MintToken(clientCodes []string) string {
	e.T.Helper()
	tok, err := auth.MintHS256([]byte(e.Config.Auth.HS256Secrets[0]), auth.MintOptions{Subject: "apitest", ClientCodes: clientCodes, Lifetime: time.Hour}, time.Now())
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// headers sets the five headers on every request; editors given to a call run after it and can
// change or remove them.
func (e *Env) headers(k tenant.Key) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+e.Token)
		r.Header.Set("X-SourceSystem", "apitest")
		r.Header.Set("X-ClientCode", k.ClientCode)
		r.Header.Set("X-PaperCode", k.PaperCode)
		r.Header.Set("X-ClientGroupCode", k.ClientGroupCode)
		return nil
	}
}

// As selects another tenant for one call.
func (e *Env) As(k tenant.Key) client.RequestEditorFn { return e.headers(k) }

// Header sets (or, with an empty value, removes) one header for one call.
func Header(name, value string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		if value == "" {
			r.Header.Del(name)
		} else {
			r.Header.Set(name, value)
		}
		return nil
	}
}

// Do sends a raw request with the five headers (for requests the typed client cannot make).
func (e *Env) Do(method, path, body string, editors ...client.RequestEditorFn) (int, Envelope, http.Header) {
	e.T.Helper()
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.URL+path, rdr)
	if err != nil {
		e.T.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	_ = e.headers(e.Tenant)(context.Background(), req)
	for _, ed := range editors {
		_ = ed(context.Background(), req)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var env Envelope
	_ = json.Unmarshal(data, &env)
	env.Raw = data
	return resp.StatusCode, env, resp.Header
}

// Envelope is any response, decoded loosely.
type Envelope struct {
	Message struct {
		Code string `json:"code"`
		Text string `json:"text"`
		Type string `json:"type"`
	} `json:"message"`
	Meta map[string]any  `json:"meta"`
	Data json.RawMessage `json:"data"`
	Raw  []byte          `json:"-"`
}

// checkingTransport checks every response against the contract: its status is documented for the
// operation, its body matches the schema, and its message code is catalogued with that status.
type checkingTransport struct {
	t      testing.TB
	router routers.Router
	base   http.RoundTripper
}

func (c *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, err
	}
	if msg := CheckResponse(req, resp.StatusCode, resp.Header, body, c.router); msg != "" {
		c.t.Errorf("%s", msg)
	}
	return resp, nil
}

// CheckResponse says what is wrong with a response, or "" when it keeps the contract.
func CheckResponse(req *http.Request, status int, header http.Header, body []byte, router routers.Router) string {
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Sprintf("%s %s answered %d with a body that is not JSON: %q", req.Method, req.URL.Path, status, body)
	}
	entry, ok := codes.Lookup(codes.Code(env.Message.Code))
	switch {
	case !ok:
		return fmt.Sprintf("%s %s answered %d with the uncatalogued code %q", req.Method, req.URL.Path, status, env.Message.Code)
	case entry.Status != status:
		return fmt.Sprintf("%s %s answered %d with %s, which is catalogued for %d", req.Method, req.URL.Path, status, entry.Code, entry.Status)
	}
	// Match the route as the server does, published trailing-slash forms included.
	canonical := req.Clone(context.Background())
	contract.CanonicalizePath(canonical)
	route, params, err := router.FindRoute(canonical)
	if err != nil {
		if status == http.StatusNotFound {
			return "" // a path the contract does not have: E404, checked above
		}
		return fmt.Sprintf("%s %s answered %d but matches no operation", req.Method, req.URL.Path, status)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: canonical, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			MultiError:              true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Sprintf("%s %s answered %d, which breaks the contract: %v\nbody: %s", req.Method, req.URL.Path, status, err, body)
	}
	return ""
}

// Buffer is a log sink safe for the service's goroutines.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Clock is the service's clock, moved by the test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
	// real makes time flow between Advance calls, so durations are not all zero.
	started time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t, started: time.Now()} }

// Now is the service's time: the start plus the advances plus the real time elapsed.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Add(time.Since(c.started))
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ErrNoLink is returned when an email has no link with the wanted parameter.
var ErrNoLink = errors.New("no such link in the email")

// startInProcess runs the service in this process (app.Run on 127.0.0.1:0).
func startInProcess(t testing.TB, env *Env, cfg config.Config, log *slog.Logger, set settings) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	compiled, err := compiledContract()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, log, app.Options{PasswordParams: &cheapPasswords, Contract: compiled.app, Now: env.Clock.Now, WrapStore: set.wrapStore, Sleep: env.sleep})
	if err != nil {
		cancel()
		t.Fatalf("start the service: %v", err)
	}
	env.App, env.Store, env.flush = a, a.Store(), a.FlushEvents
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, func(addr net.Addr) { addrs <- addr }) }()
	select {
	case addr := <-addrs:
		env.URL = "http://" + addr.String()
	case err := <-done:
		cancel()
		t.Fatalf("the service stopped at start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("the service did not start within 10 s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the service stopped with %v", err)
		}
		_ = a.Close()
	})
}
