// Package password hashes and checks end-user passwords with argon2id, and makes the random
// passwords given to passwordless users.
package password

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/alexedwards/argon2id"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters and output sizes.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // bytes
	KeyLength   uint32 // bytes
}

// DefaultParams is OWASP's minimum recommendation for argon2id (Password Storage Cheat Sheet):
// m=19 MiB, t=2, p=1, with a 16-byte salt and a 32-byte key.
//
// Why the minimum and not more: every login and every password change pays this cost on the
// request path, on a service sized at two cores. t=2 at 19 MiB costs an attacker per guess what
// the higher-memory settings OWASP lists as equivalent cost, while keeping concurrent logins
// under ~20 MiB each. p=1 because the service parallelises across requests, not within one.
// The parameters are stored in each hash, so raising them later only affects new hashes; old
// ones keep verifying.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// Bounds applied both to the hasher's own parameters and to those read back from a stored hash.
// The upper memory bound keeps one corrupt or hostile row from making a login allocate gigabytes.
const (
	minSaltLength = 8  // argon2's own minimum
	minKeyLength  = 16 // shorter keys make chance matches plausible
	maxMemoryKiB  = 1 << 20
	maxIterations = 64
)

// ErrMalformedHash reports a stored hash that is not an argon2id PHC string this package accepts.
var ErrMalformedHash = errors.New("password: malformed hash")

func (p Params) validate() error {
	switch {
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations %d outside 1..%d", p.Iterations, maxIterations)
	case p.Parallelism < 1:
		return errors.New("parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Parallelism), maxMemoryKiB)
	case p.SaltLength < minSaltLength:
		return fmt.Errorf("salt length %d below %d", p.SaltLength, minSaltLength)
	case p.KeyLength < minKeyLength:
		return fmt.Errorf("key length %d below %d", p.KeyLength, minKeyLength)
	}
	return nil
}

// Hasher hashes new passwords with its Params and verifies stored hashes with the parameters
// recorded in each. It is safe for concurrent use.
type Hasher struct {
	params Params
	// dummy is a well-formed hash with the hasher's parameters that no password matches
	// (its key is all zeros), so VerifyDummy does exactly the work of a real Verify.
	dummy string
	// slots bounds the argon2 runs in flight: each allocates Params.Memory, so a burst of
	// logins for distinct names (which the per-name limits do not slow) would otherwise claim
	// memory without bound. Callers beyond it wait their turn. Nil means no bound.
	slots chan struct{}
}

// NewBoundedHasher is NewHasher with at most maxConcurrent hashes computed at once; the others
// queue. Twice the CPUs keeps the CPUs busy while capping memory at maxConcurrent*Params.Memory.
func NewBoundedHasher(p Params, maxConcurrent int) *Hasher {
	h := NewHasher(p)
	if maxConcurrent > 0 {
		h.slots = make(chan struct{}, maxConcurrent)
	}
	return h
}

// acquire takes a slot for one argon2 run; the returned func gives it back.
func (h *Hasher) acquire() func() {
	if h.slots == nil {
		return func() {}
	}
	h.slots <- struct{}{}
	return func() { <-h.slots }
}

// NewHasher returns a Hasher for p. Invalid parameters are reported by Hash, so that a
// misconfiguration surfaces as an error on the first hash and not as a silently weaker default.
func NewHasher(p Params) *Hasher {
	return &Hasher{params: p, dummy: dummyHash(p)}
}

func dummyHash(p Params) string {
	// A fixed salt is fine here: the dummy never protects a real password.
	d := p
	if d.validate() != nil {
		d = DefaultParams()
	}
	salt := make([]byte, d.SaltLength)
	key := make([]byte, d.KeyLength)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, d.Memory, d.Iterations, d.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Hash returns the PHC string of password
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>") with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	if err := h.params.validate(); err != nil {
		return "", fmt.Errorf("password: invalid parameters: %w", err)
	}
	p := argon2id.Params(h.params)
	defer h.acquire()()
	encoded, err := argon2id.CreateHash(password, &p)
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return encoded, nil
}

// Verify tells whether password matches encoded: false, nil on a mismatch; an error only when
// encoded is not a hash this package accepts. The comparison is constant-time.
func (h *Hasher) Verify(password, encoded string) (bool, error) {
	// DecodeHash first, because argon2 panics on zero iterations or parallelism and would
	// allocate whatever memory a corrupt row names.
	params, _, _, err := argon2id.DecodeHash(encoded)
	if err != nil {
		return false, ErrMalformedHash
	}
	if err := Params(*params).validate(); err != nil {
		return false, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	// The library's format check is loose (fmt.Sscanf ignores trailing text); requiring our own
	// canonical spelling of the parameters keeps odd strings out of the store's trust.
	if !strings.HasPrefix(encoded, fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$",
		argon2.Version, params.Memory, params.Iterations, params.Parallelism)) {
		return false, ErrMalformedHash
	}
	release := h.acquire()
	match, err := argon2id.ComparePasswordAndHash(password, encoded)
	release()
	if err != nil {
		return false, ErrMalformedHash
	}
	return match, nil
}

// VerifyDummy spends the time of a real Verify and discards the result. Login calls it for an
// unknown login name, so that response time does not tell which accounts exist.
func (h *Hasher) VerifyDummy(password string) {
	// The dummy is well-formed by construction and matches no password; the result is ignored
	// by design.
	defer h.acquire()()
	_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
}

// generatedLength is the length of Generate's passwords: 32 characters from a 72-symbol
// alphabet is about 197 bits.
const generatedLength = 32

// The four classes are each guaranteed in a generated password, so that it passes any
// provider's complexity policy (Auth0 "excellent", Gigya's rules). The symbols avoid quotes,
// backslash and space, which some systems mishandle.
const (
	lowers   = "abcdefghijklmnopqrstuvwxyz"
	uppers   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits   = "0123456789"
	symbols  = "!#$%&*+-=?"
	alphabet = lowers + uppers + digits + symbols
)

// Generate returns a random password for a passwordless user. Nobody ever sees it: it only
// exists because the providers require a password at creation.
func Generate() (string, error) {
	// 72*3 = 216 is the largest multiple of the alphabet size that fits a byte; rejecting larger
	// bytes keeps every character equally likely.
	const limit = 256 - 256%len(alphabet)
	out := make([]byte, 0, generatedLength)
	buf := make([]byte, 64)
	for {
		out = out[:0]
		for len(out) < generatedLength {
			if _, err := rand.Read(buf); err != nil {
				return "", fmt.Errorf("password: random: %w", err)
			}
			for _, b := range buf {
				if int(b) < limit && len(out) < generatedLength {
					out = append(out, alphabet[int(b)%len(alphabet)])
				}
			}
		}
		// Redrawing the whole password (rather than patching in a missing class) keeps the
		// result uniform over all passwords that contain every class. About 1 in 60 draws
		// lacks a digit or a symbol.
		s := string(out)
		if strings.ContainsAny(s, lowers) && strings.ContainsAny(s, uppers) &&
			strings.ContainsAny(s, digits) && strings.ContainsAny(s, symbols) {
			return s, nil
		}
	}
}
