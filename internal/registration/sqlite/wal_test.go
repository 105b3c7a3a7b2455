package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/tenant"
)

// TestWALStaysBounded: writes that return a row (INSERT ... RETURNING, as RecordEvent) must still
// let SQLite checkpoint its WAL. SQLite checkpoints only when a statement steps to its end, which
// *sql.Row never does; before the store read such rows to the end, a few thousand events grew the
// WAL to some 50 MB and it never shrank, slowing every read.
func TestWALStaysBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uo.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := tenant.Key{ClientCode: "demo", PaperCode: "demo", ClientGroupCode: "demo"}
	var last int64
	const events = 8000
	for range events {
		id, err := s.RecordEvent(t.Context(), registration.Event{Tenant: k, CustomerRegistrationID: "u-1",
			TypeCode: "SUBSCRIBE_USER_GETBYID", TypeID: 4003, Outcome: registration.OutcomeSuccess, OccurredAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if id <= last {
			t.Fatalf("event id %d after %d", id, last)
		}
		last = id
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// The autocheckpoint runs at WALAutocheckpointPages pages (a frame is a 4 KiB page and its
	// 24-byte header) and the WAL is then reused from its start; 8000 unchecked events, a commit
	// each, make over 100 MB.
	if limit := int64(sqlite.WALAutocheckpointPages+100) * (4096 + 24); fi.Size() > limit {
		t.Errorf("WAL is %d bytes after %d events, more than %d: it is not being checkpointed", fi.Size(), events, limit)
	}
}
