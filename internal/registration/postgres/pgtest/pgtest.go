// Package pgtest gives tests and benchmarks a PostgreSQL database of their own: an empty schema
// on the server of UO_TEST_POSTGRES_DSN, dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// DSN is the database the tests use, from UO_TEST_POSTGRES_DSN (scripts/postgres-up.sh prints
// one). Without it the test skips, unless UO_REQUIRE_POSTGRES=1 says it must run (CI).
func DSN(t testing.TB) string {
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
func withSearchPath(t testing.TB, dsn, schema string) string {
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

// FreshSchema creates an empty schema of its own for the test, dropped when the test ends, and
// returns a DSN that uses it. Tests in different schemas share nothing, so they run in parallel.
// Call it before opening stores on it: cleanups run last-registered first, so the stores are
// closed before the schema is dropped.
func FreshSchema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
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
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, dsn, schema)
}
