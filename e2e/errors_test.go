//go:build e2e

package e2e

// How each adapter's reading of a provider's refusal becomes the API's code: one case per mapping
// and provider, through the mocks' documented trigger inputs where they have one and a per-case
// stub (the provider's own error answer) where they do not. Removing a mapping from an adapter
// or from the orchestrator makes one of these fail.

import (
	"strings"
	"testing"
	"time"

	gowiremock "github.com/wiremock/go-wiremock"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/config"
)

// triggers are a provider's trigger inputs (mocks/<provider>/README.md).
type triggers struct {
	notFoundID, rateLimitID, serverErrorID, malformedID, slowID string
	// rateLimitRetried: the adapter retries a rate-limited GET (Gigya's 403048 is a daily quota:
	// it is not).
	rateLimitRetried bool
	blockedLogins    []string
	unverifiedLogin  string
	invalidToken     string
	// createExists is an email whose create the provider refuses as taken; findsIt: the
	// provider's find answers it too (the case stubs find to nobody to reach the create).
	createExists []string
	findsIt      bool
	// foundByEmail is an email the provider's find answers: create stops there.
	foundByEmail string
	emailExists  []string
	// weakPassword is refused by the provider's password policy ("" : the case stubs it).
	weakPassword string
	// updateRejected is an update body the provider refuses (nil: the case stubs it).
	updateRejected obj
}

var providerTriggers = map[string]triggers{
	"auth0": {
		notFoundID: "auth0|notfound", rateLimitID: "auth0|ratelimit", serverErrorID: "auth0|servererror",
		malformedID: "auth0|malformed", slowID: "auth0|slow", rateLimitRetried: true,
		blockedLogins:   []string{"blocked.user@example.com", "toomanyattempts@example.com"},
		unverifiedLogin: "unverified.user@example.com", invalidToken: "expired-token",
		createExists: []string{"exists.new@example.com"}, findsIt: true, foundByEmail: "exists@example.com",
		emailExists: []string{"exists.other@example.com"}, weakPassword: "weak-Passw0rd",
	},
	"gigya": {
		notFoundID: "_gid_notfound", rateLimitID: "_gid_ratelimit", serverErrorID: "_gid_servererror",
		malformedID: "_gid_malformed", slowID: "_gid_slowdown",
		blockedLogins:   []string{"disabled@example.com", "locked@example.com"},
		unverifiedLogin: "unverified.user@example.com", invalidToken: "not-a-login-token",
		createExists: []string{"exists@example.com", "conflict@example.com"}, foundByEmail: "exists@example.com",
		emailExists: []string{"exists@example.com", "conflict@example.com"}, updateRejected: obj{"firstName": "Invalid<>"},
	},
	"ssor": {
		notFoundID: "notfound", rateLimitID: "ratelimit", serverErrorID: "servererror", slowID: "timeout",
		rateLimitRetried: true, blockedLogins: []string{"blocked@example.com"}, unverifiedLogin: "unverified@example.com",
		invalidToken: "not-a-mock-token", createExists: []string{"exists@example.com"}, findsIt: true,
		foundByEmail: "exists@example.com", emailExists: []string{"exists@example.com"}, weakPassword: "weak-password",
		updateRejected: obj{"firstName": "invalid"},
	},
	"firefly": {
		notFoundID: "00000000-0000-0000-0000-000000000404", rateLimitID: "00000000-0000-0000-0000-000000000429",
		serverErrorID: "00000000-0000-0000-0000-000000000500", slowID: "00000000-0000-0000-0000-000000000504",
		rateLimitRetried: true, blockedLogins: []string{"blocked@example.com"}, unverifiedLogin: "unverified@example.com",
		invalidToken: "not-a-mock-token", createExists: []string{"exists@example.com"}, findsIt: true,
		foundByEmail: "exists@example.com", emailExists: []string{"exists@example.com"}, weakPassword: "weak-password",
		updateRejected: obj{"firstName": "invalid"},
	},
}

// gigyaPasswordPolicy is Gigya's refusal of a password (what mocks/gigya answers the password "weak").
func gigyaPasswordPolicy() gowiremock.Response {
	return gigyaError(400009, "Validation error", map[string]any{
		"validationErrors": []any{map[string]any{"errorCode": 400009, "message": "Password does not meet complexity requirements", "fieldName": "password"}},
	})
}

// repeat is n copies of the labels of one port call.
func repeat(n int, calls []string) []string {
	var out []string
	for range n {
		out = append(out, calls...)
	}
	return out
}

// getFails reads id by id and expects code, the provider asked attempts times, and nothing
// written to Subscribe.
func getFails(t *testing.T, env *Env, p *Provider, id string, code codes.Code, attempts int, outcome string) {
	t.Helper()
	r := env.do("GET", userPath(id), nil)
	expectCode(t, r, code)
	p.expectCalls(t, repeat(attempts, p.c(pGet, id))...)
	want := []string{ev("AUTHSYSTEM_USER_GETBYID", 4601, outcome, id)}
	if outcome == "Success" { // answered "not found"
		want = append(want, ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", id))
	}
	expectEvents(t, env.events(id), want)
	if env.countRegs() != 0 {
		t.Errorf("a registration was written")
	}
}

// loginFails logs in with email and password and expects code after one provider call (logins
// are never retried), with the failure recorded.
func loginFails(t *testing.T, env *Env, p *Provider, email, password string, code codes.Code) {
	t.Helper()
	r := env.do("POST", "/v4/Users/Authentication", obj{"loginName": email, "password": password})
	expectCode(t, r, code)
	p.expect(t, pLogin)
	expectFields(t, "login", p.fields(t, pLogin, ""), map[string]string{"loginName": email, "password": password})
}

func TestProviderErrorMapping(t *testing.T) {
	tr := func(p *Provider) triggers { return providerTriggers[p.name] }
	cases := []opCase{
		// --- user exists -> E400_08
		{name: "create: the provider answers the email is taken -> E400_08", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			for _, email := range tr(p).createExists {
				p.reset(t)
				if tr(p).findsIt || email == tr(p).foundByEmail {
					p.stubAnswer(t, pFind, "", nil) // nobody: the create itself must refuse
				}
				r := env.do("POST", "/v4/Users", obj{"email": email, "password": janePassword})
				expectCode(t, r, codes.E400_08)
				steps := p.c(pFind, pCreatePending)
				p.expectCalls(t, steps...)
				if env.countRegs() != 0 {
					t.Fatalf("%s: a registration was written", email)
				}
			}
			evs := env.events()
			expectEvents(t, evs[len(evs)-2:], []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Failure", ""),
			})
		}},
		{name: "create: the provider finds the email -> E400_08 without a create", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			email := tr(p).foundByEmail
			r := env.do("POST", "/v4/Users", obj{"email": email, "password": janePassword})
			expectCode(t, r, codes.E400_08)
			p.expect(t, pFind)
			id := p.impl.idFor(email)
			expectEvents(t, env.events(id), []string{ev("AUTHSYSTEM_USER_GET", 4601, "Success", id)})
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
		}},
		{name: "change email: the provider answers the email is taken -> E400_08", op: "updateEmail", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			for _, email := range tr(p).emailExists {
				p.clearJournal(t)
				r := env.do("PATCH", userPath(u.ID, "/Email"), obj{"email": email})
				expectCode(t, r, codes.E400_08)
				p.expectCalls(t, p.c(pGet, u.ID, pEmail, u.ID)...)
				if reg, _ := env.reg(u.ID); reg.Email != janeEmail {
					t.Fatalf("stored email %s", reg.Email)
				}
			}
			evs := env.events(u.ID)
			expectEvents(t, evs[len(evs)-1:], []string{ev("AUTHSYSTEM_USER_CHANGEEMAIL", 4610, "Failure", u.ID)})
		}},
		// --- wrong password, blocked -> E400_10; not verified -> E400_11
		{name: "login: wrong password -> E400_10", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			loginFails(t, env, p, janeEmail, "wrong-password", codes.E400_10)
			// Which user the failures are recorded for: TestFailedProviderLoginIsRecordedForTheUser.
			expectEvents(t, withoutUser(env.eventsSince(n, u.ID)), withoutUser([]string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_LOGIN", 4605, "Failure", ""),
				ev("SUBSCRIBE_USER_LOGIN", 4006, "Failure", u.ID),
			}))
		}},
		{name: "login: blocked user -> E400_10", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			for _, email := range tr(p).blockedLogins {
				p.reset(t)
				loginFails(t, env, p, email, janePassword, codes.E400_10)
			}
			if env.countRegs() != 0 {
				t.Errorf("a refused login imported the user")
			}
		}},
		{name: "login: email not verified -> E400_11", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			loginFails(t, env, p, tr(p).unverifiedLogin, janePassword, codes.E400_11)
			expectEvents(t, env.events(), []string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", ""),
				ev("AUTHSYSTEM_USER_LOGIN", 4605, "Failure", ""),
				ev("SUBSCRIBE_USER_LOGIN", 4006, "Failure", ""),
			})
		}},
		// --- not found -> E404_01 (read) / E400_22 (update refused)
		{name: "get: unknown user -> E404_01", op: "getUserById", run: func(t *testing.T, env *Env, p *Provider) {
			getFails(t, env, p, tr(p).notFoundID, codes.E404_01, 1, "Success")
		}},
		{name: "update: the provider does not know the user -> E400_22", op: "updateUser", run: func(t *testing.T, env *Env, p *Provider) {
			id := tr(p).notFoundID
			env.localUser("gone@example.com", janePassword, obj{"customerRegistrationId": id, "firstName": "Gone"})
			p.stubAnswer(t, pGet, id, &pUser{ID: id, Email: "gone@example.com", First: "Gone", Verified: true})
			n := len(env.events(id))
			r := env.do("PUT", userPath(id), obj{"firstName": "Changed"})
			expectCode(t, r, codes.E400_22)
			p.expectCalls(t, append(p.c(pGet, id), p.c(pUpdate, id)[:1]...)...) // Gigya re-reads only after a success
			evs := env.eventsSince(n, id)
			expectEvents(t, evs[len(evs)-1:], []string{ev("AUTHSYSTEM_USER_UPDATE", 4603, "Failure", id)})
			if reg, _ := env.reg(id); deref(reg.FirstName) != "Gone" {
				t.Errorf("Subscribe changed: %s", deref(reg.FirstName))
			}
		}},
		// --- invalid token -> E400_13
		{name: "token: the provider refuses it -> E400_13", op: "authenticate", also: []cover{{"getUsers", false}}, run: func(t *testing.T, env *Env, p *Provider) {
			tok := tr(p).invalidToken
			expectCode(t, env.do("GET", "/v4/Users"+q("token", tok), nil), codes.E400_13)
			expectEvents(t, env.events(), []string{ev("AUTHSYSTEM_USER_GET", 4601, "Failure", "")})
			want := p.c(pToken, "")[:1] // Auth0: /userinfo refuses it, no user is read
			p.expectCalls(t, want...)
			p.clearJournal(t)
			expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"token": tok}), codes.E400_13)
			p.expectCalls(t, want...)
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
		}},
		// --- rejected -> E400 (password policy) / E400_22 (update)
		{name: "create: password policy -> E400", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			pw := tr(p).weakPassword
			if pw == "" { // Gigya's trigger is the password "weak", shorter than the contract allows
				pw = "too-simple-pw"
				p.stubResponse(t, pCreate, "", gigyaPasswordPolicy())
			}
			r := env.do("POST", "/v4/Users", obj{"email": "weak.pw@example.com", "password": pw})
			expectCode(t, r, codes.E400)
			p.expect(t, pFind, pCreatePending)
			expectFields(t, "create", p.fields(t, pCreatePending, ""), map[string]string{"password": pw})
			expectEvents(t, env.events(), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Failure", ""),
			})
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
		}},
		{name: "change password: password policy -> E400", op: "updatePassword", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			pw := tr(p).weakPassword
			if pw == "" {
				pw = "too-simple-pw"
				p.stubResponse(t, pPassword, u.ID, gigyaPasswordPolicy())
			}
			n := len(env.events(u.ID))
			r := env.do("PATCH", userPath(u.ID, "/Password"), obj{"password": pw})
			expectCode(t, r, codes.E400)
			p.expect(t, pGet, u.ID, pPassword, u.ID)
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_CHANGEPASSWORD", 4609, "Failure", u.ID),
			})
		}},
		{name: "update: the provider refuses a field -> E400_22", op: "updateUser", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			body := tr(p).updateRejected
			if body == nil { // Auth0 has no trigger: its answer to an invalid field
				body = obj{"firstName": "Rejected"}
				p.stubResponse(t, pUpdate, u.ID, jsonResponse(400, map[string]any{
					"statusCode": 400, "error": "Bad Request", "message": "Payload validation error: 'String is too long'", "errorCode": "invalid_body",
				}))
			}
			r := env.do("PUT", userPath(u.ID), body)
			expectCode(t, r, codes.E400_22)
			want := p.c(pGet, u.ID, pUpdate, u.ID)
			if p.name == "gigya" {
				want = want[:2] // setAccountInfo failed: no re-read
			}
			p.expectCalls(t, want...)
			if reg, _ := env.reg(u.ID); deref(reg.FirstName) != "Jane" {
				t.Errorf("Subscribe changed: %s", deref(reg.FirstName))
			}
		}},
		// --- rate limited, server error, timeout -> E503; malformed -> E500_01
		{name: "get: rate limited -> E503", op: "getUserById", run: func(t *testing.T, env *Env, p *Provider) {
			attempts := 1
			if tr(p).rateLimitRetried {
				attempts = 2
			}
			start := time.Now()
			getFails(t, env, p, tr(p).rateLimitID, codes.E503, attempts, "Failure")
			// Auth0's 429 has no Retry-After, only X-RateLimit-Reset (the next second): that the
			// retry waits for it is TestRealProviderAnswers' "retried no earlier than its reset".
			if attempts == 2 && p.name != "auth0" && time.Since(start) < 900*time.Millisecond {
				t.Errorf("the retry did not wait for Retry-After: 1 (took %s)", time.Since(start))
			}
		}},
		{name: "get: server error -> E503 after a retry", op: "getUserById", run: func(t *testing.T, env *Env, p *Provider) {
			getFails(t, env, p, tr(p).serverErrorID, codes.E503, 2, "Failure")
		}},
		{name: "get: too slow -> E503 after a retry", op: "getUserById", slow: true, run: func(t *testing.T, env *Env, p *Provider) {
			start := time.Now()
			getFails(t, env, p, tr(p).slowID, codes.E503, 2, "Failure")
			if d := time.Since(start); d > 2*slowTimeout+time.Second {
				t.Errorf("took %s: the timeout of %s per attempt was not applied", d, slowTimeout)
			}
		}},
		{name: "get: malformed answer -> E500_01, not retried", op: "getUserById", run: func(t *testing.T, env *Env, p *Provider) {
			id := tr(p).malformedID
			if id == "" {
				id = p.impl.idFor("malformed.answer@example.com")
				p.stubResponse(t, pGet, id, gowiremock.NewResponse().WithStatus(200).WithBody(`{"id":"`+id+`","email":`).WithHeader("Content-Type", "application/json"))
			}
			getFails(t, env, p, id, codes.E500_01, 1, "Failure")
		}},
		{name: "login: rate limited -> E503, not retried", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			loginFails(t, env, p, "ratelimit.user@example.com", janePassword, codes.E503)
		}},
		{name: "login: server error -> E503, not retried", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			loginFails(t, env, p, "servererror.user@example.com", janePassword, codes.E503)
		}},
		{name: "create: the provider's lookup fails -> E503, nothing written", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			r := env.do("POST", "/v4/Users", obj{"email": "servererror.user@example.com", "password": janePassword})
			expectCode(t, r, codes.E503)
			p.expectCalls(t, repeat(2, p.c(pFind))...) // the lookup is retried, the create never reached
			expectEvents(t, env.events(), []string{ev("AUTHSYSTEM_USER_GET", 4601, "Failure", "")})
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
		}},
	}
	runCases(t, cases)
}

// Gigya reports most failures in an HTTP 200 body; each of its documented failure triggers.
func TestGigyaFailureTriggers(t *testing.T) {
	id := func(word string) string { return "_gid_" + word }
	runCases(t, []opCase{
		{name: "unavailable (HTTP 503) -> E503 after a retry", op: "getUserById", only: []string{"gigya"}, run: func(t *testing.T, env *Env, p *Provider) {
			getFails(t, env, p, id("unavailable"), codes.E503, 2, "Failure")
		}},
		{name: "connection reset -> E503 after a retry", op: "getUserById", only: []string{"gigya"}, run: func(t *testing.T, env *Env, p *Provider) {
			getFails(t, env, p, id("connreset"), codes.E503, 2, "Failure")
		}},
		{name: "incomplete registration (206001) -> E400, the half-made account deleted", op: "createUser", only: []string{"gigya"}, run: func(t *testing.T, env *Env, p *Provider) {
			email := "incomplete.user@example.com"
			r := env.do("POST", "/v4/Users", obj{"email": email, "password": janePassword})
			expectCode(t, r, codes.E400)
			uid := p.impl.idFor(email)
			p.expectCalls(t, "search", "init", "register", "get-regtoken", "delete "+uid)
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
		}},
		{name: "pending verification at register (206002): created unverified, then verified", op: "createUser", only: []string{"gigya"}, run: func(t *testing.T, env *Env, p *Provider) {
			email := "unverified.new@example.com"
			ref := env.create(obj{"email": email, "password": janePassword})
			uid := p.impl.idFor(email)
			if ref.CustomerRegistrationId != uid {
				t.Errorf("id %s, want %s", ref.CustomerRegistrationId, uid)
			}
			p.expectCalls(t, "search", "init", "register", "get-regtoken", "update "+uid)
		}},
	})
}

// A tenant whose provider credentials are wrong is the tenant's misconfiguration, not the user's
// fault: E503, never "invalid login name or password".
func TestProviderRefusesTheTenantsCredentials(t *testing.T) {
	bad := map[string]func(*config.Tenant){
		"auth0":   func(t *config.Tenant) { t.Auth0.ClientID = "bad-client" },
		"ssor":    func(t *config.Tenant) { t.SSOR.APIToken = "bad-token" },
		"firefly": func(t *config.Tenant) { t.Firefly.Secret = "bad-secret" },
	}
	forbidden := map[string]func(*config.Tenant){
		"ssor":    func(t *config.Tenant) { t.SSOR.APIToken = "forbidden-token" },
		"firefly": func(t *config.Tenant) { t.Firefly.Secret = "forbidden-secret" },
	}
	eachProvider(t, func(t *testing.T, p *Provider) {
		for name, mod := range map[string]func(*config.Tenant){"refused": bad[p.name], "forbidden": forbidden[p.name]} {
			if mod == nil {
				continue
			}
			t.Run(name, func(t *testing.T) {
				covers(t, p, "getUserById", false)
				covers(t, p, "authenticate", false)
				env := start(t, p, mod)
				expectCode(t, env.do("GET", userPath(p.impl.idFor(janeEmail)), nil), codes.E503)
				r := env.do("POST", "/v4/Users/Authentication", obj{"loginName": janeEmail, "password": janePassword})
				expectCode(t, r, codes.E503)
				if env.countRegs() != 0 {
					t.Errorf("a registration was written")
				}
			})
		}
	})
}

// Provider answers that must not pass for "user not found": a 404 that is not the provider's own
// "no such user" (a wrong base URL, a missing route) is a protocol error.
func TestBare404IsNotUserNotFound(t *testing.T) {
	runCases(t, []opCase{
		{name: "get -> E500_01", op: "getUserById", only: []string{"auth0", "ssor", "firefly"}, run: func(t *testing.T, env *Env, p *Provider) {
			id := p.impl.idFor("bare.404@example.com")
			p.stubResponse(t, pGet, id, gowiremock.NewResponse().WithStatus(404).WithBody("<html>Not Found</html>").WithHeader("Content-Type", "text/html"))
			getFails(t, env, p, id, codes.E500_01, 1, "Failure")
		}},
	})
}

func TestAuth0ManagementTokenRefresh(t *testing.T) {
	runCases(t, []opCase{
		{name: "a revoked Management API token is replaced once", op: "getUserById", only: []string{"auth0"}, run: func(t *testing.T, env *Env, p *Provider) {
			r := env.do("GET", userPath("auth0|tokenexpired"), nil)
			expectCode(t, r, codes.S200_01)
			if got := data[apiUser](t, r); got.Email != "tokenexpired@example.com" {
				t.Errorf("user %+v", got)
			}
			p.expectCalls(t, "get auth0|tokenexpired", "get auth0|tokenexpired")
			tokens := 0
			all, _ := p.srv.Admin.GetAllRequests()
			for _, r := range all.Requests {
				if pathOf(r.Request) == "/oauth/token" && strings.Contains(requestBody(r.Request), "client_credentials") {
					tokens++
				}
			}
			if tokens != 2 {
				t.Errorf("%d Management API token requests, want 2 (the first token was refused)", tokens)
			}
		}},
	})
}

func TestFireflyIDsAreGUIDs(t *testing.T) {
	runCases(t, []opCase{
		{name: "a non-GUID id is unknown without a call", op: "getUserById", only: []string{"firefly"}, run: func(t *testing.T, env *Env, p *Provider) {
			r := env.do("GET", userPath("not-a-guid"), nil)
			expectCode(t, r, codes.E404_01)
			p.expectNoCalls(t)
		}},
	})
}
