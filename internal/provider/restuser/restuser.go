// Package restuser is the client of the REST user API that SSOR and Firefly share in this
// project. Neither provider publishes a contract; the project adopted the proposal of
// reference/providers.md 3.3 (extended where the AuthSystem port needs it) as its own, written
// down in mocks/ssor/README.md and mocks/firefly/README.md. Packages ssor and firefly only
// configure this client (name, credential header, id rule), so that a real contract for either
// one can replace its package without touching the other.
package restuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

// Config configures one provider speaking the contract.
type Config struct {
	// Name is the Flow.UserProvider value ("SSOR", "Firefly"); it names the provider in errors.
	Name string
	// HTTP holds the base URL, timeouts and retries.
	HTTP httpx.Config
	// Credentials are the service's own headers, sent with every call (SSOR's Authorization,
	// Firefly's X-Firefly-Secret). On GET /users/me an Authorization header is replaced by the
	// user's token.
	Credentials http.Header
	// ValidID tells whether a string can be one of this provider's user ids. An id that cannot
	// is answered ErrNotFound without a call, and a user the provider returns with such an id is
	// a protocol error. Nil accepts any non-empty id.
	ValidID func(id string) bool
	// TokenName names the provider's access token in provider.Session.Tokens.
	TokenName string
}

// Client speaks the contract to one provider. It is safe for concurrent use.
type Client struct {
	name      string
	http      *httpx.Client
	creds     http.Header
	validID   func(string) bool
	tokenName string
}

var _ provider.AuthSystem = (*Client)(nil)

// New checks cfg and builds the client.
func New(cfg Config) (*Client, error) {
	if cfg.Name == "" {
		return nil, errors.New("restuser: a provider name is required")
	}
	if cfg.TokenName == "" {
		return nil, fmt.Errorf("%s: a token name is required", cfg.Name)
	}
	h, err := httpx.New(cfg.Name, cfg.HTTP)
	if err != nil {
		return nil, err
	}
	valid := cfg.ValidID
	if valid == nil {
		valid = func(id string) bool { return id != "" }
	}
	return &Client{name: cfg.Name, http: h, creds: cfg.Credentials.Clone(), validID: valid, tokenName: cfg.TokenName}, nil
}

// Name is the Flow.UserProvider value.
func (c *Client) Name() string { return c.name }

// CheckCredential refuses a credential that net/http could not send as a header value (a secret
// read from a file often ends in a newline): failing at start-up names the setting, failing at
// the first call would look like the provider being down. The value never appears in the error.
func CheckCredential(providerName, setting, value string) error {
	if value == "" {
		return fmt.Errorf("%s: %s is required", providerName, setting)
	}
	for i := 0; i < len(value); i++ {
		if value[i] <= ' ' || value[i] > '~' {
			return fmt.Errorf("%s: %s holds a character that cannot be sent in a header (whitespace or control)", providerName, setting)
		}
	}
	return nil
}

// kind tells the error mapping which endpoint answered: a 401 means wrong credentials on
// authenticate, a bad user token on /users/me, and a refused service credential elsewhere.
type kind int

const (
	serviceCall kind = iota
	loginCall
	tokenCall
)

// call is one request of the contract.
type call struct {
	op         string
	method     string
	path       string
	query      url.Values
	body       any
	idempotent bool
	kind       kind
	// userToken replaces the Authorization header (GET /users/me).
	userToken string
}

// do sends cl and returns a 2xx answer; any other answer becomes a *provider.Error.
func (c *Client) do(ctx context.Context, cl call) (*httpx.Response, error) {
	header := c.creds.Clone()
	if header == nil {
		header = http.Header{}
	}
	if cl.userToken != "" {
		header.Set("Authorization", "Bearer "+cl.userToken)
	}
	resp, err := c.http.Do(ctx, httpx.Request{
		Op: cl.op, Method: cl.method, Path: cl.path, Query: cl.query, Header: header,
		JSON: cl.body, Idempotent: cl.idempotent,
	})
	if err != nil {
		// httpx already made it ErrUnavailable (timeout, broken connection, 5xx, 429).
		return nil, err
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp, nil
	}
	code := errorCode(resp.Body)
	detail := code
	if detail == "" {
		detail = "answer without an error code"
	}
	return nil, provider.Errorf(c.name, cl.op, classify(cl.kind, resp.Status, code), resp.Status, "%s", detail)
}

// The error codes of the contract's error object.
const (
	codeUserNotFound       = "user_not_found"
	codeUserExists         = "user_exists"
	codeEmailInUse         = "email_in_use"
	codeInvalidCredentials = "invalid_credentials"
	codeUnauthorized       = "unauthorized"
	codeUserBlocked        = "user_blocked"
	codeEmailNotVerified   = "email_not_verified"
)

// classify maps a non-2xx answer that httpx handed back (so neither 5xx nor 429) to a
// provider-neutral kind. The table is in mocks/ssor/README.md.
func classify(k kind, status int, code string) error {
	switch {
	case status == http.StatusBadRequest:
		// invalid_request, password_policy and any other 400: the content was refused.
		return provider.ErrRejected
	case status == http.StatusUnauthorized && k == loginCall && code == codeInvalidCredentials:
		return provider.ErrInvalidCredentials
	case status == http.StatusUnauthorized && k == tokenCall && code != codeUnauthorized:
		// On /users/me the user's token is the credential; "unauthorized" is reserved for the
		// service's own credential (Firefly still sends its secret there).
		return provider.ErrInvalidToken
	case status == http.StatusForbidden && code == codeUserBlocked:
		return provider.ErrBlocked
	case status == http.StatusForbidden && code == codeEmailNotVerified:
		return provider.ErrNotVerified
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The provider refused our API token or secret. Nothing the user did can cause that and
		// nothing the user can do fixes it: the provider is unusable for this tenant until the
		// configuration is corrected, which is what ErrUnavailable (E503) tells the caller.
		// Mapping it to ErrInvalidCredentials would blame the user for our misconfiguration.
		return provider.ErrUnavailable
	case status == http.StatusNotFound && code == codeUserNotFound:
		return provider.ErrNotFound
	case status == http.StatusConflict && (code == codeUserExists || code == codeEmailInUse):
		return provider.ErrUserExists
	default:
		// A 404 without user_not_found is a wrong base URL or a missing route (WireMock's
		// "Request was not matched" too): calling it "user not found" would make Delete report
		// success and GetUser hide a misconfiguration.
		return provider.ErrProtocol
	}
}

// codePattern bounds what of the provider's error object may reach our errors: the code only,
// never the message, which can quote input (emails, and in a careless provider, passwords).
var codePattern = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

func errorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || !codePattern.MatchString(e.Error) {
		return ""
	}
	return e.Error
}

// userPath is /users/{id} with id escaped as one path segment, plus an optional suffix.
func userPath(id, suffix string) string {
	return "/users/" + url.PathEscape(id) + suffix
}
