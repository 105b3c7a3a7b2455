package orchestrator

import (
	"context"
	"sync"
	"time"
)

// Password spraying is one guess against many login names: the per-name limit (Limits.Login)
// never sees it. Two more scopes count failed logins (a wrong password or an unknown name):
//
//   - per API caller (the token's subject) and tenant: when its budget is spent, that caller's
//     password logins answer E429 until the budget refills. Only the caller is stopped; users who
//     log in through other callers are not.
//   - per tenant: when its budget is spent, each further failure is answered after a growing delay
//     (sprayDelayBase doubling up to sprayDelayMax) instead of a refusal, so that an attack spread
//     over many callers slows down while nobody is locked out.
//
// The per-name key also holds the caller, so a caller cannot lock a user out of the logins other
// callers make for them (the newspaper's own site, say).
const (
	sprayDelayBase = 250 * time.Millisecond
	sprayDelayMax  = 4 * time.Second
	// maxBlockedCallers bounds the gate's memory; the entries are few (callers are API clients).
	maxBlockedCallers = 10_000
)

// sprayGuard is the in-process part of the guard: which callers are stopped until when, and how
// strained each tenant is. The counting itself is in the limiters (shared between instances on
// PostgreSQL); an instance learns that a shared budget is spent at its next failure there.
type sprayGuard struct {
	mu      sync.Mutex
	blocked map[string]time.Time
	strain  map[string]int
}

func newSprayGuard() *sprayGuard {
	return &sprayGuard{blocked: map[string]time.Time{}, strain: map[string]int{}}
}

// blockedFor tells how long key is still stopped (zero: not stopped).
func (g *sprayGuard) blockedFor(key string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.blocked[key]
	if !ok {
		return 0
	}
	if !now.Before(until) {
		delete(g.blocked, key)
		return 0
	}
	return until.Sub(now)
}

func (g *sprayGuard) block(key string, until, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.blocked) >= maxBlockedCallers {
		for k, u := range g.blocked {
			if !now.Before(u) {
				delete(g.blocked, k)
			}
		}
		if len(g.blocked) >= maxBlockedCallers {
			return // full of live blocks: the per-name limits still hold
		}
	}
	g.blocked[key] = until
}

// delay records a failure in tenant: zero while the tenant's budget allowed it (which also ends
// the strain), else the growing delay for this failure.
func (g *sprayGuard) delay(tenant string, allowed bool) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if allowed {
		delete(g.strain, tenant)
		return 0
	}
	n := g.strain[tenant]
	g.strain[tenant] = n + 1
	d := sprayDelayBase << min(n, 8)
	return min(d, sprayDelayMax)
}

func callerKey(c Call) string { return c.Tenant.Key.String() + "|" + c.Caller }

// callerStopped is E429 when the caller's failed logins in this tenant have spent their budget.
func (o *Orchestrator) callerStopped(c Call) error {
	if d := o.spray.blockedFor(callerKey(c), o.Now()); d > 0 {
		return &TooManyAttemptsError{RetryAfter: d}
	}
	return nil
}

// loginFailed counts a failed login against the caller's and the tenant's budgets.
func (o *Orchestrator) loginFailed(ctx context.Context, c Call) {
	if lim := o.Limits.LoginFailuresPerCaller; lim != nil {
		d, err := lim.Allow(ctx, "login-failures|caller|"+callerKey(c))
		switch {
		case err != nil:
			o.Log.ErrorContext(ctx, "rate limiter failed", "kind", "login failures per caller", "error", err)
		case !d.Allowed:
			now := o.Now()
			o.spray.block(callerKey(c), now.Add(d.RetryAfter), now)
			o.Log.WarnContext(ctx, "failed logins of one caller over its limit: its logins are refused for a while",
				"request_id", c.RequestID, "tenant", c.Tenant.Key.String(), "caller", c.Caller, "retry_after", d.RetryAfter.String())
		}
	}
	if lim := o.Limits.LoginFailuresPerTenant; lim != nil {
		d, err := lim.Allow(ctx, "login-failures|tenant|"+c.Tenant.Key.String())
		if err != nil {
			o.Log.ErrorContext(ctx, "rate limiter failed", "kind", "login failures per tenant", "error", err)
			return
		}
		if wait := o.spray.delay(c.Tenant.Key.String(), d.Allowed); wait > 0 {
			_ = o.Sleep(ctx, wait)
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
