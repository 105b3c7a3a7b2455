//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	gowiremock "github.com/wiremock/go-wiremock"
	"github.com/wiremock/go-wiremock/journal"

	"usersorchestrator/internal/config"
	"usersorchestrator/internal/testkit/wiremock"
)

// Provider is one identity provider of the suite: its tenant (clientCode = name), its WireMock
// and what the suite knows about its mocks (mocks/<name>/README.md).
type Provider struct {
	name string // clientCode of its tenant and folder under mocks/
	flow string // Flow.UserProvider, also the registration's AuthSystem
	impl impl
	srv  *wiremock.Server
	mu   sync.Mutex // one case at a time per WireMock
}

var providers = []*Provider{
	{name: "auth0", flow: "Auth0", impl: auth0Impl{}},
	{name: "gigya", flow: "Gigya", impl: gigyaImpl{}},
	{name: "ssor", flow: "SSOR", impl: restImpl{ssor: true}},
	{name: "firefly", flow: "Firefly", impl: restImpl{}},
}

// portCall names a method of the AuthSystem port (internal/provider.AuthSystem).
type portCall string

const (
	pGet           portCall = "GetUser"
	pFind          portCall = "FindByEmail"
	pSearch        portCall = "Search"
	pCreate        portCall = "Create"        // with EmailVerified (a create without verifyEmail)
	pCreatePending portCall = "CreatePending" // without (verifyEmail=true)
	pUpdate        portCall = "Update"
	pDelete        portCall = "Delete"
	pLogin         portCall = "Login"
	pToken         portCall = "UserForToken"
	pPassword      portCall = "ChangePassword"
	pEmail         portCall = "ChangeEmail"
	pLink          portCall = "PasswordChangeURL"
)

// pUser is a user as a stub answers it.
type pUser struct {
	ID, Email, First, Last string
	Verified               bool
	Blocked                bool
	Metadata               map[string]string
}

// impl is what differs between the providers' protocols and mocks.
type impl interface {
	configure(t *config.Tenant)
	// idFor is the id the mock derives for a user created or logged in with this email.
	idFor(email string) string
	// tokenFor is an access token the mock resolves to the user of this email.
	tokenFor(email string) string
	// tokenNames are the cookieTokens a login adds besides uo_session.
	tokenNames() []string
	// label names a journal request ("" drops it from the journal the tests compare).
	label(r journal.Request) string
	// calls are the labels one port call makes for user id.
	calls(c portCall, id string) []string
	// credentialOK tells whether a labelled request carried the tenant's credential.
	credentialOK(label string, r journal.Request) bool
	// fields normalises what a request of a port call sent: email, password, firstName,
	// lastName, emailVerified, metadata.<key>, loginName, returnUrl.
	fields(c portCall, calls []Call, id string) map[string]string
	// match is a stub rule for the requests of a port call (any user when id is "").
	match(c portCall, id string) *gowiremock.StubRule
	// answer is the provider's success answer of a port call about u (find: u alone; a nil u:
	// nobody).
	answer(c portCall, u *pUser) gowiremock.Response
	// matchLogin is a stub rule for a login with this login name (and password, when not "").
	matchLogin(email, password string) *gowiremock.StubRule
	// refuse is the provider's answer refusing a login with wrong credentials.
	refuseLogin() gowiremock.Response
}

// c lists the labels of a sequence of port calls.
func (p *Provider) c(steps ...any) []string {
	var out []string
	for i := 0; i < len(steps); i++ {
		c := steps[i].(portCall)
		id := ""
		if i+1 < len(steps) {
			if s, ok := steps[i+1].(string); ok {
				id = s
				i++
			}
		}
		out = append(out, p.impl.calls(c, id)...)
	}
	return out
}

// expect compares the journal with a sequence of port calls (portCall, id, portCall, id...).
func (p *Provider) expect(t testing.TB, steps ...any) {
	t.Helper()
	p.expectCalls(t, p.c(steps...)...)
	p.expectCredentials(t)
}

// expectCredentials fails unless every request carried the tenant's credential.
func (p *Provider) expectCredentials(t testing.TB) {
	t.Helper()
	for _, c := range p.journal(t) {
		if !p.impl.credentialOK(c.Label, c.Req) {
			t.Errorf("%s: %q (%s %s) without the tenant's credential; headers %v", p.name, c.Label, c.Req.Method, c.Req.URL, c.Req.Headers)
		}
	}
}

// fields is what the journal's request(s) of a port call sent.
func (p *Provider) fields(t testing.TB, c portCall, id string) map[string]string {
	t.Helper()
	return p.impl.fields(c, p.journal(t), id)
}

// stubAnswer makes the port call (for id, or any) answer u.
func (p *Provider) stubAnswer(t testing.TB, c portCall, id string, u *pUser) {
	t.Helper()
	p.stub(t, p.impl.match(c, id).WillReturnResponse(p.impl.answer(c, u)))
}

// stubResponse makes the port call (for id, or any) answer r.
func (p *Provider) stubResponse(t testing.TB, c portCall, id string, r gowiremock.Response) {
	t.Helper()
	p.stub(t, p.impl.match(c, id).WillReturnResponse(r))
}

// find returns the only call with this label among calls (nil when none).
func find(calls []Call, label string) *journal.Request {
	for i := range calls {
		if calls[i].Label == label {
			return &calls[i].Req
		}
	}
	return nil
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return "<null>"
	case string:
		return x
	case bool:
		return fmt.Sprint(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// flatten puts JSON object fields into out: renames maps a wire name to the suite's name;
// metadata objects become metadata.<key>.
func flatten(out map[string]string, m map[string]any, renames map[string]string, metadataKey string) {
	for k, v := range m {
		if k == metadataKey {
			if md, ok := v.(map[string]any); ok {
				for mk, mv := range md {
					out["metadata."+mk] = str(mv)
				}
			}
			continue
		}
		if r, ok := renames[k]; ok {
			k = r
		}
		out[k] = str(v)
	}
}

func jsonResponse(status int64, body any) gowiremock.Response {
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return gowiremock.NewResponse().WithStatus(status).WithBody(string(raw)).
		WithHeader("Content-Type", "application/json; charset=utf-8")
}

// ---------------------------------------------------------------------------------------------
// Auth0 (mocks/auth0/mappings; there is no README: the stubs' names are the documentation)

const (
	auth0ClientID   = "e2e-client"
	auth0Connection = "Username-Password-Authentication"
	auth0MgmtToken  = "mock-mgmt-token"
)

type auth0Impl struct{}

func (auth0Impl) configure(t *config.Tenant) {
	t.Auth0 = config.Auth0{ClientID: auth0ClientID, ClientSecret: "e2e-secret", Connection: auth0Connection}
}

func (auth0Impl) idFor(email string) string {
	return "auth0|" + base64.RawURLEncoding.EncodeToString([]byte(strings.ToLower(email)))
}

func (auth0Impl) tokenFor(email string) string {
	return "mock-access-token." + base64.RawURLEncoding.EncodeToString([]byte(strings.ToLower(email)))
}

func (auth0Impl) tokenNames() []string { return []string{"auth0_access_token", "auth0_id_token"} }

func (auth0Impl) label(r journal.Request) string {
	path := pathOf(r)
	body := jsonBody(r)
	switch {
	case r.Method == "POST" && path == "/oauth/token":
		if body["grant_type"] == "client_credentials" {
			return "" // the Management API token, fetched once per service
		}
		return "login"
	case r.Method == "GET" && path == "/userinfo":
		return "userinfo"
	case r.Method == "GET" && path == "/api/v2/users-by-email":
		return "find"
	case r.Method == "GET" && path == "/api/v2/users":
		return "search"
	case r.Method == "POST" && path == "/api/v2/users":
		return "create"
	case r.Method == "POST" && path == "/api/v2/tickets/password-change":
		return "ticket " + str(body["user_id"])
	case r.Method == "GET" && strings.HasPrefix(path, "/api/v2/user-blocks/"):
		return "blocks " + strings.TrimPrefix(path, "/api/v2/user-blocks/")
	case strings.HasPrefix(path, "/api/v2/users/"):
		id := strings.TrimPrefix(path, "/api/v2/users/")
		switch r.Method {
		case "GET":
			return "get " + id
		case "DELETE":
			return "delete " + id
		case "PATCH":
			if _, ok := body["password"]; ok {
				return "password " + id
			}
			if _, ok := body["email"]; ok {
				return "email " + id
			}
			return "update " + id
		}
	}
	return "? " + r.Method + " " + r.URL
}

func (auth0Impl) calls(c portCall, id string) []string {
	switch c {
	case pGet:
		return []string{"get " + id}
	case pFind:
		return []string{"find"}
	case pSearch:
		return []string{"search"}
	case pCreate, pCreatePending:
		return []string{"create"}
	case pUpdate:
		return []string{"update " + id}
	case pDelete:
		return []string{"delete " + id}
	case pLogin:
		return []string{"login"}
	case pToken:
		// The user, then its brute-force blocks (a user blocked by an administrator needs none).
		return []string{"userinfo", "get " + id, "blocks " + id}
	case pPassword:
		return []string{"password " + id}
	case pEmail:
		return []string{"email " + id}
	case pLink:
		return []string{"ticket " + id}
	}
	panic("unknown port call " + c)
}

func (auth0Impl) credentialOK(label string, r journal.Request) bool {
	switch label {
	case "login":
		b := jsonBody(r)
		return b["client_id"] == auth0ClientID && b["client_secret"] == "e2e-secret" && b["realm"] == auth0Connection
	case "userinfo":
		return strings.HasPrefix(header(r, "Authorization"), "Bearer ")
	}
	return header(r, "Authorization") == "Bearer "+auth0MgmtToken
}

func (auth0Impl) fields(c portCall, calls []Call, id string) map[string]string {
	out := map[string]string{}
	var r *journal.Request
	renames := map[string]string{"given_name": "firstName", "family_name": "lastName", "email_verified": "emailVerified"}
	switch c {
	case pCreate, pCreatePending:
		r = find(calls, "create")
	case pUpdate:
		r = find(calls, "update "+id)
	case pPassword:
		r = find(calls, "password "+id)
	case pEmail:
		r = find(calls, "email "+id)
	case pLogin:
		r = find(calls, "login")
		renames = map[string]string{"username": "loginName"}
	case pLink:
		r = find(calls, "ticket "+id)
		renames = map[string]string{"result_url": "returnUrl"}
	}
	if r == nil {
		return out
	}
	flatten(out, jsonBody(*r), renames, "user_metadata")
	return out
}

func (auth0Impl) match(c portCall, id string) *gowiremock.StubRule {
	user := gowiremock.URLPathMatching("/api/v2/users/[^/]+")
	if id != "" {
		user = gowiremock.URLPathEqualTo("/api/v2/users/" + url.PathEscape(id))
	}
	switch c {
	case pGet:
		return gowiremock.Get(user)
	case pFind:
		return gowiremock.Get(gowiremock.URLPathEqualTo("/api/v2/users-by-email"))
	case pSearch:
		return gowiremock.Get(gowiremock.URLPathEqualTo("/api/v2/users"))
	case pCreate, pCreatePending:
		return gowiremock.Post(gowiremock.URLPathEqualTo("/api/v2/users"))
	case pUpdate:
		return gowiremock.Patch(user).
			WithBodyPattern(gowiremock.NotContains(`"password"`)).
			WithBodyPattern(gowiremock.NotContains(`"email"`))
	case pPassword:
		return gowiremock.Patch(user).WithBodyPattern(gowiremock.Contains(`"password"`))
	case pEmail:
		return gowiremock.Patch(user).WithBodyPattern(gowiremock.Contains(`"email"`))
	case pDelete:
		return gowiremock.Delete(user)
	case pLogin:
		return gowiremock.Post(gowiremock.URLPathEqualTo("/oauth/token")).
			WithBodyPattern(gowiremock.Contains("password-realm"))
	case pToken:
		return gowiremock.Get(gowiremock.URLPathEqualTo("/userinfo"))
	case pLink:
		return gowiremock.Post(gowiremock.URLPathEqualTo("/api/v2/tickets/password-change"))
	}
	panic("unknown port call " + c)
}

func auth0User(u pUser) map[string]any {
	md := map[string]any{}
	for k, v := range u.Metadata {
		md[k] = v
	}
	m := map[string]any{
		"user_id": u.ID, "email": u.Email, "email_verified": u.Verified, "name": u.Email,
		"user_metadata": md, "blocked": u.Blocked,
		"identities": []any{map[string]any{"connection": auth0Connection, "user_id": strings.TrimPrefix(u.ID, "auth0|"), "provider": "auth0", "isSocial": false}},
		"created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-06-01T12:00:00.000Z",
	}
	if u.First != "" {
		m["given_name"] = u.First
	}
	if u.Last != "" {
		m["family_name"] = u.Last
	}
	return m
}

func (a auth0Impl) answer(c portCall, u *pUser) gowiremock.Response {
	switch c {
	case pFind, pSearch:
		list := []any{}
		if u != nil {
			list = append(list, auth0User(*u))
		}
		return jsonResponse(200, list)
	case pCreate, pCreatePending:
		return jsonResponse(201, auth0User(*u))
	case pLogin:
		payload, _ := json.Marshal(map[string]any{"sub": u.ID, "aud": auth0ClientID, "iss": "e2e", "exp": 4102444800, "email": u.Email})
		idToken := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".bW9jay1zaWduYXR1cmU"
		return jsonResponse(200, map[string]any{"access_token": a.tokenFor(u.Email), "id_token": idToken, "expires_in": 86400, "token_type": "Bearer", "scope": "openid profile email"})
	case pToken: // /userinfo: the OIDC claims; the adapter reads the user by sub next
		return jsonResponse(200, map[string]any{"sub": u.ID, "email": u.Email, "email_verified": u.Verified, "name": u.Email})
	}
	return jsonResponse(200, auth0User(*u))
}

func (a auth0Impl) matchLogin(email, password string) *gowiremock.StubRule {
	return withJSONLogin(a.match(pLogin, ""), "username", email, password)
}

// withJSONLogin narrows a login stub to a JSON body naming email in nameField and, when password
// is not empty, carrying that password.
func withJSONLogin(s *gowiremock.StubRule, nameField, email, password string) *gowiremock.StubRule {
	s = s.WithBodyPattern(gowiremock.Contains(`"` + nameField + `":"` + email + `"`))
	if password != "" {
		s = s.WithBodyPattern(gowiremock.Contains(`"password":"` + password + `"`))
	}
	return s
}

func (auth0Impl) refuseLogin() gowiremock.Response {
	return jsonResponse(403, map[string]any{"error": "invalid_grant", "error_description": "Wrong email or password."})
}

// ---------------------------------------------------------------------------------------------
// Gigya (mocks/gigya/README.md)

const (
	gigyaAPIKey  = "3_e2e"
	gigyaUserKey = "e2e-user"
	gigyaSecret  = "e2e-secret"
)

type gigyaImpl struct{}

func (gigyaImpl) configure(t *config.Tenant) {
	t.Gigya = config.Gigya{APIKey: gigyaAPIKey, UserKey: gigyaUserKey, Secret: gigyaSecret}
}

func (gigyaImpl) idFor(email string) string {
	return "_gid_" + base64.URLEncoding.EncodeToString([]byte(strings.ToLower(email)))
}

func (g gigyaImpl) tokenFor(email string) string { return "st2.mock." + g.idFor(email) }

func (gigyaImpl) tokenNames() []string { return []string{"glt_" + gigyaAPIKey} }

func (gigyaImpl) label(r journal.Request) string {
	f := formBody(r)
	switch pathOf(r) {
	case "/accounts.getAccountInfo":
		switch {
		case f.Has("UID"):
			return "get " + f.Get("UID")
		case f.Has("login_token"):
			return "token"
		case f.Has("regToken"):
			return "get-regtoken"
		}
	case "/accounts.search":
		return "search"
	case "/accounts.initRegistration":
		return "init"
	case "/accounts.register":
		return "register"
	case "/accounts.setAccountInfo":
		switch {
		case f.Has("newPassword"):
			return "password " + f.Get("UID")
		case f.Has("addLoginEmails") || strings.Contains(f.Get("profile"), `"email"`):
			return "email " + f.Get("UID")
		}
		return "update " + f.Get("UID")
	case "/accounts.deleteAccount":
		return "delete " + f.Get("UID")
	case "/accounts.login":
		return "login"
	case "/accounts.resetPassword":
		return "reset"
	}
	return "? " + r.Method + " " + r.URL
}

func (gigyaImpl) calls(c portCall, id string) []string {
	switch c {
	case pGet:
		return []string{"get " + id}
	case pFind, pSearch:
		return []string{"search"}
	case pCreate:
		// register answers isVerified false; EmailVerified is set with a third call.
		return []string{"init", "register", "update " + id}
	case pCreatePending:
		return []string{"init", "register"}
	case pUpdate:
		return []string{"update " + id, "get " + id}
	case pDelete:
		return []string{"delete " + id}
	case pLogin:
		return []string{"login"}
	case pToken:
		return []string{"token"}
	case pPassword:
		return []string{"password " + id}
	case pEmail:
		return []string{"get " + id, "email " + id}
	case pLink:
		return []string{"get " + id, "reset"}
	}
	panic("unknown port call " + c)
}

func (gigyaImpl) credentialOK(label string, r journal.Request) bool {
	f := formBody(r)
	if f.Get("apiKey") != gigyaAPIKey {
		return false
	}
	if label == "token" {
		// A session call: the login token alone, never the server credentials.
		return !f.Has("userKey") && !f.Has("secret")
	}
	return f.Get("userKey") == gigyaUserKey && f.Get("secret") == gigyaSecret
}

func (gigyaImpl) fields(c portCall, calls []Call, id string) map[string]string {
	out := map[string]string{}
	form := func(label string) url.Values {
		r := find(calls, label)
		if r == nil {
			return url.Values{}
		}
		return formBody(*r)
	}
	jsonField := func(v url.Values, name string, renames map[string]string, mdKey string) {
		if !v.Has(name) {
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(v.Get(name)), &m); err != nil {
			out[name] = "<not JSON: " + v.Get(name) + ">"
			return
		}
		if mdKey != "" {
			m = map[string]any{mdKey: m}
		}
		flatten(out, m, renames, "data")
	}
	switch c {
	case pCreate, pCreatePending:
		f := form("register")
		out["email"], out["password"] = f.Get("email"), f.Get("password")
		jsonField(f, "profile", map[string]string{"email": "profile.email"}, "")
		jsonField(f, "data", nil, "data")
		if u := form("update " + id); u.Has("isVerified") {
			out["emailVerified"] = u.Get("isVerified")
		}
	case pUpdate:
		f := form("update " + id)
		jsonField(f, "profile", nil, "")
		jsonField(f, "data", nil, "data")
		if f.Has("isVerified") {
			out["emailVerified"] = f.Get("isVerified")
		}
	case pPassword:
		f := form("password " + id)
		out["password"] = f.Get("newPassword")
		out["securityOverride"] = f.Get("securityOverride")
	case pEmail:
		f := form("email " + id)
		jsonField(f, "profile", nil, "")
		out["addLoginEmails"], out["removeLoginEmails"] = f.Get("addLoginEmails"), f.Get("removeLoginEmails")
	case pLogin:
		f := form("login")
		out["loginName"], out["password"] = f.Get("loginID"), f.Get("password")
	case pLink:
		f := form("reset")
		out["loginName"], out["sendEmail"] = f.Get("loginID"), f.Get("sendEmail")
	}
	return out
}

func (gigyaImpl) match(c portCall, id string) *gowiremock.StubRule {
	post := func(method string) *gowiremock.StubRule {
		return gowiremock.Post(gowiremock.URLPathEqualTo("/accounts." + method))
	}
	uid := gowiremock.Matching(".+")
	if id != "" {
		uid = gowiremock.EqualTo(id)
	}
	switch c {
	case pGet:
		return post("getAccountInfo").WithFormParameter("UID", uid)
	case pFind, pSearch:
		return post("search")
	case pCreate, pCreatePending:
		return post("register")
	case pUpdate:
		return post("setAccountInfo").WithFormParameter("UID", uid).
			WithFormParameter("newPassword", gowiremock.Absent()).WithFormParameter("addLoginEmails", gowiremock.Absent())
	case pPassword:
		return post("setAccountInfo").WithFormParameter("UID", uid).WithFormParameter("newPassword", gowiremock.Matching(".+"))
	case pEmail:
		return post("setAccountInfo").WithFormParameter("UID", uid).WithFormParameter("addLoginEmails", gowiremock.Matching(".+"))
	case pDelete:
		return post("deleteAccount").WithFormParameter("UID", uid)
	case pLogin:
		return post("login")
	case pToken:
		return post("getAccountInfo").WithFormParameter("login_token", gowiremock.Matching(".+"))
	case pLink:
		return post("resetPassword")
	}
	panic("unknown port call " + c)
}

// gigyaOK is Gigya's success envelope with fields added.
func gigyaOK(fields map[string]any) map[string]any {
	m := map[string]any{"callId": "e2e0000000000000", "errorCode": 0, "apiVersion": 2, "statusCode": 200, "statusReason": "OK", "time": "2026-01-01T00:00:00.000Z"}
	for k, v := range fields {
		m[k] = v
	}
	return m
}

// gigyaError is Gigya's error envelope (always HTTP 200).
func gigyaError(code int, message string, extra map[string]any) gowiremock.Response {
	m := map[string]any{"callId": "e2e0000000000000", "errorCode": code, "apiVersion": 2, "statusCode": code / 1000, "statusReason": message, "errorMessage": message, "time": "2026-01-01T00:00:00.000Z"}
	for k, v := range extra {
		m[k] = v
	}
	return jsonResponse(200, m)
}

func gigyaAccount(u pUser) map[string]any {
	data := map[string]any{}
	for k, v := range u.Metadata {
		data[k] = v
	}
	profile := map[string]any{"email": u.Email}
	if u.First != "" {
		profile["firstName"] = u.First
	}
	if u.Last != "" {
		profile["lastName"] = u.Last
	}
	return map[string]any{
		"UID": u.ID, "profile": profile, "data": data, "isVerified": u.Verified, "isActive": !u.Blocked,
		"isLockedOut": false, "loginIDs": map[string]any{"emails": []string{u.Email}, "unverifiedEmails": []string{}},
		"emails":  map[string]any{"verified": []string{u.Email}, "unverified": []string{}},
		"created": "2024-01-01T00:00:00.000Z", "lastUpdated": "2024-06-01T12:00:00.000Z",
	}
}

func (g gigyaImpl) answer(c portCall, u *pUser) gowiremock.Response {
	switch c {
	case pFind, pSearch:
		list := []any{}
		if u != nil {
			list = append(list, gigyaAccount(*u))
		}
		return jsonResponse(200, gigyaOK(map[string]any{"results": list, "objectsCount": len(list), "totalCount": len(list)}))
	case pLogin:
		return jsonResponse(200, gigyaOK(map[string]any{"UID": u.ID, "sessionInfo": map[string]any{"cookieName": "glt_" + gigyaAPIKey, "cookieValue": g.tokenFor(u.Email)}}))
	case pUpdate, pPassword, pEmail, pDelete:
		return jsonResponse(200, gigyaOK(nil))
	}
	return jsonResponse(200, gigyaOK(gigyaAccount(*u)))
}

func (g gigyaImpl) matchLogin(email, password string) *gowiremock.StubRule {
	s := g.match(pLogin, "").WithFormParameter("loginID", gowiremock.EqualTo(email))
	if password != "" {
		s = s.WithFormParameter("password", gowiremock.EqualTo(password))
	}
	return s
}

func (gigyaImpl) refuseLogin() gowiremock.Response { return gigyaError(403042, "Invalid LoginID", nil) }

// ---------------------------------------------------------------------------------------------
// SSOR and Firefly (mocks/ssor/README.md, mocks/firefly/README.md: one REST contract)

const (
	ssorToken     = "e2e-api-token"
	fireflySecret = "e2e-secret"
)

type restImpl struct{ ssor bool }

func (r restImpl) configure(t *config.Tenant) {
	if r.ssor {
		t.SSOR = config.SSOR{APIToken: ssorToken}
	} else {
		t.Firefly = config.Firefly{Secret: fireflySecret}
	}
}

func (r restImpl) idFor(email string) string {
	if r.ssor {
		return "u-" + strings.ToLower(email)
	}
	return mockGUID(email)
}

func (restImpl) tokenFor(email string) string {
	return "mock-" + base64.StdEncoding.EncodeToString([]byte(strings.ToLower(email)))
}

func (r restImpl) tokenNames() []string {
	if r.ssor {
		return []string{"ssor_access_token"}
	}
	return []string{"firefly_access_token"}
}

// mockGUID is the GUID the Firefly stubs derive from an email (mocks/firefly/README.md).
func mockGUID(email string) string {
	e := strings.ToLower(email)
	h := func(s string) string {
		var x uint32
		for _, r := range s {
			x = 31*x + uint32(r)
		}
		return fmt.Sprintf("%08x", x)
	}
	a, b := h(e), h(strings.ToUpper(e))
	c, d := h(base64.StdEncoding.EncodeToString([]byte(e))), h(base64.StdEncoding.EncodeToString([]byte(strings.ToUpper(e))))
	return a + "-" + b[:4] + "-" + b[4:] + "-" + c[:4] + "-" + c[4:] + d
}

func (restImpl) label(r journal.Request) string {
	path := pathOf(r)
	switch {
	case r.Method == "GET" && path == "/users":
		return "search"
	case r.Method == "POST" && path == "/users":
		return "create"
	case r.Method == "POST" && path == "/users/authenticate":
		return "login"
	case r.Method == "GET" && path == "/users/me":
		return "token"
	case strings.HasPrefix(path, "/users/"):
		rest := strings.TrimPrefix(path, "/users/")
		id, suffix, _ := strings.Cut(rest, "/")
		switch {
		case suffix == "" && r.Method == "GET":
			return "get " + id
		case suffix == "" && r.Method == "PATCH":
			return "update " + id
		case suffix == "" && r.Method == "DELETE":
			return "delete " + id
		case suffix == "password" && r.Method == "PUT":
			return "password " + id
		case suffix == "email" && r.Method == "PUT":
			return "email " + id
		case suffix == "password-link" && r.Method == "POST":
			return "link " + id
		}
	}
	return "? " + r.Method + " " + r.URL
}

func (restImpl) calls(c portCall, id string) []string {
	switch c {
	case pGet:
		return []string{"get " + id}
	case pFind, pSearch:
		return []string{"search"}
	case pCreate, pCreatePending:
		return []string{"create"}
	case pUpdate:
		return []string{"update " + id}
	case pDelete:
		return []string{"delete " + id}
	case pLogin:
		return []string{"login"}
	case pToken:
		return []string{"token"}
	case pPassword:
		return []string{"password " + id}
	case pEmail:
		return []string{"email " + id}
	case pLink:
		return []string{"link " + id}
	}
	panic("unknown port call " + c)
}

func (r restImpl) credentialOK(label string, req journal.Request) bool {
	if r.ssor {
		if label == "token" {
			// GET /users/me carries the user's token instead of the API token.
			return strings.HasPrefix(header(req, "Authorization"), "Bearer mock-")
		}
		return header(req, "Authorization") == "Bearer "+ssorToken
	}
	if header(req, "X-Firefly-Secret") != fireflySecret {
		return false
	}
	if label == "token" {
		return strings.HasPrefix(header(req, "Authorization"), "Bearer mock-")
	}
	return header(req, "Authorization") == ""
}

func (restImpl) fields(c portCall, calls []Call, id string) map[string]string {
	out := map[string]string{}
	var r *journal.Request
	renames := map[string]string{}
	switch c {
	case pCreate, pCreatePending:
		r = find(calls, "create")
	case pUpdate:
		r = find(calls, "update "+id)
	case pPassword:
		r = find(calls, "password "+id)
		renames = map[string]string{"newPassword": "password"}
	case pEmail:
		r = find(calls, "email "+id)
	case pLogin:
		r = find(calls, "login")
		renames = map[string]string{"email": "loginName"}
	case pLink:
		r = find(calls, "link "+id)
	case pFind, pSearch:
		r = find(calls, "search")
		if r != nil {
			for k, v := range queryOf(*r) {
				out["query."+k] = strings.Join(v, ",")
			}
		}
		return out
	}
	if r == nil {
		return out
	}
	flatten(out, jsonBody(*r), renames, "metadata")
	return out
}

func (restImpl) match(c portCall, id string) *gowiremock.StubRule {
	user := gowiremock.URLPathMatching("/users/(?!me$|authenticate$)[^/]+")
	sub := func(s string) gowiremock.URLMatcher {
		if id != "" {
			return gowiremock.URLPathEqualTo("/users/" + url.PathEscape(id) + s)
		}
		return gowiremock.URLPathMatching("/users/[^/]+" + s)
	}
	if id != "" {
		user = gowiremock.URLPathEqualTo("/users/" + url.PathEscape(id))
	}
	switch c {
	case pGet:
		return gowiremock.Get(user)
	case pFind, pSearch:
		return gowiremock.Get(gowiremock.URLPathEqualTo("/users"))
	case pCreate, pCreatePending:
		return gowiremock.Post(gowiremock.URLPathEqualTo("/users"))
	case pUpdate:
		return gowiremock.Patch(user)
	case pDelete:
		return gowiremock.Delete(user)
	case pLogin:
		return gowiremock.Post(gowiremock.URLPathEqualTo("/users/authenticate"))
	case pToken:
		return gowiremock.Get(gowiremock.URLPathEqualTo("/users/me"))
	case pPassword:
		return gowiremock.Put(sub("/password"))
	case pEmail:
		return gowiremock.Put(sub("/email"))
	case pLink:
		return gowiremock.Post(sub("/password-link"))
	}
	panic("unknown port call " + c)
}

func restUser(u pUser) map[string]any {
	md := map[string]any{}
	for k, v := range u.Metadata {
		md[k] = v
	}
	return map[string]any{
		"id": u.ID, "email": u.Email, "emailVerified": u.Verified, "firstName": u.First, "lastName": u.Last,
		"blocked": u.Blocked, "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-06-01T12:00:00Z", "metadata": md,
	}
}

func (r restImpl) answer(c portCall, u *pUser) gowiremock.Response {
	switch c {
	case pFind, pSearch:
		list := []any{}
		if u != nil {
			list = append(list, restUser(*u))
		}
		return jsonResponse(200, map[string]any{"users": list})
	case pCreate, pCreatePending:
		return jsonResponse(201, restUser(*u))
	case pLogin:
		return jsonResponse(200, map[string]any{"userId": u.ID, "accessToken": r.tokenFor(u.Email), "expiresIn": 3600})
	case pPassword, pDelete:
		return gowiremock.NewResponse().WithStatus(204)
	}
	return jsonResponse(200, restUser(*u))
}

func (r restImpl) matchLogin(email, password string) *gowiremock.StubRule {
	return withJSONLogin(r.match(pLogin, ""), "email", email, password)
}

func (restImpl) refuseLogin() gowiremock.Response {
	return jsonResponse(401, map[string]any{"error": "invalid_credentials", "message": "Wrong email or password.", "status": 401})
}
