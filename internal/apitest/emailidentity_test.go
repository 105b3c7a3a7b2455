package apitest_test

import (
	"net/http"
	"strings"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
)

// One mailbox is one account, whatever its spelling; look-alikes are refused; the limits count
// one mailbox once (issue 9, finding 8).
func TestEmailIdentity(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "Jane@Bücher.example", Password: apitest.Ptr("correct-horse")})
	if u := env.GetUser(ref.CustomerRegistrationId); u.Email != "Jane@xn--bcher-kva.example" {
		t.Fatalf("stored email %q, want the domain's A-label", u.Email)
	}
	env.CreateUser(client.CreateUserRequest{Email: "kate@example.com", Password: apitest.Ptr("correct-horse")})

	t.Run("refused spellings", func(t *testing.T) {
		for _, tc := range []struct{ name, email, text string }{
			{"the A-label of an existing U-label", "jane@xn--bcher-kva.example", ""},
			{"the fullwidth domain of an existing one", "kate@ｅｘａｍｐｌｅ.com", ""},
			{"a zero-width space", "ka\u200Bte@example.com", "Invalid InputModel - body.email: must not contain invisible formatting or space characters"},
			{"a right-to-left mark", "kate@example.com\u200F", "Invalid InputModel - body.email: must not contain invisible formatting or space characters"},
			{"fullwidth letters in the local part", "ｋａｔｅ@example.com", "Invalid InputModel - body.email: must have an ASCII local part (the part before @)"},
			{"the Kelvin sign", "\u212Aate@example.com", "Invalid InputModel - body.email: must have an ASCII local part (the part before @)"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, got, _ := env.Do(http.MethodPost, "/v4/Users", `{"email":"`+tc.email+`","password":"correct-horse"}`)
				if tc.text == "" {
					if status != 400 || got.Message.Code != "UsersOrchestrator_E400_08" {
						t.Fatalf("a second spelling of an existing mailbox: %d %s, want E400_08", status, got.Raw)
					}
					return
				}
				if status != 400 || got.Message.Code != "UsersOrchestrator_E400_00" || got.Message.Text != tc.text {
					t.Fatalf("got %d %s, want E400_00 %q", status, got.Raw, tc.text)
				}
			})
		}
	})
	t.Run("lookups by any spelling", func(t *testing.T) {
		for _, q := range []string{"jane@xn--bcher-kva.example", "JANE@BÜCHER.EXAMPLE"} {
			_, got, _ := env.Do(http.MethodGet, "/v4/Users?email="+q, "")
			if !strings.Contains(string(got.Raw), ref.CustomerRegistrationId) {
				t.Errorf("get by %q: %s", q, got.Raw)
			}
		}
		authenticate(t, env, "jane@bücher.example", "correct-horse")
	})
	t.Run("a Kelvin-sign login name is not kate", func(t *testing.T) {
		_, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"\u212Aate@example.com","password":"correct-horse"}`)
		if got.Message.Code != "UsersOrchestrator_E400_10" {
			t.Fatalf("logged in with a look-alike login name: %s", got.Raw)
		}
	})
	t.Run("one budget of attempts per mailbox", func(t *testing.T) {
		spellings := []string{"jane@bücher.example", "Jane@xn--bcher-kva.example", "JANE@BÜCHER.EXAMPLE", "jane@bücher.example", "jane@xn--bcher-kva.example"}
		for _, s := range spellings {
			if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"`+s+`","password":"wrong-password"}`); got.Message.Code != "UsersOrchestrator_E400_10" {
				t.Fatalf("attempt with %q: %s", s, got.Raw)
			}
		}
		if status, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jAnE@XN--BCHER-KVA.example","password":"wrong-password"}`); status != 429 {
			t.Fatalf("the sixth attempt in another spelling: %d %s, want 429", status, got.Raw)
		}
	})
}
