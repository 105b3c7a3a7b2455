package apitest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/tenant"
)

// TestCreateRefusesAnyUnverifiedRegistration: the migration overview's rule is Verified=false,
// not only a registration pending its verification email (E400_07, not E400_08).
func TestCreateRefusesAnyUnverifiedRegistration(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "unverified@example.com", Password: apitest.Ptr("correct-horse")})
	if status, got, _ := env.Do("PUT", "/v4/Users/"+ref.CustomerRegistrationId, `{"verified":false}`); status != 200 {
		t.Fatalf("unverify: %d %s", status, got.Raw)
	}
	status, got, _ := env.Do("POST", "/v4/Users", `{"email":"unverified@example.com","password":"correct-horse"}`)
	if status != 400 || got.Message.Code != "UsersOrchestrator_E400_07" {
		t.Errorf("create over an unverified registration: %d %s", status, got.Raw)
	}
	env.CreateUser(client.CreateUserRequest{Email: "verified@example.com", Password: apitest.Ptr("correct-horse")})
	if _, got, _ := env.Do("POST", "/v4/Users", `{"email":"verified@example.com"}`); got.Message.Code != "UsersOrchestrator_E400_08" {
		t.Errorf("create over a verified registration: %s", got.Raw)
	}
}

// TestStateAgreesWithLoginOnAProviderTenant: a user created with ignoreProvider=true on a tenant
// with a provider lives in Subscribe alone and logs in by the MG2-auth rules; the state its GET
// shows (and the state search filter) follows the same rules, not the provider tenant's Standard.
func TestStateAgreesWithLoginOnAProviderTenant(t *testing.T) {
	prov := config.Default().Tenants[0]
	prov.ClientCode, prov.PaperCode, prov.ClientGroupCode = "prov", "prov", "prov"
	prov.Provider = "Auth0"
	prov.BaseURL = "http://127.0.0.1:9" // never called: every call below leaves the provider out
	prov.Timeout = time.Second
	prov.Auth0 = config.Auth0{ClientID: "id", ClientSecret: "secret", Connection: "db"}
	env := apitest.Start(t, apitest.WithTenants(prov))
	as := env.As(tenant.Key{ClientCode: "prov", PaperCode: "prov", ClientGroupCode: "prov"})

	tests := []struct {
		name, body, state, loginCode string
	}{
		{"passwordless", `{"email":"lite@example.com","ignoreProvider":true}`, "Lite", "UsersOrchestrator_E400_12"},
		{"pending", `{"email":"pending@example.com","password":"correct-horse","verifyEmail":true,"ignoreProvider":true}`, "Unverified", "UsersOrchestrator_E400_11"},
		{"with password", `{"email":"standard@example.com","password":"correct-horse","ignoreProvider":true}`, "Standard", "Subscribe_S200_01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got, _ := env.Do("POST", "/v4/Users", tt.body, as)
			if status != http.StatusOK {
				t.Fatalf("create: %d %s", status, got.Raw)
			}
			email := strings.Split(strings.Split(tt.body, `"email":"`)[1], `"`)[0]
			_, got, _ = env.Do("GET", "/v4/Users?email="+email+"&ignoreProvider=true", "", as)
			if !strings.Contains(string(got.Data), `"state":"`+tt.state+`"`) {
				t.Errorf("GET shows %s, want state %s", got.Data, tt.state)
			}
			_, got, _ = env.Do("GET", "/v4/Users?state="+tt.state+"&ignoreProvider=true", "", as)
			if !strings.Contains(string(got.Data), email) {
				t.Errorf("search by state %s does not find it: %s", tt.state, got.Data)
			}
			_, got, _ = env.Do("POST", "/v4/Users/Authentication", `{"loginName":"`+email+`","password":"correct-horse"}`, as)
			if got.Message.Code != tt.loginCode {
				t.Errorf("login answers %s, want %s (state %s)", got.Raw, tt.loginCode, tt.state)
			}
		})
	}
}
