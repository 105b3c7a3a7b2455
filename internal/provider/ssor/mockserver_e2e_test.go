//go:build e2e

package ssor_test

import (
	"testing"

	gowiremock "github.com/wiremock/go-wiremock"

	"usersorchestrator/internal/testkit/wiremock"
)

// mockServer starts a WireMock of its own on a private copy of mocks/ssor.
func mockServer(t *testing.T) (string, *gowiremock.Client) {
	srv := wiremock.Start(t, "../../../mocks/ssor")
	return srv.URL, srv.Admin
}
