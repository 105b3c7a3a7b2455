package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/registration/sqlstore"
	"usersorchestrator/internal/registration/storetest"
	"usersorchestrator/internal/tenant"
)

// A database of schema version 4 keeps its events through 00005_compact_events.sql, and through
// its Down again, IDs and sequence included.
func TestCompactEventsMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "uo.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := sqlite.Migrations(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatalf("migrate to 4: %v", err)
	}
	legacy := storetest.LegacyEvents()
	for _, e := range legacy {
		if _, err := db.ExecContext(ctx, `INSERT INTO events (id, tenant, crid, type_code, type_id, source_system, outcome,
			duration_ms, occurred_at, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, storetest.LegacyTenant(e), e.CustomerRegistrationID, e.TypeCode, e.TypeID, e.SourceSystem, e.Outcome,
			e.DurationMs, e.OccurredAt.Format(sqlstore.TextTimeLayout), e.RequestID, e.Detail); err != nil {
			t.Fatalf("insert legacy event %d: %v", e.ID, err)
		}
	}
	last := legacy[len(legacy)-1]
	if _, err := db.ExecContext(ctx, `DELETE FROM events WHERE id = ?`, last.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatalf("migrate to 5: %v", err)
	}

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	next := storetest.CheckEventsMigrated(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

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
		var tk, at string
		if err := rows.Scan(&e.ID, &tk, &e.CustomerRegistrationID, &e.TypeCode, &e.TypeID, &e.SourceSystem, &e.Outcome,
			&e.DurationMs, &at, &e.RequestID, &e.Detail); err != nil {
			t.Fatal(err)
		}
		e.OccurredAt, err = time.Parse(sqlstore.TextTimeLayout, at)
		if err != nil {
			t.Fatal(err)
		}
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
		duration_ms, occurred_at, request_id, detail) VALUES ('C/P/G', 'u', 'X', 1, '', '', 0, '2026-01-01T00:00:00.000000Z', '', '') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id <= next.ID {
		t.Fatalf("after down the next id is %d, want more than %d", id, next.ID)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrate up again: %v", err)
	}
}
