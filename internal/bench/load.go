// Package bench is the load generator behind `make bench`: it drives a running HTTP server at a
// fixed concurrency for a fixed time and reports requests per second, latency percentiles and
// errors.
//
// Why it is built this way:
//   - Closed loop, one goroutine per connection: each of the Concurrency workers sends its next
//     request as soon as the previous answer is read, over its own keep-alive connection. That is
//     what "N concurrent requests" means, it needs no rate to be guessed, and both servers under
//     comparison get exactly the same client. The price is coordinated omission: when the server
//     stalls, the workers stall with it and send less, so the tail latency is the one N clients
//     see, not the one an open stream of arrivals would see.
//   - net/http's client, not a hand-rolled one: it is slower than a raw socket writer, and on a
//     small machine it competes with the server for the CPU; but it is the client real callers
//     use, and the cost is the same for every row, so the ratios stay fair.
//   - Exact samples rather than an HDR histogram: at the rates a 2-core box reaches (some 10^4
//     requests/s for 10 s) every latency fits in a few MB, and sorting them gives exact
//     percentiles with no bucket error and no dependency.
//   - Warm-up first: connections are opened, caches, pools and the GC pacer settle, and only then
//     is anything counted.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

// Config is one measurement.
type Config struct {
	// Concurrency is the number of workers, each with its own connection.
	Concurrency int
	// Warmup runs before the measurement; nothing sent during it is counted.
	Warmup time.Duration
	// Duration is how long the measurement lasts.
	Duration time.Duration
}

// NewRequest makes the request a worker sends next. worker is in [0, Concurrency), seq counts
// that worker's requests from 0 (warm-up included), so that together they can make every request
// unique (a new email for every create).
type NewRequest func(worker, seq int) (*http.Request, error)

// Result is what one measurement saw.
type Result struct {
	// Requests completed inside the measured window, errors included.
	Requests int
	// Sent counts every request of the run, warm-up included: what the server's CPU time over the
	// whole run is divided by.
	Sent int
	// Errors are the requests that answered non-2xx or failed in transport.
	Errors int
	// Statuses counts the answers by status code (0: transport error).
	Statuses map[int]int
	// FirstError describes the first error seen, for the report.
	FirstError string
	// Elapsed is the measured window.
	Elapsed time.Duration
	// Latencies are every measured request's latency, sorted.
	Latencies []time.Duration
	// BodyBytes is the mean size of the 2xx bodies read.
	BodyBytes float64
}

// RPS is the completed requests per second.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile is the latency at p (0 < p <= 100) by nearest rank.
func (r Result) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// NewClient is an HTTP client for one server: keep-alive, exactly one connection per worker (so
// the server sees Concurrency connections, never more), no compression, no proxy.
func NewClient(concurrency int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			MaxConnsPerHost:     concurrency,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
		Timeout: 30 * time.Second,
		// A redirect is an answer to count, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// worker's share of a Result, merged at the end so that workers never share a lock.
type tally struct {
	sent       int
	latencies  []time.Duration
	statuses   map[int]int
	errors     int
	firstError string
	bodyBytes  int64
	bodies     int
}

// Run measures: cfg.Concurrency workers send next() through client for cfg.Warmup, then for
// cfg.Duration; only requests that complete inside the second window are counted.
func Run(ctx context.Context, client *http.Client, cfg Config, next NewRequest) (Result, error) {
	if cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		return Result{}, fmt.Errorf("bench: need concurrency >= 1 and a duration, got %+v", cfg)
	}
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	measureTo := measureFrom.Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, measureTo.Add(30*time.Second))
	defer cancel()

	tallies := make([]tally, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Go(func() {
			t := &tallies[w]
			t.statuses = map[int]int{}
			// Preallocate for a few thousand requests per worker; append grows beyond.
			t.latencies = make([]time.Duration, 0, 4096)
			for seq := 0; ; seq++ {
				sent := time.Now()
				if !sent.Before(measureTo) || ctx.Err() != nil {
					return
				}
				status, n, err := do(ctx, client, next, w, seq)
				done := time.Now()
				t.sent++
				// Counted: what completes inside the window, whenever it was sent. In a steady state
				// that is rate × Duration exactly; counting only what was also sent inside it would
				// under-count slow rows by latency/Duration (13 % for a 1.3 s login at 10 s).
				if done.Before(measureFrom) || done.After(measureTo) {
					continue
				}
				t.latencies = append(t.latencies, done.Sub(sent))
				t.statuses[status]++
				switch {
				case err != nil:
					t.errors++
					if t.firstError == "" {
						t.firstError = err.Error()
					}
				case status < 200 || status > 299:
					t.errors++
					if t.firstError == "" {
						t.firstError = fmt.Sprintf("status %d", status)
					}
				default:
					t.bodyBytes += n
					t.bodies++
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return Result{}, err
	}

	res := Result{Statuses: map[int]int{}, Elapsed: cfg.Duration}
	var bodyBytes int64
	var bodies int
	for _, t := range tallies {
		res.Latencies = append(res.Latencies, t.latencies...)
		for s, n := range t.statuses {
			res.Statuses[s] += n
		}
		res.Errors += t.errors
		res.Sent += t.sent
		if res.FirstError == "" {
			res.FirstError = t.firstError
		}
		bodyBytes += t.bodyBytes
		bodies += t.bodies
	}
	slices.Sort(res.Latencies)
	res.Requests = len(res.Latencies)
	if bodies > 0 {
		res.BodyBytes = float64(bodyBytes) / float64(bodies)
	}
	return res, nil
}

// do sends one request and reads the whole answer, which lets the connection be reused.
func do(ctx context.Context, client *http.Client, next NewRequest, worker, seq int) (int, int64, error) {
	req, err := next(worker, seq)
	if err != nil {
		return 0, 0, err
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return resp.StatusCode, n, err
	}
	return resp.StatusCode, n, nil
}

// StatusSummary lists the non-2xx statuses, e.g. "429×12 0×1", for the report.
func (r Result) StatusSummary() string {
	codes := make([]int, 0, len(r.Statuses))
	for s := range r.Statuses {
		if s < 200 || s > 299 {
			codes = append(codes, s)
		}
	}
	sort.Ints(codes)
	out := ""
	for i, s := range codes {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%d×%d", s, r.Statuses[s])
	}
	return out
}
