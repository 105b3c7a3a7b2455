//go:build e2e

package gigya

import (
	"os"
	"testing"

	"usersorchestrator/internal/testkit/wiremock"
)

// mocks is one WireMock (internal/testkit/wiremock: a container, or a java process with
// UO_WIREMOCK_MODE=jar) on a private copy of mocks/gigya for the whole test binary: the mock tests
// take turns on it, each starting from a reset server, instead of starting a JVM each.
var mocks = wiremock.NewShared("../../../mocks/gigya")

func TestMain(m *testing.M) { os.Exit(mocks.Main(m)) }

// mockTarget is the package's WireMock, reset for t.
func mockTarget(t *testing.T) string {
	t.Helper()
	return mocks.Server(t).URL
}
