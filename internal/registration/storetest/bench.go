package storetest

import (
	"fmt"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
)

// BenchPruneEvents deletes 100k read events past retention, in batches as the pruner does, from
// a table that also holds 100k change events of the same age that it keeps; open gives each run
// a new, empty store. It reports the rows deleted per second and the longest batch: how long one
// DELETE holds its locks (SQLite: the write lock), which a request writing meanwhile waits at
// worst.
func BenchPruneEvents(b *testing.B, open func(b *testing.B) registration.Store) {
	for _, batch := range []int{250, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchPruneEvents(b, open, batch) })
	}
}

func benchPruneEvents(b *testing.B, open func(b *testing.B) registration.Store, batch int) {
	const rows = 100_000
	cutoff := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reads := []string{"SUBSCRIBE_USER_GET", "SUBSCRIBE_USER_GETBYID"}
	var (
		deleted    int64
		elapsed    time.Duration
		slowest    time.Duration
		statements int
	)
	for b.Loop() {
		b.StopTimer()
		s := open(b)
		es := make([]registration.Event, 0, 2*rows)
		for i := range rows {
			at := cutoff.Add(-time.Duration(rows-i) * time.Second)
			crid := fmt.Sprintf("user-%05d", i%10_000)
			es = append(es,
				registration.Event{Tenant: tenantA, CustomerRegistrationID: crid, TypeCode: reads[i%2], TypeID: 4000 + i%2,
					SourceSystem: "Web", Outcome: registration.OutcomeSuccess, OccurredAt: at, RequestID: fmt.Sprintf("req-%d", i)},
				registration.Event{Tenant: tenantA, CustomerRegistrationID: crid, TypeCode: "SUBSCRIBE_USER_UPDATE", TypeID: 4004,
					SourceSystem: "Web", Outcome: registration.OutcomeSuccess, OccurredAt: at, RequestID: fmt.Sprintf("req-u%d", i)})
		}
		if err := s.RecordEvents(b.Context(), es); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		var run int64
		for {
			t := time.Now()
			n, err := s.PruneEvents(b.Context(), reads, cutoff, batch)
			if err != nil {
				b.Fatal(err)
			}
			slowest = max(slowest, time.Since(t))
			statements++
			run += n
			if n < int64(batch) {
				break
			}
		}
		elapsed += time.Since(start)
		if run != rows {
			b.Fatalf("deleted %d, want %d", run, rows)
		}
		deleted += run
	}
	b.ReportMetric(float64(deleted)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "ms/slowest-batch")
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(statements), "ms/batch")
}

// BenchRecordEvents writes events as the service does, on a store already holding 100k events of
// the same users (so that the indexes have their depth): batch=64 is the event writer under
// `make bench`'s GET by id (one multi-row INSERT and one commit per 64 reads, 200 users read
// round-robin); single is RecordEvent, one autocommit INSERT per event, as a change outside a
// transaction records it. ns/op is per event.
func BenchRecordEvents(b *testing.B, open func(b *testing.B) registration.Store) {
	const users, prefill = 200, 100_000
	event := func(n int, at time.Time) registration.Event {
		return registration.Event{
			Tenant: tenantA, CustomerRegistrationID: fmt.Sprintf("user-%05d", n%users),
			TypeCode: "SUBSCRIBE_USER_GETBYID", TypeID: 4001, SourceSystem: "bench", Outcome: registration.OutcomeSuccess,
			DurationMs: 1, OccurredAt: at, RequestID: "0123456789abcdef0123456789abcdef",
		}
	}
	seeded := func(b *testing.B) registration.Store {
		s := open(b)
		start := time.Now().Add(-time.Hour)
		es := make([]registration.Event, prefill)
		for i := range es {
			es[i] = event(i, start.Add(time.Duration(i)*time.Millisecond))
		}
		if err := s.RecordEvents(b.Context(), es); err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("batch=64", func(b *testing.B) {
		s := seeded(b)
		const batch = 64
		es := make([]registration.Event, batch)
		n := 0
		for b.Loop() {
			es[n%batch] = event(n, time.Now())
			n++
			if n%batch == 0 {
				if err := s.RecordEvents(b.Context(), es); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("single", func(b *testing.B) {
		s := seeded(b)
		n := 0
		for b.Loop() {
			if _, err := s.RecordEvent(b.Context(), event(n, time.Now())); err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
}
