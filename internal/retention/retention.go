// Package retention deletes the rows the service keeps only for a while: old events (reads
// sooner than changes), expired tokens, sent and abandoned emails, and idle rate-limit buckets.
// A Pruner runs beside the mail worker on every instance. It deletes in small batches, each one
// short autocommit statement, with a pause between them, so that no request waits long for the
// write lock (SQLite) or for rows it locks (PostgreSQL).
//
// Several instances prune at once without coordinating: each DELETE is bounded and deletes only
// rows past retention when it runs, and on PostgreSQL concurrent ones take disjoint rows (SKIP
// LOCKED), so they share the work. No advisory lock: one would add a session to hold and a
// failure mode (a pruner that dies holding it) for work that is safe to repeat.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"usersorchestrator/internal/events"
)

// Store is the part of registration.Store the Pruner needs.
type Store interface {
	PruneEvents(ctx context.Context, typeCodes []string, before time.Time, limit int) (int64, error)
	PruneTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	PruneSentEmails(ctx context.Context, before time.Time, limit int) (int64, error)
	PruneAbandonedEmails(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepAttempts(ctx context.Context, now time.Time, max int) (int64, error)
}

// Policy is how long each kind of row is kept, and how the pruner paces itself (config.Retention).
type Policy struct {
	ChangeEvents, ReadEvents, Tokens, SentEmails, AbandonedEmails time.Duration
	// Interval is the wait between the end of one run and the start of the next.
	Interval time.Duration
	// Batch is the most rows one statement deletes; Pause the wait after a full batch.
	Batch int
	Pause time.Duration
}

// Options are the Pruner's clock, its waits and its log; zero values are the real ones.
type Options struct {
	Now func() time.Time
	// Sleep waits d or until ctx ends (then it returns ctx's error).
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
}

// Kind names what a run deleted, in the order a run deletes them.
type Kind string

// The kinds of rows pruned.
const (
	ReadEvents      Kind = "read_events"
	ChangeEvents    Kind = "change_events"
	Tokens          Kind = "tokens"
	SentEmails      Kind = "sent_emails"
	AbandonedEmails Kind = "abandoned_emails"
	RateLimits      Kind = "idle_rate_limits"
)

// Pruner deletes what the Policy no longer keeps.
type Pruner struct {
	store  Store
	policy Policy
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	log    *slog.Logger
	reads  []string
	// changes are the codes of every other catalogued type. Events of a code outside the
	// catalogue (none is recorded) would be kept: pruning by code is what lets the read pass use
	// its index instead of walking past the changes.
	changes []string
}

// New makes a Pruner; it checks the policy as config.Validate does, for callers that build one
// by hand.
func New(store Store, p Policy, o Options) (*Pruner, error) {
	if p.ChangeEvents <= 0 || p.ReadEvents <= 0 || p.Tokens <= 0 || p.SentEmails <= 0 || p.AbandonedEmails <= 0 ||
		p.Interval <= 0 || p.Batch < 1 || p.Pause < 0 {
		return nil, fmt.Errorf("retention: policy %+v needs positive periods, interval and batch", p)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Pruner{store: store, policy: p, now: o.Now, sleep: o.Sleep, log: o.Log,
		reads: events.Codes(events.Reads()), changes: events.Codes(events.Changes())}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Report counts the rows one run deleted, per kind.
type Report map[Kind]int64

// RunOnce deletes, kind after kind, every row past retention at the start of the run, a batch
// at a time with a pause after each full batch. A kind that fails is logged and reported in the
// error; the others are still pruned. It returns early, with ctx's error, when ctx ends.
func (p *Pruner) RunOnce(ctx context.Context) (Report, error) {
	now := p.now()
	tasks := []struct {
		kind  Kind
		prune func(limit int) (int64, error)
	}{
		{ReadEvents, func(n int) (int64, error) {
			return p.store.PruneEvents(ctx, p.reads, now.Add(-p.policy.ReadEvents), n)
		}},
		{ChangeEvents, func(n int) (int64, error) {
			return p.store.PruneEvents(ctx, p.changes, now.Add(-p.policy.ChangeEvents), n)
		}},
		{Tokens, func(n int) (int64, error) { return p.store.PruneTokens(ctx, now.Add(-p.policy.Tokens), n) }},
		{SentEmails, func(n int) (int64, error) { return p.store.PruneSentEmails(ctx, now.Add(-p.policy.SentEmails), n) }},
		{AbandonedEmails, func(n int) (int64, error) {
			return p.store.PruneAbandonedEmails(ctx, now.Add(-p.policy.AbandonedEmails), n)
		}},
		// A bucket full again is the same as none (see sqlstore/attempts.go): no period to wait.
		// The limiters sweep as they are used; this catches the buckets of a quiet service.
		{RateLimits, func(n int) (int64, error) { return p.store.SweepAttempts(ctx, now, n) }},
	}
	report := Report{}
	var errs []error
	for _, task := range tasks {
		for {
			n, err := task.prune(p.policy.Batch)
			report[task.kind] += n
			if err != nil {
				if ctx.Err() != nil {
					return report, ctx.Err()
				}
				p.log.ErrorContext(ctx, "retention: prune failed", "kind", string(task.kind), "error", err)
				errs = append(errs, fmt.Errorf("retention: %s: %w", task.kind, err))
				break
			}
			if n < int64(p.policy.Batch) {
				break
			}
			if err := p.sleep(ctx, p.policy.Pause); err != nil {
				return report, err
			}
		}
	}
	return report, errors.Join(errs...)
}

// Run prunes now and then every Interval until ctx ends; it returns nil then. A failed run is
// logged and tried again at the next interval.
func (p *Pruner) Run(ctx context.Context) error {
	for {
		start := p.now()
		report, err := p.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var total int64
		for _, n := range report {
			total += n
		}
		if total > 0 || err != nil {
			args := []any{"duration", p.now().Sub(start).String()}
			for _, k := range []Kind{ReadEvents, ChangeEvents, Tokens, SentEmails, AbandonedEmails, RateLimits} {
				args = append(args, string(k), report[k])
			}
			p.log.InfoContext(ctx, "retention: pruned", args...)
		}
		if err := p.sleep(ctx, p.policy.Interval); err != nil {
			return nil
		}
	}
}
