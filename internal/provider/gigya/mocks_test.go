//go:build wiremock || e2e

// These tests run the adapter against WireMock 3.13.2 serving a copy of mocks/gigya, so the
// stubs are checked to answer the way the adapter (and the real Gigya) expect, trigger by
// trigger. Two ways to get the server (mockTarget):
//
//	# a WireMock you started yourself (mocks/gigya/README.md)
//	UO_GIGYA_MOCK_URL=http://127.0.0.1:18082 go test -tags wiremock ./internal/provider/gigya
//	# one started by internal/testkit/wiremock (container, or UO_WIREMOCK_MODE=jar)
//	go test -tags e2e ./internal/provider/gigya
package gigya

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	gowiremock "github.com/wiremock/go-wiremock"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

const (
	mockAPIKey  = "3_mock-api-key"
	mockUserKey = "mock-user-key"
	mockSecret  = "mock-secret-value"
)

// mockUID is the UID the stubs derive from an email (README: "_gid_" + base64 of the
// lower-cased email, '/' -> '_', '+' -> '-').
func mockUID(email string) string {
	s := base64.StdEncoding.EncodeToString([]byte(strings.ToLower(email)))
	return "_gid_" + strings.NewReplacer("/", "_", "+", "-").Replace(s)
}

// mockServer resets the WireMock at base and returns an adapter configured for it.
func mockServer(t *testing.T, base string, cfg httpx.Config) (*Client, *gowiremock.Client) {
	t.Helper()
	admin := gowiremock.NewClient(base)
	// Reset reloads the file stubs, clears the journal and restarts the scenarios; never Clear().
	if err := admin.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ResetAllScenarios(); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, APIKey: mockAPIKey, UserKey: mockUserKey, Secret: mockSecret, HTTP: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return c, admin
}

// served is what WireMock's journal holds: the Gigya methods called, oldest first, each with
// the form it carried. It also checks what every call must satisfy.
func served(t *testing.T, admin *gowiremock.Client) ([]string, []url.Values) {
	t.Helper()
	all, err := admin.GetAllRequests()
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	var forms []url.Values
	for i := len(all.Requests) - 1; i >= 0; i-- { // the journal lists the newest first
		r := all.Requests[i].Request
		if r.Method != http.MethodPost || strings.Contains(r.URL, "?") {
			t.Errorf("%s %s: want a POST without query string", r.Method, r.URL)
		}
		if !all.Requests[i].WasMatched {
			t.Errorf("%s was matched by no stub", r.URL)
		}
		form, err := url.ParseQuery(r.Body)
		if err != nil {
			t.Errorf("%s: body is not a form: %v", r.URL, err)
		}
		if form.Get("apiKey") != mockAPIKey {
			t.Errorf("%s: apiKey %q", r.URL, form.Get("apiKey"))
		}
		session := form.Has("login_token")
		if session == (form.Get("secret") == mockSecret) || session == (form.Get("userKey") == mockUserKey) {
			t.Errorf("%s: server credentials must be sent exactly when no login_token is", r.URL)
		}
		methods = append(methods, strings.TrimPrefix(r.URL, "/accounts."))
		forms = append(forms, form)
	}
	return methods, forms
}

// mockCase is one adapter call against the mocks.
type mockCase struct {
	name  string
	cfg   httpx.Config
	run   func(context.Context, *Client) (any, error)
	kind  error
	calls []string
	// check looks at the result and the forms sent (may be nil).
	check func(t *testing.T, got any, forms []url.Values)
}

func runMockCases(t *testing.T, cases []mockCase) {
	base := mockTarget(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, admin := mockServer(t, base, tc.cfg)
			got, err := tc.run(context.Background(), c)
			switch {
			case tc.kind == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.kind != nil && !errors.Is(err, tc.kind):
				t.Fatalf("error %v (result %+v), want kind %v", err, got, tc.kind)
			}
			if err != nil && (strings.Contains(err.Error(), mockSecret) || strings.Contains(err.Error(), "Passw0rd")) {
				t.Errorf("error %q quotes a secret", err)
			}
			methods, forms := served(t, admin)
			if !slices.Equal(methods, tc.calls) {
				t.Errorf("calls %v, want %v", methods, tc.calls)
			}
			if tc.check != nil && len(methods) == len(tc.calls) {
				tc.check(t, got, forms)
			}
		})
	}
}

func getUser(id string) func(context.Context, *Client) (any, error) {
	return func(ctx context.Context, c *Client) (any, error) { return c.GetUser(ctx, id) }
}

func wantUser(check func(u provider.User) string) func(*testing.T, any, []url.Values) {
	return func(t *testing.T, got any, _ []url.Values) {
		t.Helper()
		if msg := check(got.(provider.User)); msg != "" {
			t.Errorf("%s: %+v", msg, got)
		}
	}
}

var get3 = []string{"getAccountInfo", "getAccountInfo", "getAccountInfo"}

func TestMockGetUser(t *testing.T) {
	runMockCases(t, []mockCase{
		{name: "any email's UID", run: getUser(mockUID("Jane.Doe+x@example.com")), calls: []string{"getAccountInfo"},
			check: wantUser(func(u provider.User) string {
				if u.ID != mockUID("jane.doe+x@example.com") || u.Email != "jane.doe+x@example.com" || !u.EmailVerified || u.Blocked || u.CreatedAt.IsZero() {
					return "not the account the UID encodes"
				}
				return ""
			})},
		{name: "exists@example.com", run: getUser(mockUID("exists@example.com")), calls: []string{"getAccountInfo"},
			check: wantUser(func(u provider.User) string {
				if u.FirstName != "Existing" || u.LastName != "User" || !reflect.DeepEqual(u.Metadata, map[string]string{"plan": "gold"}) {
					return "not Existing User"
				}
				return ""
			})},
		{name: "disabled@example.com is blocked", run: getUser(mockUID("disabled@example.com")), calls: []string{"getAccountInfo"},
			check: wantUser(func(u provider.User) string { return map[bool]string{true: "", false: "not blocked"}[u.Blocked] })},
		{name: "locked@example.com is blocked", run: getUser(mockUID("locked@example.com")), calls: []string{"getAccountInfo"},
			check: wantUser(func(u provider.User) string { return map[bool]string{true: "", false: "not blocked"}[u.Blocked] })},
		{name: "UID notfound", run: getUser("notfound"), kind: provider.ErrNotFound, calls: []string{"getAccountInfo"}},
		{name: "UID of another shape", run: getUser("0123456789abcdef0123456789abcdef"), kind: provider.ErrNotFound, calls: []string{"getAccountInfo"}},
		{name: "servererror: retried in the body, then unavailable", run: getUser("servererror"), kind: provider.ErrUnavailable, calls: get3},
		{name: "ratelimit: not retried", run: getUser("ratelimit"), kind: provider.ErrUnavailable, calls: []string{"getAccountInfo"}},
		{name: "unavailable: HTTP 503 retried by httpx", run: getUser("unavailable"), kind: provider.ErrUnavailable, calls: get3},
		{name: "connreset: retried by httpx", run: getUser("connreset"), kind: provider.ErrUnavailable, calls: get3},
		{name: "malformed body", run: getUser("malformed"), kind: provider.ErrProtocol, calls: []string{"getAccountInfo"}},
		{name: "slowdown: timeout", cfg: httpx.Config{Timeout: 300 * time.Millisecond, MaxRetries: -1},
			run: getUser("slowdown"), kind: provider.ErrUnavailable, calls: []string{"getAccountInfo"}},
	})
}

func TestMockFindAndSearch(t *testing.T) {
	find := func(email string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return c.FindByEmail(ctx, email) }
	}
	search := func(q provider.Query) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return c.Search(ctx, q) }
	}
	ids := func(want ...string) func(*testing.T, any, []url.Values) {
		return func(t *testing.T, got any, _ []url.Values) {
			var have []string
			for _, u := range got.([]provider.User) {
				have = append(have, u.ID)
			}
			if !slices.Equal(have, want) {
				t.Errorf("ids %v, want %v", have, want)
			}
		}
	}
	runMockCases(t, []mockCase{
		{name: "exists@example.com is found", run: find("exists@example.com"), calls: []string{"search"},
			check: wantUser(func(u provider.User) string {
				return map[bool]string{true: "", false: "wrong user"}[u.ID == mockUID("exists@example.com") && u.FirstName == "Existing"]
			})},
		{name: "disabled@example.com is found blocked", run: find("disabled@example.com"), calls: []string{"search"},
			check: wantUser(func(u provider.User) string { return map[bool]string{true: "", false: "not blocked"}[u.Blocked] })},
		{name: "locked@example.com is found blocked", run: find("locked@example.com"), calls: []string{"search"},
			check: wantUser(func(u provider.User) string { return map[bool]string{true: "", false: "not blocked"}[u.Blocked] })},
		{name: "pwchange@example.com is found", run: find("pwchange@example.com"), calls: []string{"search"}},
		{name: "any other email: not found", run: find("new.person@example.com"), kind: provider.ErrNotFound, calls: []string{"search"},
			check: func(t *testing.T, _ any, forms []url.Values) {
				if q := forms[0].Get("query"); q != `SELECT * FROM accounts WHERE profile.email CONTAINS "new.person@example.com" LIMIT 10` {
					t.Errorf("query %q", q)
				}
			}},
		{name: "ratelimit in the email", run: find("ratelimit@example.com"), kind: provider.ErrUnavailable, calls: []string{"search"}},
		{name: "servererror in the email", run: find("servererror@example.com"), kind: provider.ErrUnavailable, calls: []string{"search", "search", "search"}},
		{name: "search by first name Existing", run: search(provider.Query{FirstName: "Existing", Limit: 5}), calls: []string{"search"},
			check: ids(mockUID("exists@example.com"))},
		{name: "search by email and last name", run: search(provider.Query{Email: "exists@example.com", LastName: "User"}), calls: []string{"search"},
			check: ids(mockUID("exists@example.com"))},
		{name: "search without hits", run: search(provider.Query{FirstName: "Nobody"}), calls: []string{"search"}, check: ids()},
		{name: "search through the cursor to its end (100, then 50)", run: search(provider.Query{LastName: "Paged"}), calls: []string{"search", "search"},
			check: func(t *testing.T, got any, forms []url.Values) {
				if n := len(got.([]provider.User)); n != 150 {
					t.Errorf("%d users, want 150", n)
				}
				if forms[0].Get("openCursor") != "true" || forms[1].Get("cursorId") != "cur-paged-1" || forms[1].Has("query") {
					t.Errorf("forms %v: want openCursor with the query, then the cursorId alone", forms)
				}
			}},
	})
}

// TestMockRefusesWhatGigyaRefuses sends by hand what the adapter never sends, so that the stubs
// that refuse it are verified too: each answers Gigya's own error.
func TestMockRefusesWhatGigyaRefuses(t *testing.T) {
	base := mockTarget(t)
	creds := func(kv ...string) url.Values {
		v := url.Values{"apiKey": {mockAPIKey}, "userKey": {mockUserKey}, "secret": {mockSecret}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tt := range []struct {
		name, method string
		form         url.Values
		code         int
	}{
		{"the deprecated include isLockedOut on register", "register", creds("regToken", "RT1_x", "email", "jo@example.com", "password", "Passw0rd!", "include", "profile,data,isLockedOut"), 400006},
		{"an unknown include on getAccountInfo", "getAccountInfo", creds("UID", mockUID("jo@example.com"), "include", "profile,everything"), 400006},
		{"an unknown include on login", "login", creds("loginID", "jo@example.com", "password", "Passw0rd!", "include", "isLockedOut"), 400006},
		{"cursorId together with query", "search", creds("query", "SELECT * FROM accounts", "cursorId", "cur-paged-1"), 400006},
		{"a cursor batch above 1000", "search", creds("query", "SELECT * FROM accounts LIMIT 5000", "openCursor", "true"), 400006},
		{"an unknown cursor", "search", creds("cursorId", "cur-gone"), 400006},
		{"the documented include is accepted", "getAccountInfo", creds("UID", mockUID("jo@example.com"), "include", include), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mockServer(t, base, httpx.Config{})
			resp, err := http.PostForm(base+"/accounts."+tt.method, tt.form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			code, _, err := decode("test", &httpx.Response{Status: resp.StatusCode, Body: body})
			if err != nil || code != tt.code {
				t.Errorf("errorCode %d (%v), want %d: %s", code, err, tt.code, body)
			}
		})
	}
}

func create(u provider.NewUser) func(context.Context, *Client) (any, error) {
	return func(ctx context.Context, c *Client) (any, error) { return c.Create(ctx, u) }
}

func newUser(email, password string) provider.NewUser {
	return provider.NewUser{Email: email, Password: password, FirstName: "Jane", LastName: "Doe", Metadata: map[string]string{"plan": "silver"}}
}

func TestMockCreate(t *testing.T) {
	verified := newUser("Verified.Person@example.com", "Passw0rd!")
	verified.EmailVerified = true
	runMockCases(t, []mockCase{
		{name: "any new email", run: create(newUser("Jane.Doe@example.com", "Passw0rd!")), calls: []string{"initRegistration", "register"},
			check: func(t *testing.T, got any, forms []url.Values) {
				u := got.(provider.User)
				want := provider.User{ID: mockUID("jane.doe@example.com"), Email: "Jane.Doe@example.com", FirstName: "Jane", LastName: "Doe",
					Metadata: map[string]string{"plan": "silver"}, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
				if !reflect.DeepEqual(u, want) || u.CreatedAt.IsZero() {
					t.Errorf("user %+v, want %+v", u, want)
				}
				if !jsonEqual(forms[1].Get("profile"), `{"email":"Jane.Doe@example.com","firstName":"Jane","lastName":"Doe"}`) ||
					forms[1].Get("regToken") == "" || forms[1].Get("finalizeRegistration") != "true" {
					t.Errorf("register form %v", forms[1])
				}
			}},
		{name: "email verified on creation", run: create(verified), calls: []string{"initRegistration", "register", "setAccountInfo"},
			check: func(t *testing.T, got any, forms []url.Values) {
				if u := got.(provider.User); !u.EmailVerified {
					t.Errorf("not verified: %+v", u)
				}
				if forms[2].Get("isVerified") != "true" || forms[2].Get("UID") != mockUID("verified.person@example.com") {
					t.Errorf("setAccountInfo form %v", forms[2])
				}
			}},
		{name: "exists@example.com: 400009/400003", run: create(newUser("exists@example.com", "Passw0rd!")), kind: provider.ErrUserExists, calls: []string{"initRegistration", "register"}},
		{name: "conflict@example.com: 403043", run: create(newUser("conflict@example.com", "Passw0rd!")), kind: provider.ErrUserExists, calls: []string{"initRegistration", "register"}},
		{name: "password weak: 400009", run: create(newUser("jane@example.com", "weak")), kind: provider.ErrRejected, calls: []string{"initRegistration", "register"}},
		{name: "unverified*: 206002, account read by regToken", run: create(newUser("unverified.jane@example.com", "Passw0rd!")),
			calls: []string{"initRegistration", "register", "getAccountInfo"},
			check: wantUser(func(u provider.User) string {
				if u.ID != mockUID("unverified.jane@example.com") || u.EmailVerified {
					return "want the unverified account"
				}
				return ""
			})},
		{name: "incomplete*: 206001, half-made account deleted", run: create(newUser("incomplete.jane@example.com", "Passw0rd!")), kind: provider.ErrRejected,
			calls: []string{"initRegistration", "register", "getAccountInfo", "deleteAccount"},
			check: func(t *testing.T, _ any, forms []url.Values) {
				if forms[3].Get("UID") != mockUID("incomplete.jane@example.com") {
					t.Errorf("deleted %q", forms[3].Get("UID"))
				}
			}},
		{name: "servererror: register is not retried", run: create(newUser("servererror@example.com", "Passw0rd!")), kind: provider.ErrUnavailable,
			calls: []string{"initRegistration", "register"}},
		{name: "unavailable: HTTP 503 on register is not retried", run: create(newUser("unavailable@example.com", "Passw0rd!")), kind: provider.ErrUnavailable,
			calls: []string{"initRegistration", "register"}},
		{name: "ratelimit", run: create(newUser("ratelimit@example.com", "Passw0rd!")), kind: provider.ErrUnavailable,
			calls: []string{"initRegistration", "register"}},
	})
}

func TestMockUpdateDeleteAndPasswords(t *testing.T) {
	str := func(s string) *string { return &s }
	yes := true
	jane := mockUID("jane@example.com")
	update := func(id string, u provider.Update) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return c.Update(ctx, id, u) }
	}
	del := func(id string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return nil, c.Delete(ctx, id) }
	}
	changePassword := func(id, pw string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return nil, c.ChangePassword(ctx, id, pw) }
	}
	changeEmail := func(id, email string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return c.ChangeEmail(ctx, id, email) }
	}
	resetURL := func(id string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) {
			return c.PasswordChangeURL(ctx, id, "https://news.example.com/password?lang=en")
		}
	}
	runMockCases(t, []mockCase{
		{name: "update any user", run: update(jane, provider.Update{FirstName: str("Janet"), Metadata: map[string]*string{"plan": str("gold"), "old": nil}, EmailVerified: &yes}),
			calls: []string{"setAccountInfo", "getAccountInfo"},
			check: func(t *testing.T, got any, forms []url.Values) {
				if !jsonEqual(forms[0].Get("data"), `{"plan":"gold","old":null}`) || !jsonEqual(forms[0].Get("profile"), `{"firstName":"Janet"}`) || forms[0].Get("isVerified") != "true" {
					t.Errorf("setAccountInfo form %v", forms[0])
				}
				if got.(provider.User).Email != "jane@example.com" {
					t.Errorf("user %+v", got)
				}
			}},
		{name: "update notfound", run: update("notfound", provider.Update{FirstName: str("X")}), kind: provider.ErrNotFound, calls: []string{"setAccountInfo"}},
		{name: "update refused value Invalid<>", run: update(jane, provider.Update{FirstName: str("Invalid<>")}), kind: provider.ErrRejected, calls: []string{"setAccountInfo"}},
		{name: "update servererror: retried", run: update("servererror", provider.Update{FirstName: str("X")}), kind: provider.ErrUnavailable,
			calls: []string{"setAccountInfo", "setAccountInfo", "setAccountInfo"}},
		{name: "delete any user", run: del(jane), calls: []string{"deleteAccount"}},
		{name: "delete notfound is done", run: del("notfound"), calls: []string{"deleteAccount"}},
		{name: "delete another UID shape is done", run: del("0123456789abcdef"), calls: []string{"deleteAccount"}},
		{name: "change password", run: changePassword(jane, "N3w-Passw0rd!"), calls: []string{"setAccountInfo"},
			check: func(t *testing.T, _ any, forms []url.Values) {
				if forms[0].Get("newPassword") != "N3w-Passw0rd!" || forms[0].Get("securityOverride") != "true" {
					t.Errorf("form %v", forms[0])
				}
			}},
		{name: "change password weak", run: changePassword(jane, "weak"), kind: provider.ErrRejected, calls: []string{"setAccountInfo"}},
		{name: "change password notfound", run: changePassword("notfound", "N3w-Passw0rd!"), kind: provider.ErrNotFound, calls: []string{"setAccountInfo"}},
		{name: "change password servererror: never retried", run: changePassword("servererror", "N3w-Passw0rd!"), kind: provider.ErrUnavailable, calls: []string{"setAccountInfo"}},
		{name: "change email", run: changeEmail(jane, "janet@example.com"), calls: []string{"getAccountInfo", "setAccountInfo"},
			check: func(t *testing.T, got any, forms []url.Values) {
				if forms[1].Get("addLoginEmails") != "janet@example.com" || forms[1].Get("removeLoginEmails") != "jane@example.com" {
					t.Errorf("form %v", forms[1])
				}
				if got.(provider.User).Email != "janet@example.com" {
					t.Errorf("user %+v", got)
				}
			}},
		{name: "change email to exists@example.com", run: changeEmail(jane, "exists@example.com"), kind: provider.ErrUserExists, calls: []string{"getAccountInfo", "setAccountInfo"}},
		{name: "change email to conflict@example.com", run: changeEmail(jane, "conflict@example.com"), kind: provider.ErrUserExists, calls: []string{"getAccountInfo", "setAccountInfo"}},
		{name: "change email notfound", run: changeEmail("notfound", "x@example.com"), kind: provider.ErrNotFound, calls: []string{"getAccountInfo"}},
		{name: "password change URL", run: resetURL(jane), calls: []string{"getAccountInfo", "resetPassword"},
			check: func(t *testing.T, got any, forms []url.Values) {
				u, err := url.Parse(got.(string))
				if err != nil || u.Host != "news.example.com" || u.Query().Get("lang") != "en" || len(u.Query().Get(ResetTokenParam)) != 32 {
					t.Errorf("url %q", got)
				}
				if forms[1].Get("loginID") != "jane@example.com" || forms[1].Get("sendEmail") != "false" {
					t.Errorf("form %v", forms[1])
				}
			}},
		{name: "password change URL unknown@example.com: 403047", run: resetURL(mockUID("unknown@example.com")), kind: provider.ErrNotFound,
			calls: []string{"getAccountInfo", "resetPassword"}},
	})
}

func TestMockLoginAndToken(t *testing.T) {
	login := func(name, pw string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return c.Login(ctx, name, pw) }
	}
	token := func(tok string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return c.UserForToken(ctx, tok) }
	}
	runMockCases(t, []mockCase{
		{name: "any user, any password", run: login("Jane@example.com", "Passw0rd!"), calls: []string{"login"},
			check: func(t *testing.T, got any, _ []url.Values) {
				s := got.(provider.Session)
				want := provider.Session{UserID: mockUID("jane@example.com"),
					Tokens: []provider.Token{{Name: "glt_" + mockAPIKey, Content: "st2.mock." + mockUID("jane@example.com")}}}
				if !reflect.DeepEqual(s, want) {
					t.Errorf("session %+v, want %+v", s, want)
				}
			}},
		{name: "wrong-password", run: login("jane@example.com", "wrong-password"), kind: provider.ErrInvalidCredentials, calls: []string{"login"}},
		{name: "unknown@example.com", run: login("unknown@example.com", "Passw0rd!"), kind: provider.ErrInvalidCredentials, calls: []string{"login"}},
		{name: "unverified*: 206002", run: login("unverified.jane@example.com", "Passw0rd!"), kind: provider.ErrNotVerified, calls: []string{"login"}},
		{name: "needsverification*: 403013 unverified user", run: login("needsverification@example.com", "Passw0rd!"), kind: provider.ErrNotVerified, calls: []string{"login"}},
		{name: "the end user's IP travels as clientContext", run: func(ctx context.Context, c *Client) (any, error) {
			return c.Login(provider.WithEndUserIP(ctx, "203.0.113.7"), "jane@example.com", "Passw0rd!")
		}, calls: []string{"login"}, check: func(t *testing.T, _ any, forms []url.Values) {
			if got := forms[0].Get("clientContext"); got != `{"clientIP":"203.0.113.7"}` {
				t.Errorf("clientContext %q", got)
			}
		}},
		{name: "disabled@example.com: 403041", run: login("disabled@example.com", "Passw0rd!"), kind: provider.ErrBlocked, calls: []string{"login"}},
		{name: "locked@example.com: 403120", run: login("locked@example.com", "Passw0rd!"), kind: provider.ErrBlocked, calls: []string{"login"}},
		{name: "servererror: never retried", run: login("servererror@example.com", "Passw0rd!"), kind: provider.ErrUnavailable, calls: []string{"login"}},
		{name: "ratelimit", run: login("ratelimit@example.com", "Passw0rd!"), kind: provider.ErrUnavailable, calls: []string{"login"}},
		{name: "token of a login", run: token("st2.mock." + mockUID("jane@example.com")), calls: []string{"getAccountInfo"},
			check: wantUser(func(u provider.User) string {
				return map[bool]string{true: "", false: "wrong user"}[u.ID == mockUID("jane@example.com") && u.Email == "jane@example.com"]
			})},
		{name: "any other token", run: token("st2.forged"), kind: provider.ErrInvalidToken, calls: []string{"getAccountInfo"}},
	})
}

// step is one call of a stateful flow.
type step struct {
	name string
	run  func(context.Context, *Client) (any, error)
	kind error
}

func runFlow(t *testing.T, steps []step) {
	c, _ := mockServer(t, mockTarget(t), httpx.Config{})
	for _, s := range steps {
		_, err := s.run(context.Background(), c)
		if (s.kind == nil && err != nil) || (s.kind != nil && !errors.Is(err, s.kind)) {
			t.Fatalf("%s: error %v, want %v", s.name, err, s.kind)
		}
	}
}

func TestMockRegistrationScenario(t *testing.T) {
	const email = "stateful@example.com"
	id := mockUID(email)
	find := func(ctx context.Context, c *Client) (any, error) { return c.FindByEmail(ctx, email) }
	login := func(ctx context.Context, c *Client) (any, error) { return c.Login(ctx, email, "Passw0rd!") }
	runFlow(t, []step{
		{"not found before registration", find, provider.ErrNotFound},
		{"no account before registration", getUser(id), provider.ErrNotFound},
		{"no login before registration", login, provider.ErrInvalidCredentials},
		{"register", create(newUser(email, "Passw0rd!")), nil},
		{"found after registration", find, nil},
		{"account after registration", getUser(id), nil},
		{"login after registration", login, nil},
		{"second registration", create(newUser(email, "Passw0rd!")), provider.ErrUserExists},
		{"delete", func(ctx context.Context, c *Client) (any, error) { return nil, c.Delete(ctx, id) }, nil},
		{"not found after delete", find, provider.ErrNotFound},
		{"register again", create(newUser(email, "Passw0rd!")), nil},
	})
}

func TestMockPasswordScenario(t *testing.T) {
	const email = "pwchange@example.com"
	login := func(pw string) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return c.Login(ctx, email, pw) }
	}
	runFlow(t, []step{
		{"old password works", login("Old-Passw0rd!"), nil},
		{"new password not yet", login("New-Passw0rd!"), provider.ErrInvalidCredentials},
		{"change", func(ctx context.Context, c *Client) (any, error) {
			return nil, c.ChangePassword(ctx, mockUID(email), "New-Passw0rd!")
		}, nil},
		{"new password works", login("New-Passw0rd!"), nil},
		{"old password refused (401030)", login("Old-Passw0rd!"), provider.ErrInvalidCredentials},
	})
}

// TestMockMissingAPIKey checks the one trigger the adapter cannot reach: a call without apiKey.
func TestMockMissingAPIKey(t *testing.T) {
	base := mockTarget(t)
	mockServer(t, base, httpx.Config{})
	resp, err := http.PostForm(base+"/accounts.getAccountInfo", url.Values{"UID": {"x"}, "userKey": {"u"}, "secret": {"s"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	code, env, err := decode("test", &httpx.Response{Status: resp.StatusCode, Body: body})
	if err != nil || code != 400093 || env.ErrorMessage == "" {
		t.Errorf("errorCode %d, %v", code, err)
	}
}
