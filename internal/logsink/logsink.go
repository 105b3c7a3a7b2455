// Package logsink gathers the service's log lines into few writes. The access log writes a line
// per request; written one by one to stderr they cost a system call each, a few percent of a
// GET's CPU under load. Here a line is copied into a pending buffer and a background writer,
// woken by the first line, waits a short linger (1 ms in the service) and hands whatever has
// gathered to the output in one write: under load, one write per linger instead of one per line.
// Without the linger the writer, woken at once on a 2-core machine, still wrote nearly every line
// by itself (3% of a GET's CPU in `make bench`).
//
// What is pending when the process dies without Close (a crash, SIGKILL) is lost: the lines of
// the last linger. Close writes everything pending.
package logsink

import (
	"io"
	"sync"
	"time"
)

// maxPending bounds the pending lines: a Write waits while this much is already pending, so a
// stalled output slows the writers down rather than growing memory without end.
const maxPending = 1 << 20

// Writer is an io.Writer for log lines (each Write one or more whole lines, as a slog handler
// writes them). It is safe for concurrent use.
type Writer struct {
	out    io.Writer
	linger time.Duration

	mu      sync.Mutex
	room    *sync.Cond // signalled when pending shrinks or the writer closes
	pending []byte
	spare   []byte // the buffer last written, reused as the next pending one
	closed  bool

	wake chan struct{} // buffered (1): there is something pending
	done chan struct{} // closed when the background writer has returned
}

// New starts the background writer, which writes at most once per linger; Close stops it.
func New(out io.Writer, linger time.Duration) *Writer {
	w := &Writer{out: out, linger: linger, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.room = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Write queues p for the output and returns at once, unless maxPending bytes are already
// pending; after Close it writes p itself. The error is never the output's (a log line that
// cannot be written is lost, as with a direct write whose error slog drops).
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.pending) >= maxPending && !w.closed {
		w.room.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		<-w.done // after the pending lines, in order
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // the background writer has been woken already and will take p with the rest
	}
	return len(p), nil
}

func (w *Writer) run() {
	defer close(w.done)
	for range w.wake {
		if w.linger > 0 {
			time.Sleep(w.linger)
		}
		for {
			w.mu.Lock()
			if len(w.pending) == 0 {
				closed := w.closed
				w.mu.Unlock()
				if closed {
					return
				}
				break
			}
			// The two buffers take turns: writers fill one while the other is written.
			batch := w.pending
			w.pending, w.spare = w.spare[:0], nil
			w.room.Broadcast()
			w.mu.Unlock()
			_, _ = w.out.Write(batch)
			w.mu.Lock()
			w.spare = batch
			w.mu.Unlock()
		}
	}
}

// Close writes what is pending and stops the background writer; later writes go straight to
// the output. It does not close the output.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.room.Broadcast()
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
	return nil
}
