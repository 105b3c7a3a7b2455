// Package httpx is the HTTP plumbing the provider adapters share: a timeout on every attempt,
// retries of idempotent calls only (5xx, 429, broken connections) with exponential backoff and
// jitter honouring Retry-After and X-RateLimit-Reset, bounded bodies, and no logging at all (URLs
// and bodies can hold emails, passwords and tokens).
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"usersorchestrator/internal/provider"
)

// Config is the part of a provider's configuration this package uses.
type Config struct {
	// BaseURL is the provider's root, e.g. https://tenant.eu.auth0.com; http:// is allowed (tests).
	BaseURL string
	// Timeout bounds each attempt; default 5 s.
	Timeout time.Duration
	// MaxRetries is how often an idempotent call is retried; default 2, negative for none.
	MaxRetries int
	// MaxRetryWait caps a Retry-After (or X-RateLimit-Reset) the provider asks for; longer
	// waits give up at once instead, reporting the wait in provider.Error.RetryAfter.
	MaxRetryWait time.Duration
	// Transport replaces http.DefaultTransport (tests).
	Transport http.RoundTripper
}

// Defaults of Config.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultMaxRetries   = 2
	DefaultMaxRetryWait = 2 * time.Second
	maxBodyBytes        = 1 << 20
)

// Client calls one provider.
type Client struct {
	provider string
	base     *url.URL
	retrying *retryablehttp.Client
	once     *retryablehttp.Client
	now      func() time.Time
}

// New builds a client for the provider named providerName (used in errors).
func New(providerName string, cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q is not an absolute http(s) URL", providerName, cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	mk := func(retries int) *retryablehttp.Client {
		c := retryablehttp.NewClient()
		c.HTTPClient = &http.Client{Timeout: cfg.Timeout, Transport: transport}
		c.Logger = nil
		c.RetryMax = retries
		c.RetryWaitMin = 100 * time.Millisecond
		c.RetryWaitMax = cfg.MaxRetryWait
		c.CheckRetry = checkRetry(cfg.MaxRetryWait, time.Now)
		c.Backoff = backoff(time.Now)
		// After the last attempt, hand the response (or the error) back instead of wrapping it.
		c.ErrorHandler = retryablehttp.PassthroughErrorHandler
		return c
	}
	return &Client{provider: providerName, base: base, retrying: mk(cfg.MaxRetries), once: mk(0), now: time.Now}, nil
}

// checkRetry retries broken connections, 429 and 5xx, but not a 429/503 that asks for a longer
// wait than maxWait or than the caller's deadline leaves: waiting that long would outlast the
// caller's patience anyway, and retrying earlier than asked only counts against the limit again.
func checkRetry(maxWait time.Duration, now func() time.Time) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if resp != nil && throttled(resp.StatusCode) {
			if wait, ok := retryAfter(resp, now()); ok {
				if wait > maxWait {
					return false, nil
				}
				if deadline, ok := ctx.Deadline(); ok && deadline.Sub(now()) <= wait {
					return false, nil
				}
			}
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
}

func throttled(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// backoff is exponential with full jitter between minWait and the doubled ceiling, or exactly
// the wait the provider asked for (checkRetry has already refused waits beyond maxWait).
func backoff(now func() time.Time) retryablehttp.Backoff {
	return func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && throttled(resp.StatusCode) {
			if wait, ok := retryAfter(resp, now()); ok {
				return min(wait, maxWait)
			}
		}
		ceiling := min(maxWait, minWait<<min(attempt, 16))
		if ceiling <= minWait {
			return minWait
		}
		return minWait + rand.N(ceiling-minWait)
	}
}

// retryAfter is how long a throttled answer asks the caller to wait: Retry-After (seconds or an
// HTTP date) when present, else X-RateLimit-Reset, the Unix time in seconds at which the bucket
// refills. Auth0 documents only the X-RateLimit-* headers on its 429s, so without the second
// rule its limits were retried within milliseconds, each retry hitting the empty bucket again.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(resp.Header.Get("X-RateLimit-Reset")); v != "" {
		if epoch, err := strconv.ParseInt(v, 10, 64); err == nil && epoch > 0 {
			return max(time.Unix(epoch, 0).Sub(now), 0), true
		}
	}
	return 0, false
}

// RetryAfterSeconds rounds a wait up to the whole seconds of a Retry-After header, at least 1.
func RetryAfterSeconds(d time.Duration) int {
	secs := int((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// Request is one call to the provider.
type Request struct {
	// Op names the call in errors ("create user").
	Op     string
	Method string
	// Path is joined to the base URL; it must already be escaped where needed.
	Path   string
	Query  url.Values
	Header http.Header
	// JSON is sent as an application/json body; Form as application/x-www-form-urlencoded.
	JSON any
	Form url.Values
	// Idempotent calls (GET, and PUT/PATCH that set a value) are retried; the others never are.
	Idempotent bool
}

// Response is the provider's answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode reads the body as JSON into v; a body that does not decode is a protocol error.
func (r *Response) Decode(providerName, op string, v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return provider.Errorf(providerName, op, provider.ErrProtocol, r.Status, "malformed JSON body")
	}
	return nil
}

// Do sends req. Any answer, success or not, is returned for the adapter to map; only the absence
// of a usable answer is an error: provider.ErrUnavailable for timeouts, broken connections and
// 5xx or 429 that persisted through the retries.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	u := *c.base
	u.Path = c.base.Path + req.Path
	u.RawPath = ""
	if p, err := url.PathUnescape(u.Path); err == nil && p != u.Path {
		u.RawPath = c.base.Path + req.Path
		u.Path = p
	}
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
	}
	var body []byte
	contentType := ""
	switch {
	case req.JSON != nil:
		b, err := json.Marshal(req.JSON)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", c.provider, req.Op, err)
		}
		body, contentType = b, "application/json"
	case req.Form != nil:
		body, contentType = []byte(req.Form.Encode()), "application/x-www-form-urlencoded"
	}
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	hr, err := retryablehttp.NewRequestWithContext(ctx, req.Method, u.String(), rdr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: build request: %w", c.provider, req.Op, err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	hr.Header.Set("Accept", "application/json")

	client := c.once
	if req.Idempotent {
		client = c.retrying
	}
	resp, err := client.Do(hr)
	if err != nil {
		// The error can quote the URL (with an email in its query): keep only its kind.
		return nil, provider.Errorf(c.provider, req.Op, provider.ErrUnavailable, 0, "%s", transportProblem(ctx, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, provider.Errorf(c.provider, req.Op, provider.ErrUnavailable, resp.StatusCode, "reading the answer failed")
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		e := &provider.Error{Provider: c.provider, Op: req.Op, Kind: provider.ErrUnavailable, Status: resp.StatusCode, Detail: "the provider kept failing"}
		if throttled(resp.StatusCode) {
			if wait, ok := retryAfter(resp, c.now()); ok && wait > 0 {
				e.Detail = "the provider asked to wait"
				e.RetryAfter = wait
			}
		}
		return out, e
	}
	return out, nil
}

func transportProblem(ctx context.Context, err error) string {
	var ue *url.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	case errors.As(err, &ue) && ue.Timeout():
		return "timed out"
	default:
		return "connection failed"
	}
}
