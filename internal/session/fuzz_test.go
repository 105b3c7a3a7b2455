package session

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzParse feeds Parse what a client can send as a session token (cookie or `token` selector).
// Parse must never panic, must refuse with ErrInvalid, and whatever it accepts must be a
// complete, current session. The committed corpus (testdata/fuzz/FuzzParse) holds tokens signed
// with testKey, so mutations start past the signature check's neighbourhood.
func FuzzParse(f *testing.F) {
	i, err := NewIssuer(testKey)
	if err != nil {
		f.Fatal(err)
	}
	valid, _, err := i.Issue(testTenant, "12345", 30, t0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(sign(f, jwt.SigningMethodHS256, testKey, with(validClaims(), "uo_typ", nil)))
	f.Add(sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims()))
	f.Add("")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		now := t0.Add(time.Hour)
		s, err := i.Parse(testTenant, token, now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if s.CustomerRegistrationID == "" || s.IssuedAt.IsZero() || !s.ExpiresAt.After(now.Add(-Leeway)) ||
			s.IssuedAt.After(now.Add(Leeway)) {
			t.Fatalf("accepted an incomplete or stale session: %+v", s)
		}
	})
}
