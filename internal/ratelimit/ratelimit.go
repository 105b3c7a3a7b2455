// Package ratelimit counts attempts per key (tenant and login name) for login, email
// verification and forgot password, so that guessing a password or a 6-digit code online is slow.
package ratelimit

import (
	"container/list"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Decision is the answer for one attempt.
type Decision struct {
	Allowed bool
	// RetryAfter is how long until the next attempt would be allowed; zero when Allowed.
	// Callers round it up to whole seconds for a Retry-After header.
	RetryAfter time.Duration
}

// Limiter counts attempts per key. Memory counts in the process; Shared counts in the database
// that several instances behind a load balancer share, so that a limit holds across them.
type Limiter interface {
	// Allow counts one attempt for key and tells whether it may proceed.
	Allow(ctx context.Context, key string) (Decision, error)
	// Reset forgets key, e.g. after a successful login clears the failures before it.
	Reset(ctx context.Context, key string) error
}

// DefaultMaxKeys bounds how many keys Memory tracks at once. At roughly 250 bytes per key this is
// about 25 MiB at worst.
const DefaultMaxKeys = 100_000

// Option adjusts a Memory limiter.
type Option func(*Memory)

// WithMaxKeys sets the number of keys tracked at once (at least 1).
func WithMaxKeys(n int) Option {
	return func(m *Memory) {
		if n > 0 {
			m.maxKeys = n
		}
	}
}

// Memory is an in-process Limiter: `limit` attempts per `window` per key, as a token bucket
// (burst = limit, one attempt back every window/limit). It is safe for concurrent use.
//
// Memory stays bounded two ways. A key whose last counted attempt is a whole window old has a
// full bucket again, which is the same as no entry at all, so it is dropped without changing any
// decision. Beyond that, when maxKeys keys are active within one window, adding one more drops
// the entry with the fullest bucket among the least recently seen few. That second eviction does
// forget a partly used bucket, but the one that costs least: a key being hammered stays recently
// seen (refused attempts count as seen) and has an empty bucket, so an attacker has to spend
// `limit` attempts on each of maxKeys other keys, every window, to make it forget a victim.
type Memory struct {
	limit   int
	window  time.Duration
	every   rate.Limit
	now     func() time.Time
	maxKeys int

	mu sync.Mutex
	// Keys are stored hashed so that an entry's size does not depend on what callers put in a
	// key, and so that login names do not sit in memory in clear.
	entries map[[sha256.Size]byte]*list.Element
	lru     *list.List // of *entry; front = most recently seen
}

type entry struct {
	key     [sha256.Size]byte
	limiter *rate.Limiter
	// lastUsed is the last counted attempt; from lastUsed+window on the bucket is full again.
	lastUsed time.Time
}

// evictionSample is how many of the least recently seen entries are compared when one must go
// to make room.
const evictionSample = 8

var _ Limiter = (*Memory)(nil)

// NewMemory returns a limiter allowing limit attempts per window per key. now is the clock
// (time.Now when nil); tests pass a fake one.
//
// NewMemory panics when limit < 1 or window is shorter than limit nanoseconds: that is a configuration mistake to be caught
// at start, and no meaningful limiter exists for it.
func NewMemory(limit int, window time.Duration, now func() time.Time, opts ...Option) *Memory {
	// window < limit would make the refill interval zero, which x/time/rate reads as "no limit".
	if limit < 1 || window < time.Duration(limit) {
		panic(fmt.Sprintf("ratelimit: NewMemory needs limit >= 1 and window >= limit ns, got %d per %v", limit, window))
	}
	if now == nil {
		now = time.Now
	}
	m := &Memory{
		limit:   limit,
		window:  window,
		every:   rate.Every(window / time.Duration(limit)),
		now:     now,
		maxKeys: DefaultMaxKeys,
		entries: make(map[[sha256.Size]byte]*list.Element),
		lru:     list.New(),
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Allow counts one attempt for key. A refused attempt is not counted, so a client that waits
// RetryAfter is let through instead of being pushed further back.
func (m *Memory) Allow(ctx context.Context, key string) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	k := sha256.Sum256([]byte(key))
	now := m.now()

	m.mu.Lock()
	defer m.mu.Unlock()
	m.evictIdle(now)
	el := m.get(k, now)
	m.lru.MoveToFront(el)
	e := el.Value.(*entry)
	r := e.limiter.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		// Cancelling puts the bucket back as it was: a refused attempt costs nothing, so a client
		// that waits RetryAfter gets through.
		r.CancelAt(now)
		return Decision{Allowed: false, RetryAfter: ceilMicro(delay)}, nil
	}
	e.lastUsed = now
	return Decision{Allowed: true}, nil
}

// ceilMicro rounds d up to the microsecond. The bucket counts tokens in float64, so a delay can
// come out a nanosecond short of the true one (59.999999999s); rounding up keeps "wait
// RetryAfter, then try" always sufficient.
func ceilMicro(d time.Duration) time.Duration {
	if r := d % time.Microsecond; r != 0 {
		d += time.Microsecond - r
	}
	return d
}

// Reset forgets key.
func (m *Memory) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := sha256.Sum256([]byte(key))
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[k]; ok {
		m.lru.Remove(el)
		delete(m.entries, k)
	}
	return nil
}

// Len is the number of keys currently tracked.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// get returns key's element, creating it when absent (first making room when full).
// m.mu must be held.
func (m *Memory) get(k [sha256.Size]byte, now time.Time) *list.Element {
	if el, ok := m.entries[k]; ok {
		return el
	}
	for len(m.entries) >= m.maxKeys {
		m.evictFullest(now)
	}
	el := m.lru.PushFront(&entry{key: k, limiter: rate.NewLimiter(m.every, m.limit), lastUsed: now})
	m.entries[k] = el
	return el
}

// evictIdle drops entries whose bucket has refilled completely. It walks from the least recently
// seen and stops at the first entry still in its window, so its cost is amortised over the
// insertions. Refused attempts also move an entry to the front, so an idle entry can sit in
// front of a busy one for a while; it goes later (or first, under evictFullest, having the most
// tokens), and maxKeys bounds memory meanwhile. m.mu must be held.
func (m *Memory) evictIdle(now time.Time) {
	for back := m.lru.Back(); back != nil; back = m.lru.Back() {
		e := back.Value.(*entry)
		if now.Sub(e.lastUsed) < m.window {
			return
		}
		m.remove(back)
	}
}

// evictFullest drops, among the evictionSample least recently seen entries, the one with the
// most tokens left: forgetting it gives its key the fewest extra attempts. m.mu must be held.
func (m *Memory) evictFullest(now time.Time) {
	var victim *list.Element
	best := -1.0
	el := m.lru.Back()
	for i := 0; i < evictionSample && el != nil; i++ {
		if tokens := el.Value.(*entry).limiter.TokensAt(now); tokens > best {
			victim, best = el, tokens
		}
		el = el.Prev()
	}
	if victim != nil {
		m.remove(victim)
	}
}

func (m *Memory) remove(el *list.Element) {
	m.lru.Remove(el)
	delete(m.entries, el.Value.(*entry).key)
}
