package load

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunnerSendsAtTheRateAndCounts(t *testing.T) {
	var sent atomic.Int64
	ops := []Op{
		{Name: "ok", Rate: 200, Workers: 4, Do: func(context.Context, int) Result { sent.Add(1); return Result{Status: 200} }},
		{Name: "bad", Rate: 50, Workers: 1, Do: func(context.Context, int) Result {
			return Result{Status: 500, Err: errors.New("status 500")}
		}},
		{Name: "idle", Rate: 50, Workers: 1, Do: func(context.Context, int) Result { return Result{Skipped: true} }},
	}
	const seed = 7
	r := NewRunner(ops, seed)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r.Run(ctx)
	// Each operation sends what its arrival process (its stream of the seed) has due in the
	// second, less those due in the last ticks before the end (up to 300 ms of them, for a
	// machine busy with other tests).
	within := func(rate float64, stream uint64) (lo, hi int) {
		return arrivalsBefore(rate, seed, stream, 700*time.Millisecond), arrivalsBefore(rate, seed, stream, time.Second)
	}
	tot := map[string]NamedTotals{}
	for _, nt := range r.Totals() {
		tot[nt.Name] = nt
	}
	if lo, hi := within(200, 0); tot["ok"].OK < lo || tot["ok"].OK > hi {
		t.Errorf("ok sent %d in 1 s, %d were due (%d in the first 700 ms)", tot["ok"].OK, hi, lo)
	}
	if lo, hi := within(50, 1); tot["bad"].Failed < lo || tot["bad"].Failed > hi || tot["bad"].OK != 0 || len(tot["bad"].Errors) == 0 || len(tot["bad"].Errors) > maxErrors {
		t.Errorf("bad: %+v, want %d to %d failed", tot["bad"], lo, hi)
	}
	if lo, hi := within(50, 2); tot["idle"].Skipped < lo || tot["idle"].Skipped > hi || tot["idle"].OK != 0 || tot["idle"].Failed != 0 {
		t.Errorf("idle: %+v, want %d to %d skipped", tot["idle"], lo, hi)
	}
	snap := r.Snapshot()
	if len(snap["ok"]) != tot["ok"].OK || len(snap["idle"]) != 0 {
		t.Errorf("snapshot has %d ok and %d idle latencies", len(snap["ok"]), len(snap["idle"]))
	}
	if again := r.Snapshot(); len(again["ok"]) != 0 {
		t.Errorf("a second snapshot saw %d requests again", len(again["ok"]))
	}
}

func TestTransportErrorsDuringAnOutageAreInterrupted(t *testing.T) {
	r := NewRunner(nil, 1)
	tests := []struct {
		name       string
		downBefore bool
		killDuring bool
		res        Result
		want       string
	}{
		{"refused while down", true, false, Result{Status: 0, Err: errors.New("connection refused")}, "interrupted"},
		{"cut by the kill", false, true, Result{Status: 0, Err: errors.New("EOF")}, "interrupted"},
		{"transport error with the service up", false, false, Result{Status: 0, Err: errors.New("EOF")}, "failed"},
		{"an error status while down is a failure", true, false, Result{Status: 500, Err: errors.New("500")}, "failed"},
		{"success", false, false, Result{Status: 200}, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &opState{op: Op{Name: tt.name, Do: func(context.Context, int) Result {
				if tt.killDuring {
					r.SetDown(true)
				}
				return tt.res
			}}}
			r.SetDown(tt.downBefore)
			r.do(context.Background(), s, job{due: time.Now()})
			r.SetDown(false)
			got := map[string]int{"ok": s.totals.OK, "failed": s.totals.Failed, "interrupted": s.totals.Interrupted}
			if got[tt.want] != 1 || s.totals.OK+s.totals.Failed+s.totals.Interrupted != 1 {
				t.Errorf("counted %v, want one %s", got, tt.want)
			}
		})
	}
}

// arrivalsBefore counts the arrivals of a process before d.
func arrivalsBefore(rate float64, seed, stream uint64, d time.Duration) int {
	n := 0
	for a := NewArrivals(rate, seed, stream); a.Next() <= d; {
		n++
	}
	return n
}

// The arrivals are a Poisson process: exponential gaps (mean 1/rate, as many long gaps as the
// distribution has, not a metronome) and counts per second as variable as their mean, and each
// seed and stream gives its own schedule, the same every time.
func TestArrivalsArePoisson(t *testing.T) {
	const rate, n = 50.0, 20000
	a := NewArrivals(rate, 1, 0)
	var prev time.Duration
	var sum, sumSq float64
	longer := 0 // gaps longer than the mean: e^-1 of them in an exponential distribution
	perSecond := map[int]int{}
	for range n {
		at := a.Next()
		gap := (at - prev).Seconds()
		prev = at
		sum += gap
		sumSq += gap * gap
		if gap > 1/rate {
			longer++
		}
		perSecond[int(at/time.Second)]++
	}
	mean := sum / n
	cv := math.Sqrt(sumSq/n-mean*mean) / mean
	if math.Abs(mean*rate-1) > 0.03 {
		t.Errorf("mean gap %.4f s, want %.4f", mean, 1/rate)
	}
	if math.Abs(cv-1) > 0.05 {
		t.Errorf("gaps' coefficient of variation %.3f, an exponential's is 1 (a fixed rate's 0)", cv)
	}
	if share := float64(longer) / n; math.Abs(share-math.Exp(-1)) > 0.02 {
		t.Errorf("%.3f of the gaps are longer than the mean, want %.3f", share, math.Exp(-1))
	}
	// Index of dispersion of the counts per whole second: 1 for Poisson, 0 for a fixed rate.
	seconds := int(prev / time.Second)
	var cs, cs2 float64
	for s := range seconds {
		c := float64(perSecond[s])
		cs += c
		cs2 += c * c
	}
	cm := cs / float64(seconds)
	if d := (cs2/float64(seconds) - cm*cm) / cm; d < 0.8 || d > 1.2 {
		t.Errorf("counts per second: variance/mean %.2f, want about 1", d)
	}

	first := func(seed, stream uint64) []time.Duration {
		a := NewArrivals(rate, seed, stream)
		out := make([]time.Duration, 5)
		for i := range out {
			out[i] = a.Next()
		}
		return out
	}
	if !slices.Equal(first(1, 0), first(1, 0)) {
		t.Error("the same seed and stream gave two schedules")
	}
	if slices.Equal(first(1, 0), first(1, 1)) || slices.Equal(first(1, 0), first(2, 0)) {
		t.Error("another stream or seed gave the same schedule")
	}
}

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

// A rare operation's window reaches back until it holds enough requests for its p99 to be more
// than its slowest request, and no further than ten spans.
func TestWindowReachesBackForRareOperations(t *testing.T) {
	w := NewWindow(2, 5)
	var p99 map[string]time.Duration
	// One request a snapshot; the first, slow one stays while the window holds fewer than 5.
	for i, want := range []time.Duration{900, 900, 900, 900, 900, 10} {
		lat := time.Duration(10)
		if i == 0 {
			lat = 900
		}
		p99, _ = w.Add(map[string][]time.Duration{"verify": {lat * time.Millisecond}})
		if p99["verify"] != want*time.Millisecond {
			t.Fatalf("after snapshot %d: p99 %v, want %v", i+1, p99["verify"], want*time.Millisecond)
		}
	}
	// Empty snapshots: the window stops at ten spans (20 snapshots), so the old requests leave.
	for range 20 {
		p99, _ = w.Add(map[string][]time.Duration{"verify": nil})
	}
	if _, ok := p99["verify"]; ok {
		t.Errorf("p99 %v from requests more than ten spans old", p99["verify"])
	}
}

func TestWindowP99(t *testing.T) {
	w := NewWindow(3, 0)
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1 // 1..100 ms: p99 is 99 ms
	}
	tests := []struct {
		name     string
		snap     map[string][]time.Duration
		wantP99  map[string]time.Duration
		wantReqs map[string]int
	}{
		{"one snapshot", map[string][]time.Duration{"get": ms(hundred...), "create": ms(500)},
			map[string]time.Duration{"get": 99 * time.Millisecond, "create": 500 * time.Millisecond}, map[string]int{"get": 100, "create": 1}},
		{"the window keeps the slow create", map[string][]time.Duration{"get": ms(1, 1), "create": ms(20)},
			map[string]time.Duration{"get": 99 * time.Millisecond, "create": 500 * time.Millisecond}, map[string]int{"get": 2, "create": 1}},
		{"an empty snapshot", map[string][]time.Duration{"get": nil, "create": nil},
			map[string]time.Duration{"get": 99 * time.Millisecond, "create": 500 * time.Millisecond}, map[string]int{"get": 0, "create": 0}},
		// Three snapshots later the first has left the window.
		{"the first leaves", map[string][]time.Duration{"get": ms(2), "create": ms(30)},
			map[string]time.Duration{"get": 2 * time.Millisecond, "create": 30 * time.Millisecond}, map[string]int{"get": 1, "create": 1}},
		{"nothing in the window", map[string][]time.Duration{"verify": nil},
			map[string]time.Duration{}, map[string]int{"verify": 0}},
	}
	for _, tt := range tests {
		p99, reqs := w.Add(tt.snap)
		for op, want := range tt.wantP99 {
			if p99[op] != want {
				t.Errorf("%s: p99 of %s = %v, want %v", tt.name, op, p99[op], want)
			}
		}
		if _, ok := p99["verify"]; ok {
			t.Errorf("%s: a p99 for an operation without requests", tt.name)
		}
		for op, want := range tt.wantReqs {
			if reqs[op] != want {
				t.Errorf("%s: requests of %s = %d, want %d", tt.name, op, reqs[op], want)
			}
		}
	}
}
