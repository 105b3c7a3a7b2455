package orchestrator

import "usersorchestrator/internal/emailaddr"

// canonicalEmail is an address from a request as the service keeps and compares it
// (emailaddr.Canonical); a refused one is E400_00 naming field. The contract has refused such
// addresses already; this keeps callers that do not go through it (tools, tests) to the same rule.
func canonicalEmail(field, email string) (string, error) {
	c, err := emailaddr.Canonical(email)
	if err != nil {
		return "", &InvalidInputError{Field: field, Problem: err.Error()}
	}
	return c, nil
}

// loginName is a login name as lookups and the provider get it: the canonical address when it
// is one, else as given (a login name is not required to be an address, and simply finds nobody).
func loginName(s string) string {
	if c, err := emailaddr.Canonical(s); err == nil {
		return c
	}
	return s
}
