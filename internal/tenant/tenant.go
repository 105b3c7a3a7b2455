// Package tenant names a newspaper tenant and holds the settings the workflows need for it.
package tenant

import (
	"fmt"
	"net"
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
	// AllowedReturnHosts are the hosts ("host" or "host:port") a returnUrl may point at besides
	// DefaultReturnURL's own host and port; see ReturnURL.
	AllowedReturnHosts []string
	// MailFrom is the sender of the tenant's emails.
	MailFrom string
}

// ReturnURL picks the address an emailed link leads to: the caller's returnUrl when the tenant
// allows its origin, the tenant's default when none was given. ok is false otherwise, so that
// nobody can make the service email a reset link or code to their own site, nor send it in clear:
//
//   - the scheme is https; http only for a loopback host (a developer's machine) or for exactly
//     the origin of DefaultReturnURL (the operator chose it);
//   - the host and port are DefaultReturnURL's, or an AllowedReturnHosts entry's: "host:port"
//     allows that port, a bare "host" only the scheme's default port (443 for https).
func (t *Tenant) ReturnURL(requested string) (string, bool) {
	if requested == "" {
		return t.DefaultReturnURL, true
	}
	u, err := url.Parse(requested)
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), effectivePort(u)
	def, _ := url.Parse(t.DefaultReturnURL)
	sameAsDefault := def != nil && strings.EqualFold(def.Hostname(), host) && effectivePort(def) == port
	switch {
	case scheme == "https":
	case scheme == "http" && (isLoopback(host) || (sameAsDefault && strings.EqualFold(def.Scheme, "http"))):
	default:
		return "", false
	}
	if sameAsDefault {
		return requested, true
	}
	for _, entry := range t.AllowedReturnHosts {
		h, p, err := net.SplitHostPort(entry)
		if err != nil { // no port: the scheme's own
			h, p = entry, defaultPort[scheme]
		}
		if strings.EqualFold(strings.Trim(h, "[]"), host) && p == port {
			return requested, true
		}
	}
	return "", false
}

var defaultPort = map[string]string{"http": "80", "https": "443"}

// effectivePort is u's port, or its scheme's default when it names none.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return defaultPort[strings.ToLower(u.Scheme)]
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
