package restuser_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser/restusertest"
)

const userJSON = `{"id":"usr-1","email":"jo@example.com","emailVerified":true,"firstName":"Jo","lastName":"Doe",` +
	`"blocked":false,"createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-02-03T04:05:06Z","metadata":{"plan":"gold"}}`

var wantUser = provider.User{
	ID: "usr-1", Email: "jo@example.com", EmailVerified: true, FirstName: "Jo", LastName: "Doe",
	Metadata:  map[string]string{"plan": "gold"},
	CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UpdatedAt: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC),
}

// userAs is userJSON with another id and email.
func userAs(id, email string) string {
	return `{"id":"` + id + `","email":"` + email + `","emailVerified":false}`
}

// userCase is one answer of the provider to a call returning a user.
type userCase struct {
	name  string
	reply restusertest.Reply
	want  error
}

// commonUserCases are the answers every call on /users/{id} must handle the same way.
var commonUserCases = []userCase{
	{"not found", restusertest.Error(404, "user_not_found"), provider.ErrNotFound},
	{"route missing", restusertest.Reply{Status: 404, Body: "Request was not matched"}, provider.ErrProtocol},
	{"server error", restusertest.Error(500, "server_error"), provider.ErrUnavailable},
	{"rate limited", restusertest.Reply{Status: 429, Header: http.Header{"Retry-After": {"1"}}}, provider.ErrUnavailable},
	{"bad API token", restusertest.Error(401, "unauthorized"), provider.ErrUnavailable},
	{"malformed", restusertest.JSON(200, `{"id":"usr-1",`), provider.ErrProtocol},
	{"another user", restusertest.JSON(200, userAs("usr-2", "x@example.com")), provider.ErrProtocol},
	{"id the provider cannot issue", restusertest.JSON(200, userAs("", "jo@example.com")), provider.ErrProtocol},
}

func TestGetUser(t *testing.T) {
	cases := append([]userCase{{"found", restusertest.JSON(200, userJSON), nil}}, commonUserCases...)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			u, err := c.GetUser(context.Background(), "usr-1")
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "GET", "/users/usr-1", nil, "")
			if tt.want == nil && !reflect.DeepEqual(u, wantUser) {
				t.Errorf("user %+v, want %+v", u, wantUser)
			}
		})
	}
}

// TestIDs: ids travel as one escaped path segment; ids the provider cannot issue are not sent.
func TestIDs(t *testing.T) {
	t.Run("escaped", func(t *testing.T) {
		srv, c := serve(t, restusertest.JSON(200, userAs("usr-a/b c?d", "jo@example.com")))
		if _, err := c.GetUser(context.Background(), "usr-a/b c?d"); err != nil {
			t.Fatal(err)
		}
		checkRequest(t, srv.Only(t), "GET", "/users/usr-a%2Fb%20c%3Fd", nil, "")
	})
	// Delete answers nil: a user that cannot exist is already deleted.
	invalid := []struct {
		name string
		want error
	}{
		{"GetUser", provider.ErrNotFound},
		{"Update", provider.ErrNotFound},
		{"Delete", nil},
		{"ChangePassword", provider.ErrNotFound},
		{"ChangeEmail", provider.ErrNotFound},
		{"PasswordChangeURL", provider.ErrNotFound},
	}
	for _, tt := range invalid {
		for _, id := range []string{"", "me", "42"} {
			t.Run(tt.name+" "+id, func(t *testing.T) {
				srv, c := serve(t, restusertest.JSON(200, userJSON))
				ctx := context.Background()
				var err error
				switch tt.name {
				case "GetUser":
					_, err = c.GetUser(ctx, id)
				case "Update":
					_, err = c.Update(ctx, id, provider.Update{})
				case "Delete":
					err = c.Delete(ctx, id)
				case "ChangePassword":
					err = c.ChangePassword(ctx, id, secret)
				case "ChangeEmail":
					_, err = c.ChangeEmail(ctx, id, "new@example.com")
				case "PasswordChangeURL":
					_, err = c.PasswordChangeURL(ctx, id, "")
				}
				checkErr(t, err, tt.want)
				if n := len(srv.Requests()); n != 0 {
					t.Errorf("%d requests for an impossible id, want none", n)
				}
			})
		}
	}
}

func TestFindByEmail(t *testing.T) {
	tests := []struct {
		name  string
		reply restusertest.Reply
		want  error
	}{
		{"found (email compared without case)", restusertest.JSON(200, `{"users":[`+userAs("usr-1", "JO@Example.com")+`]}`), nil},
		{"none", restusertest.JSON(200, `{"users":[]}`), provider.ErrNotFound},
		{"filter ignored", restusertest.JSON(200, `{"users":[`+userAs("usr-2", "x@example.com")+`]}`), provider.ErrProtocol},
		{"two with that email", restusertest.JSON(200, `{"users":[`+userAs("usr-1", "jo@example.com")+`,`+userAs("usr-2", "jo@example.com")+`]}`), provider.ErrProtocol},
		{"no users field", restusertest.JSON(200, `{}`), provider.ErrProtocol},
		{"user with impossible id", restusertest.JSON(200, `{"users":[`+userAs("42", "jo@example.com")+`]}`), provider.ErrProtocol},
		{"malformed", restusertest.JSON(200, `{"users":[{]}`), provider.ErrProtocol},
		{"invalid request", restusertest.Error(400, "invalid_request"), provider.ErrRejected},
		{"server error", restusertest.Error(500, "server_error"), provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			u, err := c.FindByEmail(context.Background(), "jo@example.com")
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "GET", "/users", url.Values{"email": {"jo@example.com"}}, "")
			if tt.want == nil && (u.ID != "usr-1" || u.Email != "JO@Example.com") {
				t.Errorf("user %+v", u)
			}
		})
	}
	t.Run("empty email is not searched", func(t *testing.T) {
		srv, c := serve(t, restusertest.JSON(200, `{"users":[]}`))
		_, err := c.FindByEmail(context.Background(), "")
		checkErr(t, err, provider.ErrNotFound)
		if len(srv.Requests()) != 0 {
			t.Error("searched without a filter")
		}
	})
}

func TestSearch(t *testing.T) {
	two := `{"users":[` + userJSON + `,` + userAs("usr-2", "jane@example.com") + `]}`
	tests := []struct {
		name      string
		query     provider.Query
		reply     restusertest.Reply
		wantQuery url.Values
		wantIDs   []string
		want      error
	}{
		{"every filter", provider.Query{Email: "jo@example.com", FirstName: "J", LastName: "Do", Limit: 5},
			restusertest.JSON(200, two), url.Values{"email": {"jo@example.com"}, "firstName": {"J"}, "lastName": {"Do"}, "limit": {"5"}},
			[]string{"usr-1", "usr-2"}, nil},
		{"names only", provider.Query{FirstName: "Jö rg&x"}, restusertest.JSON(200, `{"users":[]}`),
			url.Values{"firstName": {"Jö rg&x"}}, []string{}, nil},
		{"no filter, no limit", provider.Query{Limit: -1}, restusertest.JSON(200, two), url.Values{}, []string{"usr-1", "usr-2"}, nil},
		{"impossible id", provider.Query{LastName: "Do"}, restusertest.JSON(200, `{"users":[`+userAs("42", "a@b.c")+`]}`),
			url.Values{"lastName": {"Do"}}, nil, provider.ErrProtocol},
		{"bare array", provider.Query{LastName: "Do"}, restusertest.JSON(200, `[`+userJSON+`]`), url.Values{"lastName": {"Do"}}, nil, provider.ErrProtocol},
		{"refused", provider.Query{LastName: "Do", Limit: 1000}, restusertest.Error(400, "invalid_request"),
			url.Values{"lastName": {"Do"}, "limit": {"1000"}}, nil, provider.ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			users, err := c.Search(context.Background(), tt.query)
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "GET", "/users", tt.wantQuery, "")
			if tt.want != nil {
				return
			}
			ids := []string{}
			for _, u := range users {
				ids = append(ids, u.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tt.wantIDs)
			}
			if len(users) == 2 && !reflect.DeepEqual(users[0], wantUser) {
				t.Errorf("user %+v, want %+v", users[0], wantUser)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	full := provider.NewUser{Email: "jo@example.com", Password: secret, FirstName: "Jo", LastName: "Doe",
		Metadata: map[string]string{"plan": "gold"}, EmailVerified: true}
	fullBody := `{"email":"jo@example.com","password":"` + secret + `","firstName":"Jo","lastName":"Doe","emailVerified":true,"metadata":{"plan":"gold"}}`
	tests := []struct {
		name     string
		in       provider.NewUser
		reply    restusertest.Reply
		wantBody string
		want     error
	}{
		{"created", full, restusertest.JSON(201, userJSON), fullBody, nil},
		{"minimal input sends empty metadata", provider.NewUser{Email: "jo@example.com", Password: secret}, restusertest.JSON(201, userJSON),
			`{"email":"jo@example.com","password":"` + secret + `","firstName":"","lastName":"","emailVerified":false,"metadata":{}}`, nil},
		{"exists", full, restusertest.Error(409, "user_exists"), fullBody, provider.ErrUserExists},
		{"password policy", full, restusertest.Error(400, "password_policy"), fullBody, provider.ErrRejected},
		{"invalid request", full, restusertest.Error(400, "invalid_request"), fullBody, provider.ErrRejected},
		{"server error is not retried", full, restusertest.Error(500, "server_error"), fullBody, provider.ErrUnavailable},
		{"rate limited", full, restusertest.Reply{Status: 429, Header: http.Header{"Retry-After": {"0"}}}, fullBody, provider.ErrUnavailable},
		{"bad API token", full, restusertest.Error(401, "unauthorized"), fullBody, provider.ErrUnavailable},
		{"malformed", full, restusertest.JSON(201, `{"id":"usr-1"`), fullBody, provider.ErrProtocol},
		{"created without id", full, restusertest.JSON(201, `{"email":"jo@example.com"}`), fullBody, provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(tt.reply))
			// Retries allowed: a POST must still be sent once only.
			c := newClient(t, srv.URL, func(cfg *httpx.Config) { cfg.MaxRetries = 2 })
			u, err := c.Create(context.Background(), tt.in)
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "POST", "/users", nil, tt.wantBody)
			if tt.want == nil && !reflect.DeepEqual(u, wantUser) {
				t.Errorf("user %+v, want %+v", u, wantUser)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	first, verified, gone, plan := "Jo", true, (*string)(nil), "gold"
	tests := []struct {
		name     string
		in       provider.Update
		reply    restusertest.Reply
		wantBody string
		want     error
	}{
		{"names, verified, metadata merge", provider.Update{FirstName: &first, EmailVerified: &verified,
			Metadata: map[string]*string{"plan": &plan, "old": gone}}, restusertest.JSON(200, userJSON),
			`{"firstName":"Jo","emailVerified":true,"metadata":{"plan":"gold","old":null}}`, nil},
		{"nothing to change", provider.Update{}, restusertest.JSON(200, userJSON), `{}`, nil},
		{"rejected", provider.Update{FirstName: &first}, restusertest.Error(400, "invalid_request"), `{"firstName":"Jo"}`, provider.ErrRejected},
	}
	for _, c := range commonUserCases {
		tests = append(tests, struct {
			name     string
			in       provider.Update
			reply    restusertest.Reply
			wantBody string
			want     error
		}{c.name, provider.Update{FirstName: &first}, c.reply, `{"firstName":"Jo"}`, c.want})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			u, err := c.Update(context.Background(), "usr-1", tt.in)
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "PATCH", "/users/usr-1", nil, tt.wantBody)
			if tt.want == nil && !reflect.DeepEqual(u, wantUser) {
				t.Errorf("user %+v, want %+v", u, wantUser)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name  string
		reply restusertest.Reply
		want  error
	}{
		{"deleted", restusertest.Reply{Status: 204}, nil},
		{"deleted with a body", restusertest.JSON(200, `{}`), nil},
		{"already gone", restusertest.Error(404, "user_not_found"), nil},
		{"route missing is not success", restusertest.Reply{Status: 404, Body: "Request was not matched"}, provider.ErrProtocol},
		{"server error", restusertest.Error(500, "server_error"), provider.ErrUnavailable},
		{"bad API token", restusertest.Error(403, "forbidden"), provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			checkErr(t, c.Delete(context.Background(), "usr-1"), tt.want)
			checkRequest(t, srv.Only(t), "DELETE", "/users/usr-1", nil, "")
		})
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name  string
		reply restusertest.Reply
		want  error
	}{
		{"authenticated", restusertest.JSON(200, `{"userId":"usr-1","accessToken":"tok-1","expiresIn":3600}`), nil},
		{"wrong password", restusertest.Error(401, "invalid_credentials"), provider.ErrInvalidCredentials},
		{"bad API token", restusertest.Error(401, "unauthorized"), provider.ErrUnavailable},
		{"401 without a code", restusertest.Reply{Status: 401}, provider.ErrUnavailable},
		{"blocked", restusertest.Error(403, "user_blocked"), provider.ErrBlocked},
		{"not verified", restusertest.Error(403, "email_not_verified"), provider.ErrNotVerified},
		{"forbidden", restusertest.Error(403, "forbidden"), provider.ErrUnavailable},
		{"invalid request", restusertest.Error(400, "invalid_request"), provider.ErrRejected},
		{"server error", restusertest.Error(500, "server_error"), provider.ErrUnavailable},
		{"no token", restusertest.JSON(200, `{"userId":"usr-1","expiresIn":3600}`), provider.ErrProtocol},
		{"no lifetime", restusertest.JSON(200, `{"userId":"usr-1","accessToken":"tok-1"}`), provider.ErrProtocol},
		{"impossible user id", restusertest.JSON(200, `{"userId":"42","accessToken":"tok-1","expiresIn":3600}`), provider.ErrProtocol},
		{"malformed", restusertest.JSON(200, `{"userId":`), provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(tt.reply))
			c := newClient(t, srv.URL, func(cfg *httpx.Config) { cfg.MaxRetries = 2 })
			s, err := c.Login(context.Background(), "jo@example.com", secret)
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "POST", "/users/authenticate", nil, `{"email":"jo@example.com","password":"`+secret+`"}`)
			want := provider.Session{UserID: "usr-1", Tokens: []provider.Token{{Name: "test_access_token", Content: "tok-1", ExpiresIn: time.Hour}}}
			if tt.want == nil && !reflect.DeepEqual(s, want) {
				t.Errorf("session %+v, want %+v", s, want)
			}
		})
	}
}

func TestUserForToken(t *testing.T) {
	tests := []struct {
		name  string
		reply restusertest.Reply
		want  error
	}{
		{"resolved", restusertest.JSON(200, userJSON), nil},
		{"invalid token", restusertest.Error(401, "invalid_token"), provider.ErrInvalidToken},
		{"401 without a body", restusertest.Reply{Status: 401}, provider.ErrInvalidToken},
		{"service credential refused", restusertest.Error(401, "unauthorized"), provider.ErrUnavailable},
		{"blocked", restusertest.Error(403, "user_blocked"), provider.ErrBlocked},
		{"server error", restusertest.Error(500, "server_error"), provider.ErrUnavailable},
		{"malformed", restusertest.JSON(200, `{`), provider.ErrProtocol},
		{"impossible id", restusertest.JSON(200, userAs("42", "jo@example.com")), provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			u, err := c.UserForToken(context.Background(), "user-tok.en")
			checkErr(t, err, tt.want)
			r := srv.Only(t)
			checkRequest(t, r, "GET", "/users/me", nil, "")
			if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "Bearer user-tok.en" {
				t.Errorf("Authorization %v, want the user's token", got)
			}
			if tt.want == nil && !reflect.DeepEqual(u, wantUser) {
				t.Errorf("user %+v, want %+v", u, wantUser)
			}
		})
	}
	t.Run("empty token", func(t *testing.T) {
		srv, c := serve(t, restusertest.JSON(200, userJSON))
		_, err := c.UserForToken(context.Background(), "")
		checkErr(t, err, provider.ErrInvalidToken)
		if len(srv.Requests()) != 0 {
			t.Error("called without a token")
		}
	})
}

func TestChangePassword(t *testing.T) {
	tests := []struct {
		name  string
		reply restusertest.Reply
		want  error
	}{
		{"changed", restusertest.Reply{Status: 204}, nil},
		{"not found", restusertest.Error(404, "user_not_found"), provider.ErrNotFound},
		{"password policy", restusertest.Error(400, "password_policy"), provider.ErrRejected},
		{"server error", restusertest.Error(500, "server_error"), provider.ErrUnavailable},
		{"bad API token", restusertest.Error(401, "unauthorized"), provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			checkErr(t, c.ChangePassword(context.Background(), "usr-1", secret), tt.want)
			checkRequest(t, srv.Only(t), "PUT", "/users/usr-1/password", nil, `{"newPassword":"`+secret+`"}`)
		})
	}
}

func TestChangeEmail(t *testing.T) {
	cases := append([]userCase{
		{"changed", restusertest.JSON(200, userJSON), nil},
		{"email in use", restusertest.Error(409, "email_in_use"), provider.ErrUserExists},
		{"invalid email", restusertest.Error(400, "invalid_request"), provider.ErrRejected},
	}, commonUserCases...)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := serve(t, tt.reply)
			u, err := c.ChangeEmail(context.Background(), "usr-1", "new@example.com")
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "PUT", "/users/usr-1/email", nil, `{"email":"new@example.com","verify":true}`)
			if tt.want == nil && !reflect.DeepEqual(u, wantUser) {
				t.Errorf("user %+v, want %+v", u, wantUser)
			}
		})
	}
}

func TestPasswordChangeURL(t *testing.T) {
	tests := []struct {
		name      string
		returnURL string
		reply     restusertest.Reply
		wantBody  string
		want      error
	}{
		{"link", "https://shop.example/back", restusertest.JSON(200, `{"url":"https://ssor.example/p/abc"}`), `{"returnUrl":"https://shop.example/back"}`, nil},
		{"link without return URL", "", restusertest.JSON(201, `{"url":"https://ssor.example/p/abc"}`), `{}`, nil},
		{"not found", "https://shop.example/back", restusertest.Error(404, "user_not_found"), `{"returnUrl":"https://shop.example/back"}`, provider.ErrNotFound},
		{"return URL refused", "javascript:x", restusertest.Error(400, "invalid_request"), `{"returnUrl":"javascript:x"}`, provider.ErrRejected},
		{"relative link", "", restusertest.JSON(200, `{"url":"/p/abc"}`), `{}`, provider.ErrProtocol},
		{"no link", "", restusertest.JSON(200, `{}`), `{}`, provider.ErrProtocol},
		{"server error is not retried", "", restusertest.Error(500, "server_error"), `{}`, provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := restusertest.New(t, restusertest.Always(tt.reply))
			c := newClient(t, srv.URL, func(cfg *httpx.Config) { cfg.MaxRetries = 2 })
			link, err := c.PasswordChangeURL(context.Background(), "usr-1", tt.returnURL)
			checkErr(t, err, tt.want)
			checkRequest(t, srv.Only(t), "POST", "/users/usr-1/password-link", nil, tt.wantBody)
			if tt.want == nil && link != "https://ssor.example/p/abc" {
				t.Errorf("link %q", link)
			}
		})
	}
}
