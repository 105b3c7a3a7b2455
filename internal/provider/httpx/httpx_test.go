package httpx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
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

// auth0Limited answers its first request with Auth0's documented 429: no Retry-After, only
// X-RateLimit-Limit/Remaining/Reset (reset = Unix seconds when the bucket refills), and
// records when each request arrived.
func auth0Limited(t *testing.T, reset func() int64) (*httptest.Server, func() []time.Time) {
	t.Helper()
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		n := len(at)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("X-RateLimit-Limit", "50")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset(), 10))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Time(nil), at...)
	}
}

func TestRateLimitReset(t *testing.T) {
	tests := []struct {
		name          string
		resetIn       time.Duration // X-RateLimit-Reset relative to now, rounded up to a second
		maxRetryWait  time.Duration
		deadline      time.Duration // 0: no deadline on the caller's context
		wantCalls     int
		wantErr       error
		wantRetryMin  time.Duration // bounds of the E503's RetryAfter when the wait is refused
		wantRetryMax  time.Duration
		notBeforeNext bool // the retry must not come before the reset second
	}{
		{name: "reset within the budget: waited for, then retried", resetIn: time.Second, maxRetryWait: 3 * time.Second, wantCalls: 2, notBeforeNext: true},
		{name: "reset already past: retried at once", resetIn: -5 * time.Second, maxRetryWait: 2 * time.Second, wantCalls: 2},
		{name: "reset beyond the budget: no retry, the wait is reported", resetIn: 60 * time.Second, maxRetryWait: 2 * time.Second,
			wantCalls: 1, wantErr: provider.ErrUnavailable, wantRetryMin: 58 * time.Second, wantRetryMax: 61 * time.Second},
		{name: "reset beyond the caller's deadline: no retry", resetIn: 2 * time.Second, maxRetryWait: 5 * time.Second, deadline: 500 * time.Millisecond,
			wantCalls: 1, wantErr: provider.ErrUnavailable, wantRetryMin: time.Second, wantRetryMax: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reset int64
			srv, arrivals := auth0Limited(t, func() int64 {
				reset = time.Now().Add(tt.resetIn).Add(time.Second - 1).Truncate(time.Second).Unix()
				return reset
			})
			c := client(t, srv.URL, httpx.Config{MaxRetryWait: tt.maxRetryWait})
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			_, err := c.Do(ctx, httpx.Request{Op: "get user", Method: http.MethodGet, Path: "/api/v2/users/x", Idempotent: true})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			got := arrivals()
			if len(got) != tt.wantCalls {
				t.Fatalf("%d calls, want %d", len(got), tt.wantCalls)
			}
			if tt.notBeforeNext && got[1].Before(time.Unix(reset, 0)) {
				t.Errorf("retried at %s, before X-RateLimit-Reset %s", got[1].Format(time.StampMilli), time.Unix(reset, 0).Format(time.StampMilli))
			}
			if tt.wantErr != nil {
				var pe *provider.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err %T is not a *provider.Error", err)
				}
				if pe.RetryAfter < tt.wantRetryMin || pe.RetryAfter > tt.wantRetryMax {
					t.Errorf("RetryAfter %s, want between %s and %s", pe.RetryAfter, tt.wantRetryMin, tt.wantRetryMax)
				}
			}
		})
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {59500 * time.Millisecond, 60}} {
		if got := httpx.RetryAfterSeconds(tt.in); got != tt.want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
