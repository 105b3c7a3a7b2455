package orchestrator

import (
	"time"

	"testing"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
)

func TestAuthenticate(t *testing.T) {
	const email = "jane@example.com"
	login := func(password string) AuthenticateInput {
		return AuthenticateInput{LoginName: email, Password: password}
	}
	const (
		evSubLogin  = "SUBSCRIBE_USER_LOGIN Success"
		evSubLoginX = "SUBSCRIBE_USER_LOGIN Failure"
		evAuthLogin = "AUTHSYSTEM_USER_LOGIN Success"
	)
	tests := []struct {
		name   string
		local  bool
		setup  func(f *fixture) string // the id the login should find
		in     AuthenticateInput
		want   string
		calls  ops
		events evs
		tokens []string
	}{
		{name: "linked user: the provider checks the password",
			setup: func(f *fixture) string { return f.linkedUser(email) }, in: login(pw), want: "ok",
			calls:  ops{providertest.OpLogin, providertest.OpGetUser},
			events: evs{evSubGetByID, evAuthLogin, evAuthGetByID, evSubGetByID, evSubLogin},
			tokens: []string{SessionCookieName, providertest.TokenName}},
		{name: "linked user, wrong password",
			setup: func(f *fixture) string { f.linkedUser(email); return "" }, in: login(otherPW), want: ErrInvalidCredentials.Error(),
			calls: ops{providertest.OpLogin}, events: evs{evSubGetByID, "AUTHSYSTEM_USER_LOGIN Failure", evSubLoginX}},
		{name: "blocked at the provider: told no more than a wrong password",
			setup: func(f *fixture) string { f.prov.Block(f.linkedUser(email), true); return "" }, in: login(pw),
			want: ErrInvalidCredentials.Error(), calls: ops{providertest.OpLogin}, events: evs{evSubGetByID, "AUTHSYSTEM_USER_LOGIN Failure", evSubLoginX}},
		{name: "the provider refuses an unverified user",
			setup: func(f *fixture) string {
				f.linkedUser(email)
				f.prov.RequireVerified(true)
				f.prov.Fail(providertest.OpLogin, provider.ErrNotVerified)
				return ""
			},
			in: login(pw), want: ErrNotVerified.Error(), calls: ops{providertest.OpLogin}, events: evs{evSubGetByID, "AUTHSYSTEM_USER_LOGIN Failure", evSubLoginX}},
		// Auth0's password policy at login ({"code":"invalid_password",...}), an MFA it requires:
		// the provider refused the request's content, which is the caller's E400, not an E500.
		{name: "the provider refuses the login itself (its password policy)",
			setup: func(f *fixture) string {
				f.linkedUser(email)
				f.prov.Fail(providertest.OpLogin, provider.ErrRejected)
				return ""
			},
			in: login(pw), want: ErrRejected.Error(), calls: ops{providertest.OpLogin}, events: evs{evSubGetByID, "AUTHSYSTEM_USER_LOGIN Failure", evSubLoginX}},
		{name: "pending in Subscribe: refused after the provider's login",
			setup: func(f *fixture) string {
				if _, err := f.o.Create(f.ctx, f.pc, CreateInput{Email: email, Password: pw, VerifyEmail: true}); err != nil {
					f.t.Fatal(err)
				}
				f.settle()
				return ""
			}, in: login(pw), want: ErrNotVerified.Error(),
			calls: ops{providertest.OpLogin, providertest.OpGetUser}, events: evs{evSubGetByID, evAuthLogin, evAuthGetByID, evSubGetByID, evSubLoginX}},
		{name: "a user only the provider has logs in and is copied in",
			setup: func(f *fixture) string { return f.providerUser(email).ID }, in: login(pw), want: "ok",
			calls:  ops{providertest.OpLogin, providertest.OpGetUser},
			events: evs{evSubGetByID, evAuthLogin, evAuthGetByID, evSubGetByID, evSubUpdate, evSubLogin},
			tokens: []string{SessionCookieName, providertest.TokenName}},
		{name: "unknown everywhere", setup: func(f *fixture) string { return "" }, in: login(pw), want: ErrInvalidCredentials.Error(),
			calls: ops{providertest.OpLogin}, events: evs{evSubGetByID, "AUTHSYSTEM_USER_LOGIN Failure", evSubLoginX}},
		{name: "provider down", setup: func(f *fixture) string {
			f.linkedUser(email)
			f.prov.Fail(providertest.OpLogin, provider.ErrUnavailable)
			return ""
		}, in: login(pw), want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpLogin},
			events: evs{evSubGetByID, "AUTHSYSTEM_USER_LOGIN Failure", evSubLoginX}},
		{name: "provider down reading the user after the login", setup: func(f *fixture) string {
			f.linkedUser(email)
			f.prov.Fail(providertest.OpGetUser, provider.ErrUnavailable)
			return ""
		}, in: login(pw), want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpLogin, providertest.OpGetUser},
			events: evs{evSubGetByID, evAuthLogin, "AUTHSYSTEM_USER_GETBYID Failure", evSubLoginX}},
		{name: "a Subscribe-only user of a provider tenant: Subscribe checks the hash",
			setup: func(f *fixture) string { return f.localUser(f.pc, email, true) }, in: login(pw), want: "ok",
			events: evs{evSubGetByID, evSubLogin}, tokens: []string{SessionCookieName}},
		{name: "ignoreProvider for a linked user: Subscribe holds no password for them",
			setup: func(f *fixture) string { f.linkedUser(email); return "" }, in: AuthenticateInput{LoginName: email, Password: pw, IgnoreProvider: true},
			want: ErrNoPassword.Error(), events: evs{evSubGetByID, evSubLoginX}},
		{name: "store down", setup: func(f *fixture) string { f.store.failOnce("GetByEmail", errDisk); return "" },
			in: login(pw), want: "failed GetById", events: evs{"SUBSCRIBE_USER_GETBYID Failure", evSubLoginX}},
		{name: "no provider: the hash", local: true, setup: func(f *fixture) string { return f.localUser(f.lc, email, false) },
			in: login(pw), want: "ok", events: evs{evSubGetByID, evSubLogin}, tokens: []string{SessionCookieName}},
		{name: "no provider, wrong password", local: true, setup: func(f *fixture) string { f.localUser(f.lc, email, false); return "" },
			in: login(otherPW), want: ErrInvalidCredentials.Error(), events: evs{evSubGetByID, evSubLoginX}},
		{name: "no provider, unknown login name", local: true, setup: func(f *fixture) string { return "" },
			in: login(pw), want: ErrInvalidCredentials.Error(), events: evs{evSubGetByID, evSubLoginX}},
		{name: "no provider, a Lite user has no password", local: true, setup: func(f *fixture) string {
			if _, err := f.o.Create(f.ctx, f.lc, CreateInput{Email: email}); err != nil {
				f.t.Fatal(err)
			}
			f.settle()
			return ""
		}, in: login(pw), want: ErrNoPassword.Error(), events: evs{evSubGetByID, evSubLoginX}},
		{name: "no provider, unverified wins over Lite", local: true, setup: func(f *fixture) string {
			if _, err := f.o.Create(f.ctx, f.lc, CreateInput{Email: email, VerifyEmail: true}); err != nil {
				f.t.Fatal(err)
			}
			f.settle()
			return ""
		}, in: login(pw), want: ErrNotVerified.Error(), events: evs{evSubGetByID, evSubLoginX}},
		{name: "by token: a uo_session", local: true, setup: func(f *fixture) string {
			crid := f.localUser(f.lc, email, false)
			return crid
		}, in: AuthenticateInput{Token: "session"}, want: "ok", events: evs{evSubGetByID, evSubLogin}, tokens: []string{SessionCookieName}},
		{name: "by token: a forged one", local: true, setup: func(f *fixture) string { return "" },
			in: AuthenticateInput{Token: "forged"}, want: ErrInvalidToken.Error(), events: evs{evSubLoginX}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			crid := tt.setup(f)
			if tt.in.Token == "session" {
				tt.in.Token, _, _ = f.o.Sessions.Issue(c.Tenant.Key, crid, 1, f.clock.Now())
			}
			a, err := f.o.Authenticate(f.ctx, c, tt.in)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			if err != nil {
				return
			}
			if a.User.CustomerRegistrationID != crid {
				t.Errorf("logged in as %q, want %q", a.User.CustomerRegistrationID, crid)
			}
			var names []string
			for _, tok := range a.CookieTokens {
				names = append(names, tok.Name)
				if tok.DurationDays < 1 {
					t.Errorf("token %s lasts %d days", tok.Name, tok.DurationDays)
				}
			}
			if len(names) != len(tt.tokens) || names[0] != tt.tokens[0] || (len(names) > 1 && names[1] != tt.tokens[1]) {
				t.Errorf("tokens %v, want %v", names, tt.tokens)
			}
			s, err := f.o.Sessions.Parse(c.Tenant.Key, a.CookieTokens[0].Content, f.clock.Now())
			if err != nil || s.CustomerRegistrationID != crid {
				t.Errorf("the uo_session is for %q (%v)", s.CustomerRegistrationID, err)
			}
		})
	}
}

func TestAuthenticateAttemptLimit(t *testing.T) {
	f := newFixture(t)
	f.localUser(f.lc, "jane@example.com", false)
	in := AuthenticateInput{LoginName: "Jane@example.com", Password: otherPW}
	for i := range 3 {
		if _, err := f.o.Authenticate(f.ctx, f.lc, in); outcome(err) != ErrInvalidCredentials.Error() {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	in.Password = pw
	if _, err := f.o.Authenticate(f.ctx, f.lc, in); outcome(err) != "too many attempts" {
		t.Fatalf("the 4th attempt within the hour: %v", err)
	}
	f.settle()
	f.clock.Advance(2 * time.Hour)
	if _, err := f.o.Authenticate(f.ctx, f.lc, in); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// A success resets the count.
	in.Password = otherPW
	for i := range 3 {
		if _, err := f.o.Authenticate(f.ctx, f.lc, in); outcome(err) != ErrInvalidCredentials.Error() {
			t.Fatalf("attempt %d after a success: %v", i+1, err)
		}
	}
}

func TestDaysOf(t *testing.T) {
	for _, tt := range []struct {
		d    float64 // hours
		want int
	}{{0, 1}, {-1, 1}, {1, 1}, {24, 1}, {25, 2}, {36, 2}, {24 * 30, 30}} {
		if got := daysOf(hours(tt.d)); got != tt.want {
			t.Errorf("daysOf(%vh) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
