package auth0_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/auth0"
	"usersorchestrator/internal/provider/httpx"
)

const (
	connection   = "Username-Password-Authentication"
	clientID     = "test-client-id"
	clientSecret = "test-client-secret-value"
	userID       = "auth0|63d17c4a9d503d76c056c160"
	userPath     = "/api/v2/users/auth0%7C63d17c4a9d503d76c056c160"
)

// userJSON is a user object as Auth0 answers it (providers.md §1.2), with metadata of every type.
const userJSON = `{
  "user_id": "auth0|63d17c4a9d503d76c056c160",
  "email": "chuck878@example.com",
  "email_verified": true,
  "given_name": "Chuck",
  "family_name": "Sanchez",
  "name": "chuck878@example.com",
  "nickname": "Chucky",
  "identities": [{"connection": "Username-Password-Authentication", "user_id": "63d17c4a9d503d76c056c160", "provider": "auth0", "isSocial": false}],
  "user_metadata": {"favourite_attack": "roundhouse_kick", "kicks": 12, "premium": true, "ratio": 1e3, "nested": {"a": [1, 2]}, "gone": null},
  "app_metadata": {"facts": ["x"]},
  "blocked": false,
  "created_at": "2023-01-25T19:00:26.539Z",
  "updated_at": "2023-01-26T08:15:00.000Z",
  "last_password_reset": "2023-01-26T08:14:59.120Z"
}`

var wantUser = provider.User{
	ID:            userID,
	Email:         "chuck878@example.com",
	EmailVerified: true,
	FirstName:     "Chuck",
	LastName:      "Sanchez",
	Metadata: map[string]string{
		"favourite_attack": "roundhouse_kick", "kicks": "12", "premium": "true", "ratio": "1e3", "nested": `{"a":[1,2]}`,
	},
	CreatedAt: time.Date(2023, 1, 25, 19, 0, 26, 539e6, time.UTC),
	UpdatedAt: time.Date(2023, 1, 26, 8, 15, 0, 0, time.UTC),
	// Issue 9, finding 4: the provider's record of a password change ends older sessions.
	PasswordChangedAt: time.Date(2023, 1, 26, 8, 14, 59, 120e6, time.UTC),
}

const (
	notFoundJSON = `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`
	conflictJSON = `{"statusCode":409,"error":"Conflict","message":"The user already exists.","errorCode":"auth0_idp_error"}`
	weakJSON     = `{"statusCode":400,"error":"Bad Request","message":"PasswordStrengthError: Password is too weak"}`
	emailTaken   = `{"statusCode":400,"error":"Bad Request","message":"The specified new email already exists"}`
	payloadJSON  = `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Object didn't pass validation for format email: jo@@example.com'","errorCode":"invalid_body"}`
	limitJSON    = `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`
	serverJSON   = `{"statusCode":500,"error":"Internal Server Error","message":"Internal error"}`
	scopeJSON    = `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users"}`
	unauthJSON   = `{"statusCode":401,"error":"Unauthorized","message":"Invalid token","attributes":{"error":"Invalid token"}}`
)

// reply is one canned answer of the fake.
type reply struct {
	status int
	body   string
	header map[string]string
	delay  time.Duration
}

func ok(body string) reply            { return reply{status: 200, body: body} }
func status(s int, body string) reply { return reply{status: s, body: body} }
func limited(body string) reply {
	return reply{status: 429, body: body, header: map[string]string{"Retry-After": "0"}}
}
func withHeader(r reply, k, v string) reply { r.header = map[string]string{k: v}; return r }

// request is what the adapter sent, as the fake saw it.
type request struct {
	Method string
	Path   string // escaped, as on the wire
	Query  url.Values
	Auth   string
	CType  string
	Body   map[string]any
	// ForwardedFor is the auth0-forwarded-for header (the end user's IP).
	ForwardedFor string
}

// fakeAuth0 answers like an Auth0 tenant. Client-credentials token requests are answered by
// tokenReply and counted apart; every other request is recorded and answered from routes
// ("METHOD /escaped/path", queued replies; the last one repeats).
type fakeAuth0 struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	reqs       []request
	tokenReqs  []request
	tokenReply func(n int) reply
	routes     map[string][]reply
}

func newFake(t *testing.T) *fakeAuth0 {
	t.Helper()
	f := &fakeAuth0{t: t, routes: map[string][]reply{}}
	f.tokenReply = func(n int) reply {
		return ok(fmt.Sprintf(`{"access_token":"mgmt-%d","scope":"read:users update:users create:users","expires_in":86400,"token_type":"Bearer"}`, n))
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAuth0) on(method, path string, replies ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = replies
}

func (f *fakeAuth0) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), CType: r.Header.Get("Content-Type"),
		ForwardedFor: r.Header.Get("auth0-forwarded-for")}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &req.Body); err != nil {
			f.t.Errorf("%s %s: body is not JSON: %v", r.Method, req.Path, err)
		}
	}
	f.mu.Lock()
	var rep reply
	if req.Method == http.MethodPost && req.Path == "/oauth/token" && req.Body["grant_type"] == "client_credentials" {
		f.tokenReqs = append(f.tokenReqs, req)
		rep = f.tokenReply(len(f.tokenReqs))
	} else {
		f.reqs = append(f.reqs, req)
		key := req.Method + " " + req.Path
		queue := f.routes[key]
		if len(queue) == 0 {
			f.mu.Unlock()
			f.t.Errorf("unexpected request %s", key)
			http.Error(w, "no route", http.StatusTeapot)
			return
		}
		rep = queue[0]
		if len(queue) > 1 {
			f.routes[key] = queue[1:]
		}
	}
	f.mu.Unlock()
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeAuth0) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func (f *fakeAuth0) tokenRequests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.tokenReqs...)
}

// only returns the single recorded (non-token) request.
func (f *fakeAuth0) only(t *testing.T) request {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("want exactly 1 request, got %d: %+v", len(reqs), reqs)
	}
	return reqs[0]
}

func newClient(t *testing.T, f *fakeAuth0, mod ...func(*auth0.Config)) *auth0.Client {
	t.Helper()
	cfg := auth0.Config{
		BaseURL: f.srv.URL, ClientID: clientID, ClientSecret: clientSecret, Connection: connection,
		HTTP: httpx.Config{Timeout: 2 * time.Second, MaxRetries: -1},
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := auth0.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkErr asserts the error kind (nil: success) and that no secret leaked into the message.
func checkErr(t *testing.T, err, want error, secrets ...string) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want kind %v", err, want)
	}
	if err == nil {
		return
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Provider != "Auth0" {
		t.Errorf("error %v is not a *provider.Error of Auth0", err)
	}
	for _, s := range append(secrets, clientSecret, "mgmt-1", "mgmt-2") {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q leaks %q", err, s)
		}
	}
}

func checkReq(t *testing.T, got request, method, path string, query url.Values, body map[string]any) {
	t.Helper()
	if got.Method != method || got.Path != path {
		t.Errorf("request = %s %s, want %s %s", got.Method, got.Path, method, path)
	}
	if query == nil {
		query = url.Values{}
	}
	if !reflect.DeepEqual(got.Query, query) {
		t.Errorf("query = %v, want %v", got.Query, query)
	}
	if !reflect.DeepEqual(got.Body, body) {
		t.Errorf("body = %#v,\nwant %#v", got.Body, body)
	}
	if body != nil && got.CType != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got.CType)
	}
}

// mgmtErrorCases are the answers every Management API call maps the same way.
func mgmtErrorCases() []struct {
	name string
	rep  reply
	want error
} {
	return []struct {
		name string
		rep  reply
		want error
	}{
		{"404 user does not exist", status(404, notFoundJSON), provider.ErrNotFound},
		{"404 without Auth0 envelope", status(404, `<html>not found</html>`), provider.ErrProtocol},
		{"400 payload validation", status(400, payloadJSON), provider.ErrRejected},
		{"403 insufficient scope", status(403, scopeJSON), provider.ErrUnavailable},
		{"429 rate limit", limited(limitJSON), provider.ErrUnavailable},
		{"500", status(500, serverJSON), provider.ErrUnavailable},
		{"malformed body", ok(`{"user_id": "auth0|1", `), provider.ErrProtocol},
		{"unexpected 302", status(302, ``), provider.ErrProtocol},
	}
}

func TestNewRequiresConfiguration(t *testing.T) {
	tests := []struct {
		name string
		cfg  auth0.Config
		want string
	}{
		{"nothing", auth0.Config{}, "BaseURL, ClientID, ClientSecret, Connection"},
		{"no secret", auth0.Config{BaseURL: "https://t.auth0.com", ClientID: "id", Connection: "c"}, "ClientSecret"},
		{"bad url", auth0.Config{BaseURL: "t.auth0.com", ClientID: "id", ClientSecret: "s3cr3t", Connection: "c"}, "not an absolute"},
		// The Management API's identifier is the canonical domain's; a custom domain cannot tell it.
		{"custom domain without an audience", auth0.Config{BaseURL: "https://login.example.com", ClientID: "id", ClientSecret: "s3cr3t", Connection: "c"}, "set the Management API audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth0.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
	c, err := auth0.New(auth0.Config{BaseURL: "https://t.auth0.com/", ClientID: "id", ClientSecret: "s", Connection: "c"})
	if err != nil || c.Name() != "Auth0" {
		t.Fatalf("New = %v, %v; want an adapter named Auth0", c, err)
	}
	if _, err := auth0.New(auth0.Config{BaseURL: "https://login.example.com", Audience: "https://t.eu.auth0.com/api/v2/", ClientID: "id", ClientSecret: "s", Connection: "c"}); err != nil {
		t.Errorf("custom domain with an audience: %v", err)
	}
}

// TestCustomDomainAudience: on a custom domain the token is asked of the custom domain for the
// canonical domain's identifier, and the Management API is then called on the custom domain.
func TestCustomDomainAudience(t *testing.T) {
	f := newFake(t)
	f.on("GET", userPath, ok(userJSON))
	c, err := auth0.New(auth0.Config{BaseURL: f.srv.URL, Audience: "https://tenant.eu.auth0.com/api/v2/", ClientID: clientID, ClientSecret: clientSecret, Connection: connection})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(context.Background(), userID); err != nil {
		t.Fatal(err)
	}
	tok := f.tokenRequests()
	if len(tok) != 1 || tok[0].Body["audience"] != "https://tenant.eu.auth0.com/api/v2/" {
		t.Errorf("token requests %+v, want one for the canonical audience", tok)
	}
	if got := f.only(t); got.Path != userPath || got.Auth != "Bearer mgmt-1" {
		t.Errorf("management call %+v", got)
	}
}

func TestGetUser(t *testing.T) {
	tests := []struct {
		name string
		rep  reply
		want error
	}{
		{"found", ok(userJSON), nil},
		{"user without user_id", ok(`{"email":"a@example.com"}`), provider.ErrProtocol},
	}
	for _, c := range mgmtErrorCases() {
		tests = append(tests, struct {
			name string
			rep  reply
			want error
		}{c.name, c.rep, c.want})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET", userPath, tt.rep)
			got, err := newClient(t, f).GetUser(context.Background(), userID)
			checkErr(t, err, tt.want)
			req := f.only(t)
			checkReq(t, req, "GET", userPath, nil, nil)
			if req.Auth != "Bearer mgmt-1" {
				t.Errorf("Authorization = %q, want the management token", req.Auth)
			}
			if tt.want == nil && !reflect.DeepEqual(got, wantUser) {
				t.Errorf("user = %+v,\nwant %+v", got, wantUser)
			}
		})
	}
}

func TestGetUserEscapesTheID(t *testing.T) {
	f := newFake(t)
	f.on("GET", "/api/v2/users/auth0%7Cx%2F..%2Fclients%3Fa=1", status(404, notFoundJSON))
	_, err := newClient(t, f).GetUser(context.Background(), "auth0|x/../clients?a=1")
	checkErr(t, err, provider.ErrNotFound)
	checkReq(t, f.only(t), "GET", "/api/v2/users/auth0%7Cx%2F..%2Fclients%3Fa=1", nil, nil)

	// An empty id never reaches /api/v2/users/ (the list endpoint).
	_, err = newClient(t, f).GetUser(context.Background(), "")
	checkErr(t, err, provider.ErrNotFound)
	if n := len(f.requests()); n != 1 {
		t.Errorf("empty id sent a request")
	}
}

func TestFindByEmail(t *testing.T) {
	google := `{"user_id":"google-oauth2|1093","email":"chuck878@example.com","identities":[{"connection":"google-oauth2","user_id":1093,"provider":"google-oauth2","isSocial":true}]}`
	tests := []struct {
		name   string
		rep    reply
		want   error
		wantID string
	}{
		{"one user", ok("[" + userJSON + "]"), nil, userID},
		{"none", ok(`[]`), provider.ErrNotFound, ""},
		{"several: the one in the connection", ok("[" + google + "," + userJSON + "]"), nil, userID},
		{"only in another connection", ok("[" + google + "]"), provider.ErrNotFound, ""},
		{"not an array", ok(userJSON), provider.ErrProtocol, ""},
		{"429", limited(limitJSON), provider.ErrUnavailable, ""},
		{"500", status(500, serverJSON), provider.ErrUnavailable, ""},
		{"400", status(400, payloadJSON), provider.ErrRejected, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET", "/api/v2/users-by-email", tt.rep)
			got, err := newClient(t, f).FindByEmail(context.Background(), " Chuck878@Example.com ")
			checkErr(t, err, tt.want, "chuck878@example.com")
			req := f.only(t)
			// Auth0 stores database emails lower-cased and compares case-sensitively.
			checkReq(t, req, "GET", "/api/v2/users-by-email", url.Values{"email": {"chuck878@example.com"}}, nil)
			if req.Auth != "Bearer mgmt-1" {
				t.Errorf("Authorization = %q", req.Auth)
			}
			if got.ID != tt.wantID {
				t.Errorf("id = %q, want %q", got.ID, tt.wantID)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	tests := []struct {
		name    string
		q       provider.Query
		rep     reply
		wantQ   string
		perPage string
		wantIDs []string
		want    error
	}{
		{
			name: "email prefix", q: provider.Query{Email: "Chuck", Limit: 10}, rep: ok("[" + userJSON + "]"),
			wantQ: `identities.connection:"Username-Password-Authentication" AND email:chuck*`, perPage: "10", wantIDs: []string{userID},
		},
		{
			name: "all fields, escaped", q: provider.Query{Email: "a+b@x.com", FirstName: `Mary Ann`, LastName: `O'Neil) OR (email:*`},
			rep:     ok(`[]`),
			wantQ:   `identities.connection:"Username-Password-Authentication" AND email:a\+b@x.com* AND given_name:mary\ ann* AND family_name:o'neil\)\ or\ \(email\:\**`,
			perPage: "100", wantIDs: []string{},
		},
		{
			name: "no criteria lists the connection, limit capped", q: provider.Query{Limit: 1000}, rep: ok(`[]`),
			wantQ: `identities.connection:"Username-Password-Authentication"`, perPage: "100", wantIDs: []string{},
		},
		{name: "400 bad query", q: provider.Query{Email: "x"}, rep: status(400, `{"statusCode":400,"error":"Bad Request","message":"Query validation error"}`),
			wantQ: `identities.connection:"Username-Password-Authentication" AND email:x*`, perPage: "100", want: provider.ErrRejected},
		{name: "503 query timeout", q: provider.Query{Email: "x"}, rep: status(503, `{"statusCode":503,"error":"Service Unavailable","message":"timeout"}`),
			wantQ: `identities.connection:"Username-Password-Authentication" AND email:x*`, perPage: "100", want: provider.ErrUnavailable},
		{name: "malformed", q: provider.Query{Email: "x"}, rep: ok(`{"users":`),
			wantQ: `identities.connection:"Username-Password-Authentication" AND email:x*`, perPage: "100", want: provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET", "/api/v2/users", tt.rep)
			got, err := newClient(t, f).Search(context.Background(), tt.q)
			checkErr(t, err, tt.want)
			checkReq(t, f.only(t), "GET", "/api/v2/users",
				url.Values{"q": {tt.wantQ}, "search_engine": {"v3"}, "per_page": {tt.perPage}, "page": {"0"}}, nil)
			if tt.want != nil {
				return
			}
			ids := []string{}
			for _, u := range got {
				ids = append(ids, u.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

// usersPage is a search answer of n database users whose ids start at first (auth0|<24 hex>).
func usersPage(first, n int) reply {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		id := fmt.Sprintf("%024x", first+i)
		fmt.Fprintf(&b, `{"user_id":"auth0|%s","email":"u%d@example.com","email_verified":true,"identities":[{"connection":%q,"user_id":%q,"provider":"auth0","isSocial":false}],"created_at":"2023-01-25T19:00:26.539Z","updated_at":"2023-01-25T19:00:26.539Z"}`,
			id, first+i, connection, id)
	}
	b.WriteString("]")
	return ok(b.String())
}

func TestSearchPages(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		pages     []reply
		wantPages []string // the page parameter of each request, in order
		perPage   string
		wantUsers int
	}{
		{"one short page is the end", 0, []reply{usersPage(0, 7)}, []string{"0"}, "100", 7},
		{"read to the end", 0, []reply{usersPage(0, 100), usersPage(100, 20)}, []string{"0", "1"}, "100", 120},
		{"a full last page needs one empty page to know", 0, []reply{usersPage(0, 100), usersPage(100, 100), ok(`[]`)}, []string{"0", "1", "2"}, "100", 200},
		{"stops at the limit", 150, []reply{usersPage(0, 100), usersPage(100, 100)}, []string{"0", "1"}, "100", 150},
		{"small limit, one page of that size", 5, []reply{usersPage(0, 5)}, []string{"0"}, "5", 5},
		{"bounded by Auth0's 1000 searchable matches", 0,
			[]reply{usersPage(0, 100), usersPage(100, 100), usersPage(200, 100), usersPage(300, 100), usersPage(400, 100),
				usersPage(500, 100), usersPage(600, 100), usersPage(700, 100), usersPage(800, 100), usersPage(900, 100)},
			[]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, "100", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET", "/api/v2/users", tt.pages...)
			got, err := newClient(t, f).Search(context.Background(), provider.Query{LastName: "Sanchez", Limit: tt.limit})
			checkErr(t, err, nil)
			reqs := f.requests()
			var pages []string
			for _, r := range reqs {
				pages = append(pages, r.Query.Get("page"))
				if r.Query.Get("per_page") != tt.perPage || r.Query.Get("search_engine") != "v3" {
					t.Errorf("per_page %q search_engine %q, want %s and v3", r.Query.Get("per_page"), r.Query.Get("search_engine"), tt.perPage)
				}
			}
			if !reflect.DeepEqual(pages, tt.wantPages) {
				t.Errorf("pages asked %v, want %v", pages, tt.wantPages)
			}
			if len(got) != tt.wantUsers {
				t.Fatalf("%d users, want %d", len(got), tt.wantUsers)
			}
			seen := map[string]bool{}
			for _, u := range got {
				if seen[u.ID] {
					t.Fatalf("user %s twice", u.ID)
				}
				seen[u.ID] = true
			}
		})
	}
}

func TestCreate(t *testing.T) {
	full := provider.NewUser{Email: "chuck878@example.com", Password: "S3cret-Passw0rd!", FirstName: "Chuck", LastName: "Sanchez",
		Metadata: map[string]string{"favourite_attack": "roundhouse_kick"}, EmailVerified: true}
	fullBody := map[string]any{
		"connection": connection, "email": "chuck878@example.com", "password": "S3cret-Passw0rd!",
		"given_name": "Chuck", "family_name": "Sanchez", "user_metadata": map[string]any{"favourite_attack": "roundhouse_kick"},
		"email_verified": true, "verify_email": false,
	}
	tests := []struct {
		name     string
		in       provider.NewUser
		rep      reply
		wantBody map[string]any
		want     error
	}{
		{"created", full, status(201, userJSON), fullBody, nil},
		{"minimal: no empty names or metadata sent", provider.NewUser{Email: "a@example.com", Password: "S3cret-Passw0rd!"}, status(201, userJSON),
			map[string]any{"connection": connection, "email": "a@example.com", "password": "S3cret-Passw0rd!", "email_verified": false, "verify_email": false}, nil},
		{"409 user already exists", full, status(409, conflictJSON), fullBody, provider.ErrUserExists},
		{"400 password too weak", full, status(400, weakJSON), fullBody, provider.ErrRejected},
		{"400 payload validation", full, status(400, payloadJSON), fullBody, provider.ErrRejected},
		{"403 scope", full, status(403, scopeJSON), fullBody, provider.ErrUnavailable},
		{"429 not retried", full, limited(limitJSON), fullBody, provider.ErrUnavailable},
		{"500 not retried", full, status(500, serverJSON), fullBody, provider.ErrUnavailable},
		{"malformed", full, status(201, `nope`), fullBody, provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("POST", "/api/v2/users", tt.rep)
			// Retries allowed: a POST must still be sent exactly once.
			c := newClient(t, f, func(c *auth0.Config) { c.HTTP.MaxRetries = 2 })
			got, err := c.Create(context.Background(), tt.in)
			checkErr(t, err, tt.want, tt.in.Password, tt.in.Email)
			req := f.only(t)
			checkReq(t, req, "POST", "/api/v2/users", nil, tt.wantBody)
			if req.Auth != "Bearer mgmt-1" {
				t.Errorf("Authorization = %q", req.Auth)
			}
			if tt.want == nil && !reflect.DeepEqual(got, wantUser) {
				t.Errorf("user = %+v", got)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdate(t *testing.T) {
	tests := []struct {
		name     string
		in       provider.Update
		rep      reply
		wantBody map[string]any
		want     error
	}{
		{
			name: "all fields; nil metadata values remove keys",
			in: provider.Update{FirstName: ptr("Carlos"), LastName: ptr("Ray"), EmailVerified: ptr(true),
				Metadata: map[string]*string{"plan": ptr("gold"), "old": nil}},
			rep: ok(userJSON),
			wantBody: map[string]any{"given_name": "Carlos", "family_name": "Ray", "email_verified": true, "connection": connection,
				"user_metadata": map[string]any{"plan": "gold", "old": nil}},
		},
		{name: "empty name clears it", in: provider.Update{LastName: ptr("")}, rep: ok(userJSON), wantBody: map[string]any{"family_name": nil}},
		{name: "404", in: provider.Update{FirstName: ptr("X")}, rep: status(404, notFoundJSON), wantBody: map[string]any{"given_name": "X"}, want: provider.ErrNotFound},
		{name: "400", in: provider.Update{FirstName: ptr("X")}, rep: status(400, payloadJSON), wantBody: map[string]any{"given_name": "X"}, want: provider.ErrRejected},
		{name: "500", in: provider.Update{FirstName: ptr("X")}, rep: status(500, serverJSON), wantBody: map[string]any{"given_name": "X"}, want: provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("PATCH", userPath, tt.rep)
			got, err := newClient(t, f).Update(context.Background(), userID, tt.in)
			checkErr(t, err, tt.want)
			req := f.only(t)
			checkReq(t, req, "PATCH", userPath, nil, tt.wantBody)
			if req.Auth != "Bearer mgmt-1" {
				t.Errorf("Authorization = %q", req.Auth)
			}
			if tt.want == nil && got.ID != userID {
				t.Errorf("user = %+v", got)
			}
		})
	}

	t.Run("nothing to change reads the user", func(t *testing.T) {
		f := newFake(t)
		f.on("GET", userPath, ok(userJSON))
		got, err := newClient(t, f).Update(context.Background(), userID, provider.Update{})
		checkErr(t, err, nil)
		checkReq(t, f.only(t), "GET", userPath, nil, nil)
		if !reflect.DeepEqual(got, wantUser) {
			t.Errorf("user = %+v", got)
		}
	})
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name string
		rep  reply
		want error
	}{
		{"204", status(204, ``), nil},
		{"404 already gone", status(404, notFoundJSON), nil},
		{"bare 404 is not proof of absence", status(404, `Not Found`), provider.ErrProtocol},
		{"429 not retried", limited(limitJSON), provider.ErrUnavailable},
		{"500 not retried", status(500, serverJSON), provider.ErrUnavailable},
		{"403", status(403, scopeJSON), provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("DELETE", userPath, tt.rep)
			err := newClient(t, f, func(c *auth0.Config) { c.HTTP.MaxRetries = 2 }).Delete(context.Background(), userID)
			checkErr(t, err, tt.want)
			req := f.only(t)
			checkReq(t, req, "DELETE", userPath, nil, nil)
			if req.Auth != "Bearer mgmt-1" {
				t.Errorf("Authorization = %q", req.Auth)
			}
		})
	}
	f := newFake(t)
	checkErr(t, newClient(t, f).Delete(context.Background(), ""), provider.ErrRejected)
	if len(f.requests()) != 0 {
		t.Error("empty id sent a request")
	}
}

func TestChangePassword(t *testing.T) {
	body := map[string]any{"password": "N3w-Passw0rd!", "connection": connection}
	tests := []struct {
		name string
		rep  reply
		want error
	}{
		{"200", ok(userJSON), nil},
		{"400 password strength", status(400, weakJSON), provider.ErrRejected},
		{"400 password history", status(400, `{"statusCode":400,"error":"Bad Request","message":"PasswordHistoryError: Password has previously been used"}`), provider.ErrRejected},
		{"404", status(404, notFoundJSON), provider.ErrNotFound},
		{"500 not retried (a replay could hit the password history)", status(500, serverJSON), provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("PATCH", userPath, tt.rep)
			err := newClient(t, f, func(c *auth0.Config) { c.HTTP.MaxRetries = 2 }).ChangePassword(context.Background(), userID, "N3w-Passw0rd!")
			checkErr(t, err, tt.want, "N3w-Passw0rd!")
			req := f.only(t)
			checkReq(t, req, "PATCH", userPath, nil, body)
			if req.Auth != "Bearer mgmt-1" {
				t.Errorf("Authorization = %q", req.Auth)
			}
		})
	}
}

func TestChangeEmail(t *testing.T) {
	body := map[string]any{"email": "new@example.com", "connection": connection, "email_verified": false, "verify_email": false}
	tests := []struct {
		name string
		rep  reply
		want error
	}{
		{"200", ok(userJSON), nil},
		{"400 email already exists", status(400, emailTaken), provider.ErrUserExists},
		{"409", status(409, conflictJSON), provider.ErrUserExists},
		{"400 other", status(400, payloadJSON), provider.ErrRejected},
		{"404", status(404, notFoundJSON), provider.ErrNotFound},
		{"malformed", ok(`[`), provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("PATCH", userPath, tt.rep)
			got, err := newClient(t, f).ChangeEmail(context.Background(), userID, "new@example.com")
			checkErr(t, err, tt.want, "new@example.com")
			checkReq(t, f.only(t), "PATCH", userPath, nil, body)
			if tt.want == nil && got.ID != userID {
				t.Errorf("user = %+v", got)
			}
		})
	}
}

func TestPasswordChangeURL(t *testing.T) {
	const ticket = "https://tenant.eu.auth0.com/u/reset-password?ticket=vCXrmOFD88EqTjKpvxBEwG7KmlQ0QFmS#"
	tests := []struct {
		name      string
		returnURL string
		ttl       time.Duration
		rep       reply
		wantBody  map[string]any
		wantURL   string
		want      error
	}{
		{"201", "https://example.com/done", 0, status(201, `{"ticket":"`+ticket+`"}`),
			map[string]any{"user_id": userID, "result_url": "https://example.com/done", "ttl_sec": float64(432000)}, ticket, nil},
		{"no return URL, own ttl", "", time.Hour, status(201, `{"ticket":"`+ticket+`"}`),
			map[string]any{"user_id": userID, "ttl_sec": float64(3600)}, ticket, nil},
		{"404", "https://example.com/done", 0, status(404, notFoundJSON),
			map[string]any{"user_id": userID, "result_url": "https://example.com/done", "ttl_sec": float64(432000)}, "", provider.ErrNotFound},
		{"no ticket", "https://example.com/done", 0, status(201, `{}`),
			map[string]any{"user_id": userID, "result_url": "https://example.com/done", "ttl_sec": float64(432000)}, "", provider.ErrProtocol},
		{"500 not retried", "https://example.com/done", 0, status(500, serverJSON),
			map[string]any{"user_id": userID, "result_url": "https://example.com/done", "ttl_sec": float64(432000)}, "", provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("POST", "/api/v2/tickets/password-change", tt.rep)
			c := newClient(t, f, func(c *auth0.Config) { c.TicketTTL = tt.ttl; c.HTTP.MaxRetries = 2 })
			got, err := c.PasswordChangeURL(context.Background(), userID, tt.returnURL)
			checkErr(t, err, tt.want)
			req := f.only(t)
			checkReq(t, req, "POST", "/api/v2/tickets/password-change", nil, tt.wantBody)
			if req.Auth != "Bearer mgmt-1" {
				t.Errorf("Authorization = %q", req.Auth)
			}
			if got != tt.wantURL {
				t.Errorf("url = %q, want %q", got, tt.wantURL)
			}
		})
	}
}

// jwt builds an unsigned compact JWT with these claims (the adapter does not check signatures).
func jwt(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2lnbmF0dXJl"
}

func TestLogin(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	idToken := jwt(map[string]any{"iss": "https://tenant.eu.auth0.com/", "sub": userID, "aud": clientID, "exp": now.Add(10 * time.Hour).Unix()})
	success := ok(`{"access_token":"user-access-token","id_token":"` + idToken + `","scope":"openid profile email","expires_in":86400,"token_type":"Bearer"}`)
	loginBody := map[string]any{
		"grant_type": "http://auth0.com/oauth/grant-type/password-realm", "realm": connection,
		"username": "chuck878@example.com", "password": "S3cret-Passw0rd!",
		"client_id": clientID, "client_secret": clientSecret, "scope": "openid profile email",
	}
	oauth := func(s int, code, desc string) reply {
		return status(s, fmt.Sprintf(`{"error":%q,"error_description":%q}`, code, desc))
	}
	tests := []struct {
		name     string
		rep      reply
		want     error
		wantUser string
	}{
		{"success", success, nil, userID},
		{"aud as array", ok(`{"access_token":"user-access-token","id_token":"` + jwt(map[string]any{"sub": userID, "aud": []string{"other", clientID}}) + `","expires_in":60}`), nil, userID},
		{"id_token for another client", ok(`{"access_token":"a","id_token":"` + jwt(map[string]any{"sub": userID, "aud": "other"}) + `","expires_in":60}`), provider.ErrProtocol, ""},
		{"id_token not a JWT", ok(`{"access_token":"a","id_token":"garbage","expires_in":60}`), provider.ErrProtocol, ""},
		{"no access_token", ok(`{"id_token":"` + idToken + `"}`), provider.ErrProtocol, ""},
		{"malformed", ok(`{"access_token":`), provider.ErrProtocol, ""},
		{"wrong email or password", oauth(403, "invalid_grant", "Wrong email or password."), provider.ErrInvalidCredentials, ""},
		{"breached password", oauth(403, "invalid_grant", "This login attempt has been blocked because the password you're using was previously disclosed through a data breach"), provider.ErrBlocked, ""},
		{"blocked user", oauth(401, "unauthorized", "user is blocked"), provider.ErrBlocked, ""},
		{"unverified (tenant Action)", oauth(403, "access_denied", "Please verify your email before logging in."), provider.ErrNotVerified, ""},
		{"denied by tenant rule", oauth(401, "unauthorized", "Access denied for this subscription"), provider.ErrBlocked, ""},
		{"too many attempts", withHeader(oauth(429, "too_many_attempts", "Your account has been blocked after multiple consecutive login attempts."), "Retry-After", "0"), provider.ErrBlocked, ""},
		{"rate limit", withHeader(oauth(429, "too_many_requests", "Global limit has been reached"), "Retry-After", "0"), provider.ErrUnavailable, ""},
		{"wrong client credentials", oauth(401, "access_denied", "Unauthorized"), provider.ErrUnavailable, ""},
		{"grant not allowed", oauth(403, "unauthorized_client", "Grant type 'http://auth0.com/oauth/grant-type/password-realm' not allowed for the client."), provider.ErrUnavailable, ""},
		{"mfa required", oauth(403, "mfa_required", "Multifactor authentication required"), provider.ErrRejected, ""},
		// Breached-password detection (Auth0's documented sign-in error password_leaked).
		{"password leaked", oauth(403, "password_leaked", "This login attempt has been blocked because the password you're using was previously disclosed through a data breach (not in this application)."), provider.ErrBlocked, ""},
		// The database connection's error shape: code, and a description that is an object for a
		// password policy (Auth0's PasswordStrengthError body).
		{"password policy, code/description shape", status(400, `{"name":"PasswordStrengthError","message":"Password is too weak","code":"invalid_password","description":{"rules":[{"message":"At least %d characters in length","format":[8],"code":"lengthAtLeast","verified":false},{"message":"Contain at least %d of the following %d types of characters:","code":"containsAtLeast","format":[3,4],"items":[{"message":"lower case letters (a-z)","code":"lowerCase","verified":true},{"message":"numbers (i.e. 0-9)","code":"numbers","verified":false}],"verified":false}],"verified":false},"policy":"* At least 8 characters in length","statusCode":400}`), provider.ErrRejected, ""},
		{"leaked password, code/description shape", status(403, `{"code":"password_leaked","description":"This login attempt has been blocked because the password you're using was previously disclosed through a data breach (not in this application).","statusCode":403}`), provider.ErrBlocked, ""},
		{"wrong password, code/description shape", status(401, `{"code":"invalid_user_password","description":"Wrong email or password.","statusCode":401}`), provider.ErrInvalidCredentials, ""},
		// Auth0 documents only X-RateLimit-* on a 429: still unavailable, never retried (a login).
		{"rate limit with only X-RateLimit headers", reply{status: 429, body: `{"error":"too_many_requests","error_description":"Global limit has been reached"}`,
			header: map[string]string{"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}}, provider.ErrUnavailable, ""},
		{"server error not retried", oauth(500, "server_error", "boom"), provider.ErrUnavailable, ""},
		{"unknown 4xx", status(418, `teapot`), provider.ErrProtocol, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("POST", "/oauth/token", tt.rep)
			c := newClient(t, f, func(c *auth0.Config) { c.HTTP.MaxRetries = 2 })
			auth0.SetClock(c, func() time.Time { return now })
			got, err := c.Login(context.Background(), "chuck878@example.com", "S3cret-Passw0rd!")
			checkErr(t, err, tt.want, "S3cret-Passw0rd!", "chuck878@example.com", "user-access-token")
			req := f.only(t)
			checkReq(t, req, "POST", "/oauth/token", nil, loginBody)
			if req.Auth != "" {
				t.Errorf("login sent Authorization %q", req.Auth)
			}
			if len(f.tokenRequests()) != 0 {
				t.Errorf("login fetched a management token")
			}
			if got.UserID != tt.wantUser {
				t.Errorf("user = %q, want %q", got.UserID, tt.wantUser)
			}
		})
	}

	t.Run("tokens", func(t *testing.T) {
		f := newFake(t)
		f.on("POST", "/oauth/token", success)
		c := newClient(t, f, func(c *auth0.Config) { c.LoginAudience = "https://api.example.com"; c.Scope = "openid email" })
		auth0.SetClock(c, func() time.Time { return now })
		got, err := c.Login(context.Background(), "chuck878@example.com", "S3cret-Passw0rd!")
		checkErr(t, err, nil)
		want := provider.Session{UserID: userID, Tokens: []provider.Token{
			{Name: "auth0_access_token", Content: "user-access-token", ExpiresIn: 24 * time.Hour},
			{Name: "auth0_id_token", Content: idToken, ExpiresIn: 10 * time.Hour},
		}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("session = %+v,\nwant %+v", got, want)
		}
		body := f.only(t).Body
		if body["audience"] != "https://api.example.com" || body["scope"] != "openid email" {
			t.Errorf("audience/scope = %v/%v", body["audience"], body["scope"])
		}
	})

	t.Run("no id_token: /userinfo names the user", func(t *testing.T) {
		f := newFake(t)
		f.on("POST", "/oauth/token", ok(`{"access_token":"user-access-token","expires_in":600}`))
		f.on("GET", "/userinfo", ok(`{"sub":"`+userID+`","email":"chuck878@example.com"}`))
		got, err := newClient(t, f).Login(context.Background(), "chuck878@example.com", "S3cret-Passw0rd!")
		checkErr(t, err, nil)
		if got.UserID != userID || len(got.Tokens) != 1 || got.Tokens[0].ExpiresIn != 10*time.Minute {
			t.Errorf("session = %+v", got)
		}
		reqs := f.requests()
		if len(reqs) != 2 || reqs[1].Path != "/userinfo" || reqs[1].Auth != "Bearer user-access-token" {
			t.Errorf("requests = %+v", reqs)
		}
	})

	t.Run("empty credentials are refused without a call", func(t *testing.T) {
		f := newFake(t)
		c := newClient(t, f)
		_, err := c.Login(context.Background(), "", "x")
		checkErr(t, err, provider.ErrInvalidCredentials)
		_, err = c.Login(context.Background(), "a@example.com", "")
		checkErr(t, err, provider.ErrInvalidCredentials)
		if len(f.requests()) != 0 {
			t.Error("a request was sent")
		}
	})
}

func TestUserForToken(t *testing.T) {
	tests := []struct {
		name     string
		userinfo reply
		get      *reply
		want     error
	}{
		{"valid token", ok(`{"sub":"` + userID + `","email":"chuck878@example.com","email_verified":true}`), &reply{status: 200, body: userJSON}, nil},
		{"401", status(401, `Unauthorized`), nil, provider.ErrInvalidToken},
		{"403", status(403, `{"error":"insufficient_scope"}`), nil, provider.ErrInvalidToken},
		{"no sub", ok(`{"email":"x@example.com"}`), nil, provider.ErrProtocol},
		{"malformed", ok(`<html>`), nil, provider.ErrProtocol},
		{"429", limited(`{"error":"too_many_requests"}`), nil, provider.ErrUnavailable},
		{"user deleted since", ok(`{"sub":"` + userID + `"}`), &reply{status: 404, body: notFoundJSON}, provider.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET", "/userinfo", tt.userinfo)
			if tt.get != nil {
				f.on("GET", userPath, *tt.get)
			}
			f.on("GET", "/api/v2/user-blocks/auth0%7C63d17c4a9d503d76c056c160", ok(`{"blocked_for":[]}`))
			got, err := newClient(t, f).UserForToken(context.Background(), "user-access-token")
			checkErr(t, err, tt.want, "user-access-token")
			reqs := f.requests()
			if reqs[0].Method != "GET" || reqs[0].Path != "/userinfo" || reqs[0].Auth != "Bearer user-access-token" {
				t.Errorf("userinfo request = %+v", reqs[0])
			}
			wantReqs := 1
			if tt.get != nil {
				wantReqs = 2
				if reqs[1].Path != userPath || reqs[1].Auth != "Bearer mgmt-1" {
					t.Errorf("get request = %+v", reqs[1])
				}
				if tt.want == nil {
					wantReqs = 3 // and the user's brute-force blocks
				}
			}
			if len(reqs) != wantReqs {
				t.Errorf("%d requests, want %d", len(reqs), wantReqs)
			}
			if tt.want == nil && !reflect.DeepEqual(got, wantUser) {
				t.Errorf("user = %+v", got)
			}
		})
	}
	f := newFake(t)
	_, err := newClient(t, f).UserForToken(context.Background(), " ")
	checkErr(t, err, provider.ErrInvalidToken)
	if len(f.requests()) != 0 {
		t.Error("empty token sent a request")
	}
}

// TestUserForTokenBruteForceBlocks: Auth0 keeps brute-force blocks in /api/v2/user-blocks, not in
// the user's blocked flag. Bodies as the Management API documents them.
func TestUserForTokenBruteForceBlocks(t *testing.T) {
	const blocksPath = "/api/v2/user-blocks/auth0%7C63d17c4a9d503d76c056c160"
	tests := []struct {
		name        string
		endUserIP   string
		blocks      reply
		wantBlocked bool
		want        error
	}{
		{"no blocks", "203.0.113.7", ok(`{"blocked_for":[]}`), false, nil},
		{"account locked (no IP: Account Lockout mode)", "", ok(`{"blocked_for":[{"identifier":"chuck878@example.com","connection":"Username-Password-Authentication"}]}`), true, nil},
		{"blocked for the end user's own IP", "203.0.113.7", ok(`{"blocked_for":[{"identifier":"chuck878@example.com","ip":"203.0.113.7","connection":"Username-Password-Authentication"}]}`), true, nil},
		{"an attacker's IP blocked: not this user", "203.0.113.7", ok(`{"blocked_for":[{"identifier":"chuck878@example.com","ip":"198.51.100.23","connection":"Username-Password-Authentication"}]}`), false, nil},
		{"an IP blocked, the end user's IP unknown", "", ok(`{"blocked_for":[{"identifier":"chuck878@example.com","ip":"198.51.100.23","connection":"Username-Password-Authentication"}]}`), false, nil},
		{"missing scope", "", status(403, scopeJSON), false, provider.ErrUnavailable},
		{"malformed", "", ok(`{"blocked_for":`), false, provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET", "/userinfo", ok(`{"sub":"`+userID+`"}`))
			f.on("GET", userPath, ok(userJSON))
			f.on("GET", blocksPath, tt.blocks)
			ctx := provider.WithEndUserIP(context.Background(), tt.endUserIP)
			got, err := newClient(t, f).UserForToken(ctx, "user-access-token")
			checkErr(t, err, tt.want)
			reqs := f.requests()
			if len(reqs) != 3 || reqs[2].Method != "GET" || reqs[2].Path != blocksPath || reqs[2].Auth != "Bearer mgmt-1" {
				t.Fatalf("requests = %+v", reqs)
			}
			if tt.want == nil && got.Blocked != tt.wantBlocked {
				t.Errorf("Blocked = %v, want %v", got.Blocked, tt.wantBlocked)
			}
		})
	}
	t.Run("an administrator's block needs no second call", func(t *testing.T) {
		f := newFake(t)
		f.on("GET", "/userinfo", ok(`{"sub":"`+userID+`"}`))
		f.on("GET", userPath, ok(strings.Replace(userJSON, `"blocked": false`, `"blocked": true`, 1)))
		got, err := newClient(t, f).UserForToken(context.Background(), "user-access-token")
		checkErr(t, err, nil)
		if !got.Blocked || len(f.requests()) != 2 {
			t.Errorf("Blocked %v after %d requests", got.Blocked, len(f.requests()))
		}
	})
}

// TestLoginForwardsTheEndUserIP: auth0-forwarded-for carries the end user's IP to brute-force
// protection; without one, no header (never this service's own address, never garbage).
func TestLoginForwardsTheEndUserIP(t *testing.T) {
	for _, tt := range []struct{ ip, want string }{{"203.0.113.7", "203.0.113.7"}, {"2001:db8::7", "2001:db8::7"}, {"", ""}, {"not-an-ip", ""}} {
		f := newFake(t)
		f.on("POST", "/oauth/token", status(403, `{"error":"invalid_grant","error_description":"Wrong email or password."}`))
		_, err := newClient(t, f).Login(provider.WithEndUserIP(context.Background(), tt.ip), "chuck878@example.com", "S3cret-Passw0rd!")
		checkErr(t, err, provider.ErrInvalidCredentials)
		if got := f.only(t).ForwardedFor; got != tt.want {
			t.Errorf("end user %q: auth0-forwarded-for = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

func TestManagementToken(t *testing.T) {
	t.Run("fetched once, reused, refreshed shortly before expiry", func(t *testing.T) {
		f := newFake(t)
		f.on("GET", userPath, ok(userJSON))
		c := newClient(t, f)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		auth0.SetClock(c, func() time.Time { return now })
		for range 3 {
			_, err := c.GetUser(context.Background(), userID)
			checkErr(t, err, nil)
		}
		now = now.Add(24*time.Hour - 61*time.Second) // still valid
		_, err := c.GetUser(context.Background(), userID)
		checkErr(t, err, nil)
		toks := f.tokenRequests()
		if len(toks) != 1 {
			t.Fatalf("%d token requests for 4 calls, want 1", len(toks))
		}
		checkReq(t, toks[0], "POST", "/oauth/token", nil, map[string]any{
			"grant_type": "client_credentials", "client_id": clientID, "client_secret": clientSecret,
			"audience": f.srv.URL + "/api/v2/",
		})
		now = now.Add(2 * time.Second) // within the refresh margin
		_, err = c.GetUser(context.Background(), userID)
		checkErr(t, err, nil)
		if n := len(f.tokenRequests()); n != 2 {
			t.Fatalf("%d token requests after expiry, want 2", n)
		}
		var auths []string
		for _, r := range f.requests() {
			auths = append(auths, r.Auth)
		}
		want := []string{"Bearer mgmt-1", "Bearer mgmt-1", "Bearer mgmt-1", "Bearer mgmt-1", "Bearer mgmt-2"}
		if !reflect.DeepEqual(auths, want) {
			t.Errorf("Authorization headers = %v, want %v", auths, want)
		}
	})

	t.Run("configured audience", func(t *testing.T) {
		f := newFake(t)
		f.on("GET", userPath, ok(userJSON))
		_, err := newClient(t, f, func(c *auth0.Config) { c.Audience = "https://tenant.eu.auth0.com/api/v2/" }).GetUser(context.Background(), userID)
		checkErr(t, err, nil)
		if aud := f.tokenRequests()[0].Body["audience"]; aud != "https://tenant.eu.auth0.com/api/v2/" {
			t.Errorf("audience = %v", aud)
		}
	})

	t.Run("401 refreshes the token once and repeats the call", func(t *testing.T) {
		f := newFake(t)
		f.on("POST", "/api/v2/users", status(401, unauthJSON), status(201, userJSON))
		_, err := newClient(t, f).Create(context.Background(), provider.NewUser{Email: "a@example.com", Password: "p"})
		checkErr(t, err, nil)
		reqs := f.requests()
		if len(reqs) != 2 || reqs[0].Auth != "Bearer mgmt-1" || reqs[1].Auth != "Bearer mgmt-2" {
			t.Errorf("requests = %+v", reqs)
		}
		if n := len(f.tokenRequests()); n != 2 {
			t.Errorf("%d token requests, want 2", n)
		}
	})

	t.Run("401 twice is unavailable", func(t *testing.T) {
		f := newFake(t)
		f.on("GET", userPath, status(401, unauthJSON))
		_, err := newClient(t, f).GetUser(context.Background(), userID)
		checkErr(t, err, provider.ErrUnavailable)
		if n, m := len(f.requests()), len(f.tokenRequests()); n != 2 || m != 2 {
			t.Errorf("%d calls and %d token requests, want 2 and 2", n, m)
		}
	})

	tokenFailures := []struct {
		name string
		rep  reply
		want error
	}{
		{"wrong client credentials", status(401, `{"error":"access_denied","error_description":"Unauthorized"}`), provider.ErrUnavailable},
		{"grant not allowed", status(403, `{"error":"unauthorized_client","error_description":"Grant type 'client_credentials' not allowed for the client."}`), provider.ErrUnavailable},
		{"500", status(500, `{"error":"server_error"}`), provider.ErrUnavailable},
		{"malformed", ok(`{"access_token":`), provider.ErrProtocol},
		{"no access_token", ok(`{"expires_in":86400}`), provider.ErrProtocol},
	}
	for _, tt := range tokenFailures {
		t.Run("token: "+tt.name, func(t *testing.T) {
			f := newFake(t)
			f.tokenReply = func(int) reply { return tt.rep }
			// Retries allowed: the token POST must still be sent exactly once.
			_, err := newClient(t, f, func(c *auth0.Config) { c.HTTP.MaxRetries = 2 }).GetUser(context.Background(), userID)
			checkErr(t, err, tt.want)
			if len(f.requests()) != 0 {
				t.Error("the user call was sent without a token")
			}
			if n := len(f.tokenRequests()); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
		})
	}

	t.Run("concurrent callers share one token request", func(t *testing.T) {
		f := newFake(t)
		f.on("GET", userPath, ok(userJSON))
		slow := f.tokenReply
		f.tokenReply = func(n int) reply { r := slow(n); r.delay = 100 * time.Millisecond; return r }
		c := newClient(t, f)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				_, err := c.GetUser(context.Background(), userID)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			checkErr(t, err, nil)
		}
		if n := len(f.tokenRequests()); n != 1 {
			t.Errorf("%d token requests, want 1", n)
		}
	})

	t.Run("a caller waiting for the token honours its context", func(t *testing.T) {
		f := newFake(t)
		slow := f.tokenReply
		f.tokenReply = func(n int) reply { r := slow(n); r.delay = 500 * time.Millisecond; return r }
		f.on("GET", userPath, ok(userJSON))
		c := newClient(t, f)
		go func() { _, _ = c.GetUser(context.Background(), userID) }()
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.GetUser(ctx, userID)
		checkErr(t, err, provider.ErrUnavailable)
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Errorf("waited %v for a token despite a 50ms deadline", d)
		}
	})
}

func TestRetries(t *testing.T) {
	t.Run("GET is retried through a 503", func(t *testing.T) {
		f := newFake(t)
		f.on("GET", userPath, withHeader(status(503, serverJSON), "Retry-After", "0"), ok(userJSON))
		got, err := newClient(t, f, func(c *auth0.Config) { c.HTTP.MaxRetries = 2 }).GetUser(context.Background(), userID)
		checkErr(t, err, nil)
		if got.ID != userID || len(f.requests()) != 2 {
			t.Errorf("user %q after %d requests", got.ID, len(f.requests()))
		}
	})
	t.Run("PATCH of values is retried through a 429", func(t *testing.T) {
		f := newFake(t)
		f.on("PATCH", userPath, limited(limitJSON), ok(userJSON))
		_, err := newClient(t, f, func(c *auth0.Config) { c.HTTP.MaxRetries = 2 }).Update(context.Background(), userID, provider.Update{FirstName: ptr("X")})
		checkErr(t, err, nil)
		if n := len(f.requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
}

func TestTimeout(t *testing.T) {
	f := newFake(t)
	f.on("GET", userPath, reply{status: 200, body: userJSON, delay: 2 * time.Second})
	c := newClient(t, f, func(c *auth0.Config) { c.HTTP.Timeout = 100 * time.Millisecond })
	start := time.Now()
	_, err := c.GetUser(context.Background(), userID)
	checkErr(t, err, provider.ErrUnavailable)
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v despite a 100ms timeout", d)
	}
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Status != 0 {
		t.Errorf("status = %d, want 0 (no answer)", pe.Status)
	}
}

func TestErrorDetailKeepsUserInputOut(t *testing.T) {
	f := newFake(t)
	f.on("POST", "/api/v2/users", status(400, payloadJSON))
	_, err := newClient(t, f).Create(context.Background(), provider.NewUser{Email: "jo@@example.com", Password: "p"})
	checkErr(t, err, provider.ErrRejected, "jo@@example.com", "@")
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Detail != "invalid_body: Payload validation error" || pe.Status != 400 {
		t.Errorf("error = %#v", pe)
	}
}
