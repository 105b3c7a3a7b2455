package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"usersorchestrator/internal/session"
	"usersorchestrator/internal/tenant"
)

const (
	secret1  = "0123456789abcdef0123456789abcdef-first"
	secret2  = "0123456789abcdef0123456789abcdef-second"
	issuer   = "https://issuer.example"
	audience = "usersorchestrator"
)

var now = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// keys are generated per test binary run; nothing is committed.
type keys struct {
	rsa, rsaOther *rsa.PrivateKey
	ec, ecOther   *ecdsa.PrivateKey
}

func newKeys(t testing.TB) keys {
	t.Helper()
	var k keys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.ecOther, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	return k
}

func pkixPEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func certPEM(t testing.TB, priv *ecdsa.PrivateKey) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "issuer.example"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// sign makes a token with any algorithm, key, header and claims.
func sign(t testing.TB, method jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func baseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "svc-checkout",
		"iss": issuer,
		"aud": audience,
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

// claimsWith returns baseClaims changed by kv pairs; a nil value removes the claim.
func claimsWith(kv ...any) jwt.MapClaims {
	c := baseClaims()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func newTestVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	v.now = func() time.Time { return now }
	return v
}

func TestNewVerifierConfig(t *testing.T) {
	k := newKeys(t)
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.rsa)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))

	tests := []struct {
		name        string
		cfg         Config
		wantErr     bool
		wantMethods []string
	}{
		{"nothing", Config{}, true, nil},
		{"only issuer", Config{Issuer: issuer}, true, nil},
		{"short secret", Config{HS256Secrets: []string{"s3cr3t-xyz"}}, true, nil},
		{"one short among good", Config{HS256Secrets: []string{secret1, "sh0rt-xyz"}}, true, nil},
		{"negative leeway", Config{HS256Secrets: []string{secret1}, Leeway: -time.Second}, true, nil},
		{"not PEM", Config{PublicKeysPEM: []string{"hello"}}, true, nil},
		{"private key", Config{PublicKeysPEM: []string{privPEM}}, true, nil},
		{"weak RSA", Config{PublicKeysPEM: []string{pkixPEM(t, &weakRSA.PublicKey)}}, true, nil},
		{"P-384", Config{PublicKeysPEM: []string{pkixPEM(t, &p384.PublicKey)}}, true, nil},
		{"ed25519", Config{PublicKeysPEM: []string{pkixPEM(t, edPub)}}, true, nil},
		{"trailing text", Config{PublicKeysPEM: []string{pkixPEM(t, &k.rsa.PublicKey) + "junk"}}, true, nil},
		{"corrupt block", Config{PublicKeysPEM: []string{"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}}, true, nil},
		{"JWKS not a URL", Config{JWKSURL: "jwks.json"}, true, nil},
		{"JWKS ftp", Config{JWKSURL: "ftp://127.0.0.1/jwks.json"}, true, nil},
		{"secrets", Config{HS256Secrets: []string{secret1, secret2}}, false, []string{"HS256"}},
		{"RSA PKIX", Config{PublicKeysPEM: []string{pkixPEM(t, &k.rsa.PublicKey)}}, false, []string{"RS256"}},
		{"RSA PKCS1", Config{PublicKeysPEM: []string{pkcs1}}, false, []string{"RS256"}},
		{"EC certificate", Config{PublicKeysPEM: []string{certPEM(t, k.ec)}}, false, []string{"ES256"}},
		{"two blocks in one string", Config{PublicKeysPEM: []string{pkixPEM(t, &k.rsa.PublicKey) + pkixPEM(t, &k.ec.PublicKey)}}, false, []string{"RS256", "ES256"}},
		{"all", Config{HS256Secrets: []string{secret1}, PublicKeysPEM: []string{pkixPEM(t, &k.ec.PublicKey)}}, false, []string{"HS256", "ES256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(t.Context(), tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewVerifier error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				for _, s := range tt.cfg.HS256Secrets {
					if strings.Contains(err.Error(), s) {
						t.Fatal("error quotes a secret")
					}
				}
				return
			}
			if !slices.Equal(v.methods, tt.wantMethods) {
				t.Fatalf("methods = %v, want %v", v.methods, tt.wantMethods)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	k := newKeys(t)
	rsaPEM := pkixPEM(t, &k.rsa.PublicKey)
	v := newTestVerifier(t, Config{
		HS256Secrets:  []string{secret1, secret2},
		PublicKeysPEM: []string{rsaPEM, pkixPEM(t, &k.ec.PublicKey)},
		Issuer:        issuer,
		Audience:      audience,
		Leeway:        30 * time.Second,
	})
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(secret1), nil, c) }
	good := hs(baseClaims())
	parts := strings.Split(good, ".")
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":4102444800}`)) + "." + parts[2]
	derBytes, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sessionIssuer, err := session.NewIssuer([]byte(secret1))
	if err != nil {
		t.Fatal(err)
	}
	sessionToken, _, err := sessionIssuer.Issue(tenant.Key{ClientCode: "C", PaperCode: "P", ClientGroupCode: "G"}, "12345", 1, now)
	if err != nil {
		t.Fatal(err)
	}

	unrestricted := Claims{Subject: "svc-checkout", ExpiresAt: now.Add(time.Hour)}
	restricted := func(codes ...string) Claims {
		c := unrestricted
		c.ClientCodes = append([]string{}, codes...) // non-nil: the claim is present
		return c
	}
	tests := []struct {
		name          string
		authorization string
		want          Claims
		wantErr       bool
	}{
		// Algorithms and keys.
		{"HS256 first secret", "Bearer " + good, unrestricted, false},
		{"HS256 second secret (rotation)", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(secret2), nil, baseClaims()), unrestricted, false},
		{"RS256", "Bearer " + sign(t, jwt.SigningMethodRS256, k.rsa, nil, baseClaims()), unrestricted, false},
		{"ES256", "Bearer " + sign(t, jwt.SigningMethodES256, k.ec, nil, baseClaims()), unrestricted, false},
		{"RS256 with a kid no PEM key names", "Bearer " + sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "whatever"}, baseClaims()), unrestricted, false},
		{"HS256 unknown secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), nil, baseClaims()), Claims{}, true},
		{"RS256 other key", "Bearer " + sign(t, jwt.SigningMethodRS256, k.rsaOther, nil, baseClaims()), Claims{}, true},
		{"ES256 other key", "Bearer " + sign(t, jwt.SigningMethodES256, k.ecOther, nil, baseClaims()), Claims{}, true},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, baseClaims()), Claims{}, true},
		{"alg confusion: HS256 keyed with the RSA public key PEM", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), nil, baseClaims()), Claims{}, true},
		{"alg confusion: HS256 keyed with the RSA public key DER", "Bearer " + sign(t, jwt.SigningMethodHS256, derBytes, nil, baseClaims()), Claims{}, true},
		{"HS512 with a configured secret", "Bearer " + sign(t, jwt.SigningMethodHS512, []byte(secret1), nil, baseClaims()), Claims{}, true},
		{"RS512 with the configured key", "Bearer " + sign(t, jwt.SigningMethodRS512, k.rsa, nil, baseClaims()), Claims{}, true},
		{"PS256 with the configured key", "Bearer " + sign(t, jwt.SigningMethodPS256, k.rsa, nil, baseClaims()), Claims{}, true},
		{"tampered payload", "Bearer " + tamperedPayload, Claims{}, true},
		{"signature stripped", "Bearer " + parts[0] + "." + parts[1] + ".", Claims{}, true},

		// Time.
		{"expired", "Bearer " + hs(claimsWith("exp", now.Add(-time.Minute).Unix())), Claims{}, true},
		{"expired within leeway", "Bearer " + hs(claimsWith("exp", now.Add(-10*time.Second).Unix())), Claims{Subject: "svc-checkout", ExpiresAt: now.Add(-10 * time.Second)}, false},
		{"no exp", "Bearer " + hs(claimsWith("exp", nil)), Claims{}, true},
		{"not yet valid", "Bearer " + hs(claimsWith("nbf", now.Add(time.Minute).Unix())), Claims{}, true},
		{"nbf within leeway", "Bearer " + hs(claimsWith("nbf", now.Add(10*time.Second).Unix())), unrestricted, false},
		{"issued in the future", "Bearer " + hs(claimsWith("iat", now.Add(time.Minute).Unix())), Claims{}, true},
		{"exp not a number", "Bearer " + hs(claimsWith("exp", "soon")), Claims{}, true},

		// Issuer and audience.
		{"wrong issuer", "Bearer " + hs(claimsWith("iss", "https://evil.example")), Claims{}, true},
		{"no issuer", "Bearer " + hs(claimsWith("iss", nil)), Claims{}, true},
		{"wrong audience", "Bearer " + hs(claimsWith("aud", "other-api")), Claims{}, true},
		{"no audience", "Bearer " + hs(claimsWith("aud", nil)), Claims{}, true},
		{"audience among several", "Bearer " + hs(claimsWith("aud", []string{"other-api", audience})), unrestricted, false},

		// clientCodes.
		{"clientCodes array", "Bearer " + hs(claimsWith("clientCodes", []string{"MG2", "XYZ"})), restricted("MG2", "XYZ"), false},
		{"clientCodes single string", "Bearer " + hs(claimsWith("clientCodes", "MG2")), restricted("MG2"), false},
		{"clientCodes null", "Bearer " + hs(claimsWith("clientCodes", jsonNull{})), unrestricted, false},
		{"clientCodes empty array", "Bearer " + hs(claimsWith("clientCodes", []string{})), restricted(), false},
		{"clientCodes number", "Bearer " + hs(claimsWith("clientCodes", 42)), Claims{}, true},
		{"clientCodes array of numbers", "Bearer " + hs(claimsWith("clientCodes", []int{1, 2})), Claims{}, true},

		// Not an API token.
		{"session token marker", "Bearer " + hs(claimsWith("uo_typ", "session")), Claims{}, true},
		{"real session token signed with an API secret", "Bearer " + sessionToken, Claims{}, true},

		// The header's shape.
		{"bare JWT", good, unrestricted, false},
		{"lower-case scheme", "bearer " + good, unrestricted, false},
		{"upper-case scheme", "BEARER " + good, unrestricted, false},
		{"extra spaces", "  Bearer   " + good + "  ", unrestricted, false},
		{"empty", "", Claims{}, true},
		{"blank", "   ", Claims{}, true},
		{"scheme only", "Bearer", Claims{}, true},
		{"scheme and space", "Bearer ", Claims{}, true},
		{"Basic", "Basic dXNlcjpwYXNz", Claims{}, true},
		{"Basic with a JWT", "Basic " + good, Claims{}, true},
		{"two tokens", "Bearer " + good + " " + good, Claims{}, true},
		{"not a JWT", "Bearer abc", Claims{}, true},
		{"three junk segments", "Bearer a.b.c", Claims{}, true},
		{"oversized", "Bearer " + strings.Repeat("a", maxTokenLen), Claims{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tt.authorization)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Verify error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("error %v does not wrap ErrUnauthorized", err)
				}
				tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tt.authorization), "Bearer"))
				if len(tok) > 8 && strings.Contains(err.Error(), tok) {
					t.Fatalf("error %q contains the token", err)
				}
				for _, p := range strings.Split(tok, ".") {
					if len(p) > 8 && strings.Contains(err.Error(), p) {
						t.Fatalf("error %q contains a token segment", err)
					}
				}
				if got.Subject != "" || got.ClientCodes != nil {
					t.Fatalf("claims returned with an error: %+v", got)
				}
				return
			}
			if got.Subject != tt.want.Subject || !got.ExpiresAt.Equal(tt.want.ExpiresAt) ||
				!slices.Equal(got.ClientCodes, tt.want.ClientCodes) || (got.ClientCodes == nil) != (tt.want.ClientCodes == nil) {
				t.Fatalf("Verify = %+v (nil codes %v), want %+v (nil codes %v)",
					got, got.ClientCodes == nil, tt.want, tt.want.ClientCodes == nil)
			}
		})
	}
}

// jsonNull marshals as JSON null, to put `"clientCodes": null` in a token.
type jsonNull struct{}

func (jsonNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// TestAlgConfusionPublicKeyOnly: with only an RSA key configured, an HS256 token keyed with that
// key's public bytes is refused before any key is looked at.
func TestAlgConfusionPublicKeyOnly(t *testing.T) {
	k := newKeys(t)
	rsaPEM := pkixPEM(t, &k.rsa.PublicKey)
	v := newTestVerifier(t, Config{PublicKeysPEM: []string{rsaPEM}})
	for _, key := range [][]byte{[]byte(rsaPEM), x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)} {
		tok := sign(t, jwt.SigningMethodHS256, key, nil, baseClaims())
		if _, err := v.Verify(t.Context(), "Bearer "+tok); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("HS256 keyed with public key bytes: %v", err)
		}
	}
	if _, err := v.Verify(t.Context(), "Bearer "+sign(t, jwt.SigningMethodRS256, k.rsa, nil, baseClaims())); err != nil {
		t.Fatalf("RS256 with the configured key: %v", err)
	}
}

// TestSessionTypeClaimInStep keeps this package's copy of the marker equal to the session
// package's.
func TestSessionTypeClaimInStep(t *testing.T) {
	if sessionTypeClaim != session.TypeClaim {
		t.Fatalf("auth refuses %q but session marks tokens with %q", sessionTypeClaim, session.TypeClaim)
	}
}

func TestAllowsClient(t *testing.T) {
	tests := []struct {
		name  string
		codes []string
		code  string
		want  bool
	}{
		{"no claim allows none", nil, "MG2", false},
		{"star allows any", []string{"*"}, "MG2", true},
		{"star among others allows any", []string{"ABC", "*"}, "MG2", true},
		{"star is not a prefix pattern", []string{"M*"}, "MG2", false},
		{"listed", []string{"MG2", "ABC"}, "ABC", true},
		{"not listed", []string{"MG2"}, "ABC", false},
		{"case matters", []string{"MG2"}, "mg2", false},
		{"no prefix match", []string{"MG2"}, "MG", false},
		{"empty list allows none", []string{}, "MG2", false},
		{"empty code not allowed by a list", []string{"MG2"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Claims{ClientCodes: tt.codes}).AllowsClient(tt.code); got != tt.want {
				t.Fatalf("AllowsClient(%q) with %v = %v, want %v", tt.code, tt.codes, got, tt.want)
			}
		})
	}
}

func TestMintHS256(t *testing.T) {
	v := newTestVerifier(t, Config{HS256Secrets: []string{secret1}, Issuer: issuer, Audience: audience})
	tests := []struct {
		name    string
		secret  []byte
		opts    MintOptions
		wantErr bool
		want    Claims
	}{
		{"short secret", []byte("short"), MintOptions{Lifetime: time.Hour, ClientCodes: []string{"*"}}, true, Claims{}},
		{"no lifetime", []byte(secret1), MintOptions{ClientCodes: []string{"*"}}, true, Claims{}},
		{"negative lifetime", []byte(secret1), MintOptions{Lifetime: -time.Hour, ClientCodes: []string{"*"}}, true, Claims{}},
		{"empty client list", []byte(secret1), MintOptions{Lifetime: time.Hour, ClientCodes: []string{}}, true, Claims{}},
		{"no client list", []byte(secret1), MintOptions{Lifetime: time.Hour}, true, Claims{}},
		{
			"every tenant", []byte(secret1),
			MintOptions{Subject: "dev", Issuer: issuer, Audience: audience, ClientCodes: []string{"*"}, Lifetime: time.Hour}, false,
			Claims{Subject: "dev", ClientCodes: []string{"*"}, ExpiresAt: now.Add(time.Hour)},
		},
		{
			"restricted", []byte(secret1),
			MintOptions{Subject: "dev", Issuer: issuer, Audience: audience, ClientCodes: []string{"MG2"}, Lifetime: 24 * time.Hour}, false,
			Claims{Subject: "dev", ClientCodes: []string{"MG2"}, ExpiresAt: now.Add(24 * time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := MintHS256(tt.secret, tt.opts, now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("MintHS256 error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got, err := v.Verify(t.Context(), "Bearer "+tok)
			if err != nil {
				t.Fatalf("Verify(minted): %v", err)
			}
			if got.Subject != tt.want.Subject || !got.ExpiresAt.Equal(tt.want.ExpiresAt) ||
				!slices.Equal(got.ClientCodes, tt.want.ClientCodes) || (got.ClientCodes == nil) != (tt.want.ClientCodes == nil) {
				t.Fatalf("Verify(minted) = %+v, want %+v", got, tt.want)
			}
		})
	}
	// Minted tokens expire.
	tok, err := MintHS256([]byte(secret1), MintOptions{Issuer: issuer, Audience: audience, ClientCodes: []string{"*"}, Lifetime: time.Minute}, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, jwt.ErrTokenExpired) || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("expired minted token: %v", err)
	}
	// The minted secret does not leak into the token.
	if bytes.Contains([]byte(tok), []byte(secret1)) {
		t.Fatal("token contains the secret")
	}
}

// A verified token is trusted again without a signature check, but never past its expiry, and a
// refused token is never remembered.
func TestVerifiedTokensAreCachedWithinTheirLife(t *testing.T) {
	v := newTestVerifier(t, Config{HS256Secrets: []string{secret1}})
	clock := now
	v.now = func() time.Time { return clock }
	good := sign(t, jwt.SigningMethodHS256, []byte(secret1), nil, claimsWith("exp", now.Add(90*time.Second).Unix()))
	if _, err := v.Verify(t.Context(), "Bearer "+good); err != nil {
		t.Fatal(err)
	}
	// A verifier without the secret would refuse it: a cached answer is the only way to pass.
	v.hmacKeys = [][]byte{[]byte("another-secret-0123456789abcdef0123456789")}
	if _, err := v.Verify(t.Context(), "Bearer "+good); err != nil {
		t.Errorf("a token verified a moment ago was checked again: %v", err)
	}
	clock = now.Add(61 * time.Second) // past the cache's minute: checked again, and now refused
	if _, err := v.Verify(t.Context(), "Bearer "+good); err == nil {
		t.Error("a cached token was trusted for more than a minute")
	}
	v.hmacKeys = [][]byte{[]byte(secret1)}
	if _, err := v.Verify(t.Context(), "Bearer "+good); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(91 * time.Second) // past exp, within the minute since the last check
	if _, err := v.Verify(t.Context(), "Bearer "+good); err == nil {
		t.Error("a cached token was accepted after its expiry")
	}
	bad := sign(t, jwt.SigningMethodHS256, []byte(secret2), nil, claimsWith())
	clock = now
	for range 2 {
		if _, err := v.Verify(t.Context(), "Bearer "+bad); err == nil {
			t.Fatal("a token signed with an unknown secret passed")
		}
	}
}
