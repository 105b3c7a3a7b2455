//go:build wiremock && !e2e

package ssor_test

import (
	"os"
	"testing"

	gowiremock "github.com/wiremock/go-wiremock"
)

// mockServer is the WireMock started by hand on a copy of mocks/ssor (see its README).
func mockServer(t *testing.T) (string, *gowiremock.Client) {
	url := os.Getenv("UO_SSOR_MOCK_URL")
	if url == "" {
		t.Fatal("UO_SSOR_MOCK_URL is not set: start WireMock on a copy of mocks/ssor as mocks/ssor/README.md says, or run with -tags e2e")
	}
	return url, gowiremock.NewClient(url)
}
