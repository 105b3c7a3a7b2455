package orchestrator

import (
	"context"
	"errors"
	"math"
	"time"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// AuthenticateInput is either LoginName and Password, or Token.
type AuthenticateInput struct {
	LoginName      string
	Password       string
	Token          string
	IgnoreProvider bool
}

// CookieToken is a token for the consumer to keep.
type CookieToken struct {
	Name         string
	Content      string
	DurationDays int
}

// Authentication is a successful Authenticate.
type Authentication struct {
	User         User
	CookieTokens []CookieToken
}

// SessionCookieName is the name of the orchestrator's own session token.
const SessionCookieName = "uo_session"

const loginLimit = "login"

// Authenticate is POST /v4/Users/Authentication.
func (o *Orchestrator) Authenticate(ctx context.Context, c Call, in AuthenticateInput) (Authentication, error) {
	in.LoginName = loginName(in.LoginName)
	var (
		f      found
		tokens []CookieToken
		err    error
	)
	if in.Token != "" {
		// Authenticate By Token records the reads as Authenticate does (4601 GETBYID, 4001) and
		// its login, like a password login.
		start := o.Now()
		f, err = o.userForToken(ctx, c, in.Token, o.askProvider(c, in.IgnoreProvider), readByID, WorkflowAuthentication)
		o.observe(ctx, c, events.SubscribeLogin, f.reg.CustomerRegistrationID, start, err)
		if err != nil {
			return Authentication{}, err
		}
	} else {
		if err := o.callerStopped(c); err != nil {
			return Authentication{}, err
		}
		// The name's budget is the caller's own: another caller cannot spend it (spraying.go).
		nameKey := c.Caller + "|" + in.LoginName
		if err := o.limited(ctx, o.Limits.Login, c, loginLimit, nameKey); err != nil {
			return Authentication{}, err
		}
		start := o.Now()
		f, tokens, err = o.checkPassword(ctx, c, in)
		o.observe(ctx, c, events.SubscribeLogin, f.reg.CustomerRegistrationID, start, err)
		if errors.Is(err, ErrInvalidCredentials) {
			o.loginFailed(ctx, c)
		}
		if err != nil {
			return Authentication{}, err
		}
		o.resetLimit(ctx, o.Limits.Login, c, loginLimit, nameKey)
	}
	days := max(c.Tenant.SessionDays, 1)
	token, _, err := o.Sessions.Issue(c.Tenant.Key, f.reg.CustomerRegistrationID, days, o.Now())
	if err != nil {
		return Authentication{}, failed(WorkflowAuthentication, err)
	}
	return Authentication{
		User:         o.userOf(c, f.reg),
		CookieTokens: append([]CookieToken{{Name: SessionCookieName, Content: token, DurationDays: days}}, tokens...),
	}, nil
}

// checkPassword authenticates where the user lives: the provider for a user it holds, Subscribe
// for a Subscribe-only user (no provider, ignoreProvider, or created with ignoreProvider).
func (o *Orchestrator) checkPassword(ctx context.Context, c Call, in AuthenticateInput) (found, []CookieToken, error) {
	reg, err := timed(ctx, o, c, step{ev: events.SubscribeGetByID, notFoundIsAnswer: true}, func() (registration.Registration, error) {
		return o.Store.GetByEmail(ctx, c.Tenant.Key, in.LoginName)
	})
	known := err == nil
	if err != nil && !errors.Is(err, registration.ErrNotFound) {
		return found{}, nil, failed(WorkflowGetByID, err)
	}
	// The provider is asked for users whose password it holds, and for users Subscribe does not
	// know (it may hold users not yet copied in).
	if !o.askProvider(c, in.IgnoreProvider) || known && !o.passwordInProvider(c, reg) {
		if !known {
			o.Hasher.VerifyDummy(in.Password)
			return found{}, nil, ErrInvalidCredentials
		}
		return o.checkLocalPassword(c, reg, in.Password)
	}
	f, tokens, err := o.providerLogin(ctx, c, in)
	if err != nil && f.reg.CustomerRegistrationID == "" && known {
		// The provider refused the login of a user Subscribe knows: record it against that user.
		f.reg = reg
	}
	return f, tokens, err
}

// checkLocalPassword applies the MG2-auth rules: Unverified and Lite users cannot log in.
func (o *Orchestrator) checkLocalPassword(c Call, reg registration.Registration, password string) (found, []CookieToken, error) {
	switch localState(reg) {
	case StateUnverified:
		return found{reg: reg}, nil, ErrNotVerified
	case StateLite:
		return found{reg: reg}, nil, ErrNoPassword
	}
	ok, err := o.Hasher.Verify(password, reg.PasswordHash)
	if err != nil {
		return found{reg: reg}, nil, failed(WorkflowAuthentication, err)
	}
	if !ok {
		return found{reg: reg}, nil, ErrInvalidCredentials
	}
	return found{reg: reg}, nil, nil
}

// providerLogin logs in at the provider, then reads the user there and in Subscribe and brings
// Subscribe in step (AUTHSYSTEM_USER_LOGIN, AUTHSYSTEM_USER_GETBYID, SUBSCRIBE_USER_GETBYID,
// SUBSCRIBE_USER_UPDATE, as published).
func (o *Orchestrator) providerLogin(ctx context.Context, c Call, in AuthenticateInput) (found, []CookieToken, error) {
	s, err := timed(ctx, o, c, step{ev: events.AuthSystemLogin}, func() (provider.Session, error) {
		return o.provider(c).Login(ctx, in.LoginName, in.Password)
	})
	switch {
	case errors.Is(err, provider.ErrInvalidCredentials), errors.Is(err, provider.ErrBlocked), errors.Is(err, provider.ErrNotFound):
		// A blocked user is told no more than a wrong password would tell.
		return found{}, nil, ErrInvalidCredentials
	case errors.Is(err, provider.ErrNotVerified):
		return found{}, nil, ErrNotVerified
	case errors.Is(err, provider.ErrRejected):
		// The provider refused this login's content (its password policy, a second factor it
		// requires): the caller's request, not a failure of the service.
		return found{}, nil, errors.Join(ErrRejected, err)
	case err != nil:
		return found{}, nil, fromProvider(WorkflowAuthentication, err)
	}
	f, err := o.readUser(ctx, c, s.UserID, true, readByID, WorkflowGetByID)
	if err != nil {
		return found{}, nil, err
	}
	if f.reg.Pending {
		// Created with verifyEmail: not a registration until Verify Email, whatever the provider allows.
		return f, nil, ErrNotVerified
	}
	tokens := make([]CookieToken, 0, len(s.Tokens))
	for _, t := range s.Tokens {
		tokens = append(tokens, CookieToken{Name: t.Name, Content: t.Content, DurationDays: daysOf(t.ExpiresIn)})
	}
	return f, tokens, nil
}

// daysOf rounds a token's life up to whole days, as cookieTokens count in days.
func daysOf(d time.Duration) int {
	if d <= 0 {
		return 1
	}
	return int(math.Ceil(d.Hours() / 24))
}

func ignoreRegNotFound(err error) error {
	if errors.Is(err, registration.ErrNotFound) {
		return nil
	}
	return err
}
