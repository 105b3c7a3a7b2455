package app

import (
	"fmt"
	"strings"

	"usersorchestrator/internal/config"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/auth0"
	"usersorchestrator/internal/provider/firefly"
	"usersorchestrator/internal/provider/gigya"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/ssor"
	"usersorchestrator/internal/tenant"
)

// directory finds tenants by key (httpapi.Tenants).
type directory map[tenant.Key]*tenant.Tenant

func (d directory) Tenant(k tenant.Key) (*tenant.Tenant, bool) {
	t, ok := d[k]
	return t, ok
}

// adapters gives each tenant with a provider its adapter (orchestrator.Providers).
type adapters map[tenant.Key]provider.AuthSystem

func (a adapters) Provider(k tenant.Key) provider.AuthSystem { return a[k] }

// buildTenants resolves the configured tenants and their providers' adapters; wrap decorates
// each adapter (metrics.Provider counts and times its calls).
func buildTenants(cfgs []config.Tenant, wrap func(provider.AuthSystem) provider.AuthSystem) (directory, adapters, error) {
	d, a := directory{}, adapters{}
	for _, c := range cfgs {
		p, err := newProvider(c)
		if err != nil {
			return nil, nil, fmt.Errorf("tenant %s/%s/%s: %w", c.ClientCode, c.PaperCode, c.ClientGroupCode, err)
		}
		if p != nil {
			p = wrap(p)
		}
		t := &tenant.Tenant{
			Key:                tenant.Key{ClientCode: c.ClientCode, PaperCode: c.PaperCode, ClientGroupCode: c.ClientGroupCode},
			Name:               c.Name,
			SessionDays:        c.SessionDays,
			DefaultReturnURL:   c.DefaultReturnURL,
			AllowedReturnHosts: c.AllowedReturnHosts,
			MailFrom:           c.MailFrom,
		}
		if p != nil {
			t.ProviderName = p.Name()
			a[t.Key] = p
		}
		d[t.Key] = t
	}
	return d, a, nil
}

// newProvider builds the adapter named by Flow.UserProvider; nil for none.
func newProvider(c config.Tenant) (provider.AuthSystem, error) {
	h := httpx.Config{BaseURL: c.BaseURL, Timeout: c.Timeout, MaxRetries: c.MaxRetries}
	switch strings.ToLower(c.Provider) {
	case "":
		return nil, nil
	case "auth0":
		return auth0.New(auth0.Config{
			BaseURL: c.BaseURL, ClientID: c.Auth0.ClientID, ClientSecret: c.Auth0.ClientSecret, Audience: c.Auth0.Audience,
			Connection: c.Auth0.Connection, Scope: c.Auth0.Scope, LoginAudience: c.Auth0.LoginAudience, HTTP: h,
		})
	case "gigya":
		return gigya.New(gigya.Config{BaseURL: c.BaseURL, APIKey: c.Gigya.APIKey, UserKey: c.Gigya.UserKey, Secret: c.Gigya.Secret, HTTP: h})
	case "ssor":
		return ssor.New(ssor.Config{BaseURL: c.BaseURL, APIToken: c.SSOR.APIToken, HTTP: h})
	case "firefly":
		return firefly.New(firefly.Config{BaseURL: c.BaseURL, Secret: c.Firefly.Secret, HTTP: h})
	}
	return nil, fmt.Errorf("unknown provider %q", c.Provider)
}
