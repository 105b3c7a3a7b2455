//go:build wiremock || e2e

package auth0_test

// The adapter against the WireMock stubs of mocks/auth0: every adapter method and every trigger
// input documented in mocks/auth0/README.md, asserting the outcome, the exact calls WireMock
// received (method, URL, and the stub that answered) and that no request went unmatched.
//
// Two ways to get the server (see mockserver_*_test.go):
//
//	go test -tags wiremock ./internal/provider/auth0/   # UO_AUTH0_MOCK_URL=http://127.0.0.1:N, a WireMock you started
//	go test -tags e2e ./internal/provider/auth0/        # internal/testkit/wiremock starts one

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gowiremock "github.com/wiremock/go-wiremock"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/auth0"
	"usersorchestrator/internal/provider/httpx"
)

// mockServer is a running WireMock serving a copy of mocks/auth0.
type mockServer struct {
	URL   string
	Admin *gowiremock.Client
}

// served is one request of WireMock's journal.
type served struct {
	Method string
	URL    string
	Body   string
	Auth   string
	Stub   string // name of the stub that answered
	// ForwardedFor is the auth0-forwarded-for header.
	ForwardedFor string
}

func journal(t *testing.T, base string) []served {
	t.Helper()
	resp, err := http.Get(base + "/__admin/requests")
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	defer resp.Body.Close()
	var j struct {
		Requests []struct {
			Request struct {
				URL     string         `json:"url"`
				Method  string         `json:"method"`
				Body    string         `json:"body"`
				Headers map[string]any `json:"headers"`
			} `json:"request"`
			StubMapping struct {
				Name string `json:"name"`
			} `json:"stubMapping"`
			WasMatched bool `json:"wasMatched"`
		} `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		t.Fatalf("journal: %v", err)
	}
	var out []served
	for _, r := range slices.Backward(j.Requests) { // the journal lists the newest first
		s := served{Method: r.Request.Method, URL: r.Request.URL, Body: r.Request.Body, Stub: r.StubMapping.Name}
		if a, ok := r.Request.Headers["Authorization"].(string); ok {
			s.Auth = a
		}
		for k, v := range r.Request.Headers {
			if strings.EqualFold(k, "auth0-forwarded-for") {
				s.ForwardedFor, _ = v.(string)
			}
		}
		if !r.WasMatched {
			s.Stub = "(unmatched)"
		}
		out = append(out, s)
	}
	return out
}

// call is an expected request: method, URL as sent, and a part of the answering stub's name.
type call struct{ method, url, stub string }

const (
	mockConnection = "Username-Password-Authentication"
	mgmtAuth       = "Bearer mock-mgmt-token"
)

var tokenCall = call{"POST", "/oauth/token", "client_credentials -> management token"}

// enc is the mock's id scheme: auth0|base64url(lower(email)).
func enc(email string) string {
	return "auth0|" + base64.RawURLEncoding.EncodeToString([]byte(strings.ToLower(email)))
}

func userURL(id string) string { return "/api/v2/users/" + url.PathEscape(id) }

func byEmailURL(email string) string {
	return "/api/v2/users-by-email?" + url.Values{"email": {email}}.Encode()
}

func searchURL(q string, perPage string) string {
	return "/api/v2/users?" + url.Values{"q": {q}, "search_engine": {"v3"}, "per_page": {perPage}, "page": {"0"}}.Encode()
}

func pageURL(q, perPage, page string) string {
	return "/api/v2/users?" + url.Values{"q": {q}, "search_engine": {"v3"}, "per_page": {perPage}, "page": {page}}.Encode()
}

func blocksURL(id string) string { return "/api/v2/user-blocks/" + url.PathEscape(id) }

func repeat(c call, n int) []call {
	out := make([]call, n)
	for i := range out {
		out[i] = c
	}
	return out
}

type mockCase struct {
	name  string
	cfg   func(*auth0.Config)
	run   func(t *testing.T, c *auth0.Client) error
	want  error
	calls []call
}

func TestAgainstWireMock(t *testing.T) {
	srv := startMock(t)
	base := srv.URL
	ctx := context.Background()
	newMockClient := func(t *testing.T, mod func(*auth0.Config)) *auth0.Client {
		cfg := auth0.Config{
			BaseURL: base, ClientID: "mock-client", ClientSecret: "mock-secret", Connection: mockConnection,
			// The default timeout: on a loaded machine a WireMock JVM can take over a second;
			// the cases about slow answers set their own short timeouts.
			HTTP: httpx.Config{Timeout: httpx.DefaultTimeout, MaxRetries: 2, MaxRetryWait: 2 * time.Second},
		}
		if mod != nil {
			mod(&cfg)
		}
		c, err := auth0.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	getUser := func(id string, check func(t *testing.T, u provider.User)) func(*testing.T, *auth0.Client) error {
		return func(t *testing.T, c *auth0.Client) error {
			u, err := c.GetUser(ctx, id)
			if err == nil && check != nil {
				check(t, u)
			}
			return err
		}
	}
	findByEmail := func(email, wantID string) func(*testing.T, *auth0.Client) error {
		return func(t *testing.T, c *auth0.Client) error {
			u, err := c.FindByEmail(ctx, email)
			if err == nil && u.ID != wantID {
				t.Errorf("FindByEmail(%s) = %s, want %s", email, u.ID, wantID)
			}
			return err
		}
	}
	create := func(u provider.NewUser) func(*testing.T, *auth0.Client) error {
		return func(t *testing.T, c *auth0.Client) error { _, err := c.Create(ctx, u); return err }
	}
	login := func(user, password, wantID string) func(*testing.T, *auth0.Client) error {
		return func(t *testing.T, c *auth0.Client) error {
			s, err := c.Login(ctx, user, password)
			if err == nil && s.UserID != wantID {
				t.Errorf("Login(%s) user = %s, want %s", user, s.UserID, wantID)
			}
			return err
		}
	}
	userForToken := func(token string) func(*testing.T, *auth0.Client) error {
		return func(t *testing.T, c *auth0.Client) error { _, err := c.UserForToken(ctx, token); return err }
	}
	// tokenUser resolves the mock's access token of email for an end user at ip.
	tokenUser := func(email, ip string, wantBlocked bool) func(*testing.T, *auth0.Client) error {
		return func(t *testing.T, c *auth0.Client) error {
			u, err := c.UserForToken(provider.WithEndUserIP(ctx, ip), "mock-access-token."+base64.RawURLEncoding.EncodeToString([]byte(email)))
			if err == nil && u.Blocked != wantBlocked {
				t.Errorf("Blocked = %v, want %v", u.Blocked, wantBlocked)
			}
			return err
		}
	}
	tokenCalls := func(email, blocksStub string) []call {
		return []call{{"GET", "/userinfo", "token issued by the mock login"}, tokenCall, {"GET", userURL(enc(email)), "auth0|base64url(email)"}, {"GET", blocksURL(enc(email)), blocksStub}}
	}
	ticket := func(id string) func(*testing.T, *auth0.Client) error {
		return func(t *testing.T, c *auth0.Client) error {
			u, err := c.PasswordChangeURL(ctx, id, "https://example.com/done")
			if err == nil && !strings.HasPrefix(u, base+"/u/reset-password?ticket=") {
				t.Errorf("ticket URL = %q", u)
			}
			return err
		}
	}
	strong := "S3cret-Passw0rd!"
	jo := enc("jo.doe@example.com")
	const hexID = "auth0|63d17c4a9d503d76c056c160"
	loginCall := func(stub string) call { return call{"POST", "/oauth/token", stub} }

	cases := []mockCase{
		// --- management token
		{name: "token: fetched once for several calls", run: func(t *testing.T, c *auth0.Client) error {
			for range 3 {
				if _, err := c.GetUser(ctx, jo); err != nil {
					return err
				}
			}
			return nil
		}, calls: append([]call{tokenCall}, repeat(call{"GET", userURL(jo), "auth0|base64url(email)"}, 3)...)},
		{name: "token: bad-client is refused", cfg: func(c *auth0.Config) { c.ClientID = "bad-client" },
			run: getUser(jo, nil), want: provider.ErrUnavailable,
			calls: []call{{"POST", "/oauth/token", "client_credentials with client_id bad-client"}}},
		{name: "token: auth0|tokenexpired answers 401 once, the adapter refreshes and repeats",
			run: getUser("auth0|tokenexpired", func(t *testing.T, u provider.User) {
				if u.Email != "tokenexpired@example.com" {
					t.Errorf("user = %+v", u)
				}
			}),
			calls: []call{tokenCall, {"GET", userURL("auth0|tokenexpired"), "first call is refused"}, tokenCall, {"GET", userURL("auth0|tokenexpired"), "after the refresh"}}},

		// --- GetUser
		{name: "get: a minted id decodes to its email", run: getUser(jo, func(t *testing.T, u provider.User) {
			if u.ID != jo || u.Email != "jo.doe@example.com" || !u.EmailVerified {
				t.Errorf("user = %+v", u)
			}
		}), calls: []call{tokenCall, {"GET", userURL(jo), "auth0|base64url(email)"}}},
		{name: "get: a 24-hex id", run: getUser(hexID, func(t *testing.T, u provider.User) {
			if u.ID != hexID || u.FirstName != "Chuck" || u.Metadata["plan"] != "gold" || u.CreatedAt.IsZero() {
				t.Errorf("user = %+v", u)
			}
		}), calls: []call{tokenCall, {"GET", userURL(hexID), "auth0|<24 hex>"}}},
		{name: "get: any other id", run: getUser("google-oauth2|1234", func(t *testing.T, u provider.User) {
			if u.ID != "google-oauth2|1234" {
				t.Errorf("user = %+v", u)
			}
		}), calls: []call{tokenCall, {"GET", userURL("google-oauth2|1234"), "any other id"}}},
		{name: "get: auth0|notfound", run: getUser("auth0|notfound", nil), want: provider.ErrNotFound,
			calls: []call{tokenCall, {"GET", userURL("auth0|notfound"), "auth0|notfound -> 404"}}},
		{name: "get: auth0|blocked", run: getUser("auth0|blocked", func(t *testing.T, u provider.User) {
			if !u.Blocked {
				t.Errorf("user = %+v, want blocked", u)
			}
		}), calls: []call{tokenCall, {"GET", userURL("auth0|blocked"), "blocked user"}}},
		{name: "get: ratelimit is retried after X-RateLimit-Reset, then unavailable", run: getUser("auth0|ratelimit", nil), want: provider.ErrUnavailable,
			calls: append([]call{tokenCall}, repeat(call{"GET", userURL("auth0|ratelimit"), "ratelimit -> 429"}, 3)...)},
		{name: "get: servererror is retried, then unavailable", run: getUser("auth0|servererror", nil), want: provider.ErrUnavailable,
			calls: append([]call{tokenCall}, repeat(call{"GET", userURL("auth0|servererror"), "servererror -> 500"}, 3)...)},
		{name: "get: auth0|slow times out", cfg: func(c *auth0.Config) { c.HTTP.Timeout = 300 * time.Millisecond; c.HTTP.MaxRetries = -1 },
			run: getUser("auth0|slow", nil), want: provider.ErrUnavailable,
			calls: []call{tokenCall, {"GET", userURL("auth0|slow"), "auth0|slow"}}},
		{name: "get: auth0|malformed", run: getUser("auth0|malformed", nil), want: provider.ErrProtocol,
			calls: []call{tokenCall, {"GET", userURL("auth0|malformed"), "not JSON"}}},

		// --- FindByEmail
		{name: "by-email: exists*", run: findByEmail("Exists.Jo@example.com", enc("exists.jo@example.com")),
			calls: []call{tokenCall, {"GET", byEmailURL("exists.jo@example.com"), "starting with exists"}}},
		{name: "by-email: anybody else does not exist", run: findByEmail("nobody@example.com", ""), want: provider.ErrNotFound,
			calls: []call{tokenCall, {"GET", byEmailURL("nobody@example.com"), "anything else -> nobody"}}},
		{name: "by-email: duplicate@ picks the database user", run: findByEmail("duplicate@example.com", enc("duplicate@example.com")),
			calls: []call{tokenCall, {"GET", byEmailURL("duplicate@example.com"), "duplicate@example.com"}}},
		{name: "by-email: ratelimit", run: findByEmail("ratelimit@example.com", ""), want: provider.ErrUnavailable,
			calls: append([]call{tokenCall}, repeat(call{"GET", byEmailURL("ratelimit@example.com"), "ratelimit -> 429"}, 3)...)},
		{name: "by-email: servererror", run: findByEmail("servererror@example.com", ""), want: provider.ErrUnavailable,
			calls: append([]call{tokenCall}, repeat(call{"GET", byEmailURL("servererror@example.com"), "servererror -> 500"}, 3)...)},

		// --- Search
		{name: "search: default answers two users", run: func(t *testing.T, c *auth0.Client) error {
			us, err := c.Search(ctx, provider.Query{Email: "search", FirstName: "Se arch", Limit: 10})
			if err == nil && (len(us) != 2 || us[0].Email != "search.one@example.com") {
				t.Errorf("users = %+v", us)
			}
			return err
		}, calls: []call{tokenCall, {"GET", searchURL(`identities.connection:"Username-Password-Authentication" AND email:search* AND given_name:se\ arch*`, "10"), "first page -> two users"}}},
		{name: "search: nomatch", run: func(t *testing.T, c *auth0.Client) error {
			us, err := c.Search(ctx, provider.Query{LastName: "nomatch"})
			if err == nil && len(us) != 0 {
				t.Errorf("users = %+v", us)
			}
			return err
		}, calls: []call{tokenCall, {"GET", searchURL(`identities.connection:"Username-Password-Authentication" AND family_name:nomatch*`, "100"), "nomatch"}}},
		{name: "search: ratelimit", run: func(t *testing.T, c *auth0.Client) error {
			_, err := c.Search(ctx, provider.Query{Email: "ratelimit"})
			return err
		}, want: provider.ErrUnavailable, calls: append([]call{tokenCall}, repeat(call{"GET", searchURL(`identities.connection:"Username-Password-Authentication" AND email:ratelimit*`, "100"), "ratelimit -> 429"}, 3)...)},
		{name: "search: paged to the end (100, then 20)", run: func(t *testing.T, c *auth0.Client) error {
			us, err := c.Search(ctx, provider.Query{LastName: "paged"})
			if err == nil && len(us) != 120 {
				t.Errorf("%d users, want 120", len(us))
			}
			return err
		}, calls: []call{tokenCall,
			{"GET", pageURL(`identities.connection:"Username-Password-Authentication" AND family_name:paged*`, "100", "0"), "page 0 of 100 -> 100 users"},
			{"GET", pageURL(`identities.connection:"Username-Password-Authentication" AND family_name:paged*`, "100", "1"), "page 1 of 100 -> the last 20"}}},
		{name: "get: a reset a minute away is not waited for", run: getUser("auth0|throttled", nil), want: provider.ErrUnavailable,
			calls: []call{tokenCall, {"GET", userURL("auth0|throttled"), "a minute away"}}},
		{name: "search: servererror", run: func(t *testing.T, c *auth0.Client) error {
			_, err := c.Search(ctx, provider.Query{Email: "servererror"})
			return err
		}, want: provider.ErrUnavailable, calls: append([]call{tokenCall}, repeat(call{"GET", searchURL(`identities.connection:"Username-Password-Authentication" AND email:servererror*`, "100"), "servererror -> 500"}, 3)...)},

		// --- Create
		{name: "create: echoes the new user", run: func(t *testing.T, c *auth0.Client) error {
			u, err := c.Create(ctx, provider.NewUser{Email: "Jo.Doe@example.com", Password: strong, FirstName: "Jo", LastName: "Doe",
				Metadata: map[string]string{"plan": "gold"}})
			if err == nil && (u.ID != jo || u.Email != "jo.doe@example.com" || u.FirstName != "Jo" || u.LastName != "Doe" || u.Metadata["plan"] != "gold" || u.EmailVerified) {
				t.Errorf("user = %+v", u)
			}
			return err
		}, calls: []call{tokenCall, {"POST", "/api/v2/users", "anything else -> 201"}}},
		{name: "create: exists@ -> user exists", run: create(provider.NewUser{Email: "exists@example.com", Password: strong}), want: provider.ErrUserExists,
			calls: []call{tokenCall, {"POST", "/api/v2/users", "starting with exists -> 409"}}},
		{name: "create: weak password", run: create(provider.NewUser{Email: "a@example.com", Password: "weak"}), want: provider.ErrRejected,
			calls: []call{tokenCall, {"POST", "/api/v2/users", "PasswordStrengthError"}}},
		{name: "create: email without @", run: create(provider.NewUser{Email: "not-an-email", Password: strong}), want: provider.ErrRejected,
			calls: []call{tokenCall, {"POST", "/api/v2/users", "payload validation"}}},
		{name: "create: another connection", cfg: func(c *auth0.Config) { c.Connection = "Other-Connection" },
			run: create(provider.NewUser{Email: "a@example.com", Password: strong}), want: provider.ErrRejected,
			calls: []call{tokenCall, {"POST", "/api/v2/users", "not the database connection"}}},
		{name: "create: ratelimit is not retried", run: create(provider.NewUser{Email: "ratelimit@example.com", Password: strong}), want: provider.ErrUnavailable,
			calls: []call{tokenCall, {"POST", "/api/v2/users", "ratelimit -> 429"}}},
		{name: "create: servererror is not retried", run: create(provider.NewUser{Email: "servererror@example.com", Password: strong}), want: provider.ErrUnavailable,
			calls: []call{tokenCall, {"POST", "/api/v2/users", "servererror -> 500"}}},
		{name: "create then get: created@example.com exists only after its creation, until deleted", run: func(t *testing.T, c *auth0.Client) error {
			id := enc("created@example.com")
			steps := []struct {
				name string
				err  error
				want error
			}{}
			add := func(name string, err, want error) {
				steps = append(steps, struct {
					name      string
					err, want error
				}{name, err, want})
			}
			_, err := c.FindByEmail(ctx, "created@example.com")
			add("find before", err, provider.ErrNotFound)
			_, err = c.GetUser(ctx, id)
			add("get before", err, provider.ErrNotFound)
			u, err := c.Create(ctx, provider.NewUser{Email: "created@example.com", Password: strong, FirstName: "Cree"})
			add("create", err, nil)
			if u.ID != id {
				t.Errorf("created id = %q, want %q", u.ID, id)
			}
			_, err = c.FindByEmail(ctx, "created@example.com")
			add("find after", err, nil)
			_, err = c.GetUser(ctx, id)
			add("get after", err, nil)
			_, err = c.Create(ctx, provider.NewUser{Email: "created@example.com", Password: strong})
			add("create again", err, provider.ErrUserExists)
			add("delete", c.Delete(ctx, id), nil)
			_, err = c.GetUser(ctx, id)
			add("get after delete", err, provider.ErrNotFound)
			for _, s := range steps {
				if (s.want == nil) != (s.err == nil) || (s.want != nil && !errors.Is(s.err, s.want)) {
					t.Errorf("%s: err = %v, want %v", s.name, s.err, s.want)
				}
			}
			return nil
		}, calls: []call{tokenCall,
			{"GET", byEmailURL("created@example.com"), "anything else -> nobody"},
			{"GET", userURL(enc("created@example.com")), "does not exist before it is created"},
			{"POST", "/api/v2/users", "created@example.com the first time"},
			{"GET", byEmailURL("created@example.com"), "created@example.com after its creation"},
			{"GET", userURL(enc("created@example.com")), "auth0|base64url(email)"},
			{"POST", "/api/v2/users", "created@example.com again -> 409"},
			{"DELETE", userURL(enc("created@example.com")), "gone again"},
			{"GET", userURL(enc("created@example.com")), "does not exist before it is created"},
		}},

		// --- Update
		{name: "update: names, verified flag and metadata", run: func(t *testing.T, c *auth0.Client) error {
			first, gold := "Joanna", "platinum"
			verified := true
			u, err := c.Update(ctx, jo, provider.Update{FirstName: &first, EmailVerified: &verified, Metadata: map[string]*string{"plan": &gold, "old": nil}})
			if err == nil {
				if u.FirstName != "Joanna" || !u.EmailVerified || u.Email != "jo.doe@example.com" || u.Metadata["plan"] != "platinum" {
					t.Errorf("user = %+v", u)
				}
				if _, ok := u.Metadata["old"]; ok {
					t.Errorf("metadata key set to null is still there: %v", u.Metadata)
				}
			}
			return err
		}, calls: []call{tokenCall, {"PATCH", userURL(jo), "auth0|base64url(email) -> that user, changed"}}},
		{name: "update: auth0|notfound", run: func(t *testing.T, c *auth0.Client) error {
			x := "X"
			_, err := c.Update(ctx, "auth0|notfound", provider.Update{FirstName: &x})
			return err
		}, want: provider.ErrNotFound, calls: []call{tokenCall, {"PATCH", userURL("auth0|notfound"), "auth0|notfound -> 404"}}},
		{name: "update: ratelimit is retried (PATCH of values)", run: func(t *testing.T, c *auth0.Client) error {
			x := "X"
			_, err := c.Update(ctx, "auth0|ratelimit", provider.Update{FirstName: &x})
			return err
		}, want: provider.ErrUnavailable, calls: append([]call{tokenCall}, repeat(call{"PATCH", userURL("auth0|ratelimit"), "ratelimit -> 429"}, 3)...)},
		{name: "update: servererror", run: func(t *testing.T, c *auth0.Client) error {
			x := "X"
			_, err := c.Update(ctx, "auth0|servererror", provider.Update{FirstName: &x})
			return err
		}, want: provider.ErrUnavailable, calls: append([]call{tokenCall}, repeat(call{"PATCH", userURL("auth0|servererror"), "servererror -> 500"}, 3)...)},

		// --- ChangePassword / ChangeEmail
		{name: "password: changed", run: func(t *testing.T, c *auth0.Client) error { return c.ChangePassword(ctx, jo, strong) },
			calls: []call{tokenCall, {"PATCH", userURL(jo), "auth0|base64url(email) -> that user, changed"}}},
		{name: "password: weak", run: func(t *testing.T, c *auth0.Client) error { return c.ChangePassword(ctx, jo, "weak") },
			want: provider.ErrRejected, calls: []call{tokenCall, {"PATCH", userURL(jo), "PasswordStrengthError"}}},
		{name: "password: auth0|notfound", run: func(t *testing.T, c *auth0.Client) error { return c.ChangePassword(ctx, "auth0|notfound", strong) },
			want: provider.ErrNotFound, calls: []call{tokenCall, {"PATCH", userURL("auth0|notfound"), "auth0|notfound -> 404"}}},
		{name: "password: servererror is not retried", run: func(t *testing.T, c *auth0.Client) error { return c.ChangePassword(ctx, "auth0|servererror", strong) },
			want: provider.ErrUnavailable, calls: []call{tokenCall, {"PATCH", userURL("auth0|servererror"), "servererror -> 500"}}},
		{name: "email: changed and unverified", run: func(t *testing.T, c *auth0.Client) error {
			u, err := c.ChangeEmail(ctx, jo, "new.jo@example.com")
			if err == nil && (u.Email != "new.jo@example.com" || u.EmailVerified) {
				t.Errorf("user = %+v", u)
			}
			return err
		}, calls: []call{tokenCall, {"PATCH", userURL(jo), "auth0|base64url(email) -> that user, changed"}}},
		{name: "email: exists@ is taken", run: func(t *testing.T, c *auth0.Client) error {
			_, err := c.ChangeEmail(ctx, jo, "exists@example.com")
			return err
		}, want: provider.ErrUserExists, calls: []call{tokenCall, {"PATCH", userURL(jo), "already exists"}}},
		{name: "email: auth0|notfound", run: func(t *testing.T, c *auth0.Client) error {
			_, err := c.ChangeEmail(ctx, "auth0|notfound", "x@example.com")
			return err
		}, want: provider.ErrNotFound, calls: []call{tokenCall, {"PATCH", userURL("auth0|notfound"), "auth0|notfound -> 404"}}},

		// --- Login
		{name: "login: any user", run: func(t *testing.T, c *auth0.Client) error {
			s, err := c.Login(ctx, "Jo.Doe@example.com", strong)
			if err == nil && (s.UserID != jo || len(s.Tokens) != 2 || s.Tokens[1].Name != "auth0_id_token" || s.Tokens[1].ExpiresIn < 9*time.Hour) {
				t.Errorf("session = %+v", s)
			}
			return err
		}, calls: []call{loginCall("any other user and password -> tokens")}},
		{name: "login: without openid the user comes from /userinfo", cfg: func(c *auth0.Config) { c.Scope = "email" },
			run:   login("jo.doe@example.com", strong, jo),
			calls: []call{loginCall("any other user and password -> tokens"), {"GET", "/userinfo", "token issued by the mock login"}}},
		{name: "login: wrong-password", run: login("jo.doe@example.com", "wrong-password", ""), want: provider.ErrInvalidCredentials,
			calls: []call{loginCall("wrong-password -> 403 invalid_grant")}},
		{name: "login: notfound user", run: login("notfound@example.com", strong, ""), want: provider.ErrInvalidCredentials,
			calls: []call{loginCall("containing notfound")}},
		{name: "login: blocked user", run: login("blocked@example.com", strong, ""), want: provider.ErrBlocked,
			calls: []call{loginCall("user is blocked")}},
		{name: "login: unverified user", run: login("unverified@example.com", strong, ""), want: provider.ErrNotVerified,
			calls: []call{loginCall("containing unverified")}},
		{name: "login: too many attempts", run: login("toomanyattempts@example.com", strong, ""), want: provider.ErrBlocked,
			calls: []call{loginCall("too_many_attempts")}},
		{name: "login: ratelimit is not retried", run: login("ratelimit@example.com", strong, ""), want: provider.ErrUnavailable,
			calls: []call{loginCall("ratelimit -> 429")}},
		{name: "login: leaked password is blocked", run: login("leaked@example.com", strong, ""), want: provider.ErrBlocked,
			calls: []call{loginCall("password_leaked")}},
		{name: "login: password policy in the code/description shape is a refusal", run: login("pwpolicy@example.com", strong, ""), want: provider.ErrRejected,
			calls: []call{loginCall("code/description shape")}},
		{name: "login: the end user's IP travels as auth0-forwarded-for", run: func(t *testing.T, c *auth0.Client) error {
			_, err := c.Login(provider.WithEndUserIP(ctx, "203.0.113.7"), "jo.doe@example.com", strong)
			if j := journal(t, base); len(j) != 1 || j[0].ForwardedFor != "203.0.113.7" {
				t.Errorf("journal %+v, want one login with auth0-forwarded-for 203.0.113.7", j)
			}
			return err
		}, calls: []call{loginCall("any other user and password -> tokens")}},
		{name: "login: servererror", run: login("servererror@example.com", strong, ""), want: provider.ErrUnavailable,
			calls: []call{loginCall("servererror -> 500")}},
		{name: "login: bad-client", cfg: func(c *auth0.Config) { c.ClientID = "bad-client" }, run: login("jo.doe@example.com", strong, ""), want: provider.ErrUnavailable,
			calls: []call{loginCall("login: client_id bad-client")}},
		{name: "login: another realm", cfg: func(c *auth0.Config) { c.Connection = "Other-Connection" }, run: login("jo.doe@example.com", strong, ""), want: provider.ErrRejected,
			calls: []call{loginCall("realm must be the connection")}},
		{name: "change password then log in with the new one (pwchange@example.com)", run: func(t *testing.T, c *auth0.Client) error {
			id := enc("pwchange@example.com")
			type step struct {
				name string
				err  error
				want error
			}
			var steps []step
			_, err := c.Login(ctx, "pwchange@example.com", "NewPassw0rd!")
			steps = append(steps, step{"new password before", err, provider.ErrInvalidCredentials})
			_, err = c.Login(ctx, "pwchange@example.com", "Old-Passw0rd!")
			steps = append(steps, step{"old password before", err, nil})
			steps = append(steps, step{"change", c.ChangePassword(ctx, id, "NewPassw0rd!"), nil})
			s, err := c.Login(ctx, "pwchange@example.com", "NewPassw0rd!")
			steps = append(steps, step{"new password after", err, nil})
			if err == nil && s.UserID != id {
				t.Errorf("user = %q, want %q", s.UserID, id)
			}
			_, err = c.Login(ctx, "pwchange@example.com", "Old-Passw0rd!")
			steps = append(steps, step{"old password after", err, provider.ErrInvalidCredentials})
			for _, s := range steps {
				if (s.want == nil) != (s.err == nil) || (s.want != nil && !errors.Is(s.err, s.want)) {
					t.Errorf("%s: err = %v, want %v", s.name, s.err, s.want)
				}
			}
			return nil
		}, calls: []call{
			loginCall("before the change: the new password is not valid yet"),
			loginCall("any other user and password -> tokens"),
			tokenCall,
			{"PATCH", userURL(enc("pwchange@example.com")), "pwchange@example.com gets NewPassw0rd!"},
			loginCall("any other user and password -> tokens"),
			loginCall("after the change: any other password is refused"),
		}},

		// --- UserForToken
		{name: "token: a login's access token resolves to its user", run: func(t *testing.T, c *auth0.Client) error {
			s, err := c.Login(ctx, "jo.doe@example.com", strong)
			if err != nil {
				return err
			}
			u, err := c.UserForToken(ctx, s.Tokens[0].Content)
			if err == nil && (u.ID != jo || u.Email != "jo.doe@example.com") {
				t.Errorf("user = %+v", u)
			}
			return err
		}, calls: []call{loginCall("any other user and password -> tokens"), {"GET", "/userinfo", "token issued by the mock login"}, tokenCall, {"GET", userURL(jo), "auth0|base64url(email)"}, {"GET", blocksURL(jo), "any other user -> no blocks"}}},
		{name: "token: valid-token", run: userForToken("valid-token"),
			calls: []call{{"GET", "/userinfo", "valid-token"}, tokenCall, {"GET", userURL(hexID), "auth0|<24 hex>"}, {"GET", blocksURL(hexID), "any other user -> no blocks"}}},
		{name: "token: the user's account locked by brute-force protection is blocked", run: tokenUser("bruteforce@example.com", "", true),
			calls: tokenCalls("bruteforce@example.com", "locked (no IP")},
		{name: "token: a block of the end user's own IP is blocked", run: tokenUser("bruteforce.ip@example.com", "203.0.113.7", true),
			calls: tokenCalls("bruteforce.ip@example.com", "blocked for 203.0.113.7")},
		{name: "token: a block of another IP is not this end user's", run: tokenUser("bruteforce.ip@example.com", "198.51.100.23", false),
			calls: tokenCalls("bruteforce.ip@example.com", "blocked for 203.0.113.7")},
		{name: "token: expired-token", run: userForToken("expired-token"), want: provider.ErrInvalidToken,
			calls: []call{{"GET", "/userinfo", "any other (or no) token -> 401"}}},
		{name: "token: ratelimit-token", run: userForToken("ratelimit-token"), want: provider.ErrUnavailable,
			calls: repeat(call{"GET", "/userinfo", "ratelimit -> 429"}, 3)},
		{name: "token: servererror-token", run: userForToken("servererror-token"), want: provider.ErrUnavailable,
			calls: repeat(call{"GET", "/userinfo", "servererror -> 500"}, 3)},

		// --- PasswordChangeURL
		{name: "ticket: any user", run: ticket(jo), calls: []call{tokenCall, {"POST", "/api/v2/tickets/password-change", "any user -> 201"}}},
		{name: "ticket: auth0|notfound", run: ticket("auth0|notfound"), want: provider.ErrNotFound,
			calls: []call{tokenCall, {"POST", "/api/v2/tickets/password-change", "auth0|notfound -> 404"}}},
		{name: "ticket: ratelimit is not retried", run: ticket("auth0|ratelimit"), want: provider.ErrUnavailable,
			calls: []call{tokenCall, {"POST", "/api/v2/tickets/password-change", "ratelimit -> 429"}}},
		{name: "ticket: servererror", run: ticket("auth0|servererror"), want: provider.ErrUnavailable,
			calls: []call{tokenCall, {"POST", "/api/v2/tickets/password-change", "servererror -> 500"}}},

		// --- Delete
		{name: "delete: any id", run: func(t *testing.T, c *auth0.Client) error { return c.Delete(ctx, jo) },
			calls: []call{tokenCall, {"DELETE", userURL(jo), "any id -> 204"}}},
		{name: "delete: ratelimit is not retried", run: func(t *testing.T, c *auth0.Client) error { return c.Delete(ctx, "auth0|ratelimit") },
			want: provider.ErrUnavailable, calls: []call{tokenCall, {"DELETE", userURL("auth0|ratelimit"), "ratelimit -> 429"}}},
		{name: "delete: servererror", run: func(t *testing.T, c *auth0.Client) error { return c.Delete(ctx, "auth0|servererror") },
			want: provider.ErrUnavailable, calls: []call{tokenCall, {"DELETE", userURL("auth0|servererror"), "servererror -> 500"}}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Reloads the file stubs, clears the journal and puts every scenario back to Started.
			if err := srv.Admin.Reset(); err != nil {
				t.Fatalf("reset: %v", err)
			}
			err := tc.run(t, newMockClient(t, tc.cfg))
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("error = %v, want kind %v", err, tc.want)
			}
			got := journal(t, base)
			if len(got) != len(tc.calls) {
				t.Errorf("%d calls, want %d:", len(got), len(tc.calls))
			}
			for i, g := range got {
				if i >= len(tc.calls) {
					t.Errorf("  extra: %s %s <- %q", g.Method, g.URL, g.Stub)
					continue
				}
				w := tc.calls[i]
				if g.Method != w.method || g.URL != w.url || !strings.Contains(g.Stub, w.stub) {
					t.Errorf("  call %d = %s %s <- %q,\n           want %s %s <- …%s…", i, g.Method, g.URL, g.Stub, w.method, w.url, w.stub)
				}
				if strings.HasPrefix(g.URL, "/api/v2/") && g.Auth != mgmtAuth {
					t.Errorf("  call %d sent Authorization %q", i, g.Auth)
				}
			}
		})
	}

	// Guards the adapter never trips (it always sends the connection, never mixes password and
	// email, always names the user): sent by hand, so that these stubs are verified too.
	guards := []struct {
		name, method, path, auth, body string
		status                         int
		stub                           string
	}{
		{"management call without the token", "GET", userURL(jo), "", "", 401, "without the management token"},
		{"management call with another token", "GET", userURL(jo), "Bearer other", "", 401, "without the management token"},
		{"patch of password and email together", "PATCH", userURL(jo), mgmtAuth, `{"password":"x","email":"a@example.com","connection":"Username-Password-Authentication"}`, 400, "password together with email"},
		{"patch of password without connection", "PATCH", userURL(jo), mgmtAuth, `{"password":"x"}`, 400, "without connection"},
		{"ticket without user_id", "POST", "/api/v2/tickets/password-change", mgmtAuth, `{"result_url":"https://example.com"}`, 400, "no user_id"},
		{"userinfo without a token", "GET", "/userinfo", "", "", 401, "any other (or no) token"},
		// What Auth0's search refuses, the mock refuses: more than 100 a page, past the first 1000
		// matches, the retired search engines.
		{"search with per_page 101", "GET", pageURL("email:x*", "101", "0"), mgmtAuth, "", 400, "per_page above 100"},
		{"search past the first 1000 matches", "GET", pageURL("email:x*", "100", "10"), mgmtAuth, "", 400, "beyond the first 1000"},
		{"search with search_engine v2", "GET", "/api/v2/users?" + url.Values{"q": {"email:x*"}, "search_engine": {"v2"}}.Encode(), mgmtAuth, "", 400, "other than v3"},
	}
	for _, g := range guards {
		t.Run("guard: "+g.name, func(t *testing.T) {
			if err := srv.Admin.Reset(); err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequest(g.method, base+g.path, strings.NewReader(g.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if g.auth != "" {
				req.Header.Set("Authorization", g.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != g.status || !strings.Contains(resp.Header.Get("Matched-Stub-Name"), g.stub) {
				t.Errorf("%s %s = %d from %q, want %d from …%s…", g.method, g.path, resp.StatusCode, resp.Header.Get("Matched-Stub-Name"), g.status, g.stub)
			}
		})
	}

	// The create body as Auth0 receives it, checked once in full.
	t.Run("create sends the documented body", func(t *testing.T) {
		if err := srv.Admin.Reset(); err != nil {
			t.Fatal(err)
		}
		_, err := newMockClient(t, nil).Create(ctx, provider.NewUser{Email: "jo.doe@example.com", Password: strong, FirstName: "Jo", EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		j := journal(t, base)
		var body map[string]any
		if err := json.Unmarshal([]byte(j[len(j)-1].Body), &body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"connection": mockConnection, "email": "jo.doe@example.com", "password": strong, "given_name": "Jo", "email_verified": true, "verify_email": false}
		if len(body) != len(want) {
			t.Errorf("body = %v, want %v", body, want)
		}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("body[%s] = %v, want %v", k, body[k], v)
			}
		}
	})
}
