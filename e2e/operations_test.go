//go:build e2e

package e2e

// Every operation of openapi.yaml, for every provider, with ignoreProvider=false and (where the
// operation has the flag) true: the answer, the events recorded, the provider calls made (and not
// made), the data merged and the registration left in Subscribe.

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"usersorchestrator/internal/codes"
)

// ---------------------------------------------------------------------------------------------
// GET /v4/Users/{customerRegistrationId}

func TestGetUserById(t *testing.T) {
	runCases(t, []opCase{
		{name: "provider data is merged into Subscribe", op: "getUserById", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			// The provider is the system of record for what it holds: a changed first name and
			// plan; Subscribe keeps its own keys (city).
			changed := u
			changed.First, changed.Metadata = "Janet", map[string]string{"plan": "gold"}
			p.stubAnswer(t, pGet, u.ID, &changed)
			n := len(env.events(u.ID))

			r := env.do("GET", userPath(u.ID), nil)
			expectCode(t, r, codes.S200_01)
			want := map[string]string{"plan": "gold", "city": "Paris"}
			expectUser(t, data[apiUser](t, r), u.ID, janeEmail, "Janet", "Doe", want)
			if got := data[apiUser](t, r); got.State != "Standard" || !got.Verified {
				t.Errorf("state %s verified %v, want Standard and verified", got.State, got.Verified)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID)
			reg, _ := env.reg(u.ID)
			if deref(reg.FirstName) != "Janet" || !maps.Equal(reg.Metadata, want) || reg.AuthSystem != p.flow {
				t.Errorf("stored %s %v %q, want Janet %v %s", deref(reg.FirstName), reg.Metadata, reg.AuthSystem, want, p.flow)
			}
		}},
		{name: "unchanged provider data writes nothing", op: "getUserById", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("GET", userPath(u.ID)+q("ignoreProvider", "false"), nil)
			expectCode(t, r, codes.S200_01)
			expectUser(t, data[apiUser](t, r), u.ID, janeEmail, "Jane", "Doe", janeMetadata())
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID)
		}},
		{name: "ignoreProvider reads Subscribe only", op: "getUserById", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			changed := u
			changed.First = "Janet"
			p.stubAnswer(t, pGet, u.ID, &changed)
			n := len(env.events(u.ID))
			r := env.do("GET", userPath(u.ID)+q("ignoreProvider", "true"), nil)
			expectCode(t, r, codes.S200_01)
			expectUser(t, data[apiUser](t, r), u.ID, janeEmail, "Jane", "Doe", janeMetadata())
			expectEvents(t, env.eventsSince(n, u.ID), []string{ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID)})
			p.expectNoCalls(t)
		}},
		{name: "a user only the provider knows is copied into Subscribe", op: "getUserById", run: func(t *testing.T, env *Env, p *Provider) {
			email := "only.provider@example.com"
			u := pUser{ID: p.impl.idFor(email), Email: email, First: "Only", Last: "Provider", Verified: true, Metadata: map[string]string{"plan": "gold"}}
			p.stubAnswer(t, pGet, u.ID, &u)
			r := env.do("GET", userPath(u.ID), nil)
			expectCode(t, r, codes.S200_01)
			expectUser(t, data[apiUser](t, r), u.ID, email, "Only", "Provider", u.Metadata)
			expectEvents(t, env.events(u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID)
			reg, ok := env.reg(u.ID)
			if !ok || reg.Email != email || reg.AuthSystem != p.flow || !reg.Verified || reg.PasswordHash != "" {
				t.Errorf("stored %+v (found %v)", reg, ok)
			}
		}},
		{name: "ignoreProvider does not see a user only the provider knows", op: "getUserById", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			email := "only.provider@example.com"
			u := pUser{ID: p.impl.idFor(email), Email: email, Verified: true}
			p.stubAnswer(t, pGet, u.ID, &u)
			r := env.do("GET", userPath(u.ID)+q("ignoreProvider", "true"), nil)
			expectCode(t, r, codes.E404_01)
			expectEvents(t, env.events(u.ID), []string{ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID)})
			p.expectNoCalls(t)
			if env.countRegs() != 0 {
				t.Errorf("a registration was created")
			}
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// GET /v4/Users

func TestGetUsers(t *testing.T) {
	runCases(t, []opCase{
		{name: "by email through the provider", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			changed := u
			changed.Last = "Doe-Smith"
			p.stubAnswer(t, pFind, "", &changed)
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("email", janeEmail), nil)
			expectCode(t, r, codes.S200_01)
			list := data[userList](t, r).Users
			if len(list) != 1 {
				t.Fatalf("users %+v", list)
			}
			expectUser(t, list[0], u.ID, janeEmail, "Jane", "Doe-Smith", janeMetadata())
			if r.Meta["totalCount"] != float64(1) || r.Meta["pageNumber"] != float64(1) || r.Meta["pageSize"] != float64(20) {
				t.Errorf("meta %v", r.Meta)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_SEARCH", 4604, "Success", u.ID),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", u.ID),
			})
			p.expect(t, pFind)
			if p.name == "ssor" || p.name == "firefly" {
				expectFields(t, "find", p.fields(t, pFind, ""), map[string]string{"query.email": janeEmail})
			}
		}},
		{name: "by email with ignoreProvider", op: "getUsers", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("email", janeEmail, "ignoreProvider", "true"), nil)
			expectCode(t, r, codes.S200_01)
			list := data[userList](t, r).Users
			if len(list) != 1 || list[0].CustomerRegistrationID != u.ID {
				t.Fatalf("users %+v", list)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID)})
			p.expectNoCalls(t)
		}},
		{name: "by encrypted id (AUTHSYSTEM_USER_GET)", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			enc := env.GetUser(u.ID, env.As(env.Tenant)).EncryptedCustomerRegistrationId
			p.clearJournal(t)
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("encryptedCustomerRegistrationId", enc), nil)
			expectCode(t, r, codes.S200_01)
			list := data[userList](t, r).Users
			if len(list) != 1 || list[0].CustomerRegistrationID != u.ID || list[0].EncryptedCustomerRegistrationID != enc {
				t.Fatalf("users %+v", list)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID)
		}},
		{name: "by encrypted id with ignoreProvider", op: "getUsers", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			enc := env.GetUser(u.ID, env.As(env.Tenant)).EncryptedCustomerRegistrationId
			p.clearJournal(t)
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("encryptedCustomerRegistrationId", enc, "ignoreProvider", "true"), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 1 || list[0].CustomerRegistrationID != u.ID {
				t.Fatalf("users %+v", list)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID)})
			p.expectNoCalls(t)
		}},
		{name: "by encrypted email (AUTHSYSTEM_USER_GET)", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			p.stubAnswer(t, pFind, "", &u)
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("encryptedEmail", env.SealEmail(janeEmail)), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 1 || list[0].CustomerRegistrationID != u.ID {
				t.Fatalf("users %+v", list)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID),
			})
			p.expect(t, pFind)
		}},
		{name: "by provider access token (AUTHSYSTEM_USER_GET)", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			if p.name != "auth0" {
				p.stubAnswer(t, pToken, "", &u) // auth0: /userinfo of the mock, then the stubbed GET
			}
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("token", p.impl.tokenFor(janeEmail)), nil)
			expectCode(t, r, codes.S200_01)
			list := data[userList](t, r).Users
			if len(list) != 1 {
				t.Fatalf("users %+v", list)
			}
			expectUser(t, list[0], u.ID, janeEmail, "Jane", "Doe", janeMetadata())
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID),
			})
			p.expect(t, pToken, u.ID)
			if tok := header(p.journal(t)[0].Req, "Authorization"); p.name != "gigya" && tok != "Bearer "+p.impl.tokenFor(janeEmail) {
				t.Errorf("token call sent Authorization %q", tok)
			}
		}},
		{name: "by session token with ignoreProvider", op: "getUsers", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			session := cookie(env.login(obj{"loginName": janeEmail, "password": janePassword}), "uo_session")
			p.clearJournal(t)
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("token", session, "ignoreProvider", "true"), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 1 || list[0].CustomerRegistrationID != u.ID {
				t.Fatalf("users %+v", list)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID)})
			p.expectNoCalls(t)
		}},
		{name: "a provider token with ignoreProvider is not accepted", op: "getUsers", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			env.providerUser()
			r := env.do("GET", "/v4/Users"+q("token", p.impl.tokenFor(janeEmail), "ignoreProvider", "true"), nil)
			expectCode(t, r, codes.E400_13)
			p.expectNoCalls(t)
		}},
		{name: "search imports the provider's matches", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			otherEmail := "john.doe@example.com"
			other := pUser{ID: p.impl.idFor(otherEmail), Email: otherEmail, First: "John", Last: "Doe", Verified: true}
			p.stubAnswer(t, pSearch, "", &other)
			n := len(env.events(u.ID, other.ID))
			r := env.do("GET", "/v4/Users"+q("lastName", "Doe", "orderBy", "email"), nil)
			expectCode(t, r, codes.S200_01)
			list := data[userList](t, r).Users
			if len(list) != 2 || list[0].CustomerRegistrationID != u.ID || list[1].CustomerRegistrationID != other.ID {
				t.Fatalf("users %+v", list)
			}
			expectUser(t, list[1], other.ID, otherEmail, "John", "Doe", map[string]string{})
			expectEvents(t, env.eventsSince(n, u.ID, other.ID), []string{
				ev("AUTHSYSTEM_USER_SEARCH", 4604, "Success", ""),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", other.ID),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", ""),
			})
			p.expect(t, pSearch)
			if reg, ok := env.reg(other.ID); !ok || reg.AuthSystem != p.flow {
				t.Errorf("the provider's user was not imported: %+v", reg)
			}
		}},
		{name: "search by id imports the provider's user", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			email := "only.provider@example.com"
			u := pUser{ID: p.impl.idFor(email), Email: email, First: "Only", Last: "Provider", Verified: true}
			p.stubAnswer(t, pGet, u.ID, &u)
			r := env.do("GET", "/v4/Users"+q("customerRegistrationId", u.ID), nil)
			expectCode(t, r, codes.S200_01)
			list := data[userList](t, r).Users
			if len(list) != 1 {
				t.Fatalf("users %+v", list)
			}
			expectUser(t, list[0], u.ID, email, "Only", "Provider", map[string]string{})
			expectEvents(t, env.events(u.ID), []string{
				ev("AUTHSYSTEM_USER_SEARCH", 4604, "Success", u.ID),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", u.ID),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", u.ID),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", ""),
			})
			p.expect(t, pGet, u.ID)
		}},
		{name: "search with ignoreProvider", op: "getUsers", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("GET", "/v4/Users"+q("lastName", "Doe", "ignoreProvider", "true"), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 1 || list[0].CustomerRegistrationID != u.ID {
				t.Fatalf("users %+v", list)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{ev("SUBSCRIBE_USER_GET", 4000, "Success", "")})
			p.expectNoCalls(t)
		}},
		{name: "an email nobody has is an empty list", op: "getUsers", run: func(t *testing.T, env *Env, p *Provider) {
			r := env.do("GET", "/v4/Users"+q("email", "nobody.here@example.com"), nil)
			expectCode(t, r, codes.S200_01)
			if list := data[userList](t, r).Users; len(list) != 0 {
				t.Fatalf("users %+v", list)
			}
			p.expect(t, pFind)
			expectEvents(t, env.events(), []string{
				ev("AUTHSYSTEM_USER_SEARCH", 4604, "Success", ""),
				ev("SUBSCRIBE_USER_GET", 4000, "Success", ""),
			})
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// POST /v4/Users

func TestCreateUser(t *testing.T) {
	runCases(t, []opCase{
		{name: "with a password", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			email := "New.User@Example.com"
			ref := env.create(obj{"email": email, "password": janePassword, "firstName": "New", "lastName": "User", "metadata": obj{"plan": "basic"}})
			id := p.impl.idFor(email)
			if ref.CustomerRegistrationId != id || ref.EncryptedCustomerRegistrationId == "" {
				t.Fatalf("ref %+v, want id %s", ref, id)
			}
			expectEvents(t, env.events(id), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Success", id),
				ev("SUBSCRIBE_USER_CREATE", 4002, "Success", id),
			})
			p.expect(t, pFind, pCreate, id)
			expectFields(t, "create", p.fields(t, pCreate, id), map[string]string{
				"email": email, "password": janePassword, "firstName": "New", "lastName": "User",
				"metadata.plan": "basic", "emailVerified": "true",
			})
			reg, ok := env.reg(id)
			if !ok || reg.AuthSystem != p.flow || reg.PasswordHash != "" || !reg.Verified || reg.Pending || reg.Email != email || reg.AddSource != "apitest" {
				t.Errorf("stored %+v (found %v): want the provider's user, verified, no local password", reg, ok)
			}
			if body := env.mail(email, "Welcome"); strings.Contains(body, "http") {
				t.Errorf("a welcome email with a password has no link:\n%s", body)
			}
		}},
		{name: "passwordless: the provider's link is emailed", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			email := "no.password@example.com"
			ref := env.create(obj{"email": email, "firstName": "No"})
			id := p.impl.idFor(email)
			if ref.CustomerRegistrationId != id {
				t.Fatalf("id %s, want %s", ref.CustomerRegistrationId, id)
			}
			expectEvents(t, env.events(id), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Success", id),
				ev("AUTHSYSTEM_USER_CHANGEPASSWORD", 4609, "Success", id),
				ev("SUBSCRIBE_USER_CREATE", 4002, "Success", id),
			})
			p.expect(t, pFind, pCreate, id, pLink, id)
			f := p.fields(t, pCreate, id)
			if len(f["password"]) < 16 {
				t.Errorf("the provider got a weak dummy password %q", f["password"])
			}
			body := env.mail(email, "Welcome")
			var link string
			for _, l := range strings.Fields(body) {
				if strings.HasPrefix(l, "http") {
					link = l
				}
			}
			want := map[string]string{
				"auth0":   p.srv.URL + "/u/reset-password?ticket=",
				"gigya":   returnURL + "?pwrt=",
				"ssor":    "https://ssor.example/password/",
				"firefly": "https://firefly.example/password/",
			}[p.name]
			if !strings.HasPrefix(link, want) || strings.Contains(link, "encryptedEventId") {
				t.Errorf("welcome link %q, want the provider's link %s...\n%s", link, want, body)
			}
			if reg, _ := env.reg(id); reg.PasswordHash != "" {
				t.Errorf("the dummy password was stored")
			}
			if p.name == "auth0" || p.name == "ssor" || p.name == "firefly" {
				expectFields(t, "link", p.fields(t, pLink, id), map[string]string{"returnUrl": returnURL})
			}
		}},
		{name: "verifyEmail: created pending, the code is emailed", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			email := "to.verify@example.com"
			ref := env.create(obj{"email": email, "password": janePassword, "verifyEmail": true})
			id := p.impl.idFor(email)
			expectEvents(t, env.events(ref.CustomerRegistrationId), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", ""),
				ev("AUTHSYSTEM_USER_CREATE", 4602, "Success", id),
				ev("SUBSCRIBE_USER_CREATEPENDING", 4003, "Success", id),
			})
			p.expect(t, pFind, pCreatePending, id)
			f := p.fields(t, pCreatePending, id)
			if p.name != "gigya" && f["emailVerified"] != "false" {
				t.Errorf("the provider user must be created unverified: %v", f)
			}
			reg, _ := env.reg(id)
			if !reg.Pending || reg.Verified {
				t.Errorf("stored %+v, want pending", reg)
			}
			linkParam(t, env.mail(email, "verification code"), "verificationCode")
		}},
		{name: "an existing provider user by its id", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			email := "in.provider@example.com"
			u := pUser{ID: p.impl.idFor(email), Email: email, Verified: true}
			p.stubAnswer(t, pGet, u.ID, &u)
			ref := env.create(obj{"email": email, "customerRegistrationId": u.ID, "password": janePassword})
			if ref.CustomerRegistrationId != u.ID {
				t.Fatalf("id %s", ref.CustomerRegistrationId)
			}
			expectEvents(t, env.events(u.ID), []string{
				ev("AUTHSYSTEM_USER_GET", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_CREATE", 4002, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID)
			if reg, _ := env.reg(u.ID); reg.AuthSystem != p.flow {
				t.Errorf("stored %+v", reg)
			}
		}},
		{name: "an existing provider user whose email differs is refused", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			u := pUser{ID: p.impl.idFor("in.provider@example.com"), Email: "in.provider@example.com", Verified: true}
			p.stubAnswer(t, pGet, u.ID, &u)
			r := env.do("POST", "/v4/Users", obj{"email": "someone.else@example.com", "customerRegistrationId": u.ID})
			expectCode(t, r, codes.E400_00)
			if want := "Invalid InputModel - body.email: differs from the email of the provider's user"; r.Message.Text != want {
				t.Errorf("text %q, want %q", r.Message.Text, want)
			}
			p.expect(t, pGet, u.ID)
			if env.countRegs() != 0 {
				t.Errorf("a registration was written")
			}
		}},
		{name: "an id the provider does not know is refused", op: "createUser", run: func(t *testing.T, env *Env, p *Provider) {
			id := providerTriggers[p.name].notFoundID
			r := env.do("POST", "/v4/Users", obj{"email": "someone.else@example.com", "customerRegistrationId": id})
			expectCode(t, r, codes.E400_00)
			if want := "Invalid InputModel - body.customerRegistrationId: no user of the provider has this id"; r.Message.Text != want {
				t.Errorf("text %q, want %q", r.Message.Text, want)
			}
			p.expect(t, pGet, id)
			expectEvents(t, env.events(id), []string{ev("AUTHSYSTEM_USER_GET", 4601, "Success", id)})
		}},
		{name: "ignoreProvider creates in Subscribe only", op: "createUser", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			email := "local.only@example.com"
			ref := env.localUser(email, janePassword, obj{"firstName": "Local"})
			id := ref.CustomerRegistrationId
			if id == p.impl.idFor(email) || len(id) != 36 {
				t.Errorf("id %q, want a UUID of the service", id)
			}
			expectEvents(t, env.events(id), []string{ev("SUBSCRIBE_USER_CREATE", 4002, "Success", id)})
			p.expectNoCalls(t)
			reg, _ := env.reg(id)
			if reg.AuthSystem != "" || !strings.HasPrefix(reg.PasswordHash, "$argon2id$") || !reg.Verified {
				t.Errorf("stored %+v", reg)
			}
			env.mail(email, "Welcome")
		}},
		{name: "ignoreProvider passwordless: the service's own link is emailed", op: "createUser", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			email := "local.nopassword@example.com"
			ref := env.create(obj{"email": email, "ignoreProvider": true})
			id := ref.CustomerRegistrationId
			expectEvents(t, env.events(id), []string{
				ev("SUBSCRIBE_USER_STARTFORGOTPASSWORD", 4009, "Success", id),
				ev("SUBSCRIBE_USER_CREATE", 4002, "Success", id),
			})
			p.expectNoCalls(t)
			linkParam(t, env.mail(email, "Welcome"), "encryptedEventId")
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// PUT /v4/Users/{customerRegistrationId}

func TestUpdateUser(t *testing.T) {
	runCases(t, []opCase{
		{name: "through the provider", op: "updateUser", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("PUT", userPath(u.ID), obj{"firstName": "Janet", "metadata": obj{"plan": "gold", "city": nil}, "verified": true})
			expectCode(t, r, codes.S200_07)
			expectUser(t, data[apiUser](t, r), u.ID, janeEmail, "Janet", "Doe", map[string]string{"plan": "gold"})
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_UPDATE", 4603, "Success", u.ID),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID, pUpdate, u.ID)
			f := p.fields(t, pUpdate, u.ID)
			expectFields(t, "update", f, map[string]string{"firstName": "Janet", "metadata.plan": "gold", "metadata.city": "<null>", "emailVerified": "true"})
			if _, ok := f["lastName"]; ok {
				t.Errorf("a field not changed was sent: %v", f)
			}
			reg, _ := env.reg(u.ID)
			if deref(reg.FirstName) != "Janet" || !maps.Equal(reg.Metadata, map[string]string{"plan": "gold"}) || reg.ChangeSource != "apitest" {
				t.Errorf("stored %+v", reg)
			}
		}},
		{name: "only lastLogoutDate does not reach the provider", op: "updateUser", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			r := env.do("PUT", userPath(u.ID), obj{"lastLogoutDate": at.Format(time.RFC3339)})
			expectCode(t, r, codes.S200_07)
			if got := data[apiUser](t, r).LastLogoutDate; got == nil || !got.Equal(at) {
				t.Errorf("lastLogoutDate %v", got)
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID)
		}},
		{name: "ignoreProvider changes Subscribe only", op: "updateUser", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("PUT", userPath(u.ID), obj{"lastName": "Local", "ignoreProvider": true})
			expectCode(t, r, codes.S200_07)
			expectUser(t, data[apiUser](t, r), u.ID, janeEmail, "Jane", "Local", janeMetadata())
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_UPDATE", 4004, "Success", u.ID),
			})
			p.expectNoCalls(t)
			if reg, _ := env.reg(u.ID); deref(reg.LastName) != "Local" {
				t.Errorf("stored %+v", reg)
			}
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// PATCH /v4/Users/{customerRegistrationId}/Password

func TestUpdatePassword(t *testing.T) {
	runCases(t, []opCase{
		{name: "through the provider", op: "updatePassword", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("PATCH", userPath(u.ID, "/Password"), obj{"password": newPassword})
			expectCode(t, r, codes.S200_11)
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_CHANGEPASSWORD", 4609, "Success", u.ID),
				ev("SUBSCRIBE_USER_CHANGEPASSWORD", 4010, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID, pPassword, u.ID)
			expectFields(t, "password", p.fields(t, pPassword, u.ID), map[string]string{"password": newPassword})
			if reg, _ := env.reg(u.ID); reg.PasswordHash != "" {
				t.Errorf("a provider user's password was stored in Subscribe")
			}
			env.mail(janeEmail, "password")
		}},
		{name: "ignoreProvider stores the hash in Subscribe", op: "updatePassword", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("PATCH", userPath(u.ID, "/Password"), obj{"password": newPassword, "ignoreProvider": true})
			expectCode(t, r, codes.S200_11)
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_CHANGEPASSWORD", 4010, "Success", u.ID),
			})
			p.expectNoCalls(t)
			if reg, _ := env.reg(u.ID); !strings.HasPrefix(reg.PasswordHash, "$argon2id$") {
				t.Errorf("no hash stored: %q", reg.PasswordHash)
			}
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// PATCH /v4/Users/{customerRegistrationId}/Email

func TestUpdateEmail(t *testing.T) {
	runCases(t, []opCase{
		{name: "through the provider", op: "updateEmail", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			const newEmail = "jane.new@example.com"
			r := env.do("PATCH", userPath(u.ID, "/Email"), obj{"email": newEmail})
			expectCode(t, r, codes.S200_12)
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_CHANGEEMAIL", 4610, "Success", u.ID),
				ev("SUBSCRIBE_USER_CHANGEEMAIL", 4011, "Success", u.ID),
			})
			p.expect(t, pGet, u.ID, pEmail, u.ID)
			want := map[string]string{"email": newEmail}
			if p.name == "gigya" {
				want = map[string]string{"email": newEmail, "addLoginEmails": newEmail, "removeLoginEmails": janeEmail}
			}
			expectFields(t, "email", p.fields(t, pEmail, u.ID), want)
			if reg, _ := env.reg(u.ID); reg.Email != newEmail {
				t.Errorf("stored email %s", reg.Email)
			}
			env.mail(janeEmail, "email")
		}},
		{name: "ignoreProvider changes Subscribe only", op: "updateEmail", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			r := env.do("PATCH", userPath(u.ID, "/Email"), obj{"email": "jane.local@example.com", "ignoreProvider": true})
			expectCode(t, r, codes.S200_12)
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_CHANGEEMAIL", 4011, "Success", u.ID),
			})
			p.expectNoCalls(t)
			if reg, _ := env.reg(u.ID); reg.Email != "jane.local@example.com" {
				t.Errorf("stored email %s", reg.Email)
			}
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// POST /v4/Users/Authentication

func TestAuthenticate(t *testing.T) {
	runCases(t, []opCase{
		{name: "password through the provider", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			n := len(env.events(u.ID))
			a := env.login(obj{"loginName": janeEmail, "password": janePassword})
			expectUser(t, a.User, u.ID, janeEmail, "Jane", "Doe", janeMetadata())
			if want := append([]string{"uo_session"}, p.impl.tokenNames()...); !slices.Equal(tokenNames(a), want) {
				t.Errorf("cookie tokens %q, want %q", tokenNames(a), want)
			}
			for _, c := range a.CookieTokens {
				if d, err := strconv.Atoi(c.DurationDays); c.Content == "" || err != nil || d < 1 {
					t.Errorf("cookie token %+v", c)
				}
			}
			if tok := cookie(a, p.impl.tokenNames()[0]); tok != p.impl.tokenFor(janeEmail) {
				t.Errorf("provider token %q, want the one the provider issued %q", tok, p.impl.tokenFor(janeEmail))
			}
			expectEvents(t, env.eventsSince(n, u.ID), []string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("AUTHSYSTEM_USER_LOGIN", 4605, "Success", u.ID),
				ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
				ev("SUBSCRIBE_USER_LOGIN", 4006, "Success", u.ID),
			})
			p.expect(t, pLogin, pGet, u.ID)
			expectFields(t, "login", p.fields(t, pLogin, ""), map[string]string{"loginName": janeEmail, "password": janePassword})
		}},
		{name: "password with ignoreProvider checks Subscribe's hash", op: "authenticate", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			ref := env.localUser("local.login@example.com", janePassword, nil)
			n := len(env.events(ref.CustomerRegistrationId))
			a := env.login(obj{"loginName": "local.login@example.com", "password": janePassword, "ignoreProvider": true})
			if a.User.CustomerRegistrationID != ref.CustomerRegistrationId || !slices.Equal(tokenNames(a), []string{"uo_session"}) {
				t.Errorf("login %+v", a)
			}
			expectEvents(t, env.eventsSince(n, ref.CustomerRegistrationId), []string{
				ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", ref.CustomerRegistrationId),
				ev("SUBSCRIBE_USER_LOGIN", 4006, "Success", ref.CustomerRegistrationId),
			})
			p.expectNoCalls(t)
			r := env.do("POST", "/v4/Users/Authentication", obj{"loginName": "local.login@example.com", "password": "Wr0ng-password", "ignoreProvider": true})
			expectCode(t, r, codes.E400_10)
			p.expectNoCalls(t)
		}},
		{name: "password with ignoreProvider: a provider user has no password in Subscribe", op: "authenticate", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			r := env.do("POST", "/v4/Users/Authentication", obj{"loginName": janeEmail, "password": janePassword, "ignoreProvider": true})
			expectCode(t, r, codes.E400_12)
			p.expectNoCalls(t)
			evs := env.events(u.ID)
			expectEvents(t, evs[len(evs)-1:], []string{ev("SUBSCRIBE_USER_LOGIN", 4006, "Failure", u.ID)})
		}},
		{name: "a Subscribe-only user of a provider tenant logs in without the provider", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			ref := env.localUser("local.login@example.com", janePassword, nil)
			a := env.login(obj{"loginName": "local.login@example.com", "password": janePassword})
			if a.User.CustomerRegistrationID != ref.CustomerRegistrationId || !slices.Equal(tokenNames(a), []string{"uo_session"}) {
				t.Errorf("login %+v", a)
			}
			p.expectNoCalls(t)
		}},
		{name: "provider access token", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			if p.name != "auth0" {
				p.stubAnswer(t, pToken, "", &u)
			}
			a := env.login(obj{"token": p.impl.tokenFor(janeEmail)})
			expectUser(t, a.User, u.ID, janeEmail, "Jane", "Doe", janeMetadata())
			if !slices.Equal(tokenNames(a), []string{"uo_session"}) {
				t.Errorf("cookie tokens %q", tokenNames(a))
			}
			p.expect(t, pToken, u.ID)
		}},
		{name: "session token with ignoreProvider", op: "authenticate", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			session := cookie(env.login(obj{"loginName": janeEmail, "password": janePassword}), "uo_session")
			p.clearJournal(t)
			a := env.login(obj{"token": session, "ignoreProvider": true})
			if a.User.CustomerRegistrationID != u.ID {
				t.Errorf("user %+v", a.User)
			}
			p.expectNoCalls(t)
		}},
		{name: "session token through the provider", op: "authenticate", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			session := cookie(env.login(obj{"loginName": janeEmail, "password": janePassword}), "uo_session")
			p.clearJournal(t)
			a := env.login(obj{"token": session})
			if a.User.CustomerRegistrationID != u.ID || cookie(a, "uo_session") == "" {
				t.Errorf("login %+v", a)
			}
			p.expect(t, pGet, u.ID)
		}},
		{name: "a provider token with ignoreProvider is refused", op: "authenticate", ignore: true, run: func(t *testing.T, env *Env, p *Provider) {
			env.providerUser()
			r := env.do("POST", "/v4/Users/Authentication", obj{"token": p.impl.tokenFor(janeEmail), "ignoreProvider": true})
			expectCode(t, r, codes.E400_13)
			p.expectNoCalls(t)
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// GET /v4/Users/{customerRegistrationId}/Events

func TestGetUserEvents(t *testing.T) {
	runCases(t, []opCase{
		{name: "lists what the store recorded, newest first, and asks no provider", op: "getUserEvents", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			env.do("GET", userPath(u.ID), nil)
			p.clearJournal(t)
			got := env.apiEvents(u.ID)
			var want []string
			for _, e := range env.events(u.ID) {
				f := strings.Fields(e)
				if len(f) == 4 && f[3] == u.ID { // the API lists the user's own events
					want = append(want, strings.Join(f[:3], " "))
				}
			}
			if !slices.Equal(got, want) || len(want) != 4 {
				t.Errorf("events %q, want %q", got, want)
			}
			r := env.do("GET", userPath(u.ID, "/Events")+q("pageSize", "1", "pageNumber", "2"), nil)
			expectCode(t, r, codes.S200_01)
			if r.Meta["totalCount"] != float64(len(want)) || r.Meta["pageSize"] != float64(1) {
				t.Errorf("meta %v", r.Meta)
			}
			if after := env.events(u.ID); len(after) != len(want)+1 { // + the AUTHSYSTEM_USER_GET of the create
				t.Errorf("reading events recorded events: %q", after)
			}
			p.expectNoCalls(t)
			expectCode(t, env.do("GET", userPath("nobody", "/Events"), nil), codes.E404_01)
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// POST /v4/Users/ForgotPassword, /Validity, /Finish

func TestForgotPassword(t *testing.T) {
	runCases(t, []opCase{
		{name: "start, validity, finish through the provider", op: "startForgotPassword",
			also: []cover{{"validateForgotPassword", false}, {"finishForgotPassword", false}},
			run: func(t *testing.T, env *Env, p *Provider) {
				u := env.providerUser()
				n := len(env.events(u.ID))
				r := env.do("POST", "/v4/Users/ForgotPassword", obj{"loginName": janeEmail, "returnUrl": "https://e2e.example/reset"})
				expectCode(t, r, codes.S200_08)
				enc := data[struct {
					EncryptedEventID string `json:"encryptedEventId"`
				}](t, r).EncryptedEventID
				body := env.mail(janeEmail, "Reset")
				if got := linkParam(t, body, "encryptedEventId"); got != enc {
					t.Errorf("emailed encryptedEventId %q, answered %q", got, enc)
				}
				if !strings.Contains(body, "https://e2e.example/reset?encryptedEventId=") {
					t.Errorf("the link does not lead to the returnUrl:\n%s", body)
				}
				evs := env.eventsSince(n, u.ID)
				expectEvents(t, evs, []string{ev("SUBSCRIBE_USER_STARTFORGOTPASSWORD", 4009, "Success", u.ID)})
				p.expectNoCalls(t)

				r = env.do("POST", "/v4/Users/ForgotPassword/Validity", obj{"encryptedEventId": enc})
				expectCode(t, r, codes.S200_09)
				v := data[struct {
					EventID int64  `json:"eventId"`
					CRID    string `json:"customerRegistrationId"`
				}](t, r)
				if v.CRID != u.ID || v.EventID == 0 {
					t.Errorf("validity %+v", v)
				}
				expectEvents(t, env.eventsSince(n+1, u.ID), []string{ev("SUBSCRIBE_USER_VALIDATEFORGOTPASSWORD", 4007, "Success", u.ID)})
				p.expectNoCalls(t)

				r = env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": newPassword})
				expectCode(t, r, codes.S200_10)
				expectEvents(t, env.eventsSince(n+2, u.ID), []string{
					ev("AUTHSYSTEM_USER_GETBYID", 4601, "Success", u.ID),
					ev("SUBSCRIBE_USER_GETBYID", 4001, "Success", u.ID),
					ev("AUTHSYSTEM_USER_CHANGEPASSWORD", 4609, "Success", u.ID),
					ev("SUBSCRIBE_USER_CHANGEPASSWORD", 4010, "Success", u.ID),
					ev("SUBSCRIBE_USER_FINISHFORGOTPASSWORD", 4008, "Success", u.ID),
				})
				p.expect(t, pGet, u.ID, pPassword, u.ID)
				expectFields(t, "password", p.fields(t, pPassword, u.ID), map[string]string{"password": newPassword})

				// The link is single-use.
				p.clearJournal(t)
				expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Validity", obj{"encryptedEventId": enc}), codes.E400_13)
				expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": newPassword}), codes.E400_13)
				p.expectNoCalls(t)
			}},
		{name: "an unknown login name looks the same and sends nothing", op: "startForgotPassword", run: func(t *testing.T, env *Env, p *Provider) {
			r := env.do("POST", "/v4/Users/ForgotPassword", obj{"loginName": "nobody@example.com"})
			expectCode(t, r, codes.S200_08)
			enc := data[struct {
				EncryptedEventID string `json:"encryptedEventId"`
			}](t, r).EncryptedEventID
			if enc == "" {
				t.Fatal("no encryptedEventId")
			}
			expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Validity", obj{"encryptedEventId": enc}), codes.E400_13)
			time.Sleep(200 * time.Millisecond)
			if n := env.mailsTo("nobody@example.com"); n != 0 {
				t.Errorf("%d emails sent to an unknown login name", n)
			}
			p.expectNoCalls(t)
		}},
	})
}

// ---------------------------------------------------------------------------------------------
// POST /v4/Users/Verification and /VerificationCode

func TestVerifyEmail(t *testing.T) {
	runCases(t, []opCase{
		{name: "the emailed code verifies a provider user", op: "verifyEmail", run: func(t *testing.T, env *Env, p *Provider) {
			const email = "to.verify@example.com"
			ref := env.create(obj{"email": email, "password": janePassword, "verifyEmail": true})
			id := ref.CustomerRegistrationId
			code := linkParam(t, env.mail(email, "verification code"), "verificationCode")
			u := pUser{ID: id, Email: email, Verified: false}
			p.stubAnswer(t, pGet, id, &u) // gigya re-reads after setAccountInfo
			p.clearJournal(t)
			n := len(env.events(id))
			r := env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": code})
			expectCode(t, r, codes.S200_13)
			if got := data[struct {
				CRID string `json:"customerRegistrationId"`
			}](t, r); got.CRID != id {
				t.Errorf("verified %s, want %s", got.CRID, id)
			}
			expectEvents(t, env.eventsSince(n, id), []string{
				ev("SUBSCRIBE_USER_GET", 4000, "Success", id),
				ev("AUTHSYSTEM_USER_UPDATE", 4603, "Success", id),
				ev("SUBSCRIBE_USER_CREATE", 4002, "Success", id),
			})
			p.expect(t, pUpdate, id)
			expectFields(t, "update", p.fields(t, pUpdate, id), map[string]string{"emailVerified": "true"})
			if reg, _ := env.reg(id); !reg.Verified || reg.Pending {
				t.Errorf("stored %+v", reg)
			}
			// Codes are single-use: the address is verified now.
			expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": code}), codes.E400_16)
		}},
		{name: "a wrong code is refused and the provider is not told", op: "verifyEmail", run: func(t *testing.T, env *Env, p *Provider) {
			const email = "to.verify@example.com"
			ref := env.create(obj{"email": email, "password": janePassword, "verifyEmail": true})
			code := linkParam(t, env.mail(email, "verification code"), "verificationCode")
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			p.clearJournal(t)
			expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": wrong}), codes.E400_15)
			p.expectNoCalls(t)
			if reg, _ := env.reg(ref.CustomerRegistrationId); !reg.Pending {
				t.Errorf("stored %+v", reg)
			}
		}},
	})
}

func TestSendVerificationCode(t *testing.T) {
	runCases(t, []opCase{
		{name: "a new address is registered pending, then verified, without the provider", op: "sendVerificationCode",
			also: []cover{{"verifyEmail", false}},
			run: func(t *testing.T, env *Env, p *Provider) {
				const email = "code.only@example.com"
				r := env.do("POST", "/v4/Users/VerificationCode", obj{"email": email, "returnUrl": "https://e2e.example/verify"})
				expectCode(t, r, codes.S200_14)
				id := data[struct {
					CRID string `json:"customerRegistrationId"`
				}](t, r).CRID
				body := env.mail(email, "verification code")
				code := linkParam(t, body, "verificationCode")
				if u, _ := url.Parse(strings.Fields(body[strings.Index(body, "https://"):])[0]); u == nil || u.Host != "e2e.example" || u.Query().Get("email") != email {
					t.Errorf("verification link %v", u)
				}
				expectEvents(t, env.events(id), []string{
					ev("SUBSCRIBE_USER_GET", 4000, "Success", ""),
					ev("SUBSCRIBE_USER_CREATEPENDING", 4003, "Success", id),
				})
				expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": code}), codes.S200_13)
				expectEvents(t, env.eventsSince(2, id), []string{
					ev("SUBSCRIBE_USER_GET", 4000, "Success", id),
					ev("SUBSCRIBE_USER_CREATE", 4002, "Success", id),
				})
				p.expectNoCalls(t)
				expectCode(t, env.do("POST", "/v4/Users/VerificationCode", obj{"email": email}), codes.E400_16)
			}},
		{name: "a pending provider user gets a new code", op: "sendVerificationCode", run: func(t *testing.T, env *Env, p *Provider) {
			const email = "to.verify@example.com"
			ref := env.create(obj{"email": email, "password": janePassword, "verifyEmail": true})
			first := linkParam(t, env.mail(email, "verification code"), "verificationCode")
			p.clearJournal(t)
			r := env.do("POST", "/v4/Users/VerificationCode", obj{"email": email})
			expectCode(t, r, codes.S200_14)
			if id := data[struct {
				CRID string `json:"customerRegistrationId"`
			}](t, r).CRID; id != ref.CustomerRegistrationId {
				t.Errorf("id %s, want %s", id, ref.CustomerRegistrationId)
			}
			deadline := time.Now().Add(10 * time.Second)
			for env.mailsTo(email) < 2 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			second := linkParam(t, env.mail(email, "verification code"), "verificationCode")
			if env.mailsTo(email) != 2 {
				t.Fatalf("%d emails", env.mailsTo(email))
			}
			p.expectNoCalls(t)
			if first != second {
				// The first code was replaced.
				expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": email, "verificationCode": first}), codes.E400_15)
			}
		}},
	})
}
