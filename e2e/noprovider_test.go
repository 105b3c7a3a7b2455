//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"usersorchestrator/internal/codes"
)

// The tenant without a provider (MG2 auth) runs every workflow in Subscribe alone: no AUTHSYSTEM
// event, and none of the four WireMocks hears from it.
func TestTenantWithoutProvider(t *testing.T) {
	for _, p := range providers {
		p.mu.Lock()
		p.clearJournal(t)
	}
	defer func() {
		for _, p := range providers {
			p.mu.Unlock()
		}
	}()
	env := start(t, nil)
	if env.Tenant != tenantKey(noProvider) {
		t.Fatalf("default tenant %v", env.Tenant)
	}
	ref := env.create(obj{"email": "mg2.user@example.com", "password": janePassword, "firstName": "Mg"})
	id := ref.CustomerRegistrationId
	a := env.login(obj{"loginName": "mg2.user@example.com", "password": janePassword})
	if a.User.State != "Standard" || len(a.CookieTokens) != 1 {
		t.Errorf("login %+v", a)
	}
	expectCode(t, env.do("GET", userPath(id), nil), codes.S200_01)
	expectCode(t, env.do("GET", "/v4/Users"+q("email", "mg2.user@example.com"), nil), codes.S200_01)
	expectCode(t, env.do("PUT", userPath(id), obj{"lastName": "Two"}), codes.S200_07)
	expectCode(t, env.do("PATCH", userPath(id, "/Password"), obj{"password": newPassword}), codes.S200_11)
	env.login(obj{"loginName": "mg2.user@example.com", "password": newPassword})
	expectCode(t, env.do("PATCH", userPath(id, "/Email"), obj{"email": "mg2.new@example.com"}), codes.S200_12)
	env.login(obj{"loginName": "mg2.new@example.com", "password": newPassword})

	// Passwordless: Lite until a password is chosen through the emailed link.
	lite := env.create(obj{"email": "mg2.lite@example.com"})
	r := env.do("GET", userPath(lite.CustomerRegistrationId), nil)
	if data[apiUser](t, r).State != "Lite" {
		t.Errorf("passwordless state %s", data[apiUser](t, r).State)
	}
	expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": "mg2.lite@example.com", "password": janePassword}), codes.E400_12)
	enc := linkParam(t, env.mail("mg2.lite@example.com", "Welcome"), "encryptedEventId")
	expectCode(t, env.do("POST", "/v4/Users/ForgotPassword/Finish", obj{"encryptedEventId": enc, "password": janePassword}), codes.S200_10)
	env.login(obj{"loginName": "mg2.lite@example.com", "password": janePassword})

	// Verify email: Unverified until the code is confirmed.
	pending := env.create(obj{"email": "mg2.pending@example.com", "password": janePassword, "verifyEmail": true})
	expectCode(t, env.do("POST", "/v4/Users/Authentication", obj{"loginName": "mg2.pending@example.com", "password": janePassword}), codes.E400_11)
	code := linkParam(t, env.mail("mg2.pending@example.com", "verification code"), "verificationCode")
	expectCode(t, env.do("POST", "/v4/Users/Verification", obj{"email": "mg2.pending@example.com", "verificationCode": code}), codes.S200_13)
	env.login(obj{"loginName": "mg2.pending@example.com", "password": janePassword})

	// ignoreProvider changes nothing without a provider.
	expectCode(t, env.do("GET", userPath(id)+q("ignoreProvider", "true"), nil), codes.S200_01)

	for _, u := range []string{id, lite.CustomerRegistrationId, pending.CustomerRegistrationId} {
		for _, e := range env.events(u) {
			if strings.HasPrefix(e, "AUTHSYSTEM_") {
				t.Errorf("provider event %s for a tenant without a provider", e)
			}
		}
	}
	for _, p := range providers {
		p.expectNoCalls(t)
	}
}
