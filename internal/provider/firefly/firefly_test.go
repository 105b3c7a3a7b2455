package firefly_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/firefly"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser/restusertest"
)

const (
	secret = "ff-Secr3t"
	guid   = "3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f"
)

func newClient(t *testing.T, url string) *firefly.Client {
	t.Helper()
	c, err := firefly.New(firefly.Config{BaseURL: url, Secret: secret, HTTP: httpx.Config{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  firefly.Config
		ok   bool
	}{
		{"complete", firefly.Config{BaseURL: "https://firefly.example", Secret: secret}, true},
		{"base URL from HTTP", firefly.Config{Secret: secret, HTTP: httpx.Config{BaseURL: "https://firefly.example"}}, true},
		{"no secret", firefly.Config{BaseURL: "https://firefly.example"}, false},
		{"secret with a space", firefly.Config{BaseURL: "https://firefly.example", Secret: "ff " + secret}, false},
		{"no base URL", firefly.Config{Secret: secret}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := firefly.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes the secret", err)
			}
			if tt.ok && c.Name() != "Firefly" {
				t.Errorf("Name() %q, want Firefly", c.Name())
			}
		})
	}
}

// TestHeaders: the secret goes with every call, GET /users/me included (Firefly still has to
// know who is asking); only /users/me carries an Authorization header, the user's token.
func TestHeaders(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(*firefly.Client) error
		auth string
	}{
		{"GetUser", func(c *firefly.Client) error { _, err := c.GetUser(ctx, guid); return err }, ""},
		{"FindByEmail", func(c *firefly.Client) error { _, err := c.FindByEmail(ctx, "jo@example.com"); return err }, ""},
		{"Search", func(c *firefly.Client) error { _, err := c.Search(ctx, provider.Query{FirstName: "J"}); return err }, ""},
		{"Create", func(c *firefly.Client) error {
			_, err := c.Create(ctx, provider.NewUser{Email: "jo@example.com", Password: "pw"})
			return err
		}, ""},
		{"Update", func(c *firefly.Client) error { _, err := c.Update(ctx, guid, provider.Update{}); return err }, ""},
		{"Delete", func(c *firefly.Client) error { return c.Delete(ctx, guid) }, ""},
		{"Login", func(c *firefly.Client) error { _, err := c.Login(ctx, "jo@example.com", "pw"); return err }, ""},
		{"ChangePassword", func(c *firefly.Client) error { return c.ChangePassword(ctx, guid, "pw") }, ""},
		{"ChangeEmail", func(c *firefly.Client) error { _, err := c.ChangeEmail(ctx, guid, "new@example.com"); return err }, ""},
		{"PasswordChangeURL", func(c *firefly.Client) error { _, err := c.PasswordChangeURL(ctx, guid, ""); return err }, ""},
		{"UserForToken", func(c *firefly.Client) error { _, err := c.UserForToken(ctx, "user-tok"); return err }, "Bearer user-tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(restusertest.Error(503, "unavailable")))
			err := tt.call(newClient(t, srv.URL))
			if !errors.Is(err, provider.ErrUnavailable) {
				t.Fatalf("err %v, want ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes the secret", err)
			}
			r := srv.Only(t)
			if got := r.Header.Values(firefly.SecretHeader); len(got) != 1 || got[0] != secret {
				t.Errorf("%s %q, want [%q]", firefly.SecretHeader, got, secret)
			}
			if got := r.Header.Get("Authorization"); got != tt.auth {
				t.Errorf("Authorization %q, want %q", got, tt.auth)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{guid, true},
		{strings.ToUpper(guid), true},
		{"00000000-0000-0000-0000-000000000404", true},
		{"", false},
		{"me", false},
		{"3f6f8b1e2c4d4f3a9d7e1a2b3c4d5e6f", false},
		{"{" + guid + "}", false},
		{"urn:uuid:" + guid, false},
		{"3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6g", false},
		{"u-jo@example.com", false},
	}
	for _, tt := range tests {
		if got := firefly.ValidID(tt.id); got != tt.ok {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}

// TestGUIDRule: a non-GUID id is answered without a call (ErrNotFound, or nothing to do for
// Delete), and an answer carrying a non-GUID id is refused.
func TestGUIDRule(t *testing.T) {
	ctx := context.Background()
	const notGUID = "u-jo@example.com"
	calls := []struct {
		name string
		call func(*firefly.Client) error
		want error
	}{
		{"GetUser", func(c *firefly.Client) error { _, err := c.GetUser(ctx, notGUID); return err }, provider.ErrNotFound},
		{"Update", func(c *firefly.Client) error { _, err := c.Update(ctx, notGUID, provider.Update{}); return err }, provider.ErrNotFound},
		{"Delete", func(c *firefly.Client) error { return c.Delete(ctx, notGUID) }, nil},
		{"ChangePassword", func(c *firefly.Client) error { return c.ChangePassword(ctx, notGUID, "pw") }, provider.ErrNotFound},
		{"ChangeEmail", func(c *firefly.Client) error { _, err := c.ChangeEmail(ctx, notGUID, "a@b.c"); return err }, provider.ErrNotFound},
		{"PasswordChangeURL", func(c *firefly.Client) error { _, err := c.PasswordChangeURL(ctx, notGUID, ""); return err }, provider.ErrNotFound},
	}
	for _, tt := range calls {
		t.Run("id "+tt.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(restusertest.JSON(200, `{"id":"`+guid+`"}`)))
			err := tt.call(newClient(t, srv.URL))
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests, want none", n)
			}
		})
	}
	answers := []struct {
		name  string
		reply string
		call  func(*firefly.Client) error
	}{
		{"created user", `{"id":"` + notGUID + `","email":"jo@example.com"}`, func(c *firefly.Client) error {
			_, err := c.Create(ctx, provider.NewUser{Email: "jo@example.com", Password: "pw"})
			return err
		}},
		{"found user", `{"users":[{"id":"` + notGUID + `","email":"jo@example.com"}]}`, func(c *firefly.Client) error {
			_, err := c.FindByEmail(ctx, "jo@example.com")
			return err
		}},
		{"session", `{"userId":"` + notGUID + `","accessToken":"tok","expiresIn":60}`, func(c *firefly.Client) error {
			_, err := c.Login(ctx, "jo@example.com", "pw")
			return err
		}},
		{"token user", `{"id":"` + notGUID + `","email":"jo@example.com"}`, func(c *firefly.Client) error {
			_, err := c.UserForToken(ctx, "tok")
			return err
		}},
	}
	for _, tt := range answers {
		t.Run("answer "+tt.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(restusertest.JSON(200, tt.reply)))
			if err := tt.call(newClient(t, srv.URL)); !errors.Is(err, provider.ErrProtocol) {
				t.Fatalf("err %v, want ErrProtocol", err)
			}
		})
	}
	t.Run("GUID reaches the path", func(t *testing.T) {
		srv := restusertest.New(t, restusertest.Always(restusertest.JSON(200, `{"id":"`+guid+`","email":"jo@example.com"}`)))
		if _, err := newClient(t, srv.URL).GetUser(ctx, guid); err != nil {
			t.Fatal(err)
		}
		if r := srv.Only(t); r.Method != "GET" || r.Path != "/users/"+guid {
			t.Errorf("request %s %s", r.Method, r.Path)
		}
	})
}

func TestSessionTokenName(t *testing.T) {
	srv := restusertest.New(t, restusertest.Always(restusertest.JSON(200, `{"userId":"`+guid+`","accessToken":"tok","expiresIn":60}`)))
	s, err := newClient(t, srv.URL).Login(context.Background(), "jo@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID != guid || len(s.Tokens) != 1 || s.Tokens[0].Name != "firefly_access_token" {
		t.Errorf("session %+v", s)
	}
}
