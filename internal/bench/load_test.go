package bench

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
}

// TestRun drives a server that refuses every third request: every answer is counted once, the
// refusals as errors, and the connections are reused (one per worker).
func TestRun(t *testing.T) {
	var n, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			http.Error(w, "no", http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const workers = 4
	res, err := Run(context.Background(), NewClient(workers), Config{Concurrency: workers, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond},
		func(w, seq int) (*http.Request, error) { return http.NewRequest(http.MethodGet, srv.URL, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Requests != len(res.Latencies) || res.Sent < res.Requests {
		t.Fatalf("requests %d, latencies %d, sent %d", res.Requests, len(res.Latencies), res.Sent)
	}
	if res.Errors != res.Statuses[http.StatusTooManyRequests] || res.Errors == 0 {
		t.Errorf("errors %d, statuses %v", res.Errors, res.Statuses)
	}
	if res.Statuses[200]+res.Errors != res.Requests {
		t.Errorf("statuses %v do not add up to %d", res.Statuses, res.Requests)
	}
	if res.BodyBytes != float64(len(`{"ok":true}`)) {
		t.Errorf("body bytes %v", res.BodyBytes)
	}
	if c := conns.Load(); c > workers {
		t.Errorf("%d connections for %d workers: keep-alive is not working", c, workers)
	}
	if res.Percentile(50) > res.Percentile(99) || res.RPS() <= 0 {
		t.Errorf("p50 %v p99 %v rps %v", res.Percentile(50), res.Percentile(99), res.RPS())
	}
	if !strings.Contains(res.StatusSummary(), "429×") {
		t.Errorf("status summary %q", res.StatusSummary())
	}

	var out bytes.Buffer
	rep := Report{Header: []string{"h"}, Baseline: Row{Name: "base", Result: res}, Rows: []Row{{Name: "ours", Result: res, ServerCPU: time.Second, ServerRequests: 1000, ServerPeakRSS: 48 << 20}}}
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "1.00x") || !strings.Contains(s, "1000 µs") || !strings.Contains(s, "48 MiB") {
		t.Errorf("report:\n%s", s)
	}
}
