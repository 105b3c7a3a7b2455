package apitest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/tenant"
)

// TestNamesBindAsASPNETDoes: a consumer written against the published tables (PascalCase body
// fields and query parameters) is served as one using the contract's spelling, end to end.
func TestNamesBindAsASPNETDoes(t *testing.T) {
	env := apitest.Start(t)
	status, got, _ := env.Do("POST", "/v4/Users", `{"Email":"pascal@example.com","Password":"correct-horse","FirstName":"Pat","IgnoreProvider":true,"Metadata":{"phoneNumber":"5551234567"}}`)
	if status != http.StatusOK || got.Message.Code != "UsersOrchestrator_S200_06" {
		t.Fatalf("create: %d %s", status, got.Raw)
	}
	var ref struct{ CustomerRegistrationId string }
	_ = json.Unmarshal(got.Data, &ref)
	u := env.GetUser(ref.CustomerRegistrationId)
	if u.Email != "pascal@example.com" || u.FirstName.MustGet() != "Pat" || u.Metadata["phoneNumber"] != "5551234567" {
		t.Errorf("stored user %+v", u)
	}
	status, got, _ = env.Do("GET", "/v4/Users?Email=pascal@example.com&IgnoreProvider=true", "")
	if status != http.StatusOK || len(userIDs(t, got.Data)) != 1 || userIDs(t, got.Data)[0] != ref.CustomerRegistrationId {
		t.Errorf("get by Email: %d %s", status, got.Raw)
	}
	if status, got, _ = env.Do("PATCH", "/v4/Users/"+ref.CustomerRegistrationId+"/Password", `{"Password":"new-correct-horse"}`); status != http.StatusOK {
		t.Fatalf("update password: %d %s", status, got.Raw)
	}
	status, got, _ = env.Do("POST", "/v4/Users/Authentication", `{"LoginName":"pascal@example.com","Password":"new-correct-horse"}`)
	if status != http.StatusOK || got.Message.Code != "Subscribe_S200_01" {
		t.Errorf("authenticate: %d %s", status, got.Raw)
	}
	// Metadata keys are data: never folded, so the key rule still applies to them.
	status, got, _ = env.Do("PUT", "/v4/Users/"+ref.CustomerRegistrationId, `{"Metadata":{"PhoneNumber":"1"}}`)
	if status != http.StatusBadRequest || got.Message.Code != "UsersOrchestrator_E400_09" {
		t.Errorf("metadata key folded? %d %s", status, got.Raw)
	}
}

// TestStrictJSON: trailing data, a name given twice (in one spelling or two) and invalid UTF-8
// are refused with E400_00 naming the problem, and nothing is created.
func TestStrictJSON(t *testing.T) {
	env := apitest.Start(t)
	tests := []struct{ name, body, text string }{
		{"trailing data", `{"email":"strict@example.com"} {"email":"other@example.com"}`, "Invalid InputModel - body: has data after the JSON value"},
		{"duplicate key", `{"email":"other@example.com","email":"strict@example.com"}`, "Invalid InputModel - body.email: is given twice"},
		{"duplicate metadata key", `{"email":"strict@example.com","metadata":{"city":"A","city":"B"}}`, "Invalid InputModel - body.metadata.city: is given twice"},
		{"two spellings", `{"email":"other@example.com","Email":"strict@example.com"}`, "Invalid InputModel - body.email: is given twice, as Email and email"},
		{"invalid UTF-8", "{\"email\":\"strict@example.com\",\"firstName\":\"J\xe9r\xf4me\"}", "Invalid InputModel - body: is not valid UTF-8"},
		{"lone surrogate escape", `{"email":"strict@example.com","firstName":"J\udc00"}`, `Invalid InputModel - body: has a \u escape of half a surrogate pair, which is no character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got, _ := env.Do("POST", "/v4/Users", tt.body)
			if status != http.StatusBadRequest || got.Message.Code != "UsersOrchestrator_E400_00" || got.Message.Text != tt.text {
				t.Errorf("got %d %s, want 400 E400_00 %q", status, got.Raw, tt.text)
			}
		})
	}
	for _, email := range []string{"strict@example.com", "other@example.com"} {
		status, got, _ := env.Do("GET", "/v4/Users?email="+email, "")
		if ids := userIDs(t, got.Data); status != http.StatusOK || len(ids) != 0 {
			t.Errorf("%s was created: %d %s", email, status, got.Raw)
		}
	}
}

// TestPasswordPolicyIsTheTenants: the length of a new password is the tenant's policy, checked by
// the workflows (create, update password, finish forgot password) and answered with E400 as a
// provider's policy refusal is; a refused password changes nothing.
func TestPasswordPolicyIsTheTenants(t *testing.T) {
	lenient := config.Default().Tenants[0]
	lenient.ClientCode, lenient.PaperCode, lenient.ClientGroupCode = "lenient", "lenient", "lenient"
	lenient.PasswordPolicy = &config.PasswordPolicy{MinLength: 4, MaxLength: 10}
	env := apitest.Start(t, apitest.WithTenants(config.Default().Tenants[0], lenient))
	asLenient := env.As(tenant.Key{ClientCode: "lenient", PaperCode: "lenient", ClientGroupCode: "lenient"})

	// The default tenant: 8 to 128 characters.
	for _, body := range []string{`{"email":"short@example.com","password":"string"}`,
		`{"email":"short@example.com","password":"` + strings.Repeat("p", 129) + `"}`} {
		if status, got, _ := env.Do("POST", "/v4/Users", body); status != 400 || got.Message.Code != "UsersOrchestrator_E400" || got.Message.Text != "Bad Request" {
			t.Errorf("create %s: %d %s", body, status, got.Raw)
		}
	}
	if _, got, _ := env.Do("GET", "/v4/Users?email=short@example.com", ""); len(userIDs(t, got.Data)) != 0 {
		t.Errorf("a refused create left a user: %s", got.Raw)
	}
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	if status, got, _ := env.Do("PATCH", "/v4/Users/"+ref.CustomerRegistrationId+"/Password", `{"password":"string"}`); status != 400 || got.Message.Code != "UsersOrchestrator_E400" {
		t.Errorf("update password: %d %s", status, got.Raw)
	}
	authenticate(t, env, "jane@example.com", "correct-horse") // unchanged
	status, got, _ := env.Do("POST", "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com"}`)
	if status != 200 {
		t.Fatalf("forgot password: %d %s", status, got.Raw)
	}
	var start struct{ EncryptedEventId string }
	_ = json.Unmarshal(got.Data, &start)
	if status, got, _ := env.Do("POST", "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+start.EncryptedEventId+`","password":"string"}`); status != 400 || got.Message.Code != "UsersOrchestrator_E400" {
		t.Errorf("finish with a short password: %d %s", status, got.Raw)
	}
	if status, got, _ := env.Do("POST", "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+start.EncryptedEventId+`","password":"long-enough-1"}`); status != 200 {
		t.Errorf("the link was used up by a refused password: %d %s", status, got.Raw)
	}

	// A tenant with its own policy: 4 to 10 characters.
	if status, got, _ := env.Do("POST", "/v4/Users", `{"email":"lenient@example.com","password":"string"}`, asLenient); status != 200 {
		t.Errorf("create within the tenant's policy: %d %s", status, got.Raw)
	}
	if status, got, _ := env.Do("POST", "/v4/Users", `{"email":"strict@example.com","password":"correct-horse"}`, asLenient); status != 400 || got.Message.Code != "UsersOrchestrator_E400" {
		t.Errorf("create over the tenant's maximum: %d %s", status, got.Raw)
	}
}
