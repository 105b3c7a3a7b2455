//go:build e2e

package gigya

import (
	"testing"

	"usersorchestrator/internal/testkit/wiremock"
)

// mockTarget starts a WireMock of its own (internal/testkit/wiremock: a container, or a java
// process with UO_WIREMOCK_MODE=jar) on a private copy of mocks/gigya; it stops with the test.
func mockTarget(t *testing.T) string {
	t.Helper()
	return wiremock.Start(t, "../../../mocks/gigya").URL
}
