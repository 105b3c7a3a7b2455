//go:build e2e

package e2e

// Stateful flows across calls, with the provider behaving like one across them: the mocks' own
// scenarios where they have one (auth0-create-then-get, gigya-registration, auth0-password-change,
// gigya-password), and per-case WireMock scenarios emulating the provider's state elsewhere.

import (
	"testing"

	gowiremock "github.com/wiremock/go-wiremock"

	"usersorchestrator/internal/codes"
)

// inScenario puts a stub into a scenario: it matches in state (none: any) and moves to next.
func inScenario(s *gowiremock.StubRule, name, state, next string) *gowiremock.StubRule {
	s = s.InScenario(name)
	if state != "" {
		s = s.WhenScenarioStateIs(state)
	}
	if next != "" {
		s = s.WillSetStateTo(next)
	}
	return s
}

const started = "Started"

// creatable prepares the provider so that email does not exist until it is created, and returns
// the email the case uses: the mocks' own create-then-get scenarios for Auth0 and Gigya, a
// scenario of the case for SSOR and Firefly (their mocks answer any id).
func creatable(t *testing.T, p *Provider) string {
	t.Helper()
	switch p.name {
	case "auth0":
		return "created@example.com"
	case "gigya":
		return "stateful@example.com"
	}
	const email = "created@example.com"
	u := pUser{ID: p.impl.idFor(email), Email: email, First: "Cre", Last: "Ated", Verified: true}
	const sc = "e2e-create-then-get"
	notFound := jsonResponse(404, map[string]any{"error": "user_not_found", "message": "No such user", "status": 404})
	p.stub(t, inScenario(p.impl.match(pGet, u.ID), sc, started, "").WillReturnResponse(notFound))
	p.stub(t, inScenario(p.impl.match(pFind, "").WithQueryParam("email", gowiremock.EqualTo(email)), sc, started, "").WillReturnResponse(p.impl.answer(pFind, nil)))
	p.stub(t, inScenario(p.impl.match(pCreate, "").WithBodyPattern(gowiremock.Contains(`"email":"`+email+`"`)), sc, started, "Created").WillReturnResponse(p.impl.answer(pCreate, &u)))
	p.stub(t, inScenario(p.impl.match(pGet, u.ID), sc, "Created", "").WillReturnResponse(p.impl.answer(pGet, &u)))
	p.stub(t, inScenario(p.impl.match(pFind, "").WithQueryParam("email", gowiremock.EqualTo(email)), sc, "Created", "").WillReturnResponse(p.impl.answer(pFind, &u)))
	return email
}

func TestFlowCreateThenGet(t *testing.T) {
	runCases(t, []opCase{
		{name: "unknown, created, then known to both", op: "createUser", also: []cover{{"getUserById", false}, {"getUsers", false}}, run: func(t *testing.T, env *Env, p *Provider) {
			email := creatable(t, p)
			id := p.impl.idFor(email)
			expectCode(t, env.do("GET", userPath(id), nil), codes.E404_01)
			r := env.do("GET", "/v4/Users"+q("email", email), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 0 {
				t.Fatalf("before the create: %+v", list)
			}
			p.expectCalls(t, append(p.c(pGet, id), p.c(pFind)...)...)
			p.clearJournal(t)

			ref := env.create(obj{"email": email, "password": janePassword, "firstName": "Cre", "lastName": "Ated"})
			if ref.CustomerRegistrationId != id {
				t.Fatalf("created %s, want %s", ref.CustomerRegistrationId, id)
			}
			p.expect(t, pFind, pCreate, id)
			p.clearJournal(t)

			r = env.do("GET", userPath(id), nil)
			expectCode(t, r, codes.S200_01)
			if u := data[apiUser](t, r); u.Email != email || deref(u.FirstName) != "Cre" || !u.Verified || u.State != "Standard" {
				t.Errorf("user %+v", u)
			}
			r = env.do("GET", "/v4/Users"+q("email", email), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 1 || list[0].CustomerRegistrationID != id {
				t.Errorf("after the create: %+v", list)
			}
			p.expect(t, pGet, id, pFind)

			// A second create of the address is refused by Subscribe before the provider is asked.
			p.clearJournal(t)
			expectCode(t, env.do("POST", "/v4/Users", obj{"email": email, "password": janePassword}), codes.E400_08)
			p.expectNoCalls(t)
			p.expectAllMatched(t)
		}},
	})
}

func TestFlowCreateThenLogin(t *testing.T) {
	runCases(t, []opCase{
		{name: "the created user logs in through the provider", op: "createUser", also: []cover{{"authenticate", false}}, run: func(t *testing.T, env *Env, p *Provider) {
			email := creatable(t, p)
			ref := env.create(obj{"email": email, "password": janePassword, "firstName": "Cre", "lastName": "Ated"})
			p.clearJournal(t)
			a := env.login(obj{"loginName": email, "password": janePassword})
			if a.User.CustomerRegistrationID != ref.CustomerRegistrationId || a.User.Email != email || deref(a.User.FirstName) != "Cre" {
				t.Errorf("logged in as %+v", a.User)
			}
			if cookie(a, "uo_session") == "" || cookie(a, p.impl.tokenNames()[0]) == "" {
				t.Errorf("cookie tokens %q", tokenNames(a))
			}
			p.expect(t, pLogin, pGet, ref.CustomerRegistrationId)
			expectFields(t, "login", p.fields(t, pLogin, ""), map[string]string{"loginName": email, "password": janePassword})

			// The session the login issued identifies the user.
			r := env.do("GET", "/v4/Users"+q("token", cookie(a, "uo_session"), "ignoreProvider", "true"), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 1 || list[0].CustomerRegistrationID != ref.CustomerRegistrationId {
				t.Errorf("session resolves to %+v", list)
			}
			expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": email, "password": "wrong-password"}), codes.E400_10)
			p.expectAllMatched(t)
		}},
	})
}

// Passwords of the password scenarios: the Auth0 mock takes NewPassw0rd! as the new password,
// the Gigya mock Old-Passw0rd! as the old one.
const (
	oldPW = "Old-Passw0rd!"
	newPW = "NewPassw0rd!"
)

// passwordUser makes pwchange@example.com a user of the tenant whose provider accepts oldPW until
// its password is changed to newPW, and newPW only then: the mocks' scenarios for Auth0 and
// Gigya, a scenario of the case for SSOR and Firefly.
func passwordUser(t *testing.T, env *Env, p *Provider) string {
	t.Helper()
	const email = "pwchange@example.com"
	id := p.impl.idFor(email)
	u := pUser{ID: id, Email: email, Verified: true}
	if p.name == "ssor" || p.name == "firefly" {
		p.stubAnswer(t, pGet, id, &u)
		const sc = "e2e-password"
		p.stub(t, inScenario(p.impl.matchLogin(email, newPW), sc, started, "").WillReturnResponse(p.impl.refuseLogin()))
		p.stub(t, inScenario(p.impl.match(pPassword, id).WithBodyPattern(gowiremock.Contains(`"newPassword":"`+newPW+`"`)), sc, started, "changed").
			WillReturnResponse(p.impl.answer(pPassword, &u)))
		p.stub(t, inScenario(p.impl.matchLogin(email, oldPW), sc, "changed", "").WillReturnResponse(p.impl.refuseLogin()))
	}
	// The provider's user exists: it becomes a registration by its id.
	ref := env.create(obj{"email": email, "customerRegistrationId": id})
	if ref.CustomerRegistrationId != id {
		t.Fatalf("id %s, want %s", ref.CustomerRegistrationId, id)
	}
	p.clearJournal(t)
	return email
}

func TestFlowChangePasswordThenLogin(t *testing.T) {
	runCases(t, []opCase{
		{name: "only the new password works after the change", op: "updatePassword", also: []cover{{"authenticate", false}}, run: func(t *testing.T, env *Env, p *Provider) {
			email := passwordUser(t, env, p)
			id := p.impl.idFor(email)
			if p.name != "gigya" { // Gigya's scenario accepts only the old password before
				expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": email, "password": newPW}), codes.E400_10)
			}
			env.login(obj{"loginName": email, "password": oldPW})
			p.clearJournal(t)

			expectCode(t, env.do("PATCH", userPath(id, "/Password"), obj{"password": newPW}), codes.S200_11)
			p.expect(t, pGet, id, pPassword, id)

			expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": email, "password": oldPW}), codes.E400_10)
			if a := env.login(obj{"loginName": email, "password": newPW}); a.User.CustomerRegistrationID != id {
				t.Errorf("logged in as %+v", a.User)
			}
			p.expectAllMatched(t)
		}},
	})
}

func TestFlowForgotPasswordThenLogin(t *testing.T) {
	runCases(t, []opCase{
		{name: "the emailed link sets the provider's password", op: "finishForgotPassword",
			also: []cover{{"startForgotPassword", false}, {"validateForgotPassword", false}, {"authenticate", false}},
			run: func(t *testing.T, env *Env, p *Provider) {
				email := passwordUser(t, env, p)
				id := p.impl.idFor(email)
				expectCode(t, env.do("POST", "/v4/Users/ForgotPassword", obj{"loginName": email}), codes.S200_08)
				enc := linkParam(t, env.mail(email, "Reset"), "encryptedEventId")
				r := env.do("POST", "/v4/Users/ForgotPassword/Validity", obj{"encryptedEventId": enc})
				expectCode(t, r, codes.S200_09)
				expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": newPW}), codes.S200_10)
				p.expect(t, pGet, id, pPassword, id)
				expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": email, "password": oldPW}), codes.E400_10)
				env.login(obj{"loginName": email, "password": newPW})
				env.mail(email, "password") // the notice of the change
				p.expectAllMatched(t)
			}},
	})
}

func TestFlowChangeEmailThenLogin(t *testing.T) {
	runCases(t, []opCase{
		{name: "the new email logs in, the old one no longer", op: "updateEmail", also: []cover{{"authenticate", false}}, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			const newEmail = "jane.renamed@example.com"
			changed := u
			changed.Email = newEmail
			// The provider's state: after the change its user has the new address, which logs in
			// as that user, and the old address is unknown.
			const sc = "e2e-email"
			p.stub(t, inScenario(p.impl.match(pEmail, u.ID), sc, started, "changed").WillReturnResponse(p.impl.answer(pEmail, &changed)))
			p.stub(t, inScenario(p.impl.match(pGet, u.ID), sc, "changed", "").WillReturnResponse(p.impl.answer(pGet, &changed)))
			p.stub(t, inScenario(p.impl.matchLogin(newEmail, ""), sc, "changed", "").WillReturnResponse(p.impl.answer(pLogin, &changed)))
			p.stub(t, inScenario(p.impl.matchLogin(janeEmail, ""), sc, "changed", "").WillReturnResponse(p.impl.refuseLogin()))

			expectCode(t, env.do("PATCH", userPath(u.ID, "/Email"), obj{"email": newEmail}), codes.S200_12)
			p.expect(t, pGet, u.ID, pEmail, u.ID)
			p.clearJournal(t)

			a := env.login(obj{"loginName": newEmail, "password": janePassword})
			if a.User.CustomerRegistrationID != u.ID || a.User.Email != newEmail {
				t.Errorf("logged in as %+v", a.User)
			}
			p.expect(t, pLogin, pGet, u.ID)
			expectFields(t, "login", p.fields(t, pLogin, ""), map[string]string{"loginName": newEmail})
			expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": janeEmail, "password": janePassword}), codes.E400_10)
			if reg, _ := env.reg(u.ID); reg.Email != newEmail {
				t.Errorf("stored email %s", reg.Email)
			}
			p.expectAllMatched(t)
		}},
	})
}

func TestFlowVerifyEmail(t *testing.T) {
	runCases(t, []opCase{
		{name: "pending until the emailed code is confirmed", op: "verifyEmail", also: []cover{{"createUser", false}, {"getUserById", false}}, run: func(t *testing.T, env *Env, p *Provider) {
			const email = "flow.verify@example.com"
			ref := env.create(obj{"email": email, "password": janePassword, "verifyEmail": true})
			id := ref.CustomerRegistrationId
			// The provider says verified (the mocks do): a pending registration stays unverified.
			p.stubAnswer(t, pGet, id, &pUser{ID: id, Email: email, Verified: true})
			r := env.do("GET", userPath(id), nil)
			expectCode(t, r, codes.S200_01)
			if data[apiUser](t, r).Verified {
				t.Errorf("a pending registration shows verified")
			}
			code := linkParam(t, env.mail(email, "verification code"), "verificationCode")
			expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": code}), codes.S200_13)
			r = env.do("GET", userPath(id), nil)
			expectCode(t, r, codes.S200_01)
			if !data[apiUser](t, r).Verified {
				t.Errorf("not verified after Verify Email")
			}
		}},
	})
}
