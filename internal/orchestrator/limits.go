package orchestrator

import (
	"context"
	"strings"

	"usersorchestrator/internal/ratelimit"
)

// Limits are the attempt limiters, each keyed by tenant and login name or email.
type Limits struct {
	Login            ratelimit.Limiter
	ForgotPassword   ratelimit.Limiter
	VerifyEmail      ratelimit.Limiter
	VerificationCode ratelimit.Limiter
}

// limited counts an attempt on lim for key; a refused attempt is a *TooManyAttemptsError.
func (o *Orchestrator) limited(ctx context.Context, lim ratelimit.Limiter, c Call, kind, key string) error {
	d, err := lim.Allow(ctx, kind+"|"+c.Tenant.Key.String()+"|"+strings.ToLower(key))
	if err != nil {
		// A broken limiter must not lock everybody out; log and let the attempt through.
		o.Log.ErrorContext(ctx, "rate limiter failed", "kind", kind, "error", err)
		return nil
	}
	if !d.Allowed {
		return &TooManyAttemptsError{RetryAfter: d.RetryAfter}
	}
	return nil
}

func (o *Orchestrator) resetLimit(ctx context.Context, lim ratelimit.Limiter, c Call, kind, key string) {
	if err := lim.Reset(ctx, kind+"|"+c.Tenant.Key.String()+"|"+strings.ToLower(key)); err != nil {
		o.Log.ErrorContext(ctx, "rate limiter reset failed", "kind", kind, "error", err)
	}
}
