package orchestrator

import (
	"context"
	"errors"
	"time"

	"usersorchestrator/internal/provider"
)

// WithEndUserIP marks ctx with the IP address of the end user a call acts for (the request's
// X-End-User-IP), so that the provider counts logins and registrations against that user's
// address rather than this service's. A value that is not an IP address is ignored.
func WithEndUserIP(ctx context.Context, ip string) context.Context {
	return provider.WithEndUserIP(ctx, ip)
}

// ProviderRetryAfter is how long an unavailable provider asked to be left alone (its rate
// limit's reset), or zero when it did not say.
func ProviderRetryAfter(err error) time.Duration {
	var pe *provider.Error
	if errors.As(err, &pe) && errors.Is(pe.Kind, provider.ErrUnavailable) {
		return pe.RetryAfter
	}
	return 0
}
