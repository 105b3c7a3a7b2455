package logsink

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// output records each write it receives; it can be made to stall.
type output struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{} // when not nil, each write waits for a receive on it... or its closing
}

func (o *output) Write(p []byte) (int, error) {
	if o.gate != nil {
		<-o.gate
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writes++
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Every line written by many goroutines reaches the output whole, each writer's lines in their
// order, and nothing is missing once Close returns.
func TestLinesArriveWholeAndInOrder(t *testing.T) {
	out := &output{}
	w := New(out, 0)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "{\"writer\":%d,\"line\":%d,\"pad\":%q}\n", g, i, strings.Repeat("x", i%50))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines out, %d written", len(got), writers*lines)
	}
	for _, l := range got {
		var g, i int
		var pad string
		if _, err := fmt.Sscanf(l, "{\"writer\":%d,\"line\":%d,\"pad\":%q}", &g, &i, &pad); err != nil || pad != strings.Repeat("x", i%50) {
			t.Fatalf("broken line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
}

// While the output is busy, the lines that arrive are gathered into the next write: the point of
// the sink, fewer writes than lines.
func TestLinesGatherWhileTheOutputIsBusy(t *testing.T) {
	out := &output{gate: make(chan struct{})}
	w := New(out, 0)
	fmt.Fprintln(w, "first") // the background writer takes it and waits at the gate
	time.Sleep(20 * time.Millisecond)
	for i := range 100 {
		fmt.Fprintln(w, "line", i)
	}
	close(out.gate)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 101 {
		t.Fatalf("%d lines out, want 101", n)
	}
	if out.writes > 3 {
		t.Errorf("101 lines in %d writes: they were not gathered", out.writes)
	}
}

// With a linger, the lines of one linger go out in one write, and none waits much longer.
func TestLingerGathersLines(t *testing.T) {
	out := &output{}
	w := New(out, 20*time.Millisecond)
	defer w.Close()
	for i := range 50 {
		fmt.Fprintln(w, "line", i)
	}
	deadline := time.Now().Add(2 * time.Second)
	for strings.Count(out.String(), "\n") < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("after 2 s, %d of 50 lines out", strings.Count(out.String(), "\n"))
		}
		time.Sleep(time.Millisecond)
	}
	out.mu.Lock()
	writes := out.writes
	out.mu.Unlock()
	if writes != 1 {
		t.Errorf("50 lines within one linger in %d writes, want 1", writes)
	}
}

// A stalled output holds at most maxPending bytes: writers then wait rather than grow memory.
func TestStalledOutputBoundsWhatIsPending(t *testing.T) {
	out := &output{gate: make(chan struct{})}
	w := New(out, 0)
	line := []byte(strings.Repeat("y", 1023) + "\n")
	wrote := make(chan int)
	go func() {
		n := 0
		for range 3 * maxPending / len(line) {
			_, _ = w.Write(line)
			n++
		}
		wrote <- n
	}()
	time.Sleep(100 * time.Millisecond)
	w.mu.Lock()
	pending := len(w.pending)
	w.mu.Unlock()
	if pending > maxPending+len(line) {
		t.Errorf("%d bytes pending behind a stalled output, the bound is %d", pending, maxPending)
	}
	select {
	case n := <-wrote:
		t.Fatalf("all %d writes returned while the output was stalled", n)
	default:
	}
	close(out.gate)
	<-wrote
	_ = w.Close()
	if got, want := len(out.String()), 3*maxPending/len(line)*len(line); got != want {
		t.Errorf("%d bytes out, %d written", got, want)
	}
}

// After Close, lines still go out, straight to the output.
func TestWritesAfterClose(t *testing.T) {
	out := &output{}
	w := New(out, 0)
	fmt.Fprintln(w, "before")
	_ = w.Close()
	fmt.Fprintln(w, "after")
	if got := out.String(); got != "before\nafter\n" {
		t.Errorf("output %q", got)
	}
}
