package gigya

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"usersorchestrator/internal/provider"
)

// include is what the adapter asks getAccountInfo, register and login to return: the profile,
// the custom data (metadata), the login ids and emails (to know the login id for resetPassword).
// Not isLockedOut: SAP deprecated it in favour of lockedUntil, which every account carries
// without being asked for, and a value the API does not document must not be sent.
const include = "profile,data,loginIDs,emails"

// account is a Gigya account object as getAccountInfo, register, login and search return it.
type account struct {
	UID     string `json:"UID"`
	Profile struct {
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"profile"`
	Data       map[string]json.RawMessage `json:"data"`
	IsVerified bool                       `json:"isVerified"`
	// IsActive is absent when include does not cover it; absent means active.
	IsActive *bool `json:"isActive"`
	// IsLockedOut is deprecated and no longer asked for; read still in case a site sends it.
	IsLockedOut bool `json:"isLockedOut"`
	// LockedUntil is when an account locked by the lockout policy or an RBA rule may log in
	// again; SAP names it the replacement of isLockedOut.
	LockedUntil string `json:"lockedUntil"`
	LoginIDs    struct {
		Emails           []string `json:"emails"`
		UnverifiedEmails []string `json:"unverifiedEmails"`
	} `json:"loginIDs"`
	Emails struct {
		Verified   []string `json:"verified"`
		Unverified []string `json:"unverified"`
	} `json:"emails"`
	Created              string      `json:"created"`
	CreatedTimestamp     json.Number `json:"createdTimestamp"`
	LastUpdated          string      `json:"lastUpdated"`
	LastUpdatedTimestamp json.Number `json:"lastUpdatedTimestamp"`
}

// user maps the account to the port's User; now decides whether lockedUntil still holds.
func (a *account) user(now time.Time) provider.User {
	u := provider.User{
		ID:            a.UID,
		Email:         a.email(),
		EmailVerified: a.IsVerified,
		FirstName:     a.Profile.FirstName,
		LastName:      a.Profile.LastName,
		Metadata:      metadata(a.Data),
		Blocked:       a.IsLockedOut || (a.IsActive != nil && !*a.IsActive),
		CreatedAt:     when(a.Created, a.CreatedTimestamp),
		UpdatedAt:     when(a.LastUpdated, a.LastUpdatedTimestamp),
	}
	if t, err := time.Parse(time.RFC3339Nano, a.LockedUntil); err == nil && t.After(now) {
		u.Blocked = true
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	return u
}

// email is the profile email, else the first login email: accounts imported without a profile
// email still have the one they log in with.
func (a *account) email() string {
	for _, e := range [][]string{{a.Profile.Email}, a.LoginIDs.Emails, a.LoginIDs.UnverifiedEmails, a.Emails.Verified, a.Emails.Unverified} {
		if len(e) > 0 && e[0] != "" {
			return e[0]
		}
	}
	return ""
}

// loginID is the login id resetPassword needs: a login email first (profile.email need not be
// one), the profile email otherwise.
func (a *account) loginID() string {
	for _, e := range [][]string{a.LoginIDs.Emails, a.LoginIDs.UnverifiedEmails, {a.Profile.Email}} {
		if len(e) > 0 && e[0] != "" {
			return e[0]
		}
	}
	return ""
}

// hasEmail reports whether email is one of the account's addresses, ignoring case as Gigya does
// for login ids.
func (a *account) hasEmail(email string) bool {
	for _, list := range [][]string{{a.Profile.Email}, a.LoginIDs.Emails, a.LoginIDs.UnverifiedEmails, a.Emails.Verified, a.Emails.Unverified} {
		for _, e := range list {
			if strings.EqualFold(e, email) {
				return true
			}
		}
	}
	return false
}

// metadata turns Gigya data into the port's string map: strings as they are, other JSON values
// (numbers, booleans, objects a site schema may hold) as their compact JSON text; nulls are
// absent keys, which is how Gigya deletes a field.
func metadata(data map[string]json.RawMessage) map[string]string {
	if len(data) == 0 {
		return nil
	}
	out := make(map[string]string, len(data))
	for k, raw := range data {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var s string
		if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			out[k] = s
			continue
		}
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			out[k] = buf.String()
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// when reads Gigya's ISO-8601 time, else its millisecond timestamp twin; zero when neither is there.
func when(iso string, ms json.Number) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, iso); err == nil {
		return t.UTC()
	}
	if n, err := strconv.ParseInt(ms.String(), 10, 64); err == nil && n > 0 {
		return time.UnixMilli(n).UTC()
	}
	return time.Time{}
}
