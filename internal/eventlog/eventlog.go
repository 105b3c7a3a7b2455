// Package eventlog records the events of the workflows off the request path: a call hands its
// event over and goes on, and one goroutine writes whatever has queued up in one transaction.
//
// Why: every read records an event (SUBSCRIBE_USER_GETBYID on a GET by id, as published), so
// written inline each GET became a write, and on SQLite every GET queued for the single writer.
// Batching turns N inserts and commits into one and takes them off the request's latency. The price is
// bounded: events queued when the process dies without a graceful shutdown are lost (at most
// what queued during one linger and one batch write); a graceful shutdown writes them all. Events that belong
// to a change (a create's SUBSCRIBE_USER_CREATE) are not written here but in the change's own
// transaction, so they land or fail with it.
package eventlog

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"usersorchestrator/internal/registration"
)

// Store is what the writer needs of the registration store.
type Store interface {
	RecordEvent(ctx context.Context, e registration.Event) (int64, error)
	RecordEvents(ctx context.Context, es []registration.Event) error
}

// Options tune a Writer.
type Options struct {
	// Queue is how many events may wait; when it is full, Record writes inline rather than drop.
	Queue int
	// MaxBatch bounds one batch (default 1000).
	MaxBatch int
	// Linger is how long the writer waits after an event for more to join its batch (default
	// 20 ms). Nobody waits on the writer, so lingering costs no request anything; it turns
	// thousands of small commits a second into dozens of larger ones. A commit's cost is mostly
	// the pages it changes, about one per user in the batch (each user's place in the events
	// index), so users read again within the linger share theirs: 5 ms -> 20 ms took ~5% off
	// the CPU of a GET by id in `make bench`. Flush and Close write at once.
	Linger time.Duration
}

// Writer is the asynchronous event recorder. It is safe for concurrent use.
type Writer struct {
	store    Store
	log      *slog.Logger
	maxBatch int
	linger   time.Duration
	in       chan registration.Event
	flushes  chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	// mu makes Record's "queue or write inline" and Close exclusive: an event queued after the
	// writer drained its queue for the last time would never be written.
	mu     sync.RWMutex
	closed bool
}

// New starts a writer; Close stops it.
func New(store Store, log *slog.Logger, o Options) *Writer {
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.Linger <= 0 {
		o.Linger = 20 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		store:    store,
		log:      log,
		maxBatch: o.MaxBatch,
		linger:   o.Linger,
		in:       make(chan registration.Event, o.Queue),
		flushes:  make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

// Record queues e. It never drops an event: with the queue full (the store is slower than the
// traffic) it writes e itself, which slows the caller down instead.
func (w *Writer) Record(ctx context.Context, e registration.Event) {
	w.mu.RLock()
	queued := false
	if !w.closed {
		select {
		case w.in <- e:
			queued = true
		default:
		}
	}
	w.mu.RUnlock()
	if queued {
		return
	}
	if _, err := w.store.RecordEvent(context.WithoutCancel(ctx), e); err != nil {
		w.log.ErrorContext(ctx, "recording an event failed", "event", e.TypeCode, "request_id", e.RequestID, "error", err)
	}
}

// Flush returns once every event recorded before the call is written (or ctx ends). The
// Events endpoint flushes before it reads, so a caller sees the events of its earlier calls.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case w.flushes <- reply:
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	<-w.done
	return nil
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]registration.Event, 0, w.maxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	lingering := false
	writeAll := func() {
		linger.Stop()
		lingering = false
		// Everything recorded before now is in the queue: drain it all.
		for {
			batch = w.write(w.collect(batch))
			if len(w.in) == 0 {
				return
			}
		}
	}
	for {
		select {
		case e := <-w.in:
			batch = w.collect(append(batch, e))
			switch {
			case len(batch) >= w.maxBatch:
				linger.Stop()
				lingering = false
				batch = w.write(batch)
			case !lingering:
				linger.Reset(w.linger)
				lingering = true
			}
		case <-linger.C:
			lingering = false
			batch = w.write(w.collect(batch))
		case reply := <-w.flushes:
			writeAll()
			close(reply)
		case <-w.stop:
			writeAll()
			return
		}
	}
}

// collect adds what is queued to batch, up to MaxBatch, without waiting.
func (w *Writer) collect(batch []registration.Event) []registration.Event {
	for len(batch) < w.maxBatch {
		select {
		case e := <-w.in:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// write stores batch with one statement; when that fails it tries the events one by one, so one
// bad event does not lose the others. It returns batch emptied for reuse.
func (w *Writer) write(batch []registration.Event) []registration.Event {
	if len(batch) == 0 {
		return batch
	}
	ctx := context.Background()
	if err := w.store.RecordEvents(ctx, batch); err != nil {
		w.log.Warn("writing a batch of events failed; writing them one by one", "events", len(batch), "error", err)
		for _, e := range batch {
			if _, err := w.store.RecordEvent(ctx, e); err != nil {
				w.log.Error("recording an event failed", "event", e.TypeCode, "request_id", e.RequestID, "error", err)
			}
		}
	}
	clear(batch)
	return batch[:0]
}
