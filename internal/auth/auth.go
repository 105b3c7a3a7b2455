// Package auth verifies the JWT in the Authorization header of every /v4 call (contract
// decision 5) and mints development tokens for the `usersorchestrator token` command.
//
// Keys come from three sources, any combination: HS256 shared secrets, RS256/ES256 public keys
// in PEM, and a JWKS endpoint. Each algorithm is checked only against keys of its own kind, so
// neither "none" nor the classic confusion (an HS256 token "signed" with a public key's bytes)
// can get through.
package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Config says where verification keys come from and which claims are required.
type Config struct {
	// HS256Secrets are shared secrets (development; several allow rotation). Each must be at
	// least 32 bytes, as RFC 7518 requires for HS256.
	HS256Secrets []string
	// PublicKeysPEM are RS256 (RSA >= 2048 bits) or ES256 (P-256) public keys: "PUBLIC KEY",
	// "RSA PUBLIC KEY" or "CERTIFICATE" PEM blocks, one or more per string.
	PublicKeysPEM []string
	// JWKSURL is a JWKS endpoint (RS256/ES256 keys), fetched at start and refreshed in the
	// background until the context given to NewVerifier ends. A token whose kid is unknown
	// triggers an early refresh (at most one a minute), which is how key rotation is picked up.
	JWKSURL string
	// JWKSRefreshInterval is the background refresh period; zero means one hour.
	JWKSRefreshInterval time.Duration
	// Issuer and Audience are checked when set.
	Issuer, Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
}

// ErrUnauthorized is wrapped by every verification failure. Messages name the failed check and
// never contain the token.
var ErrUnauthorized = errors.New("auth: unauthorized")

// Claims is what the service uses from a verified token.
type Claims struct {
	Subject string
	// ClientCodes lists the tenants (X-ClientCode values) the token may act for; "*" among them
	// means every tenant. No claim, null or `[]` allow nothing: a token must say whom it serves.
	ClientCodes []string
	ExpiresAt   time.Time
}

// AnyClient is the clientCodes entry that lets a token act for every tenant. It has to be said:
// a token without the claim acts for none, so a token minted elsewhere for another API, or with
// the claim forgotten, fails closed.
const AnyClient = "*"

// AllowsClient tells whether the token may act for clientCode (the X-ClientCode header): only
// when its clientCodes claim lists that code (exact match) or "*".
func (c Claims) AllowsClient(clientCode string) bool {
	return slices.Contains(c.ClientCodes, clientCode) || slices.Contains(c.ClientCodes, AnyClient)
}

// sessionTypeClaim is the claim internal/session puts in end-user session tokens
// (session.TypeClaim); a token carrying it is never an API token. It is repeated here rather
// than imported so that this package does not depend on the session package; a test keeps the
// two in step.
const sessionTypeClaim = "uo_typ"

// MinSecretLen is the shortest HS256 secret accepted.
const MinSecretLen = 32

// minRSABits is the smallest RSA modulus accepted, per NIST SP 800-131A.
const minRSABits = 2048

// maxTokenLen bounds what Verify parses; API tokens are well under a kilobyte, and headers are
// capped far below this anyway.
const maxTokenLen = 16 << 10

const (
	defaultJWKSRefresh = time.Hour
	jwksHTTPTimeout    = 10 * time.Second
	// An unknown kid may trigger one early JWKS fetch a minute, so a burst of forged kids costs
	// one fetch. keyfunc gives the wait for that allowance and the fetch itself together
	// unknownKIDWait; a request that would have to wait longer fails at once instead of stalling.
	unknownKIDEvery = time.Minute
	unknownKIDWait  = 5 * time.Second
)

// Verifier checks API JWTs. It is safe for concurrent use.
type Verifier struct {
	hmacKeys [][]byte
	rsaKeys  []*rsa.PublicKey
	ecKeys   []*ecdsa.PublicKey
	jwks     keyfunc.Keyfunc // nil without JWKSURL
	methods  []string        // the algorithms some configured key can verify
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	verified verifiedCache
}

// verifiedTTL bounds how long a verified token is trusted without checking its signature again.
// A client sends the same token with every call: re-verifying it each time was 6% of the CPU of a
// GET by id. Only tokens verified by configured keys are cached (see Verify); expiry is always
// honoured.
const verifiedTTL = time.Minute

// maxVerified bounds the cache; when full it starts over, which costs only re-verifications.
const maxVerified = 10000

type verifiedCache struct {
	mu      sync.Mutex
	entries map[string]verifiedEntry
}

type verifiedEntry struct {
	claims Claims
	until  time.Time
}

func (c *verifiedCache) get(raw string, now time.Time) (Claims, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[raw]
	if !ok || !now.Before(e.until) {
		return Claims{}, false
	}
	return e.claims, true
}

func (c *verifiedCache) put(raw string, claims Claims, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxVerified {
		c.entries = make(map[string]verifiedEntry)
	}
	c.entries[raw] = verifiedEntry{claims: claims, until: until}
}

// NewVerifier builds a Verifier from cfg. It fails when no key source is configured or any
// configured key is unusable. With a JWKS URL it starts the background refresh, which ends with
// ctx; an unreachable JWKS at start is logged (by keyfunc, through slog) and retried on demand,
// not fatal, so that the service can start while the identity provider is briefly down.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Leeway < 0 {
		return nil, errors.New("auth: negative leeway")
	}
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience, leeway: cfg.Leeway, now: time.Now}
	for i, s := range cfg.HS256Secrets {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("auth: HS256 secret #%d has %d bytes, need at least %d", i+1, len(s), MinSecretLen)
		}
		v.hmacKeys = append(v.hmacKeys, []byte(s))
	}
	for i, p := range cfg.PublicKeysPEM {
		keys, err := parsePublicKeys(p)
		if err != nil {
			return nil, fmt.Errorf("auth: public key #%d: %w", i+1, err)
		}
		for _, k := range keys {
			switch k := k.(type) {
			case *rsa.PublicKey:
				v.rsaKeys = append(v.rsaKeys, k)
			case *ecdsa.PublicKey:
				v.ecKeys = append(v.ecKeys, k)
			}
		}
	}
	if cfg.JWKSURL != "" {
		kf, err := newJWKS(ctx, cfg.JWKSURL, cfg.JWKSRefreshInterval)
		if err != nil {
			return nil, err
		}
		v.jwks = kf
	}
	if len(v.hmacKeys) > 0 {
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}
	if len(v.rsaKeys) > 0 || v.jwks != nil {
		v.methods = append(v.methods, jwt.SigningMethodRS256.Alg())
	}
	if len(v.ecKeys) > 0 || v.jwks != nil {
		v.methods = append(v.methods, jwt.SigningMethodES256.Alg())
	}
	if len(v.methods) == 0 {
		return nil, errors.New("auth: no key source configured (HS256 secrets, public keys or a JWKS URL)")
	}
	return v, nil
}

func newJWKS(ctx context.Context, rawURL string, refresh time.Duration) (keyfunc.Keyfunc, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("auth: JWKS URL must be an absolute http(s) URL")
	}
	if refresh <= 0 {
		refresh = defaultJWKSRefresh
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{rawURL}, keyfunc.Override{
		Client:            &http.Client{Timeout: jwksHTTPTimeout},
		HTTPTimeout:       jwksHTTPTimeout,
		RefreshInterval:   refresh,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDEvery), 1),
		RateLimitWaitMax:  unknownKIDWait,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS: %w", err)
	}
	return kf, nil
}

// parsePublicKeys reads every PEM block of text. Private keys are refused: a verifier needs
// none, and accepting one would invite keeping signing keys in verifier config.
func parsePublicKeys(text string) ([]any, error) {
	var keys []any
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", block.Type, err)
		}
		if err := usableKey(key); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("text outside PEM blocks")
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM block")
	}
	return keys, nil
}

// usableKey accepts the key kinds the configured algorithms can use: RSA of at least 2048 bits
// (RS256) and ECDSA on P-256 (ES256).
func usableKey(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits, need at least %d", k.N.BitLen(), minRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ECDSA key on %s, ES256 needs P-256", k.Curve.Params().Name)
		}
		return nil
	default:
		return fmt.Errorf("unsupported key type %T (RS256 and ES256 only)", key)
	}
}

// apiClaims is the token body as read from the wire.
type apiClaims struct {
	jwt.RegisteredClaims
	ClientCodes clientCodes `json:"clientCodes"`
	Session     any         `json:"uo_typ"`
}

// clientCodes reads the claim as a JSON array of strings or a single string. It stays nil when
// the claim is absent or null, which, like an empty list, allows no tenant.
type clientCodes []string

func (c *clientCodes) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*c = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*c = clientCodes{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		// No detail from the value: it is token content.
		return errors.New("clientCodes is neither a string nor an array of strings")
	}
	if many == nil {
		many = []string{}
	}
	*c = many
	return nil
}

// Verify checks authorization, the Authorization header's value: "Bearer <jwt>" (the scheme in
// any case) or a bare JWT. It checks the signature with the configured keys of the token's
// algorithm only, exp (required), nbf, iat, and iss and aud when configured.
func (v *Verifier) Verify(ctx context.Context, authorization string) (Claims, error) {
	raw, err := bearerToken(authorization)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	now := v.now()
	if c, ok := v.verified.get(raw, now); ok {
		return c, nil
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	var c apiClaims
	tok, err := jwt.NewParser(opts...).ParseWithClaims(raw, &c, v.keyfunc(ctx))
	if err != nil {
		// golang-jwt's messages name the failed check and never quote the token; wrapping keeps
		// errors.Is(err, jwt.ErrTokenExpired) and the like available to callers.
		return Claims{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	if c.Session != nil {
		return Claims{}, fmt.Errorf("%w: a session token is not an API token", ErrUnauthorized)
	}
	out := Claims{Subject: c.Subject, ExpiresAt: c.ExpiresAt.UTC()}
	if c.ClientCodes != nil {
		out.ClientCodes = slices.Clone([]string(c.ClientCodes))
		if out.ClientCodes == nil {
			out.ClientCodes = []string{}
		}
	}
	// Trusted again without a signature check until the earlier of a minute from now and the
	// token's expiry (the leeway is not extended to cached tokens) — but only when no JWKS key
	// could have verified it: a key withdrawn from the JWKS must stop verifying at the next
	// refresh, while the configured keys change only with a restart.
	if v.jwks == nil || tok.Method.Alg() == jwt.SigningMethodHS256.Alg() {
		until := now.Add(verifiedTTL)
		if out.ExpiresAt.Before(until) {
			until = out.ExpiresAt
		}
		v.verified.put(raw, out, until)
	}
	return out, nil
}

func bearerToken(authorization string) (string, error) {
	s := strings.TrimSpace(authorization)
	if s == "" {
		return "", errors.New("no token")
	}
	if len(s) > maxTokenLen {
		return "", errors.New("token too long")
	}
	if scheme, rest, found := strings.Cut(s, " "); found {
		if !strings.EqualFold(scheme, "Bearer") {
			return "", errors.New("authorization scheme is not Bearer")
		}
		s = strings.TrimSpace(rest)
	}
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return "", errors.New("malformed bearer token")
	}
	return s, nil
}

// errNoKey is returned by the keyfunc; it deliberately says nothing about the kid or the key
// sources' state (a JWKS fetch failure is logged by keyfunc itself).
var errNoKey = errors.New("no configured key for the token's algorithm and key id")

// keyfunc offers the parser every configured key of the token's algorithm. The parser has
// already refused algorithms outside v.methods, so "none" and the rest never get here; keying
// the choice on the algorithm is what keeps a public key from ever being used as an HMAC secret.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(tok *jwt.Token) (any, error) {
		var keys []jwt.VerificationKey
		switch tok.Method.Alg() {
		case jwt.SigningMethodHS256.Alg():
			for _, k := range v.hmacKeys {
				keys = append(keys, k)
			}
		case jwt.SigningMethodRS256.Alg():
			for _, k := range v.rsaKeys {
				keys = append(keys, k)
			}
			keys = append(keys, v.jwksKeys(ctx, tok, func(k any) bool {
				r, ok := k.(*rsa.PublicKey)
				return ok && r.N.BitLen() >= minRSABits
			})...)
		case jwt.SigningMethodES256.Alg():
			for _, k := range v.ecKeys {
				keys = append(keys, k)
			}
			keys = append(keys, v.jwksKeys(ctx, tok, func(k any) bool {
				e, ok := k.(*ecdsa.PublicKey)
				return ok && e.Curve == elliptic.P256()
			})...)
		}
		if len(keys) == 0 {
			return nil, errNoKey
		}
		return jwt.VerificationKeySet{Keys: keys}, nil
	}
}

// jwksKeys returns the JWKS keys for tok that pass keep: the key with the token's kid (keyfunc
// refetches the set once when the kid is unknown), or every key when the token names none.
func (v *Verifier) jwksKeys(ctx context.Context, tok *jwt.Token, keep func(any) bool) []jwt.VerificationKey {
	if v.jwks == nil {
		return nil
	}
	var found []any
	if _, hasKID := tok.Header["kid"]; hasKID {
		k, err := v.jwks.KeyfuncCtx(ctx)(tok)
		if err != nil {
			return nil
		}
		found = append(found, k)
	} else {
		set, err := v.jwks.VerificationKeySet(ctx)
		if err != nil {
			return nil
		}
		for _, k := range set.Keys {
			found = append(found, k)
		}
	}
	var out []jwt.VerificationKey
	for _, k := range found {
		if keep(k) {
			out = append(out, k)
		}
	}
	return out
}

// MintOptions describe a token made by MintHS256.
type MintOptions struct {
	Subject, Issuer, Audience string
	// ClientCodes are the tenants the token may act for; AnyClient ("*") is every tenant. It is
	// required: a token without it would be refused for every tenant.
	ClientCodes []string
	Lifetime    time.Duration
}

// mintClaims is the body MintHS256 writes.
type mintClaims struct {
	jwt.RegisteredClaims
	ClientCodes []string `json:"clientCodes,omitempty"`
}

// MintHS256 signs a token with secret (at least MinSecretLen bytes), issued at now and valid for
// o.Lifetime. It is for the `usersorchestrator token` command and for tests.
func MintHS256(secret []byte, o MintOptions, now time.Time) (string, error) {
	if len(secret) < MinSecretLen {
		return "", fmt.Errorf("auth: HS256 secret has %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	if o.Lifetime <= 0 {
		return "", errors.New("auth: token lifetime must be positive")
	}
	if len(o.ClientCodes) == 0 {
		return "", errors.New(`auth: a token needs clientCodes (the X-ClientCode values it may act for, or "*" for every tenant)`)
	}
	c := mintClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   o.Subject,
			Issuer:    o.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(o.Lifetime)),
		},
		ClientCodes: o.ClientCodes,
	}
	if o.Audience != "" {
		c.Audience = jwt.ClaimStrings{o.Audience}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return s, nil
}
