package auth0

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

// Names of the tokens a login hands to the consumer (cookieTokens).
const (
	AccessTokenName = "auth0_access_token"
	IDTokenName     = "auth0_id_token"
)

// Login checks the credentials with POST /oauth/token and the password-realm grant (JSON,
// contract decision 17). Not retried: every attempt counts against Auth0's brute-force
// protection.
//
// The user's id comes from the id_token's sub claim, read without checking the signature. That
// is what OpenID Connect Core §3.1.3.7 allows for an id_token "received via direct communication
// between the Client and the Token Endpoint": the id_token is the answer to our own request to
// the tenant's domain, so TLS already authenticates its issuer, and nothing else ever hands us an
// id_token to trust. The alternative, /userinfo, would cost a second call per login against an
// endpoint Auth0 rate-limits per user. The aud claim is still checked, so an answer meant for
// another application is refused. Only when no id_token comes back (Scope without openid) is
// /userinfo asked.
func (c *Client) Login(ctx context.Context, loginName, password string) (provider.Session, error) {
	const op = "login"
	if strings.TrimSpace(loginName) == "" || password == "" {
		// Auth0 would answer invalid_request; no reason to spend a call and a brute-force count.
		return provider.Session{}, provider.Errorf(Name, op, provider.ErrInvalidCredentials, 0, "empty login name or password")
	}
	body := map[string]string{
		"grant_type":    passwordRealmGrant,
		"realm":         c.cfg.Connection,
		"username":      loginName,
		"password":      password,
		"client_id":     c.cfg.ClientID,
		"client_secret": c.cfg.ClientSecret,
		"scope":         c.cfg.Scope,
	}
	if c.cfg.LoginAudience != "" {
		body["audience"] = c.cfg.LoginAudience
	}
	req := httpx.Request{Op: op, Method: http.MethodPost, Path: "/oauth/token", JSON: body}
	if ip := provider.EndUserIP(ctx); ip != "" {
		// Brute-force protection and suspicious-IP throttling count per end-user IP only when
		// the application's "Trust Token Endpoint IP Header" is on; without the header they
		// count every login against this service's address, and one attacker blocks everybody.
		req.Header = http.Header{"auth0-forwarded-for": {ip}}
	}
	resp, err := c.http.Do(ctx, req)
	if resp != nil && resp.Status == http.StatusTooManyRequests {
		// httpx reports every 429 as unavailable; a 429 too_many_attempts is not the provider
		// being busy but this account being locked by brute-force protection. Calling it
		// unavailable (E503) would invite retries, and each retry extends the lock.
		if e := decodeOAuthError(resp); e.Error == "too_many_attempts" {
			return provider.Session{}, provider.Errorf(Name, op, provider.ErrBlocked, resp.Status, "%s", e.Error)
		}
	}
	if err != nil {
		return provider.Session{}, err
	}
	if resp.Status != http.StatusOK {
		return provider.Session{}, loginError(op, resp)
	}
	var tr tokenResponse
	if err := resp.Decode(Name, op, &tr); err != nil {
		return provider.Session{}, err
	}
	if tr.AccessToken == "" {
		return provider.Session{}, provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "no access_token in the answer")
	}
	expiresIn := time.Duration(max(tr.ExpiresIn, 0)) * time.Second
	session := provider.Session{Tokens: []provider.Token{{Name: AccessTokenName, Content: tr.AccessToken, ExpiresIn: expiresIn}}}
	if tr.IDToken == "" {
		sub, err := c.userInfoSubject(ctx, tr.AccessToken)
		if err != nil {
			return provider.Session{}, err
		}
		session.UserID = sub
		return session, nil
	}
	claims, err := readIDToken(tr.IDToken)
	if err != nil || claims.Sub == "" {
		return provider.Session{}, provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "unreadable id_token")
	}
	if !claims.Aud.contains(c.cfg.ClientID) {
		return provider.Session{}, provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "id_token issued for another client")
	}
	session.UserID = claims.Sub
	idExpires := expiresIn
	if claims.Exp > 0 {
		idExpires = max(time.Unix(claims.Exp, 0).Sub(c.now()).Truncate(time.Second), 0)
	}
	session.Tokens = append(session.Tokens, provider.Token{Name: IDTokenName, Content: tr.IDToken, ExpiresIn: idExpires})
	return session, nil
}

// decodeOAuthError reads the Authentication API's error body in both shapes Auth0 answers: OAuth's
// {"error","error_description"}, and the database connection's {"code","description"} (also
// "name" and "message") whose description is a sentence or, for a password policy, an object
// ({"rules":[...],"verified":false}). Each member is read on its own, so one of an unexpected
// type does not hide the others.
func decodeOAuthError(resp *httpx.Response) oauthError {
	var members map[string]json.RawMessage
	_ = json.Unmarshal(resp.Body, &members)
	text := func(keys ...string) string {
		for _, k := range keys {
			var s string
			if json.Unmarshal(members[k], &s) == nil && s != "" {
				return s
			}
		}
		return ""
	}
	return oauthError{Error: text("error", "code"), Description: text("error_description", "description", "message")}
}

// loginError maps the Authentication API's refusals (providers.md §1.4.2). The detail is the
// error code only: descriptions can be free text written by the tenant's Rules/Actions.
func loginError(op string, resp *httpx.Response) error {
	e := decodeOAuthError(resp)
	desc := strings.ToLower(e.Description)
	kind := provider.ErrProtocol
	switch e.Error {
	case "invalid_grant", "invalid_user_password":
		// "Wrong email or password." for both a wrong password and an unknown user. A breached
		// password is refused with "...has been blocked..." and needs a reset: blocked.
		kind = provider.ErrInvalidCredentials
		if strings.Contains(desc, "blocked") {
			kind = provider.ErrBlocked
		}
	case "password_leaked":
		// Breached-password detection: the password was published in a data breach and this
		// sign-in is refused until the user resets it. Not a wrong password, not an outage.
		kind = provider.ErrBlocked
	case "invalid_password", "password_strength_error", "password_dictionary_error",
		"password_no_user_info_error", "password_history_error":
		// The connection's password policy refuses the password ({"code":"invalid_password",
		// "description":{"rules":[...]}}): a refusal of the request's content.
		kind = provider.ErrRejected
	case "unauthorized", "access_denied":
		switch {
		case e.Error == "access_denied" && desc == "unauthorized":
			// Wrong client id/secret: the tenant's setup, not the user.
			kind = provider.ErrUnavailable
		case strings.Contains(desc, "verif"):
			// Auth0 itself lets unverified users in; tenants that do not deny them in a Rule or
			// Action ("Please verify your email before logging in.").
			kind = provider.ErrNotVerified
		default:
			// "user is blocked", or another per-user denial by the tenant's Rules/Actions.
			kind = provider.ErrBlocked
		}
	case "too_many_attempts":
		kind = provider.ErrBlocked
	case "unauthorized_client", "invalid_client", "server_error":
		// The grant is not enabled for the application, or the tenant lacks a connection:
		// misconfiguration no user can fix.
		kind = provider.ErrUnavailable
	case "mfa_required", "invalid_request", "invalid_scope":
		// The login cannot be completed through this API for this request.
		kind = provider.ErrRejected
	}
	return provider.Errorf(Name, op, kind, resp.Status, "%s", safeDetail(e.Error, ""))
}

// UserForToken resolves an access token with GET /userinfo (Auth0 checks the token; a 401 means
// it is invalid or expired) and then reads the full user, since /userinfo carries only the OIDC
// claims (no metadata, no blocked flag), and the user's brute-force blocks (see bruteForceBlocked).
func (c *Client) UserForToken(ctx context.Context, token string) (provider.User, error) {
	if strings.TrimSpace(token) == "" {
		return provider.User{}, provider.Errorf(Name, "userinfo", provider.ErrInvalidToken, 0, "empty token")
	}
	sub, err := c.userInfoSubject(ctx, token)
	if err != nil {
		return provider.User{}, err
	}
	u, err := c.GetUser(ctx, sub)
	if err != nil || u.Blocked {
		return u, err
	}
	u.Blocked, err = c.bruteForceBlocked(ctx, u.ID)
	if err != nil {
		return provider.User{}, err
	}
	return u, nil
}

// bruteForceBlocked reads GET /api/v2/user-blocks/{id}. Auth0 keeps brute-force protection's
// blocks there, apart from the user's blocked flag (which only an administrator sets), so a user
// locked out by failed logins looks unblocked everywhere else. Each block names the login
// identifier and, except in Account Lockout mode, the IP address it applies to: a block counts
// when it has no IP (the account itself is locked) or is for the end user's own IP; a block of
// another address (an attacker's) must not lock the user out.
func (c *Client) bruteForceBlocked(ctx context.Context, id string) (bool, error) {
	const op = "user blocks"
	resp, err := c.management(ctx, httpx.Request{Op: op, Method: http.MethodGet, Path: "/api/v2/user-blocks/" + url.PathEscape(id), Idempotent: true})
	if err != nil {
		return false, err
	}
	if resp.Status != http.StatusOK {
		return false, managementError(op, resp)
	}
	var blocks struct {
		BlockedFor []struct {
			Identifier string `json:"identifier"`
			IP         string `json:"ip"`
		} `json:"blocked_for"`
	}
	if err := resp.Decode(Name, op, &blocks); err != nil {
		return false, err
	}
	ip := provider.EndUserIP(ctx)
	for _, b := range blocks.BlockedFor {
		if b.IP == "" || (ip != "" && b.IP == ip) {
			return true, nil
		}
	}
	return false, nil
}

func (c *Client) userInfoSubject(ctx context.Context, token string) (string, error) {
	const op = "userinfo"
	resp, err := c.http.Do(ctx, httpx.Request{
		Op: op, Method: http.MethodGet, Path: "/userinfo",
		Header: http.Header{"Authorization": {"Bearer " + token}}, Idempotent: true,
	})
	if err != nil {
		return "", err
	}
	switch resp.Status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return "", provider.Errorf(Name, op, provider.ErrInvalidToken, resp.Status, "token refused")
	default:
		return "", provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "unexpected status")
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := resp.Decode(Name, op, &claims); err != nil {
		return "", err
	}
	if claims.Sub == "" {
		return "", provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "no sub in the answer")
	}
	return claims.Sub, nil
}

// idTokenClaims are the id_token claims the adapter reads.
type idTokenClaims struct {
	Sub string   `json:"sub"`
	Aud audience `json:"aud"`
	Exp int64    `json:"exp"`
}

// audience is the aud claim: a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

func (a audience) contains(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}

// readIDToken decodes the payload of a compact JWS (header.payload.signature, base64url).
func readIDToken(token string) (idTokenClaims, error) {
	var claims idTokenClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims, errMalformedJWT
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims, err
	}
	err = json.Unmarshal(payload, &claims)
	return claims, err
}

type jwtError string

func (e jwtError) Error() string { return string(e) }

const errMalformedJWT = jwtError("not a compact JWT")
