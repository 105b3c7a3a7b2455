// Package provider is the port to the identity providers (the "AuthSystem" of Naviga's events):
// the AuthSystem interface the orchestrator calls, the user as a provider holds it, and the
// provider-neutral errors every adapter maps its provider's answers to. One package per provider
// (auth0, gigya, ssor, firefly) implements it; none of them imports anything above this package.
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// User is a user as an identity provider holds it.
type User struct {
	// ID is the provider's id of the user; it is the customerRegistrationId.
	ID            string
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	// Metadata are the user's custom fields as the provider keeps them (Auth0 user_metadata,
	// Gigya data, SSOR/Firefly metadata).
	Metadata  map[string]string
	Blocked   bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// PasswordChangedAt is the provider's record of the last password change (Auth0
	// last_password_reset); zero when the provider does not say. A change made at the provider
	// directly ends the sessions this service issued before it.
	PasswordChangedAt time.Time
}

// NewUser is what Create sends.
type NewUser struct {
	Email         string
	Password      string
	FirstName     string
	LastName      string
	Metadata      map[string]string
	EmailVerified bool
}

// Update changes only the fields that are not nil. Metadata is merged key by key; a nil value
// removes the key.
type Update struct {
	FirstName     *string
	LastName      *string
	Metadata      map[string]*string
	EmailVerified *bool
}

// Query is a search: every non-empty field must match.
type Query struct {
	Email     string
	FirstName string
	LastName  string
	Limit     int
}

// Token is a token the provider issued at login, passed on to the consumer in cookieTokens.
type Token struct {
	Name      string
	Content   string
	ExpiresIn time.Duration
}

// Session is the outcome of a successful login.
type Session struct {
	UserID string
	Tokens []Token
}

// AuthSystem is one tenant's identity provider. Every method honours ctx and the adapter's own
// timeout; none logs passwords, tokens or secrets.
type AuthSystem interface {
	// Name is the Flow.UserProvider value: "Auth0", "Gigya", "SSOR" or "Firefly".
	Name() string
	// GetUser returns the user with this id, or ErrNotFound.
	GetUser(ctx context.Context, id string) (User, error)
	// FindByEmail returns the user with this email address, or ErrNotFound.
	FindByEmail(ctx context.Context, email string) (User, error)
	// Search returns the users matching q (possibly none).
	Search(ctx context.Context, q Query) ([]User, error)
	// Create makes a user; ErrUserExists when the email is taken, ErrRejected when the provider
	// refuses the input (password policy, bad request).
	Create(ctx context.Context, u NewUser) (User, error)
	// Update changes the user; ErrNotFound, ErrRejected.
	Update(ctx context.Context, id string, u Update) (User, error)
	// Delete removes the user; used to undo a Create whose Subscribe step failed. Deleting a user
	// that does not exist is not an error.
	Delete(ctx context.Context, id string) error
	// Login checks a login name and password; ErrInvalidCredentials when they do not match,
	// ErrNotVerified / ErrBlocked when the provider refuses that user.
	Login(ctx context.Context, loginName, password string) (Session, error)
	// UserForToken resolves an access token the provider issued to its user; ErrInvalidToken.
	UserForToken(ctx context.Context, token string) (User, error)
	// ChangePassword sets a new password; ErrNotFound, ErrRejected (password policy).
	ChangePassword(ctx context.Context, id, password string) error
	// ChangeEmail sets a new email address; ErrNotFound, ErrUserExists (taken).
	ChangeEmail(ctx context.Context, id, email string) (User, error)
	// PasswordChangeURL asks the provider for a link that lets the user choose a password (Auth0
	// password-change ticket), leading back to returnURL afterwards.
	PasswordChangeURL(ctx context.Context, id, returnURL string) (string, error)
}

// The provider-neutral outcomes. Adapters return them wrapped in *Error; callers test with errors.Is.
var (
	ErrNotFound           = errors.New("user not found")
	ErrUserExists         = errors.New("user already exists")
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrInvalidToken       = errors.New("invalid or expired token")
	ErrNotVerified        = errors.New("email not verified")
	ErrBlocked            = errors.New("user blocked")
	// ErrRejected: the provider refused the request's content (password policy, invalid field).
	ErrRejected = errors.New("rejected by the provider")
	// ErrUnavailable: the provider did not answer in time, kept failing (5xx, 429), or the
	// connection broke. Nothing can be concluded about the call's effect.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrProtocol: the provider answered something the adapter cannot understand.
	ErrProtocol = errors.New("unexpected answer from the provider")
)

// Error is an adapter's error: which provider, which call, which outcome.
type Error struct {
	Provider string
	Op       string
	// Kind is one of the Err* values above.
	Kind error
	// Status is the provider's HTTP status, 0 when there was no answer.
	Status int
	// Detail is the provider's own error code or message; it never holds secrets.
	Detail string
	// RetryAfter is how long the provider asked to be left alone (Retry-After, or Auth0's
	// X-RateLimit-Reset) when that outlasted what the adapter may wait; zero when unknown.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Provider, e.Op, e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error.
func Errorf(providerName, op string, kind error, status int, format string, args ...any) error {
	return &Error{Provider: providerName, Op: op, Kind: kind, Status: status, Detail: fmt.Sprintf(format, args...)}
}
