package gigya

import "usersorchestrator/internal/provider"

// Gigya errorCodes the adapter treats specially (catalogue: providers.md 2.5, SAP "Response
// Codes and Errors", graze/gigya-client ErrorCode.php).
const (
	okWithErrors           = 200008 // "OK with errors": done, with acceptable problems on the side
	pendingRegistration    = 206001 // required schema fields missing, registration not finalized
	pendingVerification    = 206002 // the account exists, its email is not verified yet
	uniqueIdentifierExists = 400003 // email/username taken; usually inside validationErrors
	invalidParameterValue  = 400006
	validationFailed       = 400009
	oldPasswordUsed        = 401030
	unverifiedUser         = 403013 // "Unverified user": the site's policy wants a verified email first
	unauthorizedUser       = 403005 // "UID not valid for this site": Gigya's answer for an unknown UID
	invalidLoginID         = 403042 // wrong password or unknown login id
	loginIDDoesNotExist    = 403047 // resetPassword for an unknown login id
	rateLimitExceeded      = 403048
	generalServerError     = 500001
)

// kinds maps the errorCodes met in the user lifecycle to the port's error kinds. Codes not listed
// fall back by class in kindFor.
var kinds = map[int]error{
	pendingRegistration: provider.ErrRejected, // the site's schema wants fields we did not send
	pendingVerification: provider.ErrNotVerified,
	206003:              provider.ErrRejected, // account without login id (social only)

	// Configuration and credentials: nothing the caller's input can fix and nothing the user did;
	// the provider is unusable for this tenant until an operator acts, so it is "unavailable".
	301001: provider.ErrUnavailable, // wrong data center for the API key
	400093: provider.ErrUnavailable, // invalid apiKey
	401000: provider.ErrUnavailable, // invalid policy configuration
	403000: provider.ErrUnavailable, // forbidden
	403003: provider.ErrUnavailable, // invalid request signature
	403006: provider.ErrUnavailable, // secret sent over HTTP
	403007: provider.ErrUnavailable, // permission denied for the user key
	403010: provider.ErrUnavailable, // invalid secret
	403036: provider.ErrUnavailable, // product not enabled for the partner
	403045: provider.ErrUnavailable, // RaaS storage not configured

	uniqueIdentifierExists: provider.ErrUserExists,
	403043:                 provider.ErrUserExists, // login identifier exists (belongs to another account)
	409001:                 provider.ErrUserExists, // identity exists

	400028:         provider.ErrNotVerified, // email not verified
	unverifiedUser: provider.ErrNotVerified, // login to an account whose email the site requires verified

	invalidLoginID:  provider.ErrInvalidCredentials,
	oldPasswordUsed: provider.ErrRejected, // a password of the history: refused by the policy

	// The provider refuses this user (until it is unlocked, verified by TFA, past a captcha...).
	403041: provider.ErrBlocked, // account disabled (isActive=false)
	403044: provider.ErrBlocked, // under age
	403100: provider.ErrBlocked, // pending password change (password expired by policy)
	403101: provider.ErrBlocked, // pending TFA verification
	403102: provider.ErrBlocked, // pending TFA registration
	403120: provider.ErrBlocked, // temporarily locked out
	401020: provider.ErrBlocked, // captcha required (failed-login threshold reached)
	401021: provider.ErrBlocked, // wrong captcha

	unauthorizedUser:    provider.ErrNotFound,
	loginIDDoesNotExist: provider.ErrNotFound,
	404000:              provider.ErrNotFound,
	404003:              provider.ErrNotFound, // UID not found

	// Session calls (login_token).
	403011: provider.ErrInvalidToken, // session expired
	403012: provider.ErrInvalidToken, // no valid session
	403025: provider.ErrInvalidToken, // invalid OAuth2 token
	403035: provider.ErrInvalidToken, // no user credentials / cookie

	rateLimitExceeded: provider.ErrUnavailable,
}

// kindFor is the error kind of a non-zero errorCode: the call's own override, then the table,
// then the code's class (its first three digits are the HTTP-like statusCode).
func kindFor(code int, env *envelope, overrides map[int]error) error {
	if k, ok := overrides[code]; ok {
		return k
	}
	// register/setAccountInfo report a taken email as a validation error whose entries carry
	// 400003; it is "exists", not "invalid input".
	if code == validationFailed || code == invalidParameterValue {
		for _, v := range env.ValidationErrors {
			if v.ErrorCode == uniqueIdentifierExists || v.ErrorCode == 403043 {
				return provider.ErrUserExists
			}
		}
	}
	if k, ok := kinds[code]; ok {
		return k
	}
	switch class := code / 1000; {
	case class == 404:
		return provider.ErrNotFound
	case class >= 400 && class < 500:
		// 400xxx validation and format errors, 401xxx, 403xxx, 413xxx: the request's content
		// was refused.
		return provider.ErrRejected
	case class >= 500 && class < 600:
		return provider.ErrUnavailable
	default:
		return provider.ErrProtocol
	}
}

// transient reports whether an errorCode is worth retrying for an idempotent call: server-side
// failures and timeouts. Not the rate limit (403048 is a daily quota: waiting milliseconds does
// not help) and not the 5xxxxx codes that name a configuration problem.
func transient(code int) bool {
	switch code {
	case 500000, 500003, 500031, 500033:
		return false
	}
	class := code / 1000
	return class == 500 || class == 503 || class == 504
}
