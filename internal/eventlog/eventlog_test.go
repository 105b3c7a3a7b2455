package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"usersorchestrator/internal/eventlog"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/tenant"
)

var demo = tenant.Key{ClientCode: "demo", PaperCode: "demo", ClientGroupCode: "demo"}

func event(i int) registration.Event {
	return registration.Event{Tenant: demo, CustomerRegistrationID: "u1", TypeCode: "SUBSCRIBE_USER_GETBYID", TypeID: 4001,
		SourceSystem: "test", Outcome: registration.OutcomeSuccess, OccurredAt: time.Unix(int64(1_800_000_000+i), 0).UTC(), RequestID: fmt.Sprint(i)}
}

func open(t *testing.T) registration.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func count(t *testing.T, s registration.Store) int64 {
	t.Helper()
	_, n, err := s.ListEvents(context.Background(), demo, "u1", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Flush makes every event recorded before it visible, from many concurrent recorders.
func TestFlushWritesEverythingRecordedBefore(t *testing.T) {
	s := open(t)
	w := eventlog.New(s, nil, eventlog.Options{MaxBatch: 16})
	defer w.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				w.Record(context.Background(), event(g*100+i))
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != 400 {
		t.Errorf("%d events stored after Flush, want 400", n)
	}
}

// Close writes what is still queued: a graceful shutdown loses nothing.
func TestCloseWritesTheQueue(t *testing.T) {
	s := open(t)
	w := eventlog.New(s, nil, eventlog.Options{})
	for i := range 100 {
		w.Record(context.Background(), event(i))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != 100 {
		t.Errorf("%d events stored after Close, want 100", n)
	}
	// After Close, Record still writes (inline) rather than drop.
	w.Record(context.Background(), event(1000))
	if n := count(t, s); n != 101 {
		t.Errorf("%d events stored after a Record on a closed writer, want 101", n)
	}
}

// slowStore holds every batch transaction until released, so the queue fills up.
type slowStore struct {
	registration.Store
	release chan struct{}
	inline  int
	mu      sync.Mutex
}

func (s *slowStore) RecordEvents(ctx context.Context, es []registration.Event) error {
	<-s.release
	return s.Store.RecordEvents(ctx, es)
}

func (s *slowStore) RecordEvent(ctx context.Context, e registration.Event) (int64, error) {
	s.mu.Lock()
	s.inline++
	s.mu.Unlock()
	return s.Store.RecordEvent(ctx, e)
}

// A full queue makes Record write inline: events are never dropped.
func TestFullQueueWritesInline(t *testing.T) {
	s := &slowStore{Store: open(t), release: make(chan struct{})}
	w := eventlog.New(s, nil, eventlog.Options{Queue: 4, MaxBatch: 4})
	for i := range 20 {
		w.Record(context.Background(), event(i))
	}
	if s.inline == 0 {
		t.Error("with the queue full and the writer stuck, no event was written inline")
	}
	close(s.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s.Store); n != 20 {
		t.Errorf("%d events stored, want 20", n)
	}
}

// failingTx refuses batches; the writer falls back to one event at a time.
type failingTx struct{ registration.Store }

func (failingTx) RecordEvents(context.Context, []registration.Event) error {
	return errors.New("the database refused the batch")
}

func TestBatchFailureFallsBackToSingleWrites(t *testing.T) {
	s := open(t)
	w := eventlog.New(failingTx{s}, nil, eventlog.Options{})
	for i := range 10 {
		w.Record(context.Background(), event(i))
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if n := count(t, s); n != 10 {
		t.Errorf("%d events stored, want 10", n)
	}
}

// Without Flush, a recorded event is written after the linger at the latest.
func TestEventsAreWrittenAfterTheLinger(t *testing.T) {
	s := open(t)
	w := eventlog.New(s, nil, eventlog.Options{Linger: 20 * time.Millisecond})
	defer w.Close()
	w.Record(context.Background(), event(1))
	deadline := time.Now().Add(2 * time.Second)
	for count(t, s) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("a lone event was not written within 2 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
