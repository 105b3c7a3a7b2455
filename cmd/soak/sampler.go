package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"sync"
	"time"

	"usersorchestrator/internal/soak/load"
	"usersorchestrator/internal/soak/probe"
)

// sample is one row of samples.csv: every metric at one time (NaN where not measured).
type sample struct {
	t time.Duration
	v map[string]float64
}

// sampler takes a sample every interval while the service is up.
type sampler struct {
	svc    *service
	db     string
	runner *load.Runner
	start  time.Time
	http   *http.Client
	// readAge is how old the oldest read event of a seeded reader is (seconds): bounded when the
	// pruner keeps up.
	readAge func(ctx context.Context) (float64, error)

	// window is the trailing p99 window.
	window *load.Window
	// last CPU readings of the service and of this process, for the cores each used since.
	lastAt                  time.Time
	lastPid                 int
	lastSvcCPU, lastSelfCPU time.Duration
	lastMachineCPU          time.Duration

	mu      sync.Mutex
	down    bool
	samples []sample
	errs    int
}

// The service's metrics the soak reads from GET /metrics, by the column they fill.
var scraped = map[string]string{
	"rss_bytes":        "process_resident_memory_bytes",
	"heap_live_bytes":  "go_gc_heap_live_bytes",
	"heap_alloc_bytes": "go_memstats_heap_alloc_bytes",
	"heap_goal_bytes":  "go_memstats_next_gc_bytes",
	"goroutines":       "go_goroutines",
	"outbox_backlog":   "usersorchestrator_outbox_backlog",
}

func (s *sampler) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.take(ctx)
		}
	}
}

func (s *sampler) take(ctx context.Context) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return
	}
	now := time.Since(s.start)
	v := map[string]float64{}
	m, err := probe.Metrics(ctx, s.http, s.svc.url+"/metrics")
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "soak: sample:", err)
		}
		s.mu.Lock()
		s.errs++
		s.mu.Unlock()
		return
	}
	for col, name := range scraped {
		x, ok := m[name]
		if !ok {
			x = math.NaN()
		}
		v[col] = x
	}
	v["open_fds"] = math.NaN()
	if n, err := probe.OpenFDs(s.svc.pid()); err == nil {
		v["open_fds"] = float64(n)
	}
	for col, path := range map[string]string{"db_bytes": s.db, "wal_bytes": s.db + "-wal"} {
		v[col] = math.NaN()
		if n, err := probe.FileSize(path); err == nil {
			v[col] = float64(n)
		}
	}
	v["oldest_read_event_s"] = math.NaN()
	if age, err := s.readAge(ctx); err == nil {
		v["oldest_read_event_s"] = age
	} else if ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "soak: sample: read events:", err)
	}
	// CPU: cores used since the previous sample by the service and by the soak itself (the
	// load generator competes with the service for the same two cores).
	// The rest of the machine's: the other processes on this shared machine.
	v["service_cpu_cores"], v["soak_cpu_cores"], v["other_cpu_cores"] = math.NaN(), math.NaN(), math.NaN()
	at := time.Now()
	svcCPU, err1 := probe.CPU(s.svc.pid())
	selfCPU, err2 := probe.CPU(os.Getpid())
	machineCPU, err3 := probe.MachineCPU()
	if err1 == nil && err2 == nil && err3 == nil {
		if s.lastPid == s.svc.pid() {
			secs := at.Sub(s.lastAt).Seconds()
			svc := (svcCPU - s.lastSvcCPU).Seconds() / secs
			self := (selfCPU - s.lastSelfCPU).Seconds() / secs
			v["service_cpu_cores"], v["soak_cpu_cores"] = svc, self
			v["other_cpu_cores"] = math.Max(0, (machineCPU-s.lastMachineCPU).Seconds()/secs-svc-self)
		}
		s.lastAt, s.lastPid, s.lastSvcCPU, s.lastSelfCPU, s.lastMachineCPU = at, s.svc.pid(), svcCPU, selfCPU, machineCPU
	}
	p99, reqs := s.window.Add(s.runner.Snapshot())
	for op, n := range reqs {
		v["req_"+op] = float64(n)
		v["p99_"+op+"_ms"] = math.NaN()
		if d, ok := p99[op]; ok {
			v["p99_"+op+"_ms"] = float64(d) / float64(time.Millisecond)
		}
	}
	s.mu.Lock()
	if !s.down { // the kill may have come while we scraped: that sample is of no process
		s.samples = append(s.samples, sample{t: now, v: v})
	}
	s.mu.Unlock()
}

// waitBacklogZero polls the outbox backlog until it is 0 or timeout passes.
func (s *sampler) waitBacklogZero(ctx context.Context, timeout time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < timeout && ctx.Err() == nil {
		m, err := probe.Metrics(ctx, s.http, s.svc.url+"/metrics")
		if err == nil && m["usersorchestrator_outbox_backlog"] == 0 {
			return time.Since(start), true
		}
		time.Sleep(500 * time.Millisecond)
	}
	return time.Since(start), false
}
