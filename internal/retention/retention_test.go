package retention_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/retention"
	"usersorchestrator/internal/testkit/fakeclock"
)

const day = 24 * time.Hour

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// row is one stored row: an event (with its code), a token, an email or a rate-limit bucket.
type row struct {
	kind retention.Kind
	code string
	at   time.Time
}

// fakeStore keeps rows in memory and deletes like the SQL store: at most limit rows strictly
// before the cutoff. It records each call's limit and fails the kinds listed in fail.
type fakeStore struct {
	mu     sync.Mutex
	rows   []row
	limits []int
	// deleted is what each call deleted, per kind pruned.
	deleted map[retention.Kind][]int64
	fail    map[retention.Kind]error
}

// eventRow is the kind events are stored under: one table for reads and changes.
const eventRow retention.Kind = "events"

func (s *fakeStore) prune(kind retention.Kind, codes []string, before time.Time, limit int) (int64, error) {
	return s.pruneAs(kind, kind, codes, before, limit)
}

// pruneAs deletes rows of kind, failing when as (what the call prunes) is to fail.
func (s *fakeStore) pruneAs(kind, as retention.Kind, codes []string, before time.Time, limit int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, limit)
	if err := s.fail[as]; err != nil {
		return 0, err
	}
	var n int64
	kept := s.rows[:0]
	for _, r := range s.rows {
		match := r.kind == kind && r.at.Before(before) && (codes == nil || slices.Contains(codes, r.code))
		if match && n < int64(limit) {
			n++
			continue
		}
		kept = append(kept, r)
	}
	s.rows = kept
	if s.deleted == nil {
		s.deleted = map[retention.Kind][]int64{}
	}
	s.deleted[as] = append(s.deleted[as], n)
	return n, nil
}

func (s *fakeStore) PruneEvents(_ context.Context, codes []string, before time.Time, limit int) (int64, error) {
	as := retention.ChangeEvents
	if slices.Contains(codes, events.SubscribeGet.Code) {
		as = retention.ReadEvents
	}
	return s.pruneAs(eventRow, as, codes, before, limit)
}

func (s *fakeStore) PruneTokens(_ context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(retention.Tokens, nil, before, limit)
}

func (s *fakeStore) PruneSentEmails(_ context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(retention.SentEmails, nil, before, limit)
}

func (s *fakeStore) PruneAbandonedEmails(_ context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(retention.AbandonedEmails, nil, before, limit)
}

// SweepAttempts deletes buckets full at now: a bucket's time is when it is full again.
func (s *fakeStore) SweepAttempts(_ context.Context, now time.Time, max int) (int64, error) {
	return s.prune(retention.RateLimits, nil, now.Add(time.Nanosecond), max)
}

func (s *fakeStore) left() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, r := range s.rows {
		out[string(r.kind)+" "+r.code]++
	}
	return out
}

func (s *fakeStore) add(kind retention.Kind, code string, at time.Time, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.rows = append(s.rows, row{kind, code, at})
	}
}

var policy = retention.Policy{ChangeEvents: 400 * day, ReadEvents: 90 * day, Tokens: 7 * day, SentEmails: 30 * day,
	AbandonedEmails: 90 * day, Interval: time.Minute, Batch: 10, Pause: 50 * time.Millisecond}

// sleeper is the pruner's Sleep on a fake clock: it moves the clock by each wait and records it.
type sleeper struct {
	clock *fakeclock.Clock
	mu    sync.Mutex
	waits []time.Duration
	// cancelAfter cancels cancel at the n-th wait of length interval (0: never).
	cancelAfter int
	interval    time.Duration
	cancel      context.CancelFunc
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	if s.cancelAfter > 0 && d == s.interval {
		s.cancelAfter--
		if s.cancelAfter == 0 {
			s.cancel()
		}
	}
	s.mu.Unlock()
	s.clock.Advance(d)
	return ctx.Err()
}

func (s *sleeper) count(d time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, w := range s.waits {
		if w == d {
			n++
		}
	}
	return n
}

// One run deletes every kind's rows past its period, no more than a batch per statement, with a
// pause after every full batch, and keeps the rows at or within the period.
func TestRunOncePrunesEachKindInBatches(t *testing.T) {
	clock := fakeclock.New(t0)
	st := &fakeStore{}
	read, change := events.SubscribeGetByID.Code, events.SubscribeChangePassword.Code
	st.add(eventRow, read, t0.Add(-90*day-time.Second), 25)  // old reads: go
	st.add(eventRow, read, t0.Add(-90*day), 3)               // reads at the cutoff: stay
	st.add(eventRow, change, t0.Add(-100*day), 4)            // changes as old as the pruned reads: stay
	st.add(eventRow, change, t0.Add(-400*day-time.Hour), 10) // old changes: go
	st.add(retention.Tokens, "", t0.Add(-8*day), 5)
	st.add(retention.Tokens, "", t0.Add(-6*day), 2)
	st.add(retention.SentEmails, "", t0.Add(-31*day), 1)
	st.add(retention.SentEmails, "", t0.Add(-29*day), 1)
	st.add(retention.AbandonedEmails, "", t0.Add(-91*day), 3)
	st.add(retention.RateLimits, "", t0.Add(-time.Second), 12) // full again: go
	st.add(retention.RateLimits, "", t0.Add(time.Minute), 1)   // still counting: stays
	sl := &sleeper{clock: clock}
	p, err := retention.New(st, policy, retention.Options{Now: clock.Now, Sleep: sl.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	report, err := p.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := retention.Report{retention.ReadEvents: 25, retention.ChangeEvents: 10, retention.Tokens: 5,
		retention.SentEmails: 1, retention.AbandonedEmails: 3, retention.RateLimits: 12}
	if !maps.Equal(report, want) {
		t.Errorf("report %v, want %v", report, want)
	}
	left := map[string]int{"events " + read: 3, "events " + change: 4, "tokens ": 2, "sent_emails ": 1, "idle_rate_limits ": 1}
	if got := st.left(); !maps.Equal(got, left) {
		t.Errorf("rows left %v, want %v", got, left)
	}
	for _, l := range st.limits {
		if l != policy.Batch {
			t.Fatalf("a statement was given limit %d, want the batch %d", l, policy.Batch)
		}
	}
	// Full batches: reads 10+10 (then 5), changes 10 (then 0), rate limits 10 (then 2).
	if got := sl.count(policy.Pause); got != 4 {
		t.Errorf("%d pauses, want one after each of the 4 full batches", got)
	}
	// The run's cutoffs are taken at its start: the pauses moved the clock, not the cutoffs.
	if got := clock.Now().Sub(t0); got != 4*policy.Pause {
		t.Errorf("clock moved %v", got)
	}
}

// A kind that fails does not stop the others; the error names it. A second run after the fault
// clears deletes what the first could not.
func TestRunOnceCarriesOnPastAFailure(t *testing.T) {
	clock := fakeclock.New(t0)
	st := &fakeStore{fail: map[retention.Kind]error{retention.Tokens: errors.New("disk full")}}
	st.add(retention.Tokens, "", t0.Add(-30*day), 3)
	st.add(retention.SentEmails, "", t0.Add(-60*day), 2)
	p, err := retention.New(st, policy, retention.Options{Now: clock.Now, Sleep: (&sleeper{clock: clock}).Sleep})
	if err != nil {
		t.Fatal(err)
	}
	report, err := p.RunOnce(t.Context())
	if err == nil || !strings.Contains(err.Error(), "tokens: disk full") {
		t.Fatalf("err %v, want the tokens' failure", err)
	}
	if report[retention.SentEmails] != 2 || report[retention.Tokens] != 0 {
		t.Errorf("report %v", report)
	}
	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	if report, err = p.RunOnce(t.Context()); err != nil || report[retention.Tokens] != 3 {
		t.Errorf("second run: %v, %v", report, err)
	}
}

// Run prunes at once, then every interval, each run with cutoffs of its own time: rows that
// pass their period between runs go at the next run. It returns nil when its context ends.
func TestRunRepeatsEveryInterval(t *testing.T) {
	clock := fakeclock.New(t0)
	st := &fakeStore{}
	// Sent 30 days ago less 30 s, 90 s, 150 s: each passes its 30 days before one of the next runs.
	for _, s := range []time.Duration{30, 90, 150} {
		st.add(retention.SentEmails, "", t0.Add(-30*day+s*time.Second), 1)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The fourth wait for the interval ends the context: runs at t0, +1m, +2m and +3m.
	sl := &sleeper{clock: clock, cancelAfter: 4, interval: policy.Interval, cancel: cancel}
	p, err := retention.New(st, policy, retention.Options{Now: clock.Now, Sleep: sl.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if got, want := st.deleted[retention.SentEmails], []int64{0, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("sent emails deleted per run %v, want %v", got, want)
	}
	if len(st.rows) != 0 {
		t.Errorf("left %v", st.rows)
	}
	if got := len(st.limits); got != 4*6 {
		t.Errorf("%d statements, want 4 runs of one per kind", got)
	}
}

func TestNewRefusesABadPolicy(t *testing.T) {
	for name, mod := range map[string]func(*retention.Policy){
		"zero read events": func(p *retention.Policy) { p.ReadEvents = 0 },
		"negative tokens":  func(p *retention.Policy) { p.Tokens = -time.Hour },
		"zero batch":       func(p *retention.Policy) { p.Batch = 0 },
		"zero interval":    func(p *retention.Policy) { p.Interval = 0 },
		"negative pause":   func(p *retention.Policy) { p.Pause = -1 },
	} {
		p := policy
		mod(&p)
		if _, err := retention.New(&fakeStore{}, p, retention.Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
