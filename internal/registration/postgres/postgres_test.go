package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/postgres"
	"usersorchestrator/internal/registration/storetest"
)

// testDSN is the database the tests use, from UO_TEST_POSTGRES_DSN (scripts/postgres-up.sh prints
// one). Without it the tests skip, unless UO_REQUIRE_POSTGRES=1 says they must run (CI).
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("UO_TEST_POSTGRES_DSN")
	if dsn != "" {
		return dsn
	}
	if os.Getenv("UO_REQUIRE_POSTGRES") == "1" {
		t.Fatal("UO_REQUIRE_POSTGRES=1 but UO_TEST_POSTGRES_DSN is empty: run scripts/postgres-up.sh and export the line it prints")
	}
	t.Skip("UO_TEST_POSTGRES_DSN is not set; run scripts/postgres-up.sh to test PostgreSQL")
	return ""
}

// withSearchPath sets the search_path parameter of a URL or key=value DSN.
func withSearchPath(t *testing.T, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("UO_TEST_POSTGRES_DSN: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// freshSchema creates an empty schema of its own for the test, dropped when the test ends, and
// returns a DSN that uses it. Tests in different schemas share nothing, so they run in parallel.
func freshSchema(t *testing.T) string {
	t.Helper()
	dsn := testDSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "uo_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	// Registered before the store's own cleanup, so it runs after the store is closed.
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, dsn, schema)
}

// testMaxConns keeps parallel tests under the server's 100 connections on machines with many
// cores (go test runs GOMAXPROCS tests at once); the concurrency tests still get real parallelism.
const testMaxConns = 8

func open(t *testing.T, dsn string) *postgres.Store {
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
	testDSN(t) // skip or fail once, not in every subtest
	storetest.Run(t, func(t *testing.T) registration.Store { return open(t, freshSchema(t)) })
}

// Instances starting together on a new schema all migrate it, one after the other.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := freshSchema(t)
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
	var applied int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("migration 1 recorded %d times, want once", applied)
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
