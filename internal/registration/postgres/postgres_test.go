package postgres_test

import (
	"database/sql"
	"strings"
	"sync"
	"testing"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/postgres"
	"usersorchestrator/internal/registration/postgres/pgtest"
	"usersorchestrator/internal/registration/storetest"
)

// testMaxConns keeps parallel tests under the server's 100 connections on machines with many
// cores (go test runs GOMAXPROCS tests at once); the concurrency tests still get real parallelism.
const testMaxConns = 8

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, postgres.WithMaxConns(testMaxConns))
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
	pgtest.DSN(t) // skip or fail once, not in every subtest
	storetest.Run(t, func(t *testing.T, n int) []registration.Store {
		// n stores on one schema, as n instances of the service would open it.
		dsn := pgtest.FreshSchema(t)
		stores := make([]registration.Store, n)
		for i := range stores {
			stores[i] = open(t, dsn)
		}
		return stores
	})
}

// Instances starting together on a new schema all migrate it, one after the other.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	if err := postgres.Migrate(t.Context(), dsn); err != nil {
		t.Fatalf("migrate a migrated schema: %v", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied, distinct int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != 5 || distinct != 5 {
		t.Fatalf("%d migration records of %d versions, want each of the 5 once", applied, distinct)
	}
}

func TestOpenErrorsDoNotShowThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://uo:s3cr3t-pw@127.0.0.1:1/uo?sslmode=disable&connect_timeout=2",
		"postgres://uo:s3cr3t-pw@127.0.0.1:5432/uo?sslmode=bogus",
	} {
		s, err := postgres.Open(t.Context(), dsn)
		if err == nil {
			s.Close()
			t.Fatalf("open of an unusable DSN succeeded")
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Fatalf("the error shows the password: %v", err)
		}
	}
}

// BenchmarkPruneEvents: see storetest.BenchPruneEvents.
func BenchmarkPruneEvents(b *testing.B) {
	storetest.BenchPruneEvents(b, func(b *testing.B) registration.Store { return open(b, pgtest.FreshSchema(b)) })
}

// BenchmarkRecordEvents: see storetest.BenchRecordEvents.
func BenchmarkRecordEvents(b *testing.B) {
	storetest.BenchRecordEvents(b, func(b *testing.B) registration.Store { return open(b, pgtest.FreshSchema(b)) })
}
