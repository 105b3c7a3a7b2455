package session

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"usersorchestrator/internal/tenant"
)

var (
	testKey    = bytes.Repeat([]byte{0x11}, 32)
	otherKey   = bytes.Repeat([]byte{0x22}, 32)
	testTenant = tenant.Key{ClientCode: "MG2", PaperCode: "DAILY", ClientGroupCode: "GRP"}
	t0         = time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
)

func newIssuer(t testing.TB, key []byte) *Issuer {
	t.Helper()
	i, err := NewIssuer(key)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// sign builds a token with arbitrary claims and algorithm, for the cases Issue never produces.
func sign(t testing.TB, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub":     "12345",
		"tnt":     testTenant.String(),
		"uo_typ":  TypeValue,
		"iat":     t0.Unix(),
		"exp":     t0.Add(24 * time.Hour).Unix(),
		"ignored": "extra claims are fine",
	}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestNewIssuer(t *testing.T) {
	for _, n := range []int{0, 16, 31} {
		if _, err := NewIssuer(make([]byte, n)); err == nil {
			t.Fatalf("NewIssuer accepted a %d-byte key", n)
		}
	}
	key := bytes.Clone(testKey)
	i := newIssuer(t, key)
	key[0] ^= 0xff // the issuer must not share the caller's slice
	tok, _, err := i.Issue(testTenant, "1", 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newIssuer(t, testKey).Parse(testTenant, tok, t0); err != nil {
		t.Fatalf("issuer's key changed with the caller's slice: %v", err)
	}
}

func TestIssueRejects(t *testing.T) {
	i := newIssuer(t, testKey)
	tests := []struct {
		name string
		crid string
		days int
	}{
		{"empty id", "", 30},
		{"zero days", "12345", 0},
		{"negative days", "12345", -1},
		{"too many days", "12345", MaxDays + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, _, err := i.Issue(testTenant, tt.crid, tt.days, t0); err == nil {
				t.Fatalf("Issue = %q, want an error", tok)
			}
		})
	}
}

func TestIssueParseRoundTrip(t *testing.T) {
	i := newIssuer(t, testKey)
	tests := []struct {
		name string
		crid string
		days int
	}{
		{"one day", "12345", 1},
		{"a month", "ab1f7e3c-0000-4000-8000-000000000001", 30},
		{"max", "x", MaxDays},
		{"unicode id", "användare-1", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, exp, err := i.Issue(testTenant, tt.crid, tt.days, t0)
			if err != nil {
				t.Fatal(err)
			}
			wantExp := t0.Add(time.Duration(tt.days) * 24 * time.Hour).Truncate(time.Second)
			if !exp.Equal(wantExp) {
				t.Fatalf("expires = %v, want %v", exp, wantExp)
			}
			s, err := i.Parse(testTenant, tok, t0.Add(time.Hour))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Session{CustomerRegistrationID: tt.crid, IssuedAt: t0.Truncate(time.Second), IssuedAtMicro: t0.Truncate(time.Microsecond).UTC(), ExpiresAt: wantExp}
			if s != want {
				t.Fatalf("Parse = %+v, want %+v", s, want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	i := newIssuer(t, testKey)
	good, exp, err := i.Issue(testTenant, "12345", 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	otherSub := sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "sub", "99999"))
	swappedPayload := parts[0] + "." + strings.Split(otherSub, ".")[1] + "." + parts[2]

	tests := []struct {
		name   string
		tenant tenant.Key
		token  string
		now    time.Time
	}{
		{"empty", testTenant, "", t0},
		{"garbage", testTenant, "not.a.jwt", t0},
		{"two segments", testTenant, parts[0] + "." + parts[1], t0},
		{"oversized", testTenant, good + strings.Repeat("A", maxTokenLen), t0},
		{"padded segment", testTenant, parts[0] + "=." + parts[1] + "." + parts[2], t0},
		{"other client", tenant.Key{ClientCode: "XX", PaperCode: "DAILY", ClientGroupCode: "GRP"}, good, t0},
		{"other paper", tenant.Key{ClientCode: "MG2", PaperCode: "OTHER", ClientGroupCode: "GRP"}, good, t0},
		{"other group", tenant.Key{ClientCode: "MG2", PaperCode: "DAILY", ClientGroupCode: "G2"}, good, t0},
		{"expired beyond leeway", testTenant, good, exp.Add(Leeway + time.Second)},
		{"issued in the future", testTenant, good, t0.Add(-Leeway - 2*time.Second)},
		{"signed with another key", testTenant, sign(t, jwt.SigningMethodHS256, otherKey, validClaims()), t0},
		{"payload swapped", testTenant, swappedPayload, t0},
		{"alg none", testTenant, sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims()), t0},
		{"HS512 with the right key", testTenant, sign(t, jwt.SigningMethodHS512, testKey, validClaims()), t0},
		{"no type marker (an API JWT)", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "uo_typ", nil)), t0},
		{"other type marker", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "uo_typ", "api")), t0},
		{"no exp", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "exp", nil)), t0},
		{"no iat", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "iat", nil)), t0},
		{"no sub", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "sub", nil)), t0},
		{"no tenant", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "tnt", nil)), t0},
		{"exp not a number", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "exp", "tomorrow")), t0},
		{"sub not a string", testTenant, sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "sub", 12345)), t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := i.Parse(tt.tenant, tt.token, tt.now)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse = %+v, %v; want ErrInvalid", s, err)
			}
			if s != (Session{}) {
				t.Fatalf("Parse returned a session with an error: %+v", s)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatal("error contains the token")
			}
		})
	}
}

func TestParseClockEdges(t *testing.T) {
	i := newIssuer(t, testKey)
	tok, exp, err := i.Issue(testTenant, "12345", 2, t0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"at issue", t0, true},
		{"issuer clock a little ahead", t0.Add(-30 * time.Second), true},
		{"just before expiry", exp.Add(-time.Second), true},
		{"within leeway after expiry", exp.Add(Leeway - time.Second), true},
		{"past leeway", exp.Add(Leeway + time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := i.Parse(testTenant, tok, tt.now)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse at %v: %v, want ok=%v", tt.now, err, tt.ok)
			}
		})
	}
}

// A password change ends the sessions issued before it, to the microsecond: a login right after a
// reset (same second) keeps its session, one a microsecond before the change does not.
func TestIssuedBefore(t *testing.T) {
	i := newIssuer(t, testKey)
	change := t0.Truncate(time.Second).Add(500 * time.Millisecond)
	tests := []struct {
		name   string
		issued time.Time
		want   bool
	}{
		{"a second earlier", change.Add(-time.Second), true},
		{"a microsecond earlier, same second", change.Add(-time.Microsecond), true},
		{"at the change", change, false},
		{"a millisecond later, same second", change.Add(time.Millisecond), false},
		{"a second later", change.Add(time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _, err := i.Issue(testTenant, "12345", 1, tt.issued)
			if err != nil {
				t.Fatal(err)
			}
			s, err := i.Parse(testTenant, tok, change.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.IssuedBefore(change); got != tt.want {
				t.Fatalf("IssuedBefore = %v, want %v (issued %v)", got, tt.want, s.IssuedAtMicro)
			}
		})
	}
	// A token without the microseconds (issued before they existed) counts from its second's start.
	old := Session{IssuedAt: change.Truncate(time.Second), IssuedAtMicro: change.Truncate(time.Second)}
	if !old.IssuedBefore(change) {
		t.Error("a token without microseconds in the change's second survived it")
	}
}
