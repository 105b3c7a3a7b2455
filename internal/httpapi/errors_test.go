package httpapi

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/orchestrator"
	"usersorchestrator/internal/provider"
)

// TestClassifyProviderUnavailable: a provider whose rate limit resets later than the adapter
// may wait answers E503 with Retry-After (whole seconds, rounded up); other unavailability
// answers E503 without one.
func TestClassifyProviderUnavailable(t *testing.T) {
	unavailable := func(wait time.Duration) error {
		pe := &provider.Error{Provider: "Auth0", Op: "get user", Kind: provider.ErrUnavailable, Status: 429, RetryAfter: wait}
		// As the workflows wrap it (orchestrator.fromProvider).
		return fmt.Errorf("get: %w", errors.Join(orchestrator.ErrProviderUnavailable, pe))
	}
	tests := []struct {
		name       string
		err        error
		retryAfter int
	}{
		{"reset 59.5 s away", unavailable(59500 * time.Millisecond), 60},
		{"reset 1 ms away", unavailable(time.Millisecond), 1},
		{"no reset known (timeout, 5xx)", unavailable(0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := classify(tt.err)
			if f.code != codes.E503 || f.retryAfter != tt.retryAfter {
				t.Errorf("classify = %s retry-after %d, want %s retry-after %d", f.code, f.retryAfter, codes.E503, tt.retryAfter)
			}
		})
	}
}
