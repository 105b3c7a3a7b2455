package ssor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser/restusertest"
	"usersorchestrator/internal/provider/ssor"
)

const apiToken = "ssor-api-T0ken"

func newClient(t *testing.T, url string) *ssor.Client {
	t.Helper()
	c, err := ssor.New(ssor.Config{BaseURL: url, APIToken: apiToken, HTTP: httpx.Config{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  ssor.Config
		ok   bool
	}{
		{"complete", ssor.Config{BaseURL: "https://ssor.example", APIToken: apiToken}, true},
		{"base URL from HTTP", ssor.Config{APIToken: apiToken, HTTP: httpx.Config{BaseURL: "https://ssor.example"}}, true},
		{"no token", ssor.Config{BaseURL: "https://ssor.example"}, false},
		{"token with a newline", ssor.Config{BaseURL: "https://ssor.example", APIToken: apiToken + "\n"}, false},
		{"no base URL", ssor.Config{APIToken: apiToken}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ssor.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), apiToken) {
				t.Errorf("error %q quotes the token", err)
			}
			if tt.ok && c.Name() != "SSOR" {
				t.Errorf("Name() %q, want SSOR", c.Name())
			}
		})
	}
}

// TestAuthorization: the API token goes with every service call; GET /users/me carries the
// user's token instead (one Authorization header, never both).
func TestAuthorization(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(*ssor.Client) error
		want string
	}{
		{"GetUser", func(c *ssor.Client) error { _, err := c.GetUser(ctx, "u-1"); return err }, "Bearer " + apiToken},
		{"FindByEmail", func(c *ssor.Client) error { _, err := c.FindByEmail(ctx, "jo@example.com"); return err }, "Bearer " + apiToken},
		{"Search", func(c *ssor.Client) error { _, err := c.Search(ctx, provider.Query{FirstName: "J"}); return err }, "Bearer " + apiToken},
		{"Create", func(c *ssor.Client) error {
			_, err := c.Create(ctx, provider.NewUser{Email: "jo@example.com", Password: "pw"})
			return err
		}, "Bearer " + apiToken},
		{"Update", func(c *ssor.Client) error { _, err := c.Update(ctx, "u-1", provider.Update{}); return err }, "Bearer " + apiToken},
		{"Delete", func(c *ssor.Client) error { return c.Delete(ctx, "u-1") }, "Bearer " + apiToken},
		{"Login", func(c *ssor.Client) error { _, err := c.Login(ctx, "jo@example.com", "pw"); return err }, "Bearer " + apiToken},
		{"ChangePassword", func(c *ssor.Client) error { return c.ChangePassword(ctx, "u-1", "pw") }, "Bearer " + apiToken},
		{"ChangeEmail", func(c *ssor.Client) error { _, err := c.ChangeEmail(ctx, "u-1", "new@example.com"); return err }, "Bearer " + apiToken},
		{"PasswordChangeURL", func(c *ssor.Client) error { _, err := c.PasswordChangeURL(ctx, "u-1", ""); return err }, "Bearer " + apiToken},
		{"UserForToken", func(c *ssor.Client) error { _, err := c.UserForToken(ctx, "user-tok"); return err }, "Bearer user-tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(restusertest.Error(503, "unavailable")))
			err := tt.call(newClient(t, srv.URL))
			if !errors.Is(err, provider.ErrUnavailable) {
				t.Fatalf("err %v, want ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), apiToken) || strings.Contains(err.Error(), "user-tok") {
				t.Errorf("error %q quotes a token", err)
			}
			r := srv.Only(t)
			if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != tt.want {
				t.Errorf("Authorization %q, want [%q]", got, tt.want)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"u-jo@example.com", true},
		{"00uabc123", true},
		{"a/b", true},
		{"", false},
		{"me", false},
		{"authenticate", false},
		{".", false},
		{"..", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := ssor.ValidID(tt.id); got != tt.ok {
				t.Fatalf("ValidID(%q) = %v, want %v", tt.id, got, tt.ok)
			}
			srv := restusertest.New(t, restusertest.Always(restusertest.JSON(200, `{"id":"`+tt.id+`","email":"jo@example.com"}`)))
			u, err := newClient(t, srv.URL).GetUser(context.Background(), tt.id)
			n := len(srv.Requests())
			switch {
			case tt.ok && (err != nil || u.ID != tt.id || n != 1):
				t.Errorf("GetUser(%q): %+v, %v after %d calls", tt.id, u, err, n)
			case !tt.ok && (!errors.Is(err, provider.ErrNotFound) || n != 0):
				// "me" must never reach GET /users/me, where it would be answered as a token.
				t.Errorf("GetUser(%q): %v after %d calls, want ErrNotFound without a call", tt.id, err, n)
			}
		})
	}
}

func TestSessionTokenName(t *testing.T) {
	srv := restusertest.New(t, restusertest.Always(restusertest.JSON(200, `{"userId":"u-1","accessToken":"tok","expiresIn":60}`)))
	s, err := newClient(t, srv.URL).Login(context.Background(), "jo@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tokens) != 1 || s.Tokens[0].Name != "ssor_access_token" {
		t.Errorf("tokens %+v", s.Tokens)
	}
}
