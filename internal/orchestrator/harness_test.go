package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"usersorchestrator/internal/password"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
	"usersorchestrator/internal/ratelimit"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/secrets"
	"usersorchestrator/internal/session"
	"usersorchestrator/internal/tenant"
	"usersorchestrator/internal/testkit/fakeclock"
)

// The workflows' tests run against the real SQLite store (a file in t.TempDir, milliseconds to
// open) and the in-memory provider, so they cover the rules the e2e suite proves on the wire in a
// fraction of its time. Every test gets two tenants: one with a provider, one without.

var (
	provKey  = tenant.Key{ClientCode: "news", PaperCode: "daily", ClientGroupCode: "web"}
	localKey = tenant.Key{ClientCode: "news", PaperCode: "local", ClientGroupCode: "web"}
	t0       = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
)

const (
	pw      = "correct-horse-1"
	otherPW = "battery-staple-2"
)

type providerMap map[tenant.Key]provider.AuthSystem

func (m providerMap) Provider(k tenant.Key) provider.AuthSystem { return m[k] }

type fixture struct {
	t     *testing.T
	ctx   context.Context
	o     *Orchestrator
	store *faultyStore
	prov  *providertest.Fake
	clock *fakeclock.Clock
	// pc calls as the provider tenant, lc as the tenant without one.
	pc, lc Call
	ids    int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "uo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	sealer, err := secrets.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.NewIssuer(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, prov: providertest.New("Auth0"), clock: fakeclock.New(t0)}
	f.store = &faultyStore{Store: db, shared: &faults{}}
	limit := func() ratelimit.Limiter { return ratelimit.NewMemory(3, time.Hour, f.clock.Now) }
	f.o, err = New(Deps{
		Store:     f.store,
		Providers: providerMap{provKey: f.prov},
		// The cheapest argon2id the hasher accepts: these tests are about routing, not hashing.
		Hasher:   password.NewHasher(password.Params{Memory: 8, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 16}),
		Sealer:   sealer,
		Sessions: sessions,
		Limits: Limits{
			Login: limit(), ForgotPassword: limit(), VerifyEmail: limit(), VerificationCode: limit(),
		},
		NewPassword: func() (string, error) { return "generated-password-123", nil },
		NewID: func() string {
			f.ids++
			return fmt.Sprintf("local-%02d", f.ids)
		},
		Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.pc = Call{Tenant: &tenant.Tenant{Key: provKey, Name: "The Daily", ProviderName: "Auth0",
		DefaultReturnURL: "https://daily.example/account", SessionDays: 30}, SourceSystem: "test", RequestID: "req-1"}
	f.lc = Call{Tenant: &tenant.Tenant{Key: localKey, Name: "The Local",
		DefaultReturnURL: "https://local.example/account", SessionDays: 30}, SourceSystem: "test", RequestID: "req-2"}
	return f
}

// reg is the stored registration, failing the test when there is none.
func (f *fixture) reg(k tenant.Key, crid string) registration.Registration {
	f.t.Helper()
	r, err := f.store.Store.Get(f.ctx, k, crid)
	if err != nil {
		f.t.Fatalf("registration %s: %v", crid, err)
	}
	return r
}

// hasReg tells whether the registration exists.
func (f *fixture) hasReg(k tenant.Key, crid string) bool {
	_, err := f.store.Store.Get(f.ctx, k, crid)
	return err == nil
}

// events are the recorded events as "CODE Outcome", oldest first, and forgets them.
func (f *fixture) events() []string {
	f.store.shared.mu.Lock()
	defer f.store.shared.mu.Unlock()
	out := make([]string, 0, len(f.store.shared.events))
	for _, e := range f.store.shared.events {
		out = append(out, e.TypeCode+" "+e.Outcome)
	}
	f.store.shared.events = nil
	return out
}

// expectEvents asserts the events recorded since the last check, and forgets them.
func (f *fixture) expectEvents(want ...string) {
	f.t.Helper()
	if got := f.events(); !slices.Equal(got, want) {
		f.t.Errorf("events\n got  %q\n want %q", got, want)
	}
}

// expectCalls asserts the provider calls made since the last check, and forgets them.
func (f *fixture) expectCalls(want ...providertest.Op) {
	f.t.Helper()
	if got := f.prov.Ops(); !slices.Equal(got, want) {
		f.t.Errorf("provider calls\n got  %q\n want %q", f.prov.Journal(), want)
	}
	f.prov.ClearJournal()
}

// mails are the queued emails to the address, oldest first.
func (f *fixture) mails(to string) []registration.Email {
	f.t.Helper()
	due, err := f.store.Store.DueEmails(f.ctx, t0.Add(1000*time.Hour), 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []registration.Email
	for _, e := range due {
		if strings.EqualFold(e.To, to) {
			out = append(out, e)
		}
	}
	return out
}

// settle forgets the events and provider calls of the arrangement.
func (f *fixture) settle() {
	f.events()
	f.prov.ClearJournal()
}

// providerUser puts a verified user with a password into the provider only.
func (f *fixture) providerUser(email string) provider.User {
	return f.prov.Add(provider.User{Email: email, EmailVerified: true, FirstName: "Jane", LastName: "Doe",
		Metadata: map[string]string{"plan": "gold"}}, pw)
}

// linkedUser is a user created through the provider tenant (in both systems).
func (f *fixture) linkedUser(email string) string {
	f.t.Helper()
	ref, err := f.o.Create(f.ctx, f.pc, CreateInput{Email: email, Password: pw, FirstName: ptr("Jane")})
	if err != nil {
		f.t.Fatal(err)
	}
	f.settle()
	return ref.CustomerRegistrationID
}

// localUser is a user created in the tenant without provider, verified and with a password.
func (f *fixture) localUser(c Call, email string, ignoreProvider bool) string {
	f.t.Helper()
	ref, err := f.o.Create(f.ctx, c, CreateInput{Email: email, Password: pw, IgnoreProvider: ignoreProvider})
	if err != nil {
		f.t.Fatal(err)
	}
	f.settle()
	return ref.CustomerRegistrationID
}

// faults are the store failures a test injects, by method name, shared by a store and its
// transactions; and the events committed, in order.
type faults struct {
	mu     sync.Mutex
	fail   map[string]error
	queue  map[string][]error
	events []registration.Event
}

func (fs *faults) take(method string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if q := fs.queue[method]; len(q) > 0 {
		fs.queue[method] = q[1:]
		return q[0]
	}
	return fs.fail[method]
}

// faultyStore is the SQLite store with failures injected per method and the committed events
// kept in memory in their order.
type faultyStore struct {
	registration.Store
	shared *faults
	// pending holds a transaction's events until it commits.
	pending *[]registration.Event
	// tokenOverride is answered once by GetToken instead of the stored token (a read that a
	// concurrent call overtakes).
	tokenOverride *registration.Token
}

// failAlways makes every call of method fail with err.
func (s *faultyStore) failAlways(method string, err error) {
	s.shared.mu.Lock()
	defer s.shared.mu.Unlock()
	if s.shared.fail == nil {
		s.shared.fail = map[string]error{}
	}
	s.shared.fail[method] = err
}

// failOnce makes the next call of method fail with err; calls queue: a nil err lets one call
// through, so failOnce(m, nil); failOnce(m, err) fails the second call.
func (s *faultyStore) failOnce(method string, err error) {
	s.shared.mu.Lock()
	defer s.shared.mu.Unlock()
	if s.shared.queue == nil {
		s.shared.queue = map[string][]error{}
	}
	s.shared.queue[method] = append(s.shared.queue[method], err)
}

var errDisk = errors.New("disk on fire")

func (s *faultyStore) Create(ctx context.Context, r registration.Registration) error {
	if err := s.shared.take("Create"); err != nil {
		return err
	}
	return s.Store.Create(ctx, r)
}

func (s *faultyStore) Get(ctx context.Context, t tenant.Key, id string) (registration.Registration, error) {
	if err := s.shared.take("Get"); err != nil {
		return registration.Registration{}, err
	}
	return s.Store.Get(ctx, t, id)
}

func (s *faultyStore) GetByEmail(ctx context.Context, t tenant.Key, email string) (registration.Registration, error) {
	if err := s.shared.take("GetByEmail"); err != nil {
		return registration.Registration{}, err
	}
	return s.Store.GetByEmail(ctx, t, email)
}

func (s *faultyStore) Search(ctx context.Context, t tenant.Key, q registration.Query) ([]registration.Registration, int64, error) {
	if err := s.shared.take("Search"); err != nil {
		return nil, 0, err
	}
	return s.Store.Search(ctx, t, q)
}

func (s *faultyStore) Update(ctx context.Context, r registration.Registration) (registration.Registration, error) {
	if err := s.shared.take("Update"); err != nil {
		return registration.Registration{}, err
	}
	return s.Store.Update(ctx, r)
}

func (s *faultyStore) GetToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (registration.Token, error) {
	if err := s.shared.take("GetToken"); err != nil {
		return registration.Token{}, err
	}
	if tok := s.tokenOverride; tok != nil {
		s.tokenOverride = nil
		return *tok, nil
	}
	return s.Store.GetToken(ctx, t, p, id)
}

func (s *faultyStore) PutToken(ctx context.Context, tok registration.Token) error {
	if err := s.shared.take("PutToken"); err != nil {
		return err
	}
	return s.Store.PutToken(ctx, tok)
}

func (s *faultyStore) RecordTokenFailure(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (int, error) {
	if err := s.shared.take("RecordTokenFailure"); err != nil {
		return 0, err
	}
	return s.Store.RecordTokenFailure(ctx, t, p, id)
}

func (s *faultyStore) EnqueueEmail(ctx context.Context, e registration.Email) (int64, error) {
	if err := s.shared.take("EnqueueEmail"); err != nil {
		return 0, err
	}
	return s.Store.EnqueueEmail(ctx, e)
}

func (s *faultyStore) ListEvents(ctx context.Context, t tenant.Key, crid string, limit, offset int) ([]registration.Event, int64, error) {
	if err := s.shared.take("ListEvents"); err != nil {
		return nil, 0, err
	}
	return s.Store.ListEvents(ctx, t, crid, limit, offset)
}

func (s *faultyStore) RecordEvent(ctx context.Context, e registration.Event) (int64, error) {
	if err := s.shared.take("RecordEvent"); err != nil {
		return 0, err
	}
	id, err := s.Store.RecordEvent(ctx, e)
	if err == nil {
		if s.pending != nil {
			*s.pending = append(*s.pending, e)
		} else {
			s.shared.mu.Lock()
			s.shared.events = append(s.shared.events, e)
			s.shared.mu.Unlock()
		}
	}
	return id, err
}

func (s *faultyStore) InTx(ctx context.Context, fn func(tx registration.Store) error) error {
	if err := s.shared.take("InTx"); err != nil {
		return err
	}
	var pending []registration.Event
	err := s.Store.InTx(ctx, func(tx registration.Store) error {
		return fn(&faultyStore{Store: tx, shared: s.shared, pending: &pending})
	})
	if err == nil {
		s.shared.mu.Lock()
		s.shared.events = append(s.shared.events, pending...)
		s.shared.mu.Unlock()
	}
	return err
}

// outcome names an error for test tables: the outcome it is, or its workflow for an E500.
func outcome(err error) string {
	var we *WorkflowError
	var ii *InvalidInputError
	var tm *TooManyAttemptsError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ii):
		return "invalid input " + ii.Field
	case errors.As(err, &tm):
		return "too many attempts"
	case errors.As(err, &we):
		return "failed " + string(we.Workflow)
	}
	for _, o := range Outcomes() {
		if errors.Is(err, o) {
			return o.Error()
		}
	}
	return "unexpected: " + err.Error()
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// must fails the test on an arrangement's error.
func (f *fixture) must(_ any, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}
