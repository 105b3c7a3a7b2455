// Package orchestrator holds the user workflows of the Users Orchestrator, one file per workflow:
// it routes each call to the tenant's identity provider and to the Subscribe registration store,
// records an event for every call it makes, and merges what they answer. It speaks plain Go
// (no HTTP, no generated types) and reports outcomes as the errors in errors.go.
package orchestrator

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/ratelimit"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/session"
	"usersorchestrator/internal/tenant"
)

// Hasher hashes and checks passwords.
type Hasher interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (bool, error)
	// VerifyDummy spends the time of a Verify, so unknown login names cannot be told by timing.
	VerifyDummy(password string)
}

// Sealer encrypts the values the API hands out and keys the hashes of one-time secrets.
type Sealer interface {
	Seal(purpose string, plaintext []byte) string
	Open(purpose, sealed string) ([]byte, error)
	MAC(purpose string, parts ...[]byte) []byte
}

// Sessions issues and checks the uo_session tokens of Authenticate.
type Sessions interface {
	Issue(t tenant.Key, customerRegistrationID string, days int, now time.Time) (string, time.Time, error)
	Parse(t tenant.Key, token string, now time.Time) (session.Session, error)
}

// EventRecorder records the events of calls that are not part of a change's transaction.
type EventRecorder interface {
	Record(ctx context.Context, e registration.Event)
	// Flush returns once the events recorded before it are stored.
	Flush(ctx context.Context) error
}

// Limits are the attempt limiters, each keyed by tenant and login name or email.
type Limits struct {
	Login            ratelimit.Limiter
	ForgotPassword   ratelimit.Limiter
	VerifyEmail      ratelimit.Limiter
	VerificationCode ratelimit.Limiter
}

// Deps are what the workflows need.
type Deps struct {
	Store    registration.Store
	Hasher   Hasher
	Sealer   Sealer
	Sessions Sessions
	Limits   Limits
	// NewPassword makes the dummy password of a passwordless provider user.
	NewPassword func() (string, error)
	// NewID makes the customerRegistrationId of a user without a provider.
	NewID func() string
	// Events records events off the request path (eventlog.Writer); nil writes them inline.
	Events EventRecorder
	// MailQueued is called after an email was queued, to wake the outbox worker (may be nil).
	MailQueued func()
	Now        func() time.Time
	Log        *slog.Logger
	// VerificationTTL and ForgotPasswordTTL bound the life of codes and reset links.
	VerificationTTL   time.Duration
	ForgotPasswordTTL time.Duration
	// MaxCodeAttempts is how many wrong codes kill a verification code.
	MaxCodeAttempts int
}

// Orchestrator runs the workflows.
type Orchestrator struct {
	Deps
}

// New checks deps and fills the defaults.
func New(d Deps) (*Orchestrator, error) {
	switch {
	case d.Store == nil, d.Hasher == nil, d.Sealer == nil, d.Sessions == nil, d.NewPassword == nil, d.NewID == nil:
		return nil, errors.New("orchestrator: store, hasher, sealer, sessions, NewPassword and NewID are required")
	case d.Limits.Login == nil, d.Limits.ForgotPassword == nil, d.Limits.VerifyEmail == nil, d.Limits.VerificationCode == nil:
		return nil, errors.New("orchestrator: every limiter is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.MailQueued == nil {
		d.MailQueued = func() {}
	}
	if d.Events == nil {
		d.Events = inlineEvents{store: d.Store, log: d.Log}
	}
	if d.VerificationTTL == 0 {
		d.VerificationTTL = 24 * time.Hour
	}
	if d.ForgotPasswordTTL == 0 {
		d.ForgotPasswordTTL = time.Hour
	}
	if d.MaxCodeAttempts == 0 {
		d.MaxCodeAttempts = 5
	}
	return &Orchestrator{Deps: d}, nil
}

// Call is who is calling, for which tenant.
type Call struct {
	Tenant *tenant.Tenant
	// SourceSystem is the X-SourceSystem header: recorded on events and as add/change source.
	SourceSystem string
	RequestID    string
}

// useProvider is the routing rule of Flow.UserProvider and IgnoreProvider.
func (c Call) useProvider(ignoreProvider bool) bool {
	return c.Tenant.HasProvider() && !ignoreProvider
}

func (c Call) provider() provider.AuthSystem { return c.Tenant.Provider }

// observe records one event: the call ev made, for which user, how long it took and how it ended.
// Events are written even when the request's context is canceled; a failure to write one is
// logged and does not fail the call (the user's change matters more than its audit row).
func (o *Orchestrator) observe(ctx context.Context, c Call, ev events.Type, crid string, start time.Time, err error) {
	o.Events.Record(ctx, o.event(c, ev, crid, start, err))
}

// inTx runs fn in one transaction of the store. The events queued before it are written first,
// so that event ids follow the order of the calls even though the events fn writes get theirs
// at its commit, ahead of the queue.
func (o *Orchestrator) inTx(ctx context.Context, fn func(tx registration.Store) error) error {
	if err := o.Events.Flush(ctx); err != nil {
		return err
	}
	return o.Store.InTx(ctx, fn)
}

// inlineEvents writes each event as it comes (the recorder when none is given).
type inlineEvents struct {
	store registration.Store
	log   *slog.Logger
}

func (r inlineEvents) Record(ctx context.Context, e registration.Event) {
	if _, err := r.store.RecordEvent(context.WithoutCancel(ctx), e); err != nil {
		r.log.ErrorContext(ctx, "recording an event failed", "event", e.TypeCode, "request_id", e.RequestID, "error", err)
	}
}

func (inlineEvents) Flush(context.Context) error { return nil }

// event builds the row observe writes; workflows that must write it inside a transaction use it
// directly.
func (o *Orchestrator) event(c Call, ev events.Type, crid string, start time.Time, err error) registration.Event {
	e := registration.Event{
		Tenant:                 c.Tenant.Key,
		CustomerRegistrationID: crid,
		TypeCode:               ev.Code,
		TypeID:                 ev.ID,
		SourceSystem:           c.SourceSystem,
		Outcome:                registration.OutcomeSuccess,
		DurationMs:             o.Now().Sub(start).Milliseconds(),
		OccurredAt:             start,
		RequestID:              c.RequestID,
	}
	if err != nil {
		e.Outcome = registration.OutcomeFailure
		e.Detail = detail(err)
	}
	return e
}

// detail says why a step failed without quoting anything a user sent.
func detail(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe.Error()
	}
	if isOutcome(err) {
		return err.Error()
	}
	var we *WorkflowError
	if errors.As(err, &we) {
		return string(we.Workflow) + " workflow failed"
	}
	return "internal error"
}

// fromProvider turns a provider failure into the workflow's outcome: unavailable providers
// answer E503 whatever the workflow, answers the adapter could not read are the workflow's E500.
// The kinds a workflow expects (not found, exists, ...) are handled by the workflow before this.
func fromProvider(w Workflow, err error) error {
	switch {
	case errors.Is(err, provider.ErrUnavailable):
		return errors.Join(ErrProviderUnavailable, err)
	default:
		return failed(w, err)
	}
}

// State is the registration status of the contract.
type State string

// The states.
const (
	StateStandard   State = "Standard"
	StateLite       State = "Lite"
	StateUnverified State = "Unverified"
)

// localState applies the MG2-auth rules: Unverified wins over Lite.
func localState(r registration.Registration) State {
	switch {
	case !r.Verified || r.Pending:
		return StateUnverified
	case r.PasswordHash == "":
		return StateLite
	default:
		return StateStandard
	}
}

// stateOf is the state shown: Standard for every user of a tenant with a provider.
func stateOf(t *tenant.Tenant, r registration.Registration) State {
	if t.HasProvider() {
		return StateStandard
	}
	return localState(r)
}

// User is a user as the API shows it.
type User struct {
	CustomerRegistrationID          string
	EncryptedCustomerRegistrationID string
	Email                           string
	Verified                        bool
	State                           State
	FirstName                       *string
	LastName                        *string
	LastLogoutDate                  *time.Time
	Metadata                        map[string]string
	AddDate                         time.Time
	AddSource                       string
	ChangeDate                      time.Time
	ChangeSource                    string
}

// UserRef is the pair of ids create and verification answer with.
type UserRef struct {
	CustomerRegistrationID          string
	EncryptedCustomerRegistrationID string
}

func (o *Orchestrator) userOf(c Call, r registration.Registration) User {
	md := r.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return User{
		CustomerRegistrationID:          r.CustomerRegistrationID,
		EncryptedCustomerRegistrationID: o.sealID(c, r.CustomerRegistrationID),
		Email:                           r.Email,
		Verified:                        r.Verified && !r.Pending,
		State:                           stateOf(c.Tenant, r),
		FirstName:                       r.FirstName,
		LastName:                        r.LastName,
		LastLogoutDate:                  r.LastLogoutDate,
		Metadata:                        md,
		AddDate:                         r.AddDate,
		AddSource:                       r.AddSource,
		ChangeDate:                      r.ChangeDate,
		ChangeSource:                    r.ChangeSource,
	}
}

func (o *Orchestrator) refOf(c Call, crid string) UserRef {
	return UserRef{CustomerRegistrationID: crid, EncryptedCustomerRegistrationID: o.sealID(c, crid)}
}

// Purposes of sealed values: a value sealed for one never opens as another.
const (
	purposeID             = "customerRegistrationId"
	purposeEmail          = "email"
	purposeForgotPassword = "forgotPassword"
	purposeVerifyCode     = "verificationCode"
)

// The tenant is sealed with the value, so an id encrypted for one newspaper is refused by another.
func (o *Orchestrator) seal(c Call, purpose, value string) string {
	return o.Sealer.Seal(purpose, []byte(c.Tenant.Key.String()+"\x00"+value))
}

func (o *Orchestrator) open(c Call, purpose, sealed string) (string, error) {
	plain, err := o.Sealer.Open(purpose, sealed)
	if err != nil {
		return "", ErrInvalidEncrypted
	}
	prefix := c.Tenant.Key.String() + "\x00"
	value, ok := strings.CutPrefix(string(plain), prefix)
	if !ok || value == "" {
		return "", ErrInvalidEncrypted
	}
	return value, nil
}

func (o *Orchestrator) sealID(c Call, crid string) string { return o.seal(c, purposeID, crid) }

// SealEmail encrypts an email address as the encryptedEmail selector expects it. The service
// hands these out in links it builds; tests and tools use it to make one.
func (o *Orchestrator) SealEmail(c Call, email string) string {
	return o.seal(c, purposeEmail, strings.ToLower(email))
}

// limited counts an attempt on lim for key; a refused attempt is a *TooManyAttemptsError.
func (o *Orchestrator) limited(ctx context.Context, lim ratelimit.Limiter, c Call, kind, key string) error {
	d, err := lim.Allow(ctx, kind+"|"+c.Tenant.Key.String()+"|"+strings.ToLower(key))
	if err != nil {
		// A broken limiter must not lock everybody out; log and let the attempt through.
		o.Log.ErrorContext(ctx, "rate limiter failed", "kind", kind, "error", err)
		return nil
	}
	if !d.Allowed {
		return &TooManyAttemptsError{RetryAfter: d.RetryAfter}
	}
	return nil
}

func (o *Orchestrator) resetLimit(ctx context.Context, lim ratelimit.Limiter, c Call, kind, key string) {
	if err := lim.Reset(ctx, kind+"|"+c.Tenant.Key.String()+"|"+strings.ToLower(key)); err != nil {
		o.Log.ErrorContext(ctx, "rate limiter reset failed", "kind", kind, "error", err)
	}
}

// returnURL applies the tenant's policy to a returnUrl from a request.
func returnURL(c Call, requested string) (string, error) {
	u, ok := c.Tenant.ReturnURL(requested)
	if !ok {
		return "", &InvalidInputError{Field: "body.returnUrl", Problem: "its host is not allowed for this tenant"}
	}
	return u, nil
}

func ptr[T any](v T) *T { return &v }
