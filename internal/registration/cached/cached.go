// Package cached is a read-through cache of registrations in front of a registration.Store: Get
// and GetByEmail answer from memory when they can, every other method goes to the store.
//
// It is correct only when every write to the registrations goes through the one Store that owns
// the cache, which holds for the embedded SQLite mode (one process owns the file). Never put it in
// front of a database that several instances share (PostgreSQL): this instance's cache would not
// see the others' writes and would answer with rows they have changed or deleted.
//
// What keeps it right:
//
//   - One entry per registration, reachable by tenant+id and by tenant+lowered email (the store's
//     own key), holding a private deep copy; callers get deep copies too, so nobody can change a
//     cached value. ErrNotFound is never cached: a Create needs no invalidation of absent keys.
//   - Every write that can change a registration (Create, Update, Delete, here and on the
//     Store InTx hands out) brackets the database write: before it, the id's entry is removed and
//     the id is marked "being written"; after it (for a transaction: after the commit or rollback)
//     the entry is removed again, along with the entries under the emails the write named.
//   - A fill is kept only if the row's id was neither being written nor invalidated since the read
//     began (a sequence number per stripe of ids). Otherwise a read of the old row that finished
//     after the writer invalidated would put the old row back for good.
//
// Together: while a write of an id is in flight the id is read from the database, and once the
// write has returned no read can be answered with what was there before it.
package cached

import (
	"context"
	"hash/maphash"
	"maps"
	"sync"
	"time"

	"usersorchestrator/internal/emailaddr"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// DefaultMaxEntries is the bound on cached registrations when Options.MaxEntries is 0. A
// registration is about half a kilobyte: some 10 MB at most, indexes included.
const DefaultMaxEntries = 10_000

// stripes is how many slots the write bookkeeping has. Ids are hashed onto them; two ids sharing
// a slot only make each other's fills be dropped a little more often, never wrong.
const stripes = 1024

// Options tune New.
type Options struct {
	// MaxEntries bounds the registrations held; 0 means DefaultMaxEntries. A full cache drops a
	// random entry for each new one.
	MaxEntries int
	// TTL is how long an entry may be served; 0 means until a write or eviction removes it.
	// Invalidation is what keeps the cache right; a TTL only bounds how long a change the cache
	// cannot see (a write to the file by another program) goes unnoticed.
	TTL time.Duration
	// Now is the clock of TTL; time.Now when nil.
	Now func() time.Time
}

// Store is registration.Store with its registration reads cached. The Store that InTx hands to fn
// is bound to the transaction: it reads through to it and only invalidates.
type Store struct {
	inner registration.Store
	c     *cache
	// tx is set on the Store bound to a transaction.
	tx *txWrites
}

var _ registration.Store = (*Store)(nil)

// New puts a cache in front of inner. The Store owns inner: Close closes it.
func New(inner registration.Store, opts Options) *Store {
	maxEntries := opts.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{inner: inner, c: &cache{
		byID:    make(map[idKey]*entry),
		byEmail: make(map[emailKey]*entry),
		seed:    maphash.MakeSeed(),
		max:     maxEntries,
		ttl:     opts.TTL,
		now:     now,
	}}
}

type idKey struct {
	t  tenant.Key
	id string
}

// emailKey holds the lowered email, as the store matches it (strings.ToLower, the store's rule).
type emailKey struct {
	t     tenant.Key
	email string
}

// entry is one cached registration. It is never changed once stored: readers copy reg outside
// the lock, and a newer row replaces the entry instead of updating it.
type entry struct {
	reg     registration.Registration
	email   string    // lowered reg.Email: its key in byEmail
	expires time.Time // zero when there is no TTL
}

func (e *entry) idKey() idKey       { return idKey{e.reg.Tenant, e.reg.CustomerRegistrationID} }
func (e *entry) emailKey() emailKey { return emailKey{e.reg.Tenant, e.email} }

type cache struct {
	mu      sync.Mutex
	byID    map[idKey]*entry
	byEmail map[emailKey]*entry
	// seq counts invalidations. lastInval[s] is the seq of the latest invalidation of an id of
	// stripe s, and writing[s] the number of writes of its ids in flight (begun, not yet ended).
	seq       uint64
	lastInval [stripes]uint64
	writing   [stripes]int32
	closed    bool

	seed maphash.Seed
	max  int
	ttl  time.Duration
	now  func() time.Time
}

func (c *cache) stripe(k idKey) int {
	return int(maphash.Comparable(c.seed, k) % stripes)
}

// lookup returns a copy of the entry under k if there is a fresh one. Otherwise it returns the
// sequence number a fill of what the caller reads next must be checked against.
func lookup[K comparable](c *cache, index map[K]*entry, k K) (registration.Registration, bool, uint64) {
	var now time.Time
	if c.ttl > 0 {
		now = c.now()
	}
	c.mu.Lock()
	e, ok := index[k]
	if ok && c.ttl > 0 && !now.Before(e.expires) {
		c.remove(e)
		ok = false
	}
	seq := c.seq
	c.mu.Unlock()
	if !ok {
		return registration.Registration{}, false, seq
	}
	return clone(e.reg), true, 0
}

// fill caches r, read by a lookup that began at seq, unless r's id was written since then or is
// being written now: then r may be older than the database, and caching it would outlive the
// write's invalidation.
func (c *cache) fill(r registration.Registration, seq uint64) {
	e := &entry{reg: clone(r), email: emailaddr.Key(r.Email)}
	if c.ttl > 0 {
		e.expires = c.now().Add(c.ttl)
	}
	k := e.idKey()
	s := c.stripe(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.writing[s] > 0 || c.lastInval[s] > seq {
		return
	}
	// Whatever is cached under either key is replaced (both keys of an older entry go with it).
	if old := c.byID[k]; old != nil {
		c.remove(old)
	}
	if old := c.byEmail[e.emailKey()]; old != nil {
		c.remove(old)
	}
	for len(c.byID) >= c.max {
		c.evictOne()
	}
	c.byID[k] = e
	c.byEmail[e.emailKey()] = e
}

// remove drops e under both its keys.
func (c *cache) remove(e *entry) {
	if k := e.idKey(); c.byID[k] == e {
		delete(c.byID, k)
	}
	if k := e.emailKey(); c.byEmail[k] == e {
		delete(c.byEmail, k)
	}
}

// evictOne drops one entry. Map iteration starts at a random place, which makes this a random
// eviction at O(1): no bookkeeping on the hit path, which is the one that matters.
func (c *cache) evictOne() {
	for _, e := range c.byID {
		c.remove(e)
		return
	}
}

// invalidate removes what is cached for the id and under the emails, and records the
// invalidation so that fills of reads begun before it are dropped. delta moves the id's count of
// writes in flight: +1 when a write begins, -1 when it ends, 0 for neither.
func (c *cache) invalidate(k idKey, delta int32, emails ...string) {
	s := c.stripe(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.lastInval[s] = c.seq
	c.writing[s] += delta
	if e := c.byID[k]; e != nil {
		c.remove(e)
	}
	for _, email := range emails {
		if e := c.byEmail[emailKey{k.t, emailaddr.Key(email)}]; e != nil {
			c.remove(e)
		}
	}
}

func (c *cache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	clear(c.byID)
	clear(c.byEmail)
}

// clone deep-copies r: the pointers and the map are r's own afterwards.
func clone(r registration.Registration) registration.Registration {
	if r.FirstName != nil {
		v := *r.FirstName
		r.FirstName = &v
	}
	if r.LastName != nil {
		v := *r.LastName
		r.LastName = &v
	}
	if r.LastLogoutDate != nil {
		v := *r.LastLogoutDate
		r.LastLogoutDate = &v
	}
	if r.PasswordChangedAt != nil {
		v := *r.PasswordChangedAt
		r.PasswordChangedAt = &v
	}
	r.Metadata = maps.Clone(r.Metadata) // nil stays nil
	return r
}

// txWrites are the ids a transaction wrote: they stay "being written" until it ends.
type txWrites struct {
	mu   sync.Mutex
	keys []written
	// ended is set when InTx has ended the writes; a write through the transaction's Store after
	// that (a misuse, which the inner store refuses) is bracketed on its own.
	ended bool
}

type written struct {
	k      idKey
	emails []string
}

// write runs a write of the id k that names emails, bracketed by invalidations: the id is
// uncacheable from before the write starts until after it ends. In a transaction the write ends
// with the transaction (InTx ends it), not when the statement returns: until the commit, readers
// outside still see the old row, and must not cache it past the commit.
func (s *Store) write(k idKey, emails []string, fn func() error) error {
	if s.tx != nil {
		s.tx.mu.Lock()
		if !s.tx.ended {
			s.tx.keys = append(s.tx.keys, written{k, emails})
			s.c.invalidate(k, +1, emails...)
			s.tx.mu.Unlock()
			return fn()
		}
		s.tx.mu.Unlock()
	}
	s.c.invalidate(k, +1, emails...)
	// Ended whatever fn does, failure and panic included: a failed write may still have landed
	// (an error reading the result of a committed statement), and a write left "in flight" would
	// keep its stripe uncacheable for good.
	defer func() { s.c.invalidate(k, -1, emails...) }()
	return fn()
}

// Create inserts r; see registration.Store.
func (s *Store) Create(ctx context.Context, r registration.Registration) error {
	return s.write(idKey{r.Tenant, r.CustomerRegistrationID}, []string{r.Email}, func() error {
		return s.inner.Create(ctx, r)
	})
}

// Get returns the registration with this id, from the cache when it holds it. In a transaction
// it reads the transaction: its own writes are not committed, so they are neither served from nor
// put in the cache.
func (s *Store) Get(ctx context.Context, t tenant.Key, customerRegistrationID string) (registration.Registration, error) {
	if s.tx != nil {
		return s.inner.Get(ctx, t, customerRegistrationID)
	}
	r, ok, seq := lookup(s.c, s.c.byID, idKey{t, customerRegistrationID})
	if ok {
		return r, nil
	}
	r, err := s.inner.Get(ctx, t, customerRegistrationID)
	if err != nil {
		return r, err
	}
	s.c.fill(r, seq)
	return r, nil
}

// GetByEmail returns the registration with this email (ignoring case), from the cache when it
// holds it; in a transaction it reads the transaction, as Get does.
func (s *Store) GetByEmail(ctx context.Context, t tenant.Key, email string) (registration.Registration, error) {
	if s.tx != nil {
		return s.inner.GetByEmail(ctx, t, email)
	}
	r, ok, seq := lookup(s.c, s.c.byEmail, emailKey{t, emailaddr.Key(email)})
	if ok {
		return r, nil
	}
	r, err := s.inner.GetByEmail(ctx, t, email)
	if err != nil {
		return r, err
	}
	// Checked against the id found: a write that changed this row (its email included) began or
	// ended after seq, and any other row can only take this email by such a write of this one.
	s.c.fill(r, seq)
	return r, nil
}

// Update stores r if its Version is current. The old email's entry goes with the id's entry (an
// entry is reachable by both); r's email is named too in case another entry holds it.
func (s *Store) Update(ctx context.Context, r registration.Registration) (registration.Registration, error) {
	var out registration.Registration
	err := s.write(idKey{r.Tenant, r.CustomerRegistrationID}, []string{r.Email}, func() error {
		var err error
		out, err = s.inner.Update(ctx, r)
		return err
	})
	return out, err
}

// Delete removes the registration and its tokens.
func (s *Store) Delete(ctx context.Context, t tenant.Key, customerRegistrationID string) error {
	return s.write(idKey{t, customerRegistrationID}, nil, func() error {
		return s.inner.Delete(ctx, t, customerRegistrationID)
	})
}

// InTx runs fn in one transaction of the inner store, with a Store bound to it that invalidates
// what it writes. The ids written stay uncacheable until the transaction has ended, committed or
// rolled back (or fn panicked), and are invalidated again then. Nested, it runs in the
// transaction's savepoint and leaves the ending to the outermost InTx.
func (s *Store) InTx(ctx context.Context, fn func(tx registration.Store) error) error {
	if s.tx != nil {
		return s.inner.InTx(ctx, func(tx registration.Store) error {
			return fn(&Store{inner: tx, c: s.c, tx: s.tx})
		})
	}
	w := &txWrites{}
	defer func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, wr := range w.keys {
			s.c.invalidate(wr.k, -1, wr.emails...)
		}
		w.keys, w.ended = nil, true
	}()
	return s.inner.InTx(ctx, func(tx registration.Store) error {
		return fn(&Store{inner: tx, c: s.c, tx: w})
	})
}

// Close closes the inner store and empties the cache, so that a closed Store answers nothing
// from memory either.
func (s *Store) Close() error {
	if s.tx == nil {
		s.c.close()
	}
	return s.inner.Close()
}

// The methods below touch no registration row: they go straight to the inner store. They are
// written out rather than inherited by embedding so that a method added to registration.Store
// does not compile here until someone decides whether it must invalidate.

// Search reads one page of matches; it neither uses nor fills the cache.
func (s *Store) Search(ctx context.Context, t tenant.Key, q registration.Query) ([]registration.Registration, int64, error) {
	return s.inner.Search(ctx, t, q)
}

// PutToken stores a token (tokens are not registrations).
func (s *Store) PutToken(ctx context.Context, tok registration.Token) error {
	return s.inner.PutToken(ctx, tok)
}

// GetToken reads a token.
func (s *Store) GetToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (registration.Token, error) {
	return s.inner.GetToken(ctx, t, p, id)
}

// UseToken marks a token used.
func (s *Store) UseToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string, at time.Time) error {
	return s.inner.UseToken(ctx, t, p, id, at)
}

// RevokeTokens ends a user's unused tokens (tokens are not registrations).
func (s *Store) RevokeTokens(ctx context.Context, t tenant.Key, crid string, p registration.Purpose, at time.Time) (int64, error) {
	return s.inner.RevokeTokens(ctx, t, crid, p, at)
}

// RecordTokenFailure counts a wrong attempt on a token.
func (s *Store) RecordTokenFailure(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (int, error) {
	return s.inner.RecordTokenFailure(ctx, t, p, id)
}

// RecordEvent stores an event.
func (s *Store) RecordEvent(ctx context.Context, e registration.Event) (int64, error) {
	return s.inner.RecordEvent(ctx, e)
}

// RecordEvents stores events.
func (s *Store) RecordEvents(ctx context.Context, es []registration.Event) error {
	return s.inner.RecordEvents(ctx, es)
}

// ListEvents reads a user's events.
func (s *Store) ListEvents(ctx context.Context, t tenant.Key, customerRegistrationID string, limit, offset int) ([]registration.Event, int64, error) {
	return s.inner.ListEvents(ctx, t, customerRegistrationID, limit, offset)
}

// EnqueueEmail adds an email to the outbox.
func (s *Store) EnqueueEmail(ctx context.Context, e registration.Email) (int64, error) {
	return s.inner.EnqueueEmail(ctx, e)
}

// DueEmails reads the due emails.
func (s *Store) DueEmails(ctx context.Context, now time.Time, limit int) ([]registration.Email, error) {
	return s.inner.DueEmails(ctx, now, limit)
}

// ClaimDueEmails claims due emails.
func (s *Store) ClaimDueEmails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]registration.Email, error) {
	return s.inner.ClaimDueEmails(ctx, now, lease, limit)
}

// MarkEmailSent records a delivery.
func (s *Store) MarkEmailSent(ctx context.Context, id int64, at time.Time) error {
	return s.inner.MarkEmailSent(ctx, id, at)
}

// MarkEmailFailed records a failed delivery.
func (s *Store) MarkEmailFailed(ctx context.Context, id int64, next time.Time, lastError string) error {
	return s.inner.MarkEmailFailed(ctx, id, next, lastError)
}

// ScrubEmails blanks the bodies of expired or abandoned unsent emails.
func (s *Store) ScrubEmails(ctx context.Context, now time.Time, ids ...int64) (int64, error) {
	return s.inner.ScrubEmails(ctx, now, ids...)
}

// OutboxBacklog counts the unsent emails.
func (s *Store) OutboxBacklog(ctx context.Context) (int64, error) {
	return s.inner.OutboxBacklog(ctx)
}

// AllowAttempt counts an attempt against a rate limit bucket.
func (s *Store) AllowAttempt(ctx context.Context, keyHash []byte, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	return s.inner.AllowAttempt(ctx, keyHash, now, interval, burst)
}

// ResetAttempts forgets a rate limit bucket.
func (s *Store) ResetAttempts(ctx context.Context, keyHash []byte) error {
	return s.inner.ResetAttempts(ctx, keyHash)
}

// SweepAttempts deletes full buckets.
func (s *Store) SweepAttempts(ctx context.Context, now time.Time, max int) (int64, error) {
	return s.inner.SweepAttempts(ctx, now, max)
}

// PruneEvents deletes events past retention (never a registration: nothing cached changes).
func (s *Store) PruneEvents(ctx context.Context, typeCodes []string, before time.Time, limit int) (int64, error) {
	return s.inner.PruneEvents(ctx, typeCodes, before, limit)
}

// PruneTokens deletes tokens past retention.
func (s *Store) PruneTokens(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.inner.PruneTokens(ctx, before, limit)
}

// PruneSentEmails deletes sent emails past retention.
func (s *Store) PruneSentEmails(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.inner.PruneSentEmails(ctx, before, limit)
}

// PruneAbandonedEmails deletes blank unsent emails past retention.
func (s *Store) PruneAbandonedEmails(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.inner.PruneAbandonedEmails(ctx, before, limit)
}

// Ping checks the inner store.
func (s *Store) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }
