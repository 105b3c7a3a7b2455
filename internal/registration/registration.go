// Package registration is the Subscribe registration store: subscriber registrations, one-time
// tokens (verification codes, forgot-password links), the events recorded for every call, the
// outbox of emails, and the attempt counters of the rate limits that instances share. Store is
// the interface; sqlite and postgres implement it, and storetest runs one suite of tests against
// both.
package registration

import (
	"context"
	"errors"
	"time"

	"usersorchestrator/internal/tenant"
)

// Registration is one subscriber's registration in Subscribe.
type Registration struct {
	Tenant tenant.Key
	// CustomerRegistrationID is the user's id: the provider's id, or a UUID made by the service.
	CustomerRegistrationID string
	// Email is kept as given; lookups and uniqueness ignore case.
	Email string
	// PasswordHash is the PHC-encoded hash; empty when the user has no password (Lite).
	PasswordHash string
	Verified     bool
	// Pending is true from a create with verifyEmail (or Send Verification Code) until Verify Email.
	Pending        bool
	FirstName      *string
	LastName       *string
	Metadata       map[string]string
	LastLogoutDate *time.Time
	// PasswordChangedAt is the last change of the password (update, reset, or seen on the
	// provider); sessions issued before it are no longer valid. nil: never changed.
	PasswordChangedAt *time.Time
	// AuthSystem is the provider the user was created in ("Auth0", ...), "" for Subscribe only.
	AuthSystem   string
	AddDate      time.Time
	AddSource    string
	ChangeDate   time.Time
	ChangeSource string
	// Version counts the changes; Update refuses a registration whose Version is stale.
	Version int64
}

// OrderField is a column a search may be sorted by.
type OrderField string

// The sortable fields, named as the contract's orderBy values.
const (
	OrderByID         OrderField = "customerRegistrationId"
	OrderByEmail      OrderField = "email"
	OrderByFirstName  OrderField = "firstName"
	OrderByLastName   OrderField = "lastName"
	OrderByAddDate    OrderField = "addDate"
	OrderByChangeDate OrderField = "changeDate"
)

// State is a registration's status as the contract shows it.
type State string

// The states: Unverified wins over Lite (no password), else Standard.
const (
	StateStandard   State = "Standard"
	StateLite       State = "Lite"
	StateUnverified State = "Unverified"
)

// Query is a search over one tenant's registrations. Empty fields do not filter.
type Query struct {
	CustomerRegistrationID string
	// Email matches exactly, ignoring case.
	Email string
	// FirstNamePrefix and LastNamePrefix match the start of the name, ignoring case.
	FirstNamePrefix string
	LastNamePrefix  string
	Verified        *bool
	HasPassword     *bool
	// State filters by the state the contract shows; "" does not filter.
	State State
	// ProviderAccounts makes registrations made in or copied from a provider (AuthSystem set)
	// Standard whatever their password and verified flag, which their provider keeps: the
	// rule of a tenant with a provider. Subscribe-only registrations follow the MG2-auth rules.
	ProviderAccounts bool
	OrderBy          OrderField
	Descending       bool
	// Limit and Offset page the result; Limit 0 means no limit.
	Limit  int
	Offset int
}

// Purpose says what a one-time token is for.
type Purpose string

// The token purposes.
const (
	PurposeVerifyEmail    Purpose = "verify-email"
	PurposeForgotPassword Purpose = "forgot-password"
)

// Token is a one-time secret: only its hash is stored. It is usable once, until it expires.
type Token struct {
	Tenant  tenant.Key
	Purpose Purpose
	// ID identifies the token within its tenant and purpose (chosen by the caller).
	ID                     string
	CustomerRegistrationID string
	SecretHash             []byte
	// EventID is the event that issued the token (the forgot-password start), 0 when none.
	EventID        int64
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         *time.Time
	FailedAttempts int
}

// Outcome of an event.
const (
	OutcomeSuccess = "Success"
	OutcomeFailure = "Failure"
)

// Event is one recorded call to the provider or to Subscribe.
type Event struct {
	ID     int64
	Tenant tenant.Key
	// CustomerRegistrationID is the user concerned, "" when none is known (a create that failed).
	CustomerRegistrationID string
	TypeCode               string
	TypeID                 int
	SourceSystem           string
	Outcome                string
	DurationMs             int64
	OccurredAt             time.Time
	RequestID              string
	// Detail says why a step failed (an error kind or message code); it never holds secrets.
	Detail string
}

// Email is a message in the outbox.
type Email struct {
	ID      int64
	Tenant  tenant.Key
	Kind    string
	From    string
	To      string
	Subject string
	// Body is the plain-text body. It may hold a secret link, so it is cleared once sent.
	Body          string
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	SentAt        *time.Time
	LastError     string
	// BodyExpiresAt is when the link or code in Body stops working (nil: it holds none). An
	// unsent email's body is blanked then (ScrubEmails).
	BodyExpiresAt *time.Time
}

// The store's errors.
var (
	ErrNotFound = errors.New("registration: not found")
	// ErrEmailTaken: another registration of the tenant has this email (ignoring case).
	ErrEmailTaken = errors.New("registration: email already registered")
	// ErrIDTaken: the tenant already has a registration with this customerRegistrationId.
	ErrIDTaken = errors.New("registration: customer registration id already exists")
	// ErrConflict: the registration changed since it was read (stale Version).
	ErrConflict = errors.New("registration: changed concurrently")
)

// Store is the registration store. Every method is safe for concurrent use; within InTx the
// calls share one transaction.
type Store interface {
	// Create inserts r with Version 1; ErrEmailTaken or ErrIDTaken when unique keys clash.
	Create(ctx context.Context, r Registration) error
	// Get returns the tenant's registration with this id, or ErrNotFound.
	Get(ctx context.Context, t tenant.Key, customerRegistrationID string) (Registration, error)
	// GetByEmail returns the tenant's registration with this email (ignoring case), or ErrNotFound.
	GetByEmail(ctx context.Context, t tenant.Key, email string) (Registration, error)
	// Search returns one page of matches and the number of all matches.
	Search(ctx context.Context, t tenant.Key, q Query) ([]Registration, int64, error)
	// Update stores r if r.Version is the stored version, and returns it with Version+1;
	// ErrConflict when stale, ErrNotFound when gone, ErrEmailTaken when the new email is taken.
	Update(ctx context.Context, r Registration) (Registration, error)
	// Delete removes the registration and its tokens; deleting a missing one is not an error.
	Delete(ctx context.Context, t tenant.Key, customerRegistrationID string) error

	// PutToken stores tok, replacing any token with the same tenant, purpose and ID.
	PutToken(ctx context.Context, tok Token) error
	// GetToken returns the token, used or not, or ErrNotFound.
	GetToken(ctx context.Context, t tenant.Key, p Purpose, id string) (Token, error)
	// UseToken marks the token used at `at` if it is unused and unexpired then; ErrNotFound
	// otherwise. Of concurrent calls for one token, exactly one succeeds.
	UseToken(ctx context.Context, t tenant.Key, p Purpose, id string, at time.Time) error
	// RevokeTokens marks every unused token of the user for purpose p used at `at` and returns
	// how many it ended (a password or email change ends the links issued before it).
	RevokeTokens(ctx context.Context, t tenant.Key, customerRegistrationID string, p Purpose, at time.Time) (int64, error)
	// RecordTokenFailure counts a wrong attempt and returns the count so far; ErrNotFound.
	RecordTokenFailure(ctx context.Context, t tenant.Key, p Purpose, id string) (int, error)

	// RecordEvent stores e and returns its ID.
	RecordEvent(ctx context.Context, e Event) (int64, error)
	// RecordEvents stores es in one statement, their IDs growing in es's order (the IDs are not
	// returned: the asynchronous event writer has no use for them).
	RecordEvents(ctx context.Context, es []Event) error
	// ListEvents returns one page of a user's events, newest first, and their total number.
	ListEvents(ctx context.Context, t tenant.Key, customerRegistrationID string, limit, offset int) ([]Event, int64, error)

	// EnqueueEmail adds e to the outbox, due at e.NextAttemptAt (now when zero), and returns its ID.
	EnqueueEmail(ctx context.Context, e Email) (int64, error)
	// DueEmails returns up to limit unsent emails due at `now`, oldest first. It only reads: every
	// caller gets the same rows. Delivery takes them with ClaimDueEmails instead.
	DueEmails(ctx context.Context, now time.Time, limit int) ([]Email, error)
	// ClaimDueEmails takes up to limit (0: all) unsent emails due at `now`, oldest first, for one
	// delivery attempt. In the same statement it moves their NextAttemptAt to now+lease, which is
	// what the returned emails carry: until then no other claim returns them, so instances sharing
	// the database never get the same email. The claimant records the outcome with MarkEmailSent
	// or MarkEmailFailed; an email whose claimant died is due again when the lease ends.
	ClaimDueEmails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Email, error)
	// MarkEmailSent records the delivery and clears the body.
	MarkEmailSent(ctx context.Context, id int64, at time.Time) error
	// MarkEmailFailed records a failed attempt and when to try again.
	MarkEmailFailed(ctx context.Context, id int64, next time.Time, lastError string) error
	// ScrubEmails blanks the body of unsent emails whose BodyExpiresAt is at or before now, and of
	// the emails ids names (given up on); it returns how many it blanked.
	ScrubEmails(ctx context.Context, now time.Time, ids ...int64) (int64, error)
	// OutboxBacklog counts the unsent emails.
	OutboxBacklog(ctx context.Context) (int64, error)

	// AllowAttempt counts one attempt against the token bucket stored under keyHash (a hash of the
	// limiter's key, never the key itself): burst attempts at most, one more every interval.
	// Taking a token is one atomic statement, so callers on any number of instances sharing the
	// database never together get more than the bucket holds; a bucket read as empty is refused
	// without a write. A refused attempt is not counted; retryAfter is then the exact wait until
	// one is allowed (zero when allowed).
	AllowAttempt(ctx context.Context, keyHash []byte, now time.Time, interval time.Duration, burst int) (allowed bool, retryAfter time.Duration, err error)
	// ResetAttempts forgets keyHash's bucket (a full one, the same as never seen).
	ResetAttempts(ctx context.Context, keyHash []byte) error
	// SweepAttempts deletes up to max buckets that are full again at `now`, which changes no
	// decision, and returns how many it deleted. It keeps the table as small as the keys in use.
	SweepAttempts(ctx context.Context, now time.Time, max int) (int64, error)

	// Retention (see README, "Retention"). Each Prune call deletes at most limit rows (limit >= 1)
	// in one short statement and returns how many it deleted; the pruner calls it again until it
	// deletes fewer. A call is idempotent, so instances that prune at once only share the work.

	// PruneEvents deletes events of the given type codes (at least one) that occurred before
	// `before`, oldest first.
	PruneEvents(ctx context.Context, typeCodes []string, before time.Time, limit int) (int64, error)
	// PruneTokens deletes tokens, used or not, that expired before `before`.
	PruneTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	// PruneSentEmails deletes emails sent before `before`.
	PruneSentEmails(ctx context.Context, before time.Time, limit int) (int64, error)
	// PruneAbandonedEmails deletes unsent emails whose body is blank (given up on, or whose
	// secret expired: there is nothing left to send) and that were created before `before`.
	PruneAbandonedEmails(ctx context.Context, before time.Time, limit int) (int64, error)

	// InTx runs fn in one transaction: all its writes land, or none.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Ping checks the database is reachable (readiness).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
