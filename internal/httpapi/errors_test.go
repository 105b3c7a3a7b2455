package httpapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/orchestrator"
	"usersorchestrator/internal/provider"
)

// An outcome the orchestrator adds must get its code here, or a user would see E500 for an
// expected refusal; and every code given here must stand for an outcome the orchestrator has.
func TestEveryOutcomeHasADocumentedCode(t *testing.T) {
	outcomes := orchestrator.Outcomes()
	for _, o := range outcomes {
		code, mapped := outcomeCodes[o]
		got := classify(fmt.Errorf("a workflow says: %w", o)).code
		_, documented := codes.Lookup(got)
		switch {
		case !mapped:
			t.Errorf("%q has no code", o)
		case got != code:
			t.Errorf("%q classifies as %s, mapped to %s", o, got, code)
		case !documented:
			t.Errorf("%q answers %s, which the catalogue does not have", o, got)
		case strings.HasPrefix(string(got), string(codes.E500)):
			t.Errorf("%q answers the failure code %s", o, got)
		case got.Status() >= 500 && o != orchestrator.ErrProviderUnavailable:
			// The one 5xx outcome is the provider being down (E503): not the service's failure.
			t.Errorf("%q answers %s, status %d", o, got, got.Status())
		}
	}
	for o := range outcomeCodes {
		found := false
		for _, known := range outcomes {
			found = found || known == o
		}
		if !found {
			t.Errorf("%q has a code but is not one of orchestrator.Outcomes", o)
		}
	}
	// The two outcome types.
	if got := classify(&orchestrator.InvalidInputError{Field: "body.returnUrl", Problem: "x"}); got.code != codes.E400_00 || got.detail != "body.returnUrl: x" {
		t.Errorf("invalid input: %+v", got)
	}
	if got := classify(&orchestrator.TooManyAttemptsError{RetryAfter: 1500 * time.Millisecond}); got.code != codes.E429 || got.retryAfter != 2 {
		t.Errorf("too many attempts: %+v", got)
	}
}

func TestUnexpectedFailuresAnswerTheirWorkflowsCode(t *testing.T) {
	for w, code := range workflowCodes {
		if got := classify(&orchestrator.WorkflowError{Workflow: w, Err: errors.New("disk")}).code; got != code || got.Status() != 500 {
			t.Errorf("%s: %s", w, got)
		}
	}
	if got := classify(errors.New("anything else")).code; got != codes.E500 {
		t.Errorf("an unknown error: %s", got)
	}
	// An unavailable provider wins over the workflow it happened in.
	down := errors.Join(orchestrator.ErrProviderUnavailable, provider.Errorf("Auth0", "GetUser", provider.ErrUnavailable, 0, "timeout"))
	if got := classify(down).code; got != codes.E503 {
		t.Errorf("provider down: %s", got)
	}
}

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
