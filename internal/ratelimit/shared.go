package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Buckets is where a Shared limiter keeps its token buckets. registration.Store implements it
// over the database that every instance of the service uses; it is declared here, by its
// consumer, so that this package imports nothing of the store.
type Buckets interface {
	// AllowAttempt takes one token from keyHash's bucket (burst tokens, one back every interval)
	// if it has one, atomically; retryAfter is the exact wait for a token when it has none.
	AllowAttempt(ctx context.Context, keyHash []byte, now time.Time, interval time.Duration, burst int) (allowed bool, retryAfter time.Duration, err error)
	// ResetAttempts forgets keyHash's bucket.
	ResetAttempts(ctx context.Context, keyHash []byte) error
	// SweepAttempts deletes up to max buckets that are full at now, and says how many.
	SweepAttempts(ctx context.Context, now time.Time, max int) (int64, error)
}

// KeyHash turns a limiter's name and a key into the hash its bucket is stored under. It must give
// every instance the same hash for the same name and key.
type KeyHash func(name, key string) []byte

// SHA256KeyHash is the default KeyHash: SHA-256 over the name and the key, each length-prefixed
// so that no two (name, key) pairs share an input. Anyone holding a list of emails can test them
// against it; the service passes a keyed hash instead (WithKeyHash), so that a copy of the
// database does not tell whose logins were attempted.
func SHA256KeyHash(name, key string) []byte {
	h := sha256.New()
	var n [8]byte
	for _, p := range []string{name, key} {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

// Defaults of the sweep of full buckets.
const (
	// DefaultSweepInterval is how often one Shared limiter deletes the buckets that are full
	// again. The rows only take room: a full bucket and no row decide alike.
	DefaultSweepInterval = time.Minute
	// DefaultSweepBatch bounds the rows one sweep deletes, so that no request pays for a long
	// delete; after a full batch the next attempt sweeps again.
	DefaultSweepBatch = 1000
)

// SharedOption adjusts a Shared limiter.
type SharedOption func(*Shared)

// WithKeyHash sets how keys are hashed before they are stored (default SHA256KeyHash).
func WithKeyHash(h KeyHash) SharedOption {
	return func(s *Shared) {
		if h != nil {
			s.hash = h
		}
	}
}

// WithSweep sets how often full buckets are deleted and how many at most per sweep.
func WithSweep(every time.Duration, batch int) SharedOption {
	return func(s *Shared) {
		if every > 0 {
			s.sweepEvery = every
		}
		if batch > 0 {
			s.sweepBatch = batch
		}
	}
}

// WithLogger sets where failed sweeps are reported (default: nowhere).
func WithLogger(l *slog.Logger) SharedOption {
	return func(s *Shared) {
		if l != nil {
			s.log = l
		}
	}
}

// Shared is a Limiter whose buckets live in Buckets, the database shared by every instance of the
// service, so that a limit holds across instances: with Memory, N instances behind a load balancer
// would give an attacker N times the attempts. Its decisions are Memory's: a token bucket of
// `limit` attempts, one back every window/limit, refused attempts not counted, Reset a full
// bucket; the store takes the token atomically (see registration.Store.AllowAttempt).
//
// Keys are hashed before they leave the process (they hold login names and emails), together with
// the limiter's name, so that limiters sharing one table never share a bucket. Every
// sweepInterval, the Allow that finds the sweep due deletes the buckets that are full again:
// the table holds only the keys used within their window.
//
// The clock is each instance's: instances must keep their clocks in step (NTP), since a clock s
// ahead gives back tokens s early.
type Shared struct {
	buckets    Buckets
	name       string
	limit      int
	interval   time.Duration
	now        func() time.Time
	hash       KeyHash
	sweepEvery time.Duration
	sweepBatch int
	log        *slog.Logger

	mu        sync.Mutex
	nextSweep time.Time
}

var _ Limiter = (*Shared)(nil)

// NewShared returns a limiter allowing limit attempts per window per key, its buckets kept in b
// under name (one name per limiter: "login", "forgot-password", ...). now is the clock
// (time.Now when nil).
//
// Like NewMemory it panics when limit < 1, window is shorter than limit nanoseconds, or name is
// empty: configuration mistakes to catch at start.
func NewShared(b Buckets, name string, limit int, window time.Duration, now func() time.Time, opts ...SharedOption) *Shared {
	if limit < 1 || window < time.Duration(limit) || name == "" || b == nil {
		panic(fmt.Sprintf("ratelimit: NewShared needs buckets, a name, limit >= 1 and window >= limit ns, got %q, %d per %v", name, limit, window))
	}
	if now == nil {
		now = time.Now
	}
	s := &Shared{
		buckets: b,
		name:    name,
		limit:   limit,
		// As Memory's rate.Every(window/limit): the same truncation, the same decisions.
		interval:   window / time.Duration(limit),
		now:        now,
		hash:       SHA256KeyHash,
		sweepEvery: DefaultSweepInterval,
		sweepBatch: DefaultSweepBatch,
		log:        slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Allow counts one attempt for key.
func (s *Shared) Allow(ctx context.Context, key string) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	now := s.now()
	allowed, retryAfter, err := s.buckets.AllowAttempt(ctx, s.hash(s.name, key), now, s.interval, s.limit)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit %s: %w", s.name, err)
	}
	// After the decision, and never failing it: an error here would make the caller treat the
	// limiter as broken and let the attempt through, even a refused one.
	s.maybeSweep(ctx, now)
	if allowed {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: retryAfter}, nil
}

// Reset forgets key.
func (s *Shared) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.buckets.ResetAttempts(ctx, s.hash(s.name, key)); err != nil {
		return fmt.Errorf("ratelimit %s: %w", s.name, err)
	}
	return nil
}

// maybeSweep deletes full buckets when the sweep is due. Of concurrent callers only the first
// sweeps: the others find the next sweep already moved forward. Several instances (and the
// limiters of one instance, which share the table) sweeping alike only repeat a cheap DELETE.
func (s *Shared) maybeSweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	if now.Before(s.nextSweep) {
		s.mu.Unlock()
		return
	}
	s.nextSweep = now.Add(s.sweepEvery)
	s.mu.Unlock()

	n, err := s.buckets.SweepAttempts(ctx, now, s.sweepBatch)
	if err != nil {
		// The next sweep, an interval later, tries again; meanwhile rows only wait longer.
		s.log.WarnContext(ctx, "rate limit sweep failed", "limiter", s.name, "error", err)
		return
	}
	if n >= int64(s.sweepBatch) {
		// A full batch: more may be waiting (a spray of keys), so the next attempt sweeps again.
		s.mu.Lock()
		s.nextSweep = now
		s.mu.Unlock()
	}
}
