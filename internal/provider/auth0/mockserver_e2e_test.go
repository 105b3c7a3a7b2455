//go:build e2e

package auth0_test

import (
	"testing"

	"usersorchestrator/internal/testkit/wiremock"
)

// startMock starts a WireMock on a private copy of mocks/auth0 through the shared harness
// (a container, or the jar with UO_WIREMOCK_MODE=jar); it is stopped by t.Cleanup.
func startMock(t *testing.T) mockServer {
	t.Helper()
	srv := wiremock.Start(t, "../../../mocks/auth0")
	return mockServer{URL: srv.URL, Admin: srv.Admin}
}
