package apitest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/config"
)

func TestAuthorization(t *testing.T) {
	demo := config.Default().Tenants[0]
	other := demo
	other.ClientCode = "other"
	env := apitest.Start(t, apitest.WithTenants(demo, other))
	expired, err := auth.MintHS256([]byte(env.Config.Auth.HS256Secrets[0]), auth.MintOptions{Subject: "x", ClientCodes: []string{"*"}, Lifetime: time.Minute}, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := auth.MintHS256([]byte(strings.Repeat("k", 40)), auth.MintOptions{Subject: "x", ClientCodes: []string{"*"}, Lifetime: time.Hour}, time.Now())
	// Tokens the mint refuses to make: no clientCodes claim, and an empty one.
	sign := func(claims jwt.MapClaims) string {
		claims["sub"], claims["iat"], claims["exp"] = "x", time.Now().Unix(), time.Now().Add(time.Hour).Unix()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(env.Config.Auth.HS256Secrets[0]))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	noClaim, emptyClaim, nullClaim := sign(jwt.MapClaims{}), sign(jwt.MapClaims{"clientCodes": []string{}}), sign(jwt.MapClaims{"clientCodes": nil})
	tests := []struct {
		name    string
		editors []client.RequestEditorFn
		status  int
		code    string
	}{
		{"no token", []client.RequestEditorFn{apitest.Header("Authorization", "")}, 401, "UsersOrchestrator_E401"},
		{"garbage", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer nonsense")}, 401, "UsersOrchestrator_E401"},
		{"expired", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+expired)}, 401, "UsersOrchestrator_E401"},
		{"signed with another key", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+otherKey)}, 401, "UsersOrchestrator_E401"},
		{"bare token without Bearer", []client.RequestEditorFn{apitest.Header("Authorization", env.Token)}, 200, "UsersOrchestrator_S200_01"},
		{"token limited to another client", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+env.MintToken([]string{"other"}))}, 403, "UsersOrchestrator_E403"},
		{"token without a clientCodes claim acts for no tenant", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+noClaim)}, 403, "UsersOrchestrator_E403"},
		{"token with an empty clientCodes claim", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+emptyClaim)}, 403, "UsersOrchestrator_E403"},
		{"token with a null clientCodes claim", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+nullClaim)}, 403, "UsersOrchestrator_E403"},
		{"token for every tenant", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+env.MintToken([]string{"*"}))}, 200, "UsersOrchestrator_S200_01"},
		{"token limited to this client", []client.RequestEditorFn{apitest.Header("Authorization", "Bearer "+env.MintToken([]string{"demo"}))}, 200, "UsersOrchestrator_S200_01"},
		{"unknown tenant", []client.RequestEditorFn{apitest.Header("X-PaperCode", "nope")}, 400, "UsersOrchestrator_E400_00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got, _ := env.Do(http.MethodGet, "/v4/Users?email=jane@example.com", "", tt.editors...)
			if status != tt.status || got.Message.Code != tt.code {
				t.Errorf("got %d %s, want %d %s", status, got.Raw, tt.status, tt.code)
			}
		})
	}
	_, got, _ := env.Do(http.MethodGet, "/v4/Users", "", apitest.Header("X-PaperCode", "nope"))
	if got.Message.Text != "Invalid InputModel - header X-ClientCode, X-PaperCode, X-ClientGroupCode: do not name a known tenant" {
		t.Errorf("unknown tenant text %q", got.Message.Text)
	}
}

// Nothing secret reaches a log line or an answer: passwords, verification codes, reset links,
// session tokens, the API's JWT.
func TestNoSecretsInLogsOrAnswers(t *testing.T) {
	env := apitest.Start(t)
	const pw = "Sup3r-secret-passw0rd"
	env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr(pw), VerifyEmail: apitest.Ptr(true)})
	code := codeIn(t, env.MailWithSubject("jane@example.com", "verif"))
	var answers []string
	record := func(_ int, got apitest.Envelope, _ http.Header) { answers = append(answers, string(got.Raw)) }
	record(env.Do(http.MethodPost, "/v4/Users/Verification", `{"email":"jane@example.com","verificationCode":"`+code+`"}`))
	record(env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"`+pw+`"}`))
	record(env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"wrong-`+pw+`"}`))
	record(env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com"}`))
	link, _ := apitest.LinkParam(env.MailWithSubject("jane@example.com", "password"), "encryptedEventId")
	session := authenticate(t, env, "jane@example.com", pw).CookieTokens[0].Content
	record(env.Do(http.MethodGet, "/v4/Users?token="+session, ""))
	record(env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+link+`","password":"x"}`))
	record(env.Do(http.MethodPatch, "/v4/Users/nobody/Password", `{"password":"`+pw+`"}`))
	time.Sleep(200 * time.Millisecond) // let the access log lines of the last requests land

	logs := env.Logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no access log captured: %q", logs)
	}
	for name, secret := range map[string]string{"password": pw, "verification code": code, "reset link": link, "session token": session, "API token": env.Token} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold the %s", name)
		}
		for _, a := range answers {
			if name != "reset link" && name != "session token" && strings.Contains(a, secret) {
				t.Errorf("an answer holds the %s: %s", name, a)
			}
		}
	}
	if strings.Contains(logs, "?token=") || strings.Contains(logs, "jane@example.com&") {
		t.Errorf("the access log holds a query string")
	}
}

func TestOperationsEndpoints(t *testing.T) {
	env := apitest.Start(t)
	get := func(path string) (int, string, string) {
		resp, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if s, _, b := get("/healthz"); s != 200 || !strings.Contains(b, "ok") {
		t.Errorf("/healthz %d %s", s, b)
	}
	if s, _, b := get("/readyz"); s != 200 || !strings.Contains(b, "ready") {
		t.Errorf("/readyz %d %s", s, b)
	}
	if s, ct, b := get("/openapi.yaml"); s != 200 || !strings.Contains(ct, "yaml") || !strings.HasPrefix(b, "openapi: 3.0.3") {
		t.Errorf("/openapi.yaml %d %s", s, ct)
	}
	if s, _, b := get("/docs/"); s != 200 || !strings.Contains(b, "swagger") || !strings.Contains(b, "/openapi.yaml") {
		t.Errorf("/docs/ %d", s)
	}
	status, got, header := env.Do(http.MethodGet, "/v4/Customers", "")
	if status != 404 || got.Message.Code != "UsersOrchestrator_E404" || header.Get("X-Request-Id") == "" || got.Meta["requestId"] != header.Get("X-Request-Id") {
		t.Errorf("unknown path: %d %s", status, got.Raw)
	}
	if status, got, _ := env.Do(http.MethodDelete, "/v4/Users/abc", ""); status != 404 || got.Message.Code != "UsersOrchestrator_E404" {
		t.Errorf("unknown method: %d %s", status, got.Raw)
	}
	// A caller's request id is kept.
	_, _, header = env.Do(http.MethodGet, "/v4/Users/abc", "", apitest.Header("X-Request-Id", "trace-123"))
	if header.Get("X-Request-Id") != "trace-123" {
		t.Errorf("request id %q", header.Get("X-Request-Id"))
	}
}

func TestEventsList(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")}, apitest.Header("X-SourceSystem", "Web"))
	env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"wrong-horse"}`, apitest.Header("X-SourceSystem", "MobileApp"))
	status, got, _ := env.Do(http.MethodGet, "/v4/Users/"+ref.CustomerRegistrationId+"/Events?pageSize=2", "")
	var data struct {
		Events []struct {
			Code    string `json:"eventTypeCode"`
			ID      int    `json:"eventTypeId"`
			Source  string `json:"sourceSystem"`
			Outcome string `json:"outcome"`
		} `json:"events"`
	}
	if err := json.Unmarshal(got.Data, &data); err != nil || status != 200 {
		t.Fatalf("%d %s", status, got.Raw)
	}
	// Newest first: the page holds the failed login and its read of the registration (the read
	// starts inside the login, so their order between themselves is by start time), not the create.
	if len(data.Events) != 2 {
		t.Fatalf("events %+v", data.Events)
	}
	byCode := map[string]int{}
	for i, e := range data.Events {
		byCode[e.Code] = i
		if e.Source != "MobileApp" {
			t.Errorf("event %+v: source", e)
		}
	}
	login, ok := byCode["SUBSCRIBE_USER_LOGIN"]
	if _, read := byCode["SUBSCRIBE_USER_GETBYID"]; !ok || !read || data.Events[login].ID != 4006 || data.Events[login].Outcome != "Failure" {
		t.Errorf("events %+v", data.Events)
	}
	if got.Meta["totalCount"] != float64(3) || got.Meta["pageSize"] != float64(2) {
		t.Errorf("meta %v", got.Meta)
	}
	all := env.Events(ref.CustomerRegistrationId)
	if last := all[len(all)-1]; last.EventTypeCode != "SUBSCRIBE_USER_CREATE" || last.SourceSystem != "Web" || last.Outcome != "Success" {
		t.Errorf("oldest event %+v", last)
	}
	if status, got, _ := env.Do(http.MethodGet, "/v4/Users/nobody/Events", ""); status != 404 {
		t.Errorf("events of a missing user: %d %s", status, got.Raw)
	}
}

// A deployment configured by environment variables alone (a JWKS or a public key, an issuer, an
// audience) must not also accept tokens signed with the development secret that is in this
// repository (issue 9, finding 1).
func TestConfiguredKeysReplaceTheDevelopmentSecret(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	loaded, err := config.Load("", func(k string) string {
		return map[string]string{
			"UO_ENCRYPTION_KEY": "cHJvZHVjdGlvbi1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDA=", "UO_SESSION_KEY": "cHJvZHVjdGlvbi1zZXNzaW9uLWtleS0wMDAwMDAwMDAwMA==",
			"UO_AUTH_PUBLIC_KEY_PEM": pub, "UO_AUTH_ISSUER": "https://idp.example/", "UO_AUTH_AUDIENCE": "usersorchestrator",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	env := apitest.Start(t, apitest.WithAuth(loaded.Auth))
	claims := func(aud string) jwt.MapClaims {
		return jwt.MapClaims{"sub": "partner", "iss": "https://idp.example/", "aud": aud, "clientCodes": []string{"demo"},
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	}
	devToken, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("usersorchestrator")).SignedString([]byte(config.DevJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(aud string) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(aud)).SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const create = `{"email":"jane@example.com","password":"correct-horse-battery"}`
	for _, tt := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"the development secret", devToken, 401, "UsersOrchestrator_E401"},
		{"the configured key, another audience", sign("another-api"), 401, "UsersOrchestrator_E401"},
		{"the configured key", sign("usersorchestrator"), 200, "UsersOrchestrator_S200_06"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, got, _ := env.Do(http.MethodPost, "/v4/Users", create, apitest.Header("Authorization", "Bearer "+tt.token))
			if status != tt.status || got.Message.Code != tt.code {
				t.Fatalf("got %d %s, want %d %s", status, got.Raw, tt.status, tt.code)
			}
		})
	}
}
