//go:build wiremock || e2e

package firefly_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/firefly"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser/restusertest"
)

// TestMocks runs the adapter against the stubs of mocks/firefly (see its README): with the tag
// wiremock against a WireMock started by hand (UO_FIREFLY_MOCK_URL), with the tag e2e against
// one the testkit starts.
func TestMocks(t *testing.T) {
	url, admin := mockServer(t)
	restusertest.RunMockSuite(t, restusertest.Mock{
		URL:   url,
		Admin: admin,
		New: func(baseURL, credential string, h httpx.Config) (provider.AuthSystem, error) {
			return firefly.New(firefly.Config{BaseURL: baseURL, Secret: credential, HTTP: h})
		},
		Credential:                 "mock-secret",
		BadCredential:              "bad-secret",
		ForbiddenCredential:        "forbidden-secret",
		CredentialHeader:           firefly.SecretHeader,
		CredentialValue:            func(c string) string { return c },
		TokenCallCarriesCredential: true,
		NotFoundID:                 "00000000-0000-0000-0000-000000000404",
		RateLimitID:                "00000000-0000-0000-0000-000000000429",
		ServerErrorID:              "00000000-0000-0000-0000-000000000500",
		TimeoutID:                  "00000000-0000-0000-0000-000000000504",
		IDFor:                      mockGUID,
	})
}

// mockGUID is the GUID the stubs derive from an email (mocks/firefly/README.md): four Java
// String.hashCode values, of the lower-cased email, its upper case, and the base64 of both.
func mockGUID(email string) string {
	e := strings.ToLower(email)
	h := func(s string) string {
		var x uint32
		for _, r := range s { // ASCII emails: one UTF-16 unit per rune
			x = 31*x + uint32(r)
		}
		return fmt.Sprintf("%08x", x)
	}
	a, b := h(e), h(strings.ToUpper(e))
	c, d := h(base64.StdEncoding.EncodeToString([]byte(e))), h(base64.StdEncoding.EncodeToString([]byte(strings.ToUpper(e))))
	return a + "-" + b[:4] + "-" + b[4:] + "-" + c[:4] + "-" + c[4:] + d
}

func TestMockGUID(t *testing.T) {
	// Values printed by WireMock 3.13.2 for these emails.
	for email, want := range map[string]string{
		"exists@example.com":     "35785919-949f-6cd9-d13b-72cf824b6384",
		"Unverified@Example.com": "e7a2099e-396c-155e-0fd0-4cdcd5708ee1",
	} {
		if got := mockGUID(email); got != want || !firefly.ValidID(got) {
			t.Errorf("mockGUID(%q) = %s, want %s", email, got, want)
		}
	}
}
