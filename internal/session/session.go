// Package session issues and checks the end-user session token (cookie `uo_session`) that
// Authenticate hands out and Get By Token accepts (contract decisions 11 and 12).
//
// The token is an HS256 JWT under a key of its own, separate from the secrets of the API's
// Authorization JWTs, and it carries a type marker, so that neither kind of token can ever stand
// in for the other even if someone configures the same key for both.
package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"usersorchestrator/internal/tenant"
)

// ErrInvalid reports a session token that is malformed, wrongly signed, expired, or was issued
// for another tenant. Messages never contain the token.
var ErrInvalid = errors.New("session: invalid token")

// MinKeyLen is the shortest key accepted: RFC 7518 asks for a key as long as the HS256 output.
const MinKeyLen = 32

// TypeClaim and TypeValue mark a session token. internal/auth refuses any API JWT carrying
// TypeClaim, and Parse refuses any token without TypeValue in it.
const (
	TypeClaim = "uo_typ"
	TypeValue = "session"
)

// MaxDays bounds a session's lifetime; a tenant's durationDays beyond ten years is a mistake.
const MaxDays = 3650

// Leeway is the clock skew between instances that Parse tolerates on iat and exp.
const Leeway = time.Minute

// maxTokenLen bounds what Parse decodes; a session token is a few hundred bytes.
const maxTokenLen = 4 << 10

// Session is what a valid token says.
type Session struct {
	CustomerRegistrationID string
	// IssuedAt lets the orchestrator refuse tokens issued before the user's lastLogoutDate. It
	// has whole-second precision (JWT NumericDate), truncated, so a token issued in the same
	// second as a logout is refused rather than accepted.
	IssuedAt  time.Time
	// IssuedAtMicro is the issue time to the microsecond (claim uo_iat_us), which a password
	// change is compared with: a login right after a reset must not fall in the change's second.
	// Tokens issued before the claim existed have IssuedAt here.
	IssuedAtMicro time.Time
	ExpiresAt     time.Time
}

// IssuedBefore tells whether the session began before t (a password change): such a session is
// over. A token without microseconds counts from the start of its second, so it fails closed.
func (s Session) IssuedBefore(t time.Time) bool { return s.IssuedAtMicro.Before(t) }

type claims struct {
	jwt.RegisteredClaims
	Tenant string `json:"tnt"`
	Type   string `json:"uo_typ"`
	// IssuedAtMicro is the issue time in microseconds since the epoch (iat has whole seconds).
	IssuedAtMicro int64 `json:"uo_iat_us,omitempty"`
}

// Issuer issues and parses session tokens. It is safe for concurrent use.
type Issuer struct {
	key []byte
}

// NewIssuer returns an Issuer signing with key (at least MinKeyLen bytes).
func NewIssuer(key []byte) (*Issuer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("session: key has %d bytes, need at least %d", len(key), MinKeyLen)
	}
	return &Issuer{key: append([]byte(nil), key...)}, nil
}

// Issue returns a token for customerRegistrationID in tenant t, valid for days from now, and
// the moment it expires (whole seconds, as in the token).
func (i *Issuer) Issue(t tenant.Key, customerRegistrationID string, days int, now time.Time) (string, time.Time, error) {
	if customerRegistrationID == "" {
		return "", time.Time{}, errors.New("session: empty customerRegistrationId")
	}
	if days < 1 || days > MaxDays {
		return "", time.Time{}, fmt.Errorf("session: duration of %d days outside 1..%d", days, MaxDays)
	}
	iat := jwt.NewNumericDate(now)
	exp := jwt.NewNumericDate(now.Add(time.Duration(days) * 24 * time.Hour))
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   customerRegistrationID,
			IssuedAt:  iat,
			ExpiresAt: exp,
		},
		Tenant:        t.String(),
		Type:          TypeValue,
		IssuedAtMicro: now.UnixMicro(),
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(i.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("session: sign: %w", err)
	}
	return token, exp.UTC(), nil
}

// Parse checks token at now for tenant t: signature, expiry, issue time, type marker and
// tenant. Every refusal wraps ErrInvalid.
func (i *Issuer) Parse(t tenant.Key, token string, now time.Time) (Session, error) {
	if token == "" || len(token) > maxTokenLen {
		return Session{}, fmt.Errorf("%w: empty or oversized", ErrInvalid)
	}
	parser := jwt.NewParser(
		// Only the algorithm this package signs with: never "none", never a public-key
		// algorithm whose public key could be mistaken for the HMAC secret.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		// Several instances share the key; a token issued by one whose clock runs a little
		// ahead must still be accepted by the next call on another.
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var c claims
	_, err := parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return i.key, nil })
	if err != nil {
		// golang-jwt's messages name the failed check, never the token's contents.
		return Session{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch {
	case c.Type != TypeValue:
		return Session{}, fmt.Errorf("%w: not a session token", ErrInvalid)
	case c.Tenant != t.String():
		return Session{}, fmt.Errorf("%w: issued for another tenant", ErrInvalid)
	case c.Subject == "":
		return Session{}, fmt.Errorf("%w: no subject", ErrInvalid)
	case c.IssuedAt == nil:
		return Session{}, fmt.Errorf("%w: no issue time", ErrInvalid)
	}
	out := Session{
		CustomerRegistrationID: c.Subject,
		IssuedAt:               c.IssuedAt.UTC(),
		IssuedAtMicro:          c.IssuedAt.UTC(),
		ExpiresAt:              c.ExpiresAt.UTC(),
	}
	// The microseconds refine iat; a value outside iat's second is not a refinement and is ignored.
	if us := time.UnixMicro(c.IssuedAtMicro).UTC(); c.IssuedAtMicro != 0 && !us.Before(out.IssuedAt) && us.Before(out.IssuedAt.Add(time.Second)) {
		out.IssuedAtMicro = us
	}
	return out, nil
}
