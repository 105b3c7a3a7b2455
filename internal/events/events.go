// Package events is the catalogue of event types the workflows record: one event per call to the
// provider (AUTHSYSTEM_*) or to Subscribe (SUBSCRIBE_*), with Naviga's published codes and ids.
// openapi.yaml documents the same table (EventTypeCode, x-event-ids); events_test.go compares them.
package events

// Type is an event type: its code and numeric id.
type Type struct {
	Code string
	ID   int
	// Published is false for the types this project named where Naviga published none.
	Published bool
}

// The event types.
var (
	SubscribeGet                    = Type{"SUBSCRIBE_USER_GET", 4000, true}
	SubscribeGetByID                = Type{"SUBSCRIBE_USER_GETBYID", 4001, true}
	SubscribeCreate                 = Type{"SUBSCRIBE_USER_CREATE", 4002, true}
	SubscribeCreatePending          = Type{"SUBSCRIBE_USER_CREATEPENDING", 4003, true}
	SubscribeUpdate                 = Type{"SUBSCRIBE_USER_UPDATE", 4004, true}
	SubscribeLogin                  = Type{"SUBSCRIBE_USER_LOGIN", 4006, true}
	SubscribeValidateForgotPassword = Type{"SUBSCRIBE_USER_VALIDATEFORGOTPASSWORD", 4007, false}
	SubscribeFinishForgotPassword   = Type{"SUBSCRIBE_USER_FINISHFORGOTPASSWORD", 4008, false}
	SubscribeStartForgotPassword    = Type{"SUBSCRIBE_USER_STARTFORGOTPASSWORD", 4009, true}
	SubscribeChangePassword         = Type{"SUBSCRIBE_USER_CHANGEPASSWORD", 4010, true}
	SubscribeChangeEmail            = Type{"SUBSCRIBE_USER_CHANGEEMAIL", 4011, true}
	SubscribeGoogleLogin            = Type{"SUBSCRIBE_USER_GOOGLELOGIN", 4012, true}
	// AuthSystemGet and AuthSystemGetByID share 4601, as published: the create and encrypted-get
	// flows use the first name, the others the second.
	AuthSystemGet     = Type{"AUTHSYSTEM_USER_GET", 4601, true}
	AuthSystemGetByID = Type{"AUTHSYSTEM_USER_GETBYID", 4601, true}
	AuthSystemCreate  = Type{"AUTHSYSTEM_USER_CREATE", 4602, true}
	AuthSystemUpdate  = Type{"AUTHSYSTEM_USER_UPDATE", 4603, false}
	AuthSystemSearch  = Type{"AUTHSYSTEM_USER_SEARCH", 4604, false}
	// AuthSystemDelete is the undo of a provider create whose Subscribe step failed.
	AuthSystemDelete         = Type{"AUTHSYSTEM_USER_DELETE", 4606, false}
	AuthSystemLogin          = Type{"AUTHSYSTEM_USER_LOGIN", 4605, true}
	AuthSystemChangePassword = Type{"AUTHSYSTEM_USER_CHANGEPASSWORD", 4609, true}
	AuthSystemChangeEmail    = Type{"AUTHSYSTEM_USER_CHANGEEMAIL", 4610, true}
)

// All lists every event type.
func All() []Type {
	return []Type{
		SubscribeGet, SubscribeGetByID, SubscribeCreate, SubscribeCreatePending, SubscribeUpdate,
		SubscribeLogin, SubscribeValidateForgotPassword, SubscribeFinishForgotPassword,
		SubscribeStartForgotPassword, SubscribeChangePassword, SubscribeChangeEmail, SubscribeGoogleLogin,
		AuthSystemGet, AuthSystemGetByID, AuthSystemCreate, AuthSystemUpdate, AuthSystemSearch, AuthSystemDelete,
		AuthSystemLogin, AuthSystemChangePassword, AuthSystemChangeEmail,
	}
}

// ByCode finds an event type by its code.
func ByCode(code string) (Type, bool) {
	for _, t := range All() {
		if t.Code == code {
			return t, true
		}
	}
	return Type{}, false
}

// Reads lists the event types of calls that only read a user (GET, GET by id, search). They are
// most of the events by far (every GET records one) and tell an audit only who looked, so they
// are kept for a shorter time than the rest (see config.Retention). Logins and the checks of a
// reset link are not reads: an investigation of a taken-over account needs them.
func Reads() []Type {
	return []Type{SubscribeGet, SubscribeGetByID, AuthSystemGet, AuthSystemGetByID, AuthSystemSearch}
}

// Changes lists every other event type: the calls that create, change, delete or authenticate.
func Changes() []Type {
	var out []Type
	for _, t := range All() {
		if !isRead(t) {
			out = append(out, t)
		}
	}
	return out
}

func isRead(t Type) bool {
	for _, r := range Reads() {
		if r == t {
			return true
		}
	}
	return false
}

// Codes returns the codes of ts (the store prunes by code: two types may share an id).
func Codes(ts []Type) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Code)
	}
	return out
}
