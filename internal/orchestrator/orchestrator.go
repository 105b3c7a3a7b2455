// Package orchestrator holds the user workflows of the Users Orchestrator, one file per workflow:
// it routes each call to the tenant's identity provider and to the Subscribe registration store,
// records an event for every call it makes, and merges what they answer. It speaks plain Go
// (no HTTP, no generated types) and reports outcomes as the errors in errors.go.
//
// Beside the workflows: routing.go answers where a call goes (three rules), store.go declares the
// ports it is given (Store, Providers), events.go times and records each call, state.go and
// view.go say how a user is shown, seal.go and tokens.go make the values it hands out.
package orchestrator

import (
	"context"
	"errors"
	"log/slog"
	"time"

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

// Deps are what the workflows need.
type Deps struct {
	Store Store
	// Providers gives each tenant its identity provider (nil: no tenant has one).
	Providers Providers
	Hasher    Hasher
	Sealer    Sealer
	Sessions  Sessions
	Limits    Limits
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
