// Package load is the soak's steady load: each operation is sent at a steady mean rate (open
// loop), whatever the server's latency, by a pool of workers; the latency of a request counts
// from when it was due, so a server that falls behind shows in the percentiles instead of
// silently slowing the load down (the coordinated omission of a closed loop, which `make bench`
// accepts for throughput but a soak must not: it would hide a slow degradation).
//
// Requests arrive as a Poisson process (independent exponential gaps), as independent users'
// requests do, not on a metronome: with every operation on a fixed period, the service's garbage
// collections locked in phase with the argon2id hashes, so whether each collection counted one
// or two 19 MiB hash buffers as live stayed the same for minutes and then flipped, a step in the
// live heap (and in RSS with it) that a trend fit reads as growth. Random arrivals visit every
// phase all the time, and they put the bursts real traffic has into the latencies.
//
// The runner also knows when the service is down on purpose (the kill): a request that fails
// in transport while it is down, or across the kill, was interrupted, not failed.
package load

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"usersorchestrator/internal/bench"
)

// Result is what one request did.
type Result struct {
	// Status is the HTTP status, 0 for a transport error.
	Status int
	// Err is set when the request did not do what it had to (a transport error, an unexpected
	// status or body); nil otherwise.
	Err error
	// Skipped: there was nothing to do yet (no user ready for this step); not a request.
	Skipped bool
}

// Op is one kind of request.
type Op struct {
	Name string
	// Rate is requests per second.
	Rate float64
	// Workers bound the requests in flight; due requests wait for one (the wait counts in the
	// latency) in a queue of one second of requests, beyond which they are dropped and counted.
	Workers int
	// Do sends request seq. interrupted is called by the runner after Do returns, so Do need
	// not know about outages; Do gets it to classify what it recorded (e.g. a create whose
	// outcome is unknown because the service died under it).
	Do func(ctx context.Context, seq int) Result
}

// Totals are an operation's counts over the run.
type Totals struct {
	OK, Failed, Interrupted, Dropped, Skipped int
	// Errors are the first failures, described.
	Errors []string
}

type opState struct {
	op Op

	mu        sync.Mutex
	latencies []time.Duration
	totals    Totals
}

// Runner sends the operations.
type Runner struct {
	ops  []*opState
	seed uint64

	down    atomic.Bool
	outages atomic.Int64
}

// NewRunner prepares the operations (not started). seed fixes the arrival times' random gaps,
// so a run's schedule can be replayed.
func NewRunner(ops []Op, seed uint64) *Runner {
	r := &Runner{seed: seed}
	for _, op := range ops {
		r.ops = append(r.ops, &opState{op: op})
	}
	return r
}

// SetDown marks the service down (true, before killing it) or back (false, once it answers).
func (r *Runner) SetDown(down bool) {
	if down {
		r.outages.Add(1)
	}
	r.down.Store(down)
}

// Arrivals are the due times of a Poisson process of a given rate: gaps drawn from the
// exponential distribution with mean 1/rate.
type Arrivals struct {
	rate float64
	rng  *rand.Rand
	at   float64 // seconds since the start
}

// NewArrivals starts a process at rate per second; seed and stream pick its random gaps (one
// stream per operation, so operations arrive independently).
func NewArrivals(rate float64, seed, stream uint64) *Arrivals {
	return &Arrivals{rate: rate, rng: rand.New(rand.NewPCG(seed, stream))}
}

// Next returns the next arrival's time since the start.
func (a *Arrivals) Next() time.Duration {
	a.at += a.rng.ExpFloat64() / a.rate
	return time.Duration(a.at * float64(time.Second))
}

type job struct {
	due time.Time
	seq int
}

const maxErrors = 20

// Run sends until ctx ends, then waits for the requests in flight.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i, s := range r.ops {
		if s.op.Rate <= 0 {
			continue
		}
		queue := make(chan job, max(1, int(s.op.Rate)))
		for range max(1, s.op.Workers) {
			wg.Go(func() {
				for j := range queue {
					r.do(ctx, s, j)
				}
			})
		}
		arrive := NewArrivals(s.op.Rate, r.seed, uint64(i))
		wg.Go(func() {
			defer close(queue)
			// Due requests are released every tick, each with its own due time, so the
			// latency counts from when the request was due, not from the tick.
			const tick = 10 * time.Millisecond
			t := time.NewTicker(tick)
			defer t.Stop()
			start := time.Now()
			next := arrive.Next()
			seq := 0
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					for ; !start.Add(next).After(now); next = arrive.Next() {
						select {
						case queue <- job{due: start.Add(next), seq: seq}:
						default:
							s.mu.Lock()
							s.totals.Dropped++
							s.mu.Unlock()
						}
						seq++
					}
				}
			}
		})
	}
	wg.Wait()
}

func (r *Runner) do(ctx context.Context, s *opState, j job) {
	if ctx.Err() != nil {
		return
	}
	gen, downBefore := r.outages.Load(), r.down.Load()
	res := s.op.Do(ctx, j.seq)
	done := time.Now()
	if ctx.Err() != nil && res.Err != nil {
		return // cut short by the end of the run: neither a success nor a failure of the service
	}
	interrupted := res.Status == 0 && res.Err != nil && (downBefore || r.down.Load() || r.outages.Load() != gen)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case res.Skipped:
		s.totals.Skipped++
		return
	case interrupted:
		s.totals.Interrupted++
		return
	case res.Err != nil:
		s.totals.Failed++
		if len(s.totals.Errors) < maxErrors {
			s.totals.Errors = append(s.totals.Errors, fmt.Sprintf("%s #%d at %s: %v", s.op.Name, j.seq, done.UTC().Format("15:04:05.000"), res.Err))
		}
	default:
		s.totals.OK++
	}
	s.latencies = append(s.latencies, done.Sub(j.due))
}

// Snapshot returns, by operation name, the latencies of the requests completed since the
// previous snapshot (unsorted).
func (r *Runner) Snapshot() map[string][]time.Duration {
	out := map[string][]time.Duration{}
	for _, s := range r.ops {
		s.mu.Lock()
		out[s.op.Name] = s.latencies
		s.latencies = nil
		s.mu.Unlock()
	}
	return out
}

// Window is the trailing window of latencies the p99 of a sample is taken over: an interval of
// a few seconds holds only a handful of the rare operations (four creates in 2 s), whose p99
// would then be their maximum, noise a trend fit cannot see through. So an operation's window
// reaches further back, up to ten times its span, until it holds minRequests latencies: at 1
// request a second, 30 s hold 30 and their p99 is the single slowest request of the half minute.
type Window struct {
	keep, minRequests int
	slices            map[string][][]time.Duration
}

// NewWindow keeps the last n snapshots, and for an operation with fewer than minRequests
// latencies in them, as many older ones as reach minRequests (at most 10n in all).
func NewWindow(n, minRequests int) *Window {
	return &Window{keep: max(1, n), minRequests: minRequests, slices: map[string][][]time.Duration{}}
}

// Add appends a snapshot and returns, by operation, the p99 over the window and the requests of
// the newest snapshot alone.
func (w *Window) Add(snap map[string][]time.Duration) (p99 map[string]time.Duration, requests map[string]int) {
	p99, requests = map[string]time.Duration{}, map[string]int{}
	for op, lat := range snap {
		ring := append(w.slices[op], lat)
		total := 0
		for _, l := range ring {
			total += len(l)
		}
		// The oldest snapshot goes when the window is longer than its span and holds enough
		// without it, or when it is ten spans long.
		for len(ring) > w.keep && (total-len(ring[0]) >= w.minRequests || len(ring) > 10*w.keep) {
			total -= len(ring[0])
			ring = ring[1:]
		}
		w.slices[op] = ring
		requests[op] = len(lat)
		var all []time.Duration
		for _, l := range ring {
			all = append(all, l...)
		}
		if len(all) == 0 {
			continue
		}
		slices.Sort(all)
		p99[op] = bench.Result{Latencies: all}.Percentile(99)
	}
	return p99, requests
}

// Totals returns each operation's counts over the run, in the order the operations were given.
func (r *Runner) Totals() []NamedTotals {
	var out []NamedTotals
	for _, s := range r.ops {
		s.mu.Lock()
		t := s.totals
		t.Errors = slices.Clone(t.Errors)
		s.mu.Unlock()
		out = append(out, NamedTotals{Name: s.op.Name, Rate: s.op.Rate, Totals: t})
	}
	return out
}

// NamedTotals are one operation's totals.
type NamedTotals struct {
	Name string
	Rate float64
	Totals
}
