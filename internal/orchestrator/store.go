package orchestrator

import (
	"context"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// Store is what the workflows need of the Subscribe registration store, declared here so the
// workflows depend on no more than they use; registration.Store satisfies it. The outbox worker,
// the rate limits and the readiness probe use the rest of registration.Store.
type Store interface {
	Create(ctx context.Context, r registration.Registration) error
	Get(ctx context.Context, t tenant.Key, customerRegistrationID string) (registration.Registration, error)
	GetByEmail(ctx context.Context, t tenant.Key, email string) (registration.Registration, error)
	Search(ctx context.Context, t tenant.Key, q registration.Query) ([]registration.Registration, int64, error)
	Update(ctx context.Context, r registration.Registration) (registration.Registration, error)

	PutToken(ctx context.Context, tok registration.Token) error
	GetToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (registration.Token, error)
	UseToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string, at time.Time) error
	RecordTokenFailure(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (int, error)
	RevokeTokens(ctx context.Context, t tenant.Key, customerRegistrationID string, p registration.Purpose, at time.Time) (int64, error)

	RecordEvent(ctx context.Context, e registration.Event) (int64, error)
	ListEvents(ctx context.Context, t tenant.Key, customerRegistrationID string, limit, offset int) ([]registration.Event, int64, error)
	EnqueueEmail(ctx context.Context, e registration.Email) (int64, error)

	// InTx runs fn in one transaction: all its writes land, or none. (Its signature is the
	// registration store's, so that store satisfies Store as it is.)
	InTx(ctx context.Context, fn func(tx registration.Store) error) error
}

var _ Store = registration.Store(nil)

// Providers finds a tenant's identity provider. The wiring decides which adapter serves which
// tenant; the tenant itself only names it (tenant.Tenant.ProviderName).
type Providers interface {
	// Provider is the adapter of the tenant's Flow.UserProvider; nil when the tenant has none.
	Provider(t tenant.Key) provider.AuthSystem
}
