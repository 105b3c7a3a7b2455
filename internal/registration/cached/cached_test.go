package cached_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/cached"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/registration/storetest"
	"usersorchestrator/internal/tenant"
)

// The whole store suite, through the cache: once as the service runs it, once with a cache of one
// entry, so that every read of the suite also meets eviction.
func TestStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts cached.Options
	}{
		{"default", cached.Options{}},
		{"one entry", cached.Options{MaxEntries: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, n int) []registration.Store {
				path := filepath.Join(t.TempDir(), "uo.db")
				stores := make([]registration.Store, n)
				for i := range stores {
					inner := openSQLite(t, path)
					stores[i] = withEmail{cached.New(inner, tc.opts), inner}
					t.Cleanup(func() {
						if err := stores[i].Close(); err != nil {
							t.Errorf("close: %v", err)
						}
					})
				}
				return stores
			})
		})
	}
}

// withEmail adds the outbox read the suite needs beyond registration.Store (to see that a sent
// email's body is gone); it is not the cache's business, so the test takes it from the database.
type withEmail struct {
	*cached.Store
	db *sqlite.Store
}

func (w withEmail) Email(ctx context.Context, id int64) (registration.Email, error) {
	return w.db.Email(ctx, id)
}

func openSQLite(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// spy is the SQLite store with its registration reads counted, and hooks that pause a read after
// it has read the database or a write after it has committed, to stage races step by step.
type spy struct {
	registration.Store
	reads       atomic.Int64
	afterRead   atomic.Pointer[func()]
	afterUpdate atomic.Pointer[func()]
}

func (s *spy) Get(ctx context.Context, t tenant.Key, id string) (registration.Registration, error) {
	s.reads.Add(1)
	r, err := s.Store.Get(ctx, t, id)
	if h := s.afterRead.Load(); h != nil {
		(*h)()
	}
	return r, err
}

func (s *spy) GetByEmail(ctx context.Context, t tenant.Key, email string) (registration.Registration, error) {
	s.reads.Add(1)
	r, err := s.Store.GetByEmail(ctx, t, email)
	if h := s.afterRead.Load(); h != nil {
		(*h)()
	}
	return r, err
}

func (s *spy) Update(ctx context.Context, r registration.Registration) (registration.Registration, error) {
	out, err := s.Store.Update(ctx, r)
	if h := s.afterUpdate.Load(); h != nil {
		(*h)()
	}
	return out, err
}

// fixture is a cached store over a spy over a fresh SQLite file; db reads the file directly, as
// the truth to compare the cache with.
type fixture struct {
	t     *testing.T
	cache *cached.Store
	spy   *spy
	db    *sqlite.Store
}

func newFixture(t *testing.T, opts cached.Options) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "uo.db")
	sp := &spy{Store: openSQLite(t, path)}
	f := &fixture{t: t, cache: cached.New(sp, opts), spy: sp, db: openSQLite(t, path)}
	t.Cleanup(func() {
		if err := errors.Join(f.cache.Close(), f.db.Close()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return f
}

var tk = tenant.Key{ClientCode: "C", PaperCode: "P", ClientGroupCode: "G"}

func newReg(id, email string) registration.Registration {
	first := "Ada"
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return registration.Registration{
		Tenant: tk, CustomerRegistrationID: id, Email: email, FirstName: &first,
		Metadata: map[string]string{"plan": "gold"}, LastLogoutDate: &at, AddDate: at, ChangeDate: at,
	}
}

func (f *fixture) create(r registration.Registration) {
	f.t.Helper()
	if err := f.cache.Create(f.t.Context(), r); err != nil {
		f.t.Fatalf("create %s: %v", r.CustomerRegistrationID, err)
	}
}

func (f *fixture) get(id string) registration.Registration {
	f.t.Helper()
	r, err := f.cache.Get(f.t.Context(), tk, id)
	if err != nil {
		f.t.Fatalf("get %s: %v", id, err)
	}
	return r
}

// update changes the registration with id through the cache, from its current version.
func (f *fixture) update(s registration.Store, id string, change func(*registration.Registration)) registration.Registration {
	f.t.Helper()
	cur, err := s.Get(f.t.Context(), tk, id)
	if err != nil {
		f.t.Fatalf("get %s to update: %v", id, err)
	}
	change(&cur)
	out, err := s.Update(f.t.Context(), cur)
	if err != nil {
		f.t.Fatalf("update %s: %v", id, err)
	}
	return out
}

// lookup is one read to check: by id, or by email when email is set.
type lookup struct{ id, email string }

func (l lookup) String() string {
	if l.email != "" {
		return "email " + l.email
	}
	return "id " + l.id
}

func (l lookup) from(ctx context.Context, s registration.Store) (registration.Registration, error) {
	if l.email != "" {
		return s.GetByEmail(ctx, tk, l.email)
	}
	return s.Get(ctx, tk, l.id)
}

// agrees checks that each lookup through the cache answers what the database holds, twice (the
// second answer may come from the cache the first one filled).
func (f *fixture) agrees(lookups ...lookup) {
	f.t.Helper()
	for _, l := range lookups {
		want, wantErr := l.from(f.t.Context(), f.db)
		for i := range 2 {
			got, err := l.from(f.t.Context(), f.cache)
			if !errors.Is(err, wantErr) && !(err == nil && wantErr == nil) {
				f.t.Fatalf("%s (read %d): error %v, the database says %v", l, i+1, err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				f.t.Fatalf("%s (read %d): the cache says %s, the database %s", l, i+1, show(got), show(want))
			}
		}
	}
}

// show prints a registration with its pointers followed, for failure messages.
func show(r registration.Registration) string {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Sprintf("%+v", r)
	}
	return string(b)
}

// expect checks one lookup's outcome: the version read, or 0 for ErrNotFound.
func (f *fixture) expect(l lookup, version int64) {
	f.t.Helper()
	r, err := l.from(f.t.Context(), f.cache)
	switch {
	case version == 0 && !errors.Is(err, registration.ErrNotFound):
		f.t.Fatalf("%s: %v (version %d), want ErrNotFound", l, err, r.Version)
	case version != 0 && err != nil:
		f.t.Fatalf("%s: %v, want version %d", l, err, version)
	case r.Version != version:
		f.t.Fatalf("%s: version %d, want %d", l, r.Version, version)
	}
}

func TestReadsAreServedFromTheCache(t *testing.T) {
	f := newFixture(t, cached.Options{})
	f.create(newReg("u1", "Ada@Example.com"))
	reads := func(want int64) {
		t.Helper()
		if got := f.spy.reads.Load(); got != want {
			t.Fatalf("%d reads reached the database, want %d", got, want)
		}
	}
	f.get("u1")
	reads(1)
	f.get("u1")
	// The entry filled by id answers by email too, whatever the case.
	for _, email := range []string{"Ada@Example.com", "ada@example.com", "ADA@EXAMPLE.COM"} {
		if _, err := f.cache.GetByEmail(t.Context(), tk, email); err != nil {
			t.Fatal(err)
		}
	}
	reads(1)
	// Misses are not cached: each asks the database again.
	for range 2 {
		if _, err := f.cache.Get(t.Context(), tk, "nobody"); !errors.Is(err, registration.ErrNotFound) {
			t.Fatalf("missing id: %v", err)
		}
	}
	reads(3)
	// Another tenant with the same id is another key.
	other := tk
	other.PaperCode = "Q"
	if _, err := f.cache.Get(t.Context(), other, "u1"); !errors.Is(err, registration.ErrNotFound) {
		t.Fatalf("u1 of another tenant: %v, want ErrNotFound", err)
	}
	reads(4)
}

// Nothing a caller does to a registration it was given or gave reaches the cache.
func TestCallersCannotChangeTheCache(t *testing.T) {
	f := newFixture(t, cached.Options{})
	f.create(newReg("u1", "ada@example.com"))
	f.get("u1")         // the filling read
	want := f.get("u1") // served from the cache
	scribble := func(r *registration.Registration) {
		*r.FirstName = "Mallory"
		*r.LastLogoutDate = time.Time{}
		r.Metadata["plan"] = "free"
		r.Metadata["admin"] = "yes"
		r.Email = "mallory@example.com"
	}
	for _, l := range []lookup{{id: "u1"}, {email: "ada@example.com"}} {
		for i := range 3 {
			got, err := l.from(t.Context(), f.cache)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s read %d: %s, want %s", l, i, show(got), show(want))
			}
			scribble(&got)
		}
	}
	if f.spy.reads.Load() != 1 {
		t.Fatalf("%d reads reached the database, want 1: the test must exercise the cached copies", f.spy.reads.Load())
	}
	// What a miss returns is the caller's too: the copy cached at the fill is another.
	f.update(f.cache, "u1", func(r *registration.Registration) { r.AuthSystem = "Auth0" })
	filled, err := f.cache.Get(t.Context(), tk, "u1")
	if err != nil {
		t.Fatal(err)
	}
	want = filled
	want.FirstName, want.LastLogoutDate = new(*filled.FirstName), new(*filled.LastLogoutDate)
	want.Metadata = map[string]string{"plan": "gold"}
	scribble(&filled)
	f.agrees(lookup{id: "u1"})
	if got := f.get("u1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after changing the filling read's result: %s, want %s", show(got), show(want))
	}
}

var errBoom = errors.New("boom")

// Each write through the cache, outside and inside transactions, leaves nothing stale behind: the
// reads, warmed before the write, answer what the database holds after it.
func TestWritesInvalidate(t *testing.T) {
	ids := []lookup{{id: "u1"}, {id: "u2"}, {email: "one@example.com"}, {email: "two@example.com"}, {email: "new@example.com"}}
	tests := []struct {
		name string
		// write runs on a store holding u1 (one@) and u2 (two@) at version 1, all read into the cache.
		write func(f *fixture) error
		// then checks the outcome beyond the cache agreeing with the database.
		then map[lookup]int64
	}{
		{
			name: "update",
			write: func(f *fixture) error {
				f.update(f.cache, "u1", func(r *registration.Registration) { r.FirstName = new("Changed") })
				return nil
			},
			then: map[lookup]int64{{id: "u1"}: 2, {email: "one@example.com"}: 2},
		},
		{
			name: "update of the email",
			write: func(f *fixture) error {
				f.update(f.cache, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
				return nil
			},
			then: map[lookup]int64{{id: "u1"}: 2, {email: "one@example.com"}: 0, {email: "NEW@example.com"}: 2},
		},
		{
			name: "update of the email's case",
			write: func(f *fixture) error {
				f.update(f.cache, "u1", func(r *registration.Registration) { r.Email = "ONE@example.com" })
				return nil
			},
			then: map[lookup]int64{{id: "u1"}: 2, {email: "one@example.com"}: 2},
		},
		{
			name: "an email moving to another registration",
			write: func(f *fixture) error {
				f.update(f.cache, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
				f.update(f.cache, "u2", func(r *registration.Registration) { r.Email = "one@example.com" })
				return nil
			},
			then: map[lookup]int64{{email: "one@example.com"}: 2, {email: "two@example.com"}: 0, {email: "new@example.com"}: 2},
		},
		{
			name: "stale update",
			write: func(f *fixture) error {
				stale := f.get("u1")
				f.update(f.cache, "u1", func(r *registration.Registration) { r.FirstName = new("Changed") })
				if _, err := f.cache.Update(f.t.Context(), stale); !errors.Is(err, registration.ErrConflict) {
					return fmt.Errorf("stale update: %v, want ErrConflict", err)
				}
				return nil
			},
			then: map[lookup]int64{{id: "u1"}: 2},
		},
		{
			name:  "delete",
			write: func(f *fixture) error { return f.cache.Delete(f.t.Context(), tk, "u1") },
			then:  map[lookup]int64{{id: "u1"}: 0, {email: "one@example.com"}: 0, {id: "u2"}: 1},
		},
		{
			name: "create after a miss",
			write: func(f *fixture) error {
				if _, err := f.cache.GetByEmail(f.t.Context(), tk, "new@example.com"); !errors.Is(err, registration.ErrNotFound) {
					return fmt.Errorf("before create: %v", err)
				}
				return f.cache.Create(f.t.Context(), newReg("u3", "new@example.com"))
			},
			then: map[lookup]int64{{email: "new@example.com"}: 1, {id: "u3"}: 1},
		},
		{
			name: "update in a transaction",
			write: func(f *fixture) error {
				return f.cache.InTx(f.t.Context(), func(tx registration.Store) error {
					f.update(tx, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
					return nil
				})
			},
			then: map[lookup]int64{{id: "u1"}: 2, {email: "one@example.com"}: 0, {email: "new@example.com"}: 2},
		},
		{
			name: "delete in a transaction",
			write: func(f *fixture) error {
				return f.cache.InTx(f.t.Context(), func(tx registration.Store) error { return tx.Delete(f.t.Context(), tk, "u2") })
			},
			then: map[lookup]int64{{id: "u2"}: 0, {email: "two@example.com"}: 0},
		},
		{
			name: "update in a nested transaction",
			write: func(f *fixture) error {
				return f.cache.InTx(f.t.Context(), func(tx registration.Store) error {
					return tx.InTx(f.t.Context(), func(inner registration.Store) error {
						f.update(inner, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
						return nil
					})
				})
			},
			then: map[lookup]int64{{id: "u1"}: 2, {email: "one@example.com"}: 0, {email: "new@example.com"}: 2},
		},
		{
			// The old row is read and cached from outside while the transaction is open, and
			// legitimately so: it is still what is committed. The commit must remove it.
			name: "update in a transaction, read from outside before the commit",
			write: func(f *fixture) error {
				return f.cache.InTx(f.t.Context(), func(tx registration.Store) error {
					f.update(tx, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
					for _, l := range []lookup{{id: "u1"}, {email: "one@example.com"}} {
						if r, err := l.from(f.t.Context(), f.cache); err != nil || r.Version != 1 {
							return fmt.Errorf("%s from outside before the commit: version %d, %v; want the committed version 1", l, r.Version, err)
						}
					}
					return nil
				})
			},
			then: map[lookup]int64{{id: "u1"}: 2, {email: "one@example.com"}: 0, {email: "new@example.com"}: 2},
		},
		{
			name: "rolled-back transaction",
			write: func(f *fixture) error {
				err := f.cache.InTx(f.t.Context(), func(tx registration.Store) error {
					f.update(tx, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
					if err := tx.Delete(f.t.Context(), tk, "u2"); err != nil {
						return err
					}
					// Inside, the transaction reads its own writes; outside still reads the committed rows.
					if r, err := tx.GetByEmail(f.t.Context(), tk, "new@example.com"); err != nil || r.Version != 2 {
						return fmt.Errorf("own write in the transaction: version %d, %v", r.Version, err)
					}
					if r, err := f.cache.Get(f.t.Context(), tk, "u1"); err != nil || r.Version != 1 {
						return fmt.Errorf("outside, before the rollback: version %d, %v; want 1", r.Version, err)
					}
					return errBoom
				})
				if !errors.Is(err, errBoom) {
					return fmt.Errorf("InTx: %v, want errBoom", err)
				}
				return nil
			},
			then: map[lookup]int64{{id: "u1"}: 1, {email: "one@example.com"}: 1, {email: "new@example.com"}: 0, {id: "u2"}: 1},
		},
		{
			name: "transaction that panics",
			write: func(f *fixture) (err error) {
				defer func() {
					if p := recover(); p != errBoom {
						err = fmt.Errorf("recovered %v, want errBoom", p)
					}
				}()
				return f.cache.InTx(f.t.Context(), func(tx registration.Store) error {
					f.update(tx, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
					panic(errBoom)
				})
			},
			then: map[lookup]int64{{id: "u1"}: 1, {email: "one@example.com"}: 1, {email: "new@example.com"}: 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cached.Options{})
			f.create(newReg("u1", "one@example.com"))
			f.create(newReg("u2", "two@example.com"))
			f.agrees(ids...) // warms the cache
			if err := tc.write(f); err != nil {
				t.Fatal(err)
			}
			for l, v := range tc.then {
				f.expect(l, v)
			}
			f.agrees(ids...)
			f.agrees(lookup{id: "u3"})
		})
	}
}

// The classic race, staged step by step: a read gets the old row from the database, a write
// lands and invalidates, then the read goes on to fill the cache. The fill must be dropped.
func TestFillAfterInvalidateIsDropped(t *testing.T) {
	writes := []struct {
		name  string
		write func(f *fixture)
		check []lookup
	}{
		{"update", func(f *fixture) {
			f.update(f.cache, "u1", func(r *registration.Registration) { r.FirstName = new("Changed") })
		}, []lookup{{id: "u1"}, {email: "one@example.com"}}},
		{"update of the email", func(f *fixture) {
			cur, _ := f.db.Get(f.t.Context(), tk, "u1")
			cur.Email = "new@example.com"
			if _, err := f.cache.Update(f.t.Context(), cur); err != nil {
				f.t.Fatal(err)
			}
		}, []lookup{{id: "u1"}, {email: "one@example.com"}, {email: "new@example.com"}}},
		{"delete", func(f *fixture) {
			if err := f.cache.Delete(f.t.Context(), tk, "u1"); err != nil {
				f.t.Fatal(err)
			}
		}, []lookup{{id: "u1"}, {email: "one@example.com"}}},
		{"update in a transaction", func(f *fixture) {
			err := f.cache.InTx(f.t.Context(), func(tx registration.Store) error {
				f.update(tx, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
				return nil
			})
			if err != nil {
				f.t.Fatal(err)
			}
		}, []lookup{{id: "u1"}, {email: "one@example.com"}, {email: "new@example.com"}}},
	}
	for _, w := range writes {
		for _, read := range []lookup{{id: "u1"}, {email: "one@example.com"}} {
			t.Run(w.name+" during a read by "+read.String(), func(t *testing.T) {
				f := newFixture(t, cached.Options{})
				f.create(newReg("u1", "one@example.com"))
				readDone, release := make(chan struct{}), make(chan struct{})
				releaseOnce := sync.OnceFunc(func() { close(release) })
				defer releaseOnce() // also when the test fails midway: the read must not hang
				var once sync.Once
				hook := func() {
					once.Do(func() {
						close(readDone)
						<-release
					})
				}
				f.spy.afterRead.Store(&hook)
				got := make(chan registration.Registration, 1)
				go func() {
					r, err := read.from(context.Background(), f.cache)
					if err != nil {
						t.Errorf("the paused read: %v", err)
					}
					got <- r
				}()
				<-readDone // it has the old row
				f.spy.afterRead.Store(nil)
				w.write(f)
				releaseOnce()
				if r := <-got; r.Version != 1 {
					t.Fatalf("the paused read got version %d, want the old row", r.Version)
				}
				f.agrees(w.check...)
			})
		}
	}
}

// The same race across a commit: a read begins from outside while a transaction that changed the
// row is open, gets the committed (old) row, and fills only after the commit. Only the
// invalidation at the end of the transaction can tell that fill from a good one.
func TestFillOfAReadAcrossACommitIsDropped(t *testing.T) {
	for _, read := range []lookup{{id: "u1"}, {email: "one@example.com"}} {
		t.Run("read by "+read.String(), func(t *testing.T) {
			f := newFixture(t, cached.Options{})
			f.create(newReg("u1", "one@example.com"))
			readDone, release := make(chan struct{}), make(chan struct{})
			releaseOnce := sync.OnceFunc(func() { close(release) })
			defer releaseOnce()
			got := make(chan registration.Registration, 1)
			err := f.cache.InTx(t.Context(), func(tx registration.Store) error {
				f.update(tx, "u1", func(r *registration.Registration) { r.Email = "new@example.com" })
				hook := sync.OnceFunc(func() {
					close(readDone)
					<-release
				})
				f.spy.afterRead.Store(&hook)
				go func() {
					r, err := read.from(context.Background(), f.cache)
					if err != nil {
						t.Errorf("the paused read: %v", err)
					}
					got <- r
				}()
				<-readDone
				f.spy.afterRead.Store(nil)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			releaseOnce()
			if r := <-got; r.Version != 1 {
				t.Fatalf("the paused read got version %d, want the row committed before the transaction", r.Version)
			}
			f.agrees(lookup{id: "u1"}, lookup{email: "one@example.com"}, lookup{email: "new@example.com"})
		})
	}
}

// While a write of a registration is in flight (committed, not yet returned, or in an open
// transaction) the registration is not served from or put in the cache: a read sees what the
// database has, so reads never go back to an older version once one of them saw the newer.
func TestNoCachingWhileAWriteIsInFlight(t *testing.T) {
	f := newFixture(t, cached.Options{})
	f.create(newReg("u1", "one@example.com"))
	f.agrees(lookup{id: "u1"}) // v1 cached
	committed, release := make(chan struct{}), make(chan struct{})
	hook := func() {
		close(committed)
		<-release
	}
	f.spy.afterUpdate.Store(&hook)
	done := make(chan error, 1)
	go func() {
		cur, err := f.db.Get(context.Background(), tk, "u1")
		if err == nil {
			cur.FirstName = new("Changed")
			_, err = f.cache.Update(context.Background(), cur)
		}
		done <- err
	}()
	<-committed
	f.spy.afterUpdate.Store(nil)
	before := f.spy.reads.Load()
	for i := range 3 {
		if r := f.get("u1"); r.Version != 2 {
			t.Fatalf("read %d while the committed update has not returned: version %d, want 2", i, r.Version)
		}
	}
	if n := f.spy.reads.Load() - before; n != 3 {
		t.Fatalf("%d of 3 reads during the write reached the database, want all", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.agrees(lookup{id: "u1"}, lookup{email: "one@example.com"})
}

// Concurrent readers and writers of one registration, many rounds, under -race: each reader's
// versions never go back, and once the writers stop, the cache answers the last version written.
func TestConcurrentReadsAndWrites(t *testing.T) {
	emails := [2]string{"a@example.com", "b@example.com"}
	changes := []struct {
		name   string
		change func(r *registration.Registration, w, i int)
		reads  []lookup
	}{
		{"name", func(r *registration.Registration, w, i int) {
			r.FirstName = new(fmt.Sprintf("w%d-%d", w, i))
			r.Metadata = map[string]string{"by": fmt.Sprint(w)}
		}, []lookup{{id: "u1"}, {email: emails[0]}}},
		{"email", func(r *registration.Registration, w, i int) {
			r.Email = emails[(w+i)%2]
		}, []lookup{{id: "u1"}, {email: emails[0]}, {email: emails[1]}}},
	}
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	const readers, writers, writesEach = 4, 3, 10
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			f := newFixture(t, cached.Options{})
			f.create(newReg("u1", emails[0]))
			for round := range rounds {
				var stop atomic.Bool
				var rg, wg sync.WaitGroup
				for rd := range readers {
					rg.Go(func() {
						var last int64
						for i := 0; !stop.Load(); i++ {
							l := ch.reads[(rd+i)%len(ch.reads)]
							r, err := l.from(t.Context(), f.cache)
							if errors.Is(err, registration.ErrNotFound) && l.email != "" {
								continue // the email is the other one now
							}
							if err != nil {
								t.Errorf("reader %d: %s: %v", rd, l, err)
								return
							}
							if r.Version < last {
								t.Errorf("round %d reader %d: %s read version %d after %d", round, rd, l, r.Version, last)
								return
							}
							last = r.Version
						}
					})
				}
				for w := range writers {
					wg.Go(func() {
						for i := 0; i < writesEach; {
							cur, err := f.cache.Get(t.Context(), tk, "u1")
							if err != nil {
								t.Errorf("writer %d: get: %v", w, err)
								return
							}
							ch.change(&cur, w, i)
							_, err = f.cache.Update(t.Context(), cur)
							switch {
							case errors.Is(err, registration.ErrConflict):
								continue // another writer was first: read again
							case err != nil:
								t.Errorf("writer %d: update: %v", w, err)
								return
							}
							i++
						}
					})
				}
				wg.Wait()
				stop.Store(true)
				rg.Wait()
				if t.Failed() {
					return
				}
				f.agrees(ch.reads...)
				if got, want := f.get("u1").Version, int64(1+(round+1)*writers*writesEach); got != want {
					t.Fatalf("round %d: version %d, want %d", round, got, want)
				}
			}
		})
	}
}

func TestEvictionKeepsTheBound(t *testing.T) {
	const bound, n = 5, 40
	f := newFixture(t, cached.Options{MaxEntries: bound})
	var all []lookup
	for i := range n {
		id, email := fmt.Sprintf("u%02d", i), fmt.Sprintf("u%02d@example.com", i)
		f.create(newReg(id, email))
		all = append(all, lookup{id: id}, lookup{email: email})
	}
	for range 3 {
		f.agrees(all...)
		ids, emails := f.cache.Len()
		if ids > bound || ids != emails {
			t.Fatalf("%d entries by id and %d by email, want equal and at most %d", ids, emails, bound)
		}
	}
	// What is still cached is served from memory: the bound does not turn the cache off.
	before := f.spy.reads.Load()
	f.get("u39")
	f.get("u39")
	if n := f.spy.reads.Load() - before; n > 1 {
		t.Fatalf("two reads of one id reached the database %d times, want at most 1", n)
	}
}

func TestTTL(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
	f := newFixture(t, cached.Options{TTL: time.Minute, Now: clock})
	f.create(newReg("u1", "one@example.com"))
	for _, step := range []struct {
		advance time.Duration
		reads   int64 // reads of the database so far
	}{
		{0, 1},                // the fill
		{59 * time.Second, 1}, // fresh
		{time.Second, 2},      // expired at exactly TTL: read again
		{30 * time.Second, 2}, // the new entry is fresh
	} {
		advance(step.advance)
		f.get("u1")
		if got := f.spy.reads.Load(); got != step.reads {
			t.Fatalf("after +%s: %d database reads, want %d", step.advance, got, step.reads)
		}
	}
}

func TestClosedStoreAnswersNothingFromMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uo.db")
	s := cached.New(openSQLite(t, path), cached.Options{})
	if err := s.Create(t.Context(), newReg("u1", "one@example.com")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), tk, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), tk, "u1"); err == nil {
		t.Fatal("get on a closed store answered")
	}
}

// BenchmarkGet reads the same registrations as the sqlite package's BenchmarkGet, through the
// cache: after the first round every read is a hit.
func BenchmarkGet(b *testing.B) {
	s := cached.New(openSQLite(b, filepath.Join(b.TempDir(), "uo.db")), cached.Options{})
	b.Cleanup(func() { _ = s.Close() })
	const rows = 1000
	for i := range rows {
		if err := s.Create(b.Context(), newReg(fmt.Sprintf("user-%05d", i), fmt.Sprintf("user-%05d@example.com", i))); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.Get(b.Context(), tk, fmt.Sprintf("user-%05d", i%rows)); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}
