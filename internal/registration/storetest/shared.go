package storetest

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/ratelimit"
	"usersorchestrator/internal/registration"
)

// This file holds the suite's tests of the state that instances of the service share through the
// store: the rate limit buckets and the claims on the outbox.

func keyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// attemptStep is one attempt of a sequence: move the clock, attempt, expect.
type attemptStep struct {
	advance    time.Duration
	allowed    bool
	retryAfter time.Duration // when refused
}

func allowedSteps(n int) []attemptStep {
	s := make([]attemptStep, n)
	for i := range s {
		s[i] = attemptStep{allowed: true}
	}
	return s
}

// testAttemptSequence walks keys through the decisions of ratelimit.Memory's own tests: a token
// bucket of limit attempts, one back every window/limit, refused attempts not counted.
func testAttemptSequence(t *testing.T, s registration.Store) {
	// 15 min / 7 does not divide: the interval is truncated to the nanosecond, as Memory's is.
	const awkward = 128571428571 * time.Nanosecond
	tests := []struct {
		name   string
		limit  int
		window time.Duration
		steps  []attemptStep
	}{
		{"limit reached", 5, time.Minute, append(allowedSteps(5),
			attemptStep{retryAfter: 12 * time.Second}, attemptStep{retryAfter: 12 * time.Second})},
		{"one attempt back per window/limit", 5, time.Minute, append(allowedSteps(5),
			attemptStep{advance: 5 * time.Second, retryAfter: 7 * time.Second},
			attemptStep{advance: 7 * time.Second, allowed: true},
			attemptStep{retryAfter: 12 * time.Second})},
		{"full refill after the window", 5, time.Minute, append(append(allowedSteps(5),
			attemptStep{retryAfter: 12 * time.Second}, attemptStep{advance: time.Minute, allowed: true}),
			append(allowedSteps(4), attemptStep{retryAfter: 12 * time.Second})...)},
		{"refused attempts are not counted", 1, time.Hour, []attemptStep{
			{allowed: true},
			{advance: 30 * time.Minute, retryAfter: 30 * time.Minute},
			{advance: 29 * time.Minute, retryAfter: time.Minute},
			{advance: time.Minute, allowed: true},
		}},
		{"long idle is a full bucket, no more", 2, time.Minute, append(allowedSteps(2),
			attemptStep{advance: 24 * time.Hour, allowed: true}, attemptStep{allowed: true}, attemptStep{retryAfter: 30 * time.Second})},
		{"retry after is exact to the nanosecond", 7, 15 * time.Minute, append(allowedSteps(7),
			attemptStep{retryAfter: awkward},
			attemptStep{advance: awkward - time.Nanosecond, retryAfter: time.Nanosecond},
			attemptStep{advance: time.Nanosecond, allowed: true},
			attemptStep{retryAfter: awkward})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := base
			key := keyHash("sequence/" + tc.name)
			interval := tc.window / time.Duration(tc.limit)
			for i, st := range tc.steps {
				now = now.Add(st.advance)
				allowed, retryAfter, err := s.AllowAttempt(t.Context(), key, now, interval, tc.limit)
				mustNoErr(t, fmt.Sprintf("step %d", i), err)
				want := time.Duration(0)
				if !st.allowed {
					want = st.retryAfter
				}
				if allowed != st.allowed || retryAfter != want {
					t.Fatalf("step %d: allowed %v, retry after %v; want %v, %v", i, allowed, retryAfter, st.allowed, want)
				}
			}
		})
	}
}

func testAttemptKeysAndReset(t *testing.T, s registration.Store) {
	ctx := t.Context()
	const interval, burst = 30 * time.Second, 2
	attempt := func(key []byte, want bool) {
		t.Helper()
		allowed, _, err := s.AllowAttempt(ctx, key, base, interval, burst)
		mustNoErr(t, "allow attempt", err)
		if allowed != want {
			t.Fatalf("attempt on %x: allowed %v, want %v", key, allowed, want)
		}
	}
	a, b := keyHash("a"), keyHash("b")
	aNeighbour := slices.Clone(a)
	aNeighbour[len(aNeighbour)-1] ^= 1
	attempt(a, true)
	attempt(a, true)
	attempt(a, false)
	attempt(b, true)
	attempt(aNeighbour, true)
	attempt(b, true)
	attempt(b, false)

	mustNoErr(t, "reset a", s.ResetAttempts(ctx, a))
	attempt(a, true)
	attempt(a, true)
	attempt(a, false)
	attempt(b, false) // resetting a left b alone
	mustNoErr(t, "reset a key never seen", s.ResetAttempts(ctx, keyHash("never")))

	bad := []struct {
		name string
		call func() error
	}{
		{"empty key hash", func() error { _, _, err := s.AllowAttempt(ctx, nil, base, interval, burst); return err }},
		{"a key in clear, not a hash", func() error {
			_, _, err := s.AllowAttempt(ctx, []byte(fmt.Sprintf("%065d", 0)), base, interval, burst)
			return err
		}},
		{"zero interval", func() error { _, _, err := s.AllowAttempt(ctx, a, base, 0, burst); return err }},
		{"zero burst", func() error { _, _, err := s.AllowAttempt(ctx, a, base, interval, 0); return err }},
		{"burst times interval overflows", func() error {
			_, _, err := s.AllowAttempt(ctx, a, base, time.Hour, math.MaxInt32)
			return err
		}},
		{"reset of an empty key hash", func() error { return s.ResetAttempts(ctx, nil) }},
		{"sweep of nothing", func() error { _, err := s.SweepAttempts(ctx, base, 0); return err }},
	}
	for _, tc := range bad {
		if err := tc.call(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	attempt(a, false) // the refused calls counted nothing
}

// testAttemptSweep: a bucket full again is deleted, and only such a bucket, so sweeping changes
// no decision.
func testAttemptSweep(t *testing.T, s registration.Store) {
	ctx := t.Context()
	const interval, burst = 20 * time.Second, 3
	t0 := base
	attempt := func(key string, now time.Time) (bool, time.Duration) {
		t.Helper()
		allowed, retryAfter, err := s.AllowAttempt(ctx, keyHash(key), now, interval, burst)
		mustNoErr(t, "allow attempt "+key, err)
		return allowed, retryAfter
	}
	sweep := func(now time.Time, max int, want int64) {
		t.Helper()
		n, err := s.SweepAttempts(ctx, now, max)
		mustNoErr(t, "sweep", err)
		if n != want {
			t.Fatalf("sweep at %v (max %d) deleted %d, want %d", now.Sub(t0), max, n, want)
		}
	}
	// Ten keys with one attempt (full again at t0+20s), one with all three (full at t0+60s).
	for i := range 10 {
		attempt(fmt.Sprintf("k%d", i), t0)
	}
	for range burst {
		attempt("hot", t0)
	}
	sweep(t0.Add(interval-time.Nanosecond), 100, 0)
	sweep(t0.Add(interval), 4, 4)
	sweep(t0.Add(interval), 100, 6)
	sweep(t0.Add(interval), 100, 0)

	// hot kept its state: one token back, not three.
	if ok, _ := attempt("hot", t0.Add(interval)); !ok {
		t.Fatal("hot: the token back after an interval was refused")
	}
	if ok, retryAfter := attempt("hot", t0.Add(interval)); ok || retryAfter != interval {
		t.Fatalf("hot after the sweep: allowed %v, retry after %v; want refused for %v (its bucket was swept)", ok, retryAfter, interval)
	}
	// A swept key is a full bucket, as it was before the sweep.
	for i := range burst {
		if ok, _ := attempt("k0", t0.Add(interval)); !ok {
			t.Fatalf("k0 after the sweep: attempt %d refused", i)
		}
	}
	if ok, retryAfter := attempt("k0", t0.Add(interval)); ok || retryAfter != interval {
		t.Fatalf("k0 after the sweep: allowed %v, retry after %v; want refused for %v", ok, retryAfter, interval)
	}
	// Both are full again at t0+80s.
	sweep(t0.Add(4*interval-time.Nanosecond), 100, 0)
	sweep(t0.Add(4*interval), 100, 2)
	sweep(t0.Add(time.Hour), 100, 0)
}

func outboxMail(to string, created, next time.Time) registration.Email {
	return registration.Email{
		Tenant: tenantA, Kind: "verify-email", From: "Daily <noreply@daily.example>", To: to,
		Subject: "Your code", Body: "Your code is 123456", CreatedAt: created, NextAttemptAt: next,
	}
}

// enqueueAll enqueues the emails and returns them as the store keeps them.
func enqueueAll(t *testing.T, s registration.Store, emails ...registration.Email) []registration.Email {
	t.Helper()
	out := make([]registration.Email, len(emails))
	for i, e := range emails {
		id, err := s.EnqueueEmail(t.Context(), e)
		mustNoErr(t, "enqueue", err)
		e.ID, e.CreatedAt, e.NextAttemptAt = id, micro(e.CreatedAt), micro(e.NextAttemptAt)
		out[i] = e
	}
	return out
}

func testClaimDueEmails(t *testing.T, s registration.Store) {
	ctx := t.Context()
	t0 := base
	e := enqueueAll(t, s,
		outboxMail("e0@example.com", t0, t0),
		outboxMail("e1@example.com", t0.Add(time.Second), t0.Add(time.Second)),
		outboxMail("e2@example.com", t0.Add(-time.Hour), t0.Add(time.Hour)), // oldest, not due yet
		outboxMail("e3@example.com", t0.Add(2*time.Second), t0.Add(2*time.Second)),
	)
	// claimed is an email as a claim returns it: its next attempt is when the claim lapses.
	claimed := func(e registration.Email, until time.Time) registration.Email {
		e.NextAttemptAt = micro(until)
		return e
	}
	claim := func(now time.Time, lease time.Duration, limit int, want ...registration.Email) {
		t.Helper()
		got, err := s.ClaimDueEmails(ctx, now, lease, limit)
		mustNoErr(t, "claim", err)
		if want == nil {
			want = []registration.Email{}
		}
		mustEqual(t, fmt.Sprintf("claim at t0+%v, limit %d", now.Sub(t0), limit), got, want)
	}
	const lease = time.Minute
	now := t0.Add(10 * time.Second)
	claim(now, lease, 2, claimed(e[0], now.Add(lease)), claimed(e[1], now.Add(lease)))
	claim(now, lease, 0, claimed(e[3], now.Add(lease)))
	claim(now, lease, 0)
	due, err := s.DueEmails(ctx, now, 0)
	mustNoErr(t, "due emails", err)
	if len(due) != 0 {
		t.Fatalf("claimed emails are still due to a reader: %s", show(due))
	}

	// The claimant's outcome replaces the lease: sent is gone, failed is due at its retry time.
	mustNoErr(t, "mark sent", s.MarkEmailSent(ctx, e[0].ID, now))
	mustNoErr(t, "mark failed", s.MarkEmailFailed(ctx, e[1].ID, t0.Add(30*time.Second), "smtp: 451"))
	e1Failed := e[1]
	e1Failed.Attempts, e1Failed.LastError = 1, "smtp: 451"
	retry := t0.Add(30 * time.Second)
	claim(retry, lease, 0, claimed(e1Failed, retry.Add(lease)))

	// e3's claimant never reported: e3 is due again when the lease ends, and the lapsed claim
	// counts no attempt.
	lapse := now.Add(lease)
	claim(lapse.Add(-time.Microsecond), lease, 0)
	claim(lapse, lease, 0, claimed(e[3], lapse.Add(lease)))

	// Everything unsent, due at once: oldest first whatever the ids.
	later := t0.Add(2 * time.Hour)
	claim(later, lease, 0, claimed(e[2], later.Add(lease)), claimed(e1Failed, later.Add(lease)), claimed(e[3], later.Add(lease)))
	n, err := s.OutboxBacklog(ctx)
	mustNoErr(t, "backlog", err)
	if n != 3 {
		t.Fatalf("backlog %d, want 3 (claims are not sends)", n)
	}

	for _, bad := range []struct {
		name         string
		lease        time.Duration
		limit        int
		wantComplain bool
	}{
		{"negative limit", lease, -1, true},
		{"zero lease", 0, 1, true},
		{"negative lease", -time.Second, 1, true},
	} {
		if _, err := s.ClaimDueEmails(ctx, t0.Add(24*time.Hour), bad.lease, bad.limit); (err != nil) != bad.wantComplain {
			t.Errorf("%s: error %v", bad.name, err)
		}
	}
	claim(later.Add(lease), lease, 0, claimed(e[2], later.Add(2*lease)), claimed(e1Failed, later.Add(2*lease)), claimed(e[3], later.Add(2*lease)))
}

// testInstancesRaceOnOneLimit: two instances, each with its ratelimit.Shared over its own store,
// hammer one key at the same instant from many goroutines. Exactly `limit` attempts may pass in
// all, and every refused one is told the same, exact wait.
func testInstancesRaceOnOneLimit(t *testing.T, stores []registration.Store) {
	const (
		limit      = 10
		window     = time.Minute
		goroutines = 8 // per instance
		attempts   = 20
	)
	frozen := func() time.Time { return base }
	var limiters []*ratelimit.Shared
	for _, s := range stores {
		limiters = append(limiters, ratelimit.NewShared(s, "login", limit, window, frozen))
	}
	const key = "login|CLA/PAPA/GRP|jane@example.com"
	var (
		allowed atomic.Int64
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for i := range len(limiters) * goroutines {
		lim := limiters[i%len(limiters)]
		wg.Go(func() {
			<-start
			for range attempts {
				d, err := lim.Allow(t.Context(), key)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				} else if d.RetryAfter != window/limit {
					t.Errorf("refused with retry after %v, want %v", d.RetryAfter, window/limit)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if got := allowed.Load(); got != limit {
		t.Fatalf("%d attempts allowed across the instances, want exactly %d", got, limit)
	}
	// A reset on one instance (a successful login there) frees the key on the other.
	mustNoErr(t, "reset on instance 1", limiters[1].Reset(t.Context(), key))
	d, err := limiters[0].Allow(t.Context(), key)
	mustNoErr(t, "allow on instance 0", err)
	if !d.Allowed {
		t.Fatal("the key reset on instance 1 is still limited on instance 0")
	}
}

// testInstancesClaimEachEmailOnce: the outbox workers of two instances claim batches at the same
// time. Every email is claimed exactly once; those whose claimant never reported come back once,
// when the lease ends, and not before.
func testInstancesClaimEachEmailOnce(t *testing.T, stores []registration.Store) {
	const (
		emails     = 120
		goroutines = 4 // per instance
		batch      = 7
		lease      = 10 * time.Minute
	)
	ctx := t.Context()
	t0 := base
	var all []registration.Email
	for i := range emails {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		all = append(all, outboxMail(fmt.Sprintf("r%d@example.com", i), at, at))
	}
	enqueued := enqueueAll(t, stores[0], all...)
	now := t0.Add(time.Hour)

	var (
		mu      sync.Mutex
		claims  = map[int64]int{}
		unsent  []int64
		wg      sync.WaitGroup
		started = make(chan struct{})
	)
	for i := range len(stores) * goroutines {
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-started
			// More rounds than there are emails means claims do not take what they return.
			for round := 0; ; round++ {
				if round > emails {
					t.Error("claims keep returning emails: they do not take them")
					return
				}
				got, err := s.ClaimDueEmails(ctx, now, lease, batch)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				if !slices.IsSortedFunc(got, func(a, b registration.Email) int { return a.CreatedAt.Compare(b.CreatedAt) }) {
					t.Errorf("a batch is not oldest first: %s", show(got))
				}
				for _, e := range got {
					mu.Lock()
					claims[e.ID]++
					mu.Unlock()
					// Half are sent; the claimant of the others "dies" without reporting.
					if e.ID%2 == 0 {
						if err := s.MarkEmailSent(ctx, e.ID, now); err != nil {
							t.Error(err)
							return
						}
						continue
					}
					mu.Lock()
					unsent = append(unsent, e.ID)
					mu.Unlock()
				}
			}
		})
	}
	close(started)
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(claims) != emails {
		t.Fatalf("%d distinct emails claimed, want all %d", len(claims), emails)
	}
	for _, e := range enqueued {
		if n := claims[e.ID]; n != 1 {
			t.Errorf("email %d claimed %d times, want once", e.ID, n)
		}
	}

	for i, s := range stores {
		got, err := s.ClaimDueEmails(ctx, now.Add(lease-time.Microsecond), lease, 0)
		mustNoErr(t, "claim within the lease", err)
		if len(got) != 0 {
			t.Fatalf("instance %d claimed %d emails still leased to others", i, len(got))
		}
	}
	again, err := stores[1].ClaimDueEmails(ctx, now.Add(lease), lease, 0)
	mustNoErr(t, "claim after the lease", err)
	var ids []int64
	for _, e := range again {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	slices.Sort(unsent)
	mustEqual(t, "emails due again after the lease", ids, unsent)
}
