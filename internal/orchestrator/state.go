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

// stateOf is the state shown: Standard for every user of a tenant with a provider.
func (o *Orchestrator) stateOf(c Call, r registration.Registration) State {
	if o.provider(c) != nil {
		return StateStandard
	}
	return localState(r)
}
