package ratelimit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/postgres"
	"usersorchestrator/internal/registration/postgres/pgtest"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/tenant"
)

// newLimiterFunc makes a limiter of one implementation for a test.
type newLimiterFunc func(t *testing.T, limit int, window time.Duration, now func() time.Time) Limiter

// forEachLimiter runs run once per implementation that must decide alike: Memory, and Shared over
// each store backend (PostgreSQL only when UO_TEST_POSTGRES_DSN is set). Each Shared gets a
// database of its own.
func forEachLimiter(t *testing.T, run func(t *testing.T, newLimiter newLimiterFunc)) {
	impls := []struct {
		name string
		new  newLimiterFunc
	}{
		{"Memory", func(_ *testing.T, limit int, window time.Duration, now func() time.Time) Limiter {
			return NewMemory(limit, window, now)
		}},
		{"Shared/sqlite", func(t *testing.T, limit int, window time.Duration, now func() time.Time) Limiter {
			return NewShared(openSQLite(t), "test", limit, window, now)
		}},
		{"Shared/postgres", func(t *testing.T, limit int, window time.Duration, now func() time.Time) Limiter {
			return NewShared(openPostgres(t), "test", limit, window, now)
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			if strings.HasSuffix(impl.name, "postgres") {
				pgtest.DSN(t) // skip here, once, rather than in every subtest
			}
			run(t, impl.new)
		})
	}
}

func openSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	return openSQLitePath(t, filepath.Join(t.TempDir(), "uo.db"))
}

func openSQLitePath(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.FreshSchema(t), postgres.WithMaxConns(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The store must never see a key in clear (keys hold emails): what it stores is the limiter's
// hash of its name and the key, and the name keeps limiters sharing the table apart.
func TestSharedStoresOnlyHashesAndSeparatesNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uo.db")
	store := openSQLitePath(t, path)
	c := newClock()
	const key = "login|CLA/PAPA/GRP|jane.doe@example.com"
	tests := []struct {
		name string
		hash KeyHash
	}{
		{"default", nil},
		{"keyed", func(name, key string) []byte {
			h := SHA256KeyHash("secret|"+name, key)
			return h[:16]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			login := NewShared(store, tt.name+"-login", 1, time.Minute, c.Now, WithKeyHash(tt.hash))
			forgot := NewShared(store, tt.name+"-forgot", 1, time.Minute, c.Now, WithKeyHash(tt.hash))
			if !allow(t, login, key).Allowed || allow(t, login, key).Allowed {
				t.Fatal("login: want one attempt allowed, then refused")
			}
			if !allow(t, forgot, key).Allowed {
				t.Fatal("another limiter's attempts counted against this one")
			}
			want := SHA256KeyHash
			if tt.hash != nil {
				want = tt.hash
			}
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, name := range []string{tt.name + "-login", tt.name + "-forgot"} {
				var n int
				if err := db.QueryRow(`SELECT COUNT(*) FROM rate_limits WHERE key_hash = ?`, want(name, key)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Fatalf("%s: no row under the hash of its name and key", name)
				}
			}
			rows, err := db.Query(`SELECT key_hash FROM rate_limits`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var h []byte
				if err := rows.Scan(&h); err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(h, []byte("jane")) || bytes.Contains(h, []byte("example")) {
					t.Fatalf("a stored key holds the key in clear: %q", h)
				}
			}
		})
	}
}

// countingBuckets wraps a store, counting the sweeps and failing on demand.
type countingBuckets struct {
	Buckets
	sweeps   atomic.Int32
	sweepErr error
	allowErr error
}

func (c *countingBuckets) AllowAttempt(ctx context.Context, keyHash []byte, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	if c.allowErr != nil {
		return false, 0, c.allowErr
	}
	return c.Buckets.AllowAttempt(ctx, keyHash, now, interval, burst)
}

func (c *countingBuckets) SweepAttempts(ctx context.Context, now time.Time, max int) (int64, error) {
	c.sweeps.Add(1)
	if c.sweepErr != nil {
		return 0, c.sweepErr
	}
	return c.Buckets.SweepAttempts(ctx, now, max)
}

// Storage stays bounded without anybody calling a sweep: Allow sweeps once per interval, and at
// once again while sweeps come back full.
func TestSharedSweepsAsItGoes(t *testing.T) {
	store := openSQLite(t)
	buckets := &countingBuckets{Buckets: store}
	c := newClock()
	// 2 per minute: a single attempt's bucket is full again 30 s later.
	lim := NewShared(buckets, "login", 2, time.Minute, c.Now, WithSweep(time.Minute, 3))
	for i := range 10 {
		allow(t, lim, fmt.Sprintf("k%d", i))
	}
	if n := buckets.sweeps.Load(); n != 1 {
		t.Fatalf("%d sweeps in the first minute, want 1 (the first Allow's)", n)
	}
	c.Advance(time.Minute - time.Nanosecond)
	allow(t, lim, "not-yet")
	if n := buckets.sweeps.Load(); n != 1 {
		t.Fatalf("swept again before the interval: %d sweeps", n)
	}
	c.Advance(time.Nanosecond)
	// Ten full buckets, three per sweep: full, full, full, then the last one.
	for i, want := range []int32{2, 3, 4, 5, 5} {
		allow(t, lim, fmt.Sprintf("new-%d", i))
		if n := buckets.sweeps.Load(); n != want {
			t.Fatalf("after Allow %d of the second minute: %d sweeps, want %d", i, n, want)
		}
	}
	left, err := store.SweepAttempts(t.Context(), c.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d full buckets left after the sweeps, want 0", left)
	}
}

// A failing sweep is logged, and changes no decision: an error from Allow would let the
// attempt through (the orchestrator fails open), even a refused one.
func TestSharedSweepFailureKeepsTheDecision(t *testing.T) {
	var logs bytes.Buffer
	buckets := &countingBuckets{Buckets: openSQLite(t), sweepErr: errors.New("sweep: database is locked")}
	lim := NewShared(buckets, "login", 1, time.Minute, newClock().Now, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	d, err := lim.Allow(t.Context(), "k")
	if err != nil || !d.Allowed {
		t.Fatalf("first attempt: %+v, %v", d, err)
	}
	d, err = lim.Allow(t.Context(), "k")
	if err != nil || d.Allowed || d.RetryAfter != time.Minute {
		t.Fatalf("second attempt: %+v, %v; want refused for a minute", d, err)
	}
	if !strings.Contains(logs.String(), "database is locked") {
		t.Fatalf("the failed sweep was not logged: %q", logs.String())
	}
}

func TestSharedErrors(t *testing.T) {
	boom := errors.New("connection refused")
	buckets := &countingBuckets{Buckets: openSQLite(t), allowErr: boom}
	lim := NewShared(buckets, "login", 1, time.Minute, newClock().Now)
	if _, err := lim.Allow(t.Context(), "k"); !errors.Is(err, boom) || !strings.Contains(err.Error(), "login") {
		t.Fatalf("Allow on a failing store: %v; want the store's error, naming the limiter", err)
	}
	if n := buckets.sweeps.Load(); n != 0 {
		t.Fatalf("swept after a failed attempt: %d", n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	buckets.allowErr = nil
	if _, err := lim.Allow(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with canceled ctx: %v", err)
	}
	if err := lim.Reset(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reset with canceled ctx: %v", err)
	}
	if !allow(t, lim, "k").Allowed {
		t.Fatal("a canceled Allow was counted")
	}
}

func TestNewSharedRejectsNonsense(t *testing.T) {
	store := openSQLite(t)
	tests := []struct {
		name   string
		b      Buckets
		lname  string
		limit  int
		window time.Duration
	}{
		{"zero limit", store, "login", 0, time.Minute},
		{"zero window", store, "login", 1, 0},
		{"window below limit ns", store, "login", 1000, 999 * time.Nanosecond},
		{"no name", store, "", 1, time.Minute},
		{"no buckets", nil, "login", 1, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("NewShared did not panic")
				}
			}()
			NewShared(tt.b, tt.lname, tt.limit, tt.window, nil)
		})
	}
}

func TestSharedRealClockDefault(t *testing.T) {
	lim := NewShared(openSQLite(t), "login", 1, time.Hour, nil)
	allow(t, lim, "k")
	d := allow(t, lim, "k")
	if d.Allowed || d.RetryAfter <= 59*time.Minute || d.RetryAfter > time.Hour {
		t.Fatalf("with the real clock: %+v", d)
	}
}

// The cost of one Allow with its buckets in each store, next to BenchmarkAllowDistinctKeys (Memory).
// "one key" is an attacker hammering a login (refused attempts, one row updated over and over);
// "distinct keys" is normal traffic (a new row per key; rows are swept as they go).
func BenchmarkSharedAllow(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) registration.Store
	}{
		{"sqlite", func(b *testing.B) registration.Store { return openSQLite(b) }},
		{"postgres", func(b *testing.B) registration.Store { return openPostgres(b) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			store := be.open(b)
			// What any single committed write costs on this machine, for scale: every login
			// attempt already records an event like this one.
			b.Run("baseline RecordEvent", func(b *testing.B) {
				k := tenant.Key{ClientCode: "C", PaperCode: "P", ClientGroupCode: "G"}
				for b.Loop() {
					if _, err := store.RecordEvent(b.Context(), registration.Event{Tenant: k, CustomerRegistrationID: "u1",
						TypeCode: "AUTHSYSTEM_USER_LOGIN", TypeID: 4609, Outcome: registration.OutcomeFailure, OccurredAt: time.Now()}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("one key", func(b *testing.B) {
				lim := NewShared(store, "bench-one", 5, time.Minute, nil)
				for b.Loop() {
					if _, err := lim.Allow(b.Context(), "tenant/user@example.com"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("distinct keys", func(b *testing.B) {
				lim := NewShared(store, "bench-distinct", 5, time.Minute, nil)
				i := 0
				for b.Loop() {
					if _, err := lim.Allow(b.Context(), fmt.Sprintf("tenant/user-%d@example.com", i)); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("distinct keys parallel", func(b *testing.B) {
				lim := NewShared(store, "bench-parallel", 5, time.Minute, nil)
				var n atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := lim.Allow(b.Context(), fmt.Sprintf("tenant/user-%d@example.com", n.Add(1))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
