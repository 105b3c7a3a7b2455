package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"usersorchestrator/internal/metrics"
)

func TestBacklogIsCountedAtScrapeTime(t *testing.T) {
	backlog := int64(7)
	var deadline time.Time
	m := metrics.New(metrics.Options{Backlog: func(ctx context.Context) (int64, error) {
		deadline, _ = ctx.Deadline()
		return backlog, nil
	}, BacklogTimeout: time.Second})
	if got := sample(gather(t, m), "usersorchestrator_outbox_backlog"); got != 7 {
		t.Errorf("outbox_backlog = %v, want 7", got)
	}
	if until := time.Until(deadline); until <= 0 || until > time.Second {
		t.Errorf("the count ran with %v left, want a deadline within the 1 s timeout", until)
	}
	backlog = 3
	if got := sample(gather(t, m), "usersorchestrator_outbox_backlog"); got != 3 {
		t.Errorf("outbox_backlog = %v after the outbox shrank, want 3", got)
	}
}

// A failing count leaves the gauge out of the scrape, and the scrape still serves the rest.
func TestBacklogFailureKeepsTheScrape(t *testing.T) {
	m := metrics.New(metrics.Options{Backlog: func(context.Context) (int64, error) {
		return 0, errors.New("database is down")
	}})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	fams := scrape(t, srv.URL)
	if _, ok := fams["usersorchestrator_outbox_backlog"]; ok {
		t.Error("outbox_backlog is reported although it could not be counted")
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("the other metrics are missing from the scrape")
	}
}

func TestMountServesMetricsBesideTheAPI(t *testing.T) {
	m := metrics.New(metrics.Options{})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "api "+r.Method+" "+r.URL.Path)
	})
	srv := httptest.NewServer(m.Mount(api))
	defer srv.Close()
	get := func(method, path string) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := get(http.MethodGet, "/metrics"); !strings.Contains(body, "# TYPE go_goroutines gauge") {
		t.Errorf("GET /metrics answered %.200q, want the metrics", body)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/metrics"}, {http.MethodGet, "/metrics/"}, {http.MethodGet, "/v4/metrics"}, {http.MethodGet, "//metrics"},
	} {
		if body, want := get(c.method, c.path), "api "+c.method+" "+c.path; body != want {
			t.Errorf("%s %s answered %q, want the API's %q", c.method, c.path, body, want)
		}
	}
}

// The scrape carries Go's default runtime metrics and the live heap, which `make soak` judges.
func TestRuntimeMetrics(t *testing.T) {
	fams := gather(t, metrics.New(metrics.Options{}))
	for _, name := range []string{"go_gc_heap_live_bytes", "go_memstats_heap_alloc_bytes", "go_memstats_next_gc_bytes", "go_goroutines", "go_gc_gogc_percent"} {
		// sample is -1 for a metric the scrape lacks; the live heap is 0 before the first GC.
		if sample(fams, name) < 0 {
			t.Errorf("%s is not exposed", name)
		}
	}
}
