package main

import (
	"strings"
	"testing"

	"usersorchestrator/internal/bench"
)

// Without a PostgreSQL the pg rows are skipped with a line that says how to get one, and nothing
// is started.
func TestPostgresRowsSkippedWithoutADatabase(t *testing.T) {
	t.Setenv("UO_BENCH_POSTGRES_DSN", "")
	t.Setenv("UO_TEST_POSTGRES_DSN", "")
	ran := false
	lines, err := measurePostgres(t.Context(), options{server: "/nonexistent"}, t.TempDir(), "s", "t", bench.Config{},
		map[string]bool{"pg-get-id": true}, func(*apiClient, seeded, []*service) error { ran = true; return nil })
	if err != nil || ran {
		t.Fatalf("err %v, rows ran %v", err, ran)
	}
	if got := strings.Join(lines, "\n"); !strings.Contains(got, "PostgreSQL rows skipped: no PostgreSQL configured") || !strings.Contains(got, "make test-infra") {
		t.Errorf("footer %q", got)
	}
	// Not asked for: no line at all.
	if lines, err := measurePostgres(t.Context(), options{}, t.TempDir(), "s", "t", bench.Config{}, map[string]bool{"get-id": true}, nil); err != nil || lines != nil {
		t.Errorf("pg rows not asked for: %q, %v", lines, err)
	}
}

// The DSN comes from the flag, then UO_BENCH_POSTGRES_DSN, then UO_TEST_POSTGRES_DSN (make test-infra's).
func TestPostgresDSNOrder(t *testing.T) {
	t.Setenv("UO_BENCH_POSTGRES_DSN", "bench")
	t.Setenv("UO_TEST_POSTGRES_DSN", "test")
	if got := postgresDSN("flag"); got != "flag" {
		t.Errorf("with the flag: %q", got)
	}
	if got := postgresDSN(""); got != "bench" {
		t.Errorf("without the flag: %q", got)
	}
	t.Setenv("UO_BENCH_POSTGRES_DSN", "")
	if got := postgresDSN(""); got != "test" {
		t.Errorf("test-infra's only: %q", got)
	}
}

// Each run's schema reaches the service through the DSN, in either DSN form.
func TestWithSearchPath(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://uo:uo@127.0.0.1:5432/uo?sslmode=disable": "postgres://uo:uo@127.0.0.1:5432/uo?search_path=uo_bench_1&sslmode=disable",
		"host=127.0.0.1 user=uo":                             "host=127.0.0.1 user=uo search_path=uo_bench_1",
	} {
		if got := withSearchPath(in, "uo_bench_1"); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
