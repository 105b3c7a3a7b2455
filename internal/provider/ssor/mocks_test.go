//go:build wiremock || e2e

package ssor_test

import (
	"strings"
	"testing"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser/restusertest"
	"usersorchestrator/internal/provider/ssor"
)

// TestMocks runs the adapter against the stubs of mocks/ssor (see its README): with the tag
// wiremock against a WireMock started by hand (UO_SSOR_MOCK_URL), with the tag e2e against one
// the testkit starts.
func TestMocks(t *testing.T) {
	url, admin := mockServer(t)
	restusertest.RunMockSuite(t, restusertest.Mock{
		URL:   url,
		Admin: admin,
		New: func(baseURL, credential string, h httpx.Config) (provider.AuthSystem, error) {
			return ssor.New(ssor.Config{BaseURL: baseURL, APIToken: credential, HTTP: h})
		},
		Credential:          "mock-api-token",
		BadCredential:       "bad-token",
		ForbiddenCredential: "forbidden-token",
		CredentialHeader:    "Authorization",
		CredentialValue:     func(c string) string { return "Bearer " + c },
		NotFoundID:          "notfound",
		RateLimitID:         "ratelimit",
		ServerErrorID:       "servererror",
		TimeoutID:           "timeout",
		// The stubs derive an SSOR id from the email, so that every call agrees without state.
		IDFor:         func(email string) string { return "u-" + strings.ToLower(email) },
		GetKnowsEmail: true,
	})
}
