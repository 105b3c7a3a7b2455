package orchestrator

import "usersorchestrator/internal/provider"

// useProvider is the routing rule of Flow.UserProvider and IgnoreProvider.
func (c Call) useProvider(ignoreProvider bool) bool {
	return c.Tenant.HasProvider() && !ignoreProvider
}

func (c Call) provider() provider.AuthSystem { return c.Tenant.Provider }
