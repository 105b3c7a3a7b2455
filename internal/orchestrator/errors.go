package orchestrator

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"usersorchestrator/internal/provider"
)

// The outcomes a workflow can end with besides success. httpapi turns each into its message code
// in one place (see httpapi/errors.go); the orchestrator never speaks in codes.
var (
	ErrUserNotFound        = errors.New("the user was not found")                      // E404_01
	ErrInvalidEncrypted    = errors.New("an encrypted value cannot be decrypted")      // E400_02
	ErrEmailPending        = errors.New("the email is pending verification")           // E400_07
	ErrEmailInUse          = errors.New("the email is already in use")                 // E400_08
	ErrInvalidCredentials  = errors.New("invalid login name or password")              // E400_10
	ErrNotVerified         = errors.New("the user is not verified")                    // E400_11
	ErrNoPassword          = errors.New("the user has no password")                    // E400_12
	ErrInvalidToken        = errors.New("the token is invalid or expired")             // E400_13
	ErrEmailNotRegistered  = errors.New("the email is not registered")                 // E400_14
	ErrInvalidCode         = errors.New("the verification code is invalid")            // E400_15
	ErrAlreadyVerified     = errors.New("the email is already verified")               // E400_16
	ErrUpdateRefused       = errors.New("the provider refused the update")             // E400_22
	ErrIDInUse             = errors.New("the customer registration id already exists") // E400_23
	ErrRejected            = errors.New("the provider rejected the request")           // E400
	ErrProviderUnavailable = errors.New("the provider is unavailable")                 // E503
)

// InvalidInputError is a request the contract allows but the tenant's rules do not (a returnUrl
// pointing at a host the tenant does not allow): E400_00 naming the field.
type InvalidInputError struct {
	Field   string
	Problem string
}

func (e *InvalidInputError) Error() string { return e.Field + ": " + e.Problem }

// TooManyAttemptsError is a refused attempt (E429); RetryAfter says when to try again.
type TooManyAttemptsError struct{ RetryAfter time.Duration }

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("too many attempts, retry after %s", e.RetryAfter)
}

// Workflow names the part of a call that failed unexpectedly; each has its E500_xx code.
type Workflow string

// The workflows of the published E500 codes.
const (
	WorkflowGetByID        Workflow = "GetById"        // E500_01
	WorkflowGet            Workflow = "Get"            // E500_02
	WorkflowCreate         Workflow = "Create"         // E500_03
	WorkflowUpdate         Workflow = "Update"         // E500_04
	WorkflowAuthentication Workflow = "Authentication" // E500_05
	WorkflowForgotPassword Workflow = "ForgotPassword" // E500_06
	WorkflowVerification   Workflow = "Verification"   // E500_07
)

// WorkflowError is an unexpected failure (the store failed, the provider answered nonsense).
type WorkflowError struct {
	Workflow Workflow
	Err      error
}

func (e *WorkflowError) Error() string { return fmt.Sprintf("%s workflow: %v", e.Workflow, e.Err) }
func (e *WorkflowError) Unwrap() error { return e.Err }

// failed wraps an unexpected error with its workflow, leaving the expected outcomes as they are.
func failed(w Workflow, err error) error {
	if err == nil || isOutcome(err) {
		return err
	}
	var we *WorkflowError
	if errors.As(err, &we) {
		return err
	}
	return &WorkflowError{Workflow: w, Err: err}
}

// outcomes is the one list of the expected outcomes besides the two error types above: failed
// leaves them as they are, and httpapi gives each its message code (a test there fails for an
// outcome without one, which would otherwise answer E500_xx).
// The order is the precedence when an error wraps two: an unavailable provider comes first.
var outcomes = []error{ErrProviderUnavailable, ErrUserNotFound, ErrInvalidEncrypted, ErrEmailPending,
	ErrEmailInUse, ErrInvalidCredentials, ErrNotVerified, ErrNoPassword, ErrInvalidToken,
	ErrEmailNotRegistered, ErrInvalidCode, ErrAlreadyVerified, ErrUpdateRefused, ErrIDInUse, ErrRejected}

// Outcomes lists the expected outcomes (the sentinel errors above) in order of precedence, for
// the mapping to codes.
func Outcomes() []error { return slices.Clone(outcomes) }

func isOutcome(err error) bool {
	var ii *InvalidInputError
	var tm *TooManyAttemptsError
	if errors.As(err, &ii) || errors.As(err, &tm) {
		return true
	}
	for _, o := range outcomes {
		if errors.Is(err, o) {
			return true
		}
	}
	return false
}

// fromProvider turns a provider failure into the workflow's outcome: unavailable providers
// answer E503 whatever the workflow, answers the adapter could not read are the workflow's E500.
// The kinds a workflow expects (not found, exists, ...) are handled by the workflow before this.
func fromProvider(w Workflow, err error) error {
	switch {
	case errors.Is(err, provider.ErrUnavailable):
		return errors.Join(ErrProviderUnavailable, err)
	default:
		return failed(w, err)
	}
}
