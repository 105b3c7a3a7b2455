package restuser_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser"
	"usersorchestrator/internal/provider/restuser/restusertest"
)

// The test provider: its credential header and its id rule ("usr-" ids only).
const (
	credHeader = "X-Test-Key"
	credValue  = "k3y-value"
	secret     = "s3cret-Pa55"
)

func validID(id string) bool { return strings.HasPrefix(id, "usr-") }

func newClient(t *testing.T, url string, tune func(*httpx.Config)) *restuser.Client {
	t.Helper()
	cfg := httpx.Config{BaseURL: url, MaxRetries: -1, Timeout: 2 * time.Second}
	if tune != nil {
		tune(&cfg)
	}
	c, err := restuser.New(restuser.Config{
		Name: "Test", HTTP: cfg, Credentials: http.Header{credHeader: {credValue}},
		ValidID: validID, TokenName: "test_access_token",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve starts a provider answering reply to everything and a client for it.
func serve(t *testing.T, reply restusertest.Reply) (*restusertest.Server, *restuser.Client) {
	t.Helper()
	srv := restusertest.New(t, restusertest.Always(reply))
	return srv, newClient(t, srv.URL, nil)
}

// checkErr asserts the outcome: nil, or a *provider.Error of this provider with that kind.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err %v, want none", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err %v, want kind %v", err, want)
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Provider != "Test" {
		t.Fatalf("err %#v is not a *provider.Error of provider Test", err)
	}
}

// checkRequest asserts one request: method, escaped path, query, JSON body, and the service
// credential.
func checkRequest(t *testing.T, r restusertest.Request, method, path string, query url.Values, body string) {
	t.Helper()
	if r.Method != method || r.Path != path {
		t.Errorf("request %s %s, want %s %s", r.Method, r.Path, method, path)
	}
	if query == nil {
		query = url.Values{}
	}
	if r.Query.Encode() != query.Encode() {
		t.Errorf("query %q, want %q", r.Query.Encode(), query.Encode())
	}
	if got := r.Header.Values(credHeader); len(got) != 1 || got[0] != credValue {
		t.Errorf("%s %v, want [%s]", credHeader, got, credValue)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept %q, want application/json", got)
	}
	restusertest.CheckBody(t, r, body)
}

// method is one AuthSystem call with fixed, valid inputs (all of which hold the secret string,
// so that tests can check it never reaches an error).
type method struct {
	name       string
	idempotent bool
	// decodes tells whether a 2xx body is read.
	decodes bool
	call    func(context.Context, *restuser.Client) error
}

var methods = []method{
	{"GetUser", true, true, func(ctx context.Context, c *restuser.Client) error { _, err := c.GetUser(ctx, "usr-1"); return err }},
	{"FindByEmail", true, true, func(ctx context.Context, c *restuser.Client) error {
		_, err := c.FindByEmail(ctx, "jo@example.com")
		return err
	}},
	{"Search", true, true, func(ctx context.Context, c *restuser.Client) error {
		_, err := c.Search(ctx, provider.Query{LastName: "Do"})
		return err
	}},
	{"Create", false, true, func(ctx context.Context, c *restuser.Client) error {
		_, err := c.Create(ctx, provider.NewUser{Email: "jo@example.com", Password: secret})
		return err
	}},
	{"Update", true, true, func(ctx context.Context, c *restuser.Client) error {
		name := "Jo"
		_, err := c.Update(ctx, "usr-1", provider.Update{FirstName: &name})
		return err
	}},
	{"Delete", false, false, func(ctx context.Context, c *restuser.Client) error { return c.Delete(ctx, "usr-1") }},
	{"Login", false, true, func(ctx context.Context, c *restuser.Client) error {
		_, err := c.Login(ctx, "jo@example.com", secret)
		return err
	}},
	{"UserForToken", true, true, func(ctx context.Context, c *restuser.Client) error {
		_, err := c.UserForToken(ctx, secret)
		return err
	}},
	{"ChangePassword", true, false, func(ctx context.Context, c *restuser.Client) error {
		return c.ChangePassword(ctx, "usr-1", secret)
	}},
	{"ChangeEmail", true, true, func(ctx context.Context, c *restuser.Client) error {
		_, err := c.ChangeEmail(ctx, "usr-1", "new@example.com")
		return err
	}},
	{"PasswordChangeURL", false, true, func(ctx context.Context, c *restuser.Client) error {
		_, err := c.PasswordChangeURL(ctx, "usr-1", "https://shop.example/back")
		return err
	}},
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  restuser.Config
		ok   bool
	}{
		{"complete", restuser.Config{Name: "Test", TokenName: "t", HTTP: httpx.Config{BaseURL: "http://127.0.0.1:1"}}, true},
		{"no name", restuser.Config{TokenName: "t", HTTP: httpx.Config{BaseURL: "http://127.0.0.1:1"}}, false},
		{"no token name", restuser.Config{Name: "Test", HTTP: httpx.Config{BaseURL: "http://127.0.0.1:1"}}, false},
		{"no base URL", restuser.Config{Name: "Test", TokenName: "t"}, false},
		{"relative base URL", restuser.Config{Name: "Test", TokenName: "t", HTTP: httpx.Config{BaseURL: "/api"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := restuser.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && c.Name() != "Test" {
				t.Errorf("Name() %q", c.Name())
			}
		})
	}
}

func TestCheckCredential(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"tok-123_ABC.~", true},
		{"", false},
		{"tok\n", false},
		{"to k", false},
		{"tök", false},
	}
	for _, tt := range tests {
		err := restuser.CheckCredential("Test", "APIToken", tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v, want ok=%v", tt.value, err, tt.ok)
		}
		if err != nil && tt.value != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.value)) {
			t.Errorf("error %q quotes the credential", err)
		}
	}
}

// TestRetries: only GET, PUT and PATCH are repeated (decision 21); a POST or DELETE whose answer
// was lost may have taken effect.
func TestRetries(t *testing.T) {
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(restusertest.Reply{
				Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"0"}}, Body: `{"error":"rate_limited","status":429}`,
			}))
			c := newClient(t, srv.URL, func(cfg *httpx.Config) { cfg.MaxRetries = 2 })
			checkErr(t, m.call(context.Background(), c), provider.ErrUnavailable)
			want := 1
			if m.idempotent {
				want = 3
			}
			if got := len(srv.Requests()); got != want {
				t.Errorf("%d requests, want %d", got, want)
			}
		})
	}
}

// TestTimeout: a provider that does not answer in time is unavailable, and the call returns
// soon after the timeout.
func TestTimeout(t *testing.T) {
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(restusertest.Reply{Status: 200, Body: "{}", Delay: 3 * time.Second}))
			c := newClient(t, srv.URL, func(cfg *httpx.Config) { cfg.Timeout = 100 * time.Millisecond })
			start := time.Now()
			err := m.call(context.Background(), c)
			checkErr(t, err, provider.ErrUnavailable)
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if !strings.Contains(err.Error(), "timed out") {
				t.Errorf("err %v does not say it timed out", err)
			}
		})
	}
}

// TestMalformedBody: a 2xx answer that is not the contract's JSON is a protocol error.
func TestMalformedBody(t *testing.T) {
	for _, body := range []string{`{"id":`, `<html>ok</html>`, `[]`} {
		for _, m := range methods {
			if !m.decodes {
				continue
			}
			t.Run(m.name+" "+body, func(t *testing.T) {
				_, c := serve(t, restusertest.JSON(200, body))
				checkErr(t, m.call(context.Background(), c), provider.ErrProtocol)
			})
		}
	}
}

// TestServiceCredentialRefused: a refused API token or secret is a misconfiguration, reported as
// the provider being unavailable, on every call (see classify).
func TestServiceCredentialRefused(t *testing.T) {
	for _, status := range []int{401, 403} {
		code := map[int]string{401: "unauthorized", 403: "forbidden"}[status]
		for _, m := range methods {
			t.Run(m.name+" "+code, func(t *testing.T) {
				srv, c := serve(t, restusertest.Error(status, code))
				checkErr(t, m.call(context.Background(), c), provider.ErrUnavailable)
				if n := len(srv.Requests()); n != 1 {
					t.Errorf("%d requests, want 1 (a refused credential is not retried)", n)
				}
			})
		}
	}
}

// TestNoSecretsInErrors: neither passwords, tokens, the credential nor the provider's message
// (which may quote them) reach an error.
func TestNoSecretsInErrors(t *testing.T) {
	replies := []restusertest.Reply{
		restusertest.JSON(400, `{"error":"password_policy","message":"password s3cret-Pa55 is too weak","status":400}`),
		restusertest.JSON(401, `{"error":"invalid_token","message":"token s3cret-Pa55 expired","status":401}`),
		restusertest.JSON(500, `{"error":"server_error","message":"s3cret-Pa55","status":500}`),
		restusertest.JSON(400, `{"error":"s3cret-Pa55 k3y-value","status":400}`),
		restusertest.JSON(200, `{"url":"s3cret-Pa55","accessToken":"s3cret-Pa55"}`),
	}
	for i, rep := range replies {
		for _, m := range methods {
			t.Run(m.name, func(t *testing.T) {
				_, c := serve(t, rep)
				err := m.call(context.Background(), c)
				if err == nil {
					return
				}
				for _, s := range []string{secret, credValue} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("reply %d: error %q holds a secret", i, err)
					}
				}
			})
		}
	}
}

func TestUnknownAnswers(t *testing.T) {
	tests := []struct {
		name  string
		reply restusertest.Reply
		want  error
	}{
		{"404 without user_not_found (wrong base URL)", restusertest.Reply{Status: 404, Body: "Request was not matched"}, provider.ErrProtocol},
		{"409 with another code", restusertest.Error(409, "conflict"), provider.ErrProtocol},
		{"302 not followed anywhere useful", restusertest.Reply{Status: 302}, provider.ErrProtocol},
		{"418", restusertest.Error(418, "teapot"), provider.ErrProtocol},
		{"503", restusertest.Error(503, "unavailable"), provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := serve(t, tt.reply)
			_, err := c.GetUser(context.Background(), "usr-1")
			checkErr(t, err, tt.want)
		})
	}
}
