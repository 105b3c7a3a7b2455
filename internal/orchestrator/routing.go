package orchestrator

import (
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// Routing. Three questions decide where a call goes, and only these three functions answer them:
//
//   - askProvider: is the tenant's provider asked at all?
//   - providerHolds: did the provider answer a read with the user, so writes go through it too?
//   - passwordInProvider: does a stored user's password (and verified flag) live in the provider?

// askProvider is the rule of Flow.UserProvider and ignoreProvider: the provider is asked when the
// tenant has one and the call did not say to leave it out.
func (o *Orchestrator) askProvider(c Call, ignoreProvider bool) bool {
	return !ignoreProvider && o.provider(c) != nil
}

// providerHolds tells whether the provider holds the user a read found: it was asked and answered
// with the user. A user only Subscribe knows (created with ignoreProvider) is written there alone.
func providerHolds(f found) bool { return f.provUser != nil }

// passwordInProvider tells whether a stored user authenticates at the provider: the tenant has one
// and the registration was made through it or copied from it. Users created with ignoreProvider
// keep their password hash in Subscribe, whatever the tenant's provider.
func (o *Orchestrator) passwordInProvider(c Call, reg registration.Registration) bool {
	return reg.AuthSystem != "" && o.provider(c) != nil
}

// provider is the tenant's identity provider, nil when it has none.
func (o *Orchestrator) provider(c Call) provider.AuthSystem {
	if o.Providers == nil {
		return nil
	}
	return o.Providers.Provider(c.Tenant.Key)
}
