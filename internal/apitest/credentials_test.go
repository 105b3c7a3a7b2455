package apitest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
)

// startReset starts a forgot-password flow and returns its encryptedEventId.
func startReset(t *testing.T, env *apitest.Env, login string) string {
	t.Helper()
	status, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"`+login+`"}`)
	var started struct {
		EncryptedEventID string `json:"encryptedEventId"`
	}
	if err := json.Unmarshal(got.Data, &started); status != 200 || err != nil || started.EncryptedEventID == "" {
		t.Fatalf("start forgot password: %d %s", status, got.Raw)
	}
	return started.EncryptedEventID
}

func mustCode(t *testing.T, what string, want string, status int, got apitest.Envelope) {
	t.Helper()
	if got.Message.Code != want {
		t.Fatalf("%s: %d %s, want %s", what, status, got.Raw, want)
	}
}

// A password change, however it is made, ends every session issued before it: Get By Token and
// Authenticate By Token refuse them, and the session of a login after the change works
// (issue 9, finding 4).
func TestPasswordChangeEndsOlderSessions(t *testing.T) {
	changes := []struct {
		name   string
		change func(t *testing.T, env *apitest.Env, crid string)
	}{
		{"update password", func(t *testing.T, env *apitest.Env, crid string) {
			status, got, _ := env.Do(http.MethodPatch, "/v4/Users/"+crid+"/Password", `{"password":"n3w-and-l0nger"}`)
			mustCode(t, "update password", "UsersOrchestrator_S200_11", status, got)
		}},
		{"forgot password finished", func(t *testing.T, env *apitest.Env, crid string) {
			link := startReset(t, env, "jane@example.com")
			status, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+link+`","password":"n3w-and-l0nger"}`)
			mustCode(t, "finish", "UsersOrchestrator_S200_10", status, got)
		}},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			env := apitest.Start(t)
			ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
			old := authenticate(t, env, "jane@example.com", "correct-horse").CookieTokens[0].Content
			status, got, _ := env.Do(http.MethodGet, "/v4/Users?token="+old, "")
			mustCode(t, "the session before the change", "UsersOrchestrator_S200_01", status, got)

			env.Clock.Advance(time.Second)
			tc.change(t, env, ref.CustomerRegistrationId)

			status, got, _ = env.Do(http.MethodGet, "/v4/Users?token="+old, "")
			mustCode(t, "get by an older session", "UsersOrchestrator_E400_13", status, got)
			status, got, _ = env.Do(http.MethodPost, "/v4/Users/Authentication", `{"token":"`+old+`"}`)
			mustCode(t, "authenticate by an older session", "UsersOrchestrator_E400_13", status, got)
			// A login right after the change, on the same clock tick, keeps its session.
			fresh := authenticate(t, env, "jane@example.com", "n3w-and-l0nger").CookieTokens[0].Content
			status, got, _ = env.Do(http.MethodGet, "/v4/Users?token="+fresh, "")
			mustCode(t, "get by the new session", "UsersOrchestrator_S200_01", status, got)
		})
	}
}

// A finished reset, a password change and an email change end every forgot-password link still
// out, and the passwordless welcome link (issue 9, finding 5).
func TestCredentialChangesEndOutstandingLinks(t *testing.T) {
	validity := func(env *apitest.Env, link string) apitest.Envelope {
		_, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Validity", `{"encryptedEventId":"`+link+`"}`)
		return got
	}
	finish := func(env *apitest.Env, link, pw string) apitest.Envelope {
		_, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+link+`","password":"`+pw+`"}`)
		return got
	}
	t.Run("the newer of two links finished", func(t *testing.T) {
		env := apitest.Start(t)
		env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
		older := startReset(t, env, "jane@example.com")
		newer := startReset(t, env, "jane@example.com")
		mustCode(t, "finish the newer", "UsersOrchestrator_S200_10", 0, finish(env, newer, "n3w-and-l0nger"))
		mustCode(t, "validity of the older", "UsersOrchestrator_E400_13", 0, validity(env, older))
		mustCode(t, "finish the older", "UsersOrchestrator_E400_13", 0, finish(env, older, "attacker-chosen-1"))
		authenticate(t, env, "jane@example.com", "n3w-and-l0nger")
	})
	for _, change := range []struct {
		name, path, body, code string
		login, password        string // what logs in afterwards
	}{
		{"update password", "/Password", `{"password":"n3w-and-l0nger"}`, "UsersOrchestrator_S200_11", "jane@example.com", "n3w-and-l0nger"},
		{"email change", "/Email", `{"email":"jane.new@example.com"}`, "UsersOrchestrator_S200_12", "jane.new@example.com", "correct-horse"},
	} {
		t.Run(change.name, func(t *testing.T) {
			env := apitest.Start(t)
			ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
			link := startReset(t, env, "jane@example.com")
			status, got, _ := env.Do(http.MethodPatch, "/v4/Users/"+ref.CustomerRegistrationId+change.path, change.body)
			mustCode(t, change.name, change.code, status, got)
			mustCode(t, "validity after the change", "UsersOrchestrator_E400_13", 0, validity(env, link))
			mustCode(t, "finish after the change", "UsersOrchestrator_E400_13", 0, finish(env, link, "attacker-chosen-1"))
			authenticate(t, env, change.login, change.password)
		})
	}
	t.Run("the welcome link after a reset", func(t *testing.T) {
		env := apitest.Start(t)
		env.CreateUser(client.CreateUserRequest{Email: "ann@example.com", FirstName: apitest.Ptr("Ann")})
		welcome, ok := apitest.LinkParam(env.MailWithSubject("ann@example.com", "welcome"), "encryptedEventId")
		if !ok {
			t.Fatal("no welcome link")
		}
		mustCode(t, "finish a reset", "UsersOrchestrator_S200_10", 0, finish(env, startReset(t, env, "ann@example.com"), "ch0sen-passw0rd"))
		mustCode(t, "the welcome link after it", "UsersOrchestrator_E400_13", 0, finish(env, welcome, "attacker-chosen-1"))
		authenticate(t, env, "ann@example.com", "ch0sen-passw0rd")
	})
}
