//go:build e2e

package wiremock

import (
	"os"
	"testing"
)

// TestMain lets every server-starting test of this package run at once: each starts its own
// WireMock, and a start mostly waits on Docker and the JVM.
func TestMain(m *testing.M) {
	MinParallel(8)
	os.Exit(m.Run())
}
