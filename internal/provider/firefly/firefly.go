// Package firefly is the Firefly adapter of the AuthSystem port. Firefly (Gannett's user and
// entitlement platform) publishes no user-lifecycle contract; this project adopted the REST shape
// written down in mocks/firefly/README.md (a proposal, see contract-decisions 20). The package
// only configures the shared restuser client: Firefly's name, its secret header, and its GUID
// ids. A real Firefly contract replaces this package.
package firefly

import (
	"net/http"

	"github.com/google/uuid"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/restuser"
)

// Name is Firefly's Flow.UserProvider value.
const Name = "Firefly"

// AccessTokenName names Firefly's access token in provider.Session.Tokens (and so in cookieTokens).
const AccessTokenName = "firefly_access_token"

// SecretHeader carries the Firefly external secret on every call.
const SecretHeader = "X-Firefly-Secret"

// Config is one tenant's Firefly.
type Config struct {
	// BaseURL is Firefly's root; it wins over HTTP.BaseURL.
	BaseURL string
	// Secret is the Firefly external secret, sent as the X-Firefly-Secret header.
	Secret string
	// HTTP holds the timeouts and retries.
	HTTP httpx.Config
}

// Client is Firefly's AuthSystem.
type Client struct {
	*restuser.Client
}

var _ provider.AuthSystem = (*Client)(nil)

// New checks cfg and builds the client.
func New(cfg Config) (*Client, error) {
	if err := restuser.CheckCredential(Name, "Secret", cfg.Secret); err != nil {
		return nil, err
	}
	h := cfg.HTTP
	if cfg.BaseURL != "" {
		h.BaseURL = cfg.BaseURL
	}
	c, err := restuser.New(restuser.Config{
		Name:        Name,
		HTTP:        h,
		Credentials: http.Header{SecretHeader: {cfg.Secret}},
		ValidID:     ValidID,
		TokenName:   AccessTokenName,
	})
	if err != nil {
		return nil, err
	}
	return &Client{Client: c}, nil
}

// ValidID: Firefly ids (userGUID) are GUIDs in the canonical 8-4-4-4-12 form, either case.
// uuid.Parse alone would also take the braced, urn: and undashed forms, which Firefly never
// issues.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	_, err := uuid.Parse(id)
	return err == nil
}
