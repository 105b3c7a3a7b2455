package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"usersorchestrator/internal/bench"
	"usersorchestrator/internal/bench/proc"
)

// pgRowKeys are the PostgreSQL rows: one instance, then two on the one database.
var pgRowKeys = []string{"pg-get-id", "pg-get-email", "pg-create", "pg2-get-id"}

// postgresDSN is the database the PostgreSQL rows use: -postgres, else UO_BENCH_POSTGRES_DSN,
// else UO_TEST_POSTGRES_DSN (the server `make test-infra` starts, as CI does, and writes to
// .tools/test.env, which scripts/bench.sh reads).
func postgresDSN(flagValue string) string {
	for _, v := range []string{flagValue, os.Getenv("UO_BENCH_POSTGRES_DSN"), os.Getenv("UO_TEST_POSTGRES_DSN")} {
		if v != "" {
			return v
		}
	}
	return ""
}

// measurePostgres runs the PostgreSQL rows that were asked for, in a schema of their own made
// for this run (so that runs never see each other's users) and dropped after it: one instance
// (seeded through its API like the SQLite one), then a second instance on the same schema with
// the load split between the two. It returns the lines the report's footer gets.
func measurePostgres(ctx context.Context, o options, dir, secret, token string, cfg bench.Config, wanted map[string]bool,
	run func(api *apiClient, s seeded, instances []*service) error) ([]string, error) {
	asked := false
	for _, k := range pgRowKeys {
		asked = asked || wanted[k]
	}
	if !asked {
		return nil, nil
	}
	dsn := postgresDSN(o.postgres)
	if dsn == "" {
		line := "PostgreSQL rows skipped: no PostgreSQL configured (-postgres, UO_BENCH_POSTGRES_DSN or UO_TEST_POSTGRES_DSN; `make test-infra` starts one as CI does and writes .tools/test.env, which make bench reads)."
		fmt.Fprintln(os.Stderr, "bench:", line)
		return []string{"", line}, nil
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer admin.Close()
	schema := "uo_bench_" + proc.RandomHex(6)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return nil, fmt.Errorf("postgres: create schema: %w", err)
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "bench: keeping PostgreSQL schema", schema)
	} else {
		defer func() {
			if _, err := admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
				fmt.Fprintf(os.Stderr, "bench: drop schema %s: %v\n", schema, err)
			}
		}()
	}
	db := map[string]string{"UO_DATABASE_DRIVER": "postgres", "UO_DATABASE_DSN": withSearchPath(dsn, schema)}
	var version string
	_ = admin.QueryRowContext(ctx, `SHOW server_version`).Scan(&version)

	a, err := startService(ctx, o, dir, "service-pg-a", secret, db)
	if err != nil {
		return nil, err
	}
	defer a.proc.stop()
	apiA := &apiClient{base: a.url, token: token, http: bench.NewClient(o.concurrency)}
	fmt.Fprintf(os.Stderr, "bench: PostgreSQL: seeding %d users to read...\n", o.readers)
	seedStart := time.Now()
	s, err := seed(ctx, apiA, o.readers, 0)
	if err != nil {
		return nil, fmt.Errorf("seed on PostgreSQL: %w", err)
	}
	seedTook := time.Since(seedStart)
	if err := run(apiA, s, []*service{a}); err != nil {
		return nil, err
	}
	if wanted["pg2-get-id"] {
		b, err := startService(ctx, o, dir, "service-pg-b", secret, db)
		if err != nil {
			return nil, err
		}
		defer b.proc.stop()
		if err := run(apiA, s, []*service{a, b}); err != nil {
			return nil, err
		}
	}
	return []string{
		"",
		fmt.Sprintf("PostgreSQL rows: PostgreSQL %s on this machine (the server `make test-infra` starts, as CI does), a schema made for this run", version),
		fmt.Sprintf("and dropped after it; %d readers seeded through the API in %s. The service on PostgreSQL has no registration cache", o.readers, seedTook.Round(time.Millisecond)),
		"(several instances share the database: each read goes to it). PostgreSQL's processes share the 2 CPUs with the",
		"service and the generator; their CPU per request is in each row's note. The SQLite instance is stopped before these rows.",
		"2 instances: a second service process on the same schema, the workers split evenly between the two.",
	}, nil
}

// postgresRows are the PostgreSQL rows for one instance, or the two-instance row for two.
func postgresRows(api *apiClient, s seeded, instances []*service, o options) []row {
	if len(instances) == 2 {
		clients := []*apiClient{api, {base: instances[1].url, token: api.token, http: api.http}}
		return []row{{key: "pg2-get-id", name: "GET /v4/Users/{id} (PostgreSQL, 2 instances)",
			next: func(w, seq int) (*http.Request, error) {
				c := clients[w%2]
				u := s.readers[pick(w, seq, len(s.readers))]
				return c.request(http.MethodGet, "/v4/Users/"+url.PathEscape(u.id), nil)
			},
			note: fmt.Sprintf("as the row above, the %d workers split between two service processes on one schema (server CPU and RSS: both together)", o.concurrency)}}
	}
	var out []row
	for _, r := range rowsFor(api, s, o) {
		switch r.key {
		case "get-id", "get-email":
			r.key, r.name = "pg-"+r.key, r.name+" (PostgreSQL)"
		case "create":
			r.key, r.name = "pg-create", "POST /v4/Users (create, PostgreSQL)"
		default:
			continue
		}
		out = append(out, r)
	}
	return out
}

// withSearchPath sets the search_path parameter of a URL or key=value DSN.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

// postgresCPU is the CPU time used so far by the processes named postgres on this machine (the
// server and its backends), zero where there is no /proc. Over a row, the difference is what the
// database spent on it (plus any other client's work, which a bench run under the lock excludes).
func postgresCPU() time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		total += cpuOf(pid)
	}
	return total
}
