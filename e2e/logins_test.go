//go:build e2e

package e2e

// Logins by token and by password through each provider: the events they record, and what a
// blocked user or a refused login leaves. Each test names what the contract says.

import (
	"slices"
	"testing"

	"usersorchestrator/internal/codes"
)

// openapi.yaml, authenticate x-events: "AUTHSYSTEM_USER_GETBYID 4601 — token, through the
// provider", "SUBSCRIBE_USER_GETBYID 4001 — Always", "SUBSCRIBE_USER_LOGIN 4006 — Always,
// recording the login attempt and its outcome"; contract decision "4601 is named
// AUTHSYSTEM_USER_GETBYID everywhere except the create and encrypted-GET flows".
func TestAuthenticateByTokenEvents(t *testing.T) {
	runCases(t, []opCase{
		{name: "provider access token", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			if p.name != "auth0" {
				p.stubAnswer(t, pToken, "", &u)
			}
			n := len(env.events(u.ID))
			env.login(obj{"token": p.impl.tokenFor(janeEmail)})
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_LOGIN", 4006, "Success", u.ID),
			})
		}},
		{name: "session token", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			session := cookie(env.login(obj{"loginName": janeEmail, "password": janePassword}), "uo_session")
			n := len(env.events(u.ID))
			env.login(obj{"token": session})
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_LOGIN", 4006, "Success", u.ID),
			})
		}},
	})
}

// A user the provider reports blocked must not authenticate by token either: the password path
// refuses blocked users with E400_10, the token path with E400_13 — whether the provider refuses
// the token (SSOR's and Firefly's "403 user_blocked" on GET /users/me) or answers the user marked
// blocked (Auth0's blocked=true, Gigya's isActive=false).
func TestBlockedUsersTokenIsRefused(t *testing.T) {
	runCases(t, []opCase{
		{name: "authenticate -> E400_13", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			token := blockedUsersToken(t, p)
			r := env.do("POST", "/v4/Users/Authentication", obj{"token": token})
			expectCode(t, r, codes.E400_13)
		}},
		{name: "get users by token -> E400_13, not a server error", op: "getUsers", only: []string{"ssor", "firefly"}, run: func(t *testing.T, env *Env, p *Provider) {
			token := blockedUsersToken(t, p)
			expectCode(t, env.do("GET", "/v4/Users"+q("token", token), nil), codes.E400_13)
		}},
	})
}

// blockedUsersToken is an access token the provider resolves to a blocked user.
func blockedUsersToken(t *testing.T, p *Provider) string {
	t.Helper()
	switch p.name {
	case "auth0": // /userinfo answers auth0|blocked, whose user is blocked (mocks/auth0 users-get.json)
		p.stubAnswer(t, pToken, "", &pUser{ID: "auth0|blocked", Email: "blocked@example.com", Verified: true})
		return "token-of-a-blocked-user"
	case "gigya": // the session's account is disabled (isActive false)
		u := pUser{ID: p.impl.idFor("disabled@example.com"), Email: "disabled@example.com", Verified: true, Blocked: true}
		p.stubAnswer(t, pToken, "", &u)
		return p.impl.tokenFor(u.Email)
	}
	// mocks/ssor and mocks/firefly README: this token answers 403 user_blocked on GET /users/me.
	return "mock-YmxvY2tlZEBleGFtcGxlLmNvbQ=="
}

// openapi.yaml, authenticate x-events: "SUBSCRIBE_USER_LOGIN 4006 — Always, recording the login
// attempt and its outcome"; GET /v4/Users/{id}/Events lists a user's events for support. When
// the provider refuses the password of a registered user, the failure is recorded against that
// user, as a Subscribe-only user's is, so support sees failed logins in the user's events.
func TestFailedProviderLoginIsRecordedForTheUser(t *testing.T) {
	runCases(t, []opCase{
		{name: "wrong password", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": janeEmail, "password": "wrong-password"}), codes.E400_10)
			evs := env.apiEvents(u.ID)
			if !slices.Contains(evs, "SUBSCRIBE_USER_LOGIN 4006 Failure") {
				t.Errorf("the user's events do not show the failed login: %q", evs)
			}
		}},
	})
}
