//go:build wiremock && !e2e

package gigya

import (
	"os"
	"testing"
)

// mockTarget is the WireMock started by hand on a copy of mocks/gigya (mocks/gigya/README.md).
func mockTarget(t *testing.T) string {
	t.Helper()
	base := os.Getenv("UO_GIGYA_MOCK_URL")
	if base == "" {
		t.Skip("UO_GIGYA_MOCK_URL is not set: start WireMock on a copy of mocks/gigya (mocks/gigya/README.md), or run with -tags e2e")
	}
	return base
}
