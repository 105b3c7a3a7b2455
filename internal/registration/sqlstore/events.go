package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

const eventCols = `id, tenant, crid, type_code, type_id, source_system, outcome, duration_ms, occurred_at, request_id, detail`

// RecordEvent stores e (its ID is ignored) and returns the ID the database gave it. IDs grow.
func (s *Store) RecordEvent(ctx context.Context, e registration.Event) (int64, error) {
	tk, err := encodeTenant(e.Tenant)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.writeRow(ctx, s.q(`INSERT INTO events
		(tenant, crid, type_code, type_id, source_system, outcome, duration_ms, occurred_at, request_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		tk, e.CustomerRegistrationID, e.TypeCode, e.TypeID, e.SourceSystem, e.Outcome, e.DurationMs,
		s.timeArg(e.OccurredAt), e.RequestID, e.Detail).Scan(&id)
	if err != nil {
		return 0, s.wrap("record event", err)
	}
	return id, nil
}

// maxEventsPerInsert keeps one INSERT under SQLite's default limit of 32766 bound parameters
// (10 per event) and PostgreSQL's 65535.
const maxEventsPerInsert = 1000

// RecordEvents stores es with multi-row INSERTs: one statement for a batch instead of one each,
// which is most of what batching events saves. Rows are inserted in es's order, so their IDs grow
// in that order.
func (s *Store) RecordEvents(ctx context.Context, es []registration.Event) error {
	for len(es) > 0 {
		n := min(len(es), maxEventsPerInsert)
		var b strings.Builder
		b.WriteString(`INSERT INTO events
		(tenant, crid, type_code, type_id, source_system, outcome, duration_ms, occurred_at, request_id, detail) VALUES `)
		args := make([]any, 0, n*10)
		for i, e := range es[:n] {
			tk, err := encodeTenant(e.Tenant)
			if err != nil {
				return err
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, tk, e.CustomerRegistrationID, e.TypeCode, e.TypeID, e.SourceSystem, e.Outcome,
				e.DurationMs, s.timeArg(e.OccurredAt), e.RequestID, e.Detail)
		}
		if _, err := s.writer().ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return s.wrap("record events", err)
		}
		es = es[n:]
	}
	return nil
}

// ListEvents returns one page of a user's events, newest first (ties: the later ID first), and
// their total number. limit 0 means no limit.
func (s *Store) ListEvents(ctx context.Context, t tenant.Key, id string, limit, offset int) ([]registration.Event, int64, error) {
	if limit < 0 || offset < 0 {
		return nil, 0, fmt.Errorf("registration: list events: negative limit %d or offset %d", limit, offset)
	}
	tk, err := encodeTenant(t)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := s.reader().QueryRowContext(ctx,
		s.q(`SELECT COUNT(*) FROM events WHERE tenant = ? AND crid = ?`), tk, id).Scan(&total); err != nil {
		return nil, 0, s.wrap("list events count", err)
	}
	query := `SELECT ` + eventCols + ` FROM events WHERE tenant = ? AND crid = ? ORDER BY occurred_at DESC, id DESC`
	args := []any{tk, id}
	if limit > 0 || offset > 0 {
		query, args = s.page(query, args, limit, offset)
	}
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, 0, s.wrap("list events", err)
	}
	defer rows.Close()
	out := make([]registration.Event, 0)
	for rows.Next() {
		var e registration.Event
		if err := rows.Scan(&e.ID, tenantCol{&e.Tenant}, &e.CustomerRegistrationID, &e.TypeCode, &e.TypeID,
			&e.SourceSystem, &e.Outcome, &e.DurationMs, scanTime(&e.OccurredAt), &e.RequestID, &e.Detail); err != nil {
			return nil, 0, s.wrap("list events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.wrap("list events", err)
	}
	return out, total, nil
}
