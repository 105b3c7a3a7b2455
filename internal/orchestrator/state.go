package orchestrator

import (
	"usersorchestrator/internal/registration"
)

// State is the registration status of the contract.
type State string

// The states.
const (
	StateStandard   State = "Standard"
	StateLite       State = "Lite"
	StateUnverified State = "Unverified"
)

// localState applies the MG2-auth rules: Unverified wins over Lite.
func localState(r registration.Registration) State {
	switch {
	case !r.Verified || r.Pending:
		return StateUnverified
	case r.PasswordHash == "":
		return StateLite
	default:
		return StateStandard
	}
}

// stateOf is the state shown, by the rule login applies: Standard for a user whose password the
// tenant's provider keeps (it decides whether they may log in); the MG2-auth rules for a user
// Subscribe alone holds, which on a provider tenant is one created with ignoreProvider=true.
func (o *Orchestrator) stateOf(c Call, r registration.Registration) State {
	if o.passwordInProvider(c, r) {
		return StateStandard
	}
	return localState(r)
}
