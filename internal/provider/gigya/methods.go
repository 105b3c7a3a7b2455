package gigya

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usersorchestrator/internal/provider"
)

// TokenName names the login token in a Session when Gigya's answer names no cookie.
const TokenName = "gigya_login_token"

// ResetTokenParam is the query parameter PasswordChangeURL appends the passwordResetToken as.
// It is the name Gigya's own reset-password links and screen-sets use, so a tenant's existing
// Gigya reset page can complete the reset (accounts.resetPassword with passwordResetToken).
const ResetTokenParam = "pwrt"

// getAccount reads one account by UID.
func (c *Client) getAccount(ctx context.Context, id string) (account, error) {
	var a account
	if id == "" {
		return a, provider.Errorf(Name, "accounts.getAccountInfo", provider.ErrNotFound, 0, "empty UID")
	}
	_, err := c.do(ctx, call{
		method: "getAccountInfo", idempotent: true,
		params: url.Values{"UID": {id}, "include": {include}},
	}, &a)
	if err != nil {
		return a, err
	}
	if a.UID == "" {
		return a, provider.Errorf(Name, "accounts.getAccountInfo", provider.ErrProtocol, 200, "account without UID")
	}
	return a, nil
}

// GetUser is accounts.getAccountInfo by UID; an unknown UID (403005) is ErrNotFound.
func (c *Client) GetUser(ctx context.Context, id string) (provider.User, error) {
	a, err := c.getAccount(ctx, id)
	if err != nil {
		return provider.User{}, err
	}
	return a.user(time.Now()), nil
}

// searchResult is accounts.search's payload; nextCursorId is there while more batches follow.
type searchResult struct {
	Results      []account `json:"results"`
	NextCursorID string    `json:"nextCursorId"`
}

// Bounds of a cursor search. A batch is at most Gigya's default page of 300 accounts (full
// accounts can be kilobytes each, and an answer is read up to 1 MiB); a search stops after
// maxSearchResults matches or maxSearchBatches batches, whichever comes first, so a cursor that
// never ends cannot keep a request busy.
const (
	maxSearchBatch   = 300
	maxSearchResults = 1000
	maxSearchBatches = 20
)

// search runs q once, without a cursor: for lookups that expect a handful of rows.
func (c *Client) search(ctx context.Context, q provider.Query) ([]account, error) {
	query, err := searchQuery("accounts.search", q)
	if err != nil {
		return nil, err
	}
	var r searchResult
	if _, err := c.do(ctx, call{
		method: "search", idempotent: true,
		params: url.Values{"query": {query}},
	}, &r); err != nil {
		return nil, err
	}
	return r.Results, nil
}

// searchAll runs q with a cursor (openCursor=true, then each batch's nextCursorId alone, as SAP
// requires) until keep has accepted want accounts, the cursor ends, or the bounds are reached.
// Retrying a batch with the same cursorId is allowed by Gigya ("resend the same cursorID"), so
// batches are idempotent.
func (c *Client) searchAll(ctx context.Context, q provider.Query, keep func(*account) bool) ([]account, error) {
	want := q.Limit
	if want <= 0 || want > maxSearchResults {
		want = maxSearchResults
	}
	q.Limit = min(want, maxSearchBatch)
	query, err := searchQuery("accounts.search", q)
	if err != nil {
		return nil, err
	}
	params := url.Values{"query": {query}, "openCursor": {"true"}}
	var out []account
	for batch := 0; batch < maxSearchBatches; batch++ {
		var r searchResult
		if _, err := c.do(ctx, call{method: "search", idempotent: true, params: params}, &r); err != nil {
			return nil, err
		}
		for i := range r.Results {
			if keep(&r.Results[i]) {
				out = append(out, r.Results[i])
				if len(out) == want {
					return out, nil
				}
			}
		}
		if r.NextCursorID == "" || len(r.Results) == 0 {
			break
		}
		params = url.Values{"cursorId": {r.NextCursorID}}
	}
	return out, nil
}

// FindByEmail is accounts.search on profile.email. The results are checked again here, so a
// site whose search matches more loosely than expected cannot hand back someone else.
func (c *Client) FindByEmail(ctx context.Context, email string) (provider.User, error) {
	if email == "" {
		return provider.User{}, provider.Errorf(Name, "accounts.search", provider.ErrNotFound, 0, "empty email")
	}
	found, err := c.search(ctx, provider.Query{Email: email, Limit: 10})
	if err != nil {
		return provider.User{}, err
	}
	for i := range found {
		if found[i].hasEmail(email) && found[i].UID != "" {
			return found[i].user(time.Now()), nil
		}
	}
	return provider.User{}, provider.Errorf(Name, "accounts.search", provider.ErrNotFound, 200, "no account with that email")
}

// Search is accounts.search with a cursor, read to the end of the matches or to q.Limit
// (maxSearchResults when q.Limit <= 0); see searchQuery for how each field matches.
func (c *Client) Search(ctx context.Context, q provider.Query) ([]provider.User, error) {
	found, err := c.searchAll(ctx, q, func(a *account) bool { return q.Email == "" || a.hasEmail(q.Email) })
	if err != nil {
		return nil, err
	}
	now := time.Now()
	users := make([]provider.User, 0, len(found))
	for i := range found {
		users = append(users, found[i].user(now))
	}
	return users, nil
}

// profileFields is the profile object sent to register and setAccountInfo; absent fields stay
// unchanged in Gigya.
type profileFields struct {
	Email     string  `json:"email,omitempty"`
	FirstName *string `json:"firstName,omitempty"`
	LastName  *string `json:"lastName,omitempty"`
}

// jsonParam is v as the JSON text of a form field. HTML escaping is off: Gigya stores what it
// is sent, and "<" has no reason to travel as \u003c.
func jsonParam(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // maps of strings and string pointers always encode
	return strings.TrimSuffix(b.String(), "\n")
}

// Create registers the account: accounts.initRegistration for a regToken, then accounts.register
// with finalizeRegistration=true. A site that requires email verification answers register with
// 206002: the account exists then, unverified, and Create succeeds with it. A site whose schema
// requires more fields answers 206001: the half-made account is deleted and Create is ErrRejected. NewUser.EmailVerified
// is a third call (setAccountInfo isVerified=true, register has no such field); should it fail,
// the fresh account is deleted again so the failed Create leaves nothing behind.
func (c *Client) Create(ctx context.Context, u provider.NewUser) (provider.User, error) {
	var reg struct {
		RegToken string `json:"regToken"`
	}
	// initRegistration only issues a token: safe to retry.
	if _, err := c.do(ctx, call{method: "initRegistration", idempotent: true}, &reg); err != nil {
		return provider.User{}, err
	}
	if reg.RegToken == "" {
		return provider.User{}, provider.Errorf(Name, "accounts.initRegistration", provider.ErrProtocol, 200, "no regToken")
	}
	params := url.Values{
		"regToken":             {reg.RegToken},
		"email":                {u.Email},
		"password":             {u.Password},
		"profile":              {jsonParam(profileFields{Email: u.Email, FirstName: nonEmpty(u.FirstName), LastName: nonEmpty(u.LastName)})},
		"finalizeRegistration": {"true"},
		"include":              {include},
	}
	if len(u.Metadata) > 0 {
		params.Set("data", jsonParam(u.Metadata))
	}
	var created struct {
		account
		RegToken string `json:"regToken"`
	}
	// Never retried: a replayed register after a lost answer fails as "exists".
	code, err := c.do(ctx, call{
		method: "register", params: params, endUser: true,
		accept: []int{pendingVerification, pendingRegistration},
	}, &created)
	if err != nil {
		return provider.User{}, err
	}
	a := created.account
	if code != 0 && a.UID == "" && created.RegToken != "" {
		// 206xxx answers need not carry the account; the regToken still reads it.
		if _, err := c.do(ctx, call{
			method: "getAccountInfo", idempotent: true,
			params: url.Values{"regToken": {created.RegToken}, "include": {include}},
		}, &a); err != nil && code == pendingVerification {
			return provider.User{}, err
		}
	}
	if code == pendingRegistration {
		// The site's schema requires fields we do not send: the account is left half-registered,
		// holding the email. Remove it, so a corrected attempt is not refused as "exists".
		if a.UID != "" {
			_ = c.Delete(context.WithoutCancel(ctx), a.UID)
		}
		return provider.User{}, provider.Errorf(Name, "accounts.register", provider.ErrRejected, 200, "errorCode %d Account Pending Registration: the site requires more fields", code)
	}
	if a.UID == "" {
		return provider.User{}, provider.Errorf(Name, "accounts.register", provider.ErrProtocol, 200, "errorCode %d without a UID", code)
	}
	user := a.user(time.Now())
	// register's answer may leave out what was just sent; fill it in from the request.
	if user.Email == "" {
		user.Email = u.Email
	}
	if user.FirstName == "" {
		user.FirstName = u.FirstName
	}
	if user.LastName == "" {
		user.LastName = u.LastName
	}
	if user.Metadata == nil && len(u.Metadata) > 0 {
		user.Metadata = maps.Clone(u.Metadata)
	}
	if code == pendingVerification {
		user.EmailVerified = false
	}
	if u.EmailVerified && !user.EmailVerified {
		if _, err := c.do(ctx, call{
			method: "setAccountInfo", idempotent: true,
			params: url.Values{"UID": {a.UID}, "isVerified": {"true"}},
		}, nil); err != nil {
			// Best effort: the caller's context may be the reason of the failure.
			_ = c.Delete(context.WithoutCancel(ctx), a.UID)
			return provider.User{}, err
		}
		user.EmailVerified = true
	}
	return user, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Update is accounts.setAccountInfo with the changed profile fields, data (a nil value is sent
// as null, which deletes the field in Gigya) and isVerified, then getAccountInfo for the result.
// Setting values is idempotent, so the call is retried. Note that Gigya cannot "unverify" an
// account: isVerified=false on a verified account is refused (ErrRejected) or ignored by Gigya.
func (c *Client) Update(ctx context.Context, id string, u provider.Update) (provider.User, error) {
	if id == "" {
		return provider.User{}, provider.Errorf(Name, "accounts.setAccountInfo", provider.ErrNotFound, 0, "empty UID")
	}
	params := url.Values{"UID": {id}}
	if u.FirstName != nil || u.LastName != nil {
		params.Set("profile", jsonParam(profileFields{FirstName: u.FirstName, LastName: u.LastName}))
	}
	if len(u.Metadata) > 0 {
		params.Set("data", jsonParam(u.Metadata))
	}
	if u.EmailVerified != nil {
		params.Set("isVerified", strconv.FormatBool(*u.EmailVerified))
	}
	if len(params) > 1 {
		if _, err := c.do(ctx, call{method: "setAccountInfo", idempotent: true, params: params}, nil); err != nil {
			return provider.User{}, err
		}
	}
	return c.GetUser(ctx, id)
}

// Delete is accounts.deleteAccount. An account that is already gone (403005, 404003) counts as
// deleted, which also makes the call safe to retry.
func (c *Client) Delete(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	_, err := c.do(ctx, call{method: "deleteAccount", idempotent: true, params: url.Values{"UID": {id}}}, nil)
	if errors.Is(err, provider.ErrNotFound) {
		return nil
	}
	return err
}

// loginKinds: at login every "no such login" answer is "invalid credentials", so the caller
// cannot tell an unknown email from a wrong password (no account enumeration), and a password
// from the history (401030) is just a wrong password.
var loginKinds = map[int]error{
	invalidLoginID:      provider.ErrInvalidCredentials,
	oldPasswordUsed:     provider.ErrInvalidCredentials,
	loginIDDoesNotExist: provider.ErrInvalidCredentials,
	unauthorizedUser:    provider.ErrInvalidCredentials,
	404003:              provider.ErrInvalidCredentials,
}

// Login is accounts.login. The session's token is the login token of sessionInfo
// (cookieValue), named as Gigya names the cookie (glt_<apiKey>), so a consumer that sets it as a
// cookie hands Gigya's web SDK a working session. Never retried: failed attempts count toward
// Gigya's lockout and captcha thresholds.
func (c *Client) Login(ctx context.Context, loginName, password string) (provider.Session, error) {
	if loginName == "" || password == "" {
		// Gigya refuses an empty password (400002); spare the call.
		return provider.Session{}, provider.Errorf(Name, "accounts.login", provider.ErrInvalidCredentials, 0, "empty login name or password")
	}
	var r struct {
		UID         string `json:"UID"`
		SessionInfo struct {
			CookieName  string `json:"cookieName"`
			CookieValue string `json:"cookieValue"`
		} `json:"sessionInfo"`
	}
	if _, err := c.do(ctx, call{
		method: "login", kinds: loginKinds, endUser: true,
		params: url.Values{"loginID": {loginName}, "password": {password}, "include": {include}},
	}, &r); err != nil {
		return provider.Session{}, err
	}
	if r.UID == "" {
		return provider.Session{}, provider.Errorf(Name, "accounts.login", provider.ErrProtocol, 200, "login without UID")
	}
	s := provider.Session{UserID: r.UID}
	if r.SessionInfo.CookieValue != "" {
		name := r.SessionInfo.CookieName
		if name == "" {
			name = TokenName
		}
		s.Tokens = []provider.Token{{Name: name, Content: r.SessionInfo.CookieValue}}
	}
	return s, nil
}

// tokenKinds: whatever Gigya says about a login token it does not accept (unknown user, expired
// or missing session, malformed value), the token is invalid.
var tokenKinds = map[int]error{
	unauthorizedUser:      provider.ErrInvalidToken,
	invalidLoginID:        provider.ErrInvalidToken,
	invalidParameterValue: provider.ErrInvalidToken,
	400004:                provider.ErrInvalidToken, // invalid parameter format
	403011:                provider.ErrInvalidToken,
	403012:                provider.ErrInvalidToken,
	403025:                provider.ErrInvalidToken,
	403035:                provider.ErrInvalidToken,
	404003:                provider.ErrInvalidToken,
}

// UserForToken is accounts.getAccountInfo with the login token (login_token, as Gigya's web SDK
// sends it) instead of a UID. It is a session call: apiKey and the token, no server credentials,
// so Gigya can only answer with the account the token belongs to.
func (c *Client) UserForToken(ctx context.Context, token string) (provider.User, error) {
	if token == "" {
		return provider.User{}, provider.Errorf(Name, "accounts.getAccountInfo", provider.ErrInvalidToken, 0, "empty token")
	}
	var a account
	if _, err := c.do(ctx, call{
		method: "getAccountInfo", idempotent: true, session: true, kinds: tokenKinds,
		params: url.Values{"login_token": {token}, "include": {include}},
	}, &a); err != nil {
		return provider.User{}, err
	}
	if a.UID == "" {
		return provider.User{}, provider.Errorf(Name, "accounts.getAccountInfo", provider.ErrInvalidToken, 200, "no account for the token")
	}
	return a.user(time.Now()), nil
}

// ChangePassword is accounts.setAccountInfo with newPassword and securityOverride=true (a
// server-side change without the old password). Not retried: a replay after a lost success can
// hit the password history (401030) and report a failure for a change that happened.
func (c *Client) ChangePassword(ctx context.Context, id, password string) error {
	if id == "" {
		return provider.Errorf(Name, "accounts.setAccountInfo", provider.ErrNotFound, 0, "empty UID")
	}
	_, err := c.do(ctx, call{
		method: "setAccountInfo",
		params: url.Values{"UID": {id}, "newPassword": {password}, "securityOverride": {"true"}},
	}, nil)
	return err
}

// ChangeEmail reads the account (for the old address), then sets profile.email, adds the new
// address to the login ids and removes the old one. The result is the account as read with the
// new email: setAccountInfo changes nothing else, so a second read would add a call and nothing
// more. An address another account uses answers 403043 or a 400003 validation error:
// ErrUserExists. Not retried: a replay of removeLoginEmails after a lost success fails on an
// address that is gone.
func (c *Client) ChangeEmail(ctx context.Context, id, email string) (provider.User, error) {
	a, err := c.getAccount(ctx, id)
	if err != nil {
		return provider.User{}, err
	}
	user := a.user(time.Now())
	if a.Profile.Email == email {
		return user, nil
	}
	params := url.Values{
		"UID":     {id},
		"profile": {jsonParam(profileFields{Email: email})},
	}
	old := a.loginID()
	// Login ids ignore case: a change of case only is a profile change.
	if !strings.EqualFold(old, email) {
		params.Set("addLoginEmails", email)
		if old != "" {
			params.Set("removeLoginEmails", old)
		}
	}
	if _, err := c.do(ctx, call{method: "setAccountInfo", params: params}, nil); err != nil {
		return provider.User{}, err
	}
	user.Email = email
	return user, nil
}

// PasswordChangeURL reads the account for its login id, asks accounts.resetPassword with
// sendEmail=false for a passwordResetToken (Gigya sends no email; the orchestrator does), and
// returns returnURL with the token appended as the pwrt query parameter: returnURL is the page
// that lets the user choose the password and completes the reset with the token. Each call
// revokes the previous token, so a retry just yields the newest valid one.
func (c *Client) PasswordChangeURL(ctx context.Context, id, returnURL string) (string, error) {
	target, err := url.Parse(returnURL)
	if err != nil || (target.Scheme != "https" && target.Scheme != "http") || target.Host == "" {
		return "", provider.Errorf(Name, "accounts.resetPassword", provider.ErrRejected, 0, "the return URL is not an absolute http(s) URL")
	}
	a, err := c.getAccount(ctx, id)
	if err != nil {
		return "", err
	}
	loginID := a.loginID()
	if loginID == "" {
		return "", provider.Errorf(Name, "accounts.resetPassword", provider.ErrRejected, 0, "the account has no login email")
	}
	var r struct {
		PasswordResetToken string `json:"passwordResetToken"`
	}
	if _, err := c.do(ctx, call{
		method: "resetPassword", idempotent: true,
		params: url.Values{"loginID": {loginID}, "sendEmail": {"false"}},
	}, &r); err != nil {
		return "", err
	}
	if r.PasswordResetToken == "" {
		return "", provider.Errorf(Name, "accounts.resetPassword", provider.ErrProtocol, 200, "no passwordResetToken")
	}
	q := target.Query()
	q.Set(ResetTokenParam, r.PasswordResetToken)
	target.RawQuery = q.Encode()
	return target.String(), nil
}
