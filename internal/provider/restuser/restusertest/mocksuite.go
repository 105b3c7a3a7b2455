//go:build wiremock || e2e

package restusertest

import (
	"context"
	"encoding/base64"
	"errors"
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

// Mock describes one provider's WireMock stubs (mocks/<provider>/, documented in its README) and
// how to build its adapter, for RunMockSuite.
type Mock struct {
	// URL is the running WireMock; Admin its admin client (Reset and the request journal).
	URL   string
	Admin *gowiremock.Client
	// New builds the adapter for the mock with this service credential.
	New func(baseURL, credential string, h httpx.Config) (provider.AuthSystem, error)
	// Credential is accepted by the stubs; BadCredential is answered 401 unauthorized and
	// ForbiddenCredential 403 forbidden.
	Credential, BadCredential, ForbiddenCredential string
	// CredentialHeader and CredentialValue say how the adapter sends a credential.
	CredentialHeader string
	CredentialValue  func(credential string) string
	// TokenCallCarriesCredential: GET /users/me carries the service credential too (Firefly).
	TokenCallCarriesCredential bool
	// The trigger ids of the stubs for calls on /users/{id}.
	NotFoundID, RateLimitID, ServerErrorID, TimeoutID string
	// IDFor is the id the stubs derive from an email (create, authenticate, /users/me).
	IDFor func(email string) string
	// GetKnowsEmail: GET /users/{id} answers the email the id was derived from (SSOR's ids embed
	// it; a Firefly GUID cannot, see mocks/firefly/README.md).
	GetKnowsEmail bool
}

// RunMockSuite runs every adapter method against the stubs, with every trigger input of the
// README, and checks the outcome and the exact requests WireMock received (its journal). The
// mock is reset (mappings, scenarios, journal) before each case.
func RunMockSuite(t *testing.T, m Mock) {
	s := &mockSuite{m: m}
	ctx := context.Background()
	const (
		email    = "Jane.Doe+e2e@Example.com"
		lower    = "jane.doe+e2e@example.com"
		password = "Corr3ct-horse"
		existing = "exists@example.com"
	)
	id := m.IDFor(email)
	esc := func(id string) string { return "/users/" + url.PathEscape(id) }
	first, last, verified := "Janet", "Dough", true

	s.run(t, "create then get, authenticate and resolve the token: one user", func(t *testing.T, c provider.AuthSystem) {
		u, err := c.Create(ctx, provider.NewUser{Email: email, Password: password, FirstName: "Jane", LastName: "Doe",
			Metadata: map[string]string{"plan": "gold"}})
		wantKind(t, err, nil)
		if u.ID != id || u.Email != email || u.FirstName != "Jane" || u.LastName != "Doe" || u.EmailVerified ||
			!reflect.DeepEqual(u.Metadata, map[string]string{"plan": "gold"}) || u.CreatedAt.IsZero() {
			t.Errorf("created %+v, want id %s and the input echoed", u, id)
		}
		got, err := c.GetUser(ctx, u.ID)
		wantKind(t, err, nil)
		if got.ID != id || (m.GetKnowsEmail && got.Email != lower) {
			t.Errorf("got %+v, want id %s", got, id)
		}
		sess, err := c.Login(ctx, email, password)
		wantKind(t, err, nil)
		if sess.UserID != id || len(sess.Tokens) != 1 || sess.Tokens[0].Content == "" || sess.Tokens[0].ExpiresIn != time.Hour {
			t.Fatalf("session %+v, want user %s and one token for an hour", sess, id)
		}
		me, err := c.UserForToken(ctx, sess.Tokens[0].Content)
		wantKind(t, err, nil)
		if me.ID != id || me.Email != lower {
			t.Errorf("token user %+v, want %s %s", me, id, lower)
		}
		s.calls(t, "POST /users", "GET "+esc(id), "POST /users/authenticate", "GET /users/me")
	})

	s.run(t, "create refused", func(t *testing.T, c provider.AuthSystem) {
		_, err := c.Create(ctx, provider.NewUser{Email: existing, Password: password})
		wantKind(t, err, provider.ErrUserExists)
		_, err = c.Create(ctx, provider.NewUser{Email: email, Password: "weak-password"})
		wantKind(t, err, provider.ErrRejected)
		_, err = c.Create(ctx, provider.NewUser{Email: "no-at-sign", Password: password})
		wantKind(t, err, provider.ErrRejected)
		s.calls(t, "POST /users", "POST /users", "POST /users")
	})

	s.run(t, "create faults are not retried", func(t *testing.T, c provider.AuthSystem) {
		_, err := c.Create(ctx, provider.NewUser{Email: "ratelimit@example.com", Password: password})
		wantKind(t, err, provider.ErrUnavailable)
		_, err = c.Create(ctx, provider.NewUser{Email: "servererror@example.com", Password: password})
		wantKind(t, err, provider.ErrUnavailable)
		s.calls(t, "POST /users", "POST /users")
	})

	s.run(t, "get", func(t *testing.T, c provider.AuthSystem) {
		u, err := c.GetUser(ctx, m.IDFor(existing))
		wantKind(t, err, nil)
		if u.Email != existing || u.FirstName != "Existing" || !u.EmailVerified || u.Metadata["plan"] != "basic" {
			t.Errorf("existing user %+v", u)
		}
		b, err := c.GetUser(ctx, m.IDFor("blocked@example.com"))
		wantKind(t, err, nil)
		if !b.Blocked {
			t.Errorf("blocked user %+v, want blocked", b)
		}
		_, err = c.GetUser(ctx, m.NotFoundID)
		wantKind(t, err, provider.ErrNotFound)
		s.calls(t, "GET "+esc(m.IDFor(existing)), "GET "+esc(m.IDFor("blocked@example.com")), "GET "+esc(m.NotFoundID))
	})

	s.run(t, "get faults", func(t *testing.T, c provider.AuthSystem) {
		_, err := c.GetUser(ctx, m.RateLimitID)
		wantKind(t, err, provider.ErrUnavailable)
		_, err = c.GetUser(ctx, m.ServerErrorID)
		wantKind(t, err, provider.ErrUnavailable)
		// GET is idempotent: each is tried twice (MaxRetries 1).
		s.calls(t, "GET "+esc(m.RateLimitID), "GET "+esc(m.RateLimitID), "GET "+esc(m.ServerErrorID), "GET "+esc(m.ServerErrorID))
	})

	s.run(t, "find by email", func(t *testing.T, c provider.AuthSystem) {
		u, err := c.FindByEmail(ctx, "Exists@Example.com")
		wantKind(t, err, nil)
		if u.ID != m.IDFor(existing) {
			t.Errorf("found %+v, want id %s", u, m.IDFor(existing))
		}
		_, err = c.FindByEmail(ctx, email)
		wantKind(t, err, provider.ErrNotFound)
		_, err = c.FindByEmail(ctx, "ratelimit@example.com")
		wantKind(t, err, provider.ErrUnavailable)
		q := func(e string) string { return "GET /users?" + url.Values{"email": {e}}.Encode() }
		s.calls(t, q("Exists@Example.com"), q(email), q("ratelimit@example.com"), q("ratelimit@example.com"))
	})

	s.run(t, "search", func(t *testing.T, c provider.AuthSystem) {
		tests := []struct {
			q    provider.Query
			want int
		}{
			{provider.Query{FirstName: "ex", LastName: "Us", Limit: 10}, 1},
			{provider.Query{FirstName: "Existing"}, 1},
			{provider.Query{LastName: "user"}, 1},
			{provider.Query{FirstName: "ex", LastName: "Zz"}, 0},
			{provider.Query{Email: existing}, 1},
			{provider.Query{Email: email}, 0},
		}
		var want []string
		for _, tt := range tests {
			users, err := c.Search(ctx, tt.q)
			wantKind(t, err, nil)
			if len(users) != tt.want || (tt.want == 1 && users[0].ID != m.IDFor(existing)) {
				t.Errorf("search %+v: %+v, want %d", tt.q, users, tt.want)
			}
			v := url.Values{}
			for k, x := range map[string]string{"email": tt.q.Email, "firstName": tt.q.FirstName, "lastName": tt.q.LastName} {
				if x != "" {
					v.Set(k, x)
				}
			}
			if tt.q.Limit > 0 {
				v.Set("limit", "10")
			}
			want = append(want, "GET /users?"+v.Encode())
		}
		s.calls(t, want...)
	})

	s.run(t, "search faults", func(t *testing.T, c provider.AuthSystem) {
		_, err := c.Search(ctx, provider.Query{LastName: "servererror"})
		wantKind(t, err, provider.ErrUnavailable)
		_, err = c.Search(ctx, provider.Query{FirstName: "ratelimit"})
		wantKind(t, err, provider.ErrUnavailable)
		s.calls(t, "GET /users?lastName=servererror", "GET /users?lastName=servererror",
			"GET /users?firstName=ratelimit", "GET /users?firstName=ratelimit")
	})

	s.run(t, "update", func(t *testing.T, c provider.AuthSystem) {
		u, err := c.Update(ctx, id, provider.Update{FirstName: &first, LastName: &last, EmailVerified: &verified,
			Metadata: map[string]*string{"plan": &first, "gone": nil}})
		wantKind(t, err, nil)
		if u.ID != id || u.FirstName != first || u.LastName != last || !u.EmailVerified ||
			!reflect.DeepEqual(u.Metadata, map[string]string{"plan": first}) {
			t.Errorf("updated %+v", u)
		}
		invalid := "invalid"
		_, err = c.Update(ctx, id, provider.Update{FirstName: &invalid})
		wantKind(t, err, provider.ErrRejected)
		_, err = c.Update(ctx, m.NotFoundID, provider.Update{FirstName: &first})
		wantKind(t, err, provider.ErrNotFound)
		s.calls(t, "PATCH "+esc(id), "PATCH "+esc(id), "PATCH "+esc(m.NotFoundID))
	})

	s.run(t, "verification is remembered until reset", func(t *testing.T, c provider.AuthSystem) {
		const unverified = "unverified@example.com"
		uid := m.IDFor(unverified)
		_, err := c.Login(ctx, unverified, password)
		wantKind(t, err, provider.ErrNotVerified)
		u, err := c.GetUser(ctx, uid)
		wantKind(t, err, nil)
		if u.EmailVerified {
			t.Errorf("unverified user %+v", u)
		}
		if _, err := c.Update(ctx, uid, provider.Update{EmailVerified: &verified}); err != nil {
			t.Fatal(err)
		}
		sess, err := c.Login(ctx, unverified, password)
		wantKind(t, err, nil)
		if sess.UserID != uid {
			t.Errorf("session %+v, want user %s", sess, uid)
		}
		if u, _ := c.GetUser(ctx, uid); !u.EmailVerified {
			t.Errorf("user still unverified: %+v", u)
		}
		s.calls(t, "POST /users/authenticate", "GET "+esc(uid), "PATCH "+esc(uid), "POST /users/authenticate", "GET "+esc(uid))
		s.reset(t)
		_, err = c.Login(ctx, unverified, password)
		wantKind(t, err, provider.ErrNotVerified)
	})

	s.run(t, "delete", func(t *testing.T, c provider.AuthSystem) {
		wantKind(t, c.Delete(ctx, id), nil)
		wantKind(t, c.Delete(ctx, m.NotFoundID), nil)
		wantKind(t, c.Delete(ctx, m.ServerErrorID), provider.ErrUnavailable)
		s.calls(t, "DELETE "+esc(id), "DELETE "+esc(m.NotFoundID), "DELETE "+esc(m.ServerErrorID))
	})

	s.run(t, "login refused", func(t *testing.T, c provider.AuthSystem) {
		_, err := c.Login(ctx, email, "wrong-password")
		wantKind(t, err, provider.ErrInvalidCredentials)
		_, err = c.Login(ctx, "blocked@example.com", password)
		wantKind(t, err, provider.ErrBlocked)
		_, err = c.Login(ctx, "ratelimit@example.com", password)
		wantKind(t, err, provider.ErrUnavailable)
		_, err = c.Login(ctx, "servererror@example.com", password)
		wantKind(t, err, provider.ErrUnavailable)
		_, err = c.Login(ctx, "no-at-sign", password)
		wantKind(t, err, provider.ErrRejected)
		_, err = c.UserForToken(ctx, "not-a-token-the-mock-issued")
		wantKind(t, err, provider.ErrInvalidToken)
		// The token the stubs would issue to blocked@example.com, had it not been refused.
		_, err = c.UserForToken(ctx, "mock-"+base64.StdEncoding.EncodeToString([]byte("blocked@example.com")))
		wantKind(t, err, provider.ErrBlocked)
		s.calls(t, "POST /users/authenticate", "POST /users/authenticate", "POST /users/authenticate",
			"POST /users/authenticate", "POST /users/authenticate", "GET /users/me", "GET /users/me")
	})

	s.run(t, "change password then authenticate with it", func(t *testing.T, c provider.AuthSystem) {
		wantKind(t, c.ChangePassword(ctx, id, "N3w-password"), nil)
		sess, err := c.Login(ctx, email, "N3w-password")
		wantKind(t, err, nil)
		if sess.UserID != id {
			t.Errorf("session %+v, want user %s", sess, id)
		}
		wantKind(t, c.ChangePassword(ctx, id, "weak-password"), provider.ErrRejected)
		wantKind(t, c.ChangePassword(ctx, m.NotFoundID, "N3w-password"), provider.ErrNotFound)
		s.calls(t, "PUT "+esc(id)+"/password", "POST /users/authenticate", "PUT "+esc(id)+"/password", "PUT "+esc(m.NotFoundID)+"/password")
	})

	s.run(t, "change email", func(t *testing.T, c provider.AuthSystem) {
		u, err := c.ChangeEmail(ctx, id, "new@example.com")
		wantKind(t, err, nil)
		if u.ID != id || u.Email != "new@example.com" || u.EmailVerified {
			t.Errorf("changed %+v, want the new address, unverified", u)
		}
		_, err = c.ChangeEmail(ctx, id, existing)
		wantKind(t, err, provider.ErrUserExists)
		_, err = c.ChangeEmail(ctx, m.NotFoundID, "new@example.com")
		wantKind(t, err, provider.ErrNotFound)
		_, err = c.ChangeEmail(ctx, id, "ratelimit@example.com")
		wantKind(t, err, provider.ErrUnavailable)
		p := "PUT " + esc(id) + "/email"
		s.calls(t, p, p, "PUT "+esc(m.NotFoundID)+"/email", p, p)
	})

	s.run(t, "password-change link", func(t *testing.T, c provider.AuthSystem) {
		link, err := c.PasswordChangeURL(ctx, id, "https://shop.example/back")
		wantKind(t, err, nil)
		if !strings.HasPrefix(link, "https://") {
			t.Errorf("link %q", link)
		}
		_, err = c.PasswordChangeURL(ctx, m.NotFoundID, "")
		wantKind(t, err, provider.ErrNotFound)
		s.calls(t, "POST "+esc(id)+"/password-link", "POST "+esc(m.NotFoundID)+"/password-link")
	})

	for _, cred := range []string{m.BadCredential, m.ForbiddenCredential} {
		s.runWith(t, "service credential "+cred+" refused", cred, httpx.Config{MaxRetries: -1}, func(t *testing.T, c provider.AuthSystem) {
			_, err := c.GetUser(ctx, id)
			wantKind(t, err, provider.ErrUnavailable)
			_, err = c.Login(ctx, email, password)
			wantKind(t, err, provider.ErrUnavailable)
			_, err = c.Create(ctx, provider.NewUser{Email: email, Password: password})
			wantKind(t, err, provider.ErrUnavailable)
			// Where /users/me carries the credential (Firefly), its refusal is ours, not the
			// token's; where it does not (SSOR), the stubs judge the token alone.
			_, err = c.UserForToken(ctx, "not-a-token-the-mock-issued")
			if m.TokenCallCarriesCredential {
				wantKind(t, err, provider.ErrUnavailable)
			} else {
				wantKind(t, err, provider.ErrInvalidToken)
			}
			s.callsWith(t, cred, "GET "+esc(id), "POST /users/authenticate", "POST /users", "GET /users/me")
		})
	}

	s.runWith(t, "timeout", m.Credential, httpx.Config{MaxRetries: -1, Timeout: 300 * time.Millisecond}, func(t *testing.T, c provider.AuthSystem) {
		start := time.Now()
		_, err := c.GetUser(ctx, m.TimeoutID)
		wantKind(t, err, provider.ErrUnavailable)
		_, err = c.Create(ctx, provider.NewUser{Email: "timeout@example.com", Password: password})
		wantKind(t, err, provider.ErrUnavailable)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("two timed-out calls took %v", d)
		}
	})
}

type mockSuite struct{ m Mock }

func (s *mockSuite) reset(t *testing.T) {
	t.Helper()
	if err := s.m.Admin.Reset(); err != nil {
		t.Fatalf("reset the mock: %v", err)
	}
}

// run runs one case with the accepted credential and one retry allowed.
func (s *mockSuite) run(t *testing.T, name string, f func(*testing.T, provider.AuthSystem)) {
	s.runWith(t, name, s.m.Credential, httpx.Config{MaxRetries: 1, Timeout: 5 * time.Second}, f)
}

func (s *mockSuite) runWith(t *testing.T, name, cred string, h httpx.Config, f func(*testing.T, provider.AuthSystem)) {
	t.Run(name, func(t *testing.T) {
		s.reset(t)
		c, err := s.m.New(s.m.URL, cred, h)
		if err != nil {
			t.Fatal(err)
		}
		f(t, c)
	})
}

func (s *mockSuite) calls(t *testing.T, want ...string) {
	t.Helper()
	s.callsWith(t, s.m.Credential, want...)
}

// callsWith asserts that WireMock received exactly the requests want ("METHOD raw-URL"), in
// order, each matched by a stub (an unmatched one would mean a stub is missing) and carrying
// the credential (and, on /users/me, a bearer token).
func (s *mockSuite) callsWith(t *testing.T, cred string, want ...string) {
	t.Helper()
	all, err := s.m.Admin.GetAllRequests()
	if err != nil {
		t.Fatalf("read the journal: %v", err)
	}
	events := slices.Clone(all.Requests)
	slices.Reverse(events) // the journal lists the newest first
	var got []string
	for _, e := range events {
		r := e.Request
		got = append(got, r.Method+" "+r.URL)
		if !e.WasMatched {
			t.Errorf("%s %s matched no stub", r.Method, r.URL)
		}
		isMe := strings.HasPrefix(r.URL, "/users/me")
		if !isMe || s.m.TokenCallCarriesCredential {
			if v := header(r.Headers, s.m.CredentialHeader); v != s.m.CredentialValue(cred) {
				t.Errorf("%s %s: %s %q, want the credential", r.Method, r.URL, s.m.CredentialHeader, v)
			}
		}
		if isMe && !strings.HasPrefix(header(r.Headers, "Authorization"), "Bearer ") {
			t.Errorf("GET /users/me without a bearer token")
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func wantKind(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("err %v, want none", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("err %v, want %v", err, want)
	}
}
