//go:build e2e

package e2e

// Faults WireMock injects into one provider call (per-case stubs): an HTTP 5xx, an answer slower
// than the tenant's timeout, a connection reset, a body that is not what the provider sends. Each
// must end in E503 (nothing concluded) or the workflow's E500_xx (an answer nobody understands),
// with idempotent calls retried and the others never (decision 21), and nothing half-written:
// no Subscribe row for a create whose provider step failed, and the provider's user removed again
// when Subscribe fails after the provider made it.

import (
	"strings"
	"testing"
	"time"

	gowiremock "github.com/wiremock/go-wiremock"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/config"
)

type fault struct {
	name      string
	resp      func() gowiremock.Response
	malformed bool // an answer, not the absence of one: never retried, the workflow's E500
	slow      bool // no answer within the timeout: the case runs with slowTimeout (startSlow)
}

var faults = []fault{
	{name: "HTTP 500", resp: func() gowiremock.Response {
		return gowiremock.NewResponse().WithStatus(500).WithBody(`{"error":"server_error"}`).WithHeader("Content-Type", "application/json")
	}},
	{name: "HTTP 503", resp: func() gowiremock.Response {
		return gowiremock.NewResponse().WithStatus(503).WithBody("<html>Service Unavailable</html>").WithHeader("Content-Type", "text/html")
	}},
	{name: "slower than the timeout", slow: true, resp: func() gowiremock.Response {
		return gowiremock.NewResponse().WithStatus(200).WithBody("{}").WithFixedDelay(2 * slowTimeout)
	}},
	{name: "connection reset", resp: func() gowiremock.Response {
		return gowiremock.NewResponse().WithFault(gowiremock.FaultConnectionResetByPeer)
	}},
	{name: "malformed body", malformed: true, resp: func() gowiremock.Response {
		return gowiremock.NewResponse().WithStatus(200).WithBody(`{"truncated":`).WithHeader("Content-Type", "application/json")
	}},
}

// retried tells whether the adapter retries a port call (idempotent calls only, decision 21).
func (p *Provider) retried(c portCall) bool {
	no := map[string][]portCall{
		"auth0":   {pCreate, pCreatePending, pDelete, pLogin, pPassword, pLink},
		"gigya":   {pCreate, pCreatePending, pLogin, pPassword, pEmail},
		"ssor":    {pCreate, pCreatePending, pDelete, pLogin, pLink},
		"firefly": {pCreate, pCreatePending, pDelete, pLogin, pLink},
	}[p.name]
	for _, n := range no {
		if n == c {
			return false
		}
	}
	return true
}

func (p *Provider) attempts(c portCall, f fault) int {
	if f.malformed || !p.retried(c) {
		return 1
	}
	return 1 + providerRetries
}

func TestInjectedFaults(t *testing.T) {
	type target struct {
		name      string
		op        string
		call      portCall
		malformed codes.Code
		run       func(t *testing.T, env *Env, p *Provider, f fault, want codes.Code)
	}
	targets := []target{
		{name: "get user", op: "getUserById", call: pGet, malformed: codes.E500_01, run: func(t *testing.T, env *Env, p *Provider, f fault, want codes.Code) {
			u := env.providerUser()
			p.stubResponse(t, pGet, u.ID, f.resp())
			n := len(env.events(u.ID))
			expectCode(t, env.do("GET", userPath(u.ID), nil), want)
			p.expectCalls(t, repeat(p.attempts(pGet, f), p.c(pGet, u.ID))...)
			expectEvents(t, env.eventsSince(n, u.ID), []string{ev("AUTHSYSTEM_USER_GETBYID", 4601, "Failure", u.ID)})
		}},
		{name: "create user", op: "createUser", call: pCreate, malformed: codes.E500_03, run: func(t *testing.T, env *Env, p *Provider, f fault, want codes.Code) {
			p.stubResponse(t, pCreate, "", f.resp())
			const email = "fault.create@example.com"
			expectCode(t, env.do("POST", "/v4/Users", obj{"email": email, "password": janePassword}), want)
			calls := p.c(pFind)
			create := p.c(pCreatePending, "") // the provider's create request (Gigya: after its regToken)
			calls = append(calls, create[:len(create)-1]...)
			calls = append(calls, repeat(p.attempts(pCreate, f), create[len(create)-1:])...)
			p.expectCalls(t, calls...)
			expectEvents(t, env.events(), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Failure", ""),
			})
			// No orphan in Subscribe: the provider step failed, nothing is written.
			if _, ok := env.regByEmail(email); ok || env.countRegs() != 0 {
				t.Errorf("a registration was written for a create whose provider step failed")
			}
		}},
		{name: "login", op: "authenticate", call: pLogin, malformed: codes.E500_05, run: func(t *testing.T, env *Env, p *Provider, f fault, want codes.Code) {
			u := env.providerUser()
			p.stubResponse(t, pLogin, "", f.resp())
			n := len(env.events(u.ID))
			expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": janeEmail, "password": janePassword}), want)
			p.expectCalls(t, repeat(p.attempts(pLogin, f), p.c(pLogin))...)
			expectEvents(t, withoutUser(env.eventsSince(n, u.ID)), withoutUser([]string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_LOGIN", 4605, "Failure", ""),
				ev("SUBSCRIBE_USER_LOGIN", 4006, "Failure", u.ID),
			}))
		}},
		{name: "update user", op: "updateUser", call: pUpdate, malformed: codes.E500_04, run: func(t *testing.T, env *Env, p *Provider, f fault, want codes.Code) {
			u := env.providerUser()
			p.stubResponse(t, pUpdate, u.ID, f.resp())
			n := len(env.events(u.ID))
			expectCode(t, env.do("PUT", userPath(u.ID), obj{"firstName": "Janet"}), want)
			update := p.c(pUpdate, u.ID)[:1] // the provider's update request (Gigya re-reads after it)
			p.expectCalls(t, append(p.c(pGet, u.ID), repeat(p.attempts(pUpdate, f), update)...)...)
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_UPDATE", 4603, "Failure", u.ID),
			})
			if reg, _ := env.reg(u.ID); deref(reg.FirstName) != "Jane" {
				t.Errorf("Subscribe changed although the provider failed: %s", deref(reg.FirstName))
			}
		}},
	}
	eachProvider(t, func(t *testing.T, p *Provider) {
		for _, tg := range targets {
			for _, f := range faults {
				t.Run(tg.name+"/"+f.name, func(t *testing.T) {
					covers(t, p, tg.op, false)
					var mods []func(*config.Tenant)
					if f.slow {
						mods = append(mods, slow)
					}
					env := start(t, p, mods...)
					want := codes.E503
					if f.malformed {
						want = tg.malformed
					}
					began := time.Now()
					tg.run(t, env, p, f, want)
					// Bounded: every attempt ends at the tenant's timeout.
					if d := time.Since(began); d > 10*time.Second {
						t.Errorf("took %s", d)
					}
				})
			}
		}
	})
}

// An answer nobody understands ends in the E500_xx of the workflow it broke.
func TestMalformedAnswerPerWorkflow(t *testing.T) {
	malformed := faults[len(faults)-1].resp
	runCases(t, []opCase{
		{name: "get users by email -> E500_02", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			p.stubResponse(t, pFind, "", malformed())
			expectCode(t, env.do("GET", "/v4/Users"+q("email", janeEmail), nil), codes.E500_02)
			expectEvents(t, env.events(), []string{ev("AUTHSYSTEM_USER_SEARCH", 4604, "Failure", "")})
		}},
		{name: "create: the lookup -> E500_01", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			p.stubResponse(t, pFind, "", malformed())
			expectCode(t, env.do("POST", "/v4/Users", obj{"email": janeEmail, "password": janePassword}), codes.E500_01)
			p.expect(t, pFind)
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
		}},
		{name: "login: reading the user after the login -> E500_01", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			p.stubResponse(t, pGet, u.ID, malformed())
			expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": janeEmail, "password": janePassword}), codes.E500_01)
			p.expect(t, pLogin, pGet, u.ID)
		}},
		{name: "finish forgot password -> E500_06, the link stays usable", op: "finishForgotPassword", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword", obj{"loginName": janeEmail}), codes.S200_08)
			enc := linkParam(t, env.mail(janeEmail, "Reset"), "encryptedEventId")
			p.stubResponse(t, pGet, u.ID, malformed())
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": newPassword}), codes.E500_06)
			p.expect(t, pGet, u.ID)
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Validity", obj{"encryptedEventId": enc}), codes.S200_09)
		}},
		{name: "verify email -> E500_07, the code stays usable", op: "verifyEmail", run: func(t *testing.T, env *Env, p *Provider) {
			const email = "to.verify@example.com"
			ref := env.create(obj{"email": email, "password": janePassword, "verifyEmail": true})
			code := linkParam(t, env.mail(email, "verification code"), "verificationCode")
			p.stubResponse(t, pUpdate, ref.CustomerRegistrationId, malformed())
			p.clearJournal(t)
			expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": code}), codes.E500_07)
			p.expectCalls(t, p.c(pUpdate, ref.CustomerRegistrationId)[:1]...)
			if reg, _ := env.reg(ref.CustomerRegistrationId); !reg.Pending {
				t.Fatalf("the registration is no longer pending")
			}
			p.reset(t)
			p.stubAnswer(t, pGet, ref.CustomerRegistrationId, &pUser{ID: ref.CustomerRegistrationId, Email: email, Verified: true})
			expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": code}), codes.S200_13)
		}},
	})
}

// A provider that is down, or refuses the new password, while a forgot-password finish changes
// the password gives the link back.
func TestFinishForgotPasswordProviderDown(t *testing.T) {
	runCases(t, []opCase{
		{name: "the provider refuses the password: E400 and the link stays usable", op: "finishForgotPassword", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword", obj{"loginName": janeEmail}), codes.S200_08)
			enc := linkParam(t, env.mail(janeEmail, "Reset"), "encryptedEventId")
			weak := providerTriggers[p.name].weakPassword
			if weak == "" {
				weak = "too-simple-pw" // Gigya's refusal of that password (its trigger "weak" is too short)
				p.stub(t, p.impl.match(pPassword, u.ID).WithFormParameter("newPassword", gowiremock.EqualTo(weak)).WillReturnResponse(gigyaPasswordPolicy()))
			}
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": weak}), codes.E400)
			p.expect(t, pGet, u.ID, pPassword, u.ID)
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Validity", obj{"encryptedEventId": enc}), codes.S200_09)
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": newPassword}), codes.S200_10)
		}},
		{name: "E503 and the link stays usable", op: "finishForgotPassword", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword", obj{"loginName": janeEmail}), codes.S200_08)
			enc := linkParam(t, env.mail(janeEmail, "Reset"), "encryptedEventId")
			p.stubResponse(t, pPassword, u.ID, faults[1].resp())
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": newPassword}), codes.E503)
			p.expectCalls(t, append(p.c(pGet, u.ID), repeat(p.attempts(pPassword, faults[1]), p.c(pPassword, u.ID))...)...)
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Validity", obj{"encryptedEventId": enc}), codes.S200_09)
			p.reset(t)
			p.stubAnswer(t, pGet, u.ID, &u)
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": newPassword}), codes.S200_10)
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// No orphans

func TestNoOrphans(t *testing.T) {
	runCases(t, []opCase{
		{name: "Subscribe refuses the new user: the provider's user is deleted again", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			// A Subscribe-only user holds id X; the provider then answers a create with a new user
			// whose id is X, so Subscribe refuses the duplicate id after the provider made the user.
			x := p.impl.idFor("first.owner@example.com")
			env.localUser("first.owner@example.com", janePassword, obj{"customerRegistrationId": x})
			p.stubAnswer(t, pCreate, "", &pUser{ID: x, Email: "second.user@example.com", Verified: true})
			p.clearJournal(t)
			n := len(env.events(x))

			r := env.do("POST", "/v4/Users", obj{"email": "second.user@example.com", "password": janePassword})
			expectCode(t, r, codes.E500_03)
			create := p.c(pCreatePending) // the stub answers a verified user: Gigya needs no third call
			p.expectCalls(t, append(append(p.c(pFind), create...), p.c(pDelete, x)...)...)
			p.expectCredentials(t)
			p.verify(t, p.impl.match(pDelete, x).Request(), 1) // the DELETE of exactly that user
			expectEvents(t, env.eventsSince(n, x), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Success", x),
				ev("SUBSCRIBE_USER_CREATE", 4002, "Failure", x),
				ev("AUTHSYSTEM_USER_DELETE", 4606, "Success", x),
			})
			if _, ok := env.regByEmail("second.user@example.com"); ok {
				t.Errorf("a registration was written for the refused user")
			}
			if reg, _ := env.reg(x); reg.Email != "first.owner@example.com" || reg.AuthSystem != "" {
				t.Errorf("the first owner's registration changed: %+v", reg)
			}
		}},
		{name: "the delete fails too: the orphan is recorded and logged", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			x := p.impl.idFor("first.owner@example.com")
			env.localUser("first.owner@example.com", janePassword, obj{"customerRegistrationId": x})
			p.stubAnswer(t, pCreate, "", &pUser{ID: x, Email: "second.user@example.com", Verified: true})
			p.stubResponse(t, pDelete, x, faults[0].resp())
			p.clearJournal(t)
			n := len(env.events(x))
			expectCode(t, env.do("POST", "/v4/Users", obj{"email": "second.user@example.com", "password": janePassword}), codes.E500_03)
			deletes := repeat(p.attempts(pDelete, faults[0]), p.c(pDelete, x))
			p.expectCalls(t, append(append(p.c(pFind), p.c(pCreatePending)...), deletes...)...)
			evs := env.eventsSince(n, x)
			expectEvents(t, evs[len(evs)-1:], []string{ev("AUTHSYSTEM_USER_DELETE", 4606, "Failure", x)})
			logs := env.Logs.String()
			if !strings.Contains(logs, "orphan") || !strings.Contains(logs, x) {
				t.Errorf("no error log names the orphaned provider user %s", x)
			}
		}},
		{name: "passwordless: the provider's link fails, the user is deleted again", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			const email = "no.link@example.com"
			id := p.impl.idFor(email)
			link := p.c(pLink, id)
			p.stubResponse(t, pLink, id, faults[1].resp()) // Gigya: the reset, after it read the account
			r := env.do("POST", "/v4/Users", obj{"email": email})
			expectCode(t, r, codes.E503)
			calls := append(p.c(pFind, pCreate, id), link[:len(link)-1]...)
			calls = append(calls, repeat(p.attempts(pLink, faults[1]), link[len(link)-1:])...)
			p.expectCalls(t, append(calls, p.c(pDelete, id)...)...)
			expectEvents(t, env.events(id), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Success", id),
				ev("AUTHSYSTEM_USER_CHANGEPASSWORD", 4609, "Failure", id),
				ev("AUTHSYSTEM_USER_DELETE", 4606, "Success", id),
			})
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
			time.Sleep(200 * time.Millisecond)
			if env.mailsTo(email) != 0 {
				t.Errorf("a welcome email went out for a create that failed")
			}
		}},
	})
}
