// Package gigya is the AuthSystem adapter for Gigya (SAP Customer Data Cloud): it speaks the
// accounts.* REST API the way contract decision 19 fixes it. Every call is a form-encoded POST to
// {BaseURL}/accounts.<method> carrying apiKey, userKey and secret as form fields (never in the
// URL, which proxies and logs keep); httpStatusCodes is not sent, so Gigya answers HTTP 200 and
// tells success from failure by errorCode in the body. The customerRegistrationId is the Gigya UID.
package gigya

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

// Name is the Flow.UserProvider value of this adapter.
const Name = "Gigya"

// Config is one tenant's Gigya site.
type Config struct {
	// BaseURL replaces https://accounts.<data center>, e.g. https://accounts.eu1.gigya.com.
	// http:// is accepted for loopback hosts only (WireMock in tests): the secret travels in the
	// form body, and the real service refuses it over plain HTTP anyway (errorCode 403006).
	BaseURL string
	// APIKey is the site's API key; UserKey and Secret are the application key and its secret.
	APIKey  string
	UserKey string
	Secret  string
	// HTTP tunes timeouts and retries; its BaseURL is ignored (BaseURL above wins).
	// HTTP.MaxRetries also bounds the retries of Gigya errors reported in a 200 body (see do).
	HTTP httpx.Config
}

// Client is the Gigya adapter. It is safe for concurrent use.
type Client struct {
	http    *httpx.Client
	apiKey  string
	userKey string
	secret  string
	// bodyRetries and retryWait bound the retries of transient errors Gigya reports in a 200
	// body; httpx cannot see those, it only retries HTTP-level failures.
	bodyRetries int
	retryWait   time.Duration
	// sleep waits between body-level retries; tests replace it to stay fast.
	sleep func(ctx context.Context, d time.Duration) error
}

var _ provider.AuthSystem = (*Client)(nil)

// New checks cfg and builds a client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.BaseURL == "":
		return nil, errors.New("gigya: BaseURL is required")
	case cfg.APIKey == "", cfg.UserKey == "", cfg.Secret == "":
		// The secret itself is never quoted, only its absence.
		return nil, errors.New("gigya: APIKey, UserKey and Secret are required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("gigya: base URL %q is not a URL", cfg.BaseURL)
	}
	if base.Scheme == "http" && !isLoopback(base.Hostname()) {
		return nil, fmt.Errorf("gigya: base URL %q: http:// is allowed for loopback hosts only, the secret would cross the network in clear", cfg.BaseURL)
	}
	hc := cfg.HTTP
	hc.BaseURL = cfg.BaseURL
	h, err := httpx.New(Name, hc)
	if err != nil {
		return nil, err
	}
	retries := hc.MaxRetries
	switch {
	case retries == 0:
		retries = httpx.DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	wait := hc.MaxRetryWait
	if wait <= 0 {
		wait = httpx.DefaultMaxRetryWait
	}
	return &Client{
		http: h, apiKey: cfg.APIKey, userKey: cfg.UserKey, secret: cfg.Secret,
		bodyRetries: retries, retryWait: wait, sleep: sleepCtx,
	}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Name is "Gigya".
func (c *Client) Name() string { return Name }

// call is one accounts.* request.
type call struct {
	// method is the REST method without its namespace: "getAccountInfo". Errors name the call
	// by it ("Gigya accounts.getAccountInfo: user not found ...").
	method string
	params url.Values
	// idempotent calls (reads, setting values, deleting) are retried, by httpx on HTTP failures
	// and here on transient errors in a 200 body; the others (login, register, password and
	// email changes) never are: a replay can lock an account or fail as a duplicate.
	idempotent bool
	// session calls act for the user whose login token they carry and omit the server
	// credentials: the token alone names the user, the secret would add nothing but exposure.
	session bool
	// kinds overrides the generic errorCode -> kind mapping for this call.
	kinds map[int]error
	// accept lists non-zero errorCodes that still carry the payload the caller wants
	// (register's 206002: the account exists, only its email is unverified).
	accept []int
	// endUser calls act for an end user whose IP, when known, goes along as clientContext
	// ({"clientIP":"…"}), so that Gigya's lockout and risk-based rules count that user's
	// attempts and not every user's against this service's address.
	endUser bool
}

// envelope is the part of every Gigya answer the adapter reads (providers.md 2.2).
type envelope struct {
	CallID           string            `json:"callId"`
	ErrorCode        *int              `json:"errorCode"`
	ErrorMessage     string            `json:"errorMessage"`
	ValidationErrors []validationError `json:"validationErrors"`
}

type validationError struct {
	ErrorCode int    `json:"errorCode"`
	FieldName string `json:"fieldName"`
}

// do sends r and decodes the answer into out (may be nil). It returns the errorCode, and a
// *provider.Error unless the code is 0 or listed in r.accept.
func (c *Client) do(ctx context.Context, r call, out any) (int, error) {
	form := url.Values{}
	for k, v := range r.params {
		form[k] = v
	}
	form.Set("apiKey", c.apiKey)
	if ip := provider.EndUserIP(ctx); r.endUser && ip != "" {
		form.Set("clientContext", jsonParam(map[string]string{"clientIP": ip}))
	}
	if !r.session {
		form.Set("userKey", c.userKey)
		form.Set("secret", c.secret)
	}
	op := "accounts." + r.method
	hreq := httpx.Request{
		Op: op, Method: http.MethodPost, Path: "/accounts." + r.method,
		Form: form, Idempotent: r.idempotent,
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.http.Do(ctx, hreq)
		if err != nil {
			// Timeouts, broken connections, 5xx/429 that outlasted httpx's own retries.
			return 0, err
		}
		code, env, err := decode(op, resp)
		if err != nil {
			return 0, err
		}
		if code == 0 || code == okWithErrors || contains(r.accept, code) {
			if out != nil && json.Unmarshal(resp.Body, out) != nil {
				return 0, provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "errorCode %d with a body of an unexpected shape", code)
			}
			return code, nil
		}
		kind := kindFor(code, env, r.kinds)
		if r.idempotent && transient(code) && attempt < c.bodyRetries {
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return 0, provider.Errorf(Name, op, provider.ErrUnavailable, 0, "canceled while retrying errorCode %d", code)
			}
			continue
		}
		return code, provider.Errorf(Name, op, kind, resp.Status, "%s", describe(code, env))
	}
}

// decode reads the envelope of a Gigya answer. A body without an errorCode is not a Gigya answer
// at all (an HTML error page of a proxy, a truncated body): a protocol error.
func decode(op string, resp *httpx.Response) (int, *envelope, error) {
	var env envelope
	if err := json.Unmarshal(resp.Body, &env); err != nil || env.ErrorCode == nil {
		if resp.Status != http.StatusOK {
			return 0, nil, provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "HTTP %d without a Gigya error code", resp.Status)
		}
		return 0, nil, provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "answer is not a Gigya JSON envelope")
	}
	return *env.ErrorCode, &env, nil
}

// describe is the error detail: the code, Gigya's short label and the callId SAP support asks
// for. errorDetails is left out on purpose: it is free text that can quote the login id.
func describe(code int, env *envelope) string {
	s := fmt.Sprintf("errorCode %d", code)
	if env.ErrorMessage != "" {
		s += " " + env.ErrorMessage
	}
	for _, v := range env.ValidationErrors {
		s += fmt.Sprintf("; %s: %d", v.FieldName, v.ErrorCode)
	}
	if env.CallID != "" {
		s += " (callId " + env.CallID + ")"
	}
	return s
}

// backoff is exponential with full jitter from 100 ms, capped by MaxRetryWait, like httpx's.
func (c *Client) backoff(attempt int) time.Duration {
	const minWait = 100 * time.Millisecond
	ceiling := min(c.retryWait, minWait<<min(attempt+1, 16))
	if ceiling <= minWait {
		return minWait
	}
	return minWait + rand.N(ceiling-minWait)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func contains(codes []int, code int) bool {
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}
