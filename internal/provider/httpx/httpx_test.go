package httpx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

// flaky answers `failures` times with status, then 200.
func flaky(t *testing.T, failures int32, status int, header http.Header) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n <= failures {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func client(t *testing.T, url string, cfg httpx.Config) *httpx.Client {
	t.Helper()
	cfg.BaseURL = url
	c, err := httpx.New("Test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		failures   int32
		status     int
		header     http.Header
		idempotent bool
		wantCalls  int32
		wantErr    error
	}{
		{"idempotent call retried through 500s", 2, 500, nil, true, 3, nil},
		{"idempotent call gives up after two retries", 5, 502, nil, true, 3, provider.ErrUnavailable},
		{"post never retried", 1, 500, nil, false, 1, provider.ErrUnavailable},
		{"429 with short Retry-After is retried", 1, 429, http.Header{"Retry-After": {"0"}}, true, 2, nil},
		{"429 with long Retry-After is not waited for", 1, 429, http.Header{"Retry-After": {"120"}}, true, 1, provider.ErrUnavailable},
		{"404 is an answer, not retried", 1, 404, nil, true, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := flaky(t, tt.failures, tt.status, tt.header)
			c := client(t, srv.URL, httpx.Config{})
			resp, err := c.Do(context.Background(), httpx.Request{Op: "get", Method: http.MethodGet, Path: "/x", Idempotent: tt.idempotent})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantErr == nil && tt.status == 404 && resp.Status != 404 {
				t.Errorf("status %d, want 404 handed back", resp.Status)
			}
		})
	}
}

func TestTimeoutIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c := client(t, srv.URL, httpx.Config{Timeout: 50 * time.Millisecond, MaxRetries: -1})
	start := time.Now()
	_, err := c.Do(context.Background(), httpx.Request{Op: "get", Method: http.MethodGet, Path: "/slow", Idempotent: true})
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("the timeout did not cut the call short")
	}
}

func TestErrorsDoNotQuoteTheURL(t *testing.T) {
	c := client(t, "http://127.0.0.1:1", httpx.Config{MaxRetries: -1})
	_, err := c.Do(context.Background(), httpx.Request{Op: "find", Method: http.MethodGet, Path: "/users", Idempotent: true,
		Query: map[string][]string{"email": {"jane@example.com"}}})
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
	if got := err.Error(); got != "Test find: provider unavailable: connection failed" {
		t.Errorf("error %q", got)
	}
}
