// Package auth0 is the AuthSystem adapter for Auth0: users live in one database connection of a
// tenant and are managed through the Management API v2 (/api/v2/...), logins go through the
// Authentication API (/oauth/token with the password-realm grant, /userinfo).
//
// The adapter speaks Auth0's HTTP API directly instead of using go-auth0: the base URL must be
// configurable and may be http:// (WireMock in tests), which go-auth0's authentication client
// does not allow, and the adapter needs only a dozen calls.
package auth0

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

// Name is the Flow.UserProvider value of this adapter.
const Name = "Auth0"

// Defaults of Config.
const (
	DefaultScope     = "openid profile email"
	DefaultTicketTTL = 5 * 24 * time.Hour
	// passwordRealmGrant names the connection to log in to, so a tenant does not need a
	// "Default Directory" (contract decision 17).
	passwordRealmGrant = "http://auth0.com/oauth/grant-type/password-realm"
	// tokenRefreshMargin: a cached Management API token is replaced this long before it expires,
	// so a token never expires between being read from the cache and reaching Auth0.
	tokenRefreshMargin = 60 * time.Second
	// Auth0 answers at most 100 users per page, and search reaches only the first 1000 matches.
	maxPerPage       = 100
	maxSearchResults = 1000
)

// Config is one tenant's Auth0 setup.
type Config struct {
	// BaseURL is the tenant's domain, e.g. https://tenant.eu.auth0.com (http:// for tests).
	BaseURL string
	// ClientID and ClientSecret are a machine-to-machine application's credentials: they obtain
	// the Management API token and are sent with the password-realm login.
	ClientID     string
	ClientSecret string
	// Audience is the Management API identifier, always the canonical domain's
	// (https://{tenant}.{region}.auth0.com/api/v2/). Default BaseURL + "/api/v2/" when BaseURL is
	// an auth0.com domain (or loopback, for tests); required with a custom domain, where Auth0
	// issues the token for the canonical identifier and the API is then called on the custom
	// domain.
	Audience string
	// Connection is the database connection the users live in (the login realm), e.g.
	// Username-Password-Authentication.
	Connection string
	// Scope is requested at login; default "openid profile email" (openid yields the id_token
	// that names the user).
	Scope string
	// LoginAudience is the API the login's access token is for; empty asks for none.
	LoginAudience string
	// TicketTTL is how long a password-change link stays valid; default 5 days (Auth0's own
	// default, written out so the link's lifetime is a decision of ours).
	TicketTTL time.Duration
	// HTTP tunes timeouts and retries; its BaseURL is ignored (BaseURL above is used).
	HTTP httpx.Config
}

// Client is the Auth0 adapter. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *httpx.Client
	now  func() time.Time

	// refresh is a one-slot semaphore: at most one Management API token request is in flight,
	// and callers waiting for it can still give up when their context ends (a mutex could not).
	refresh chan struct{}
	mu      sync.Mutex // guards token and expiry
	token   string
	expiry  time.Time
}

var _ provider.AuthSystem = (*Client)(nil)

// New checks cfg and builds the adapter. It makes no call: the Management API token is fetched
// on first use.
func New(cfg Config) (*Client, error) {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"BaseURL", cfg.BaseURL}, {"ClientID", cfg.ClientID}, {"ClientSecret", cfg.ClientSecret}, {"Connection", cfg.Connection},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("auth0: missing configuration: %s", strings.Join(missing, ", "))
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Audience == "" {
		aud, err := defaultAudience(cfg.BaseURL)
		if err != nil {
			return nil, err
		}
		cfg.Audience = aud
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.TicketTTL <= 0 {
		cfg.TicketTTL = DefaultTicketTTL
	}
	cfg.HTTP.BaseURL = cfg.BaseURL
	hc, err := httpx.New(Name, cfg.HTTP)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, http: hc, now: time.Now, refresh: make(chan struct{}, 1)}, nil
}

// defaultAudience is the Management API's identifier when the base URL is the tenant's canonical
// domain (https://{tenant}.{region}.auth0.com/api/v2/), or a loopback test double. On a custom
// domain the identifier is still the canonical domain's, which the custom domain does not
// reveal: deriving it would make every token request fail (access_denied), so Audience must be
// configured there.
func defaultAudience(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("auth0: base URL %q is not an absolute URL", baseURL)
	}
	host := strings.ToLower(u.Hostname())
	ip := net.ParseIP(host)
	if strings.HasSuffix(host, ".auth0.com") || host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return baseURL + "/api/v2/", nil
	}
	return "", fmt.Errorf("auth0: %s is not an auth0.com domain: set the Management API audience (https://{tenant}.{region}.auth0.com/api/v2/) for a custom domain", host)
}

// Name returns "Auth0".
func (c *Client) Name() string { return Name }

// tokenResponse is the answer of POST /oauth/token for both grants.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// oauthError is the Authentication API's error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// managementToken returns a Management API token: the cached one while it is valid, else a new
// one. rejected is a token Auth0 has just refused (401); it is never returned again, but if
// another goroutine has already replaced it, that newer token is used without a new request.
func (c *Client) managementToken(ctx context.Context, rejected string) (string, error) {
	if tok, ok := c.cachedToken(rejected); ok {
		return tok, nil
	}
	select {
	case c.refresh <- struct{}{}:
	case <-ctx.Done():
		return "", provider.Errorf(Name, "management token", provider.ErrUnavailable, 0, "gave up waiting for the token: %v", ctx.Err())
	}
	defer func() { <-c.refresh }()
	// Whoever held the slot before may have fetched a token meanwhile.
	if tok, ok := c.cachedToken(rejected); ok {
		return tok, nil
	}
	tok, lifetime, err := c.fetchManagementToken(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.token = tok
	c.expiry = c.now().Add(lifetime - min(tokenRefreshMargin, lifetime/10))
	c.mu.Unlock()
	return tok, nil
}

func (c *Client) cachedToken(rejected string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == "" || c.token == rejected || !c.now().Before(c.expiry) {
		return "", false
	}
	return c.token, true
}

// fetchManagementToken runs the client-credentials grant. It is a POST and so not retried
// (contract decision 21); besides, Auth0 meters machine-to-machine token issuance per month.
func (c *Client) fetchManagementToken(ctx context.Context) (string, time.Duration, error) {
	const op = "management token"
	resp, err := c.http.Do(ctx, httpx.Request{
		Op: op, Method: http.MethodPost, Path: "/oauth/token",
		JSON: map[string]string{
			"grant_type":    "client_credentials",
			"client_id":     c.cfg.ClientID,
			"client_secret": c.cfg.ClientSecret,
			"audience":      c.cfg.Audience,
		},
	})
	if err != nil {
		return "", 0, err
	}
	if resp.Status != http.StatusOK {
		// Wrong client id/secret, a disabled grant or a wrong audience: the tenant's Auth0 setup is
		// broken, which no user can fix, so the provider counts as unavailable (E503), not as a
		// refusal of the user's request.
		var e oauthError
		_ = json.Unmarshal(resp.Body, &e)
		return "", 0, provider.Errorf(Name, op, provider.ErrUnavailable, resp.Status, "client credentials refused: %s", safeDetail(e.Error, ""))
	}
	var tr tokenResponse
	if err := resp.Decode(Name, op, &tr); err != nil {
		return "", 0, err
	}
	if tr.AccessToken == "" {
		return "", 0, provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "no access_token in the answer")
	}
	// A missing or nonsensical lifetime leaves the token uncached rather than trusted forever.
	return tr.AccessToken, time.Duration(max(tr.ExpiresIn, 0)) * time.Second, nil
}

// management sends a Management API request with the bearer token. A 401 is answered once by a
// new token and a second attempt: Auth0 refuses an expired or revoked token before acting on the
// request, so sending it again is safe even for a POST. A 401/403 that persists means the
// client's grant or scopes are wrong — the tenant's misconfiguration, not the user's fault — and
// becomes ErrUnavailable. Other answers are returned for the caller to map.
func (c *Client) management(ctx context.Context, req httpx.Request) (*httpx.Response, error) {
	tok, err := c.managementToken(ctx, "")
	if err != nil {
		return nil, err
	}
	resp, err := c.sendWithToken(ctx, req, tok)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusUnauthorized {
		if tok, err = c.managementToken(ctx, tok); err != nil {
			return nil, err
		}
		if resp, err = c.sendWithToken(ctx, req, tok); err != nil {
			return nil, err
		}
	}
	if resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden {
		e := decodeManagementError(resp)
		return nil, provider.Errorf(Name, req.Op, provider.ErrUnavailable, resp.Status, "management API refused the client: %s", safeDetail(e.ErrorCode, e.Message))
	}
	return resp, nil
}

func (c *Client) sendWithToken(ctx context.Context, req httpx.Request, token string) (*httpx.Response, error) {
	req.Header = http.Header{"Authorization": {"Bearer " + token}}
	return c.http.Do(ctx, req)
}

// managementErrorBody is the Management API's error envelope.
type managementErrorBody struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

func decodeManagementError(resp *httpx.Response) managementErrorBody {
	var e managementErrorBody
	// Best effort: the status decides; the body only refines it.
	_ = json.Unmarshal(resp.Body, &e)
	return e
}

// managementError maps a Management API answer that is not a success (providers.md §1.3).
func managementError(op string, resp *httpx.Response) error {
	e := decodeManagementError(resp)
	detail := safeDetail(e.ErrorCode, e.Message)
	kind := provider.ErrProtocol
	switch {
	case resp.Status == http.StatusNotFound && e.StatusCode == http.StatusNotFound:
		// Only Auth0's own envelope means "no such user": a bare 404 from a proxy or a wrong base
		// URL would otherwise make every user look absent — and Delete treats absent as done.
		kind = provider.ErrNotFound
	case resp.Status == http.StatusConflict:
		kind = provider.ErrUserExists
	case resp.Status == http.StatusBadRequest && strings.Contains(e.Message, "The specified new email already exists"):
		// Auth0 reports a taken email on PATCH as 400, not 409.
		kind = provider.ErrUserExists
	case resp.Status == http.StatusBadRequest:
		// Password policy (PasswordStrengthError, PasswordHistoryError, ...), payload validation.
		kind = provider.ErrRejected
	}
	return provider.Errorf(Name, op, kind, resp.Status, "%s", detail)
}

// safeDetail keeps what identifies an Auth0 error without repeating user input: the error code
// and the head of the message. Auth0 quotes offending values after a colon ("Payload validation
// error: 'Object didn't pass validation for format email: ...'"), so only the part before the
// first colon is kept, and a message that still holds an '@' (an email) is dropped.
func safeDetail(code, message string) string {
	if i := strings.IndexAny(message, ":'\""); i >= 0 {
		message = message[:i]
	}
	message = strings.TrimSpace(message)
	if strings.Contains(message, "@") {
		message = ""
	}
	if len(message) > 80 {
		message = message[:80]
	}
	switch {
	case code == "":
		return message
	case message == "":
		return code
	default:
		return code + ": " + message
	}
}

// userPath is the Management API path of one user. Auth0 ids contain '|' (auth0|63d1...), which
// must travel escaped, and an id must never be able to reach another path segment.
func userPath(id string) string {
	return "/api/v2/users/" + url.PathEscape(id)
}
