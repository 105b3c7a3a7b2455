//go:build wiremock && !e2e

package auth0_test

import (
	"os"
	"strings"
	"testing"

	gowiremock "github.com/wiremock/go-wiremock"
)

// startMock uses a WireMock the caller started on a copy of mocks/auth0 (mocks/auth0/README.md).
// The test resets it (POST /__admin/mappings/reset) before every case and never clears it.
func startMock(t *testing.T) mockServer {
	t.Helper()
	u := strings.TrimRight(os.Getenv("UO_AUTH0_MOCK_URL"), "/")
	if u == "" {
		t.Fatal("UO_AUTH0_MOCK_URL is not set: start WireMock 3.13.2 on a copy of mocks/auth0 (see mocks/auth0/README.md) and export its URL")
	}
	return mockServer{URL: u, Admin: gowiremock.NewClient(u)}
}
