package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/registration/storetest"
	"usersorchestrator/internal/tenant"
)

func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "data", "uo.db"))
}

func openPath(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, n int) []registration.Store {
		// n stores on one file, as n processes of the service would open it.
		path := filepath.Join(t.TempDir(), "data", "uo.db")
		stores := make([]registration.Store, n)
		for i := range stores {
			stores[i] = openPath(t, path)
		}
		return stores
	})
}

func TestOpenCreatesDirectoryAndSetsPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "uo.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode %q, want wal", mode)
	}
	var tables int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('registrations', 'tokens', 'events', 'outbox', 'rate_limits')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 5 {
		t.Fatalf("%d of the 5 tables exist", tables)
	}
}

// Times are stored as fixed-width UTC text, so that SQL comparisons of the text are comparisons of
// the times; this checks the stored form itself.
func TestTimesAreStoredAsUTCText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uo.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2025, 1, 2, 3, 4, 5, 6007008, time.FixedZone("X", -3600))
	r := registration.Registration{Tenant: tenant.Key{ClientCode: "C", PaperCode: "P", ClientGroupCode: "G"},
		CustomerRegistrationID: "u1", Email: "a@example.com", AddDate: at, ChangeDate: at}
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var addDate, tk string
	if err := db.QueryRow(`SELECT add_date, tenant FROM registrations`).Scan(&addDate, &tk); err != nil {
		t.Fatal(err)
	}
	if addDate != "2025-01-02T04:04:05.006007Z" || tk != "C/P/G" {
		t.Fatalf("stored add_date %q tenant %q, want 2025-01-02T04:04:05.006007Z and C/P/G", addDate, tk)
	}
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:uo.db?mode=memory", "uo.db?_pragma=foo"} {
		if s, err := sqlite.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
}

func TestMigrateThenOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uo.db")
	for i := range 2 {
		if err := sqlite.Migrate(t.Context(), path); err != nil {
			t.Fatalf("migrate %d: %v", i, err)
		}
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open after migrate: %v", err)
	}
	defer s.Close()
	var version int64
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT MAX(version_id) FROM goose_db_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != 5 {
		t.Fatalf("schema version %d, want 5", version)
	}
}

// Two stores on one file, as two instances of the service would be: each serializes its own
// writes, and busy_timeout must absorb the other's, so neither sees "database is locked".
func TestTwoStoresOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uo.db")
	stores := make([]*sqlite.Store, 2)
	for i := range stores {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer s.Close()
		stores[i] = s
	}
	k := tenant.Key{ClientCode: "C", PaperCode: "P", ClientGroupCode: "G"}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i, s := range stores {
		for w := range 4 {
			wg.Go(func() {
				for j := range 25 {
					id := fmt.Sprintf("s%d-w%d-%d", i, w, j)
					err := s.InTx(t.Context(), func(tx registration.Store) error {
						if err := tx.Create(t.Context(), registration.Registration{Tenant: k, CustomerRegistrationID: id, Email: id}); err != nil {
							return err
						}
						_, err := tx.Get(t.Context(), k, id)
						return err
					})
					if err != nil {
						errs <- fmt.Errorf("%s: %w", id, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, total, err := stores[0].Search(t.Context(), k, registration.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2*4*25 {
		t.Fatalf("%d registrations, want %d", total, 2*4*25)
	}
}

func TestClosedStoreFails(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "uo.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("ping of a closed store succeeded")
	}
	_, err = s.Get(t.Context(), tenant.Key{}, "x")
	if err == nil || errors.Is(err, registration.ErrNotFound) {
		t.Fatalf("get on a closed store: %v, want a database error", err)
	}
}

// An attacker hammering one login makes refused attempts the common case: they must be decided
// by a read, not queue for the one write connection that every other write needs. Here a
// transaction holds that connection while a refused attempt is decided.
func TestRefusedAttemptsDoNotWrite(t *testing.T) {
	s := openTemp(t)
	key := sha256.Sum256([]byte("login|jane@example.com"))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if ok, _, err := s.AllowAttempt(t.Context(), key[:], now, time.Minute, 1); err != nil || !ok {
		t.Fatalf("first attempt: %v, %v", ok, err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- s.InTx(t.Context(), func(registration.Store) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	ok, retryAfter, err := s.AllowAttempt(ctx, key[:], now.Add(time.Second), time.Minute, 1)
	close(release)
	if err != nil || ok || retryAfter != 59*time.Second {
		t.Fatalf("refused attempt while the write connection is busy: %v, %v, %v; want refused for 59s at once", ok, retryAfter, err)
	}
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
}
