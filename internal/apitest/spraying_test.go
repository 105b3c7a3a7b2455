package apitest_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/config"
)

// callerToken is an API token for subject: a client of the API (a partner, the newspaper's site).
func callerToken(t *testing.T, env *apitest.Env, subject string) client.RequestEditorFn {
	t.Helper()
	tok, err := auth.MintHS256([]byte(env.Config.Auth.HS256Secrets[0]), auth.MintOptions{Subject: subject, ClientCodes: []string{"*"}, Lifetime: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return apitest.Header("Authorization", "Bearer "+tok)
}

func sprayLimits(perCaller, perTenant int) config.Limits {
	l := config.Default().Limits
	l.LoginFailuresPerCaller = config.Limit{Attempts: perCaller, Window: 15 * time.Minute}
	l.LoginFailuresPerTenant = config.Limit{Attempts: perTenant, Window: 15 * time.Minute}
	return l
}

// One caller trying one password against many names is stopped after its budget of failures,
// without stopping other callers; a caller cannot lock a user out of the logins other callers
// make; the tenant's budget slows failures down with growing delays instead of refusing anyone
// (issue 9, finding 9).
func TestPasswordSpraying(t *testing.T) {
	login := func(env *apitest.Env, as client.RequestEditorFn, name, pw string) (int, string) {
		status, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"`+name+`","password":"`+pw+`"}`, as)
		return status, string(got.Message.Code)
	}
	t.Run("one caller, many names", func(t *testing.T) {
		env := apitest.Start(t, apitest.WithLimits(sprayLimits(3, 1000)))
		env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
		rogue, site := callerToken(t, env, "rogue-partner"), callerToken(t, env, "daily-site")
		// Three failures are the budget; the fourth is beyond it and stops the caller.
		for _, name := range []string{"jane@example.com", "john@example.com", "ann@example.com", "bob@example.com"} {
			if status, code := login(env, rogue, name, "Spring2026!"); code != "UsersOrchestrator_E400_10" {
				t.Fatalf("spray on %s: %d %s", name, status, code)
			}
		}
		// The budget is spent: this caller is stopped, whatever the name or password.
		if status, code := login(env, rogue, "zoe@example.com", "Spring2026!"); status != 429 || code != "UsersOrchestrator_E429" {
			t.Fatalf("the attempt after the budget: %d %s, want 429", status, code)
		}
		if status, code := login(env, rogue, "jane@example.com", "correct-horse"); status != 429 {
			t.Fatalf("a stopped caller logged in: %d %s", status, code)
		}
		if status, code := login(env, site, "jane@example.com", "correct-horse"); status != 200 {
			t.Fatalf("another caller was stopped too: %d %s", status, code)
		}
		env.Clock.Advance(15 * time.Minute)
		if status, code := login(env, rogue, "jane@example.com", "correct-horse"); status != 200 {
			t.Fatalf("the caller after its budget refilled: %d %s", status, code)
		}
	})
	t.Run("no lockout of the victim through another caller", func(t *testing.T) {
		env := apitest.Start(t, apitest.WithLimits(sprayLimits(1000, 1000)))
		env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
		rogue, site := callerToken(t, env, "rogue-partner"), callerToken(t, env, "daily-site")
		for range 5 {
			login(env, rogue, "jane@example.com", "guess")
		}
		if status, _ := login(env, rogue, "jane@example.com", "guess"); status != 429 {
			t.Fatalf("the per-name limit no longer holds for the attacker: %d", status)
		}
		if status, code := login(env, site, "jane@example.com", "correct-horse"); status != 200 {
			t.Fatalf("the attacker locked jane out of the site's logins: %d %s", status, code)
		}
	})
	t.Run("the tenant's budget: growing delays, no refusal", func(t *testing.T) {
		env := apitest.Start(t, apitest.WithLimits(sprayLimits(1000, 4)))
		env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
		for i, caller := range []string{"a", "b", "c", "d", "e", "f", "g"} {
			if status, code := login(env, callerToken(t, env, caller), "nobody@example.com", "guess"); code != "UsersOrchestrator_E400_10" {
				t.Fatalf("failure %d: %d %s", i+1, status, code)
			}
		}
		want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}
		if got := env.Sleeps(); !slices.Equal(got, want) {
			t.Fatalf("delays %v, want %v (none within the budget, then growing)", got, want)
		}
		if status, code := login(env, callerToken(t, env, "h"), "jane@example.com", "correct-horse"); status != 200 {
			t.Fatalf("a right password under strain: %d %s", status, code)
		}
		if got := len(env.Sleeps()); got != 3 {
			t.Fatalf("a successful login was delayed (%d delays)", got)
		}
	})
}
