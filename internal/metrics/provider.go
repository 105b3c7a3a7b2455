package metrics

import (
	"context"
	"errors"
	"strings"
	"time"

	"usersorchestrator/internal/provider"
)

// outcomes label a provider error by its kind (provider.Err*), the provider-neutral outcome every
// adapter maps its provider's answers to.
var outcomes = []struct {
	kind  error
	label string
}{
	{provider.ErrNotFound, "not_found"},
	{provider.ErrUserExists, "user_exists"},
	{provider.ErrInvalidCredentials, "invalid_credentials"},
	{provider.ErrInvalidToken, "invalid_token"},
	{provider.ErrNotVerified, "not_verified"},
	{provider.ErrBlocked, "blocked"},
	{provider.ErrRejected, "rejected"},
	{provider.ErrUnavailable, "unavailable"},
	{provider.ErrProtocol, "protocol"},
}

// Outcome is the outcome label of a provider call that returned err: "success", the error's kind,
// or "other" for an error of no known kind (an adapter bug, worth a look when it shows).
func Outcome(err error) string {
	if err == nil {
		return "success"
	}
	for _, o := range outcomes {
		if errors.Is(err, o.kind) {
			return o.label
		}
	}
	return "other"
}

// Provider wraps a tenant's identity provider adapter so that every call is counted by outcome and
// timed; nil (a tenant without a provider) stays nil. The wrapper changes nothing else: the
// results and errors are the adapter's own.
func (m *Metrics) Provider(p provider.AuthSystem) provider.AuthSystem {
	if p == nil {
		return nil
	}
	return &instrumented{next: p, name: strings.ToLower(p.Name()), m: m}
}

// instrumented is an AuthSystem that measures the one it wraps.
type instrumented struct {
	next provider.AuthSystem
	// name is the provider label: Flow.UserProvider in lower case ("auth0", "gigya", ...).
	name string
	m    *Metrics
}

var _ provider.AuthSystem = (*instrumented)(nil)

// observe records one call; deferred with the start time and the address of the call's error.
func (p *instrumented) observe(call string, start time.Time, err *error) {
	p.m.providerDuration.WithLabelValues(p.name, call).Observe(time.Since(start).Seconds())
	p.m.providerCalls.WithLabelValues(p.name, call, Outcome(*err)).Inc()
}

func (p *instrumented) Name() string { return p.next.Name() }

func (p *instrumented) GetUser(ctx context.Context, id string) (_ provider.User, err error) {
	defer p.observe("GetUser", time.Now(), &err)
	return p.next.GetUser(ctx, id)
}

func (p *instrumented) FindByEmail(ctx context.Context, email string) (_ provider.User, err error) {
	defer p.observe("FindByEmail", time.Now(), &err)
	return p.next.FindByEmail(ctx, email)
}

func (p *instrumented) Search(ctx context.Context, q provider.Query) (_ []provider.User, err error) {
	defer p.observe("Search", time.Now(), &err)
	return p.next.Search(ctx, q)
}

func (p *instrumented) Create(ctx context.Context, u provider.NewUser) (_ provider.User, err error) {
	defer p.observe("Create", time.Now(), &err)
	return p.next.Create(ctx, u)
}

func (p *instrumented) Update(ctx context.Context, id string, u provider.Update) (_ provider.User, err error) {
	defer p.observe("Update", time.Now(), &err)
	return p.next.Update(ctx, id, u)
}

func (p *instrumented) Delete(ctx context.Context, id string) (err error) {
	defer p.observe("Delete", time.Now(), &err)
	return p.next.Delete(ctx, id)
}

func (p *instrumented) Login(ctx context.Context, loginName, password string) (_ provider.Session, err error) {
	defer p.observe("Login", time.Now(), &err)
	return p.next.Login(ctx, loginName, password)
}

func (p *instrumented) UserForToken(ctx context.Context, token string) (_ provider.User, err error) {
	defer p.observe("UserForToken", time.Now(), &err)
	return p.next.UserForToken(ctx, token)
}

func (p *instrumented) ChangePassword(ctx context.Context, id, password string) (err error) {
	defer p.observe("ChangePassword", time.Now(), &err)
	return p.next.ChangePassword(ctx, id, password)
}

func (p *instrumented) ChangeEmail(ctx context.Context, id, email string) (_ provider.User, err error) {
	defer p.observe("ChangeEmail", time.Now(), &err)
	return p.next.ChangeEmail(ctx, id, email)
}

func (p *instrumented) PasswordChangeURL(ctx context.Context, id, returnURL string) (_ string, err error) {
	defer p.observe("PasswordChangeURL", time.Now(), &err)
	return p.next.PasswordChangeURL(ctx, id, returnURL)
}
