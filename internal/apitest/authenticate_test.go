package apitest_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
)

func TestAuthenticate(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse"), FirstName: apitest.Ptr("Jane")})
	env.CreateUser(client.CreateUserRequest{Email: "lite@example.com"})
	env.CreateUser(client.CreateUserRequest{Email: "pending@example.com", Password: apitest.Ptr("correct-horse"), VerifyEmail: apitest.Ptr(true)})

	res := authenticate(t, env, "Jane@Example.com", "correct-horse")
	if res.User.CustomerRegistrationId != ref.CustomerRegistrationId || res.User.FirstName.MustGet() != "Jane" {
		t.Errorf("user %+v", res.User)
	}
	if len(res.CookieTokens) != 1 || res.CookieTokens[0].Name != "uo_session" || res.CookieTokens[0].DurationDays != "30" || res.CookieTokens[0].Content == "" {
		t.Fatalf("cookie tokens %+v", res.CookieTokens)
	}
	session := res.CookieTokens[0].Content

	tests := []struct {
		name string
		body string
		code string
		text string
	}{
		{"by token", `{"token":"` + session + `"}`, "Subscribe_S200_01", "Request processed successfully."},
		{"wrong password", `{"loginName":"jane@example.com","password":"wrong-horse"}`, "UsersOrchestrator_E400_10", "Invalid login name or password."},
		{"unknown login name", `{"loginName":"nobody@example.com","password":"whatever1"}`, "UsersOrchestrator_E400_10", "Invalid login name or password."},
		{"unverified", `{"loginName":"pending@example.com","password":"correct-horse"}`, "UsersOrchestrator_E400_11", "The user is not verified."},
		{"lite", `{"loginName":"lite@example.com","password":"anything1"}`, "UsersOrchestrator_E400_12", "The user has no password."},
		{"token invalid", `{"token":"` + tamper(session) + `"}`, "UsersOrchestrator_E400_13", "The token is invalid or expired."},
		{"neither", `{}`, "UsersOrchestrator_E400_00", "Invalid InputModel - body: send a token, or loginName and password"},
		{"login name without password", `{"loginName":"jane@example.com"}`, "UsersOrchestrator_E400_00", "Invalid InputModel - body.password: is required with loginName"},
		// All three, as the published example: the token takes precedence, the password is ignored.
		{"all three, good token", `{"loginName":"jane@example.com","password":"wrong-horse","token":"` + session + `"}`, "Subscribe_S200_01", "Request processed successfully."},
		{"empty token, as a form sends it", `{"loginName":"jane@example.com","password":"correct-horse","token":""}`, "Subscribe_S200_01", "Request processed successfully."},
		{"all three, bad token", `{"loginName":"jane@example.com","password":"correct-horse","token":"` + tamper(session) + `"}`, "UsersOrchestrator_E400_13", "The token is invalid or expired."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", tt.body)
			if got.Message.Code != tt.code || got.Message.Text != tt.text {
				t.Errorf("got %s %q, want %s %q", got.Message.Code, got.Message.Text, tt.code, tt.text)
			}
			if strings.Contains(string(got.Raw), "correct-horse") || strings.Contains(string(got.Raw), "argon2") {
				t.Errorf("the answer holds a password or its hash: %s", got.Raw)
			}
		})
	}
	codes := env.EventCodes(ref.CustomerRegistrationId)
	if !contains(codes, "SUBSCRIBE_USER_LOGIN 4006 Success") || !contains(codes, "SUBSCRIBE_USER_LOGIN 4006 Failure") {
		t.Errorf("login events %v", codes)
	}

	// A logout ends the sessions issued before it.
	env.Clock.Advance(2 * time.Second)
	if status, got, _ := env.Do(http.MethodPut, "/v4/Users/"+ref.CustomerRegistrationId, `{"lastLogoutDate":"`+env.Clock.Now().UTC().Format(time.RFC3339)+`"}`); status != 200 {
		t.Fatalf("logout: %d %s", status, got.Raw)
	}
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"token":"`+session+`"}`); got.Message.Code != "UsersOrchestrator_E400_13" {
		t.Errorf("a session from before the logout still works: %s", got.Raw)
	}
	env.Clock.Advance(2 * time.Second)
	fresh := authenticate(t, env, "jane@example.com", "correct-horse").CookieTokens[0].Content
	if _, got, _ := env.Do(http.MethodGet, "/v4/Users?token="+fresh, ""); got.Message.Code != "UsersOrchestrator_S200_01" || !strings.Contains(string(got.Data), ref.CustomerRegistrationId) {
		t.Errorf("get by a fresh session token: %s", got.Raw)
	}
	// ... and a session expires after the tenant's sessionDays.
	env.Clock.Advance(31 * 24 * time.Hour)
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"token":"`+fresh+`"}`); got.Message.Code != "UsersOrchestrator_E400_13" {
		t.Errorf("an expired session still works: %s", got.Raw)
	}
}

func TestAuthenticateRateLimit(t *testing.T) {
	env := apitest.Start(t)
	env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	attempts := env.Config.Limits.Login.Attempts
	for i := range attempts {
		if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"wrong-horse"}`); got.Message.Code != "UsersOrchestrator_E400_10" {
			t.Fatalf("attempt %d: %s", i+1, got.Raw)
		}
	}
	status, got, header := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"JANE@example.com","password":"correct-horse"}`)
	if status != 429 || got.Message.Code != "UsersOrchestrator_E429" || got.Message.Text != "Too Many Requests" {
		t.Fatalf("after %d failures: %d %s", attempts, status, got.Raw)
	}
	retry, err := strconv.Atoi(header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > int(env.Config.Limits.Login.Window.Seconds()) {
		t.Errorf("Retry-After %q", header.Get("Retry-After"))
	}
	// Another login name is not affected.
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"other@example.com","password":"wrong-horse"}`); got.Message.Code != "UsersOrchestrator_E400_10" {
		t.Errorf("another login name: %s", got.Raw)
	}
	// After the window the right password works, and a success clears the failures.
	env.Clock.Advance(env.Config.Limits.Login.Window)
	authenticate(t, env, "jane@example.com", "correct-horse")
	for range attempts - 1 {
		env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"wrong-horse"}`)
	}
	authenticate(t, env, "jane@example.com", "correct-horse")
}
