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
