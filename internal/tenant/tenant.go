// Package tenant names a newspaper tenant and holds the settings the workflows need for it.
package tenant

import (
	"fmt"
	"net/url"
	"strings"
)

// Key selects a tenant: the X-ClientCode, X-PaperCode and X-ClientGroupCode headers.
type Key struct {
	ClientCode      string
	PaperCode       string
	ClientGroupCode string
}

// String is the key as stored: "client/paper/group". The parts never hold '/' (the contract's
// TenantCode pattern), so the form is unambiguous.
func (k Key) String() string {
	return k.ClientCode + "/" + k.PaperCode + "/" + k.ClientGroupCode
}

// ParseKey reads a key written by String.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Key{}, fmt.Errorf("tenant key %q is not client/paper/group", s)
	}
	return Key{ClientCode: parts[0], PaperCode: parts[1], ClientGroupCode: parts[2]}, nil
}

// Tenant is one tenant's configuration, resolved once at start.
type Tenant struct {
	Key Key
	// Name is shown in emails ("The Daily Example").
	Name string
	// ProviderName is Flow.UserProvider: "Auth0", "Gigya", "SSOR", "Firefly", or "" (MG2 auth).
	// The adapter itself is the orchestrator's to choose (orchestrator.Providers): settings and
	// mail need the tenant, not a connection to its provider.
	ProviderName string
	// SessionDays is how long a session token from Authenticate is valid.
	SessionDays int
	// DefaultReturnURL is where emailed links lead when a call gives no returnUrl.
	DefaultReturnURL string
	// AllowedReturnHosts are the hosts a returnUrl may point at; DefaultReturnURL's host always is.
	AllowedReturnHosts []string
	// MailFrom is the sender of the tenant's emails.
	MailFrom string
}

// ReturnURL picks the address an emailed link leads to: the caller's returnUrl when its host is
// allowed, the tenant's default when none was given. ok is false for a host the tenant does not
// allow, so that nobody can make the service email a reset link pointing at their own site.
func (t *Tenant) ReturnURL(requested string) (string, bool) {
	if requested == "" {
		return t.DefaultReturnURL, true
	}
	u, err := url.Parse(requested)
	if err != nil {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if d, err := url.Parse(t.DefaultReturnURL); err == nil && strings.EqualFold(d.Hostname(), host) {
		return requested, true
	}
	for _, h := range t.AllowedReturnHosts {
		if strings.EqualFold(h, host) {
			return requested, true
		}
	}
	return "", false
}
