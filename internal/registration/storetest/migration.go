package storetest

import (
	"context"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
)

// LegacyEvents are what a database of schema version 4 (events with text tenant and type columns)
// holds before 00005_compact_events.sql: two tenants, the two types that share id 4601, a failure
// with its detail, two events at one time. A backend's migration test inserts them with their
// IDs, deletes the last (the newest row is gone, its ID must not be given again), migrates up and
// calls CheckEventsMigrated.
func LegacyEvents() []registration.Event {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)
	ev := func(id int64, crid, code string, typeID int, at time.Time) registration.Event {
		return registration.Event{ID: id, Tenant: tenantA, CustomerRegistrationID: crid, TypeCode: code, TypeID: typeID,
			SourceSystem: "Web", Outcome: registration.OutcomeSuccess, DurationMs: id * 10, OccurredAt: at,
			RequestID: "req-" + code}
	}
	es := []registration.Event{
		ev(1, "u1", "AUTHSYSTEM_USER_GET", 4601, at),
		ev(2, "u1", "AUTHSYSTEM_USER_GETBYID", 4601, at.Add(time.Hour)),
		ev(3, "u1", "SUBSCRIBE_USER_UPDATE", 4004, at.Add(time.Hour)),
		ev(4, "u1", "SUBSCRIBE_USER_GET", 4000, at.Add(-time.Hour)),
		ev(5, "", "AUTHSYSTEM_USER_CREATE", 4602, at),
		ev(6, "u1", "SUBSCRIBE_USER_GET", 4000, at.Add(2*time.Hour)), // deleted before the migration
	}
	es[4].Outcome, es[4].Detail = registration.OutcomeFailure, "provider_unavailable"
	es[3].Tenant = tenantB
	return es
}

// LegacyTenant is the tenant column of schema version 4 for e.
func LegacyTenant(e registration.Event) string { return e.Tenant.String() }

// CheckEventsMigrated checks a store opened on a database that held LegacyEvents but the last
// when it was migrated: every event reads back as it was, in the Events order, and pruning finds
// them by type; the next event recorded gets an ID past the deleted one. It returns that event
// (with its ID), which a migration down must keep too.
func CheckEventsMigrated(t *testing.T, s registration.Store) registration.Event {
	t.Helper()
	ctx := context.Background()
	e := LegacyEvents()
	list := func(crid string) []registration.Event {
		got, total, err := s.ListEvents(ctx, tenantA, crid, 0, 0)
		mustNoErr(t, "list events", err)
		mustEqual(t, "total of "+crid, total, int64(len(got)))
		return got
	}
	mustEqual(t, "u1 after the migration", list("u1"), []registration.Event{e[2], e[1], e[0]})
	mustEqual(t, "no user after the migration", list(""), []registration.Event{e[4]})
	got, _, err := s.ListEvents(ctx, tenantB, "u1", 0, 0)
	mustNoErr(t, "list tenant B", err)
	mustEqual(t, "tenant B after the migration", got, []registration.Event{e[3]})

	next := registration.Event{Tenant: tenantA, CustomerRegistrationID: "u1", TypeCode: "AUTHSYSTEM_USER_GET", TypeID: 4601,
		SourceSystem: "App", Outcome: registration.OutcomeSuccess, DurationMs: 7, OccurredAt: e[5].OccurredAt.Add(time.Hour),
		RequestID: "req-next"}
	id, err := s.RecordEvent(ctx, next)
	mustNoErr(t, "record after the migration", err)
	if id <= e[5].ID {
		t.Fatalf("the first event after the migration got id %d, want more than %d (the deleted newest)", id, e[5].ID)
	}
	next.ID = id
	mustEqual(t, "u1 with a new event", list("u1"), []registration.Event{next, e[2], e[1], e[0]})

	// The migrated types are found by the pruner: AUTHSYSTEM_USER_GET before the new event's time
	// is e[0] only (same id 4601 as e[1], another code).
	n, err := s.PruneEvents(ctx, []string{"AUTHSYSTEM_USER_GET"}, next.OccurredAt, 10)
	mustNoErr(t, "prune", err)
	mustEqual(t, "pruned", n, int64(1))
	mustEqual(t, "u1 after pruning", list("u1"), []registration.Event{next, e[2], e[1]})
	return next
}

// CheckEventsMigratedDown compares the version-4 rows a backend read after migrating down (got,
// newest id first) with want, field by field.
func CheckEventsMigratedDown(t *testing.T, got, want []registration.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events after down, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("after down, event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}
