// Package ssor is the SSOR adapter of the AuthSystem port. SSOR publishes no contract; this
// project adopted the REST shape written down in mocks/ssor/README.md (a proposal, see
// contract-decisions 20). The package only configures the shared restuser client: SSOR's name,
// its static API token as a bearer, and its id rule. A real SSOR contract replaces this package.
package ssor

import (
	"net/http"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser"
)

// Name is SSOR's Flow.UserProvider value.
const Name = "SSOR"

// AccessTokenName names SSOR's access token in provider.Session.Tokens (and so in cookieTokens).
const AccessTokenName = "ssor_access_token"

// Config is one tenant's SSOR.
type Config struct {
	// BaseURL is SSOR's root; it wins over HTTP.BaseURL.
	BaseURL string
	// APIToken is the static token sent as "Authorization: Bearer <APIToken>" on every call but
	// GET /users/me, which carries the user's token instead.
	APIToken string
	// HTTP holds the timeouts and retries.
	HTTP httpx.Config
}

// Client is SSOR's AuthSystem.
type Client struct {
	*restuser.Client
}

var _ provider.AuthSystem = (*Client)(nil)

// New checks cfg and builds the client.
func New(cfg Config) (*Client, error) {
	if err := restuser.CheckCredential(Name, "APIToken", cfg.APIToken); err != nil {
		return nil, err
	}
	h := cfg.HTTP
	if cfg.BaseURL != "" {
		h.BaseURL = cfg.BaseURL
	}
	c, err := restuser.New(restuser.Config{
		Name:        Name,
		HTTP:        h,
		Credentials: http.Header{"Authorization": {"Bearer " + cfg.APIToken}},
		ValidID:     ValidID,
		TokenName:   AccessTokenName,
	})
	if err != nil {
		return nil, err
	}
	return &Client{Client: c}, nil
}

// ValidID: SSOR ids are opaque strings. Only the ones that cannot name a user under
// /users/{id} are refused: the empty string, the dot segments (a client or proxy may resolve
// them away) and the contract's own path words "me" and "authenticate".
func ValidID(id string) bool {
	switch id {
	case "", ".", "..", "me", "authenticate":
		return false
	}
	return true
}
