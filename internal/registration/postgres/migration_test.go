package postgres_test

import (
	"database/sql"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/postgres"
	"usersorchestrator/internal/registration/postgres/pgtest"
	"usersorchestrator/internal/registration/storetest"
	"usersorchestrator/internal/tenant"
)

// A schema of version 4 keeps its events through 00005_compact_events.sql, and through its Down
// again, IDs and sequence included.
func TestCompactEventsMigration(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.FreshSchema(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := postgres.Migrations(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatalf("migrate to 4: %v", err)
	}
	legacy := storetest.LegacyEvents()
	for _, e := range legacy {
		if _, err := db.ExecContext(ctx, `INSERT INTO events (id, tenant, crid, type_code, type_id, source_system, outcome,
			duration_ms, occurred_at, request_id, detail) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			e.ID, storetest.LegacyTenant(e), e.CustomerRegistrationID, e.TypeCode, e.TypeID, e.SourceSystem, e.Outcome,
			e.DurationMs, e.OccurredAt, e.RequestID, e.Detail); err != nil {
			t.Fatalf("insert legacy event %d: %v", e.ID, err)
		}
	}
	last := legacy[len(legacy)-1]
	// The sequence stands where the service would have left it: past the newest row, now deleted.
	if _, err := db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('events', 'id'), $1)`, last.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM events WHERE id = $1`, last.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatalf("migrate to 5: %v", err)
	}

	s := open(t, dsn)
	next := storetest.CheckEventsMigrated(t, s)

	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatalf("migrate down to 4: %v", err)
	}
	// Down keeps what 5 held (e[0] was pruned), in the text columns of 4.
	want := []registration.Event{next, legacy[4], legacy[3], legacy[2], legacy[1]}
	rows, err := db.QueryContext(ctx, `SELECT id, tenant, crid, type_code, type_id, source_system, outcome, duration_ms,
		occurred_at, request_id, detail FROM events ORDER BY id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []registration.Event
	for rows.Next() {
		var e registration.Event
		var tk string
		var at time.Time
		if err := rows.Scan(&e.ID, &tk, &e.CustomerRegistrationID, &e.TypeCode, &e.TypeID, &e.SourceSystem, &e.Outcome,
			&e.DurationMs, &at, &e.RequestID, &e.Detail); err != nil {
			t.Fatal(err)
		}
		e.OccurredAt = at.UTC()
		if e.Tenant, err = tenant.ParseKey(tk); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckEventsMigratedDown(t, got, want)
	var id int64
	if err := db.QueryRowContext(ctx, `INSERT INTO events (tenant, crid, type_code, type_id, source_system, outcome,
		duration_ms, occurred_at, request_id, detail) VALUES ('C/P/G', 'u', 'X', 1, '', '', 0, now(), '', '') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id <= next.ID {
		t.Fatalf("after down the next id is %d, want more than %d", id, next.ID)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrate up again: %v", err)
	}
}
