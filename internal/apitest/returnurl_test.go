package apitest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/config"
)

// On an https tenant, a returnUrl in clear or on another port is refused with E400_00 by every
// operation that emails a link, and nothing is sent or stored (issue 9, finding 6).
func TestReturnURLMustKeepTheTenantsOrigin(t *testing.T) {
	daily := config.Default().Tenants[0]
	daily.DefaultReturnURL = "https://daily.example/account"
	daily.AllowedReturnHosts = []string{"shop.example:8443"}
	env := apitest.Start(t, apitest.WithTenants(daily))
	env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse-battery")})
	time.Sleep(200 * time.Millisecond)
	before := len(env.Mail.Messages())

	const text = "Invalid InputModel - body.returnUrl: its host is not allowed for this tenant"
	for _, returnURL := range []string{"http://daily.example/reset", "https://daily.example:8443/reset", "https://shop.example/back", "http://shop.example:8443/back"} {
		for _, call := range []struct{ name, path, body string }{
			{"forgot password", "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com","returnUrl":"` + returnURL + `"}`},
			{"send verification code", "/v4/Users/VerificationCode", `{"email":"jane@example.com","returnUrl":"` + returnURL + `"}`},
			{"create passwordless", "/v4/Users", `{"email":"new@example.com","returnUrl":"` + returnURL + `"}`},
		} {
			t.Run(call.name+" "+returnURL, func(t *testing.T) {
				status, got, _ := env.Do(http.MethodPost, call.path, call.body)
				if status != 400 || got.Message.Code != "UsersOrchestrator_E400_00" || got.Message.Text != text {
					t.Fatalf("got %d %s, want 400 E400_00 %q", status, got.Raw, text)
				}
			})
		}
	}
	if _, got, _ := env.Do(http.MethodGet, "/v4/Users?email=new@example.com", ""); !strings.Contains(string(got.Raw), `"users":[]`) {
		t.Errorf("a refused create left a user: %s", got.Raw)
	}
	time.Sleep(200 * time.Millisecond)
	if after := len(env.Mail.Messages()); after != before {
		t.Errorf("%d emails were sent for refused returnUrls", after-before)
	}
	// The tenant's own origin and the allowed host:port still work.
	for _, ok := range []string{"https://daily.example/reset", "https://shop.example:8443/back"} {
		if status, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com","returnUrl":"`+ok+`"}`); status != 200 {
			t.Errorf("%s: %d %s", ok, status, got.Raw)
		}
	}
}
