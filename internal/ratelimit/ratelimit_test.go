package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/testkit/fakeclock"
)

func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

func allow(t *testing.T, l Limiter, key string) Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return d
}

// TestAllowSequence walks one key through steps of (advance the clock, attempt, expect).
func TestAllowSequence(t *testing.T) {
	type step struct {
		advance    time.Duration
		allowed    bool
		retryAfter time.Duration // expected when refused
	}
	five := func() []step {
		s := make([]step, 5)
		for i := range s {
			s[i] = step{allowed: true}
		}
		return s
	}
	tests := []struct {
		name   string
		limit  int
		window time.Duration
		steps  []step
	}{
		{
			name: "limit reached", limit: 5, window: time.Minute,
			steps: append(five(), step{allowed: false, retryAfter: 12 * time.Second}, step{allowed: false, retryAfter: 12 * time.Second}),
		},
		{
			name: "one attempt back per window/limit", limit: 5, window: time.Minute,
			steps: append(five(),
				step{advance: 5 * time.Second, allowed: false, retryAfter: 7 * time.Second},
				step{advance: 7 * time.Second, allowed: true},
				step{allowed: false, retryAfter: 12 * time.Second}),
		},
		{
			name: "full refill after the window", limit: 5, window: time.Minute,
			steps: append(append(five(), step{allowed: false, retryAfter: 12 * time.Second},
				step{advance: time.Minute, allowed: true}), append(five()[:4], step{allowed: false, retryAfter: 12 * time.Second})...),
		},
		{
			name: "refused attempts are not counted", limit: 1, window: time.Hour,
			steps: []step{
				{allowed: true},
				{advance: 30 * time.Minute, allowed: false, retryAfter: 30 * time.Minute},
				{advance: 29 * time.Minute, allowed: false, retryAfter: time.Minute},
				{advance: time.Minute, allowed: true},
			},
		},
		{
			name: "limit one", limit: 1, window: 15 * time.Minute,
			steps: []step{{allowed: true}, {allowed: false, retryAfter: 15 * time.Minute}},
		},
	}
	forEachLimiter(t, func(t *testing.T, newLimiter newLimiterFunc) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := newClock()
				m := newLimiter(t, tt.limit, tt.window, c.Now)
				for i, s := range tt.steps {
					c.Advance(s.advance)
					d := allow(t, m, "tenant/jane@example.com")
					if d.Allowed != s.allowed {
						t.Fatalf("step %d: Allowed = %v, want %v", i, d.Allowed, s.allowed)
					}
					want := time.Duration(0)
					if !s.allowed {
						want = s.retryAfter
					}
					if d.RetryAfter != want {
						t.Fatalf("step %d: RetryAfter = %v, want %v", i, d.RetryAfter, want)
					}
				}
			})
		}
	})
}

// TestRetryAfterIsAccurate checks, for awkward limits and windows, that waiting RetryAfter is
// enough and waiting a millisecond less is not, so a Retry-After header never lies.
func TestRetryAfterIsAccurate(t *testing.T) {
	tests := []struct {
		limit  int
		window time.Duration
	}{
		{3, 10 * time.Second},
		{7, 15 * time.Minute},
		{10, time.Hour},
		{5, 1001 * time.Millisecond},
		{100, time.Minute},
	}
	forEachLimiter(t, func(t *testing.T, newLimiter newLimiterFunc) {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%d per %v", tt.limit, tt.window), func(t *testing.T) {
				c := newClock()
				m := newLimiter(t, tt.limit, tt.window, c.Now)
				for range tt.limit {
					if !allow(t, m, "k").Allowed {
						t.Fatal("refused within the limit")
					}
				}
				for round := range 3 {
					d := allow(t, m, "k")
					if d.Allowed {
						t.Fatalf("round %d: allowed beyond the limit", round)
					}
					if d.RetryAfter <= 0 || d.RetryAfter > tt.window/time.Duration(tt.limit)+time.Millisecond {
						t.Fatalf("round %d: RetryAfter = %v, interval %v", round, d.RetryAfter, tt.window/time.Duration(tt.limit))
					}
					c.Advance(d.RetryAfter - time.Millisecond)
					if early := allow(t, m, "k"); early.Allowed {
						t.Fatalf("round %d: allowed 1ms before RetryAfter", round)
					}
					c.Advance(time.Millisecond)
					if !allow(t, m, "k").Allowed {
						t.Fatalf("round %d: refused after waiting RetryAfter %v", round, d.RetryAfter)
					}
				}
			})
		}
	})
}

func TestResetAndIndependentKeys(t *testing.T) {
	c := newClock()
	m := NewMemory(2, time.Minute, c.Now)
	ctx := context.Background()
	for range 2 {
		allow(t, m, "a")
	}
	if allow(t, m, "a").Allowed {
		t.Fatal("a: allowed beyond the limit")
	}
	if !allow(t, m, "b").Allowed {
		t.Fatal("b is limited by a's attempts")
	}
	if !allow(t, m, "a ").Allowed {
		t.Fatal("keys are not compared exactly")
	}
	if err := m.Reset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if !allow(t, m, "a").Allowed {
			t.Fatalf("attempt %d after Reset refused", i)
		}
	}
	if allow(t, m, "a").Allowed {
		t.Fatal("a: Reset gave more than a fresh bucket")
	}
	if err := m.Reset(ctx, "never-seen"); err != nil {
		t.Fatalf("Reset of an unknown key: %v", err)
	}
	if d := allow(t, m, "b"); !d.Allowed {
		t.Fatal("b: second attempt refused")
	}
	if d := allow(t, m, "b"); d.Allowed {
		t.Fatal("b: Reset of a changed b")
	}
}

func TestIdleKeysAreEvictedLosslessly(t *testing.T) {
	c := newClock()
	m := NewMemory(3, time.Minute, c.Now)
	for i := range 1000 {
		allow(t, m, fmt.Sprintf("key-%d", i))
	}
	allow(t, m, "partly-used")
	allow(t, m, "partly-used")
	if got := m.Len(); got != 1001 {
		t.Fatalf("Len = %d, want 1001", got)
	}
	c.Advance(time.Minute - time.Nanosecond)
	allow(t, m, "fresh")
	if got := m.Len(); got != 1002 {
		t.Fatalf("keys evicted before their window ended: Len = %d, want 1002", got)
	}
	c.Advance(time.Nanosecond)
	allow(t, m, "fresh-2")
	if got := m.Len(); got != 2 { // "fresh" and "fresh-2"
		t.Fatalf("after a window, Len = %d, want 2", got)
	}
	// An evicted key had a full bucket: dropping it changed nothing.
	for i := range 3 {
		if !allow(t, m, "partly-used").Allowed {
			t.Fatalf("attempt %d of an evicted key refused", i)
		}
	}
	if allow(t, m, "partly-used").Allowed {
		t.Fatal("an evicted key got more than a full bucket")
	}
}

func TestMaxKeysBound(t *testing.T) {
	c := newClock()
	const maxKeys = 100
	m := NewMemory(5, time.Hour, c.Now, WithMaxKeys(maxKeys))
	for i := range 10_000 {
		allow(t, m, fmt.Sprintf("spray-%d", i))
		if got := m.Len(); got > maxKeys {
			t.Fatalf("after %d keys, Len = %d > %d", i+1, got, maxKeys)
		}
	}
	// The most recent keys survive; the oldest were evicted.
	for range 4 {
		allow(t, m, "spray-9999")
	}
	if allow(t, m, "spray-9999").Allowed {
		t.Fatal("a recent key lost its count")
	}
	if m.Len() != maxKeys {
		t.Fatalf("Len = %d, want %d", m.Len(), maxKeys)
	}
	// Default bound applies without the option.
	if d := NewMemory(1, time.Minute, c.Now); d.maxKeys != DefaultMaxKeys {
		t.Fatalf("default maxKeys = %d", d.maxKeys)
	}
}

// TestHammeredKeySurvivesSpray: an attacker exhausts a victim's bucket, then sprays distinct
// keys to push the limiter past its bound. The eviction must drop sprayed keys (which still have
// tokens), not the victim's empty bucket.
func TestHammeredKeySurvivesSpray(t *testing.T) {
	c := newClock()
	m := NewMemory(5, time.Hour, c.Now, WithMaxKeys(100))
	for range 5 {
		allow(t, m, "victim")
	}
	for i := range 10_000 {
		c.Advance(time.Millisecond)
		allow(t, m, fmt.Sprintf("spray-%d", i))
		if i%1000 == 0 && allow(t, m, "victim").Allowed {
			t.Fatalf("victim allowed after %d sprayed keys", i)
		}
	}
	if allow(t, m, "victim").Allowed {
		t.Fatal("victim's bucket was forgotten")
	}
}

func TestCeilMicro(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, 0},
		{time.Nanosecond, time.Microsecond},
		{59*time.Second + 999999999, time.Minute},
		{12 * time.Second, 12 * time.Second},
		{time.Microsecond + 1, 2 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := ceilMicro(tt.in); got != tt.want {
			t.Errorf("ceilMicro(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLongKeysCostTheSame(t *testing.T) {
	m := NewMemory(1, time.Minute, newClock().Now)
	long := string(make([]byte, 1<<20))
	allow(t, m, long)
	if allow(t, m, long).Allowed {
		t.Fatal("long key not limited")
	}
	if !allow(t, m, long[:len(long)-1]).Allowed {
		t.Fatal("distinct long keys share a bucket")
	}
}

func TestCanceledContext(t *testing.T) {
	m := NewMemory(1, time.Minute, newClock().Now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Allow(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with canceled ctx: %v", err)
	}
	if err := m.Reset(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reset with canceled ctx: %v", err)
	}
	if m.Len() != 0 {
		t.Fatal("a canceled Allow was counted")
	}
}

func TestNewMemoryRejectsNonsense(t *testing.T) {
	tests := []struct {
		limit  int
		window time.Duration
	}{{0, time.Minute}, {-1, time.Minute}, {1, 0}, {1, -time.Second}, {1000, 999 * time.Nanosecond}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d per %v", tt.limit, tt.window), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("NewMemory did not panic")
				}
			}()
			NewMemory(tt.limit, tt.window, nil)
		})
	}
}

func TestRealClockDefault(t *testing.T) {
	m := NewMemory(1, time.Hour, nil)
	allow(t, m, "k")
	d := allow(t, m, "k")
	if d.Allowed || d.RetryAfter <= 59*time.Minute || d.RetryAfter > time.Hour {
		t.Fatalf("with the real clock: %+v", d)
	}
}

// TestConcurrent hammers one shared key and many distinct ones from several goroutines with the
// clock frozen: exactly `limit` attempts of the shared key may pass. Run with -race.
func TestConcurrent(t *testing.T) {
	c := newClock()
	const limit = 50
	m := NewMemory(limit, time.Minute, c.Now, WithMaxKeys(500))
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			ctx := context.Background()
			for i := range 500 {
				d, err := m.Allow(ctx, "shared")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
				if _, err := m.Allow(ctx, fmt.Sprintf("g%d-%d", g, i)); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					if err := m.Reset(ctx, fmt.Sprintf("g%d-%d", g, i)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != limit {
		t.Fatalf("shared key allowed %d times, want %d", got, limit)
	}
	if got := m.Len(); got > 500 {
		t.Fatalf("Len = %d beyond the bound", got)
	}
}

func BenchmarkAllowDistinctKeys(b *testing.B) {
	m := NewMemory(5, time.Minute, nil)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := m.Allow(ctx, fmt.Sprintf("tenant/user-%d@example.com", i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
