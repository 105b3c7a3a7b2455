package sqlite_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/storetest"
	"usersorchestrator/internal/tenant"
)

var benchTenant = tenant.Key{ClientCode: "BENCH", PaperCode: "PAPER", ClientGroupCode: "GRP"}

func benchRegistration(id string) registration.Registration {
	first, last := "Ada", "Lovelace"
	now := time.Now()
	return registration.Registration{
		Tenant: benchTenant, CustomerRegistrationID: id, Email: id + "@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", Verified: true,
		FirstName: &first, LastName: &last, Metadata: map[string]string{"plan": "gold"},
		AuthSystem: "Auth0", AddDate: now, AddSource: "Web", ChangeDate: now, ChangeSource: "Web",
	}
}

const benchRows = 10000

func seeded(b *testing.B) registration.Store {
	s := openTemp(b)
	err := s.InTx(b.Context(), func(tx registration.Store) error {
		for i := range benchRows {
			if err := tx.Create(b.Context(), benchRegistration(fmt.Sprintf("user-%05d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkGet reads registrations by id from a table of benchRows.
func BenchmarkGet(b *testing.B) {
	s := seeded(b)
	i := 0
	for b.Loop() {
		if _, err := s.Get(b.Context(), benchTenant, fmt.Sprintf("user-%05d", i%benchRows)); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

// BenchmarkGetParallel is BenchmarkGet from GOMAXPROCS goroutines: the read pool at work.
func BenchmarkGetParallel(b *testing.B) {
	s := seeded(b)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(7919)
			if _, err := s.Get(b.Context(), benchTenant, fmt.Sprintf("user-%05d", i%benchRows)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreate inserts registrations one by one, each its own transaction (a commit per row).
func BenchmarkCreate(b *testing.B) {
	s := openTemp(b)
	i := 0
	for b.Loop() {
		if err := s.Create(b.Context(), benchRegistration(fmt.Sprintf("new-%08d", i))); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkCreateParallel is BenchmarkCreate from GOMAXPROCS goroutines: writes queue for the one
// write connection.
func BenchmarkCreateParallel(b *testing.B) {
	s := openTemp(b)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Create(b.Context(), benchRegistration(fmt.Sprintf("new-%08d", n.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRecordEvents: see storetest.BenchRecordEvents.
func BenchmarkRecordEvents(b *testing.B) {
	storetest.BenchRecordEvents(b, func(b *testing.B) registration.Store { return openTemp(b) })
}

// BenchmarkPruneEvents: see storetest.BenchPruneEvents.
func BenchmarkPruneEvents(b *testing.B) {
	storetest.BenchPruneEvents(b, func(b *testing.B) registration.Store { return openTemp(b) })
}
