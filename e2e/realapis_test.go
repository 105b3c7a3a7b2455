//go:build e2e

package e2e

// What the real Auth0 and Gigya APIs answer and the mocks now reproduce (issue 12): rate limits
// announced only by X-RateLimit-*, searches that page, brute-force blocks kept apart from the
// user, the end user's IP for attack protection, and the refusals Auth0 and Gigya answer. One
// case per stub of mocks/<provider>/README.md added for it; each would pass against the mocks of
// before only if the adapter still had the bug it pins.

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/codes"
)

// endUserIP sends the request for the end user at ip (X-End-User-IP).
func endUserIP(ip string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-End-User-IP", ip)
		return nil
	}
}

// doAs is env.do with request editors, also answering the response headers.
func (e *Env) doAs(method, path string, body string, editors ...client.RequestEditorFn) (Reply, http.Header) {
	e.T.Helper()
	status, env, h := e.Do(method, path, body, editors...)
	return Reply{Status: status, Envelope: env}, h
}

func TestRealProviderAnswers(t *testing.T) {
	auth0Only, gigyaOnly := []string{"auth0"}, []string{"gigya"}
	cases := []opCase{
		// --- Auth0 rate limits: a 429 says only X-RateLimit-Limit/Remaining/Reset.
		{name: "auth0: a 429 with only X-RateLimit-* is retried no earlier than its reset", op: "getUserById", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				expectCode(t, env.do("GET", userPath("auth0|ratelimit"), nil), codes.E503)
				calls := p.journal(t)
				if len(calls) != 1+providerRetries {
					t.Fatalf("%d calls, want %d", len(calls), 1+providerRetries)
				}
				// The stub's reset is the second after the first request (format='unix' of now+1 s).
				reset := (calls[0].Req.LoggedDate/1000 + 1) * 1000
				if calls[1].Req.LoggedDate < reset {
					t.Errorf("retried at %d ms, before the reset at %d ms", calls[1].Req.LoggedDate, reset)
				}
			}},
		{name: "auth0: a reset a minute away answers E503 with Retry-After at once", op: "getUserById", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				r, h := env.doAs("GET", userPath("auth0|throttled"), "")
				expectCode(t, r, codes.E503)
				secs, err := strconv.Atoi(h.Get("Retry-After"))
				if err != nil || secs < 55 || secs > 61 {
					t.Errorf("Retry-After %q, want the ~60 s until the provider's reset", h.Get("Retry-After"))
				}
				p.expect(t, pGet, "auth0|throttled")
			}},
		// --- Auth0 search pages (the mock answers 100, then 20; page 0 alone misses 20 users).
		{name: "auth0: a search is read page by page to its end", op: "getUsers", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				r := env.do("GET", "/v4/Users"+q("lastName", "paged", "pageSize", "100", "pageNumber", "2"), nil)
				expectCode(t, r, codes.S200_01)
				if n := len(data[userList](t, r).Users); n != 20 || r.Meta["totalCount"] != float64(120) {
					t.Errorf("%d users of %v, want the last 20 of 120", n, r.Meta["totalCount"])
				}
				var pages []string
				for _, c := range p.journal(t) {
					if c.Label == "search" {
						pages = append(pages, queryOf(c.Req).Get("page")+"/"+queryOf(c.Req).Get("per_page"))
					}
				}
				if len(pages) != 2 || pages[0] != "0/100" || pages[1] != "1/100" {
					t.Errorf("pages asked %q, want 0/100 and 1/100", pages)
				}
			}},
		// --- Auth0 sign-in refusals.
		{name: "auth0: a leaked password (password_leaked) is refused like a blocked user -> E400_10", op: "authenticate", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				loginFails(t, env, p, "leaked@example.com", "Passw0rd-leaked", codes.E400_10)
			}},
		{name: "auth0: a password-policy refusal in the code/description shape -> E400", op: "authenticate", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				loginFails(t, env, p, "pwpolicy@example.com", "Passw0rd-short", codes.E400)
			}},
		// --- Auth0 brute-force blocks live in /api/v2/user-blocks, not in blocked:true.
		{name: "auth0: the token of an account locked by brute-force protection is refused -> E400_13", op: "getUsers", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				email := "bruteforce@example.com"
				expectCode(t, env.do("GET", "/v4/Users"+q("token", p.impl.tokenFor(email)), nil), codes.E400_13)
				p.expect(t, pToken, p.impl.idFor(email))
				if env.countRegs() != 0 {
					t.Errorf("the blocked user was imported")
				}
			}},
		{name: "auth0: a block of the end user's own IP refuses the token, another IP's does not", op: "getUsers", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				email := "bruteforce.ip@example.com"
				path := "/v4/Users" + q("token", p.impl.tokenFor(email))
				r, _ := env.doAs("GET", path, "", endUserIP("203.0.113.7"))
				expectCode(t, r, codes.E400_13)
				r, _ = env.doAs("GET", path, "", endUserIP("198.51.100.23"))
				expectCode(t, r, codes.S200_01)
				if list := data[userList](t, r).Users; len(list) != 1 || list[0].CustomerRegistrationID != p.impl.idFor(email) {
					t.Errorf("users %+v", list)
				}
			}},
		// --- The end user's IP reaches Auth0's brute-force protection.
		{name: "auth0: X-End-User-IP is sent as auth0-forwarded-for at login", op: "authenticate", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				r, _ := env.doAs("POST", "/v4/Users/Authentication", `{"loginName":"jo.ip@example.com","password":"Passw0rd-ip"}`, endUserIP("203.0.113.7"))
				expectCode(t, r, codes.SubscribeS200_01)
				login := find(p.journal(t), "login")
				if login == nil || header(*login, "auth0-forwarded-for") != "203.0.113.7" {
					t.Errorf("login request %+v, want auth0-forwarded-for 203.0.113.7", login)
				}
			}},
		{name: "auth0: a malformed X-End-User-IP is ignored, not refused and not forwarded", op: "authenticate", only: auth0Only,
			run: func(t *testing.T, env *Env, p *Provider) {
				r, _ := env.doAs("POST", "/v4/Users/Authentication", `{"loginName":"jo.ip@example.com","password":"Passw0rd-ip"}`, endUserIP("203.0.113.7, 10.0.0.1"))
				expectCode(t, r, codes.SubscribeS200_01)
				if login := find(p.journal(t), "login"); login == nil || header(*login, "auth0-forwarded-for") != "" {
					t.Errorf("login request %+v, want no auth0-forwarded-for", login)
				}
			}},

		// --- Gigya.
		{name: "gigya: 403013 unverified user at login -> E400_11", op: "authenticate", only: gigyaOnly,
			run: func(t *testing.T, env *Env, p *Provider) {
				loginFails(t, env, p, "needsverification@example.com", "Passw0rd-1", codes.E400_11)
			}},
		{name: "gigya: a search is read through its cursor to the end", op: "getUsers", only: gigyaOnly,
			run: func(t *testing.T, env *Env, p *Provider) {
				r := env.do("GET", "/v4/Users"+q("lastName", "Paged", "pageSize", "100", "pageNumber", "2"), nil)
				expectCode(t, r, codes.S200_01)
				if n := len(data[userList](t, r).Users); n != 50 || r.Meta["totalCount"] != float64(150) {
					t.Errorf("%d users of %v, want the last 50 of 150", n, r.Meta["totalCount"])
				}
				var forms []string
				for _, c := range p.journal(t) {
					if c.Label == "search" {
						f := formBody(c.Req)
						forms = append(forms, "openCursor="+f.Get("openCursor")+" cursorId="+f.Get("cursorId"))
					}
				}
				if len(forms) != 2 || forms[0] != "openCursor=true cursorId=" || forms[1] != "openCursor= cursorId=cur-paged-1" {
					t.Errorf("searches %q, want openCursor, then cursorId cur-paged-1", forms)
				}
			}},
		{name: "gigya: X-End-User-IP is sent as clientContext at login and registration", op: "createUser", also: []cover{{"authenticate", false}}, only: gigyaOnly,
			run: func(t *testing.T, env *Env, p *Provider) {
				r, _ := env.doAs("POST", "/v4/Users", `{"email":"jo.ip@example.com","password":"Passw0rd-ip"}`, endUserIP("2001:db8::7"))
				expectCode(t, r, codes.S200_06)
				r, _ = env.doAs("POST", "/v4/Users/Authentication", `{"loginName":"jo.ip@example.com","password":"Passw0rd-ip"}`, endUserIP("2001:db8::7"))
				expectCode(t, r, codes.SubscribeS200_01)
				for _, label := range []string{"register", "login"} {
					c := find(p.journal(t), label)
					if c == nil {
						t.Fatalf("no %s request", label)
					}
					if got := formBody(*c).Get("clientContext"); got != `{"clientIP":"2001:db8::7"}` {
						t.Errorf("%s: clientContext %q", label, got)
					}
					if inc := formBody(*c).Get("include"); inc != "profile,data,loginIDs,emails" {
						t.Errorf("%s: include %q", label, inc)
					}
				}
			}},
	}
	runCases(t, cases)
}
